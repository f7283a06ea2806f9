use super::*;

fn pairs(text: &str) -> Vec<(String, String)> {
    assignments(text)
}

fn pair(key: &str, value: &str) -> (String, String) {
    (key.to_string(), value.to_string())
}

#[test]
fn reads_the_forms_compose_reads() {
    let text = "# a comment\n\nA=1\nexport B = two words  # why\nC: colon\nDB-PASS=hunter.9\nD.E=x\n  F='single # kept'\nG=\"esc\\\"aped\"\nH=\nI\n";
    assert_eq!(
        pairs(text),
        vec![
            pair("A", "1"),
            pair("B", "two words"),
            pair("C", "colon"),
            pair("DB-PASS", "hunter.9"),
            pair("D.E", "x"),
            pair("F", "single # kept"),
            pair("G", "esc\"aped"),
            pair("H", ""),
            pair("I", ""),
        ]
    );
}

#[test]
fn a_pasted_secret_key_or_base64_line_is_a_possible_value() {
    let secret = "wJalrXUtnFEMI/K7MDENG/bFAKEfakeFAKEKEY"; // obviously fake
    let base64 = "c2VjcmV0LWZha2UtZmFrZQ==";
    let one_pad = "c2VjcmV0LWZha2UtZmFrZTE=";
    let text = format!(
            "AWS_SECRET_ACCESS_KEY=\n{secret}\n{base64}\nno_proxy\nPAD==\n{one_pad}\nMyApplicationKey=\n"
        );
    let parsed = parse(&text);
    let keys: Vec<&str> = parsed.iter().map(|a| a.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "AWS_SECRET_ACCESS_KEY",
            NO_VALUE_LINE,
            NO_VALUE_LINE,
            "no_proxy",
            "PAD",
            NO_VALUE_LINE,
            "MyApplicationKey"
        ]
    );
    let texts = [&parsed[1].written, &parsed[2].written, &parsed[5].written];
    assert_eq!(texts, [secret, base64, one_pad]);
    assert_eq!(parsed[4].value, "=", "a name's value of `=` is a value");
}

#[test]
fn a_line_with_no_equals_is_a_name_only_if_it_reads_as_one() {
    let pasted = [
        "ghp_fakeFAKEfake0123456789",
        "AKIAFAKEFAKEFAKE0123",
        "sk-live-fake.1",
    ];
    let text = format!(
        "API_URL\n{}\nDEBUG\n{}\nLOG_LEVEL_2\n{}\n",
        pasted[0], pasted[1], pasted[2]
    );
    let parsed = parse(&text);
    let keys: Vec<&str> = parsed.iter().map(|a| a.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "API_URL",
            NO_VALUE_LINE,
            "DEBUG",
            NO_VALUE_LINE,
            "LOG_LEVEL_2",
            NO_VALUE_LINE
        ]
    );
    let texts: Vec<&str> = parsed
        .iter()
        .filter(|a| a.key == NO_VALUE_LINE)
        .map(|a| a.written.as_str())
        .collect();
    assert_eq!(texts, pasted);
    assert!(parsed.iter().all(|a| a.value.is_empty()));
    assert_eq!(parsed[3].lines, 3..4);
}

#[test]
fn a_quoted_value_spans_lines_and_takes_them_all() {
    let text =
        "A=1\nTLS_KEY=\"-----BEGIN KEY-----\nRkFLRS1OT1Q=\n-----END KEY-----\"\nB=2\nC='x\ny'\n";
    let parsed = parse(text);
    let keys: Vec<&str> = parsed.iter().map(|a| a.key.as_str()).collect();
    assert_eq!(keys, ["A", "TLS_KEY", "B", "C"]);
    assert_eq!(
        parsed[1].value,
        "-----BEGIN KEY-----\nRkFLRS1OT1Q=\n-----END KEY-----"
    );
    assert_eq!(parsed[1].lines, 1..4);
    assert_eq!(parsed[2].lines, 4..5);
    assert_eq!(parsed[3].value, "x\ny");
    assert_eq!(parsed[3].lines, 5..7);
    assert_eq!(parsed[0].lines, 0..1);
}

#[test]
fn double_quotes_unescape_and_expand_single_quotes_do_not() {
    let text = "USER=trader\nURL=\"pg://${USER}:p\\$x@db\\n\"\nRAW='$USER\\n'\nPLAIN=$USER-$$\nDEF=${NOPE:-fallback}\n";
    assert_eq!(
        pairs(text),
        vec![
            pair("USER", "trader"),
            pair("URL", "pg://trader:p$x@db\n"),
            pair("RAW", "$USER\\n"),
            pair("PLAIN", "trader-$"),
            pair("DEF", "fallback"),
        ]
    );
    assert_eq!(parse(text)[1].written, "pg://${USER}:p\\$x@db\\n");
}

#[test]
fn a_line_compose_refuses_is_passed_over_as_a_possible_value_and_the_rest_still_read() {
    let parsed = parse("A=1\nB C!=2\nD=3\n");
    assert_eq!(
        assignments("A=1\nB C!=2\nD=3\n"),
        vec![pair("A", "1"), pair(NO_VALUE_LINE, ""), pair("D", "3")]
    );
    assert_eq!(
        (parsed[1].written.as_str(), parsed[1].lines.clone()),
        ("B C!=2", 1..2)
    );
    assert_eq!(
        pairs("== now\nA=1\n"),
        vec![pair(NO_VALUE_LINE, ""), pair("A", "1")]
    );
    // A quote never closed: compose would refuse the file; the rest is its value.
    assert_eq!(
        pairs("A=1\nKEY=\"-----BEGIN-----\nMIIEbody\nC=3\n"),
        vec![
            pair("A", "1"),
            pair("KEY", "-----BEGIN-----\nMIIEbody\nC=3\n")
        ]
    );
    assert!(pairs("").is_empty());
    assert!(pairs("# only\n\n").is_empty());
}

#[test]
fn a_bom_escapes_dollar_digits_and_a_last_line_without_its_end_read_as_compose_reads_them() {
    assert_eq!(pairs("\u{feff}A=1\n"), vec![pair("A", "1")]);
    assert_eq!(pairs("P=\"ab\\tcd\"\n")[0].1, "ab\tcd");
    assert_eq!(pairs("P=pa$1word\n")[0].1, "pa$1word");
    for ends_in_a_wide_character in ["A=1\nB=café", "A=1 # modifié", "A=1\nÉTÉ"] {
        let parsed = parse(ends_in_a_wide_character);
        assert_eq!(parsed[0].key, "A", "{ends_in_a_wide_character}");
    }
}
