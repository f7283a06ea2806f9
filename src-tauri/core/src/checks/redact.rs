//! Redaction: what the host printed, with its secrets taken out, before anything is
//! stored, shown or exported. Two rules: every value `.env.aws` defines is a secret
//! wherever it appears (compose's rendered config, `docker inspect`'s environment,
//! process arguments, logs), and so is the value of any key whose name looks secret
//! (`*PASSWORD*`, `*SECRET*`, `*TOKEN*`, `*KEY*`), in `KEY=value`, `KEY: value` and
//! `"KEY": "value"` forms.

use crate::secret::Secret;

pub const REDACTED: &str = "[redacted]";
/// Values shorter than this (`1`, `on`) are redacted only where they are assigned:
/// replacing them everywhere would destroy the evidence and protect nothing.
const MIN_FREE_VALUE: usize = 3;
const SECRET_WORDS: [&str; 4] = ["PASSWORD", "SECRET", "TOKEN", "KEY"];

#[derive(Default)]
pub struct Redactor {
    /// Longest first, so a value containing another is replaced whole.
    values: Vec<Secret>,
    /// The env file's keys: their values are redacted wherever they are assigned.
    keys: Vec<String>,
    /// The env file is there but could not be read: its values are unknown, so any
    /// output could hold one, and none is shown.
    withhold: bool,
}

/// What stands for output withheld by [`Redactor::withholding`].
pub const WITHHELD: &str =
    "[withheld: the env file could not be read, so this output could hold its values unredacted]";

impl Redactor {
    /// A redactor for the values an env file defines, read as compose reads it
    /// ([`crate::dotenv`]): each value as compose hands it on, as the file writes it, as
    /// JSON prints it (compose's config, `docker inspect`), and each line of one that
    /// spans several (a log may print a line alone).
    pub fn from_env_file(text: &str) -> Redactor {
        let mut values: Vec<String> = Vec::new();
        let mut keys = Vec::new();
        for assignment in crate::dotenv::parse(text) {
            // A line that is not `KEY=value`: its text may be a value, and it has no key.
            if assignment.may_be_a_value() {
                values.push(assignment.written);
                continue;
            }
            keys.push(assignment.key);
            let value = assignment.value;
            if value.is_empty() {
                continue;
            }
            // A URL's password may be printed on its own (a driver's error message).
            if let Some(password) = url_password(&value) {
                values.push(password.to_string());
            }
            values.extend(printed_forms(&value));
            values.extend(value.lines().map(|line| line.trim().to_string()));
            values.extend(assignment.written.lines().map(|l| l.trim().to_string()));
            values.push(assignment.written);
            values.push(value);
        }
        values.retain(|v| v.len() >= MIN_FREE_VALUE);
        longest_first(&mut values);
        Redactor {
            values: values.into_iter().map(Secret::new).collect(),
            keys,
            withhold: false,
        }
    }

    /// For an env file that exists but could not be read (a timeout, no permission):
    /// every output is withheld whole, since any value might be in it.
    pub fn withholding() -> Redactor {
        Redactor {
            withhold: true,
            ..Redactor::default()
        }
    }

    /// What this one takes out and what `newer` does: a value the env file no longer
    /// holds may still be printed by a service that read it earlier.
    pub fn merged(&self, newer: Redactor) -> Redactor {
        let mut values: Vec<String> = self
            .values
            .iter()
            .chain(&newer.values)
            .map(|v| v.expose().to_string())
            .collect();
        longest_first(&mut values);
        let mut keys = self.keys.clone();
        keys.extend(newer.keys.into_iter().filter(|k| !self.keys.contains(k)));
        Redactor {
            values: values.into_iter().map(Secret::new).collect(),
            keys,
            // Values are known once a read succeeded; two failed reads know none.
            withhold: self.withhold && newer.withhold,
        }
    }

    pub fn redact(&self, text: &str) -> String {
        if self.withhold && !text.is_empty() {
            return WITHHELD.to_string();
        }
        let redacted = self.redact_as_written(text);
        if !text.contains(is_hidden) {
            return redacted;
        }
        let lines: Vec<String> = redacted.split('\n').map(|l| self.as_shown(l)).collect();
        lines.join("\n")
    }

    /// A secret split by escape codes (a colour inside a value, or between a key and
    /// its `=`) is whole again once a screen drops them: the window and a download drop
    /// whole sequences, and a lone ESC alone. Where either reading of `line` shows one,
    /// the line goes as that reading (its colours lost), redacted.
    fn as_shown(&self, line: &str) -> String {
        if !line.contains(is_hidden) {
            return line.to_string();
        }
        let readings = [
            crate::terminal::plain_text(line),
            line.chars().filter(|c| !is_hidden(*c)).collect(),
        ];
        for shown in readings {
            let again = self.redact_as_written(&shown);
            if again != shown {
                return again;
            }
        }
        line.to_string()
    }

