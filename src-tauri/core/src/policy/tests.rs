use super::*;
use crate::ErrorCode;

fn refused(text: &str) -> String {
    let error = Policy::from_toml(text, "policy.toml").unwrap_err();
    assert_eq!(error.code(), ErrorCode::BadInput, "{error}");
    error.to_string()
}

#[test]
fn builtin_is_the_written_policy() {
    let policy = Policy::builtin();
    assert_eq!(policy.profile(), "aws");
    assert_eq!(
        policy.project_dir,
        "/home/ubuntu/automated-trading-platform"
    );
    assert_eq!(
        (policy.remote.as_str(), policy.branch.as_str()),
        ("origin", "main")
    );
    assert_eq!(policy.services, SERVICES.map(String::from));
    assert_eq!(policy.health_url, "http://localhost:8002/api/health");
    assert_eq!(policy.env_file, ".env.aws");
    assert_eq!(policy.migration_glob, "scripts/apply_migration_*.py");
    assert_eq!(policy.migration_service, "backend-aws");
    assert_eq!(policy.production_ports, [8002, 3000]);
    assert!(policy
        .forbidden_patterns
        .contains(&"uvicorn --reload".to_string()));
    assert!(policy.forbidden_patterns.contains(&"--reload".to_string()));
    policy.validate().unwrap();
    assert_eq!(Policy::default(), policy);
}

#[test]
fn an_empty_file_is_the_builtin_policy() {
    assert_eq!(Policy::from_toml("", "p.toml").unwrap(), Policy::builtin());
    assert_eq!(
        Policy::from_toml("# nothing\n", "p.toml").unwrap(),
        Policy::builtin()
    );
}

#[test]
fn a_file_overrides_only_what_it_sets() {
    let text = r#"
project_dir = "/srv/atp"
branch = "release/2024-06"
services = ["backend-aws", "frontend-aws", "db"]
production_ports = [8002, 3000, 0x1F90]
forbidden_patterns = ["--reload", "flask run"]
health_url = "https://127.0.0.1:9000/health?deep=1"
"#;
    let policy = Policy::from_toml(text, "policy.toml").unwrap();
    assert_eq!(policy.project_dir, "/srv/atp");
    assert_eq!(policy.branch, "release/2024-06");
    assert_eq!(policy.remote, "origin");
    assert_eq!(policy.services, ["backend-aws", "frontend-aws", "db"]);
    assert_eq!(policy.production_ports, [8002, 3000, 8080]);
    assert_eq!(policy.forbidden_patterns, ["--reload", "flask run"]);
    assert_eq!(policy.health_url, "https://127.0.0.1:9000/health?deep=1");
    assert_eq!(policy.env_file, ".env.aws");
    assert_eq!(policy.profile(), "aws");
    policy.validate().unwrap();
}

#[test]
fn the_profile_can_never_be_changed() {
    assert_eq!(
        refused("# ours\n\nprofile = \"dev\"\n"),
        "policy.toml line 3, field `profile`: the profile can only be \"aws\" \
         (DEPLOYMENT_POLICY: never use profiles other than aws)."
    );
    for other in ["AWS", "aws ", "", "local", "aws,dev"] {
        let message = refused(&format!("profile = {other:?}"));
        assert!(message.contains("field `profile`"), "{message}");
    }
    assert!(refused("profile = [\"aws\"]").contains("expected a string, found a list"));
    // Stating the only allowed value is fine.
    assert_eq!(
        Policy::from_toml("profile = \"aws\"", "p")
            .unwrap()
            .profile(),
        PROFILE
    );
    // Nor can code that edits a policy smuggle another one past validation.
    let mut policy = Policy::builtin();
    policy.profile = "dev".into();
    assert!(policy
        .validate()
        .unwrap_err()
        .to_string()
        .contains("`profile`"));
}

