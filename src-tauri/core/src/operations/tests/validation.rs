use super::*;

#[test]
fn services_must_be_in_the_policy_and_on_the_host() {
    let policy = Policy::builtin();
    let on_host = vec!["backend-aws".to_string(), "db".to_string()];
    validate_service("backend-aws", &policy, &on_host).unwrap();
    let message = bad_input(validate_service("worker", &policy, &on_host));
    assert!(
        message.contains("not one of the policy's services"),
        "{message}"
    );
    let message = bad_input(validate_service("frontend-aws", &policy, &on_host));
    assert!(
        message.contains("does not define it (it has backend-aws, db)"),
        "{message}"
    );
    for hostile in [
        "",
        " ",
        "backend-aws;id",
        "$(id)",
        "`id`",
        "a && b",
        "-f",
        "--all",
        "backend aws",
        "backend-aws\n",
        "'db'",
        "\"db\"",
        "db|sh",
        "../db",
        "db\0",
    ] {
        let message = bad_input(validate_service(hostile, &policy, &on_host));
        assert!(
            message.contains("is not a service name"),
            "{hostile:?}: {message}"
        );
    }
}

#[test]
fn migrations_must_match_the_glob_and_be_on_the_host() {
    let policy = Policy::builtin();
    let present = vec!["scripts/apply_migration_previous_price.py".to_string()];
    validate_migration(
        "scripts/apply_migration_previous_price.py",
        &policy,
        &present,
    )
    .unwrap();
    let message = bad_input(validate_migration(
        "scripts/apply_migration_other.py",
        &policy,
        &present,
    ));
    assert!(message.contains("is not on the host"), "{message}");
    let message = bad_input(validate_migration("scripts/drop_all.py", &policy, &present));
    assert!(
        message.contains("the policy runs only scripts/apply_migration_*.py"),
        "{message}"
    );
    for hostile in [
        "",
        "/etc/passwd",
        "../scripts/apply_migration_x.py",
        "scripts/apply_migration_x.py; id",
        "scripts/apply_migration_$(id).py",
        "scripts/apply_migration_*.py",
        "-c",
        "scripts/apply_migration_x.py\n",
        "scripts//apply_migration_x.py",
    ] {
        let message = bad_input(validate_migration(hostile, &policy, &present));
        assert!(
            message.contains("not a migration script path"),
            "{hostile:?}: {message}"
        );
    }
}

#[test]
fn log_lines_are_bounded() {
    validate_lines(1).unwrap();
    validate_lines(MAX_LOG_LINES).unwrap();
    bad_input(validate_lines(0));
    bad_input(validate_lines(MAX_LOG_LINES + 1));
}

#[test]
fn since_takes_only_docker_times() {
    for good in [
        "10m",
        "2h",
        "1h30m",
        "2.5h",
        "90s",
        "500ms",
        "1h2m3s4ms5us6ns",
        "1700000000",
        "1700000000.123",
        "2024-06-01",
        "2024-06-01T12:00",
        "2024-06-01T12:00:00Z",
        "2024-06-01T12:00:00.123456789+02:00",
        "2024-06-01T23:59:60-05:30",
    ] {
        validate_since(good).unwrap_or_else(|e| panic!("{good}: {e}"));
    }
    for bad in [
        "",
        "m",
        "10x",
        "-10m",
        "10m;id",
        "$(date)",
        "10 m",
        "1.h",
        "2024-13-01",
        "2024-06-00",
        "2024-06-01T24:00:00Z",
        "2024-06-01T12:00:00Y",
        "2024-06-01 12:00",
        "2024-06-01T12:00:00+2",
        "yesterday",
        "10m\n",
        "12345678901",
        "1700000000.",
    ] {
        let message = bad_input(validate_since(bad));
        assert!(
            message.contains("not a time docker understands"),
            "{bad:?}: {message}"
        );
    }
}

