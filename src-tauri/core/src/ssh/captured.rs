//! A command's output as kept in memory: whole up to a limit, then its first and last
//! parts with a note of how much was left out between them. A host that prints a
//! gigabyte (or never stops) cannot exhaust the operator's memory, and what goes over
//! IPC or into the journal stays bounded; what is kept is what an operator reads first
//! (how it started) and last (how it ended).

use std::collections::VecDeque;

/// Bytes kept of each of a command's two streams.
pub const KEPT_BYTES: usize = 8 * 1024 * 1024;

#[derive(Debug)]
pub struct Captured {
    limit: usize,
    head: Vec<u8>,
    tail: VecDeque<u8>,
    dropped: u64,
}

impl Default for Captured {
    fn default() -> Self {
        Captured::with_limit(KEPT_BYTES)
    }
}

impl Captured {
    pub fn with_limit(limit: usize) -> Captured {
        Captured {
            limit,
            head: Vec::new(),
            tail: VecDeque::new(),
            dropped: 0,
        }
    }

    pub fn push(&mut self, bytes: &[u8]) {
        let half = self.limit / 2;
        let room = half.saturating_sub(self.head.len());
        let (to_head, rest) = bytes.split_at(room.min(bytes.len()));
        self.head.extend_from_slice(to_head);
        if rest.is_empty() {
            return;
        }
        self.tail.extend(rest);
        let over = self.tail.len().saturating_sub(self.limit - half);
        if over > 0 {
            self.tail.drain(..over);
            self.dropped += over as u64;
        }
    }

    /// The text kept, with a line where bytes were left out (invalid UTF-8 replaced).
    /// Around that line only whole lines are kept where there are any: a secret cut in
    /// two there would be past its redactor, which finds only whole values.
    pub fn text(&self) -> String {
        if self.dropped == 0 {
            let (a, b) = self.tail.as_slices();
            let mut all = self.head.clone();
            all.extend_from_slice(a);
            all.extend_from_slice(b);
            return String::from_utf8_lossy(&all).into_owned();
        }
        let tail: Vec<u8> = self.tail.iter().copied().collect();
        let head_end = self
            .head
            .iter()
            .rposition(|&b| b == b'\n')
            .unwrap_or(self.head.len());
        let tail_start = tail.iter().position(|&b| b == b'\n').map_or(0, |at| at + 1);
        let dropped = self.dropped + (self.head.len() - head_end + tail_start) as u64;
        format!(
            "{}\n[… {dropped} bytes not kept …]\n{}",
            String::from_utf8_lossy(&self.head[..head_end]),
            String::from_utf8_lossy(&tail[tail_start..])
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_keeps_its_start_and_its_end_in_bounded_memory() {
        let mut kept = Captured::with_limit(20);
        kept.push(b"start");
        assert_eq!(kept.text(), "start");
        for _ in 0..1000 {
            kept.push(b"xxxxxxxxxx");
        }
        kept.push(b"the end");
        let text = kept.text();
        assert!(text.starts_with("start"), "{text}");
        assert!(text.ends_with("the end"), "{text}");
        assert!(text.contains("bytes not kept"), "{text}");
        assert!(kept.head.len() + kept.tail.len() <= 20);
        let mut small = Captured::with_limit(10);
        small.push(b"abcdefgh");
        assert_eq!(small.text(), "abcdefgh");
    }

    #[test]
    fn only_whole_lines_are_kept_around_the_cut() {
        let mut kept = Captured::with_limit(40);
        kept.push(b"first line\nsecret=Xq7-fake-pass-value\n");
        for _ in 0..100 {
            kept.push(b"filler line\n");
        }
        kept.push(b"DB=Xq7-fake-pass-value\nlast line\n");
        let text = kept.text();
        // No piece of a line cut in two: each kept line is one the host wrote whole.
        for line in text.lines().filter(|l| !l.starts_with("[…")) {
            assert!(
                [
                    "first line",
                    "filler line",
                    "last line",
                    "DB=Xq7-fake-pass-value",
                    ""
                ]
                .contains(&line),
                "{line:?} in {text:?}"
            );
        }
        assert!(text.starts_with("first line\n[… "), "{text:?}");
        assert!(text.ends_with("last line\n"), "{text:?}");
        let said: usize = text
            .split("[… ")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap();
        assert_eq!(
            said + "first line".len() + "last line\n".len(),
            38 + 1200 + 33
        );
    }
}
