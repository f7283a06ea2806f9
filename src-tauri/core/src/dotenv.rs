//! An env file read the way Docker Compose reads it (compose-go's dotenv), because every
//! value compose will hand a container must be known here: to redact it wherever the
//! host prints it, to list and edit keys without cutting a multi-line value in half,
//! and to compare two files by key. Reading it more simply (one `KEY=value` per line)
//! left a PEM block's body, a `KEY: value` line or a value with an inline comment
//! unredacted, and let the editor break a quoted value over several lines.
//!
//! What compose accepts, and so what this reads:
//! - `KEY=value` and `KEY: value`, with an optional `export `; a key is letters, digits
//!   and `_ . - [ ]`; a line with a key alone takes its value from compose's own
//!   environment (unknown here: read as empty);
//! - unquoted values end at the line's end, lose an inline comment (` #…`) and trailing
//!   space, and have `$VAR` and `${VAR}` expanded;
//! - single-quoted values are taken as written and may span lines (`\'` is a quote);
//! - double-quoted values may span lines, have `\n`, `\r`, `\"` and `\\` unescaped and
//!   variables expanded;
//! - blank lines and lines starting with `#` are skipped.
//!
//! A line with a key alone is read as compose reads it only when the key reads as an
//! environment variable's name (`API_URL`, `DEBUG`, `no_proxy`): one that does not
//! (`ghp_…`, `AKIA…`, `sk-live-…`) is more likely a value pasted on a line of its own
//! than a name. So is a line compose cannot read as an assignment at all (a secret key
//! with `/` or `+` in it), and one whose "key" is not a name and whose value is only
//! `=`s (base64's padding). Each goes by [`NO_VALUE_LINE`] wherever keys are listed,
//! compared or cited, and its text is a value to take out of what the host prints.

/// One assignment of an env file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub key: String,
    /// The value compose would give the container.
    pub value: String,
    /// The value as written in the file (inside its quotes, escapes kept), which is how
    /// a copy of the file prints it.
    pub written: String,
    /// The lines it takes, 0-based, end exclusive (a quoted value can span several).
    pub lines: std::ops::Range<usize>,
    /// Its quote never closes: compose refuses the file, and its value runs to the end.
    pub unclosed: bool,
}

impl Assignment {
    /// A line that may be a value pasted on its own: it goes by [`NO_VALUE_LINE`], its
    /// text in `written`.
    pub fn may_be_a_value(&self) -> bool {
        self.key == NO_VALUE_LINE
    }
}

/// What a line goes by when it may be a value pasted on a line of its own.
pub const NO_VALUE_LINE: &str = "(not a KEY=value line, not shown: it may be a value)";

/// Whether a key reads as an environment variable's name, as names in env files are
/// written, rather than as a value: capitals, digits and `_` (a long run with no `_`,
/// an access key id, does not), or a short lower-case name with `_` and no digit
/// (`no_proxy`).
fn reads_as_a_name(key: &str) -> bool {
    let capitals = key.starts_with(|c: char| c.is_ascii_uppercase() || c == '_')
        && key
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    let lower = key.len() <= 24
        && key.contains('_')
        && key.chars().all(|c| c.is_ascii_lowercase() || c == '_');
    (capitals && key.len() <= 64 && (key.len() < 16 || key.contains('_'))) || lower
}

/// Whether `key=written` reads as base64 cut at its padding rather than as a key: a
/// key that is not a name with a value of `=`s, or a long run of letters and digits
/// with no `_` and an empty value.
fn looks_like_padded_base64(key: &str, written: &str) -> bool {
    if reads_as_a_name(key) {
        return false;
    }
    let padding = !written.is_empty() && written.bytes().all(|b| b == b'=');
    let run = written.is_empty()
        && key.len() >= 16
        && key.bytes().all(|b| b.is_ascii_alphanumeric())
        && key.bytes().any(|b| b.is_ascii_digit())
        && key.bytes().any(|b| b.is_ascii_alphabetic());
    padding || run
}

