use super::*;

#[test]
fn assignments_single_quoted_spaced_or_in_yaml_are_redacted() {
    let redactor = Redactor::from_env_file("PIN=42\nDB_PASSWORD=!pa'ss\n");
    assert_eq!(redactor.redact("PIN='42'"), "PIN='[redacted]'");
    assert_eq!(redactor.redact("PIN = 42"), "PIN = [redacted]");
    let yaml = redactor.redact("      DB_PASSWORD: '!pa''ss'\n");
    assert!(
        !yaml.contains("pa''ss") && yaml.contains(REDACTED),
        "{yaml}"
    );
    let plain = Redactor::default().redact("API_TOKEN: correct horse battery\n");
    assert!(!plain.contains("horse"), "{plain}");
}

#[test]
fn a_value_pasted_on_a_line_of_its_own_is_taken_out_and_never_named() {
    let pasted = "ghp_fakeFAKEfake0123456789";
    let file = format!("API_URL=https://fake.invalid\n{pasted}\nDEBUG\n");
    let said = Redactor::from_env_file(&file).redact(&format!("auth failed for {pasted}\n"));
    assert!(!said.contains(pasted) && said.contains(REDACTED), "{said}");
    let changes = crate::env_file::KeyChanges::between("A=1\n", &format!("A=1\n{pasted}\n"));
    assert_eq!(changes.added, [crate::dotenv::NO_VALUE_LINE]);
    let listed: Vec<String> = crate::env_file::keys(&file)
        .into_iter()
        .map(|k| k.name)
        .collect();
    assert_eq!(listed, ["API_URL", crate::dotenv::NO_VALUE_LINE, "DEBUG"]);
}

#[test]
fn the_env_files_text_is_kept_as_its_keys_alone() {
    let file = "# OLD_DATABASE_URL=postgresql://trader:old-pw@db/atp\nSTRIPE_SECRET_KEY=\nsk_live_fake51Hxyz\nexport PIN='42'\n\nDB = x y\n";
    let kept = env_text_withheld(file, None);
    for secret in ["old-pw", "sk_live_fake51Hxyz", "42", "x y"] {
        assert!(!kept.contains(secret), "{secret} in {kept}");
    }
    assert_eq!(
            kept,
            "# (a comment: withheld)\nSTRIPE_SECRET_KEY=[withheld]\n(a line that assigns nothing: withheld)\nPIN=[withheld]\n\nDB=[withheld]\n"
        );
    // In a batch, only the file's part.
    let batch = "N begin EnvStat\n600 ubuntu\n\nN end EnvStat 0\nN begin EnvRead\nA=secret-a\n\nN end EnvRead 0\n";
    let kept = env_text_withheld(batch, Some(("N begin EnvRead", "N end EnvRead ")));
    assert_eq!(
            kept,
            "N begin EnvStat\n600 ubuntu\n\nN end EnvStat 0\nN begin EnvRead\nA=[withheld]\n\nN end EnvRead 0\n"
        );
}

#[test]
fn merging_keeps_each_value_once_and_two_failed_reads_still_withhold() {
    let file = "A=prod\nB=5432\nC=long-secret-value\n";
    let mut redactor = Redactor::from_env_file(file);
    let once = redactor.values.len();
    for _ in 0..5 {
        redactor = redactor.merged(Redactor::from_env_file(file));
    }
    assert_eq!(redactor.values.len(), once, "no copy added by a re-read");
    let blind = Redactor::withholding().merged(Redactor::withholding());
    assert_eq!(blind.redact("DATABASE_URL=x"), WITHHELD);
    let known = Redactor::withholding().merged(Redactor::from_env_file(file));
    assert_eq!(known.redact("port 5432"), "port [redacted]");
    let kept = Redactor::from_env_file(file).merged(Redactor::withholding());
    assert_eq!(kept.redact("port 5432"), "port [redacted]");
}

const ENV: &str = "# lab\nENVIRONMENT=aws-lab\nexport DATABASE_URL=postgresql://trader:lab-pass-7@db:5432/atp\nEXCHANGE_API_SECRET=\"FAKE-SECRET-1\"\nDEBUG=1\n";

