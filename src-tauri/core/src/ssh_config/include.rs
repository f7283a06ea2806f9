//! `Include` arguments are shell globs that OpenSSH hands to glob(3): relative ones live
//! in ~/.ssh (in /etc/ssh for the system's config), matches come back sorted byte-wise, dot-files are skipped unless the pattern
//! names them, and a pattern matching nothing is fine. The order files are read in
//! decides which value wins, so that order is reproduced here.

use std::path::{Component, Path, PathBuf};

/// How many directory entries one `Include` may look through. A `conf.d/*` has a few
/// dozen; `/*/*/*` walks /proc and /sys for minutes, and is refused instead.
const MAX_GLOB_ENTRIES: usize = 10_000;

/// The files an `Include` argument names, in the order OpenSSH reads them. Directories
/// are left out (OpenSSH reads them as empty files). `Err` says, in a sentence, why the
/// argument is refused.
pub(super) fn included_files(
    argument: &str,
    home: &Path,
    relative_to: &Path,
) -> Result<Vec<PathBuf>, String> {
    let Some(pattern) = anchored_pattern(argument, home, relative_to) else {
        return Ok(Vec::new());
    };
    let mut found = expand_glob(&pattern).ok_or_else(|| {
        format!(
            "Include {} looks through more than {MAX_GLOB_ENTRIES} directory entries; name the files it means more narrowly",
            crate::input::shown(argument)
        )
    })?;
    found.retain(|path| path.is_file());
    found.sort_by(|a, b| {
        a.as_os_str()
            .as_encoded_bytes()
            .cmp(b.as_os_str().as_encoded_bytes())
    });
    Ok(found)
}

/// `~/x` and `~` against `home`, relative paths against `relative_to` (`~/.ssh`, or
/// `/etc/ssh` in the system's config). `~user/x` is not supported (it would need the
/// password database) and matches nothing.
fn anchored_pattern(argument: &str, home: &Path, relative_to: &Path) -> Option<PathBuf> {
    if argument == "~" {
        return Some(home.to_path_buf());
    }
    if let Some(rest) = argument.strip_prefix("~/") {
        return Some(home.join(rest));
    }
    if argument.starts_with('~') {
        return None;
    }
    let path = Path::new(argument);
    if path.is_absolute() {
        Some(path.to_path_buf())
    } else {
        Some(relative_to.join(path))
    }
}

/// The paths matching `pattern`, or `None` past [`MAX_GLOB_ENTRIES`].
fn expand_glob(pattern: &Path) -> Option<Vec<PathBuf>> {
    let mut candidates = vec![PathBuf::new()];
    let mut looked_at = 0;
    for component in pattern.components() {
        let name = match component {
            Component::Normal(name) => name.to_string_lossy(),
            other => {
                candidates.iter_mut().for_each(|c| c.push(other));
                continue;
            }
        };
        if !name.contains(['*', '?', '[']) {
            candidates.iter_mut().for_each(|c| c.push(name.as_ref()));
            continue;
        }
        let mut next = Vec::new();
        for dir in &candidates {
            let Ok(entries) = std::fs::read_dir(if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            }) else {
                continue;
            };
            for entry in entries.flatten() {
                looked_at += 1;
                if looked_at > MAX_GLOB_ENTRIES {
                    return None;
                }
                let entry_name = entry.file_name().to_string_lossy().into_owned();
                if glob_component_matches(&entry_name, &name) {
                    next.push(dir.join(entry_name));
                }
            }
        }
        candidates = next;
    }
    Some(candidates)
}

/// glob(3) matching of one path component: `*`, `?`, `[...]` classes (`!` or `^`
/// negates, `a-z` ranges), backslash escapes, and a leading `.` only matched literally.
fn glob_component_matches(name: &str, pattern: &str) -> bool {
    if name.starts_with('.') && !pattern.starts_with('.') {
        return false;
    }
    let name: Vec<char> = name.chars().collect();
    let pattern: Vec<char> = pattern.chars().collect();
    matches_from(&name, &pattern)
}

