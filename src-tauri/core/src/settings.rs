//! Non-secret settings as a key/value JSON document that the console and the CLI share,
//! possibly at the same moment. So no one keeps a private copy to write back later:
//! every read sees the file as it is now (re-read whenever it changed), and every write
//! is a read-modify-write of one key under a file lock, written atomically (temp file,
//! fsync, rename). A damaged file is never overwritten: reads say where it is broken,
//! writes refuse, and the operator's file stays byte for byte as it was.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// A key/value settings document. Values are JSON; nothing secret is ever stored here.
pub trait Settings: Send + Sync {
    /// The value of `key` as the document holds it now.
    fn get(&self, key: &str) -> Result<Option<Value>>;

    /// Replaces `key` with what `change` makes of its current value, atomically with
    /// respect to every other writer.
    fn update(
        &self,
        key: &str,
        change: &mut dyn FnMut(Option<Value>) -> Result<Value>,
    ) -> Result<()>;

    /// Reads the document as it is now: `Ok` if it is usable.
    fn check(&self) -> Result<()>;

    /// Changes whenever anyone writes the document, so a watcher can reload.
    fn version(&self) -> String;

    /// Sets `key`, whatever it held.
    fn set(&self, key: &str, value: Value) -> Result<()> {
        let mut value = Some(value);
        self.update(key, &mut |_| Ok(value.take().unwrap_or(Value::Null)))
    }
}

/// An exclusive lock on `PATH.lock`, held until dropped. A lock file beside the data
/// (not the data file itself) because the data file is replaced by rename.
pub struct FileLock {
    _file: File,
}

impl FileLock {
    pub fn take(path: &Path) -> Result<FileLock> {
        if let Some(dir) = path.parent() {
            crate::paths::create_private_dir(dir).map_err(|e| Error::storage(dir, e))?;
        }
        let lock_path = with_suffix(path, ".lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| Error::storage(&lock_path, e))?;
        file.lock().map_err(|e| Error::storage(&lock_path, e))?;
        Ok(FileLock { _file: file })
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Writes `bytes` to `path` so that readers see the old file or the new one, never a
/// part: a temp file in the same directory, flushed to disk, renamed over, and the
/// directory flushed so the rename itself survives a crash.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    crate::paths::create_private_dir(dir).map_err(|e| Error::storage(dir, e))?;
    let temp = with_suffix(path, &format!(".tmp-{}", std::process::id()));
    let written = (|| {
        let mut file = File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)?;
        if let Ok(dir) = File::open(dir) {
            dir.sync_all().ok();
        }
        Ok::<(), std::io::Error>(())
    })();
    written.map_err(|e| {
        std::fs::remove_file(&temp).ok();
        Error::storage(path, e)
    })
}

/// Whether [`write_atomically`] could write `path` now: its temporary file can be made
/// beside it (and is removed at once). For work that ends by writing a file, asked
/// before the work.
pub fn check_writable(path: &Path) -> std::io::Result<()> {
    let temp = with_suffix(path, &format!(".tmp-{}", std::process::id()));
    File::options().write(true).create_new(true).open(&temp)?;
    std::fs::remove_file(&temp)
}

/// What identifies one version of the file on disk, so an unchanged file is not re-read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Version {
    modified: Option<SystemTime>,
    len: u64,
    #[cfg(unix)]
    inode: u64,
}

fn version_of(path: &Path) -> Result<Option<Version>> {
    match std::fs::metadata(path) {
        Ok(meta) => Ok(Some(Version {
            modified: meta.modified().ok(),
            len: meta.len(),
            #[cfg(unix)]
            inode: std::os::unix::fs::MetadataExt::ino(&meta),
        })),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::storage(path, e)),
    }
}

/// A version of the file (`None`: absent) and what it held.
type Seen = (Option<Version>, Map<String, Value>);

/// The settings file (`settings.json` in the data dir), shared by the console and CLI.
pub struct JsonFileSettings {
    path: PathBuf,
    /// The last version read, so unchanged files cost one `stat`.
    seen: Mutex<Option<Seen>>,
}

impl JsonFileSettings {
    /// Settings in `path`. Reads nothing yet: a damaged file is reported by the first
    /// read (or [`JsonFileSettings::check`]), never "fixed".
    pub fn open(path: impl Into<PathBuf>) -> Result<Self> {
        Ok(JsonFileSettings {
            path: path.into(),
            seen: Mutex::new(None),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn current(&self) -> Result<Map<String, Value>> {
        let version = version_of(&self.path)?;
        let mut seen = self.seen.lock().unwrap();
        if let Some((seen_version, document)) = seen.as_ref() {
            if *seen_version == version {
                return Ok(document.clone());
            }
        }
        let document = self.read()?;
        *seen = Some((version, document.clone()));
        Ok(document)
    }

    fn read(&self) -> Result<Map<String, Value>> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Map::new()),
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                return Err(Error::SettingsDamaged {
                    path: self.path.display().to_string(),
                    line: 0,
                    problem: "it is not UTF-8 text".into(),
                })
            }
            Err(e) => return Err(Error::storage(&self.path, e)),
        };
        if text.trim().is_empty() {
            return Ok(Map::new());
        }
        match serde_json::from_str::<KeysOnce>(&text).map(|read| read.0) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(_) => Err(Error::SettingsDamaged {
                path: self.path.display().to_string(),
                line: 1,
                problem: "it is not a JSON object".into(),
            }),
            Err(e) => Err(Error::SettingsDamaged {
                path: self.path.display().to_string(),
                line: e.line(),
                problem: e.to_string(),
            }),
        }
    }
}

