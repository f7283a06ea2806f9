//! Targets: the hosts Shipshape deploys to. Kept in the settings document under
//! `targets`, with no secret in them (a target names its key; the key is in the keyring).

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{Error, Result};
use crate::policy;
use crate::settings::Settings;

const SETTINGS_KEY: &str = "targets";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Target {
    pub name: String,
    pub host: String,
    pub port: u16,
    pub user: String,
    pub project_dir: String,
    /// The name of the SSH key in the keyring used to log in.
    pub key: Option<String>,
    /// A policy file (TOML) overriding the builtin policy for this target; never the profile.
    #[serde(default)]
    pub policy_file: Option<String>,
}

impl Target {
    /// A target with the policy's defaults for everything but name, host and key.
    pub fn new(name: &str, host: &str, key: Option<&str>) -> Self {
        Target {
            name: name.to_string(),
            host: host.to_string(),
            port: 22,
            user: policy::DEFAULT_USER.to_string(),
            project_dir: policy::PROJECT_DIR.to_string(),
            key: key.map(str::to_string),
            policy_file: None,
        }
    }

    /// `user@host:port`, as shown in the status strip.
    pub fn address(&self) -> String {
        format!("{}@{}:{}", self.user, self.host, self.port)
    }

    /// Rejects what could never be a valid target before anything is stored or dialled.
    pub fn validate(&self) -> Result<()> {
        let bad = |what: &str| Err(Error::BadInput(what.to_string()));
        crate::input::target_name(&self.name)?;
        if self.host.is_empty()
            || self.host.len() > 253
            || self.host.starts_with('-')
            || self
                .host
                .chars()
                .any(|c| c.is_whitespace() || c.is_control())
        {
            return bad("The host must be a host name or an IP address, without spaces.");
        }
        if self.port == 0 {
            return bad("The port must be between 1 and 65535.");
        }
        if self.user.is_empty()
            || self.user.starts_with('-')
            || !self
                .user
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        {
            return bad("The user must be a plain login name (letters, digits, . _ -).");
        }
        if !self.project_dir.starts_with('/')
            || self.project_dir.len() > 1024
            || self.project_dir.chars().any(char::is_control)
        {
            return bad("The project directory must be an absolute path on the host.");
        }
        if let Some(key) = &self.key {
            crate::keys::validate_name(key)?;
        }
        if self
            .policy_file
            .as_deref()
            .is_some_and(|p| !p.starts_with('/'))
        {
            return bad("The policy file must be given as an absolute path.");
        }
        Ok(())
    }
}

/// All targets, in the order the operator added them.
pub fn list(settings: &dyn Settings) -> Result<Vec<Target>> {
    parse(settings.get(SETTINGS_KEY)?)
}

fn parse(value: Option<serde_json::Value>) -> Result<Vec<Target>> {
    match value {
        None => Ok(Vec::new()),
        Some(value) => serde_json::from_value(value).map_err(|e| {
            Error::storage(
                "settings.json",
                format!("the targets list is unreadable: {e}"),
            )
        }),
    }
}

pub fn find(settings: &dyn Settings, name: &str) -> Result<Target> {
    list(settings)?
        .into_iter()
        .find(|t| t.name == name)
        .ok_or_else(|| Error::TargetNotFound(name.to_string()))
}

/// Changes the list of targets under the settings' lock, so a change made meanwhile by
/// another process (the CLI, a second console) is kept.
fn change(
    settings: &dyn Settings,
    mut edit: impl FnMut(&mut Vec<Target>) -> Result<()>,
) -> Result<()> {
    settings.update(SETTINGS_KEY, &mut |value| {
        let mut targets = parse(value)?;
        edit(&mut targets)?;
        Ok(serde_json::to_value(targets).expect("targets serialize"))
    })
}

/// Removes the target named `name`.
pub fn remove(settings: &dyn Settings, name: &str) -> Result<()> {
    change(settings, |targets| {
        let before = targets.len();
        targets.retain(|t| t.name != name);
        if targets.len() == before {
            return Err(Error::TargetNotFound(name.to_string()));
        }
        Ok(())
    })
}

/// Adds a target, or replaces the one with the same name.
pub fn save(settings: &dyn Settings, target: Target) -> Result<()> {
    target.validate()?;
    change(settings, |targets| {
        match targets.iter_mut().find(|t| t.name == target.name) {
            Some(existing) => *existing = target.clone(),
            None => targets.push(target.clone()),
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::JsonFileSettings;

    #[test]
    fn saved_targets_are_listed_and_replaced_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let settings = JsonFileSettings::open(dir.path().join("s.json")).unwrap();
        save(
            &settings,
            Target::new("prod", "ec2.example.invalid", Some("ops")),
        )
        .unwrap();
        let mut changed = Target::new("prod", "10.0.0.9", Some("ops"));
        changed.port = 2200;
        save(&settings, changed.clone()).unwrap();
        assert_eq!(list(&settings).unwrap(), vec![changed]);
        remove(&settings, "prod").unwrap();
        assert!(list(&settings).unwrap().is_empty());
        assert_eq!(
            remove(&settings, "prod").unwrap_err().code(),
            crate::ErrorCode::TargetNotFound
        );
        assert_eq!(
            find(&settings, "nope").unwrap_err().code(),
            crate::ErrorCode::TargetNotFound
        );
    }

    #[test]
    fn hostile_fields_are_refused() {
        for (host, user, dir) in [
            ("-oProxyCommand=x", "ubuntu", "/srv"),
            ("a b", "ubuntu", "/srv"),
            ("h", "u;rm", "/srv"),
            ("h", "ubuntu", "relative"),
        ] {
            let mut t = Target::new("t", host, Some("k"));
            t.user = user.into();
            t.project_dir = dir.into();
            assert_eq!(
                t.validate().unwrap_err().code(),
                crate::ErrorCode::BadInput,
                "{host} {user} {dir}"
            );
        }
    }
}
