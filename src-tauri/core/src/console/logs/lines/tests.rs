use std::sync::{Arc, Mutex};

#[test]
fn a_long_line_is_never_cut_inside_a_secret() {
    use crate::checks::redact::Redactor;
    // A secret with a comma and a space in it, across the 64 KiB cut, one across a
    // cut with no separator near it, and one a cut there could split mid-character.
    let redactor = Redactor::from_env_file(
        "PW=\"p4ss, w0rd!x\"\nTOKEN=fakeTOKENfakeTOKEN\nDE=pässwort-fake-geheim\n",
    );
    for (secret, filler) in [
        ("p4ss, w0rd!x", b'a'),
        ("fakeTOKENfakeTOKEN", b'b'),
        ("pässwort-fake-geheim", b'c'),
    ] {
        let middle = secret
            .char_indices()
            .nth(secret.chars().count() / 2)
            .unwrap()
            .0;
        for shift in 0..secret.len() {
            let mut line = vec![filler; MAX_LINE_BYTES - shift];
            line.extend_from_slice(secret.as_bytes());
            line.extend_from_slice(b" end\n");
            // As it arrives over SSH: in pieces, the line's end not yet there.
            let (mut splitter, mut lines) = (LineSplitter::default(), Vec::new());
            for piece in line.chunks(16 * 1024) {
                splitter.push(piece, &mut lines, &|text| redactor.begun_at_end(text));
            }
            assert!(lines.len() >= 2, "cut into pieces");
            for shown in lines.iter().map(|l| redactor.redact(l)) {
                for half in [&secret[..middle], &secret[middle..]] {
                    assert!(
                        !shown.contains(half),
                        "{secret} shown cut at {shift}: …{}",
                        shown.chars().rev().take(40).collect::<String>()
                    );
                }
            }
        }
    }
}

#[test]
fn the_error_tail_keeps_whole_lines_only() {
    let mut tail = Tail::default();
    tail.keep(b"first\n");
    // A line longer than the tail, in two pieces: none of it is kept.
    tail.keep(format!("password=fake{}", "x".repeat(STDERR_TAIL_BYTES)).as_bytes());
    tail.keep(b"yyyy-end-of-a-fake-secret\ncompose: the service stopped\n");
    assert_eq!(tail.text(), "compose: the service stopped");
    tail.keep(format!("{}\nlast", "z".repeat(STDERR_TAIL_BYTES)).as_bytes());
    assert_eq!(tail.text(), "last");
}

use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};

use super::*;