impl Settings for JsonFileSettings {
    fn get(&self, key: &str) -> Result<Option<Value>> {
        Ok(self.current()?.get(key).cloned())
    }

    fn check(&self) -> Result<()> {
        self.current().map(|_| ())
    }

    fn version(&self) -> String {
        format!("{:?}", version_of(&self.path).ok().flatten())
    }

    fn update(
        &self,
        key: &str,
        change: &mut dyn FnMut(Option<Value>) -> Result<Value>,
    ) -> Result<()> {
        let _lock = FileLock::take(&self.path)?;
        // Under the lock, the file as it is now: another process may have just written.
        let mut document = self.read()?;
        let value = change(document.get(key).cloned())?;
        document.insert(key.to_string(), value);
        let text = serde_json::to_string_pretty(&document).expect("a JSON map always serializes");
        // A settings file linked from elsewhere (a dotfiles repository) is written where
        // it lives: replaced by rename, the link would become a file of its own.
        // Through every link (stow and home-manager chain them), each relative to its
        // own directory; a last one whose target does not exist yet is made.
        let mut real = self.path.clone();
        for _ in 0..40 {
            match std::fs::read_link(&real) {
                Ok(linked) => real = real.parent().unwrap_or(Path::new(".")).join(linked),
                Err(_) => break,
            }
        }
        write_atomically(&real, text.as_bytes())?;
        *self.seen.lock().unwrap() = Some((version_of(&self.path)?, document));
        Ok(())
    }
}

/// A JSON value read with each object's keys once. serde_json keeps the last of a key
/// written twice (a hand-merged file's two `"targets"`), and the next write, of any key,
/// would drop the other for good: such a file is damaged, said where.
struct KeysOnce(Value);

impl<'de> serde::Deserialize<'de> for KeysOnce {
    fn deserialize<D: serde::Deserializer<'de>>(reader: D) -> std::result::Result<Self, D::Error> {
        reader.deserialize_any(KeysOnceVisitor).map(KeysOnce)
    }
}

struct KeysOnceVisitor;

