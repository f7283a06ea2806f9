//! Editing `.env.aws` without ever showing or storing a value: keys are listed by name,
//! a change is one key set or unset in the file's own text (comments, order and other
//! lines kept), and the new text goes to the host on the command's input, never in its
//! arguments. The host writes it beside the file and renames it over the old one only
//! once every byte arrived (length and SHA-256 checked) and the old file is still the
//! one that was read; a connection cut mid-write leaves the old file as it was.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::checks::redact::looks_secret;
use crate::dotenv;
use crate::error::{Error, Result};
use crate::shell::RemoteCommand;

/// Writes the new env file from standard input: a first line with the new text's byte
/// count, its SHA-256 and that of the file as it was read (`-`: it did not exist), then
/// the text ([`write_input`]); on the input, not the command line, which any login on
/// the host can read in `ps`. `$1` the file; the backup is named by the file and the
/// host's time, so the command is the same for every save and is shown before it runs.
/// Exit 3: the file changed since it was read.
/// Backups are named by the file (a hash of its path: a login may keep several
/// projects) and the time; the newest 20 of each file are kept, so a secret unset or
/// rotated leaves the host's disk within 20 saves.
/// Each write has a temporary file of its own, and from the check that the file is still
/// the one read to the rename over it, writes take turns (an flock), so two saves at
/// once (the window and the CLI, two operators) never mix or lose one another. A save
/// is a change: it holds the host's deploy lock shared while it writes, and exits 75
/// having written nothing under a deploy ([`crate::deploy::lock::CHANGE_GATE`]).
const WRITE_SCRIPT: &str = r#"f=$1; umask 077
read -r size sha was || exit 1
[ "$was" = - ] && was=
[ -L "$f" ] && { f=$(readlink -f -- "$f") || exit 1; }
tmp=$(mktemp "$f.shipshape-XXXXXX") || exit 1
cat > "$tmp" || { rm -f -- "$tmp"; exit 1; }
n=$(wc -c < "$tmp")
if [ "$n" -ne "$size" ] || [ "$(sha256sum < "$tmp" | cut -d ' ' -f 1)" != "$sha" ]; then
  rm -f -- "$tmp"; echo "only $n of $size bytes of the new $f arrived: the old file is unchanged" >&2; exit 1
