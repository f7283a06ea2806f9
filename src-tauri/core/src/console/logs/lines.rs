//! Turning a command's byte stream into batches of whole lines. A chatty service can
//! write thousands of lines a second; handing each chunk to the UI as it comes would
//! repaint it for every few bytes, and handing it half lines would break colours and
//! search. So bytes wait until their newline, and lines wait (briefly) for company.
//!
//! A host can also write far faster than a window can show (a gigabyte in seconds):
//! sent regardless, the batches pile up in the web view's memory. So the viewer is
//! paced by credits: a batch goes out only for a credit the viewer gave back for an
//! earlier one, and while it is behind, lines wait here, the oldest skipped (counted)
//! beyond what it would keep anyway.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedReceiver;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::ssh::CancellationToken;

/// The longest a line waits before it is delivered.
pub const BATCH_INTERVAL: Duration = Duration::from_millis(50);
/// The most lines in one batch; a full batch is delivered at once.
pub const BATCH_MAX_LINES: usize = 500;
/// A line longer than this is delivered in pieces, so output without newlines cannot
/// grow memory without bound.
pub const MAX_LINE_BYTES: usize = 64 * 1024;
/// The least time between two batches to a paced viewer: at most 1,000 lines a second,
/// more than anyone reads (a flood is shown as its newest lines and a count of skipped
/// ones), and each batch's lines are rows replaced and garbage in the web view: a 1 GB
/// flood took its peak from about 525 MB at 1,000 lines a second to 600 MB at 2,000 and
/// 730 MB at 2,500 (the hostile-window spec, debug build).
pub const PACED_GAP: Duration = Duration::from_millis(500);
/// Batches a paced viewer may have unacknowledged.
pub const BATCHES_IN_FLIGHT: usize = 4;
/// What waits for a paced viewer that is behind, at most: a few seconds of what it
/// takes (it shows the newest lines, not ones ever further behind) and this many bytes;
/// older lines are skipped.
pub const MAX_WAITING_LINES: usize = 5_000;
pub const MAX_WAITING_BYTES: usize = 16 * 1024 * 1024;
/// How long lines left when the stream ended by itself wait for a viewer's credits
/// (none wait once the operator stopped the follow: they asked for no more).
const FINAL_WAIT: Duration = Duration::from_secs(10);
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
    /// Takes `bytes`, adding each line they end to `lines`. A line too long to keep
    /// whole is cut, before the beginning of a secret it ends with (`begun`: how many of
    /// its last bytes begin one, as [`crate::checks::redact::Redactor::begun_at_end`]
    /// says): each piece is redacted on its own.
    pub fn push(
        &mut self,
        mut bytes: &[u8],
        lines: &mut Vec<String>,
        begun: &dyn Fn(&[u8]) -> usize,
    ) {
        while let Some(end) = bytes.iter().position(|&b| b == b'\n') {
            self.partial.extend_from_slice(&bytes[..end]);
            lines.push(decode(&std::mem::take(&mut self.partial)));
            bytes = &bytes[end + 1..];
        }
        self.partial.extend_from_slice(bytes);
        while self.partial.len() >= MAX_LINE_BYTES {
            let at = cut_at(&self.partial[..MAX_LINE_BYTES]);
            // (A value longer than the piece is cut where it falls: nothing else can be.)
            let at = match begun(&self.partial[..at]) {
                back if back < at => at - back,
                _ => at,
            };
            let rest = self.partial.split_off(at);
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

/// How far back from the end of a piece of an endless line a cut looks for a separator.
const CUT_LOOKBACK: usize = 4 * 1024;

/// Where to cut `piece` (at most [`MAX_LINE_BYTES`]): just after the last space, tab,
/// comma, semicolon or quote near its end if there is one. Each piece is redacted on its
/// own, and a value (a token, a password) cut in two would pass as two harmless halves;
/// most values hold none of those bytes, so a cut there leaves them whole (and one that
/// does is kept whole by [`LineSplitter::push`]).
fn cut_at(piece: &[u8]) -> usize {
    let from = piece.len().saturating_sub(CUT_LOOKBACK);
    piece[from..]
        .iter()
        .rposition(|b| matches!(b, b' ' | b'\t' | b',' | b';' | b'"' | b'\''))
        .map_or(piece.len(), |at| from + at + 1)
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

/// Lines not delivered yet; for a paced viewer bounded, the oldest skipped beyond.
#[derive(Default)]
struct Waiting {
    lines: VecDeque<String>,
    bytes: usize,
    skipped: u64,
    bounded: bool,
}

impl Waiting {
    fn push(&mut self, new: Vec<String>) {
        for line in new {
            self.bytes += line.len();
            self.lines.push_back(line);
        }
        while self.bounded
            && (self.lines.len() > MAX_WAITING_LINES || self.bytes > MAX_WAITING_BYTES)
        {
            let Some(old) = self.lines.pop_front() else {
                break;
            };
            self.bytes -= old.len();
            self.skipped += 1;
        }
    }

    fn take(&mut self, most: usize) -> Vec<String> {
        let batch: Vec<String> = self.lines.drain(..most.min(self.lines.len())).collect();
        self.bytes -= batch.iter().map(String::len).sum::<usize>();
        batch
    }
}

/// Reads chunks until the sender is dropped and hands `on_lines` batches of whole
/// lines, each with the count of lines skipped before it: as soon as
/// [`BATCH_MAX_LINES`] are waiting, otherwise [`BATCH_INTERVAL`] after the first
/// waiting line arrived; with `credits`, only while one is free and [`PACED_GAP`] after
/// the last. Once the stream ended, what waits still goes out as credits come, for up
/// to [`FINAL_WAIT`], unless `stopped` fired: then it ends at once. Both streams become
/// lines alike (compose writes its containers' output to stdout and its own complaints
/// to stderr).
pub async fn deliver_in_batches(
    mut chunks: UnboundedReceiver<(Source, Vec<u8>)>,
    credits: Option<Arc<Semaphore>>,
    stopped: CancellationToken,
    begun: impl Fn(&[u8]) -> usize + Send,
    mut on_lines: impl FnMut(Vec<String>, u64) + Send,
) -> Delivered {
    let (mut stdout, mut stderr) = (LineSplitter::default(), LineSplitter::default());
    let mut stderr_tail = Tail::default();
    let mut waiting = Waiting {
        bounded: credits.is_some(),
        ..Waiting::default()
    };
    let mut due: Option<Instant> = None;
    let mut delivered = 0u64;
    let mut next_allowed = Instant::now();
    // Whether everything waiting went out.
    let mut deliver = |waiting: &mut Waiting| -> bool {
        while !waiting.lines.is_empty() {
            if let Some(credits) = &credits {
                if Instant::now() < next_allowed {
                    return false;
                }
                match credits.try_acquire() {
                    Ok(credit) => credit.forget(),
                    Err(_) => return false,
                }
                next_allowed = Instant::now() + PACED_GAP;
            }
            let batch = waiting.take(BATCH_MAX_LINES);
            delivered += batch.len() as u64;
            on_lines(batch, std::mem::take(&mut waiting.skipped));
        }
        true
    };
    let mut new = Vec::new();
    loop {
        tokio::select! {
            chunk = chunks.recv() => {
                let Some((source, bytes)) = chunk else { break };
                match source {
                    Source::Stdout => stdout.push(&bytes, &mut new, &begun),
                    Source::Stderr => {
                        stderr_tail.keep(&bytes);
                        stderr.push(&bytes, &mut new, &begun);
                    }
                }
                waiting.push(std::mem::take(&mut new));
                if waiting.lines.len() >= BATCH_MAX_LINES {
                    if deliver(&mut waiting) {
                        due = None;
                    } else {
                        due.get_or_insert_with(|| Instant::now() + BATCH_INTERVAL);
                    }
                } else if due.is_none() && !waiting.lines.is_empty() {
                    due = Some(Instant::now() + BATCH_INTERVAL);
                }
            }
            () = tokio::time::sleep_until(due.unwrap_or_else(Instant::now)), if due.is_some() => {
                due = (!deliver(&mut waiting)).then(|| Instant::now() + BATCH_INTERVAL);
            }
        }
    }
    stdout.finish(&mut new);
    stderr.finish(&mut new);
    waiting.push(new);
    let give_up = Instant::now() + FINAL_WAIT;
    while !deliver(&mut waiting) && Instant::now() < give_up && !stopped.is_cancelled() {
        tokio::time::sleep(BATCH_INTERVAL).await;
    }
    Delivered {
        lines: delivered,
        stderr_tail: stderr_tail.text(),
    }
}

/// The last [`STDERR_TAIL_BYTES`] of standard error, in whole lines: a tail that began
/// mid-line could begin mid-value, with only the end of a secret, which no redaction
/// would know.
#[derive(Default)]
struct Tail {
    bytes: Vec<u8>,
    /// What was cut off ended mid-line: the rest of that line is dropped as it comes.
    mid_line: bool,
}

impl Tail {
    fn keep(&mut self, mut bytes: &[u8]) {
        if self.mid_line {
            match bytes.iter().position(|&b| b == b'\n') {
                Some(end) => {
                    bytes = &bytes[end + 1..];
                    self.mid_line = false;
                }
                None => return,
            }
        }
        self.bytes.extend_from_slice(bytes);
        if self.bytes.len() > STDERR_TAIL_BYTES {
            let cut = self.bytes.len() - STDERR_TAIL_BYTES;
            match self.bytes[cut..].iter().position(|&b| b == b'\n') {
                Some(at) => drop(self.bytes.drain(..cut + at + 1)),
                None => {
                    self.mid_line = true;
                    self.bytes.clear();
                }
            }
        }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).trim().to_string()
    }
}

#[cfg(test)]
mod tests;
