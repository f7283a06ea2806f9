//! Each way of breaking the lab that a checklist item exists to catch makes that item
//! fail, with the cause in its verdict and in its evidence, and the CLI exit 1. Each
//! test puts the lab back and checks that a verification is clean again.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use shipshape_tests::verification::*;
use shipshape_tests::*;

#[test]
fn reload_in_the_backends_command() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let home = tempfile::tempdir().unwrap();
    let compose_file = lab.project_dir().join("docker-compose.yml");
    {
        let mut restore = Restore::default();
        restore.file(&compose_file);
        let text = std::fs::read_to_string(&compose_file)
            .unwrap()
            .replace("\"--workers\", \"2\"", "\"--workers\", \"2\", \"--reload\"");
        std::fs::write(&compose_file, text).unwrap();
        let (code, report) = verify(&lab, home.path());
        assert_fails(&report, code, "no-reload", "--reload", "--reload");
        // The tracked compose file changed on the host: the code is not origin's.
        assert_fails(
            &report,
            code,
            "code-deployed",
            "docker-compose.yml",
            "docker-compose.yml",
        );
        // And compose would recreate the backend.
        assert_fails(&report, code, "services-updated", "backend-aws", "Recreate");
    }
    assert_lab_clean(&lab, home.path());
}

/// Found only by the processes probe: the compose config and the container's own command
/// are clean, a process started in the running container is not.
#[test]
fn a_process_with_reload_inside_the_backend_container() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let home = tempfile::tempdir().unwrap();
    {
        let mut restore = Restore::default();
        let marker = "shipshape-test-worker";
        run(
            "docker",
            &[
                "exec",
                "-d",
                &lab.container("backend-aws"),
                "sh",
                "-c",
                "while :; do sleep 1; done",
                marker,
                "--reload",
            ],
        );
        restore.command("pkill", &["-f", marker]);
        std::thread::sleep(Duration::from_millis(300));
        let (code, report) = verify(&lab, home.path());
        assert_fails(
            &report,
            code,
            "no-reload",
            &format!("in {} runs \"--reload\"", lab.container("backend-aws")),
            &format!("{marker} --reload"),
        );
    }
    assert_lab_clean(&lab, home.path());
}

#[test]
fn a_systemd_unit_for_a_compose_service() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let home = tempfile::tempdir().unwrap();
    let unit = Path::new("/etc/systemd/system/backend-aws.service");
    {
        let mut restore = Restore::default();
        std::fs::create_dir_all(unit.parent().unwrap()).unwrap();
        restore.file(unit);
        let project = lab.field("project_dir");
        let text =
            format!("[Service]\nWorkingDirectory={project}\nExecStart=/usr/bin/gunicorn app\n");
        std::fs::write(unit, text).unwrap();
        let (code, report) = verify(&lab, home.path());
        assert_fails(
            &report,
            code,
            "no-systemd-mix",
            "backend-aws.service",
            "backend-aws.service",
        );
    }
    assert_lab_clean(&lab, home.path());
}

#[test]
fn a_container_of_the_project_from_another_profile() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let home = tempfile::tempdir().unwrap();
    let override_file = lab.project_dir().join("docker-compose.override.yml");
    {
        let mut restore = Restore::default();
        restore.file(&override_file);
        let image = format!("{}/atp/market-updater:lab", lab.field("registry"));
        let text = format!("services:\n  worker-dev:\n    image: {image}\n    profiles: [dev]\n");
        std::fs::write(&override_file, text).unwrap();
        restore.as_lab_user(
            &lab,
            &[
                "docker",
                "compose",
                "--profile",
                "dev",
                "rm",
                "-sf",
                "worker-dev",
            ],
        );
        as_lab_user(
            &lab,
            &[
                "docker",
                "compose",
                "--profile",
                "dev",
                "up",
                "-d",
                "worker-dev",
            ],
        );
        let (code, report) = verify(&lab, home.path());
        assert_fails(
            &report,
            code,
            "aws-profile-only",
            "worker-dev",
            "worker-dev",
        );
    }
    assert_lab_clean(&lab, home.path());
}

