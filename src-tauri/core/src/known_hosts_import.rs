//! An operator who has used `ssh` already trusts hosts through `~/.ssh/known_hosts`.
//! Reading that file lets Shipshape pin the same keys instead of asking the operator to
//! compare fingerprints again, but only if it reads it as strictly as OpenSSH does: the
//! same host patterns, the same `[host]:port` names, hashed names checked by HMAC, and
//! `@revoked` keys never offered as trusted. Lines OpenSSH would skip are skipped, not
//! reported, since ssh itself keeps working with them.

use std::path::Path;

use hmac::{Hmac, KeyInit, Mac};
use russh::keys::{HashAlg, PublicKey};

use crate::error::Result;
use crate::ssh_config::pattern::hostname_matches_list;

/// A host key listed in a known_hosts file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct KnownKey {
    /// The key's algorithm as OpenSSH names it, e.g. `ssh-ed25519`.
    pub key_type: String,
    /// `SHA256:` and the unpadded base64 digest, as `ssh-keygen -l -E sha256` prints it.
    pub fingerprint: String,
    /// 1-based line in the file, to point the operator at it.
    pub line: usize,
}

/// Keys listed for host:port, in file order. Port 22 matches plain `host` entries; other
/// ports match `[host]:port` entries (as OpenSSH writes them). A key that an `@revoked`
/// line revokes for this host is left out even if another line lists it; see
/// [`revoked_keys_for`]. `@cert-authority` lines are not host keys and are ignored.
/// A missing file lists nothing.
pub fn keys_for(known_hosts: &Path, host: &str, port: u16) -> Result<Vec<KnownKey>> {
    let listing = read_listing(known_hosts, host, port)?;
    let revoked = |key: &KnownKey| {
        listing
            .revoked
            .iter()
            .any(|r| r.fingerprint == key.fingerprint)
    };
    Ok(listing
        .trusted
        .iter()
        .filter(|key| !revoked(key))
        .cloned()
        .collect())
}

/// Keys that `@revoked` lines revoke for host:port, in file order, so a caller can refuse
/// a host that offers one (OpenSSH refuses to connect).
pub fn revoked_keys_for(known_hosts: &Path, host: &str, port: u16) -> Result<Vec<KnownKey>> {
    Ok(read_listing(known_hosts, host, port)?.revoked)
}

#[derive(Default)]
struct Listing {
    trusted: Vec<KnownKey>,
    revoked: Vec<KnownKey>,
}

#[derive(Debug, PartialEq, Eq)]
enum Marker {
    None,
    Revoked,
    CertAuthority,
}

/// A known_hosts file of 100,000 hosts is about 50 MB; past this it is not one.
const MAX_KNOWN_HOSTS_BYTES: u64 = 64 << 20;

fn read_listing(known_hosts: &Path, host: &str, port: u16) -> Result<Listing> {
    // Missing (or a dangling link): no keys, as before; anything else is read with care.
    if std::fs::metadata(known_hosts).is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound) {
        return Ok(Listing::default());
    }
    let bytes = crate::input::read_named_file(
        known_hosts,
        "the known_hosts file",
        "a known_hosts file",
        MAX_KNOWN_HOSTS_BYTES,
    )?;
    let text = String::from_utf8_lossy(&bytes);
    // ssh looks names up lowercased; entries name the port only when it is not 22.
    let host = host.to_ascii_lowercase();
    let name = if port == 22 {
        host
    } else {
        format!("[{host}]:{port}")
    };
    let mut listing = Listing::default();
    for (index, line) in text.lines().enumerate() {
        let Some((marker, key)) = parse_line(line, &name, index + 1) else {
            continue;
        };
        match marker {
            Marker::None => listing.trusted.push(key),
            Marker::Revoked => listing.revoked.push(key),
            Marker::CertAuthority => {}
        }
    }
    Ok(listing)
}

/// The key a line lists for `name`, or `None` if the line is blank, a comment, malformed,
/// or about other hosts.
fn parse_line(line: &str, name: &str, number: usize) -> Option<(Marker, KnownKey)> {
    let mut fields = line.split([' ', '\t']).filter(|field| !field.is_empty());
    let first = fields.next().filter(|field| !field.starts_with('#'))?;
    let (marker, hosts) = match first {
        "@revoked" => (Marker::Revoked, fields.next()?),
        "@cert-authority" => (Marker::CertAuthority, fields.next()?),
        other if other.starts_with('@') => return None,
        hosts => (Marker::None, hosts),
    };
    let written_type = fields.next()?;
    let blob = fields.next()?;
    if !hosts_field_names(hosts, name) {
        return None;
    }
    let key = PublicKey::from_openssh(&format!("{written_type} {blob}")).ok()?;
    let key_type = key.algorithm().to_string();
    if key_type != written_type {
        return None;
    }
    let fingerprint = key.fingerprint(HashAlg::Sha256).to_string();
    Some((
        marker,
        KnownKey {
            key_type,
            fingerprint,
            line: number,
        },
    ))
}

/// A hosts field is either one hashed name (`|1|salt|hmac`, as `ssh-keygen -H` writes
/// them) or a comma-separated pattern list.
fn hosts_field_names(hosts: &str, name: &str) -> bool {
    match hosts.strip_prefix("|1|") {
        Some(hashed) => hashed_name_matches(hashed, name),
        None => hostname_matches_list(name, hosts),
    }
}

