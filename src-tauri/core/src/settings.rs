//! Non-secret settings as a key/value document. The console keeps it in
//! tauri-plugin-store; the CLI and tests use [`JsonFileSettings`] on the same file, so
//! both read the same targets. The core only sees the [`Settings`] trait.

use std::path::PathBuf;
use std::sync::Mutex;

use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// A key/value settings document. Values are JSON; nothing secret is ever stored here.
pub trait Settings: Send + Sync {
    fn get(&self, key: &str) -> Option<Value>;
    /// Sets `key` and persists the document.
    fn set(&self, key: &str, value: Value) -> Result<()>;
}

/// Settings in a JSON file, in the same layout tauri-plugin-store writes.
pub struct JsonFileSettings {
    path: PathBuf,
    document: Mutex<Map<String, Value>>,
}

impl JsonFileSettings {
    /// Opens the file, or starts empty if it does not exist yet.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self> {
        let path = path.into();
        let document = match std::fs::read_to_string(&path) {
            Ok(text) if text.trim().is_empty() => Map::new(),
            Ok(text) => match serde_json::from_str::<Value>(&text) {
                Ok(Value::Object(map)) => map,
                Ok(_) => {
                    return Err(Error::storage(
                        &path,
                        "the settings file is not a JSON object",
                    ))
                }
                Err(e) => return Err(Error::storage(&path, format!("invalid JSON: {e}"))),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Map::new(),
            Err(e) => return Err(Error::storage(&path, e)),
        };
        Ok(JsonFileSettings {
            path,
            document: Mutex::new(document),
        })
    }

    fn save(&self, document: &Map<String, Value>) -> Result<()> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::storage(dir, e))?;
        }
        let text = serde_json::to_string_pretty(document).expect("a JSON map always serializes");
        // Write then rename, so a crash never leaves half a settings file.
        let temp = self.path.with_extension("json.tmp");
        std::fs::write(&temp, text).map_err(|e| Error::storage(&temp, e))?;
        std::fs::rename(&temp, &self.path).map_err(|e| Error::storage(&self.path, e))
    }
}

impl Settings for JsonFileSettings {
    fn get(&self, key: &str) -> Option<Value> {
        self.document.lock().unwrap().get(key).cloned()
    }

    fn set(&self, key: &str, value: Value) -> Result<()> {
        let mut document = self.document.lock().unwrap();
        document.insert(key.to_string(), value);
        self.save(&document)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        let settings = JsonFileSettings::open(&path).unwrap();
        settings.set("answer", Value::from(42)).unwrap();
        let again = JsonFileSettings::open(&path).unwrap();
        assert_eq!(again.get("answer"), Some(Value::from(42)));
    }

    #[test]
    fn a_corrupt_file_is_a_clear_error_and_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        std::fs::write(&path, "{not json").unwrap();
        let error = JsonFileSettings::open(&path).err().unwrap();
        assert!(error.to_string().contains("invalid JSON"), "{error}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{not json");
    }
}
