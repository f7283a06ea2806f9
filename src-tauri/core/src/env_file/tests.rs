use super::*;

#[test]
fn the_write_script_checks_what_arrived_keeps_the_newest_20_backups_and_refuses_a_moved_file() {
    let home = tempfile::tempdir().unwrap();
    let project = home.path().join("p");
    let other = home.path().join("q");
    std::fs::create_dir(&project).unwrap();
    std::fs::create_dir(&other).unwrap();
    let file = project.join(".env.aws");
    let write_in = |project: &std::path::Path, text: &str, was: Option<&str>| {
        let command = write_command(".env.aws", project.to_str().unwrap());
        let mut child = std::process::Command::new("sh")
            .args(["-c", &command.render()])
            .env("HOME", home.path())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let input = write_input(text.as_bytes(), was);
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.expose().as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let write = |text: &str, was: Option<&str>| write_in(&project, text, was);
    // Another project of the same login, saved twice: one backup, never pruned by
    // the first project's saves.
    assert!(write_in(&other, "Q=1\n", None).status.success());
    let q1 = crate::checklist::sha256_hex(b"Q=1\n");
    assert!(write_in(&other, "Q=2\n", Some(&q1)).status.success());
    let mut was: Option<String> = None;
    for i in 0..23 {
        let text = format!("A={i}\n");
        let out = write(&text, was.as_deref());
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // The backup it names holds the file as it was.
        if i > 0 {
            let named = said.trim().strip_prefix("backup ~/").unwrap();
            let kept = std::fs::read_to_string(home.path().join(named)).unwrap();
            assert_eq!(kept, format!("A={}\n", i - 1));
        }
        was = Some(crate::checklist::sha256_hex(text.as_bytes()));
        std::thread::sleep(std::time::Duration::from_millis(15)); // distinct mtimes
    }
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "A=22\n");
    let backups: Vec<String> = std::fs::read_dir(home.path().join(".shipshape/env-backups"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert_eq!(backups.len(), 21, "{backups:?}");
    assert_eq!(backups.iter().filter(|b| *b == "Q=1\n").count(), 1);
    // The newest 20 of the first project's 22 (the file before writes 1 to 22): the
    // two oldest went.
    assert!(
        !backups.iter().any(|b| b == "A=0\n" || b == "A=1\n"),
        "{backups:?}"
    );
    assert!(backups.iter().any(|b| b == "A=21\n"), "{backups:?}");
    // The file moved since it was read: nothing is written (exit 3).
    let stale = crate::checklist::sha256_hex(b"A=21\n");
    let out = write("A=x\n", Some(&stale));
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "A=22\n");
}

#[test]
fn the_read_is_found_after_what_a_logins_start_up_files_print() {
    assert_eq!(read_output("== present\nA=1\n"), Some(("A=1\n", true)));
    assert_eq!(
        read_output("Welcome to the bastion\n== present\nA=1\n== absent\n"),
        Some(("A=1\n== absent\n", true))
    );
    assert_eq!(read_output("motd\n== absent\n"), Some(("", false)));
    assert_eq!(read_output("cat: .env.aws: Permission denied\n"), None);
    assert_eq!(read_output(""), None);
}

#[test]
fn a_value_typed_into_the_key_is_never_repeated() {
    for typed in [
        "DB_PASSWORD hunter2",
        "DB_PASSWORD\thunter2",
        "DB_PASSWORD=hunter2",
    ] {
        let refused = validate_key(typed).unwrap_err().to_string();
        assert!(!refused.contains("hunter2"), "{refused}");
    }
    // Nor a value with no space or `=` in it (an AWS secret key, 40 characters).
    let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    let refused = validate_key(secret).unwrap_err().to_string();
    assert!(!refused.contains("wJalrXUtn"), "{refused}");
    assert!(refused.contains("(40 characters)"), "{refused}");
}

#[test]
fn a_quote_never_closed_loses_no_line_after_it() {
    let text = "A=1\nAPI_TOKEN=\"abc\nDB_URL=postgres://x\nSMTP_PASSWORD=p\n";
    // Set anew, it is closed and the lines after it are keys again.
    let fixed = set(text, "API_TOKEN", "new").unwrap();
    assert_eq!(
        fixed,
        "A=1\nAPI_TOKEN=new\nDB_URL=postgres://x\nSMTP_PASSWORD=p\n"
    );
    let removed = unset(text, "API_TOKEN").unwrap();
    assert_eq!(removed, "A=1\nDB_URL=postgres://x\nSMTP_PASSWORD=p\n");
    // And the checks before a write take them as asked: the keys after the quote were
    // there all along, not added by the change.
    let set_it = crate::console::EnvChange::Set {
        key: "API_TOKEN".into(),
        value: crate::secret::Secret::new("new".into()),
    };
    assert!(reads_back_as_asked(text, &fixed, &set_it).is_ok());
    let unset_it = crate::console::EnvChange::Unset {
        key: "API_TOKEN".into(),
    };
    assert!(reads_back_as_asked(text, &removed, &unset_it).is_ok());
    // Nor does a change that drops them pass as asked.
    assert!(reads_back_as_asked(text, "A=1\nAPI_TOKEN=new\n", &set_it).is_err());
    // Another key is refused, naming the open one: compose would read nothing after it.
    for refused in [set(text, "OTHER", "v"), unset(text, "A")] {
        let said = refused.unwrap_err().to_string();
        assert!(
            said.contains("Line 2") && said.contains("set API_TOKEN first"),
            "{said}"
        );
    }
    // A later repeat of a key with an open quote takes only its own line with it.
    let text = "K=1\nB=2\nK=\"open\nC=3\n";
    assert_eq!(set(text, "K", "v").unwrap(), "K=v\nB=2\nC=3\n");
}

#[test]
fn set_and_unset_keep_the_rest_of_the_file() {
    let text = "# comment\nA=1\nexport B=two\nA=again\nC=\n";
    let set_a = set(text, "A", "x y").unwrap();
    assert_eq!(set_a, "# comment\nA='x y'\nexport B=two\nC=\n");
    assert_eq!(
        set(text, "D", "it's $HOME").unwrap().lines().last(),
        Some(r#"D="it's \$HOME""#)
    );
    assert_eq!(set("A=1", "B", "2").unwrap(), "A=1\nB=2\n");
    assert_eq!(unset(text, "B").unwrap(), "# comment\nA=1\nA=again\nC=\n");
    assert!(unset(text, "Z").is_err());
    assert!(set(text, "1A", "v").is_err() && set(text, "A", "a\nb").is_err());
    // A value ending in a backslash is written so compose closes its quote.
    let windows = set("A=1\nK=old\nB=2\n", "K", "C:\\temp\\").unwrap();
    assert_eq!(windows, "A=1\nK=\"C:\\\\temp\\\\\"\nB=2\n");
    let read: Vec<(String, String)> = dotenv::assignments(&windows);
    assert_eq!(read[1], ("K".to_string(), "C:\\temp\\".to_string()));
    assert_eq!(read.len(), 3);
    // What the old writing made of it (a quote never closed, B swallowed) is refused.
    let set_k = crate::console::EnvChange::Set {
        key: "K".into(),
        value: crate::secret::Secret::new("C:\\temp\\".into()),
    };
    let old = "A=1\nK=old\nB=2\n";
    assert!(reads_back_as_asked(old, &windows, &set_k).is_ok());
    let broken = "A=1\nK='C:\\temp\\'\nB=2\n";
    let refused = reads_back_as_asked(old, broken, &set_k)
        .unwrap_err()
        .to_string();
    assert!(
        refused.contains("nothing was written") && !refused.contains("temp"),
        "{refused}"
    );
    // A key another one refers to can change: the other reads differently, as written
    // it is the same.
    let env = "POSTGRES_PASSWORD=old\nDATABASE_URL=postgresql://t:${POSTGRES_PASSWORD}@db/a\n";
    let rotate = crate::console::EnvChange::Set {
        key: "POSTGRES_PASSWORD".into(),
        value: crate::secret::Secret::new("new-fake".into()),
    };
    let rotated = set(env, "POSTGRES_PASSWORD", "new-fake").unwrap();
    assert!(reads_back_as_asked(env, &rotated, &rotate).is_ok());
    let gone = crate::console::EnvChange::Unset {
        key: "POSTGRES_PASSWORD".into(),
    };
    assert!(reads_back_as_asked(env, &unset(env, "POSTGRES_PASSWORD").unwrap(), &gone).is_ok());
    // A value typed as the key is not repeated.
    let said = set(text, "DB_PASSWORD=Xq7-fake", "v")
        .unwrap_err()
        .to_string();
    assert!(!said.contains("Xq7-fake"), "{said}");
    let names: Vec<(String, u32, bool)> = keys("X_TOKEN=s\n# c\nY=\n")
        .into_iter()
        .map(|k| (k.name, k.line, k.looks_secret))
        .collect();
    assert_eq!(
        names,
        [
            ("X_TOKEN".to_string(), 1, true),
            ("Y".to_string(), 3, false)
        ]
    );
    let written = write_command(".env.aws", "/p").render();
    assert!(
        !written.contains("A=1"),
        "the new text must not be in the command: {written}"
    );
}

#[test]
fn a_value_over_several_lines_is_one_key_and_is_edited_whole() {
    let text = "A=1\nTLS_KEY=\"-----BEGIN KEY-----\nRkFLRS1OT1Q=\n-----END KEY-----\"\nB=2\n";
    let names: Vec<(String, u32)> = keys(text).into_iter().map(|k| (k.name, k.line)).collect();
    assert_eq!(
        names,
        [("A".into(), 1), ("TLS_KEY".into(), 2), ("B".into(), 5)]
    );
    assert_eq!(
        set(text, "TLS_KEY", "new").unwrap(),
        "A=1\nTLS_KEY=new\nB=2\n"
    );
    assert_eq!(unset(text, "TLS_KEY").unwrap(), "A=1\nB=2\n");
    assert_eq!(set(text, "B", "3").unwrap().lines().count(), 5);
    let changes = KeyChanges::between(text, &set(text, "TLS_KEY", "new").unwrap());
    assert_eq!(changes.changed, ["TLS_KEY"]);
    assert!(changes.added.is_empty() && changes.removed.is_empty());
    let written = write_command(".env.aws", "/p").render();
    assert!(
        !written.contains("A=1"),
        "the new text must not be in the command: {written}"
    );
}
