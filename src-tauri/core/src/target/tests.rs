use super::*;
use crate::settings::JsonFileSettings;

#[test]
fn saved_targets_are_listed_and_replaced_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let settings = JsonFileSettings::open(dir.path().join("s.json")).unwrap();
    save(
        &settings,
        Target::new("prod", "ec2.example.invalid", Some("ops")),
    )
    .unwrap();
    let mut changed = Target::new("prod", "10.0.0.9", Some("ops"));
    changed.port = 2200;
    save(&settings, changed.clone()).unwrap();
    assert_eq!(list(&settings).unwrap(), vec![changed]);
    remove(&settings, "prod").unwrap();
    assert!(list(&settings).unwrap().is_empty());
    assert_eq!(
        remove(&settings, "prod").unwrap_err().code(),
        crate::ErrorCode::TargetNotFound
    );
    assert_eq!(
        find(&settings, "nope").unwrap_err().code(),
        crate::ErrorCode::TargetNotFound
    );
}

#[test]
fn jump_hosts_are_read_as_ssh_reads_them_and_checked() {
    let hops = parse_jumps("ann@bastion.example.invalid:2200,10.0.0.5", "ubuntu").unwrap();
    assert_eq!(hops[0].address(), "ann@bastion.example.invalid:2200");
    assert_eq!(hops[1].address(), "ubuntu@10.0.0.5:22");
    let mut target = Target::new("prod", "10.0.9.9", Some("ops"));
    target.jump = hops;
    target.validate().unwrap();
    assert_eq!(
        target.address(),
        "ubuntu@10.0.9.9:22 via ann@bastion.example.invalid:2200, ubuntu@10.0.0.5:22"
    );
    assert!(parse_jumps("bastion:0", "ubuntu").is_err());
    // What the window could send: a NUL, a user no login has, too many hops.
    assert!(parse_jumps("a\0b", "ubuntu").is_err());
    assert!(parse_jumps("bastion", "a\0b").is_err());
    assert!(parse_jumps(&["h"; MAX_JUMPS + 1].join(","), "ubuntu").is_err());
    target.jump[1].user = "u;rm".into();
    let refused = target.validate().unwrap_err().to_string();
    assert!(refused.starts_with("Jump host 2: "), "{refused}");
    target.jump = vec![target.jump[0].clone(); MAX_JUMPS + 1];
    assert!(target.validate().is_err());
}

#[test]
fn a_target_saved_before_environments_reads_as_production() {
    let old =
        r#"{"name":"p","host":"h","port":22,"user":"ubuntu","project_dir":"/srv","key":null}"#;
    let target: Target = serde_json::from_str(old).unwrap();
    assert_eq!(target.environment, Environment::Production);
    assert!(target.jump.is_empty());
    assert_eq!(
        "Staging".parse::<Environment>().unwrap(),
        Environment::Staging
    );
    assert!("prod".parse::<Environment>().is_err());
}

#[test]
fn fields_of_a_newer_version_survive_a_change_by_this_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("settings.json");
    let newer = r#"{"targets":[{"name":"prod","host":"h","port":22,"user":"ubuntu","project_dir":"/srv","key":null,"tags":["eu"],"notes":"keep me"}]}"#;
    std::fs::write(&path, newer).unwrap();
    let settings = JsonFileSettings::open(&path).unwrap();
    save(&settings, Target::new("staging", "10.0.0.2", None)).unwrap();
    let mut prod = find(&settings, "prod").unwrap();
    prod.port = 2222;
    save(&settings, prod).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let stored: serde_json::Value = serde_json::from_str(&text).unwrap();
    let prod = &stored["targets"][0];
    assert_eq!(
        (prod["port"].as_u64(), prod["notes"].as_str()),
        (Some(2222), Some("keep me"))
    );
    assert_eq!(prod["tags"][0], "eu");
    assert_eq!(stored["targets"][1]["name"], "staging");
    // Renamed, it keeps them too, in its place.
    let mut renamed = find(&settings, "prod").unwrap();
    renamed.name = "production".into();
    rename(&settings, "prod", renamed).unwrap();
    let stored: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(stored["targets"][0]["name"], "production");
    assert_eq!(stored["targets"][0]["notes"], "keep me");
    // A name taken meanwhile is refused under the lock, not doubled.
    let mut onto_staging = find(&settings, "production").unwrap();
    onto_staging.name = "staging".into();
    assert!(rename(&settings, "production", onto_staging).is_err());
    assert_eq!(list(&settings).unwrap().len(), 2);
}

