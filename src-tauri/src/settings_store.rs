//! The core's `Settings` on top of tauri-plugin-store, so the console and the CLI share
//! one settings file (the CLI opens the same path with `JsonFileSettings`).

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::Value;
use shipshape_core::settings::Settings;
use shipshape_core::{Error, Result};
use tauri::{AppHandle, Wry};
use tauri_plugin_store::{Store, StoreExt};

pub struct PluginSettings {
    store: Arc<Store<Wry>>,
    path: PathBuf,
}

impl PluginSettings {
    pub fn open(
        app: &AppHandle,
        path: PathBuf,
    ) -> std::result::Result<Self, Box<dyn std::error::Error>> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let store = app.store(&path)?;
        Ok(PluginSettings { store, path })
    }
}

impl Settings for PluginSettings {
    fn get(&self, key: &str) -> Option<Value> {
        self.store.get(key)
    }

    fn set(&self, key: &str, value: Value) -> Result<()> {
        self.store.set(key, value);
        self.store.save().map_err(|e| Error::Storage {
            path: self.path.display().to_string(),
            cause: e.to_string(),
        })
    }
}
