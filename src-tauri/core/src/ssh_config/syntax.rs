//! OpenSSH splits config lines with its own rules (an optional `=` after the keyword,
//! quotes that may start mid-word, a few backslash escapes, `#` only at the start of a
//! word). A line split any other way could name a different host or file, so this follows
//! those rules instead of a generic shell-words splitter.

use std::path::Path;

use crate::error::{Error, Result};

/// One non-blank, non-comment line: its keyword (lowercased, as OpenSSH compares them
/// case-insensitively) and its arguments with quotes and escapes removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ConfigLine {
    pub number: usize,
    pub keyword: String,
    pub args: Vec<String>,
}

/// A parsed file and the name errors use for it (`~/.ssh/config`, not `/home/x/.ssh/config`).
#[derive(Debug)]
pub(super) struct ConfigFile {
    pub shown_as: String,
    pub lines: Vec<ConfigLine>,
}

impl ConfigFile {
    /// "`~/.ssh/config line 12`", the prefix of every message about that line.
    pub fn locate(&self, line: &ConfigLine) -> String {
        format!("{} line {}", self.shown_as, line.number)
    }
}

/// Generated configs with thousands of hosts are a few hundred kilobytes; a file past this
/// (an `Include` of a log directory, say) is not one.
const MAX_CONFIG_BYTES: u64 = 8 << 20;

pub(super) fn read_config_file(path: &Path, shown_as: String) -> Result<ConfigFile> {
    let bytes = crate::input::read_named_file(
        path,
        "the ssh_config file",
        "an ssh_config file",
        MAX_CONFIG_BYTES,
    )?;
    let text = String::from_utf8_lossy(&bytes);
    let mut lines = Vec::new();
    for (index, text) in text.split('\n').enumerate() {
        let number = index + 1;
        let bad_input =
            |problem: String| Error::BadInput(format!("{shown_as} line {number}: {problem}"));
        if let Some(line) = split_line(text, number).map_err(bad_input)? {
            lines.push(line);
        }
    }
    Ok(ConfigFile { shown_as, lines })
}

/// Splits one line; `Ok(None)` for blank lines and comments, `Err` with the problem in a
/// sentence (without the file and line, which the caller adds).
fn split_line(text: &str, number: usize) -> Result<Option<ConfigLine>, String> {
    let text = text
        .trim_end_matches([' ', '\t', '\r', '\n', '\x0c'])
        .trim_start_matches([' ', '\t', '\r', '\n']);
    if text.is_empty() || text.starts_with('#') {
        return Ok(None);
    }
    let keyword_end = text.find([' ', '\t', '=']).unwrap_or(text.len());
    let (keyword, rest) = text.split_at(keyword_end);
    let rest = rest.trim_start_matches([' ', '\t']);
    let rest = rest.strip_prefix('=').unwrap_or(rest);
    let rest = rest.trim_start_matches([' ', '\t']);
    if rest.is_empty() {
        return Err(format!("{keyword} needs a value."));
    }
    let args = split_arguments(rest).ok_or_else(|| "a quote is not closed.".to_string())?;
    Ok(Some(ConfigLine {
        number,
        keyword: keyword.to_ascii_lowercase(),
        args,
    }))
}

/// Splits arguments on spaces and tabs. `"` and `'` group (and may start or end inside a
/// word), backslash escapes only quotes, backslash and (outside quotes) space, and a `#`
/// at the start of a word ends the line. `None` if a quote is left open.
fn split_arguments(text: &str) -> Option<Vec<String>> {
    let chars: Vec<char> = text.chars().collect();
    let mut args = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == ' ' || chars[i] == '\t' {
            i += 1;
            continue;
        }
        if chars[i] == '#' {
            break;
        }
        let mut word = String::new();
        let mut quote: Option<char> = None;
        while i < chars.len() {
            let c = chars[i];
            let next = chars.get(i + 1).copied();
            match (c, quote) {
                ('\\', _)
                    if matches!(next, Some('\'' | '"' | '\\'))
                        || (quote.is_none() && next == Some(' ')) =>
                {
                    word.push(next.unwrap_or_default());
                    i += 1;
                }
                (' ' | '\t', None) => break,
                ('"' | '\'', None) => quote = Some(c),
                (_, Some(open)) if c == open => quote = None,
                _ => word.push(c),
            }
            i += 1;
        }
        if quote.is_some() {
            return None;
        }
        args.push(word);
    }
    Some(args)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str) -> Option<(String, Vec<String>)> {
        split_line(text, 1)
            .unwrap()
            .map(|line| (line.keyword, line.args))
    }

    fn words(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn keyword_separators() {
        let expected = Some(("port".to_string(), words(&["22"])));
        assert_eq!(split("Port 22"), expected);
        assert_eq!(split("PORT=22"), expected);
        assert_eq!(split("  port = 22  "), expected);
        assert_eq!(split("\tPort\t=\t22\r"), expected);
        assert_eq!(split("Port= 22 # trailing comment"), expected);
    }

    #[test]
    fn blank_and_comment_lines_are_skipped() {
        assert_eq!(split(""), None);
        assert_eq!(split("   \t "), None);
        assert_eq!(split("# Host x"), None);
        assert_eq!(split("   # indented comment"), None);
    }

    #[test]
    fn quotes_and_escapes() {
        assert_eq!(
            split(r#"IdentityFile "~/my keys/id""#).unwrap().1,
            words(&["~/my keys/id"])
        );
        assert_eq!(
            split(r#"Host a"b c"d 'e f'"#).unwrap().1,
            words(&["ab cd", "e f"])
        );
        assert_eq!(split(r"IdentityFile a\ b").unwrap().1, words(&["a b"]));
        assert_eq!(
            split(r#"Host \"q\" c\d"#).unwrap().1,
            words(&["\"q\"", r"c\d"])
        );
        assert_eq!(split("Host a#b #c").unwrap().1, words(&["a#b"]));
    }

    #[test]
    fn problems_are_reported() {
        assert_eq!(
            split_line("Host", 1),
            Err("Host needs a value.".to_string())
        );
        assert_eq!(
            split_line("Port =  ", 1),
            Err("Port needs a value.".to_string())
        );
        assert_eq!(
            split_line("HostName \"open", 1),
            Err("a quote is not closed.".to_string())
        );
    }
}
