use super::*;

#[test]
fn compose_operations_render_the_policys_commands() {
    let compose = format!("{CD}docker compose --profile aws ");
    let cases = [
        (Operation::Ps, "ps --all --format json"),
        (Operation::logs("backend-aws"), "logs -n 200 backend-aws"),
        (Operation::logs("frontend-aws"), "logs -n 200 frontend-aws"),
        (
            Operation::Restart {
                service: service("backend-aws"),
            },
            "restart backend-aws",
        ),
        (Operation::Restart { service: None }, "restart"),
        (
            Operation::Stop {
                service: service("backend-aws"),
            },
            "stop backend-aws",
        ),
        (Operation::Stop { service: None }, "stop"),
        (Operation::Pull, "pull"),
        (Operation::Up, "up -d --remove-orphans"),
        (
            Operation::UpService {
                service: "backend-aws".into(),
            },
            "up -d backend-aws",
        ),
        (Operation::Down, "down"),
        (
            Operation::Migrate {
                script: "scripts/apply_migration_previous_price.py".into(),
            },
            "exec -T backend-aws python scripts/apply_migration_previous_price.py",
        ),
        (Operation::ComposeServices, "config --services"),
    ];
    for (operation, rest) in cases {
        assert_eq!(
            v2(operation.clone()),
            format!("{compose}{rest}"),
            "{operation:?}"
        );
    }
}

#[test]
fn logs_options_render_in_order() {
    let follow = Operation::Logs {
        service: "backend-aws".into(),
        lines: 50,
        follow: true,
        since: Some("10m".into()),
        timestamps: true,
    };
    assert_eq!(
        v2(follow.clone()),
        format!("{CD}docker compose --profile aws logs -n 50 --since 10m -t -f backend-aws")
    );
    assert_eq!(
        v1(follow),
        format!("{CD}docker-compose --profile aws logs --tail 50 --since 10m -t -f backend-aws")
    );
    let only_follow = Operation::Logs {
        service: "backend-aws".into(),
        lines: 200,
        follow: true,
        since: None,
        timestamps: false,
    };
    assert_eq!(
        v2(only_follow),
        format!("{CD}docker compose --profile aws logs -n 200 -f backend-aws")
    );
}

#[test]
fn v1_hosts_get_docker_compose_with_the_same_profile() {
    let compose = format!("{CD}docker-compose --profile aws ");
    for (operation, rest) in [
        (Operation::Ps, "ps --all"),
        (
            Operation::logs("backend-aws"),
            "logs --tail 200 backend-aws",
        ),
        (Operation::Pull, "pull"),
        (Operation::Up, "up -d --remove-orphans"),
        (
            Operation::UpService {
                service: "db".into(),
            },
            "up -d db",
        ),
        (
            Operation::Restart {
                service: service("backend-aws"),
            },
            "restart backend-aws",
        ),
        (Operation::Stop { service: None }, "stop"),
        (Operation::Down, "down"),
        (
            Operation::Migrate {
                script: "scripts/apply_migration_x.py".into(),
            },
            "exec -T backend-aws python scripts/apply_migration_x.py",
        ),
        (Operation::ComposeServices, "config --services"),
    ] {
        assert_eq!(
            v1(operation.clone()),
            format!("{compose}{rest}"),
            "{operation:?}"
        );
    }
}

#[test]
fn git_health_and_listing_render_the_policys_commands() {
    for compose in [Compose::V2, Compose::V1] {
        let render = |op: Operation| op.command(&Policy::builtin(), DIR, compose).render();
        assert_eq!(
            render(Operation::GitPull),
            format!("{CD}git pull origin main")
        );
        assert_eq!(
            render(Operation::GitFetch),
            format!("{CD}git fetch origin main")
        );
        assert_eq!(
            render(Operation::GitIncoming),
            format!("{CD}git log --no-color --format=%H%x1f%an%x1f%aI%x1f%s HEAD..origin/main")
        );
        assert_eq!(
            render(Operation::GitIncomingFiles),
            format!("{CD}git diff --no-color --name-status HEAD...origin/main")
        );
        assert_eq!(
            render(Operation::GitHead),
            format!("{CD}git rev-parse --short HEAD")
        );
        assert_eq!(
            render(Operation::Health),
            format!(
                "{CD}curl -fsS -m 10 --noproxy '*' -w '\\n%{{http_code}}\\n' http://localhost:8002/api/health"
            )
        );
        assert_eq!(
            render(Operation::ListMigrations),
            format!("{CD}ls -1A scripts")
        );
    }
}