impl<'de> serde::de::Visitor<'de> for KeysOnceVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> std::result::Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> std::result::Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> std::result::Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> std::result::Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> std::result::Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_unit<E>(self) -> std::result::Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(
        self,
        mut items: A,
    ) -> std::result::Result<Value, A::Error> {
        let mut read = Vec::new();
        while let Some(KeysOnce(item)) = items.next_element()? {
            read.push(item);
        }
        Ok(Value::Array(read))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut entries: A,
    ) -> std::result::Result<Value, A::Error> {
        let mut read = Map::new();
        while let Some(key) = entries.next_key::<String>()? {
            if read.contains_key(&key) {
                return Err(serde::de::Error::custom(format!(
                    "\"{}\" is written twice in one object (which one is meant?)",
                    crate::input::shown(&key)
                )));
            }
            let KeysOnce(value) = entries.next_value()?;
            read.insert(key, value);
        }
        Ok(Value::Object(read))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_written_twice_is_damage_said_where_and_nothing_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        let text = "{\n  \"targets\": [{\"name\": \"prod\"}],\n  \"keys\": [],\n  \"targets\": [{\"name\": \"staging\"}]\n}\n";
        std::fs::write(&path, text).unwrap();
        let settings = JsonFileSettings::open(&path).unwrap();
        let damaged = settings.get("targets").unwrap_err();
        assert!(
            matches!(&damaged, Error::SettingsDamaged { line: 4, problem, .. } if problem.contains("targets")),
            "{damaged:?}"
        );
        assert!(settings.set("theme", Value::from("dark")).is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
        // Within a target too.
        std::fs::write(
            &path,
            r#"{"targets": [{"name": "prod", "host": "a", "host": "b"}]}"#,
        )
        .unwrap();
        assert!(settings.get("targets").is_err());
        // Keys once read as before, numbers and nulls included.
        std::fs::write(&path, r#"{"a": [1, -2, 2.5, null, true, {"b": "c"}]}"#).unwrap();
        assert_eq!(
            settings.get("a").unwrap(),
            Some(serde_json::json!([1, -2, 2.5, null, true, {"b": "c"}]))
        );
    }

    #[test]
    fn values_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        let settings = JsonFileSettings::open(&path).unwrap();
        settings.set("answer", Value::from(42)).unwrap();
        let again = JsonFileSettings::open(&path).unwrap();
        assert_eq!(again.get("answer").unwrap(), Some(Value::from(42)));
    }

    #[test]
    #[cfg(unix)]
    fn a_linked_settings_file_is_written_where_it_lives() {
        let dir = tempfile::tempdir().unwrap();
        let kept = dir.path().join("dotfiles/shipshape.json");
        std::fs::create_dir_all(kept.parent().unwrap()).unwrap();
        std::fs::write(&kept, "{}").unwrap();
        let link = dir.path().join("settings.json");
        std::os::unix::fs::symlink(&kept, &link).unwrap();
        let settings = JsonFileSettings::open(&link).unwrap();
        settings.set("theme", serde_json::json!("dark")).unwrap();
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert!(std::fs::read_to_string(&kept).unwrap().contains("dark"));
        // A link to a file not made yet: the first write makes it.
        let dangling = dir.path().join("other.json");
        std::os::unix::fs::symlink("dotfiles/later.json", &dangling).unwrap();
        let settings = JsonFileSettings::open(&dangling).unwrap();
        settings.set("theme", serde_json::json!("light")).unwrap();
        let later = dir.path().join("dotfiles/later.json");
        assert!(std::fs::read_to_string(later).unwrap().contains("light"));
        // A link to a link (stow, home-manager): written at the end of the chain.
        let chained = dir.path().join("chained.json");
        std::os::unix::fs::symlink("settings.json", &chained).unwrap();
        let settings = JsonFileSettings::open(&chained).unwrap();
        settings.set("theme", serde_json::json!("chained")).unwrap();
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert!(std::fs::read_to_string(&kept).unwrap().contains("chained"));
    }

    #[test]
    fn a_damaged_file_is_reported_with_its_line_and_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        let damaged = "{\n  \"targets\": [\n    {\"name\": \"prod\",";
        std::fs::write(&path, damaged).unwrap();
        let settings = JsonFileSettings::open(&path).unwrap();
        let error = settings.get("targets").unwrap_err();
        assert_eq!(error.code(), crate::ErrorCode::SettingsDamaged);
        assert!(error.to_string().contains("line 3"), "{error}");
        assert!(error.to_string().contains("settings.json"), "{error}");
        assert!(settings.set("keys", Value::Array(vec![])).is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), damaged);
    }

    #[test]
    fn a_file_of_the_wrong_shape_or_not_text_is_damaged_too() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        for (text, says) in [
            (&br#"{"targets": 5}"#[..], "the targets list is unreadable"),
            (br#"{"keys": {"a": 1}}"#, "the keys list is unreadable"),
            (b"{\"targets\": [\xff]}", "not UTF-8"),
        ] {
            std::fs::write(&path, text).unwrap();
            let settings = JsonFileSettings::open(&path).unwrap();
            let error = crate::target::list(&settings)
                .and_then(|_| crate::keys::list(&settings))
                .unwrap_err();
            assert_eq!(error.code(), crate::ErrorCode::SettingsDamaged, "{error}");
            assert_eq!(error.code().exit_code(), 2, "{error}");
            assert!(error.to_string().contains(says), "{error}");
            assert!(!error.to_string().contains("line 0"), "{error}");
            assert_eq!(std::fs::read(&path).unwrap(), text);
        }
    }

    #[test]
    fn two_writers_each_keep_the_others_change() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        let console = JsonFileSettings::open(&path).unwrap();
        let cli = JsonFileSettings::open(&path).unwrap();
        console.set("a", Value::from(1)).unwrap();
        assert_eq!(cli.get("a").unwrap(), Some(Value::from(1)));
        cli.set("b", Value::from(2)).unwrap();
        // The console sees the CLI's change without reopening, and its next write keeps it.
        assert_eq!(console.get("b").unwrap(), Some(Value::from(2)));
        console.set("a", Value::from(3)).unwrap();
        let fresh = JsonFileSettings::open(&path).unwrap();
        assert_eq!(fresh.get("a").unwrap(), Some(Value::from(3)));
        assert_eq!(fresh.get("b").unwrap(), Some(Value::from(2)));
    }

    #[test]
    fn concurrent_updates_from_many_threads_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        std::thread::scope(|scope| {
            for _ in 0..8 {
                let path = path.clone();
                scope.spawn(move || {
                    let settings = JsonFileSettings::open(&path).unwrap();
                    for _ in 0..20 {
                        settings
                            .update("count", &mut |v| {
                                Ok(Value::from(v.and_then(|v| v.as_u64()).unwrap_or(0) + 1))
                            })
                            .unwrap();
                    }
                });
            }
        });
        let settings = JsonFileSettings::open(&path).unwrap();
        assert_eq!(settings.get("count").unwrap(), Some(Value::from(160)));
    }
}