/// The line at the start of `src` as a possible value: [`NO_VALUE_LINE`] with its text.
fn maybe_a_value(src: &str, first_line: usize) -> Assignment {
    let line = src.split('\n').next().unwrap_or_default().trim();
    Assignment {
        key: NO_VALUE_LINE.to_string(),
        value: String::new(),
        written: line.to_string(),
        lines: first_line..first_line + 1,
        unclosed: false,
    }
}

/// The assignments of `text`, in order; a later one of a key wins, as in compose. A line
/// compose would refuse makes compose refuse the whole file; here a bad key's line is
/// passed over, so the values after it are still known (to be redacted wherever the
/// host prints them) and its keys still listed, and a quote never closed takes the rest
/// of the file as its value.
pub fn parse(text: &str) -> Vec<Assignment> {
    // Compose reads past a UTF-8 byte-order mark.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut found: Vec<Assignment> = Vec::new();
    let mut rest = text;
    loop {
        rest = statement_start(rest);
        if rest.is_empty() {
            break;
        }
        let first_line = line_of(text, rest);
        let next_line = || rest.split_once('\n').map_or("", |(_, after)| after);
        // A line compose cannot read as an assignment: passed over, its text kept as
        // a possible value.
        let Some((key, after_key, inherited)) = key_name(rest) else {
            found.push(maybe_a_value(rest, first_line));
            rest = next_line();
            continue;
        };
        let (key, value, written, after) = if inherited {
            match reads_as_a_name(&key) {
                true => (key, String::new(), String::new(), after_key),
                false => (NO_VALUE_LINE.to_string(), String::new(), key, after_key),
            }
        } else {
            match value_of(after_key, &found) {
                // `dGhpcyBpcyBmYWtl==` or `…=`: base64, read as a key and a value of `=`s
                // or of nothing.
                Some((_, written, after)) if looks_like_padded_base64(&key, &written) => {
                    found.push(maybe_a_value(rest, first_line));
                    rest = after;
                    continue;
                }
                Some((value, written, after)) => (key, value, written, after),
                // A quote never closed: compose refuses the file. The rest of it is
                // that value (known, to be redacted), never keys of their own: the
                // lines of a PEM block must not be listed.
                None => {
                    let open = after_key[1..].to_string();
                    let lines = first_line..last_line(text, "") + 1;
                    found.push(Assignment {
                        key,
                        value: open.clone(),
                        written: open,
                        lines,
                        unclosed: true,
                    });
                    break;
                }
            }
        };
        let lines = first_line..last_line(text, after) + 1;
        found.push(Assignment {
            key,
            value,
            written,
            lines,
            unclosed: false,
        });
        rest = after;
    }
    found
}

/// `(key, value)` of each assignment, as compose reads them.
pub fn assignments(text: &str) -> Vec<(String, String)> {
    parse(text).into_iter().map(|a| (a.key, a.value)).collect()
}

/// The 0-based line of `text` that `at` (a suffix of it) starts on.
fn line_of(text: &str, at: &str) -> usize {
    text[..text.len() - at.len()].matches('\n').count()
}

/// The 0-based line of the last character of `text` before `after` (a suffix of it):
/// where a statement that ends there ends, its own newline included.
fn last_line(text: &str, after: &str) -> usize {
    let end = text.len() - after.len();
    let before = &text.as_bytes()[..end.saturating_sub(1)];
    before.iter().filter(|b| **b == b'\n').count()
}

/// `src` from its next statement: blank space and comment lines skipped.
fn statement_start(mut src: &str) -> &str {
    loop {
        src = src.trim_start();
        if !src.starts_with('#') {
            return src;
        }
        match src.find('\n') {
            Some(end) => src = &src[end..],
            None => return "",
        }
    }
}

fn is_space(c: char) -> bool {
    c != '\n' && c.is_whitespace()
}

