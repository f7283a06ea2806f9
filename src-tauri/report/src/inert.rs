//! Text in a report people read cannot act on whoever reads it. Host output, a commit
//! subject or a typed note can hold terminal control sequences: `cat report.md` would
//! then let the host move the cursor, overwrite a line with a fake "✔ Passed", retitle
//! the window or write to the clipboard (OSC 52), and bidi overrides would reorder what
//! a reviewer sees in an editor or a browser. So every rendering people read (Markdown,
//! HTML, PDF) passes its text through [`clean`], which writes each such character out
//! as a visible escape instead of dropping it: what the host sent stays in sight.
//!
//! The JSON report is not cleaned: it is the evidence of record, and each SHA-256 is of
//! its outputs byte for byte.

use std::borrow::Cow;

/// `text` with every control character (C0, DEL, C1) but line feed and tab written as
/// `\xHH`, and every bidi embedding, override or isolate as `\uHHHH`.
pub fn clean(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            c if !needs_escape(c) => out.push(c),
            c if (c as u32) <= 0xff => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push_str(&format!("\\u{:04x}", c as u32)),
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    match c {
        '\n' | '\t' => false,
        // LRE, RLE, PDF, LRO, RLO; LRI, RLI, FSI, PDI.
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => true,
        c => c.is_control(),
    }
}

/// Whether `text` holds nothing [`clean`] would write out: for tests of renderings.
#[cfg(test)]
pub fn is_inert(text: &str) -> bool {
    !text.chars().any(needs_escape)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_bidi_overrides_are_written_out_and_lines_and_tabs_kept() {
        assert_eq!(
            clean("plain ✔ text\n\tindented"),
            "plain ✔ text\n\tindented"
        );
        assert!(matches!(clean("plain"), Cow::Borrowed(_)));
        assert_eq!(
            clean("a\u{1b}]52;c;cm0gLXJm\u{7}b\rc\0d\u{7f}e\u{9b}2Jf"),
            "a\\x1b]52;c;cm0gLXJm\\x07b\\x0dc\\x00d\\x7fe\\x9b2Jf"
        );
        assert_eq!(
            clean("x\u{202e}gpj.exe\u{202c}\u{2066}y\u{2069}"),
            "x\\u202egpj.exe\\u202c\\u2066y\\u2069"
        );
        let every: String = (0u32..0x3000).filter_map(char::from_u32).collect();
        assert!(is_inert(&clean(&every)));
        assert_eq!(
            clean(&clean(&every)),
            clean(&every),
            "cleaning twice changes nothing"
        );
    }
}