#[test]
fn unknown_fields_are_refused_with_their_line() {
    let message = refused("branch = \"main\"\nprofiles = [\"aws\"]\n");
    assert!(
        message.starts_with("policy.toml line 2: unknown field `profiles`."),
        "{message}"
    );
    assert!(message.contains("migration_glob"), "{message}");
    let message = refused("remote = \"origin\"\n\n[policy]\nbranch = \"main\"\n");
    assert!(
        message.starts_with("policy.toml line 3: unknown field `policy`"),
        "{message}"
    );
}

#[test]
fn wrong_types_are_refused_with_their_line() {
    assert_eq!(
        refused("remote = \"origin\"\nbranch = 7\n"),
        "policy.toml line 2, field `branch`: expected a string, found an integer."
    );
    assert_eq!(
        refused("services = \"db\""),
        "policy.toml line 1, field `services`: expected a list of strings, found a string."
    );
    assert_eq!(
        refused("services = [\n  \"db\",\n  true,\n]"),
        "policy.toml line 3, field `services`: expected a string in the list, found true or false."
    );
    assert!(refused("production_ports = [8002, \"3000\"]")
        .contains("expected a port number in the list, found a string"));
    assert!(refused("production_ports = 8002").contains("expected a list of port numbers"));
    assert!(refused("health_url = 1.5").contains("found a decimal number"));
    assert!(refused("env_file = 2024-01-01").contains("found a date"));
    assert!(refused("[project_dir]\n").contains("found a table"));
}

#[test]
fn broken_toml_is_refused_with_its_line() {
    let message = refused("remote = \"origin\"\nbranch = \n");
    assert!(
        message.starts_with("policy.toml line 2: this is not valid TOML"),
        "{message}"
    );
    let message = refused("branch = \"a\"\nbranch = \"b\"\n");
    assert!(message.starts_with("policy.toml line 2:"), "{message}");
}

#[test]
fn service_names_must_be_compose_names() {
    for bad in [
        "", "-db", "_db", "db;rm", "db name", "$(id)", "db\n", ".db", "d/b", "dé",
    ] {
        let message = refused(&format!("services = [\"backend-aws\", {bad:?}]"));
        assert!(
            message.contains("is not a compose service name"),
            "{bad:?}: {message}"
        );
    }
    for good in ["db", "frontend-aws", "a", "9x", "svc_1.v2"] {
        let text =
            format!("services = [\"backend-aws\", {good:?}]\nlogged_services = [\"backend-aws\"]");
        Policy::from_toml(&text, "p").unwrap();
    }
    assert!(refused("services = []").contains("at least one service"));
    assert!(refused("services = [\"backend-aws\", \"db\", \"db\"]").contains("listed twice"));
    assert!(refused("migration_service = \"back end\"").contains("field `migration_service`"));
}

#[test]
fn the_migration_service_must_be_a_policy_service() {
    assert_eq!(
        refused("migration_service = \"worker\""),
        "policy.toml line 1, field `migration_service`: the migration service worker must be \
         one of the services (backend-aws, frontend-aws, db, market-updater-aws)."
    );
    let message = refused("\nservices = [\"db\"]\n");
    assert!(
        message.starts_with("policy.toml line 2, field `services`"),
        "{message}"
    );
    let text =
        "services = [\"api\", \"db\"]\nmigration_service = \"api\"\nlogged_services = [\"api\"]\n";
    assert_eq!(
        Policy::from_toml(text, "p").unwrap().migration_service,
        "api"
    );
}

