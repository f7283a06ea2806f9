//! Console flows against the in-process host: sessions, the retry policy, deadlines,
//! lost connections, run-once requests and the reuse of the host's facts — each in
//! seconds, with no lab and no keyring.

mod host;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use host::console::{answer_as_a_healthy_host, console, one, FACTS, STAMP};
use host::{FakeHost, Reply};
use shipshape_core::history::RunOutcome;
use shipshape_core::operations::Operation;
use shipshape_core::{Console, ErrorCode};

#[tokio::test]
async fn a_hung_command_ends_by_its_deadline_as_a_timeout_and_the_host_is_told() {
    let host = FakeHost::start().await;
    let dir = tempfile::tempdir().unwrap();
    let console = one(&host, dir.path(), Some("deadline_read_seconds = 1\n"));
    host.answer("ps --all", Reply::Hang, Some(1));
    answer_as_a_healthy_host(&host);

    let started = Instant::now();
    let error = console.service_states("fake").await.unwrap_err();
    assert_eq!(error.code(), ErrorCode::Timeout, "{error}");
    assert_eq!(error.code().exit_code(), 3);
    assert!(error.to_string().contains("within 1 s"), "{error}");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    // The host saw the end of the command's input: its supervisor ends it there.
    assert_eq!(host.ended_by_client().len(), 1);
    assert!(host.ended_by_client()[0].contains("ps --all"));

    // The same console works again at once.
    let report = console.service_states("fake").await.unwrap();
    assert_eq!(report.services.len(), 4);
}

#[tokio::test]
async fn a_host_that_stops_answering_mid_change_is_an_interrupted_change_within_15_s() {
    let host = FakeHost::start().await;
    let dir = tempfile::tempdir().unwrap();
    let console = one(&host, dir.path(), None);
    answer_as_a_healthy_host(&host);
    host.answer("apply_migration", Reply::Hang, None);

    let running = {
        let console = console.clone();
        tokio::spawn(async move {
            let migrate = Operation::Migrate {
                script: "apply_migration_001.py".into(),
            };
            console.run_operation("fake", &migrate).await
        })
    };
    while host.received_containing("apply_migration") == 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    host.freeze();
    let frozen_at = Instant::now();
    let error = running.await.unwrap().unwrap_err();
    let took = frozen_at.elapsed();
    assert_eq!(error.code(), ErrorCode::ConnectionLost, "{error}");
    assert_eq!(error.code().exit_code(), 3);
    assert!(error.to_string().contains("was lost while"), "{error}");
    assert!(took <= Duration::from_secs(15), "noticed after {took:?}");
    let last = console.history().unwrap().pop().unwrap();
    assert_eq!(last.outcome, RunOutcome::Interrupted);
    assert_eq!(last.exit_code, None);
    host.thaw();
    assert_eq!(
        host.received_containing("apply_migration"),
        1,
        "a change is never re-run"
    );
}

#[tokio::test]
async fn a_read_is_asked_once_more_on_a_new_connection_and_a_change_never_is() {
    let host = FakeHost::start().await;
    let dir = tempfile::tempdir().unwrap();
    let console = one(&host, dir.path(), None);
    host.answer("ps --all", Reply::Drop, Some(1));
    host.answer("compose --profile aws restart", Reply::Drop, Some(1));
    answer_as_a_healthy_host(&host);

    let report = console.service_states("fake").await.unwrap();
    assert_eq!(report.services.len(), 4);
    assert_eq!(host.received_containing("ps --all"), 2);

    let restart = Operation::Restart {
        service: Some("db".into()),
    };
    let error = console.run_operation("fake", &restart).await.unwrap_err();
    assert_eq!(error.code(), ErrorCode::ConnectionLost, "{error}");
    assert_eq!(host.received_containing("restart db"), 1);
    assert_eq!(
        console.history().unwrap().pop().unwrap().outcome,
        RunOutcome::Interrupted
    );
}