    fn redact_as_written(&self, text: &str) -> String {
        let mut out = text.to_string();
        for value in &self.values {
            let value = value.expose();
            if out.contains(value) {
                out = out.replace(value, REDACTED);
            }
        }

        let secret = |key: &str| looks_secret(key) || self.keys.iter().any(|k| k == key);
        let mut redacted = String::with_capacity(out.len());
        for (i, line) in out.split('\n').enumerate() {
            if i > 0 {
                redacted.push('\n');
            }
            redacted.push_str(&redact_line(line, &secret));
        }
        redacted
    }
}

/// A character a screen does not show as itself: a control other than a tab (line
/// breaks split lines before this is asked).
fn is_hidden(c: char) -> bool {
    c.is_control() && c != '\t' && c != '\n'
}

/// Where a verdict's note cut a long line short. A value cut there is only its
/// beginning, which the whole value no longer matches.
const CUT: char = '…';

impl Redactor {
    /// How many bytes at the end of `text` are the beginning of a value this takes out
    /// (the longest such beginning; 0 if none): a line cut there would show the value
    /// in two pieces, neither of which it would know.
    pub fn begun_at_end(&self, text: &[u8]) -> usize {
        self.values
            .iter()
            .filter_map(|value| {
                // Byte by byte: a cut can fall inside a character, and the cut moved
                // back lands on the value's first byte, a character's start.
                let value = value.expose().as_bytes();
                (1..value.len().min(text.len() + 1))
                    .rev()
                    .find(|at| text.ends_with(&value[..*at]))
            })
            .max()
            .unwrap_or(0)
    }

    /// [`Redactor::redact`] for text that clips what it quotes (a verdict's note), where
    /// the beginning of a value cut at a [`CUT`] is taken out too.
    pub fn redact_clipped(&self, text: &str) -> String {
        let out = self.redact(text);
        match out.contains(CUT) {
            true => self.redact_cut(&out),
            false => out,
        }
    }

    fn redact_cut(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let pieces: Vec<&str> = text.split(CUT).collect();
        for (i, piece) in pieces.iter().enumerate() {
            if i > 0 {
                out.push(CUT);
            }
            // The longest beginning of any value the piece ends with.
            let cut_here = self
                .values
                .iter()
                .filter_map(|value| {
                    let value = value.expose();
                    (MIN_FREE_VALUE..value.len())
                        .rev()
                        .filter(|at| value.is_char_boundary(*at))
                        .find(|at| piece.ends_with(&value[..*at]))
                })
                .max();
            match cut_here {
                Some(len) if i + 1 < pieces.len() => {
                    out.push_str(&piece[..piece.len() - len]);
                    out.push_str(REDACTED);
                }
                _ => out.push_str(piece),
            }
        }
        out
    }
}

/// Longest first (a value containing another is replaced whole), each once: equal
/// values end up side by side, whatever their number.
fn longest_first(values: &mut Vec<String>) {
    values.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    values.dedup();
}

/// How JSON prints `value` inside its quotes: as serde writes it, and as Go does
/// (compose and the Docker engine), which also escapes `<`, `>` and `&`.
fn printed_forms(value: &str) -> Vec<String> {
    let json = serde_json::to_string(value).expect("a string serializes");
    let json = json[1..json.len() - 1].to_string();
    let go = json
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026");
    vec![json, go]
}

fn url_password(value: &str) -> Option<&str> {
    let (_, rest) = value.split_once("://")?;
    let userinfo = rest.split('@').next().filter(|_| rest.contains('@'))?;
    let (_, password) = userinfo.split_once(':')?;
    (!password.is_empty()).then_some(password)
}

pub fn looks_secret(key: &str) -> bool {
    let upper = key.to_ascii_uppercase();
    SECRET_WORDS.iter().any(|w| upper.contains(w))
}