#[test]
fn operations_are_validated_against_policy_and_host() {
    let policy = Policy::builtin();
    let host = host();
    Operation::logs("backend-aws")
        .validate(&policy, &host)
        .unwrap();
    Operation::Down.validate(&policy, &host).unwrap();
    bad_input(Operation::logs("x;id").validate(&policy, &host));
    let too_many = Operation::Logs {
        service: "db".into(),
        lines: 0,
        follow: false,
        since: None,
        timestamps: false,
    };
    bad_input(too_many.validate(&policy, &host));
    let since = Operation::Logs {
        service: "db".into(),
        lines: 10,
        follow: false,
        since: Some("10m".into()),
        timestamps: false,
    };
    since.validate(&policy, &host).unwrap();
    let v1_host = HostFacts {
        compose: Compose::V1,
        ..host.clone()
    };
    assert!(bad_input(since.validate(&policy, &v1_host)).contains("v1"));
    bad_input(
        Operation::Stop {
            service: service("nope"),
        }
        .validate(&policy, &host),
    );
    bad_input(
        Operation::UpService {
            service: "-d".into(),
        }
        .validate(&policy, &host),
    );
    let migrate = Operation::Migrate {
        script: "scripts/apply_migration_previous_price.py".into(),
    };
    migrate.validate(&policy, &host).unwrap();
    let no_backend = HostFacts {
        services: vec!["db".into()],
        ..host.clone()
    };
    bad_input(migrate.validate(&policy, &no_backend));
}

#[test]
fn host_output_is_read_strictly() {
    let policy = Policy::builtin();
    assert_eq!(
        parse_service_list("db\nbackend-aws\n\nbad name\n-x\ndb\n"),
        ["db", "backend-aws"]
    );
    assert_eq!(
        parse_migration_list(
            "apply_migration_b.py\n__init__.py\napply_migration_a.py\napply_migration_$(id).py\n\
             apply_migration_c.pyc\n",
            &policy
        ),
        [
            "scripts/apply_migration_a.py",
            "scripts/apply_migration_b.py"
        ]
    );
    let ok = parse_health("{\"status\":\"ok\"}\n200\n");
    assert_eq!(
        (ok.status, ok.body.as_str()),
        (Some(200), "{\"status\":\"ok\"}")
    );
    assert!(ok.is_healthy());
    let failed = parse_health("\n503\n");
    assert_eq!((failed.status, failed.body.as_str()), (Some(503), ""));
    assert!(!failed.is_healthy());
    assert_eq!(parse_health("\n000\n").status, None);
    assert_eq!(parse_health("garbage").status, None);
    let commits = parse_incoming_commits(
        "abc\u{1f}Ann\u{1f}2024-06-01T12:00:00+00:00\u{1f}Fix: a\u{1f}b\nbroken line\n",
    );
    assert_eq!(commits.len(), 1);
    assert_eq!(commits[0].subject, "Fix: a\u{1f}b");
    assert_eq!(commits[0].author, "Ann");
    let files = parse_changed_files("M\tbackend/app.py\nR097\told.py\tnew.py\nD\tgone.txt\n");
    assert_eq!(files[1].status, "R");
    assert_eq!(files[1].path, "new.py");
    assert_eq!(files[1].from.as_deref(), Some("old.py"));
    assert_eq!(files.len(), 3);
    assert_eq!(parse_short_hash("1a2b3c4\n").as_deref(), Some("1a2b3c4"));
    assert_eq!(parse_short_hash("fatal: not a git repository\n"), None);
    assert_eq!(parse_short_hash(""), None);
}

#[test]
fn a_missing_compose_is_told_from_a_missing_compose_file() {
    assert!(compose_missing("", 127));
    assert!(compose_missing(
        "docker: 'compose' is not a docker command.\nSee 'docker --help'",
        1
    ));
    assert!(compose_missing("sh: 1: docker-compose: not found", 1));
    assert!(!compose_missing(
        "no configuration file provided: not found",
        14
    ));
    assert!(!compose_missing("Error: No such image: not found", 1));
}
