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
    /// What the target is: production stands out wherever a command can run on it. A
    /// target saved before environments existed reads as production, the careful guess.
    #[serde(default)]
    pub environment: Environment,
    /// The jump hosts (bastions) passed through on the way, in order, as ssh's
    /// `ProxyJump`: each one's host key is pinned and checked before authenticating to it.
    #[serde(default)]
    pub jump: Vec<JumpHost>,
}

/// What a target is for. Production is the default: a target nobody marked is treated
/// as the one that matters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    #[default]
    Production,
    Staging,
    Development,
}

impl Environment {
    pub const ALL: [Environment; 3] = [
        Environment::Production,
        Environment::Staging,
        Environment::Development,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Production => "production",
            Environment::Staging => "staging",
            Environment::Development => "development",
        }
    }
}

impl std::str::FromStr for Environment {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        Environment::ALL
            .into_iter()
            .find(|e| e.as_str().eq_ignore_ascii_case(text.trim()))
            .ok_or_else(|| {
                Error::BadInput(format!(
                    "{} is not an environment: production, staging or development.",
                    crate::input::shown(text)
                ))
            })
    }
}

/// A host passed through on the way to a target (a bastion).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct JumpHost {
    pub host: String,
    pub port: u16,
    pub user: String,
    /// The keyring key that logs in to this hop; `None`: the target's own key.
    #[serde(default)]
    pub key: Option<String>,
}

impl JumpHost {
    /// `user@host:port`.
    pub fn address(&self) -> String {
        format!("{}@{}:{}", self.user, self.host, self.port)
    }
}

/// Jump hosts written as `ssh -J` takes them: `[user@]host[:port]`, comma-separated; a
/// hop without a user logs in as `user`, without a port on 22, with the target's key.
pub fn parse_jumps(spec: &str, user: &str) -> Result<Vec<JumpHost>> {
    let hops = crate::ssh_config::jump::hops(spec.trim()).map_err(|()| {
        Error::BadInput(format!(
            "{} is not a list of jump hosts ([user@]host[:port], comma-separated).",
            crate::input::shown(spec)
        ))
    })?;
    if hops.len() > MAX_JUMPS {
        return Err(Error::BadInput(format!(
            "A target may be reached through at most {MAX_JUMPS} jump hosts."
        )));
    }
    let jumps: Vec<JumpHost> = hops
        .into_iter()
        .map(|hop| JumpHost {
            host: hop.host,
            port: hop.port.unwrap_or(22),
            user: hop.user.unwrap_or_else(|| user.to_string()),
            key: None,
        })
        .collect();
    for (index, hop) in jumps.iter().enumerate() {
        let which = format!("Jump host {}: ", index + 1);
        validate_endpoint(&which, &hop.host, hop.port, &hop.user)?;
    }
    Ok(jumps)
}