#[test]
fn commands_follow_the_policy_and_the_targets_directory() {
    let policy = Policy::from_toml(
        "remote = \"upstream\"\nbranch = \"release/1\"\nmigration_service = \"db\"\n\
         health_url = \"http://127.0.0.1:9000/ready\"\nmigration_glob = \"m_*.py\"",
        "p",
    )
    .unwrap();
    let render = |op: Operation| op.command(&policy, "/srv/my app", Compose::V2).render();
    assert_eq!(
        render(Operation::GitPull),
        "cd '/srv/my app' && git pull upstream release/1"
    );
    assert!(render(Operation::GitIncoming).ends_with(" HEAD..upstream/release/1"));
    assert!(render(Operation::Health).ends_with(" http://127.0.0.1:9000/ready"));
    assert!(render(Operation::Migrate {
        script: "m_1.py".into()
    })
    .ends_with("--profile aws exec -T db python m_1.py"));
    assert_eq!(
        render(Operation::ListMigrations),
        "cd '/srv/my app' && ls -1A ."
    );
}

#[test]
fn ps_and_version_commands_render_exactly() {
    assert_eq!(
        Operation::Ps
            .command(&Policy::builtin(), DIR, Compose::V2)
            .render(),
        format!("{CD}docker compose --profile aws ps --all --format json")
    );
    assert_eq!(Compose::V1.program_words(), ["docker-compose"]);
    assert_eq!(
        Compose::V2.version_command().render(),
        "docker compose version --short"
    );
}

#[test]
fn destructive_operations_are_marked() {
    let destructive = [
        Operation::Down,
        Operation::Stop { service: None },
        Operation::Stop {
            service: service("db"),
        },
        Operation::Restart {
            service: service("db"),
        },
        Operation::Migrate {
            script: "scripts/apply_migration_x.py".into(),
        },
    ];
    assert!(destructive.iter().all(Operation::is_destructive));
    let safe = [
        Operation::Ps,
        Operation::logs("db"),
        Operation::Pull,
        Operation::GitFetch,
        Operation::GitIncoming,
        Operation::GitIncomingFiles,
        Operation::GitHead,
        Operation::Health,
        Operation::ListMigrations,
        Operation::ComposeServices,
    ];
    assert!(!safe.iter().any(Operation::is_destructive));
}

#[test]
fn titles_are_plain_words() {
    assert_eq!(
        Operation::Restart {
            service: service("backend-aws")
        }
        .title(),
        "Restart backend-aws"
    );
    assert_eq!(
        Operation::Restart { service: None }.title(),
        "Restart all services"
    );
    assert_eq!(Operation::logs("db").title(), "Show the logs of db");
    assert_eq!(Operation::Up.title(), "Start or update all services");
    assert_eq!(
        Operation::Migrate {
            script: "scripts/apply_migration_x.py".into()
        }
        .title(),
        "Run the migration scripts/apply_migration_x.py"
    );
}

#[test]
fn operations_cross_the_ipc_boundary_as_tagged_objects() {
    let json = serde_json::to_value(Operation::Restart {
        service: service("db"),
    })
    .unwrap();
    assert_eq!(json, serde_json::json!({"op": "restart", "service": "db"}));
    let back: Operation =
        serde_json::from_value(serde_json::json!({"op": "up_service", "service": "db"})).unwrap();
    assert_eq!(
        back,
        Operation::UpService {
            service: "db".into()
        }
    );
    assert!(serde_json::from_value::<Operation>(serde_json::json!({"op": "exec"})).is_err());
    assert_eq!(serde_json::to_value(Compose::V1).unwrap(), "v1");
}
