//! Signatures on report files: OpenSSH's SSHSIG format, namespace `shipshape-report`,
//! made with a key from the keyring, so anyone checks them with `ssh-keygen -Y verify`
//! and no Shipshape at all. The operator's signature is `FILE.sig`; a reviewer's
//! co-signature is `FILE.KEYNAME.sig`, beside it.

use std::path::{Path, PathBuf};

use russh::keys::ssh_key::LineEnding;
use russh::keys::ssh_key::SshSig;
use russh::keys::{HashAlg, PrivateKey, PublicKey};

use crate::error::{Error, Result};

pub const NAMESPACE: &str = "shipshape-report";

/// Where the signature of `report` by the operator (`None`) or a reviewer's key goes.
pub fn signature_path(report: &Path, cosigner_key: Option<&str>) -> PathBuf {
    let mut name = report.as_os_str().to_os_string();
    if let Some(key) = cosigner_key {
        name.push(format!(".{key}"));
    }
    name.push(".sig");
    PathBuf::from(name)
}

/// The armored SSHSIG signature of a report's `bytes`.
pub fn sign(key: &PrivateKey, bytes: &[u8]) -> Result<String> {
    sign_in(key, NAMESPACE, bytes)
}

/// The armored SSHSIG signature of `bytes` in `namespace`.
pub fn sign_in(key: &PrivateKey, namespace: &str, bytes: &[u8]) -> Result<String> {
    let signature = key
        .sign(namespace, HashAlg::Sha512, bytes)
        .map_err(|e| Error::Protocol(format!("the signature could not be made: {e}")))?;
    signature
        .to_pem(LineEnding::LF)
        .map_err(|e| Error::Protocol(format!("the signature could not be written out: {e}")))
}

/// Whether `armored` is a signature of `bytes` in `namespace` made by the key whose
/// SHA256 fingerprint is `fingerprint` (an SSHSIG carries its public key); if not, why.
pub fn check_in(
    armored: &str,
    namespace: &str,
    bytes: &[u8],
    fingerprint: &str,
) -> std::result::Result<(), String> {
    let signature: SshSig = armored
        .parse()
        .map_err(|_| "its signature is not an SSH signature".to_string())?;
    let key = PublicKey::from(signature.public_key().clone());
    if key.fingerprint(HashAlg::Sha256).to_string() != fingerprint {
        return Err(format!("it was signed by another key than {fingerprint}"));
    }
    key.verify(namespace, bytes, &signature)
        .map_err(|_| "its signature does not match what it signs".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_holds_only_for_its_bytes_namespace_and_key() {
        let key = PrivateKey::random(&mut rand::rng(), russh::keys::Algorithm::Ed25519).unwrap();
        let other = PrivateKey::random(&mut rand::rng(), russh::keys::Algorithm::Ed25519).unwrap();
        let print = |k: &PrivateKey| k.public_key().fingerprint(HashAlg::Sha256).to_string();
        let armored = sign_in(&key, "ns", b"digest").unwrap();
        assert_eq!(check_in(&armored, "ns", b"digest", &print(&key)), Ok(()));
        assert!(check_in(&armored, "ns", b"digesT", &print(&key)).is_err());
        assert!(check_in(&armored, "other-ns", b"digest", &print(&key)).is_err());
        assert!(check_in(&armored, "ns", b"digest", &print(&other))
            .unwrap_err()
            .contains("another key"));
        assert!(check_in(
            "-----BEGIN SSH SIGNATURE-----",
            "ns",
            b"digest",
            &print(&key)
        )
        .is_err());
    }

    #[test]
    fn a_signature_verifies_and_fails_after_a_change() {
        let key = PrivateKey::random(&mut rand::rng(), russh::keys::Algorithm::Ed25519).unwrap();
        let armored = sign(&key, b"report").unwrap();
        assert!(armored.starts_with("-----BEGIN SSH SIGNATURE-----"));
        let signature: russh::keys::ssh_key::SshSig = armored.parse().unwrap();
        let public = key.public_key();
        assert!(public.verify(NAMESPACE, b"report", &signature).is_ok());
        assert!(public.verify(NAMESPACE, b"reporT", &signature).is_err());
        assert_eq!(
            signature_path(Path::new("/tmp/r.pdf"), Some("reviewer")),
            PathBuf::from("/tmp/r.pdf.reviewer.sig")
        );
    }
}
