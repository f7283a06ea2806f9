//! What a person typed, checked here before anything is stored, dialled or run, and
//! quoted back safely when it is refused. A refusal is read on a terminal and in the
//! console, so the value it quotes has its control characters made visible and is cut
//! short: a pasted 100 kB line must not come back as a 100 kB error.

use std::path::Path;

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
pub fn unreadable(what: &str, path: &Path, error: std::io::Error) -> Error {
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

/// Reads a file the operator named (or a file it names: an ssh_config's `Include`), refusing
/// what cannot be one before reading it: a FIFO or device (opened without blocking, then
/// checked on the open handle, so nothing can be swapped in between) or a file larger than
/// `max_bytes` (`/dev/zero` would fill memory, `/proc/kmsg` would never answer). `what`
/// names it in "Could not read {what}", `kind` says what it should be ("an ssh_config file").
pub fn read_named_file(path: &Path, what: &str, kind: &str, max_bytes: u64) -> Result<Vec<u8>> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|e| unreadable(what, path, e))?;
    let meta = file.metadata().map_err(|e| unreadable(what, path, e))?;
    let named = shown(&path.to_string_lossy());
    if !meta.is_file() {
        let what_it_is = match meta.is_dir() {
            true => "a directory",
            false => "not a regular file",
        };
        return Err(Error::BadInput(format!(
            "{named} is {what_it_is}, so not {kind}: give the path of the file itself."
        )));
    }
    let too_large = |size: u64| {
        Error::BadInput(format!(
            "{named} is {size} bytes: too large to be {kind} (at most {}).",
            byte_size(max_bytes)
        ))
    };
    if meta.len() > max_bytes {
        return Err(too_large(meta.len()));
    }
    // A file can grow after the check, and files in /proc say they are empty. What was
    // read of a refused file is wiped: it may be a key.
    let mut bytes = Vec::new();
    let refusal = match file.take(max_bytes + 1).read_to_end(&mut bytes) {
        Err(e) => unreadable(what, path, e),
        Ok(size) if size as u64 > max_bytes => too_large(size as u64),
        Ok(_) => return Ok(bytes),
    };
    zeroize::Zeroize::zeroize(&mut bytes);
    Err(refusal)
}

/// `64 KiB`, `8 MiB`: a limit as a person reads it.
fn byte_size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_named_file_is_read_only_if_it_is_a_regular_file_within_its_bound() {
        let dir = tempfile::tempdir().unwrap();
        let read = |path: &Path| read_named_file(path, "the test file", "a test file", 1024);
        let refused = |path: &Path| match read(path) {
            Err(Error::BadInput(message)) => message,
            other => panic!("{} was not refused: {:?}", path.display(), other),
        };
        let fifo = dir.path().join("fifo");
        assert!(std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        // Opened without blocking: a FIFO with no writer would otherwise never open.
        assert!(refused(&fifo).contains("not a regular file, so not a test file"));
        assert!(refused(Path::new("/dev/zero")).contains("not a regular file"));
        assert!(refused(dir.path()).contains("is a directory, so not a test file"));
        let big = dir.path().join("big");
        std::fs::write(&big, vec![b'a'; 1025]).unwrap();
        assert_eq!(
            refused(&big),
            format!(
                "{} is 1025 bytes: too large to be a test file (at most 1 KiB).",
                shown(&big.to_string_lossy())
            )
        );
        assert!(refused(&dir.path().join("absent")).contains("there is no such file"));
        let fine = dir.path().join("fine");
        std::fs::write(&fine, b"Host web\n").unwrap();
        assert_eq!(read(&fine).unwrap(), b"Host web\n");
        // A /proc file says it is empty and may be endless: the bound holds as it is read.
        match read_named_file(Path::new("/proc/self/maps"), "maps", "a test file", 16) {
            Err(Error::BadInput(m))
                if m.contains("too large to be a test file (at most 16 bytes)") => {}
            other => panic!("/proc/self/maps was not refused for its size: {other:?}"),
        }
        assert_eq!(byte_size(64 * 1024), "64 KiB");
        assert_eq!(byte_size(8 << 20), "8 MiB");
        assert_eq!(byte_size(1000), "1000 bytes");
    }

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