#[tokio::test]
async fn a_change_that_never_reached_the_host_is_recorded_as_not_started() {
    let host = FakeHost::start().await;
    let dir = tempfile::tempdir().unwrap();
    let changed = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let console = console(dir.path(), &[("fake", host.port, changed)], &host, None);
    answer_as_a_healthy_host(&host);

    let restart = Operation::Restart { service: None };
    let error = console.run_operation("fake", &restart).await.unwrap_err();
    assert_eq!(error.code(), ErrorCode::HostKeyMismatch, "{error}");
    assert_eq!(host.auth_requests(), 0);
    assert!(host.received().is_empty(), "{:?}", host.received());
    let last = console.history().unwrap().pop().unwrap();
    assert_eq!(last.outcome, RunOutcome::NotStarted, "{last:?}");
    assert!(
        last.title.contains("(not started: The host key"),
        "{}",
        last.title
    );
    assert!(console.verify_journal().unwrap().broken.is_none());
}

#[tokio::test]
async fn a_secret_a_service_prints_never_reaches_the_log_viewer() {
    let host = FakeHost::start().await;
    let dir = tempfile::tempdir().unwrap();
    let console = one(&host, dir.path(), None);
    let env = "== present\nDATABASE_URL=\"postgresql://trader:fake-pass-7@db/atp\"\nMODE=paper\n";
    host.answer("shipshape-env-read", Reply::ok(env), None);
    let said = "backend-aws-1  | connecting to postgresql://trader:fake-pass-7@db/atp\nbackend-aws-1  | auth fake-pass-7 ok\n";
    host.answer("logs -n 200 -f backend-aws", Reply::ok(said), None);
    let mut shown = Vec::new();
    let cancel = shipshape_core::ssh::CancellationToken::new();
    console
        .follow_logs(
            "fake",
            "backend-aws",
            200,
            false,
            |lines| shown.extend(lines),
            &cancel,
        )
        .await
        .unwrap();
    assert_eq!(shown.len(), 2, "{shown:?}");
    assert!(
        shown.iter().all(|l| !l.contains("fake-pass-7")),
        "{shown:?}"
    );
    assert!(shown[1].ends_with("auth [redacted] ok"), "{shown:?}");
}

/// A console with the target "fake" on `host` and "hole", whose host accepts
/// connections and never says a word (a connect waits its 15 s deadline).
async fn console_with_a_silent_target(dir: &Path, host: &FakeHost) -> Arc<Console> {
    let hole = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hole_port = hole.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut kept = Vec::new();
        while let Ok((socket, _)) = hole.accept().await {
            kept.push(socket);
        }
    });
    let silent = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let targets = [
        ("hole", hole_port, silent),
        ("fake", host.port, &host.fingerprint),
    ];
    console(dir, &targets, host, None)
}

/// A connect to "hole", left waiting.
fn connecting_to_the_silent_target(console: &Arc<Console>) -> tokio::task::JoinHandle<()> {
    let console = console.clone();
    tokio::spawn(async move {
        let _ = console.connect("hole").await;
    })
}

#[tokio::test]
async fn one_unreachable_target_does_not_delay_another() {
    let host = FakeHost::start().await;
    answer_as_a_healthy_host(&host);
    let dir = tempfile::tempdir().unwrap();
    let console = console_with_a_silent_target(dir.path(), &host).await;
    let stuck = connecting_to_the_silent_target(&console);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    console.service_states("fake").await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the lab target waited {:?}",
        started.elapsed()
    );
    assert!(
        !stuck.is_finished(),
        "the unreachable target is still connecting"
    );
    stuck.abort();
}

#[tokio::test]
async fn closing_does_not_wait_for_a_connection_still_being_opened() {
    let host = FakeHost::start().await;
    answer_as_a_healthy_host(&host);
    let dir = tempfile::tempdir().unwrap();
    let console = console_with_a_silent_target(dir.path(), &host).await;
    let open = console.connect("fake").await.unwrap();
    let stuck = connecting_to_the_silent_target(&console);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    console.shut_down().await;
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "closing waited {:?} for a connection still being opened",
        started.elapsed()
    );
    assert!(!stuck.is_finished(), "the connect is still waiting");
    // Closed with the others at once, not after the silent one (whichever comes first).
    let closed = Instant::now();
    while !open.is_closed() && closed.elapsed() < Duration::from_secs(1) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        open.is_closed(),
        "the answering host's connection was left open"
    );
    stuck.abort();
}