#[test]
fn the_logged_services_are_policy_services() {
    let policy = Policy::builtin();
    assert_eq!(policy.logged_services, ["backend-aws", "frontend-aws"]);
    // A policy from before the field hashes as it did then: the built-in list is not
    // written into what the digest covers.
    assert!(!serde_json::to_string(&policy)
        .unwrap()
        .contains("logged_services"));
    // Services narrowed, the logs left to the defaults: the ones still listed.
    let text = "services = [\"backend-aws\", \"db\"]\n";
    assert_eq!(
        Policy::from_toml(text, "p").unwrap().logged_services,
        ["backend-aws"]
    );
    // Services renamed, the logs left to the defaults: said at `services`, with what to add.
    let text = "migration_service = \"api\"\nservices = [\"api\", \"web\"]\n";
    assert_eq!(
        refused(text),
        "policy.toml line 2, field `services`: name at least one of the services (api, web) \
         whose logs the checklist reads, in logged_services (by default backend-aws and \
         frontend-aws, those listed)."
    );
    let text = "logged_services = [\"worker\"]\n";
    assert!(refused(text)
        .starts_with("policy.toml line 1, field `logged_services`: the logged service worker"));
    assert!(refused("logged_services = []").contains("name at least one of the services"));
    assert!(refused("logged_services = [\"db\", \"db\"]").contains("listed twice"));
    assert!(refused("logged_services = [\"d b\"]").contains("is not a compose service name"));
    let text = "services = [\"api\", \"web\"]\nmigration_service = \"api\"\nlogged_services = [\"web\", \"api\"]\n";
    let named = Policy::from_toml(text, "p").unwrap();
    assert_eq!(named.logged_services, ["web", "api"]);
    assert!(serde_json::to_string(&named)
        .unwrap()
        .contains("\"logged_services\":[\"web\",\"api\"]"));
    let mut policy = Policy::builtin();
    policy.logged_services = vec!["worker".into()];
    assert!(policy
        .validate()
        .unwrap_err()
        .to_string()
        .contains("`logged_services`"));
}

#[test]
fn project_dir_must_be_absolute() {
    for bad in [
        "home/ubuntu/app",
        "",
        "./app",
        "~/app",
        "/srv/../etc",
        "/srv/a\nb",
    ] {
        let message = refused(&format!("project_dir = {bad:?}"));
        assert!(
            message.contains("field `project_dir`"),
            "{bad:?}: {message}"
        );
    }
    Policy::from_toml("project_dir = \"/srv/my app\"", "p").unwrap();
}

#[test]
fn remote_and_branch_must_be_plain_git_names() {
    let hostile = [
        "",
        "-u",
        "--upload-pack=x",
        "a b",
        "a..b",
        "..",
        "main\n",
        "a;b",
        "$(id)",
        "`id`",
        "a~1",
        "a^",
        "a:b",
        "HEAD@{1}",
        "x.lock",
        "/main",
        "main/",
        "a//b",
        "'q'",
        ".hidden",
    ];
    for field in ["remote", "branch"] {
        for bad in hostile {
            let message = refused(&format!("{field} = {bad:?}"));
            assert!(
                message.contains(&format!("field `{field}`")),
                "{bad:?}: {message}"
            );
            assert!(
                message.contains("not a plain git name"),
                "{bad:?}: {message}"
            );
        }
    }
    for good in ["main", "release/1.2", "feature_x-y", "upstream"] {
        Policy::from_toml(&format!("branch = {good:?}\nremote = {good:?}"), "p").unwrap();
    }
}

#[test]
fn health_url_must_stay_on_the_host() {
    for bad in [
        "http://example.com/api/health",
        "http://localhost.evil.com/",
        "http://user@localhost/",
        "ftp://localhost/",
        "localhost:8002/api/health",
        "http://localhost:0/",
        "http://localhost:70000/",
        "http://localhost:/x",
        "http://localhost/a b",
        "http://localhost/$(id)",
        "http://10.0.0.1:8002/",
        "",
    ] {
        let message = refused(&format!("health_url = {bad:?}"));
        assert!(message.contains("field `health_url`"), "{bad:?}: {message}");
    }
    for good in [
        "http://localhost:8002/api/health",
        "http://localhost",
        "https://127.0.0.1:443/ready?full=1",
    ] {
        Policy::from_toml(&format!("health_url = {good:?}"), "p").unwrap();
    }
}