#[test]
fn every_env_value_goes_wherever_it_appears() {
    let redactor = Redactor::from_env_file(ENV);
    let text = "Env=[ENVIRONMENT=aws-lab DATABASE_URL=postgresql://trader:lab-pass-7@db:5432/atp]\nerror: password lab-pass-7 refused\nsecret FAKE-SECRET-1 in a log";
    let out = redactor.redact(text);
    for value in ["aws-lab", "lab-pass-7", "FAKE-SECRET-1", "postgresql://"] {
        assert!(!out.contains(value), "{value} left in {out}");
    }
    assert!(out.contains("ENVIRONMENT=[redacted]"));
}

#[test]
fn secret_looking_keys_lose_their_values_in_every_form() {
    let redactor = Redactor::default();
    let text = r#"API_TOKEN=abc123 other=1
"DB_PASSWORD": "hunter2", "LEVEL": "info"
  aws_secret_access_key: wJalr
--api-key=zzz DEBUG=1
["API_KEY=abc123", "B=2"]"#;
    let out = redactor.redact(text);
    for value in ["abc123", "hunter2", "wJalr"] {
        assert!(!out.contains(value), "{value} left in {out}");
    }
    assert!(out.contains(r#""LEVEL": "info""#));
    assert!(out.contains("other=1") && out.contains("DEBUG=1"));
    assert!(out.contains(r#"["API_KEY=[redacted]", "B=2"]"#), "{out}");
}

#[test]
fn values_compose_reads_are_redacted_in_every_form_they_are_printed() {
    let env = "COMMENTED_PW=sekritAAA1 # rotated\nCOLON_PW: sekritFFF7\nDB-PASS=hunterXYZ9\nESCAPED_PW=\"esc\\\"apeDDD5\"\nMULTI_CERT=\"-----BEGIN-----\nMIIEbodyline1\nMIIEbodyline2\n-----END-----\"\nANGLE=\"a<b>&c9\"\n";
    let redactor = Redactor::from_env_file(env);
    let printed = [
        "log: sekritAAA1 alone",
        "COLON_PW: sekritFFF7",
        "-e DB-PASS=hunterXYZ9 and hunterXYZ9",
        r#""ESCAPED_PW": "esc\"apeDDD5", "B": "2""#,
        "ESCAPED_PW=\"esc\\\"apeDDD5\" in the file, esc\"apeDDD5 in a log",
        "MIIEbodyline1\nMIIEbodyline2",
        r#""MULTI_CERT": "-----BEGIN-----\nMIIEbodyline1\nMIIEbodyline2\n-----END-----""#,
        r#""ANGLE": "a\u003cb\u003e\u0026c9""#,
    ];
    for text in printed {
        let out = redactor.redact(text);
        for secret in [
            "sekritAAA1",
            "sekritFFF7",
            "hunterXYZ9",
            "apeDDD5",
            "bodyline",
            "c9",
        ] {
            assert!(!out.contains(secret), "{secret} left in {out}");
        }
    }
}

#[test]
fn a_value_cut_short_by_a_note_loses_its_beginning_too() {
    let redactor = Redactor::from_env_file("DSN=postgresql://trader:Xq7-lab-pass@db/atp\n");
    let note = "error line: \"dsn\":\"postgresql://trader:Xq7-la…; and more";
    let out = redactor.redact_clipped(note);
    assert!(!out.contains("Xq7"), "{out}");
    assert!(out.contains("\"dsn\":\"[redacted]…; and more"), "{out}");
    assert_eq!(
        redactor.redact_clipped("nothing cut here…"),
        "nothing cut here…"
    );
    // The longest beginning wins, whichever value is longer.
    let two = Redactor::from_env_file("A=ecr-and-a-much-longer-tail\nB=xyz-secret-9\n");
    assert_eq!(two.redact_clipped("see abcxyz-secr…"), "see abc[redacted]…");
}

#[test]
fn a_secret_keys_quoted_value_ends_at_its_closing_quote_not_an_escaped_one() {
    let out = Redactor::default().redact(r#""DB_PASSWORD": "pa\"ss123", "LEVEL": "info""#);
    assert_eq!(out, r#""DB_PASSWORD": "[redacted]", "LEVEL": "info""#);
}

#[test]
fn short_values_are_redacted_only_where_assigned() {
    let redactor = Redactor::from_env_file("WORKERS=2\n");
    assert_eq!(redactor.redact("--workers 2"), "--workers 2");
    assert_eq!(redactor.redact("WORKERS=2"), "WORKERS=[redacted]");
    assert_eq!(
        redactor.redact(r#""WORKERS": "2""#),
        r#""WORKERS": "[redacted]""#
    );
}

#[test]
fn a_pasted_base64_value_and_a_quoted_values_lines_are_withheld_whole() {
    // `openssl rand -base64 16` pasted on its own line reads as a key and its padding to a
    // simple split, which kept 22 of its 24 characters; and a PEM block's last line.
    let pasted = "q1Jm3Yk9vX2Lr8Tn5Wc0Pg==";
    let file = format!(
        "A=1\n{pasted}\nKEY=\"-----BEGIN FAKE-----\nMIIBfakeLINEone\nfakeLASTlineAB==\n-----END FAKE-----\"\nB=2\n"
    );
    let kept = env_text_withheld(&file, None);
    for part in [
        "q1Jm3Yk9vX2Lr8Tn5Wc0Pg",
        "MIIBfakeLINEone",
        "fakeLASTlineAB",
    ] {
        assert!(!kept.contains(part), "{part} in {kept}");
    }
    assert_eq!(
        kept,
        "A=[withheld]\n(a line that assigns nothing: withheld)\nKEY=[withheld]\n(the value's next line: withheld)\n(the value's next line: withheld)\n(the value's next line: withheld)\nB=[withheld]\n"
    );
}

#[test]
fn a_secret_split_by_colour_codes_is_taken_out_as_the_screen_shows_it() {
    let redactor = Redactor::from_env_file("DB_URL=postgres://app:pa55-2024@db:5432/app\n");
    // A highlighter colours the digits inside the env file's value.
    let coloured = "db ready at postgres://app:pa55-\u{1b}[1;36m2024\u{1b}[0m@db:5432/app";
    let shown = redactor.redact(coloured);
    assert!(!shown.contains("pa55"), "{shown}");
    assert!(!shown.contains("2024"), "{shown}");
    // A structured logger colours the key apart from its `=`.
    let shown = Redactor::default()
        .redact("connected \u{1b}[36mapi_token\u{1b}[0m=\u{1b}[35mabc123LIVEtoken\u{1b}[0m");
    assert!(!shown.contains("abc123LIVE"), "{shown}");
    // An OSC title between the halves.
    let shown = redactor.redact("pa55-\u{1b}]0;x\u{7}2024");
    assert!(!shown.contains("2024"), "{shown}");
    // A string sequence (SOS) and a lone ESC, as the window drops them.
    let shown = redactor.redact("pa55-\u{1b}Xab\u{1b}\\2024");
    assert!(!shown.contains("2024"), "{shown}");
    let shown = redactor.redact("pa55-\u{1b}2024");
    assert!(!shown.contains("2024"), "{shown}");
    // Colour that splits no secret is kept, and only the line that needs it loses its
    // escapes: the next line's colour and a progress line's carriage return stay.
    let plain = "\u{1b}[32mready\u{1b}[0m on :8002";
    assert_eq!(redactor.redact(plain), plain);
    let two = "pa55-\u{1b}[1m2024\n\u{1b}[32mok\u{1b}[0m 10%\r20%";
    let shown = redactor.redact(two);
    assert!(!shown.contains("2024"), "{shown}");
    assert!(
        shown.ends_with("\n\u{1b}[32mok\u{1b}[0m 10%\r20%"),
        "{shown:?}"
    );
}