#[tokio::test]
async fn facts_are_learned_once_and_reused_while_the_compose_file_is_unchanged() {
    let host = FakeHost::start().await;
    answer_as_a_healthy_host(&host);
    let dir = tempfile::tempdir().unwrap();
    let restart = Operation::Restart {
        service: Some("db".into()),
    };

    // Like a CLI run: a console, one restart.
    let first = one(&host, dir.path(), None);
    first.run_operation("fake", &restart).await.unwrap();
    assert_eq!(host.received_containing("config --services"), 1);
    drop(first);

    // The next run proves the cache current with the stamp alone: no compose process
    // (the host's deploy lock and the env file are read beside each other too).
    host.forget_received();
    let second = one(&host, dir.path(), None);
    second.run_operation("fake", &restart).await.unwrap();
    let sent = host.received();
    assert_eq!(sent.len(), 4, "{sent:#?}");
    assert!(sent[0].contains("shipshape-facts") && !sent[0].contains("config"));
    assert_eq!(host.received_containing("shipshape-lock-status"), 1);
    assert!(sent[3].ends_with("restart db"));

    // `ps` and `health` need no facts: one command each (and the env file for health).
    host.forget_received();
    let third = one(&host, dir.path(), None);
    third.service_states("fake").await.unwrap();
    third
        .run_operation("fake", &Operation::Health)
        .await
        .unwrap();
    let sent = host.received();
    assert_eq!(sent.len(), 3, "{sent:#?}");
    assert!(sent[0].ends_with("ps --all --format json"));
    assert!(sent[1].contains("shipshape-env-read"));
    assert!(sent[2].contains("curl"));

    // A changed compose file means learning them again.
    host.clear_answers();
    host.answer("config --services", Reply::ok(FACTS), None);
    host.answer(
        "shipshape-facts",
        Reply::ok(&STAMP.replace("1111", "2222")),
        None,
    );
    host.forget_received();
    let fourth = one(&host, dir.path(), None);
    fourth.run_operation("fake", &restart).await.unwrap();
    assert_eq!(host.received_containing("config --services"), 1);
}

#[tokio::test]
async fn a_named_request_runs_once() {
    let host = FakeHost::start().await;
    answer_as_a_healthy_host(&host);
    let dir = tempfile::tempdir().unwrap();
    let console = one(&host, dir.path(), None);
    let restart = Operation::Restart {
        service: Some("db".into()),
    };
    let address = format!("ubuntu@127.0.0.1:{}", host.port);
    console
        .run_requested_operation("req-7", "fake", &address, &restart, |_, _| {})
        .await
        .unwrap();
    let again = console
        .run_requested_operation("req-7", "fake", &address, &restart, |_, _| {})
        .await
        .unwrap_err();
    assert_eq!(again.code(), ErrorCode::BadInput);
    // Confirmed for another host than the target names now: nothing runs.
    let elsewhere = console
        .run_requested_operation("req-8", "fake", "ubuntu@10.0.0.9:22", &restart, |_, _| {})
        .await
        .unwrap_err();
    assert_eq!(elsewhere.code(), ErrorCode::BadInput);
    assert!(
        elsewhere.to_string().contains("nothing was run"),
        "{elsewhere}"
    );
    assert_eq!(host.received_containing("restart db"), 1);
}

#[tokio::test]
async fn a_second_change_on_a_busy_target_is_refused() {
    let host = FakeHost::start().await;
    host.answer(
        "restart db",
        Reply::Exit {
            stdout: String::new(),
            exit: 0,
            delay: Duration::from_millis(800),
        },
        None,
    );
    answer_as_a_healthy_host(&host);
    let dir = tempfile::tempdir().unwrap();
    let console = one(&host, dir.path(), None);
    let restart = Operation::Restart {
        service: Some("db".into()),
    };
    let first = {
        let (console, restart) = (console.clone(), restart.clone());
        tokio::spawn(async move { console.run_operation("fake", &restart).await })
    };
    while host.received_containing("restart db") == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let error = console
        .run_operation("fake", &Operation::Up)
        .await
        .unwrap_err();
    assert_eq!(error.code(), ErrorCode::Busy, "{error}");
    assert_eq!(error.code().exit_code(), 4);
    // Nor is the connection the change runs on closed under it: saving or removing the
    // target, or disconnecting it, waits for the change.
    let saved = console.targets().unwrap().remove(0).target;
    host.answer("shipshape-env-read", Reply::ok("== present\nA=1\n"), None);
    let unset = shipshape_core::console::EnvChange::Unset { key: "A".into() };
    let refused = [
        console.save_target(saved, Some("fake")).await.map(|_| ()),
        console.remove_target("fake").await,
        console.disconnect_target("fake").await,
        console.change_env("fake", unset).await.map(|_| ()),
    ];
    for refused in refused {
        assert_eq!(refused.unwrap_err().code(), ErrorCode::Busy);
    }
    first.await.unwrap().unwrap();
    assert_eq!(host.received_containing("restart db"), 1);
    // Reads go on meanwhile, and the next change runs once the first is done.
    console.run_operation("fake", &Operation::Up).await.unwrap();
}