/// Replaces the value after each key `secret` names.
fn redact_line(line: &str, secret: &dyn Fn(&str) -> bool) -> String {
    let bytes = line.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < bytes.len() {
        // A key: a run of word characters (optionally quoted), then `=`, `:` or `": `.
        let start = i;
        while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || b"_-.".contains(&bytes[i])) {
            i += 1;
        }
        if i == start {
            out.push(line[i..].chars().next().unwrap());
            i += line[i..].chars().next().unwrap().len_utf8();
            continue;
        }
        let key = &line[start..i];
        out.push_str(key);
        if !secret(key) {
            continue;
        }
        let mut j = i;
        if j < bytes.len() && bytes[j] == b'"' {
            j += 1;
        }
        // `KEY = value` as compose reads it, spaces around the separator.
        while j < bytes.len() && matches!(bytes[j], b' ' | b'\t') {
            j += 1;
        }
        let (separator, yaml) = match bytes.get(j) {
            Some(b'=') => (j + 1, false),
            Some(b':') => (j + 1, true),
            _ => continue,
        };
        let mut value_start = separator;
        while value_start < bytes.len() && matches!(bytes[value_start], b' ' | b'\t') {
            value_start += 1;
        }
        let quote = bytes
            .get(value_start)
            .copied()
            .filter(|q| matches!(q, b'"' | b'\''));
        let value_from = value_start + quote.is_some() as usize;
        let rest = &line[value_from..];
        let value_end = match quote {
            Some(b'"') => closing_quote(rest).map_or(line.len(), |n| value_from + n),
            Some(_) => closing_single_quote(rest).map_or(line.len(), |n| value_from + n),
            // A YAML plain value runs to the end of its line (or a flow's `,` or `}`);
            // `KEY=value` in a log ends at a space.
            None if yaml => rest.find([',', '}']).map_or(line.len(), |n| value_from + n),
            None => rest
                .find(|c: char| c.is_whitespace() || matches!(c, ',' | '}' | '"' | '\''))
                .map_or(line.len(), |n| value_from + n),
        };
        if value_end == value_from || &line[value_from..value_end] == REDACTED {
            continue;
        }
        out.push_str(&line[i..value_from]);
        out.push_str(REDACTED);
        i = value_end;
    }
    out
}

/// Where the `"` that closes a JSON string starts (its escaped quotes are inside it).
/// Where a single-quoted value ends: its next `'` that is not one of YAML's `''`.
fn closing_single_quote(text: &str) -> Option<usize> {
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '\'' {
            match chars.peek() {
                Some((_, '\'')) => {
                    chars.next();
                }
                _ => return Some(i),
            }
        }
    }
    None
}

fn closing_quote(text: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        match (c, escaped) {
            ('"', false) => return Some(i),
            ('\\', false) => escaped = true,
            _ => escaped = false,
        }
    }
    None
}

/// The env file's own text, as evidence keeps it: each key with its value withheld, and
/// nothing else of the file. A comment (an old credential left commented out) or a line
/// that assigns nothing (a token pasted on a line of its own) holds no value the
/// redactor knows, so the file's lines are never kept as they are. The file is read as
/// [`crate::dotenv`] reads it, as the redactor's values are: a split of its own would
/// take a pasted base64 value's `…==` for a key and its padding, and keep the key.
/// `begin` and `end` frame the file's part of a batch's output (`None`: the whole output
/// is the file).
pub fn env_text_withheld(stdout: &str, frame: Option<(&str, &str)>) -> String {
    let mut inside = frame.is_none();
    let mut kept = String::with_capacity(stdout.len().min(1 << 16));
    let mut file = String::new();
    for line in stdout.split_inclusive('\n') {
        let bare = line.trim_end_matches('\n');
        if let Some((begin, end)) = frame {
            if bare == begin || bare.starts_with(end) {
                kept.push_str(&file_withheld(&std::mem::take(&mut file)));
                inside = bare == begin;
                kept.push_str(line);
                continue;
            }
        }
        match inside {
            true => file.push_str(line),
            false => kept.push_str(line),
        }
    }
    kept.push_str(&file_withheld(&file));
    kept
}

/// [`env_text_withheld`] of a whole file: line for line, each assignment's first line
/// as `KEY=[withheld]`, every other line said for what it is.
fn file_withheld(file: &str) -> String {
    let lines: Vec<&str> = file.split_inclusive('\n').collect();
    let mut said: Vec<Option<String>> = vec![None; lines.len()];
    for assignment in crate::dotenv::parse(file) {
        let first = assignment.lines.start;
        for line in assignment.lines.clone().filter(|&l| l < lines.len()) {
            said[line] = Some(match (line == first, assignment.may_be_a_value()) {
                (true, false) => format!("{}=[withheld]", assignment.key),
                (true, true) => "(a line that assigns nothing: withheld)".to_string(),
                (false, _) => "(the value's next line: withheld)".to_string(),
            });
        }
    }
    let mut kept = String::with_capacity(file.len());
    for (line, said) in lines.iter().zip(said) {
        let text = line.trim_end_matches('\n').trim();
        kept.push_str(&match said {
            Some(said) => said,
            None if text.is_empty() => String::new(),
            None if text.starts_with('#') => "# (a comment: withheld)".to_string(),
            None => "(a line that assigns nothing: withheld)".to_string(),
        });
        if line.ends_with('\n') {
            kept.push('\n');
        }
    }
    kept
}

#[cfg(test)]
mod tests;