/// The most hops a route may have (OpenSSH sets no limit; a route longer than this is a
/// mistake, or a loop).
pub const MAX_JUMPS: usize = 8;

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
            environment: Environment::default(),
            jump: Vec::new(),
        }
    }

    /// `user@host:port`, and the jump hosts it is reached through: as the status strip
    /// and every error show it.
    pub fn address(&self) -> String {
        let mut address = format!("{}@{}:{}", self.user, self.host, self.port);
        if !self.jump.is_empty() {
            let hops: Vec<String> = self.jump.iter().map(JumpHost::address).collect();
            address.push_str(&format!(" via {}", hops.join(", ")));
        }
        address
    }

    /// Rejects what could never be a valid target before anything is stored or dialled.
    pub fn validate(&self) -> Result<()> {
        let bad = |what: &str| Err(Error::BadInput(what.to_string()));
        crate::input::target_name(&self.name)?;
        // "prod " beside "prod" would look the same in every list, and a copied command
        // would lose the space and reach the other one.
        if self.name.trim() != self.name {
            return bad(&format!(
                "{} begins or ends with a space: a target's name cannot.",
                crate::input::shown(&self.name)
            ));
        }
        validate_endpoint("", &self.host, self.port, &self.user)?;
        if self.jump.len() > MAX_JUMPS {
            return bad(&format!(
                "A target may be reached through at most {MAX_JUMPS} jump hosts."
            ));
        }
        for (index, hop) in self.jump.iter().enumerate() {
            validate_endpoint(
                &format!("Jump host {}: ", index + 1),
                &hop.host,
                hop.port,
                &hop.user,
            )?;
            if let Some(key) = &hop.key {
                crate::keys::validate_name(key)?;
            }
        }
        if !self.project_dir.starts_with('/')
            || self.project_dir.len() > 1024
            || self.project_dir.chars().any(char::is_control)
        {
            return bad("The project directory must be an absolute path on the host.");
        }
        if self.project_dir.split('/').any(|part| part == "..") {
            return bad(
                "The project directory must be written without `..`: give the path it leads to.",
            );
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

/// A host, port and login as ssh would dial them; `which` names the hop in a refusal.
fn validate_endpoint(which: &str, host: &str, port: u16, user: &str) -> Result<()> {
    let bad = |what: &str| Err(Error::BadInput(format!("{which}{what}")));
    if host.len() > 253 {
        return bad("The host name is too long: a host name has at most 253 characters.");
    }
    if host.contains('@') {
        return bad(
            "The host is a host name or an IP address alone: give the user on its own (--user).",
        );
    }
    if host.starts_with('[') {
        return bad("Give an IPv6 address without brackets (and the port on its own, --port).");
    }
    // A colon is only in an IPv6 address (with its zone, `fe80::1%eth0`, if link-local);
    // anywhere else it is a port typed with the host.
    let address = host.split_once('%').map_or(host, |(address, _)| address);
    let ipv6 = address.parse::<std::net::Ipv6Addr>().is_ok();
    if host.contains(':') && !ipv6 {
        return bad(
            "The host is a host name or an IP address alone: give the port on its own (--port).",
        );
    }
    let allowed =
        |c: char| c.is_ascii_alphanumeric() || ".-_".contains(c) || (ipv6 && ":%".contains(c));
    if host.is_empty() || host.starts_with('-') || !host.chars().all(allowed) {
        return bad("The host must be a host name or an IP address (letters, digits, . - _; an international name in its xn-- form), without spaces.");
    }
    if port == 0 {
        return bad("The port must be between 1 and 65535.");
    }
    if user.is_empty()
        || user.starts_with('-')
        || !user
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    {
        return bad("The user must be a plain login name (letters, digits, . _ -).");
    }
    Ok(())
}

/// All targets, in the order the operator added them.
pub fn list(settings: &dyn Settings) -> Result<Vec<Target>> {
    parse(settings.get(SETTINGS_KEY)?)
}

fn parse(value: Option<serde_json::Value>) -> Result<Vec<Target>> {
    let mut targets: Vec<Target> = match value {
        None => Vec::new(),
        Some(value) => serde_json::from_value(value)
            .map_err(|e| Error::settings_part("the targets list", e))?,
    };
    for target in &mut targets {
        target.project_dir = clean_dir(&target.project_dir);
    }
    Ok(targets)
}

/// `dir` as compose writes it in its containers' labels (`/srv/app`, not `/srv/app/` or
/// `/srv//./app`): the live status and the checklist find the project's containers by
/// that label, which Docker matches exactly.
fn clean_dir(dir: &str) -> String {
    let parts: Vec<&str> = dir
        .split('/')
        .filter(|part| !part.is_empty() && *part != ".")
        .collect();
    match dir.starts_with('/') {
        true => format!("/{}", parts.join("/")),
        false => dir.to_string(),
    }
}

pub fn find(settings: &dyn Settings, name: &str) -> Result<Target> {
    list(settings)?
        .into_iter()
        .find(|t| t.name == name)
        .ok_or_else(|| Error::TargetNotFound(name.to_string()))
}

/// Changes the list of targets under the settings' lock, so a change made meanwhile by
/// another process (the CLI, a second console) is kept. A target's fields this version
/// does not know (written by a newer console beside an older CLI) are kept as they were.
fn change(settings: &dyn Settings, edit: impl FnMut(&mut Vec<Target>) -> Result<()>) -> Result<()> {
    change_renaming(settings, None, edit)
}

/// [`change`], where `renamed` (new name, old name) says under which name a renamed
/// target's unknown fields were stored.
fn change_renaming(
    settings: &dyn Settings,
    renamed: Option<(&str, &str)>,
    mut edit: impl FnMut(&mut Vec<Target>) -> Result<()>,
) -> Result<()> {
    use serde_json::Value;
    settings.update(SETTINGS_KEY, &mut |value| {
        let stored: Vec<Value> = match &value {
            Some(Value::Array(items)) => items.clone(),
            _ => Vec::new(),
        };
        let mut targets = parse(value)?;
        edit(&mut targets)?;
        let kept = targets.iter().map(|target| {
            let mut fields = match serde_json::to_value(target).expect("a target serializes") {
                Value::Object(fields) => fields,
                _ => unreachable!("a target serializes as an object"),
            };
            let stored_as = match renamed {
                Some((new, old)) if new == target.name => old,
                _ => target.name.as_str(),
            };
            let before = stored.iter().find(|t| t["name"] == stored_as);
            if let Some(Value::Object(before)) = before {
                for (name, value) in before {
                    fields.entry(name.clone()).or_insert_with(|| value.clone());
                }
            }
            Value::Object(fields)
        });
        Ok(Value::Array(kept.collect()))
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

/// Replaces the target named `from` with `target`, under its new name, in one change:
/// no moment without either, and what this version does not know of it is kept.
pub fn rename(settings: &dyn Settings, from: &str, mut target: Target) -> Result<()> {
    target.project_dir = clean_dir(&target.project_dir);
    target.validate()?;
    let renamed = (target.name.clone(), from.to_string());
    change_renaming(settings, Some((&renamed.0, &renamed.1)), |targets| {
        // Asked again under the lock: another process may have taken the name meanwhile.
        if targets.iter().any(|t| t.name == target.name) {
            return Err(Error::BadInput(format!(
                "A target named {} already exists.",
                target.name
            )));
        }
        let at = targets
            .iter()
            .position(|t| t.name == from)
            .ok_or_else(|| Error::TargetNotFound(from.to_string()))?;
        targets[at] = target.clone();
        Ok(())
    })
}

/// Adds `target`, refused if its name was taken meanwhile (under the settings' lock:
/// the CLI and the window may add the same name at the same moment).
pub fn add(settings: &dyn Settings, target: Target) -> Result<()> {
    put(settings, target, Some(false))
}

/// Replaces the target of `target`'s name, refused if it was removed meanwhile (an edit
/// open in the window must not bring back a target the CLI removed).
pub fn update(settings: &dyn Settings, target: Target) -> Result<()> {
    put(settings, target, Some(true))
}

/// Adds a target, or replaces the one with the same name.
pub fn save(settings: &dyn Settings, target: Target) -> Result<()> {
    put(settings, target, None)
}

/// [`save`], held to whether the name is there already (`Some`), under the lock.
fn put(settings: &dyn Settings, mut target: Target, there: Option<bool>) -> Result<()> {
    target.project_dir = clean_dir(&target.project_dir);
    target.validate()?;
    change(settings, |targets| {
        match (targets.iter_mut().find(|t| t.name == target.name), there) {
            (Some(_), Some(false)) => Err(Error::BadInput(format!(
                "A target named {} already exists.",
                target.name
            ))),
            (None, Some(true)) => Err(Error::TargetNotFound(target.name.clone())),
            (Some(existing), _) => {
                *existing = target.clone();
                Ok(())
            }
            (None, _) => {
                targets.push(target.clone());
                Ok(())
            }
        }
    })
}

#[cfg(test)]
mod tests;