/// The key, what follows its `=` or `:` (leading space dropped), and whether it stood
/// alone on its line.
fn key_name(src: &str) -> Option<(String, &str, bool)> {
    let src = match src.strip_prefix("export") {
        Some(after) if after.starts_with(is_space) => after.trim_start_matches(is_space),
        _ => src,
    };
    for (i, c) in src.char_indices() {
        match c {
            '=' | ':' | '\n' => {
                let key = src[..i].trim_end().to_string();
                if key.is_empty() {
                    return None;
                }
                let after = &src[i + 1..];
                return match c {
                    '\n' => Some((key, after, true)),
                    _ => Some((key, after.trim_start_matches(is_space), false)),
                };
            }
            c if is_space(c) => {}
            c if c.is_alphanumeric() || "_.-[]".contains(c) => {}
            _ => return None,
        }
    }
    // A key alone on the last line.
    let key = src.trim_end().to_string();
    (!key.is_empty()).then_some((key, "", true))
}

/// The value at the start of `src`, as compose reads it and as written, and the rest.
fn value_of<'a>(src: &'a str, earlier: &[Assignment]) -> Option<(String, String, &'a str)> {
    let quote = match src.chars().next() {
        Some(q @ ('"' | '\'')) => q,
        _ => {
            let (line, rest) = src.split_once('\n').unwrap_or((src, ""));
            let line = line.split(" #").next().unwrap_or_default();
            let line = line.trim_end();
            return Some((expand(line, earlier), line.to_string(), rest));
        }
    };
    let mut chars = String::new();
    let mut escaped = false;
    for (i, c) in src.char_indices().skip(1) {
        if c != quote {
            if !escaped && c == '\\' {
                escaped = true;
                continue;
            }
            if escaped {
                escaped = false;
                chars.push('\\');
            }
            chars.push(c);
            continue;
        }
        if escaped {
            escaped = false;
            chars.push(c);
            continue;
        }
        let written = src[1..i].to_string();
        let value = match quote {
            '"' => expand(&unescape(&chars), earlier),
            _ => chars,
        };
        return Some((value, written, &src[i + 1..]));
    }
    None
}

/// The escapes compose reads in double quotes (`\n`, `\t`, `\r` and the other C ones);
/// any other escaped character stands for itself, but `\$` stays for [`expand`] to read
/// as a plain `$`.
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('a') => out.push('\u{7}'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('v') => out.push('\u{b}'),
            Some('$') => out.push_str("\\$"),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// `$VAR`, `${VAR}` and `${VAR:-default}` / `${VAR-default}` from the file's earlier
/// keys (compose's own environment is unknown here: empty); `$$` and `\$` are a `$`.
fn expand(text: &str, earlier: &[Assignment]) -> String {
    if !text.contains('$') {
        return text.to_string();
    }
    let lookup = |name: &str| {
        earlier
            .iter()
            .rev()
            .find(|a| a.key == name)
            .map(|a| a.value.clone())
    };
    let is_name = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(['$', '\\']) {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if let Some(after) = tail.strip_prefix("\\$").or_else(|| tail.strip_prefix("$$")) {
            out.push('$');
            rest = after;
        } else if let Some(after) = tail.strip_prefix('\\') {
            out.push('\\');
            rest = after;
        } else if let Some(braced) = tail.strip_prefix("${") {
            let Some(close) = braced.find('}') else {
                out.push_str(tail);
                break;
            };
            let inner = &braced[..close];
            let (name, default) = match inner.split_once(":-").or_else(|| inner.split_once('-')) {
                Some((name, default)) => (name, Some(default)),
                None => (inner, None),
            };
            let value = lookup(name).filter(|v| !(v.is_empty() && inner.contains(":-")));
            out.push_str(&value.or(default.map(str::to_string)).unwrap_or_default());
            rest = &braced[close + 1..];
        } else {
            // A name starts with a letter or `_`: `$1` is text, as in compose.
            let starts_a_name =
                tail[1..].starts_with(|c: char| c.is_ascii_alphabetic() || c == '_');
            let name_len = match starts_a_name {
                true => tail[1..].find(|c| !is_name(c)).unwrap_or(tail.len() - 1),
                false => 0,
            };
            match name_len {
                0 => out.push('$'),
                _ => out.push_str(&lookup(&tail[1..1 + name_len]).unwrap_or_default()),
            }
            rest = &tail[1 + name_len..];
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests;