#[test]
fn a_production_port_served_outside_compose_while_its_service_is_stopped() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let home = tempfile::tempdir().unwrap();
    {
        let mut restore = Restore::default();
        let frontend = lab.container("frontend-aws");
        run("docker", &["stop", "-t", "1", &frontend]);
        restore.command("docker", &["start", &frontend]);
        let mut server = Command::new("python3")
            .args(["-m", "http.server", "3000", "--bind", "127.0.0.1"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Ended first (before the frontend starts again on its port), whatever fails.
        restore.then(move || {
            let _ = server.kill();
            let _ = server.wait();
        });
        std::thread::sleep(Duration::from_millis(800));
        let (code, report) = verify(&lab, home.path());
        assert_fails(
            &report,
            code,
            "compose-only",
            "127.0.0.1:3000",
            "127.0.0.1:3000",
        );
        assert_fails(
            &report,
            code,
            "services-running",
            "frontend-aws is exited",
            "\"Status\":\"exited\"",
        );
    }
    assert_lab_clean(&lab, home.path());
}

#[test]
fn a_key_missing_from_env_aws_and_the_file_readable_by_others() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let home = tempfile::tempdir().unwrap();
    let env_file = lab.project_dir().join(".env.aws");
    {
        let mut restore = Restore::default();
        restore.file(&env_file);
        let without: String = std::fs::read_to_string(&env_file)
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with("EXCHANGE_API_SECRET="))
            .map(|l| format!("{l}\n"))
            .collect();
        std::fs::write(&env_file, without).unwrap();
        let (code, report) = verify(&lab, home.path());
        assert_fails(
            &report,
            code,
            "env-configured",
            "EXCHANGE_API_SECRET",
            "EXCHANGE_API_SECRET=",
        );
    }
    {
        let mut restore = Restore::default();
        restore.file(&env_file);
        run("chmod", &["644", env_file.to_str().unwrap()]);
        let (code, report) = verify(&lab, home.path());
        assert_fails(&report, code, "env-configured", "mode 644", "644 ubuntu");
    }
    assert_lab_clean(&lab, home.path());
}

#[test]
fn a_local_commit_not_on_origin() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let home = tempfile::tempdir().unwrap();
    {
        let mut restore = Restore::default();
        let head = as_lab_user(&lab, &["git", "rev-parse", "HEAD"])
            .trim()
            .to_string();
        restore.as_lab_user(&lab, &["git", "reset", "-q", "--hard", &head]);
        let identity = [
            "-c",
            "user.name=Hotfix",
            "-c",
            "user.email=hotfix@example.invalid",
        ];
        let mut commit = vec!["git"];
        commit.extend(identity);
        commit.extend(["commit", "-q", "--allow-empty", "-m", "hotfix on the host"]);
        as_lab_user(&lab, &commit);
        let local = as_lab_user(&lab, &["git", "rev-parse", "HEAD"])
            .trim()
            .to_string();
        let (code, report) = verify(&lab, home.path());
        assert_fails(&report, code, "code-deployed", &local[..12], &local);
    }
    assert_lab_clean(&lab, home.path());
}

#[test]
fn an_error_in_the_log_health_gone_and_an_image_pulled_but_not_in_use() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let home = tempfile::tempdir().unwrap();
    {
        let mut restore = Restore::default();
        let backend = lab.container("backend-aws");
        // The log line stays in the container's log and the endpoint goes with the
        // container: the backend is made anew afterwards.
        restore.as_lab_user(
            &lab,
            &[
                "docker",
                "compose",
                "--profile",
                "aws",
                "up",
                "-d",
                "--wait",
                "backend-aws",
            ],
        );
        restore.command("docker", &["rm", "-f", &backend]);
        let error_line = "echo 'ERROR lab: database connection refused' > /proc/1/fd/1";
        run("docker", &["exec", &backend, "sh", "-c", error_line]);
        run("docker", &["exec", &backend, "rm", "-f", "/www/api/health"]);
        let tag = format!("{}/atp/market-updater:lab", lab.field("registry"));
        let original = run("docker", &["image", "inspect", "-f", "{{.Id}}", &tag])
            .trim()
            .to_string();
        let other = format!("{}/atp/frontend:lab", lab.field("registry"));
        run("docker", &["tag", &other, &tag]);
        restore.command("docker", &["tag", &original, &tag]);

        let (code, report) = verify(&lab, home.path());
        assert_fails(&report, code, "health", "HTTP 404", "404");
        let said = "ERROR lab: database connection refused";
        assert_fails(&report, code, "logs-clean", said, said);
        assert_fails(
            &report,
            code,
            "images-pulled",
            "market-updater-aws runs",
            &original[..19],
        );
    }
    assert_lab_clean(&lab, home.path());
}
