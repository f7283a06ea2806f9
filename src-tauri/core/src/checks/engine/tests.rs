use super::*;

#[test]
fn chunked_and_plain_answers_read_alike() {
    let chunked = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n[{\"a\r\n5\r\n\":1}]\r\n0\r\n\r\n";
    let answer = parse_answer(chunked);
    assert_eq!(
        (answer.status, answer.text()),
        (200, "[{\"a\":1}]".to_string())
    );
    assert_eq!(answer.problem, None);
    let plain = b"HTTP/1.1 404 Not Found\r\nContent-Length: 21\r\n\r\n{\"message\":\"no such\"}";
    let answer = parse_answer(plain);
    assert_eq!(
        (answer.status, answer.text()),
        (404, "{\"message\":\"no such\"}".to_string())
    );
    let early = parse_answer(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc");
    assert_eq!(early.body, b"abc");
    assert!(early.problem.unwrap().contains("ended early"));
    assert!(parse_answer(b"garbage").problem.is_some());
}

#[test]
fn framed_logs_come_out_as_docker_logs_prints_them() {
    let mut body = vec![1, 0, 0, 0, 0, 0, 0, 4];
    body.extend_from_slice(b"out\n");
    body.extend_from_slice(&[2, 0, 0, 0, 0, 0, 0, 4]);
    body.extend_from_slice(b"err\n");
    let answer = Answer {
        status: 200,
        body: body.clone(),
        problem: None,
    };
    assert_eq!(log_text(&answer), b"out\nerr\n");
    // A terminal's raw stream is left as it is.
    let raw = Answer {
        body: b"plain text\n".to_vec(),
        ..answer
    };
    assert_eq!(log_text(&raw), b"plain text\n");
    assert_eq!(unframe(&body[..10]).unwrap(), b"ou");
    assert_eq!(unframe(b"x"), None);
}

#[test]
fn a_services_logs_are_its_replicas_never_a_one_off() {
    let listing = serde_json::json!([
        {"Id": "aa01", "State": "exited", "Labels": {"com.docker.compose.service": "backend-aws", "com.docker.compose.oneoff": "True"}},
        {"Id": "bb02", "State": "running", "Labels": {"com.docker.compose.service": "backend-aws", "com.docker.compose.oneoff": "False"}},
        {"Id": "cc03", "State": "running", "Labels": {"com.docker.compose.service": "backend-aws", "com.docker.compose.oneoff": "False"}},
        {"Id": "dd04", "State": "exited", "Labels": {"com.docker.compose.service": "frontend-aws", "com.docker.compose.oneoff": "False"}}
    ]);
    let list = Answer {
        status: 200,
        body: listing.to_string().into_bytes(),
        problem: None,
    };
    assert_eq!(service_containers(&list, "backend-aws"), ["bb02", "cc03"]);
    assert_eq!(service_containers(&list, "frontend-aws"), ["dd04"]);
    assert!(service_containers(&list, "db").is_empty());
}

#[test]
fn a_listing_the_engine_refused_fails_its_probe_and_says_why() {
    let refused = parse_answer(
        b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 19\r\n\r\n{\"message\":\"down\"}",
    );
    let mut transcript = Transcript::default();
    transcript.add_listing("/containers/json", &refused);
    let gone = parse_answer(b"HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\n{}");
    transcript.add("/images/x/json", &gone);
    let output = transcript.output(now(), std::time::Instant::now());
    assert_eq!(output.exit_code, Some(1));
    assert_eq!(
        output.stderr,
        "GET /containers/json: HTTP 500 {\"message\":\"down\"}\n"
    );
    assert!(output
        .command
        .starts_with("GET /containers/json\nGET /images/x/json\n(the Docker engine's API"));
}

#[test]
fn filters_are_encoded_and_odd_ids_and_names_are_left_out() {
    assert_eq!(
        percent_encode("{\"a\":[\"b=/c d\"]}"),
        "%7B%22a%22%3A%5B%22b%3D%2Fc%20d%22%5D%7D"
    );
    let list = Answer {
        status: 200,
        body: br#"[{"Id":"ab12","Labels":{"com.docker.compose.service":"db"}},{"Id":"../x"}]"#
            .to_vec(),
        ..Answer::default()
    };
    assert_eq!(
        listed_containers(&list),
        [("ab12".to_string(), "db".to_string())]
    );
    assert!(plain_reference("127.0.0.1:5000/atp/backend:lab"));
    assert!(!plain_reference("x/../../containers/json"));
    assert!(!plain_reference("x?all=1"));
}

#[test]
fn a_log_the_engine_does_not_give_fails_the_probe() {
    let path = "/containers/bb02/logs?stdout=1&stderr=1&tail=200";
    let mut read = Transcript::default();
    read.add_log(
        path,
        &Answer {
            status: 200,
            body: b"started\n".to_vec(),
            problem: None,
        },
    );
    assert!(read.stderr.is_empty(), "{}", read.stderr);
    // The container's logging driver is `none`: no log to find errors in.
    let mut unread = Transcript::default();
    unread.add_log(
        path,
        &Answer {
            status: 501,
            body: br#"{"message":"configured logging driver does not support reading"}"#.to_vec(),
            problem: None,
        },
    );
    assert!(
        unread.stderr.contains("HTTP 501") && unread.stderr.contains("does not support reading"),
        "{}",
        unread.stderr
    );
}