/// `salt|hmac`, both base64: the name matches if HMAC-SHA1 keyed by the salt over the
/// name gives the hmac.
fn hashed_name_matches(salt_and_hmac: &str, name: &str) -> bool {
    let Some((salt, expected)) = salt_and_hmac.split_once('|') else {
        return false;
    };
    let decode = |text: &str| data_encoding::BASE64.decode(text.as_bytes()).ok();
    let (Some(salt), Some(expected)) = (decode(salt), decode(expected)) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<sha1::Sha1>::new_from_slice(&salt) else {
        return false;
    };
    mac.update(name.as_bytes());
    mac.verify_slice(&expected).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Two ed25519 keys from ssh-keygen, with the fingerprints `ssh-keygen -l -E sha256`
    // printed for them.
    const KEY: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIL/DsxRF9V9LiGtvemoSwuBpEniLi1GooEQEeWufftUK";
    const KEY_FINGERPRINT: &str = "SHA256:cK9hSsJqxRVjHH9Y/sjSHrd+XLDUeyV+sBTnSk9LogY";
    const OTHER_KEY: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBhR6RK/FPEXiwhiv6lE0eaSj4FPM7lPaCg4q3ioDnkT";
    const OTHER_KEY_FINGERPRINT: &str = "SHA256:PwaD36uvvqqGSSn8f2Vyu1cRfAKF4h52lDygDVVNJVw";

    /// `|1|salt|hmac` for `name`, computed independently of the code under test.
    fn hashed(name: &str, salt: &[u8]) -> String {
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(salt).unwrap();
        mac.update(name.as_bytes());
        let digest = mac.finalize().into_bytes();
        format!(
            "|1|{}|{}",
            data_encoding::BASE64.encode(salt),
            data_encoding::BASE64.encode(&digest)
        )
    }

    fn lookup(contents: &str, host: &str, port: u16) -> Vec<(usize, String)> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("known_hosts");
        std::fs::write(&path, contents).unwrap();
        keys_for(&path, host, port)
            .unwrap()
            .into_iter()
            .map(|key| (key.line, key.fingerprint))
            .collect()
    }

    #[test]
    fn plain_patterns() {
        let file = format!(
            "# comment\n\nweb,10.0.0.5 {KEY}\n*.lan,!printer.lan {OTHER_KEY} comment\nWeb.Example {KEY}\n"
        );
        let key = KEY_FINGERPRINT.to_string();
        let other = OTHER_KEY_FINGERPRINT.to_string();
        assert_eq!(lookup(&file, "web", 22), [(3, key.clone())]);
        assert_eq!(lookup(&file, "10.0.0.5", 22), [(3, key.clone())]);
        assert_eq!(lookup(&file, "nas.lan", 22), [(4, other)]);
        assert!(lookup(&file, "printer.lan", 22).is_empty());
        assert_eq!(lookup(&file, "WEB.example", 22), [(5, key)]);
        assert!(lookup(&file, "web", 2222).is_empty());
        assert!(lookup(&file, "db", 22).is_empty());
    }

    #[test]
    fn non_standard_ports_use_bracketed_names() {
        let file = format!("[web]:2222 {KEY}\n[10.0.0.5]:22 {OTHER_KEY}\n[web]:* {OTHER_KEY}\n");
        let found = lookup(&file, "web", 2222);
        assert_eq!(
            found,
            [
                (1, KEY_FINGERPRINT.to_string()),
                (3, OTHER_KEY_FINGERPRINT.to_string())
            ]
        );
        assert!(lookup(&file, "web", 22).is_empty());
        assert!(lookup(&file, "10.0.0.5", 22).is_empty());
    }

    #[test]
    fn hashed_names() {
        let file = format!(
            "{} {KEY}\n{} {OTHER_KEY}\n|1|bad|salt {KEY}\n|1|AAAA {KEY}\n",
            hashed("web", b"01234567890123456789"),
            hashed("[web]:2222", b"abcdefghijabcdefghij"),
        );
        assert_eq!(lookup(&file, "web", 22), [(1, KEY_FINGERPRINT.to_string())]);
        assert_eq!(lookup(&file, "WEB", 22), [(1, KEY_FINGERPRINT.to_string())]);
        assert_eq!(
            lookup(&file, "web", 2222),
            [(2, OTHER_KEY_FINGERPRINT.to_string())]
        );
        assert!(lookup(&file, "db", 22).is_empty());
    }

    #[test]
    fn markers_and_malformed_lines() {
        let file = format!(
            "@cert-authority * {KEY}\n@revoked web {OTHER_KEY}\nweb {OTHER_KEY}\n@unknown web {KEY}\n\
             web ssh-ed25519\nweb ssh-ed25519 not-base64!\nweb ssh-rsa {}\nweb\n   \n\tweb {KEY}\n",
            KEY.split(' ').nth(1).unwrap()
        );
        assert_eq!(
            lookup(&file, "web", 22),
            [(10, KEY_FINGERPRINT.to_string())]
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("known_hosts");
        std::fs::write(&path, &file).unwrap();
        let revoked = revoked_keys_for(&path, "web", 22).unwrap();
        assert_eq!(revoked.len(), 1);
        assert_eq!(
            (revoked[0].line, &revoked[0].fingerprint),
            (2, &OTHER_KEY_FINGERPRINT.to_string())
        );
        assert_eq!(revoked[0].key_type, "ssh-ed25519");
        assert!(revoked_keys_for(&path, "db", 22).unwrap().is_empty());
    }

    #[test]
    fn missing_file_lists_nothing_but_unreadable_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert!(keys_for(&dir.path().join("absent"), "web", 22)
            .unwrap()
            .is_empty());
        let error = keys_for(dir.path(), "web", 22).unwrap_err();
        assert!(
            matches!(error, crate::Error::BadInput(ref m) if m.contains("is a directory")),
            "{error:?}"
        );
    }
}
