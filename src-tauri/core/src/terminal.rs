//! Text from the host, made safe to print on an operator's terminal. A container's log
//! line or a commit message can hold escape sequences that move the cursor, retitle the
//! window, rewrite what is on screen or answer back as typed input; printed raw, the host
//! would control the operator's terminal. Colour (SGR) sequences are dropped whole, and
//! so is erase-in-line (`ESC [ 2 K`, which compose writes before its lines even into a
//! pipe): neither carries content. Every other control character is shown as text (`^[`, `^M`, `<U+009B>`), so what the
//! host sent is still visible and nothing of it acts. Lines and tabs stay as they are.

/// A pipe closed by its reader (`| head`) ends the process with SIGPIPE, as it ends any
/// Unix tool; Rust's runtime ignores that signal, which turns every later print into a
/// panic.
pub fn default_broken_pipe() {
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to its default, before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// `text` with colours and line erasures dropped and every other control character made
/// visible.
pub fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' | '\t' => out.push(c),
            '\u{1b}' if is_decoration(chars.clone()) => {
                for skipped in chars.by_ref() {
                    if skipped == 'm' || skipped == 'K' {
                        break;
                    }
                }
            }
            '\u{7f}' => out.push_str("^?"),
            c if (c as u32) < 0x20 => {
                out.push('^');
                out.push(char::from(c as u8 + 0x40));
            }
            c if c.is_control() => out.push_str(&format!("<U+{:04X}>", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Whether what follows an ESC is a colour or erase-in-line sequence: `[`, digits and
/// `;`, then `m` or `K`.
fn is_decoration(mut rest: impl Iterator<Item = char>) -> bool {
    if rest.next() != Some('[') {
        return false;
    }
    for c in rest.take(64) {
        match c {
            'm' | 'K' => return true,
            '0'..='9' | ';' => {}
            _ => return false,
        }
    }
    false
}

/// The text of a log line without its escape sequences (colours, cursor movement,
/// titles) or other control characters; tabs stay. What a downloaded log holds, and
/// what redaction also reads (a secret split by escapes is whole here).
pub fn plain_text(line: &str) -> String {
    let mut text = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\x1b' => match chars.next() {
                // CSI: parameters and intermediates up to a final byte in @..~
                Some('[') => {
                    for c in chars.by_ref() {
                        if ('@'..='~').contains(&c) {
                            break;
                        }
                    }
                }
                // OSC and other strings: up to BEL or ST (ESC \)
                Some(']' | 'P' | '_' | '^' | 'X') => {
                    while let Some(c) = chars.next() {
                        if c == '\x07' || (c == '\x1b' && chars.next_if_eq(&'\\').is_some()) {
                            break;
                        }
                    }
                }
                _ => {} // a two-character escape
            },
            '\t' => text.push(c),
            c if c.is_control() => {}
            c => text.push(c),
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_printed_can_control_the_terminal() {
        assert_eq!(printable("\u{1b}[32mINFO\u{1b}[0m ready\n"), "INFO ready\n");
        // What compose 2.26 writes before each line of `logs`, even into a pipe.
        assert_eq!(printable("\u{1b}[2Kdb-1  | ready\n"), "db-1  | ready\n");
        assert_eq!(
            printable("a\u{1b}]0;owned\u{7}b\u{1b}[2Jc\rd\u{9b}e\u{7f}\tf"),
            "a^[]0;owned^Gb^[[2Jc^Md<U+009B>e^?\tf"
        );
        for text in ["\u{1b}[31", "\u{1b}", "\u{1b}[1;2;3H", "plain"] {
            let shown = printable(text);
            assert!(
                !shown
                    .chars()
                    .any(|c| c.is_control() && c != '\n' && c != '\t'),
                "{shown:?}"
            );
        }
    }

    #[test]
    fn escape_sequences_and_controls_are_removed() {
        assert_eq!(
            plain_text("\x1b[2Kdb-1  | \x1b[1;31mERROR\x1b[0m boom"),
            "db-1  | ERROR boom"
        );
        assert_eq!(
            plain_text("a\x1b]0;title\x07b\x1b]8;;http://x\x1b\\c"),
            "abc"
        );
        assert_eq!(plain_text("tab\there\r\x08"), "tab\there");
        assert_eq!(plain_text("prix 12 €"), "prix 12 €");
    }
}