fn split(chunks: &[&[u8]]) -> Vec<String> {
    let (mut splitter, mut lines) = (LineSplitter::default(), Vec::new());
    for chunk in chunks {
        splitter.push(chunk, &mut lines, &|_| 0);
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
fn an_endless_line_is_cut_between_words_so_no_value_is_cut_in_two() {
    let value = "Xq7-fake-pass-value";
    // The value would straddle the cut at MAX_LINE_BYTES; its newline comes later.
    let mut line = "x".repeat(MAX_LINE_BYTES - 8);
    line.push_str(&format!(" {value} and more"));
    let lines = split(&[line.as_bytes(), b"\n"]);
    assert_eq!(lines.len(), 2);
    assert!(
        lines.iter().any(|piece| piece.contains(value)),
        "{:?}",
        &lines[1]
    );
    assert_eq!(lines.concat(), line);
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

fn collector() -> (Batches, impl FnMut(Vec<String>, u64) + Send) {
    let batches: Batches = Arc::default();
    let into = batches.clone();
    (batches, move |lines, _skipped| {
        into.lock().unwrap().push(lines)
    })
}

/// Delivery to a viewer that is not paced (no credits), never stopped.
fn unpaced(
    rx: UnboundedReceiver<(Source, Vec<u8>)>,
    on_lines: impl FnMut(Vec<String>, u64) + Send,
) -> impl std::future::Future<Output = Delivered> + Send {
    deliver_in_batches(rx, None, CancellationToken::new(), |_: &[u8]| 0, on_lines)
}

#[tokio::test(start_paused = true)]
async fn lines_arriving_together_go_out_as_one_batch_after_the_interval() {
    let (tx, rx) = unbounded_channel();
    let (batches, on_lines) = collector();
    let delivery = tokio::spawn(unpaced(rx, on_lines));
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
    let delivery = tokio::spawn(unpaced(rx, on_lines));
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
async fn a_viewer_that_is_behind_gets_batches_for_its_credits_and_the_newest_lines() {
    let (tx, rx) = unbounded_channel();
    let got: Arc<Mutex<Vec<(usize, u64, String)>>> = Arc::default();
    let into = got.clone();
    let credits = Arc::new(Semaphore::new(2));
    let delivery = tokio::spawn(deliver_in_batches(
        rx,
        Some(credits.clone()),
        CancellationToken::new(),
        |_: &[u8]| 0,
        move |lines, skipped| {
            into.lock()
                .unwrap()
                .push((lines.len(), skipped, lines[0].clone()))
        },
    ));
    let lines = |range: std::ops::Range<u32>| -> Vec<u8> {
        range
            .map(|i| format!("line {i}\n"))
            .collect::<String>()
            .into_bytes()
    };
    tx.send((Source::Stdout, lines(0..1_000))).unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    tx.send((Source::Stdout, lines(1_000..101_000))).unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        *got.lock().unwrap(),
        [(500, 0, "line 0".into()), (500, 0, "line 500".into())],
        "two credits, two batches, the second a gap after the first; then none"
    );
    credits.add_permits(1);
    tokio::time::sleep(Duration::from_secs(1)).await;
    // Of the 100,000 lines that came while the viewer was behind, the newest 5,000
    // waited; the batch after them says how many were skipped.
    assert_eq!(got.lock().unwrap()[2], (500, 95_000, "line 96000".into()));
    assert_eq!(got.lock().unwrap().len(), 3);
    drop(tx);
    credits.add_permits(1_000);
    assert_eq!(delivery.await.unwrap().lines, 6_000);
    assert_eq!(got.lock().unwrap().len(), 12, "the rest, one batch a gap");
}

#[tokio::test(start_paused = true)]
async fn without_credits_every_line_goes_out_however_many_come_at_once() {
    let (tx, rx) = unbounded_channel();
    let (batches, on_lines) = collector();
    let flood: String = (0..(MAX_WAITING_LINES * 3))
        .map(|i| format!("{i}\n"))
        .collect();
    tx.send((Source::Stdout, flood.into_bytes())).unwrap();
    drop(tx);
    assert_eq!(
        unpaced(rx, on_lines).await.lines,
        MAX_WAITING_LINES as u64 * 3
    );
    assert!(batches
        .lock()
        .unwrap()
        .iter()
        .all(|b| b.len() <= BATCH_MAX_LINES));
}

#[tokio::test(start_paused = true)]
async fn the_last_unfinished_line_is_delivered_at_the_end() {
    let (tx, rx) = unbounded_channel();
    let (batches, on_lines) = collector();
    tx.send((Source::Stdout, b"done without newline".to_vec()))
        .unwrap();
    drop(tx);
    unpaced(rx, on_lines).await;
    assert_eq!(*batches.lock().unwrap(), [vec!["done without newline"]]);
}

#[tokio::test(start_paused = true)]
async fn a_follow_the_operator_stopped_ends_at_once_with_lines_its_viewer_has_not_taken() {
    // A viewer behind (no credit free) when the stream ends: lines wait for it, up to
    // FINAL_WAIT if the stream ended by itself, not at all if the follow was stopped.
    for stop in [false, true] {
        let (tx, rx) = unbounded_channel();
        let stopped = CancellationToken::new();
        let delivery = tokio::spawn(deliver_in_batches(
            rx,
            Some(Arc::new(Semaphore::new(0))),
            stopped.clone(),
            |_: &[u8]| 0,
            |_, _| {},
        ));
        tx.send((Source::Stdout, b"one\ntwo\n".to_vec())).unwrap();
        if stop {
            stopped.cancel();
        }
        drop(tx);
        let began = Instant::now();
        assert_eq!(delivery.await.unwrap().lines, 0);
        match stop {
            true => assert!(began.elapsed() < BATCH_INTERVAL, "{:?}", began.elapsed()),
            false => assert!(began.elapsed() >= FINAL_WAIT, "{:?}", began.elapsed()),
        }
    }
}
