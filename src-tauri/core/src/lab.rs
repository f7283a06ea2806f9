//! First-run setup for the built-in lab (tests/lab/lab.sh). The lab writes a descriptor,
//! `lab.json`; pointing `SHIPSHAPE_LAB` at it makes Shipshape create the "Local lab"
//! target, pin the lab's host key (read from the lab's own files, an out-of-band channel
//! like the EC2 console's output) and move the lab's client key into the OS keyring.

use std::path::Path;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::keys;
use crate::secret::Secret;
use crate::settings::Settings;
use crate::target::{self, Environment, Target};
use crate::trust::KnownHosts;

/// The keyring name of the lab's client key.
pub const LAB_KEY: &str = "local-lab";

#[derive(Debug, Deserialize)]
pub struct LabDescriptor {
    pub name: String,
    pub host: String,
    pub port: u16,
    pub user: String,
    pub project_dir: String,
    pub host_key_fingerprint: String,
    /// The type of that key (`ssh-ed25519`); older descriptors have none.
    #[serde(default)]
    pub host_key_type: Option<String>,
    pub client_key: String,
}

impl LabDescriptor {
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::storage(path, e))?;
        serde_json::from_str(&text)
            .map_err(|e| Error::storage(path, format!("not a lab descriptor: {e}")))
    }
}

/// Makes sure the lab's target, host pin and key exist. Idempotent; returns the target.
pub fn ensure_lab_target(
    settings: &dyn Settings,
    known_hosts: &mut KnownHosts,
    descriptor: &Path,
) -> Result<Target> {
    let lab = LabDescriptor::read(descriptor)?;
    let wanted = Target {
        name: lab.name.clone(),
        host: lab.host.clone(),
        port: lab.port,
        user: lab.user.clone(),
        project_dir: lab.project_dir.clone(),
        key: Some(LAB_KEY.to_string()),
        policy_file: None,
        // The lab stands in for production, but it is not: it must not look like it.
        environment: Environment::Staging,
        jump: Vec::new(),
    };
    if target::find(settings, &wanted.name).ok().as_ref() != Some(&wanted) {
        target::save(settings, wanted.clone())?;
    }
    if known_hosts.pinned(&lab.host, lab.port).is_none() {
        let key_type = lab.host_key_type.as_deref();
        known_hosts.pin(&lab.host, lab.port, &lab.host_key_fingerprint, key_type)?;
    }
    let listed = keys::find(settings, LAB_KEY).is_ok();
    if !(listed && keys::in_keyring(LAB_KEY)?) {
        // Stored from the lab's file whatever the keyring held (an import never
        // replaces a key, but this one is the lab's own), and as often as first runs
        // side by side ask: each stores the same key, and none deletes it.
        let path = Path::new(&lab.client_key);
        let text = std::fs::read_to_string(path).map_err(|e| Error::storage(path, e))?;
        keys::replace(settings, LAB_KEY, &Secret::new(text))?;
    }
    Ok(wanted)
}
