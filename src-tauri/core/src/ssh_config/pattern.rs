//! OpenSSH host patterns are not shell globs: only `*` and `?` are special, `[` is a
//! literal, and a leading `!` negates one entry of a comma-separated list. Getting any of
//! that wrong silently applies the wrong block, so the rules live here once and are
//! shared with the known_hosts reader, which uses the same pattern language.

/// Outcome of matching a comma-separated pattern list, as OpenSSH distinguishes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListMatch {
    /// Some positive entry matched and no negated entry did.
    Positive,
    /// A negated entry (`!pattern`) matched: this overrides any positive match.
    Negated,
    NoMatch,
}

/// Whether `text` matches `pattern` as a whole, `*` standing for any run of characters
/// and `?` for exactly one. Case-sensitive.
pub(crate) fn wildcard_match(text: &str, pattern: &str) -> bool {
    let text: Vec<char> = text.chars().collect();
    let pattern: Vec<char> = pattern.chars().collect();
    let (mut t, mut p) = (0, 0);
    // Where to resume if the characters after the last `*` stop matching.
    let mut after_star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                after_star = Some((p + 1, t));
                p += 1;
            }
            Some(&c) if c == '?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match after_star {
                Some((star_p, star_t)) => {
                    p = star_p;
                    t = star_t + 1;
                    after_star = Some((star_p, star_t + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

/// Matches `text` against a comma-separated list such as `*.lan,!printer.lan`.
pub(crate) fn pattern_list_match(text: &str, list: &str, ignore_case: bool) -> ListMatch {
    let (text, list) = if ignore_case {
        (text.to_ascii_lowercase(), list.to_ascii_lowercase())
    } else {
        (text.to_string(), list.to_string())
    };
    let mut positive = false;
    for entry in list.split(',') {
        match entry.strip_prefix('!') {
            Some(negated) if wildcard_match(&text, negated) => return ListMatch::Negated,
            Some(_) => {}
            None if wildcard_match(&text, entry) => positive = true,
            None => {}
        }
    }
    if positive {
        ListMatch::Positive
    } else {
        ListMatch::NoMatch
    }
}

/// Host names compare case-insensitively everywhere except `Host` lines in ssh_config.
pub(crate) fn hostname_matches_list(host: &str, list: &str) -> bool {
    pattern_list_match(host, list, true) == ListMatch::Positive
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_whole_text() {
        assert!(wildcard_match("web1.lan", "web?.lan"));
        assert!(wildcard_match("web1.lan", "*.lan"));
        assert!(wildcard_match("web1.lan", "*"));
        assert!(wildcard_match("", "*"));
        assert!(wildcard_match("abcabd", "*abd"));
        assert!(wildcard_match("a.b.c", "a*c"));
        assert!(!wildcard_match("web1.lan", "web?.la"));
        assert!(!wildcard_match("web12.lan", "web?.lan"));
        assert!(!wildcard_match("Web1", "web1"));
        assert!(!wildcard_match("x", "[x]"));
        assert!(wildcard_match("[x]", "[x]"));
    }

    #[test]
    fn negation_overrides_positive_matches() {
        assert_eq!(
            pattern_list_match("a.lan", "*.lan,!a.lan", false),
            ListMatch::Negated
        );
        assert_eq!(
            pattern_list_match("b.lan", "*.lan,!a.lan", false),
            ListMatch::Positive
        );
        assert_eq!(
            pattern_list_match("b.lan", "!a.lan", false),
            ListMatch::NoMatch
        );
        assert!(hostname_matches_list("WEB.Lan", "web.LAN"));
        assert!(!hostname_matches_list("web.lan", "*.lan,!WEB.*"));
    }
}
