//! What a person typed, checked here before anything is stored, dialled or run, and
//! quoted back safely when it is refused. A refusal is read on a terminal and in the
//! console, so the value it quotes has its control characters made visible and is cut
//! short: a pasted 100 kB line must not come back as a 100 kB error.

use crate::error::{Error, Result};

/// The most characters of a value an error message quotes.
const QUOTED_MAX: usize = 60;
/// The longest run without a space an error message keeps whole: longer than any public
/// key line, path or command it names on purpose, shorter than a pasted flood.
const WORD_MAX: usize = 2_000;
/// The longest target name: it heads screens, reports and the host's audit log.
pub const NAME_MAX: usize = 64;
/// The longest line of free text (a deploy's message, a reason, a key's comment).
pub const LINE_MAX: usize = 500;

/// A value as an error message shows it: quoted, control characters made visible, and
/// cut after a few dozen characters with its length said.
pub fn shown(value: &str) -> String {
    let length = value.chars().count();
    match length {
        0 => "\"\" (empty)".into(),
        n if n <= QUOTED_MAX => format!("{value:?}"),
        n => {
            let start: String = value.chars().take(QUOTED_MAX).collect();
            format!("{start:?}… ({n} characters)")
        }
    }
}

/// `text` with every run of more than [`WORD_MAX`] characters without a space cut to its
/// start, its length said: the last guard on an error message that quotes a value whole
/// (a library's, say), so it stays a sentence a person can read. A public key line or a
/// path the message names on purpose stays whole.
pub fn brief(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(4096));
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        let length = word.chars().count();
        if length > WORD_MAX {
            out.extend(word.chars().take(QUOTED_MAX));
            out.push_str(&format!("… ({length} characters)"));
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in text.chars() {
        if c.is_whitespace() {
            flush(&mut word, &mut out);
            out.push(c);
        } else {
            word.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// A target's name: some visible text, at most [`NAME_MAX`] characters, no control
/// characters.
pub fn target_name(value: &str) -> Result<()> {
    if value.trim().is_empty() {
        return Err(Error::BadInput("A target needs a name.".into()));
    }
    if value.chars().count() > NAME_MAX || value.chars().any(char::is_control) {
        return Err(Error::BadInput(format!(
            "{} is not a target name: use at most {NAME_MAX} characters, none of them \
             control characters.",
            shown(value)
        )));
    }
    Ok(())
}

/// One line of free text, named `what` in the refusal ("The deploy's message"): not
/// blank, at most [`LINE_MAX`] characters, no control characters.
pub fn line(what: &str, value: &str) -> Result<()> {
    if value.trim().is_empty() {
        return Err(Error::BadInput(format!("{what} cannot be empty.")));
    }
    if value.chars().count() > LINE_MAX {
        return Err(Error::BadInput(format!(
            "{what} is {} characters long: keep it to {LINE_MAX}.",
            value.chars().count()
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(Error::BadInput(format!(
            "{what} {} holds control characters: use one line of plain text.",
            shown(value)
        )));
    }
    Ok(())
}

/// Why a file the operator named (a key, an ssh_config, a known_hosts file, a policy)
/// could not be opened, as bad input: a typo in a path is not a broken disk.
pub fn unreadable(what: &str, path: &std::path::Path, error: std::io::Error) -> Error {
    let cause = match error.kind() {
        std::io::ErrorKind::NotFound => "there is no such file".to_string(),
        std::io::ErrorKind::IsADirectory => "it is a directory".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => error.to_string(),
    };
    Error::BadInput(format!(
        "Could not read {what} {}: {cause}.",
        shown(&path.to_string_lossy())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_value_is_quoted_short_with_its_length() {
        let quoted = shown(&"x".repeat(100_000));
        assert!(quoted.len() < 100, "{quoted}");
        assert!(quoted.ends_with("… (100000 characters)"), "{quoted}");
        assert_eq!(shown("a\u{1b}[2J"), "\"a\\u{1b}[2J\"");
        assert_eq!(shown(""), "\"\" (empty)");
        let said = brief(&format!(
            "invalid value '{}' for '--port'",
            "9".repeat(100_000)
        ));
        assert!(
            said.len() < 150 && said.ends_with(" for '--port'"),
            "{said}"
        );
        assert_eq!(brief("a b\tc"), "a b\tc");
        let key = format!("ssh-rsa {} me", "A".repeat(716));
        assert_eq!(brief(&key), key, "a public key line stays whole");
    }

    #[test]
    fn names_and_lines_refuse_blank_long_and_control_text() {
        assert!(target_name("Local lab").is_ok());
        for bad in ["", "  ", &"n".repeat(65), "a\u{1}b"] {
            assert!(target_name(bad).is_err(), "{bad:?}");
        }
        assert!(line("The reason", "host rebuilt by ops").is_ok());
        for bad in ["", "\t", &"r".repeat(501), "two\nlines"] {
            let error = line("The reason", bad).unwrap_err().to_string();
            assert!(error.starts_with("The reason"), "{error}");
            assert!(error.len() < 200, "{error}");
        }
    }
}
