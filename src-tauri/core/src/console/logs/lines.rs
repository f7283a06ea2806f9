//! Turning a command's byte stream into batches of whole lines. A chatty service can
//! write thousands of lines a second; handing each chunk to the UI as it comes would
//! repaint it for every few bytes, and handing it half lines would break colours and
//! search. So bytes wait until their newline, and lines wait (briefly) for company.

use std::time::Duration;

use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::Instant;

/// The longest a line waits before it is delivered.
pub const BATCH_INTERVAL: Duration = Duration::from_millis(50);
/// The most lines in one batch; a full batch is delivered at once.
pub const BATCH_MAX_LINES: usize = 500;
/// A line longer than this is delivered in pieces, so output without newlines cannot
/// grow memory without bound.
pub const MAX_LINE_BYTES: usize = 64 * 1024;
/// How much of the command's stderr is kept for an error's detail.
const STDERR_TAIL_BYTES: usize = 4 * 1024;

/// Which stream a piece of output came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Stdout,
    Stderr,
}

/// Splits bytes into lines, keeping an unfinished line until its newline arrives.
/// Decoding waits for the whole line, so a character split across chunks survives.
#[derive(Debug, Default)]
pub struct LineSplitter {
    partial: Vec<u8>,
}

impl LineSplitter {
    pub fn push(&mut self, mut bytes: &[u8], lines: &mut Vec<String>) {
        while let Some(end) = bytes.iter().position(|&b| b == b'\n') {
            self.partial.extend_from_slice(&bytes[..end]);
            lines.push(decode(&std::mem::take(&mut self.partial)));
            bytes = &bytes[end + 1..];
        }
        self.partial.extend_from_slice(bytes);
        while self.partial.len() >= MAX_LINE_BYTES {
            let rest = self.partial.split_off(MAX_LINE_BYTES);
            lines.push(decode(&std::mem::replace(&mut self.partial, rest)));
        }
    }

    /// The last line, if the stream ended without a newline.
    pub fn finish(&mut self, lines: &mut Vec<String>) {
        if !self.partial.is_empty() {
            lines.push(decode(&std::mem::take(&mut self.partial)));
        }
    }
}

fn decode(line: &[u8]) -> String {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    String::from_utf8_lossy(line).into_owned()
}

/// What [`deliver_in_batches`] saw once the stream ended.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Delivered {
    pub lines: u64,
    /// The end of stderr, where compose says why it stopped.
    pub stderr_tail: String,
}

/// Reads chunks until the sender is dropped and hands `on_lines` batches of whole
/// lines: as soon as [`BATCH_MAX_LINES`] are waiting, otherwise [`BATCH_INTERVAL`]
/// after the first waiting line arrived. Both streams become lines alike (compose
/// writes its containers' output to stdout and its own complaints to stderr).
pub async fn deliver_in_batches(
    mut chunks: UnboundedReceiver<(Source, Vec<u8>)>,
    mut on_lines: impl FnMut(Vec<String>) + Send,
) -> Delivered {
    let (mut stdout, mut stderr) = (LineSplitter::default(), LineSplitter::default());
    let mut stderr_tail = Vec::new();
    let mut waiting = Vec::new();
    let mut due: Option<Instant> = None;
    let mut delivered = 0u64;
    let mut deliver = |waiting: &mut Vec<String>| {
        for batch in waiting.chunks(BATCH_MAX_LINES) {
            delivered += batch.len() as u64;
            on_lines(batch.to_vec());
        }
        waiting.clear();
    };
    loop {
        tokio::select! {
            chunk = chunks.recv() => {
                let Some((source, bytes)) = chunk else { break };
                match source {
                    Source::Stdout => stdout.push(&bytes, &mut waiting),
                    Source::Stderr => {
                        keep_tail(&mut stderr_tail, &bytes);
                        stderr.push(&bytes, &mut waiting);
                    }
                }
                if waiting.len() >= BATCH_MAX_LINES {
                    deliver(&mut waiting);
                    due = None;
                } else if due.is_none() && !waiting.is_empty() {
                    due = Some(Instant::now() + BATCH_INTERVAL);
                }
            }
            () = tokio::time::sleep_until(due.unwrap_or_else(Instant::now)), if due.is_some() => {
                deliver(&mut waiting);
                due = None;
            }
        }
    }
    stdout.finish(&mut waiting);
    stderr.finish(&mut waiting);
    deliver(&mut waiting);
    Delivered {
        lines: delivered,
        stderr_tail: String::from_utf8_lossy(&stderr_tail).trim().to_string(),
    }
}

