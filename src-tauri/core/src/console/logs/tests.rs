use std::sync::Arc;

use super::*;
use crate::error::ErrorCode;
use crate::settings::JsonFileSettings;
use crate::target::Target;

fn console_with_lab_target(dir: &std::path::Path) -> Console {
    let settings = JsonFileSettings::open(dir.join("settings.json")).unwrap();
    crate::target::save(&settings, Target::new("Local lab", "127.0.0.1", Some("k"))).unwrap();
    Console::in_dir(Arc::new(settings), dir)
}

#[tokio::test]
async fn hostile_or_unknown_services_are_refused_before_anything_connects() {
    let dir = tempfile::tempdir().unwrap();
    let console = console_with_lab_target(dir.path());
    let cancel = CancellationToken::new();
    for service in ["db; rm -rf /", "$(id)", "-f", "", "worker", "db\n"] {
        let error = console
            .follow_logs("Local lab", service, 200, false, |_| {}, &cancel)
            .await
            .expect_err("refused");
        assert_eq!(error.code(), ErrorCode::BadInput, "{service:?}: {error}");
    }
    // The target (and so its policy) is looked up locally first: still nothing connects.
    let error = console
        .start_logs("no such target", "`id`", 200, false)
        .await
        .err()
        .unwrap();
    assert_eq!(error.code(), ErrorCode::TargetNotFound);
    let error = console
        .start_logs("Local lab", "db", 0, false)
        .await
        .err()
        .unwrap();
    assert_eq!(error.code(), ErrorCode::BadInput);
}

#[test]
fn a_stop_is_no_error_but_a_failure_or_a_lost_connection_is() {
    let end = |cancelled, exit_code| LogFollowEnd {
        service: "db".into(),
        exit_code,
        cancelled,
        lines: 3,
        duration_ms: 10,
        stderr_tail: "no such service: db".into(),
    };
    let json = |event: LogEvent| serde_json::to_value(event).unwrap();
    let stopped = json(LogEvent::ended(&Ok(end(true, None))));
    assert_eq!(stopped["event"], "ended");
    assert_eq!(stopped["cancelled"], true);
    assert!(stopped["error"].is_null());
    assert!(json(LogEvent::ended(&Ok(end(false, Some(0)))))["error"].is_null());
    let failed = json(LogEvent::ended(&Ok(end(false, Some(1)))));
    assert_eq!(failed["error"]["code"], "remote_failed");
    assert_eq!(failed["error"]["detail"], "no such service: db");
    let lost = json(LogEvent::ended(&Err(Error::ConnectionLost {
        host: "h".into(),
    })));
    assert_eq!(lost["error"]["code"], "connection_lost");
    let lines = json(LogEvent::Lines {
        lines: vec!["tick 1".into()],
        skipped: 3,
    });
    assert_eq!(
        lines,
        serde_json::json!({"event": "lines", "lines": ["tick 1"], "skipped": 3})
    );
}

#[test]
fn a_saved_log_is_plain_text_in_a_new_private_file() {
    let dir = tempfile::tempdir().unwrap();
    let console = console_with_lab_target(dir.path());
    let downloads = dir.path().join("Downloads");
    let lines = [
        "\x1b[2Kmarket-updater-aws-1  | tick 1".to_string(),
        "tick 2".into(),
    ];
    let first = console
        .save_log(&downloads, "Local lab", "market-updater-aws", &lines)
        .unwrap();
    let second = console
        .save_log(&downloads, "Local lab", "market-updater-aws", &lines)
        .unwrap();
    assert_ne!(first, second, "an existing file is never replaced");
    assert_eq!(first.parent(), Some(downloads.as_path()));
    let name = first.file_name().unwrap().to_str().unwrap();
    assert!(
        name.starts_with("shipshape-Local-lab-market-updater-aws-"),
        "{name}"
    );
    assert_eq!(
        std::fs::read_to_string(&first).unwrap(),
        "market-updater-aws-1  | tick 1\ntick 2\n"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&first).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let error = console
        .save_log(&downloads, "Local lab", "../../etc", &lines)
        .err()
        .unwrap();
    assert_eq!(error.code(), ErrorCode::BadInput);
}