#[tokio::test]
async fn the_services_read_at_start_answer_the_windows_first_ask_once() {
    let host = FakeHost::start().await;
    let dir = tempfile::tempdir().unwrap();
    let console = one(&host, dir.path(), None);
    answer_as_a_healthy_host(&host);

    console.prefetch_first_status();
    let started = Instant::now();
    while host.received_containing("ps --all") == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the first target's services are read at start"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let first = console.service_status("fake").await.unwrap();
    assert_eq!(first.services.len(), 4);
    assert_eq!(
        host.received_containing("ps --all"),
        1,
        "the first ask took the read made at start"
    );
    console.service_status("fake").await.unwrap();
    assert_eq!(
        host.received_containing("ps --all"),
        2,
        "later asks read afresh"
    );
}

#[tokio::test]
async fn a_target_redefined_elsewhere_is_reached_as_it_is_now_not_over_the_old_connection() {
    let old = FakeHost::start().await;
    let new = FakeHost::start_for(old.client_key.clone()).await;
    answer_as_a_healthy_host(&old);
    answer_as_a_healthy_host(&new);
    let dir = tempfile::tempdir().unwrap();
    let console = one(&old, dir.path(), None);
    console.service_states("fake").await.unwrap();
    assert_eq!(old.received_containing("ps --all"), 1);

    // The CLI removes and adds `fake` again, on another host (same client key), and
    // pins it: the open console's session still holds the old host's connection.
    let settings =
        shipshape_core::settings::JsonFileSettings::open(dir.path().join("settings.json")).unwrap();
    let mut redefined = shipshape_core::target::find(&settings, "fake").unwrap();
    redefined.port = new.port;
    shipshape_core::target::save(&settings, redefined).unwrap();
    let mut pins = shipshape_core::trust::KnownHosts::load(dir.path().join("known_hosts")).unwrap();
    pins.pin("127.0.0.1", new.port, &new.fingerprint, Some("ssh-ed25519"))
        .unwrap();

    let restart = Operation::Restart {
        service: Some("db".into()),
    };
    console.run_operation("fake", &restart).await.unwrap();
    assert_eq!(
        new.received_containing("restart db"),
        1,
        "{:?}",
        new.received()
    );
    assert_eq!(
        old.received_containing("restart db"),
        0,
        "{:?}",
        old.received()
    );
}

#[tokio::test]
async fn a_host_key_pinned_by_the_cli_is_noticed_like_a_settings_change() {
    let host = FakeHost::start().await;
    let dir = tempfile::tempdir().unwrap();
    let console = one(&host, dir.path(), None);
    let (told, heard) = std::sync::mpsc::channel();
    let cancel = shipshape_core::ssh::CancellationToken::new();
    let watching = {
        let (console, cancel) = (console.clone(), cancel.clone());
        tokio::spawn(async move {
            console
                .watch_settings(move || told.send(()).is_ok(), &cancel)
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(heard.try_recv().is_err(), "nothing changed yet");
    // `shipshape target trust` in a terminal beside the window.
    let mut pins = shipshape_core::trust::KnownHosts::load(dir.path().join("known_hosts")).unwrap();
    pins.pin("127.0.0.1", 2999, &host.fingerprint, Some("ssh-ed25519"))
        .unwrap();
    let noticed = tokio::task::spawn_blocking(move || heard.recv_timeout(Duration::from_secs(3)));
    assert!(noticed.await.unwrap().is_ok(), "the new pin went unnoticed");
    cancel.cancel();
    watching.await.unwrap();
}
