//! Targets from the operator's `~/.ssh/config`, resolved as OpenSSH resolves them, so an
//! imported target reaches the same host, user and port that `ssh ALIAS` would.

use std::path::{Path, PathBuf};

use super::Console;
use crate::error::{Error, Result};
use crate::policy;
use crate::ssh_config::{self, ResolvedHost};
use crate::target::Target;

/// The operator's home directory and login name, as ssh would take them.
fn home_and_user() -> (PathBuf, String) {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| policy::DEFAULT_USER.to_string());
    (home, user)
}

/// `~/.ssh/config`, or `None` when there is none.
pub fn default_config() -> Option<PathBuf> {
    let (home, _) = home_and_user();
    let path = home.join(".ssh/config");
    path.exists().then_some(path)
}

impl Console {
    /// Every host alias of `config` (default `~/.ssh/config`), resolved.
    pub fn ssh_config_hosts(&self, config: Option<&Path>) -> Result<Vec<ResolvedHost>> {
        let (home, user) = home_and_user();
        let config = match config.map(Path::to_path_buf).or_else(default_config) {
            Some(path) => path,
            None => return Ok(Vec::new()),
        };
        ssh_config::list_aliases_with_home(&config, &home)?
            .iter()
            .map(|alias| ssh_config::resolve(&config, alias, &home, &user))
            .collect()
    }

    /// A target for `alias` of `config`, with the policy's defaults where the config is
    /// silent (port 22, user `ubuntu`). Not saved: the caller reviews and saves it.
    pub fn target_from_ssh_config(
        &self,
        config: Option<&Path>,
        alias: &str,
        key: Option<String>,
    ) -> Result<Target> {
        let host = self
            .ssh_config_hosts(config)?
            .into_iter()
            .find(|h| h.alias == alias)
            .ok_or_else(|| Error::BadInput(format!("No Host {alias} in the SSH config.")))?;
        if let Some(why) = host.unsupported() {
            return Err(Error::BadInput(why));
        }
        Ok(Target {
            name: alias.to_string(),
            host: host.hostname,
            port: host.port.unwrap_or(22),
            user: host
                .user
                .unwrap_or_else(|| policy::DEFAULT_USER.to_string()),
            project_dir: policy::PROJECT_DIR.to_string(),
            key,
            policy_file: None,
        })
    }
}

impl Console {
    /// Adds the target for `alias` of `~/.ssh/config` and, if the config names an
    /// IdentityFile that exists, imports it into the keyring under the alias's name
    /// (reusing a key of that name if one is already there).
    pub async fn import_ssh_config_host(
        &self,
        config: Option<&Path>,
        alias: &str,
        passphrase: Option<crate::secret::Secret>,
    ) -> Result<crate::console::TargetSummary> {
        let host = self
            .ssh_config_hosts(config)?
            .into_iter()
            .find(|h| h.alias == alias)
            .ok_or_else(|| Error::BadInput(format!("No Host {alias} in the SSH config.")))?;
        let key_name: String = alias
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "._-".contains(c) {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        let identity = host
            .identity_files
            .iter()
            .map(PathBuf::from)
            .find(|p| p.exists());
        let key = match identity {
            Some(_) if self.keys()?.iter().any(|k| k.name == key_name) => Some(key_name),
            Some(file) => Some(
                self.import_key_file(&key_name, &file, passphrase)
                    .await?
                    .name,
            ),
            None => None,
        };
        let target = self.target_from_ssh_config(config, alias, key)?;
        self.save_target(target, None).await
    }
}