#[test]
fn a_host_with_its_port_or_user_typed_in_is_refused_and_says_where_they_go() {
    for (host, says) in [
        ("127.0.0.1:2222", "--port"),
        ("ubuntu@127.0.0.1", "--user"),
        ("ec2.example.invalid:22", "--port"),
        (&"h".repeat(300), "too long"),
        ("a/b", "letters, digits"),
    ] {
        let said = Target::new("t", host, Some("k"))
            .validate()
            .unwrap_err()
            .to_string();
        assert!(said.contains(says), "{host}: {said}");
    }
    let said = Target::new("t", "[::1]", Some("k"))
        .validate()
        .unwrap_err()
        .to_string();
    assert!(said.contains("without brackets"), "{said}");
    for host in [
        "::1",
        "fe80::1",
        "fe80::1%eth0",
        "xn--bcher-kva.example",
        "10.0.0.5",
        "ec2-203-0-113-10.compute.amazonaws.com",
        "my_host",
    ] {
        Target::new("t", host, Some("k")).validate().unwrap();
    }
}

#[test]
fn hostile_fields_are_refused() {
    for (host, user, dir) in [
        ("-oProxyCommand=x", "ubuntu", "/srv"),
        ("a b", "ubuntu", "/srv"),
        ("h", "u;rm", "/srv"),
        ("h", "ubuntu", "relative"),
        ("h", "ubuntu", "/srv/../etc"),
    ] {
        let mut t = Target::new("t", host, Some("k"));
        t.user = user.into();
        t.project_dir = dir.into();
        assert_eq!(
            t.validate().unwrap_err().code(),
            crate::ErrorCode::BadInput,
            "{host} {user} {dir}"
        );
    }
}

#[test]
fn a_project_dir_is_kept_as_compose_labels_it_and_a_spaced_name_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let settings = JsonFileSettings::open(dir.path().join("s.json")).unwrap();
    let mut t = Target::new("t", "h", Some("k"));
    t.project_dir = "/home/ubuntu//automated-trading-platform/./".into();
    save(&settings, t.clone()).unwrap();
    assert_eq!(
        find(&settings, "t").unwrap().project_dir,
        "/home/ubuntu/automated-trading-platform"
    );
    // One written by hand (or an older version) reads the same.
    settings
        .set(
            SETTINGS_KEY,
            serde_json::json!([{"name": "old", "host": "h", "port": 22, "user": "u",
                    "project_dir": "/srv/app/", "key": null}]),
        )
        .unwrap();
    assert_eq!(find(&settings, "old").unwrap().project_dir, "/srv/app");
    assert_eq!(clean_dir("/"), "/");

    t.name = "prod ".into();
    let refused = save(&settings, t).unwrap_err();
    assert!(
        refused.to_string().contains("begins or ends with a space"),
        "{refused}"
    );
}

#[test]
fn adding_a_name_taken_meanwhile_or_updating_one_removed_meanwhile_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let settings = crate::settings::JsonFileSettings::open(dir.path().join("s.json")).unwrap();
    let first = Target::new("prod", "10.0.0.5", None);
    add(&settings, first.clone()).unwrap();
    // Another process's add of the same name, checked before this one saved.
    let other = Target::new("prod", "10.0.0.9", None);
    let taken = add(&settings, other.clone()).unwrap_err();
    assert!(taken.to_string().contains("already exists"), "{taken}");
    assert_eq!(list(&settings).unwrap()[0].host, "10.0.0.5");
    // An edit of a target removed meanwhile does not bring it back.
    remove(&settings, "prod").unwrap();
    let gone = update(&settings, first).unwrap_err();
    assert!(matches!(gone, Error::TargetNotFound(_)), "{gone}");
    assert!(list(&settings).unwrap().is_empty());
    add(&settings, other.clone()).unwrap();
    update(
        &settings,
        Target {
            host: "10.0.0.10".into(),
            ..other
        },
    )
    .unwrap();
    assert_eq!(list(&settings).unwrap()[0].host, "10.0.0.10");
}
