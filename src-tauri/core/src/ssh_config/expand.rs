//! ssh expands `HostName` and `IdentityFile` itself, after reading the whole config, so
//! the values the file holds are not yet the values ssh uses. Which tokens are allowed
//! where, and that an unknown token is an error rather than left alone, follow ssh 9.x;
//! a token Shipshape cannot know (a hash of the connection, the local host name, a uid)
//! is reported instead of producing a path that ssh would never use.

use std::path::Path;

use crate::error::{Error, Result};

/// What the tokens of an `IdentityFile` stand for.
pub(super) struct IdentityTokens<'a> {
    pub home: &'a Path,
    pub local_user: &'a str,
    /// The final host name (after `HostName` and lowercasing).
    pub hostname: &'a str,
    pub remote_user: &'a str,
    pub port: u16,
    /// The name as given to ssh, before `HostName`.
    pub alias: &'a str,
}

/// `HostName` knows only `%h` (the name as given) and `%%`.
pub(super) fn expand_host_name(value: &str, alias: &str, origin: &str) -> Result<String> {
    expand_tokens(value, false, |token| {
        (token == 'h').then(|| alias.to_string())
    })
    .map_err(|problem| Error::BadInput(format!("{origin}: HostName {problem}")))
}

/// `~` first, then `%` tokens and `${VARIABLE}`s, as ssh does when it loads the keys.
pub(super) fn expand_identity_file(
    value: &str,
    tokens: &IdentityTokens,
    origin: &str,
) -> Result<String> {
    let bad_input = |problem: String| Error::BadInput(format!("{origin}: IdentityFile {problem}"));
    let value = expand_tilde(value, tokens.home, tokens.local_user).map_err(bad_input)?;
    expand_tokens(&value, true, |token| match token {
        'd' => Some(tokens.home.display().to_string()),
        'u' => Some(tokens.local_user.to_string()),
        'h' => Some(tokens.hostname.to_string()),
        'r' => Some(tokens.remote_user.to_string()),
        'p' => Some(tokens.port.to_string()),
        'n' => Some(tokens.alias.to_string()),
        _ => None,
    })
    .map_err(bad_input)
}

/// ssh's tilde rule: `~` and `~/x` (and oddly `~x`, with no slash) are the user's home;
/// `~user/x` is that user's, known here only when it is the local user.
fn expand_tilde(value: &str, home: &Path, local_user: &str) -> Result<String, String> {
    let Some(after_tilde) = value.strip_prefix('~') else {
        return Ok(value.to_string());
    };
    let rest = match after_tilde.find('/') {
        Some(0) => &after_tilde[1..],
        Some(slash) if &after_tilde[..slash] == local_user => &after_tilde[slash + 1..],
        Some(slash) => {
            return Err(format!(
                "starts with ~{}, another user's home, which Shipshape does not look up.",
                &after_tilde[..slash]
            ))
        }
        None => after_tilde,
    };
    let home = home.display().to_string();
    let separator = if home.ends_with('/') { "" } else { "/" };
    Ok(format!("{home}{separator}{rest}"))
}

/// Replaces `%x` tokens (via `lookup`, `%%` always) and, when `with_environment`, `${NAME}`
/// with the environment variable. The error completes a sentence that starts with the
/// keyword.
fn expand_tokens(
    value: &str,
    with_environment: bool,
    lookup: impl Fn(char) -> Option<String>,
) -> Result<String, String> {
    let mut expanded = String::new();
    let mut chars = value.char_indices().peekable();
    while let Some((index, c)) = chars.next() {
        if c == '$' && with_environment && value[index + 1..].starts_with('{') {
            let name_start = index + 2;
            let Some(length) = value[name_start..].find('}') else {
                return Err(format!("has ${{ without a closing }} in {value}."));
            };
            let name = &value[name_start..name_start + length];
            match std::env::var(name) {
                Ok(setting) => expanded.push_str(&setting),
                Err(_) => return Err(format!("uses ${{{name}}}, which is not set.")),
            }
            while chars.peek().is_some_and(|&(i, _)| i <= name_start + length) {
                chars.next();
            }
            continue;
        }
        if c != '%' {
            expanded.push(c);
            continue;
        }
        match chars.next() {
            Some((_, '%')) => expanded.push('%'),
            Some((_, token)) => match lookup(token) {
                Some(replacement) => expanded.push_str(&replacement),
                None => {
                    return Err(format!(
                        "uses %{token}, which Shipshape cannot expand here."
                    ))
                }
            },
            None => return Err("ends with a lone %.".to_string()),
        }
    }
    Ok(expanded)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(home: &Path) -> IdentityTokens<'_> {
        IdentityTokens {
            home,
            local_user: "op",
            hostname: "web.example.com",
            remote_user: "deploy",
            port: 2222,
            alias: "Web",
        }
    }

    #[test]
    fn host_name_tokens() {
        assert_eq!(
            expand_host_name("%h.lan", "web", "f line 1").unwrap(),
            "web.lan"
        );
        assert_eq!(
            expand_host_name("100%%", "web", "f line 1").unwrap(),
            "100%"
        );
        let error = expand_host_name("%r.lan", "web", "cfg line 4").unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("cfg line 4: HostName uses %r"),
            "{error}"
        );
    }

    #[test]
    fn identity_file_tokens() {
        let home = Path::new("/home/op");
        let expand = |value: &str| expand_identity_file(value, &tokens(home), "f line 1");
        assert_eq!(expand("~/.ssh/id").unwrap(), "/home/op/.ssh/id");
        assert_eq!(expand("~").unwrap(), "/home/op/");
        assert_eq!(expand("~op/k").unwrap(), "/home/op/k");
        assert_eq!(
            expand("%d/%u/%h/%r/%p/%n/%%").unwrap(),
            "/home/op/op/web.example.com/deploy/2222/Web/%"
        );
        assert_eq!(expand("/keys/$HOME").unwrap(), "/keys/$HOME");
        assert!(expand("~root/k").is_err());
        assert!(expand("%C").unwrap_err().to_string().contains("%C"));
        assert!(expand("trailing%").is_err());
        assert!(expand("${SHIPSHAPE_SURELY_UNSET_VARIABLE}").is_err());
        assert!(expand("${PATH").is_err());
    }

    #[test]
    fn environment_variables() {
        let path = std::env::var("PATH").unwrap();
        let home = Path::new("/h");
        let expanded = expand_identity_file("${PATH}/x", &tokens(home), "f line 1").unwrap();
        assert_eq!(expanded, format!("{path}/x"));
    }
}