fi
mkdir -p "$HOME/.shipshape" && exec 8>>"$HOME/.shipshape/env-write.lock" || { rm -f -- "$tmp"; exit 1; }
flock -w 10 8 || { rm -f -- "$tmp"; echo "another write of $f is under way: nothing was written" >&2; exit 3; }
exec 9>>"$HOME/.shipshape/deploy.lock" && flock -s -n 9 || { rm -f -- "$tmp"; echo "shipshape: a deploy holds this host's lock; nothing was written" >&2; exit 75; }
now=; [ -e "$f" ] && now=$(sha256sum < "$f" | cut -d ' ' -f 1)
if [ "$now" != "$was" ]; then rm -f -- "$tmp"; echo "$f changed on the host since it was read: nothing was written" >&2; exit 3; fi
d="$HOME/.shipshape/env-backups"
case $f in /*) p=$f ;; *) p=$(pwd -P)/$f ;; esac
k=$(printf '%s' "$p" | sha256sum | cut -c 1-12)
b=$k.$(date -u +%Y%m%dT%H%M%S.%NZ).env.aws
if [ -e "$f" ]; then
  mkdir -p "$d" && cp -- "$f" "$d/$b" && chmod 600 "$d/$b" || { rm -f -- "$tmp"; exit 1; }
  ls -1t "$d" | grep "^$k\." | tail -n +21 | while IFS= read -r old; do rm -f -- "$d/$old"; done
  chmod --reference="$f" "$tmp" && { chown --reference="$f" "$tmp" 2>/dev/null || true; }
fi
mv -f -- "$tmp" "$f" && echo "backup ~/.shipshape/env-backups/$b""#;

/// A key of the env file, as the editor lists it: never its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct EnvKey {
    pub name: String,
    /// 1-based line in the file.
    pub line: u32,
    /// The name looks like a secret's (`*PASSWORD*`, `*SECRET*`, `*TOKEN*`, `*KEY*`).
    pub looks_secret: bool,
    /// Set to nothing.
    pub empty: bool,
}

/// The keys of `text`, in the file's order, read as compose reads them.
pub fn keys(text: &str) -> Vec<EnvKey> {
    dotenv::parse(text)
        .into_iter()
        .map(|found| EnvKey {
            looks_secret: looks_secret(&found.key),
            // A line with no `=` that is not a name holds text: masked, not "empty".
            empty: found.value.is_empty() && !found.may_be_a_value(),
            name: found.key,
            line: found.lines.start as u32 + 1,
        })
        .collect()
}

/// Keys of the env file `after` against `before`, by name: added, removed, changed.
/// The values are compared here and dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyChanges {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub changed: Vec<String>,
}

impl KeyChanges {
    pub fn between(before: &str, after: &str) -> KeyChanges {
        use std::collections::BTreeMap;
        let before: BTreeMap<String, String> = dotenv::assignments(before).into_iter().collect();
        let after: BTreeMap<String, String> = dotenv::assignments(after).into_iter().collect();
        let only_in = |a: &BTreeMap<String, String>, b: &BTreeMap<String, String>| {
            a.keys().filter(|k| !b.contains_key(*k)).cloned().collect()
        };
        KeyChanges {
            added: only_in(&after, &before),
            removed: only_in(&before, &after),
            changed: after
                .iter()
                .filter(|(k, v)| before.get(*k).is_some_and(|old| old != *v))
                .map(|(k, _)| k.clone())
                .collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

/// A key name the file and compose both accept (`.` and `-` after the first character,
/// as the keys the editor lists may have them).
pub fn validate_key(name: &str) -> Result<()> {
    let mut chars = name.chars();
    let good = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
        && name.len() <= 128;
    match good {
        true => Ok(()),
        // `KEY=value` (or `KEY value`) typed as the key: its value is not repeated, in
        // the error or a log.
        false if name.contains(['=', ':']) || name.contains(char::is_whitespace) => Err(Error::BadInput(
            "Give the key's name alone, without =, : or a space and a value: the value is read from standard input, or typed at a prompt that does not show it.".into(),
        )),
        // Nor any other: a value typed where the key goes (a secret with a `/` or `+`)
        // must not reach the terminal or the log either.
        false => Err(Error::BadInput(format!(
            "That is not a key name ({} characters): letters, digits, _, . and - only, starting with a letter or _, at most 128 (it is not repeated here, in case it is a value).",
            name.chars().count()
        ))),
    }
}

/// `KEY=value`, quoted so compose reads the value back exactly. A value is one line.
fn assignment(key: &str, value: &str) -> Result<String> {
    if value.contains(['\n', '\r', '\0']) {
        return Err(Error::BadInput(
            "A value is one line: it holds no line break (the value itself is not shown).".into(),
        ));
    }
    let plain = value
        .chars()
        .all(|c| c.is_ascii_graphic() && !"'\"#$\\`".contains(c));
    Ok(if plain {
        format!("{key}={value}")
    } else if !value.contains(['\'', '\\']) {
        // Single quotes take the value as it is, but compose reads `\'` as an escaped
        // quote there: a value ending in a backslash would never close its quote.
        format!("{key}='{value}'")
    } else {
        let escaped = value
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('$', "\\$");
        format!("{key}=\"{escaped}\"")
    })
}

/// The lines `key`'s assignments take in `text` (a quoted value can span several).
/// A quote never closed takes only its own line: what follows it (keys compose would
/// read once it is closed) is kept. A change to another key while one is open is
/// refused: compose reads nothing after the open quote, the new line included.
fn lines_of(text: &str, key: &str) -> Result<Vec<std::ops::Range<usize>>> {
    let found = dotenv::parse(text);
    if let Some(open) = found.iter().find(|a| a.unclosed && a.key != key) {
        return Err(Error::BadInput(format!(
            "Line {} of the env file opens a quote for {} that never closes, so compose refuses the file and reads nothing after it: set {} first (the lines after it are kept), or fix that line on the host.",
            open.lines.start + 1,
            open.key,
            open.key
        )));
    }
    Ok(found
        .into_iter()
        .filter(|a| a.key == key)
        .map(|a| match a.unclosed {
            true => a.lines.start..a.lines.start + 1,
            false => a.lines,
        })
        .collect())
}

/// `text` with `key` set to `value`: its lines replaced where it first is (later
/// repeats of it removed, since compose would read the last), or added at the end.
pub fn set(text: &str, key: &str, value: &str) -> Result<String> {
    validate_key(key)?;
    let line = assignment(key, value)?;
    let spans = lines_of(text, key)?;
    let mut out = String::with_capacity(text.len() + line.len() + 1);
    for (i, existing) in text.split_inclusive('\n').enumerate() {
        match spans.iter().find(|span| span.contains(&i)) {
            Some(span) if i == span.start && span == &spans[0] => {
                out.push_str(&line);
                out.push('\n');
            }
            Some(_) => {}
            None => out.push_str(existing),
        }
    }
    if spans.is_empty() {
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(&line);
        out.push('\n');
    }
    Ok(out)
}

/// `text` without `key` (every line its value takes); an error if it has no such key.
pub fn unset(text: &str, key: &str) -> Result<String> {
    validate_key(key)?;
    let spans = lines_of(text, key)?;
    if spans.is_empty() {
        return Err(Error::BadInput(format!("The env file has no key {key}.")));
    }
    Ok(text
        .split_inclusive('\n')
        .enumerate()
        .filter(|(i, _)| !spans.iter().any(|span| span.contains(i)))
        .map(|(_, line)| line)
        .collect())
}

/// Prints `== present` and the file, or `== absent`.
pub fn read_command(env_file: &str, project_dir: &str) -> RemoteCommand {
    let script =
        r#"if [ -e "$1" ]; then echo '== present'; cat -- "$1"; else echo '== absent'; fi"#;
    RemoteCommand::new("sh")
        .args(["-c", script, "shipshape-env-read", env_file])
        .in_dir(project_dir)
}

/// The file's text from [`read_command`]'s output, and whether it exists; `None` if the
/// output is not that command's. Lines before its first marker are what a login's
/// start-up files printed (bash reads `~/.bashrc` for sshd's commands), not the file.
pub fn read_output(stdout: &str) -> Option<(&str, bool)> {
    let mut rest = stdout;
    loop {
        let (head, tail) = rest.split_once('\n').unwrap_or((rest, ""));
        match head {
            "== present" => return Some((tail, true)),
            "== absent" => return Some(("", false)),
            _ if tail.is_empty() => return None,
            _ => rest = tail,
        }
    }
}

/// Refuses `new` unless compose would read it as `old` with exactly `change` made: the
/// one key set to the value asked for (or gone), every other key as it was. A text that
/// would read otherwise (a quote that never closes swallowing the keys after it) is
/// never written.
pub fn reads_back_as_asked(old: &str, new: &str, change: &crate::console::EnvChange) -> Result<()> {
    use crate::console::EnvChange;
    use std::collections::BTreeMap;
    // Other keys as written, not as compose expands them: a key another one refers to
    // (`${POSTGRES_PASSWORD}` in DATABASE_URL) changes what that one reads as, never
    // what it is.
    let written = |text: &str| -> BTreeMap<String, String> {
        dotenv::parse(text)
            .into_iter()
            .map(|found| (found.key, found.written))
            .collect()
    };
    let key = match change {
        EnvChange::Set { key, .. } | EnvChange::Unset { key } => key.as_str(),
    };
    let had = written(old).contains_key(key);
    // The key's quote never closed: it swallowed the lines after it, which read as the
    // keys they are once it is closed (or gone). Those keys are compared as the file
    // holds them, not as the open quote hid them.
    let reference = match dotenv::parse(old)
        .iter()
        .any(|a| a.unclosed && a.key == key)
    {
        true => unset(old, key)?,
        false => old.to_string(),
    };
    let (mut before, mut after) = (written(&reference), written(new));
    before.remove(key);
    let has = after.remove(key).is_some();
    let as_asked = before == after
        && match change {
            EnvChange::Set { value, .. } => {
                let read = dotenv::assignments(new)
                    .into_iter()
                    .rev()
                    .find(|(name, _)| name == key)
                    .map(|(_, read)| crate::secret::Secret::new(read));
                has && read.is_some_and(|read| read.expose() == value.expose())
            }
            EnvChange::Unset { .. } => had && !has,
        };
    match as_asked {
        true => Ok(()),
        false => Err(Error::BadInput(format!(
            "The file would not read back as asked (the change to {key} would alter other keys, or its value would not read as given), so nothing was written. Attach the diagnostic log to a bug report; the value is not in it."
        ))),
    }
}

/// The command that writes the new text over the env file; its input is
/// [`write_input`].
pub fn write_command(env_file: &str, project_dir: &str) -> RemoteCommand {
    RemoteCommand::new("sh")
        .args(["-c", WRITE_SCRIPT, "shipshape-env-write", env_file])
        .in_dir(project_dir)
}

/// What [`write_command`] reads: the line that says what must arrive and what must be
/// there still, then the new text.
pub fn write_input(new_text: &[u8], old_sha256: Option<&str>) -> crate::secret::Secret {
    let mut input = format!(
        "{} {} {}\n",
        new_text.len(),
        crate::checklist::sha256_hex(new_text),
        old_sha256.unwrap_or("-")
    );
    input.push_str(&String::from_utf8_lossy(new_text));
    crate::secret::Secret::new(input)
}

#[cfg(test)]
mod tests;