fn keep_tail(tail: &mut Vec<u8>, bytes: &[u8]) {
    tail.extend_from_slice(bytes);
    if tail.len() > STDERR_TAIL_BYTES {
        tail.drain(..tail.len() - STDERR_TAIL_BYTES);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tokio::sync::mpsc::unbounded_channel;

    use super::*;

    fn split(chunks: &[&[u8]]) -> Vec<String> {
        let (mut splitter, mut lines) = (LineSplitter::default(), Vec::new());
        for chunk in chunks {
            splitter.push(chunk, &mut lines);
        }
        splitter.finish(&mut lines);
        lines
    }

    #[test]
    fn partial_lines_wait_for_their_newline() {
        assert_eq!(
            split(&[b"tick 1\ntic", b"k 2\n", b"tick 3"]),
            ["tick 1", "tick 2", "tick 3"]
        );
        assert_eq!(split(&[b"a\r\n\nb\n"]), ["a", "", "b"]);
    }

    #[test]
    fn a_character_split_across_chunks_survives() {
        let text = "prix 12 €\n".as_bytes();
        let (head, tail) = text.split_at(text.len() - 3); // inside the euro sign
        assert_eq!(split(&[head, tail]), ["prix 12 €"]);
    }

    #[test]
    fn ansi_colours_are_kept() {
        assert_eq!(
            split(&[b"\x1b[31mERROR\x1b[0m boom\n"]),
            ["\x1b[31mERROR\x1b[0m boom"]
        );
    }

    #[test]
    fn an_endless_line_is_cut_into_pieces() {
        let long = vec![b'x'; MAX_LINE_BYTES * 2 + 10];
        let lines = split(&[&long]);
        assert_eq!(
            lines.iter().map(String::len).collect::<Vec<_>>(),
            [MAX_LINE_BYTES, MAX_LINE_BYTES, 10]
        );
    }

    type Batches = Arc<Mutex<Vec<Vec<String>>>>;

    fn collector() -> (Batches, impl FnMut(Vec<String>) + Send) {
        let batches: Batches = Arc::default();
        let into = batches.clone();
        (batches, move |lines| into.lock().unwrap().push(lines))
    }

    #[tokio::test(start_paused = true)]
    async fn lines_arriving_together_go_out_as_one_batch_after_the_interval() {
        let (tx, rx) = unbounded_channel();
        let (batches, on_lines) = collector();
        let delivery = tokio::spawn(deliver_in_batches(rx, on_lines));
        tx.send((Source::Stdout, b"one\ntw".to_vec())).unwrap();
        tokio::time::sleep(Duration::from_millis(10)).await;
        tx.send((Source::Stdout, b"o\n".to_vec())).unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(
            batches.lock().unwrap().is_empty(),
            "delivered before the interval"
        );
        tokio::time::sleep(BATCH_INTERVAL).await;
        assert_eq!(*batches.lock().unwrap(), [vec!["one", "two"]]);
        tx.send((Source::Stderr, b"no such service\n".to_vec()))
            .unwrap();
        drop(tx);
        let delivered = delivery.await.unwrap();
        assert_eq!(batches.lock().unwrap().len(), 2);
        assert_eq!(
            delivered,
            Delivered {
                lines: 3,
                stderr_tail: "no such service".into()
            }
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_flood_goes_out_in_full_batches_at_once() {
        let (tx, rx) = unbounded_channel();
        let (batches, on_lines) = collector();
        let delivery = tokio::spawn(deliver_in_batches(rx, on_lines));
        let flood: String = (0..1_200).map(|i| format!("line {i}\n")).collect();
        tx.send((Source::Stdout, flood.into_bytes())).unwrap();
        tokio::task::yield_now().await;
        tokio::task::yield_now().await;
        let sizes: Vec<usize> = batches.lock().unwrap().iter().map(Vec::len).collect();
        assert_eq!(
            sizes,
            [500, 500, 200],
            "a full batch must not wait for the interval"
        );
        drop(tx);
        assert_eq!(delivery.await.unwrap().lines, 1_200);
    }

    #[tokio::test(start_paused = true)]
    async fn the_last_unfinished_line_is_delivered_at_the_end() {
        let (tx, rx) = unbounded_channel();
        let (batches, on_lines) = collector();
        tx.send((Source::Stdout, b"done without newline".to_vec()))
            .unwrap();
        drop(tx);
        deliver_in_batches(rx, on_lines).await;
        assert_eq!(*batches.lock().unwrap(), [vec!["done without newline"]]);
    }
}