#[test]
fn env_file_and_migration_glob_stay_inside_the_project() {
    for bad in ["", "/etc/passwd", "../.env", "-x", "a b", ".env;id", "dir/"] {
        assert!(
            refused(&format!("env_file = {bad:?}")).contains("field `env_file`"),
            "{bad:?}"
        );
    }
    Policy::from_toml("env_file = \"config/.env.prod\"", "p").unwrap();
    for bad in [
        "scripts/apply_migration.py",
        "scripts/*/x.py",
        "scripts/a*b*.py",
        "/abs/m_*.py",
        "../m_*.py",
        "scripts/m_?.py",
        "scripts/m_[0-9]*.py",
        "scripts/$(id)*.py",
    ] {
        let message = refused(&format!("migration_glob = {bad:?}"));
        assert!(
            message.contains("field `migration_glob`"),
            "{bad:?}: {message}"
        );
    }
    let policy = Policy::from_toml("migration_glob = \"migrate_*.sql\"", "p").unwrap();
    assert_eq!(policy.migration_dir(), ".");
}

#[test]
fn ports_are_one_to_65535() {
    for bad in ["0", "-1", "65536", "70000", "99999999999999999999"] {
        let text = format!("production_ports = [8002, {bad}]");
        let message = Policy::from_toml(&text, "policy.toml")
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("field `production_ports`"),
            "{bad}: {message}"
        );
    }
    assert!(refused("production_ports = [\n8002,\n\n70000]").starts_with("policy.toml line 4"));
    assert!(refused("production_ports = [8002, 8002]").contains("listed twice"));
    assert!(refused("production_ports = []").contains("at least one production port"));
    assert_eq!(
        Policy::from_toml("production_ports = [1, 65535]", "p")
            .unwrap()
            .production_ports,
        [1, 65535]
    );
}

#[test]
fn the_reload_ban_cannot_be_dropped() {
    let message = refused("forbidden_patterns = [\"uvicorn --reload\"]");
    assert!(message.contains("must keep \"--reload\""), "{message}");
    assert!(refused("forbidden_patterns = [\"--reload\", \"\"]").contains("non-empty"));
    assert!(refused("forbidden_patterns = [\"--reload\", \"a\\nb\"]").contains("one line"));
}

#[test]
fn validate_reports_fields_changed_in_code() {
    let mut policy = Policy::builtin();
    policy.services.push("bad name".into());
    assert!(policy
        .validate()
        .unwrap_err()
        .to_string()
        .contains("`services`"));
    let mut policy = Policy::builtin();
    policy.migration_service = "worker".into();
    assert!(policy
        .validate()
        .unwrap_err()
        .to_string()
        .contains("`migration_service`"));
    let mut policy = Policy::builtin();
    policy.production_ports.push(0);
    assert!(policy
        .validate()
        .unwrap_err()
        .to_string()
        .contains("`production_ports`"));
}

#[test]
fn the_migration_glob_matches_like_sh() {
    let policy = Policy::builtin();
    assert_eq!(policy.migration_dir(), "scripts");
    assert!(policy.matches_migration("scripts/apply_migration_previous_price.py"));
    assert!(policy.matches_migration("scripts/apply_migration_.py"));
    assert!(!policy.matches_migration("scripts/apply_migration_x.pyc"));
    assert!(!policy.matches_migration("scripts/sub/apply_migration_x.py"));
    assert!(!policy.matches_migration("scripts/apply_migration_a/b.py"));
    assert!(!policy.matches_migration("apply_migration_x.py"));
    assert!(!policy.matches_migration("other/apply_migration_x.py"));
    assert_eq!(
        policy.migration_path("apply_migration_x.py"),
        "scripts/apply_migration_x.py"
    );
    assert_eq!(policy.migration_path("scripts/a.py"), "scripts/a.py");
    assert!(wildcard_match("a*b*c", "axxbyyc"));
    assert!(!wildcard_match("a*b*c", "axxbyy"));
    assert!(wildcard_match("abc", "abc"));
    assert!(!wildcard_match("abc", "abcd"));
}

#[test]
fn the_policy_serializes_for_the_ui() {
    let json = serde_json::to_value(Policy::builtin()).unwrap();
    assert_eq!(json["profile"], "aws");
    assert_eq!(json["production_ports"], serde_json::json!([8002, 3000]));
}
