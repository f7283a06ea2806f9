//! The dashboard's live view against the lab. The window reads the services, shows them,
//! then starts the watch, telling it when its snapshot was read: the watch then reads
//! nothing more while nothing changes, and a change made between that read and the
//! watch's start is replayed by the event stream (`docker events --since`), not missed.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use shipshape_core::console::events_command;
use shipshape_core::ssh::CancellationToken;
use shipshape_core::Console;
use shipshape_tests::{exclusive, lab_console, run, wait_until, Lab, LabConsole};

/// How far back the lab must have been still before the quiet half: further than the
/// stream looks (the snapshot's age, 2 s, and Docker's whole second).
const STILL_FOR: Duration = Duration::from_secs(10);

/// Waits (a minute at most) until the lab has had no change the watch would see for
/// [`STILL_FOR`]: what an earlier test did (a restart, a service turning healthy again)
/// must not pass for a change made during this one.
fn wait_until_still(console: &Console, target: &str) {
    let (target, _) = console.target_and_policy(target).unwrap();
    let recent = format!("{} --until 0s", events_command(&target, STILL_FOR).render());
    let still = wait_until(Duration::from_secs(60), || {
        run("sh", &["-c", &recent]).trim().is_empty()
    });
    assert!(
        still,
        "the lab kept changing: {}",
        run("sh", &["-c", &recent])
    );
}

/// The snapshots a watch pushes within `limit`, stopping at the first. The watch is
/// ended by cancelling it, as the window does, and must end cleanly: one that failed at
/// once (no connection, a refused argument) would otherwise pass for a quiet one.
async fn first_snapshot(console: &Console, target: &str, known: &str, limit: Duration) -> usize {
    let cancel = CancellationToken::new();
    let pushed = Arc::new(Mutex::new(0));
    let (count, stop, timer) = (pushed.clone(), cancel.clone(), cancel.clone());
    let deadline = tokio::spawn(async move {
        tokio::time::sleep(limit).await;
        timer.cancel();
    });
    let ended = console
        .watch_status(
            target,
            Some(known),
            move |_| {
                *count.lock().unwrap() += 1;
                stop.cancel();
            },
            &cancel,
        )
        .await;
    deadline.abort();
    assert!(ended.is_ok(), "the watch failed: {ended:?}");
    let pushed = *pushed.lock().unwrap();
    pushed
}

#[test]
fn a_watch_told_of_a_fresh_read_reads_again_only_for_a_change_made_since() {
    let _lab_lock = exclusive(); // no other test restarts a service meanwhile
    let lab = Lab::from_env();
    let LabConsole {
        runtime,
        console,
        target,
        data: _data,
    } = lab_console();
    wait_until_still(&console, &target);
    runtime.block_on(async {
        let read = console.service_status(&target).await.unwrap();
        let quiet =
            first_snapshot(&console, &target, &read.checked_at, Duration::from_secs(2)).await;
        assert_eq!(
            quiet, 0,
            "the watch read the services again though nothing changed"
        );

        // A change after the read, before the watch starts.
        let read = console.service_status(&target).await.unwrap();
        run(
            "docker",
            &["restart", "-t", "1", &lab.container("market-updater-aws")],
        );
        // In another second than the restart's: Docker counts `--since` in whole
        // seconds, so a stream started from "now" would still see that second's events.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let replayed =
            first_snapshot(&console, &target, &read.checked_at, Duration::from_secs(10)).await;
        assert_eq!(
            replayed, 1,
            "the restart between the read and the watch was missed"
        );
    });
}