fn matches_from(name: &[char], pattern: &[char]) -> bool {
    match pattern.first() {
        None => name.is_empty(),
        Some('*') => (0..=name.len()).any(|skip| matches_from(&name[skip..], &pattern[1..])),
        Some('?') => !name.is_empty() && matches_from(&name[1..], &pattern[1..]),
        Some('[') => match (name.first(), bracket_class(&pattern[1..])) {
            (Some(&c), Some((class, used))) => {
                class.contains(c) && matches_from(&name[1..], &pattern[1 + used..])
            }
            (Some(&c), None) => c == '[' && matches_from(&name[1..], &pattern[1..]),
            (None, _) => false,
        },
        Some('\\') if pattern.len() > 1 => {
            name.first() == Some(&pattern[1]) && matches_from(&name[1..], &pattern[2..])
        }
        Some(&literal) => name.first() == Some(&literal) && matches_from(&name[1..], &pattern[1..]),
    }
}

struct BracketClass {
    negated: bool,
    ranges: Vec<(char, char)>,
}

impl BracketClass {
    fn contains(&self, c: char) -> bool {
        self.ranges.iter().any(|&(low, high)| low <= c && c <= high) != self.negated
    }
}

/// Parses a class after its `[`; returns it and how many characters it used (up to and
/// including the `]`), or `None` if it never closes (then `[` is a literal).
fn bracket_class(pattern: &[char]) -> Option<(BracketClass, usize)> {
    let mut i = 0;
    let negated = matches!(pattern.first(), Some('!' | '^'));
    if negated {
        i += 1;
    }
    let mut ranges = Vec::new();
    let mut first = true;
    while i < pattern.len() {
        let c = pattern[i];
        if c == ']' && !first {
            return Some((BracketClass { negated, ranges }, i + 1));
        }
        first = false;
        if pattern.get(i + 1) == Some(&'-') && pattern.get(i + 2).is_some_and(|&e| e != ']') {
            ranges.push((c, pattern[i + 2]));
            i += 3;
        } else {
            ranges.push((c, c));
            i += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn component_globs() {
        assert!(glob_component_matches("10-web.conf", "*.conf"));
        assert!(glob_component_matches("a1", "a[0-9]"));
        assert!(glob_component_matches("ab", "a[!0-9]"));
        assert!(!glob_component_matches("a5", "a[!0-9]"));
        assert!(glob_component_matches("a]", "a[]]"));
        assert!(glob_component_matches("a[", "a["));
        assert!(glob_component_matches("a*", r"a\*"));
        assert!(!glob_component_matches("ab", r"a\*"));
        assert!(!glob_component_matches(".hidden.conf", "*.conf"));
        assert!(glob_component_matches(".hidden.conf", ".*.conf"));
    }

    #[test]
    fn relative_includes_live_in_dot_ssh() {
        let home = Path::new("/home/op");
        assert_eq!(
            anchored_pattern("conf.d/*", home, &home.join(".ssh")),
            Some(PathBuf::from("/home/op/.ssh/conf.d/*"))
        );
        assert_eq!(
            anchored_pattern("~/extra", home, &home.join(".ssh")),
            Some(PathBuf::from("/home/op/extra"))
        );
        assert_eq!(
            anchored_pattern("/etc/ssh/x", home, &home.join(".ssh")),
            Some(PathBuf::from("/etc/ssh/x"))
        );
        assert_eq!(anchored_pattern("~other/x", home, &home.join(".ssh")), None);
    }

    #[test]
    fn matches_are_sorted_files_only() {
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join(".ssh/conf.d");
        std::fs::create_dir_all(dir.join("sub.conf")).unwrap();
        for name in ["b.conf", "a.conf", "B.conf", ".x.conf", "c.txt"] {
            std::fs::write(dir.join(name), "").unwrap();
        }
        let names: Vec<String> =
            included_files("conf.d/*.conf", home.path(), &home.path().join(".ssh"))
                .unwrap()
                .iter()
                .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
                .collect();
        assert_eq!(names, ["B.conf", "a.conf", "b.conf"]);
        assert!(
            included_files("conf.d/none*", home.path(), &home.path().join(".ssh"))
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            included_files("conf.d/c.txt", home.path(), &home.path().join(".ssh"))
                .unwrap()
                .len(),
            1
        );
        assert!(
            included_files("conf.d/missing", home.path(), &home.path().join(".ssh"))
                .unwrap()
                .is_empty()
        );
    }
}
