//! Secret material (private keys, passphrases) lives only in [`Secret`]: it cannot be
//! printed, serialized or cloned by accident, and its bytes are wiped when dropped.

use zeroize::Zeroizing;

/// Secret text. No `Debug`, `Display`, `Serialize` or `Clone`: the only way out is
/// [`Secret::expose`], which greps well in review.
pub struct Secret(Zeroizing<String>);

impl Secret {
    pub fn new(value: String) -> Self {
        Secret(Zeroizing::new(value))
    }

    /// The secret's text, for the one call that needs it (decoding a key, the keyring).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let secret = Secret::new("hunter2-not-real".into());
        assert_eq!(format!("{secret:?}"), "Secret(<redacted>)");
        assert_eq!(secret.expose(), "hunter2-not-real");
    }
}
