//! The `clerk-webhooks` command-line tool, run as a user runs it, against a loopback server.

use clerk_webhooks_test_support::redis_server;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};

use axum::routing::post;
use axum::Router;
use clerk_webhooks::{ClerkEvent, ClerkWebhookLayer, Delivery, SigningSecret, Verifier};

mod common {
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    pub const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    pub const OTHER_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

    pub fn at(secs: i64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs.unsigned_abs())
    }
}
use common::{OTHER_SECRET, SECRET};

const KEY: &str = "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"; // SECRET without `whsec_`
const T: i64 = 1_700_000_000;

fn run(args: &[&str]) -> Output {
    run_with(args, &[], None)
}

/// Runs the tool with `env` set (and no other secret in the environment) and `stdin` piped in.
fn run_with(args: &[&str], env: &[(&str, &str)], stdin: Option<&[u8]>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_clerk-webhooks"));
    command
        .args(args)
        .env_remove("CLERK_WEBHOOK_SIGNING_SECRET")
        .env_remove("CLERK_WEBHOOK_SECRET")
        .env_remove("CLERK_WEBHOOK_QUEUE")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or_default()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

fn stdout(output: &Output) -> String {
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let errors = String::from_utf8_lossy(&output.stderr);
    assert!(
        !text.contains(KEY) && !errors.contains(KEY),
        "the secret was printed: {text}{errors}"
    );
    text
}

/// A file in a directory of this test's own.
fn file(name: &str, contents: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("clerk-webhooks-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

/// The `svix-signature` value of `body` signed with `verifier` as `id` at `T`.
fn signature(verifier: &Verifier, id: &str, body: &[u8]) -> String {
    verifier.sign(id, T, body)
}

fn verifier() -> Verifier {
    Verifier::new(SigningSecret::new(SECRET).unwrap())
}

/// `verify --request` of a captured request dump, at the tests' clock.
fn verify_dump(path: &Path) -> Output {
    run(&[
        "verify",
        "--secret",
        SECRET,
        "--request",
        path.to_str().unwrap(),
        "--now",
        "1700000000",
    ])
}

fn verify_args<'a>(signature: &'a str, body: &'a str) -> Vec<&'a str> {
    vec![
        "verify",
        "--secret",
        SECRET,
        "--id",
        "msg_1",
        "--timestamp",
        "1700000000",
        "--signature",
        signature,
        "--body",
        body,
        "--now",
        "1700000000",
    ]
}

#[test]
fn send_posts_signed_samples_to_a_local_endpoint() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let recorded = seen.clone();
    let app = Router::new().route(
        "/webhooks/clerk",
        post(move |delivery: Delivery, event: ClerkEvent| {
            let recorded = recorded.clone();
            async move {
                recorded
                    .lock()
                    .unwrap()
                    .push(format!("{} {}", delivery.id(), event.event_type()));
                "thanks"
            }
        })
        .route_layer(ClerkWebhookLayer::new(verifier())),
    );
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let url = format!("http://{}/webhooks/clerk", listener.local_addr().unwrap());
    runtime.spawn(async move { axum::serve(listener, app).await });

    // `send` of a sample of `event_type` to the server, with the test's secret and `extra` flags.
    let send = |event_type: &str, extra: &[&str]| {
        let mut args = vec![
            "send", "--url", &url, "--type", event_type, "--secret", SECRET,
        ];
        args.extend_from_slice(extra);
        run(&args)
    };

    let output = send("organization.created", &["--id", "msg_cli_1"]);
    let text = stdout(&output);
    assert!(output.status.success(), "{text}");
    assert!(text.contains("200 OK") && text.contains("thanks"), "{text}");

    let output = send("user.created", &["--unbranded"]);
    assert!(output.status.success(), "{}", stdout(&output));

    let old = (T - 3600).to_string();
    let output = send("user.created", &["--timestamp", &old]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("400") && text.contains("timestamp_too_old"),
        "{text}"
    );

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[0], "msg_cli_1 organization.created");
}

#[test]
fn sign_prints_headers_that_verify_and_a_curl_command() {
    let body = file(
        "sign.json",
        br#"{"type":"user.created","data":{"id":"user_1"}}"#,
    );
    let output = run(&[
        "sign",
        "--file",
        body.to_str().unwrap(),
        "--secret",
        SECRET,
        "--id",
        "msg_s",
        "--timestamp",
        "1700000000",
    ]);
    let text = stdout(&output);
    assert!(output.status.success(), "{text}");
    let headers: http::HeaderMap = text
        .lines()
        .filter_map(|line| line.split_once(": "))
        .map(|(name, value)| {
            (
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            )
        })
        .collect();
    let delivery = verifier()
        .verify_at(&headers, &std::fs::read(&body).unwrap(), common::at(T))
        .unwrap();
    assert_eq!(delivery.id(), "msg_s");

    let output = run(&[
        "sign",
        "--type",
        "user.created",
        "--secret",
        SECRET,
        "--curl",
        "http://127.0.0.1:3000/webhooks/clerk",
    ]);
    let text = stdout(&output);
    assert!(
        text.starts_with("curl -sS -X POST 'http://127.0.0.1:3000/webhooks/clerk'"),
        "{text}"
    );
    assert!(
        text.contains("-H 'svix-signature: v1,") && text.contains("--data-binary '{"),
        "{text}"
    );
}

#[test]
fn verify_accepts_a_good_capture_and_says_which_secret() {
    let body = br#"{"type":"user.created","data":{"id":"user_1"}}"#;
    let path = file("good.json", body);
    let signature = signature(&verifier(), "msg_1", body);
    let mut args = verify_args(&signature, path.to_str().unwrap());
    args.splice(1..1, ["--secret", OTHER_SECRET]);
    let output = run(&args);
    let text = stdout(&output);
    assert!(output.status.success(), "{text}");
    assert!(text.contains("OK: verifies (secret #2)"), "{text}");
}

#[test]
fn verify_names_the_copy_and_paste_mistakes() {
    let body = b"{\n  \"type\": \"user.created\",\n  \"data\": {\"id\": \"user_1\"}\n}";
    let signature = signature(&verifier(), "msg_1", body);
    for (name, captured, expected) in [
        (
            "newline.json",
            [&body[..], b"\n"].concat(),
            "without its trailing newline",
        ),
        (
            "crlf.json",
            String::from_utf8_lossy(body)
                .replace('\n', "\r\n")
                .into_bytes(),
            "with LF line endings instead of CRLF",
        ),
    ] {
        let path = file(name, &captured);
        let output = run(&verify_args(&signature, path.to_str().unwrap()));
        let text = stdout(&output);
        assert_eq!(output.status.code(), Some(1), "{text}");
        assert!(
            text.contains("FAILED") && text.contains("invalid_signature"),
            "{text}"
        );
        assert!(text.contains(expected), "{name}: {text}");
    }
}

#[test]
fn verify_tells_a_wrong_secret_from_a_raw_key_mix_up() {
    let body = br#"{"type":"user.created","data":{"id":"user_1"}}"#;
    let path = file("secret.json", body);

    let other = Verifier::new(SigningSecret::new(OTHER_SECRET).unwrap());
    let output = run(&verify_args(
        &signature(&other, "msg_1", body),
        path.to_str().unwrap(),
    ));
    let text = stdout(&output);
    assert!(
        text.contains("none of the 1 secret(s) signed any of the 1 v1 signature(s)"),
        "{text}"
    );
    assert!(text.contains("another endpoint or environment"), "{text}");

    let raw = Verifier::new(SigningSecret::from_bytes(SECRET.as_bytes()).unwrap());
    let output = run(&verify_args(
        &signature(&raw, "msg_1", body),
        path.to_str().unwrap(),
    ));
    let text = stdout(&output);
    assert!(text.contains("signed with the TEXT of secret #1"), "{text}");
}

#[test]
fn verify_reports_clock_skew_and_whether_the_signature_holds() {
    let body = br#"{"type":"user.created","data":{"id":"user_1"}}"#;
    let path = file("skew.json", body);
    let signature = signature(&verifier(), "msg_1", body);
    let mut args = verify_args(&signature, path.to_str().unwrap());
    let later = (T + 600).to_string();
    *args.last_mut().unwrap() = &later;
    let output = run(&args);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("timestamp_too_old") && text.contains("600 s in the past"),
        "{text}"
    );
    assert!(
        text.contains("the signature itself is valid (secret #1)"),
        "{text}"
    );
}

#[test]
fn verify_reads_a_raw_http_request_dump() {
    let body = br#"{"type":"user.created","data":{"id":"user_1"}}"#;
    let signature = signature(&verifier(), "msg_dump", body);
    let dump = format!(
        "POST /webhooks/clerk HTTP/1.1\r\nHost: example.com\r\nSvix-Id: msg_dump\r\n\
         Svix-Timestamp: {T}\r\nSvix-Signature: {signature}\r\nContent-Type: application/json\r\n\r\n{}",
        String::from_utf8_lossy(body)
    );
    let path = file("request.http", dump.as_bytes());
    let output = verify_dump(&path);
    let text = stdout(&output);
    assert!(output.status.success(), "{text}");
    assert!(text.contains("svix-id msg_dump"), "{text}");
}

#[test]
fn bad_arguments_are_explained_and_exit_2() {
    let output = run(&["send", "--type", "user.created"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--url"));

    let output = run(&["sign", "--type", "user.created"]);
    assert_eq!(output.status.code(), Some(2));
    let errors = String::from_utf8_lossy(&output.stderr);
    assert!(errors.contains("CLERK_WEBHOOK_SIGNING_SECRET"), "{errors}");

    let output = run(&[
        "sign",
        "--type",
        "user.created",
        "--secret",
        "whsec_AAAAAAAA",
    ]);
    assert_eq!(output.status.code(), Some(2));
    let errors = String::from_utf8_lossy(&output.stderr);
    assert!(
        errors.contains("secret #1") && errors.contains("truncated"),
        "{errors}"
    );
    assert!(!errors.contains("AAAAAAAA"), "{errors}");

    let output = run(&["sign", "--type", "agent.created", "--secret", SECRET]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("clerk-webhooks samples"));

    // https is supported (a tunnel URL); other schemes are not.
    let output = run(&[
        "send",
        "--url",
        "ftp://example.com/",
        "--type",
        "user.created",
        "--secret",
        SECRET,
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("only http://"));
}

/// Marks the job of `svix_id` as a worker does when it gives up on it or finishes it: off the
/// active list, into the dead or done set, with its status, result and time. The library's own tests kill jobs with real workers; this one checks the
/// command's plumbing.
async fn finish_job(
    connection: &mut redis::aio::ConnectionManager,
    endpoint: &str,
    svix_id: &str,
    status: &str,
    done_at: u64,
) -> String {
    use clerk_webhooks::queue::{Enqueued, QueuedDelivery};
    use clerk_webhooks_redis::queue::{enqueue, queue_config};
    use redis::AsyncCommands;
    let config = queue_config(endpoint);
    let job: QueuedDelivery = serde_json::from_value(serde_json::json!({
        "id": svix_id, "timestamp": T, "body": "{\"type\":\"user.created\",\"data\":{}}",
        "endpoint": endpoint,
    }))
    .unwrap();
    let key = job.delivery().key();
    let outcome = enqueue(connection, &config, &job, &key).await.unwrap();
    assert_eq!(outcome, Enqueued::Queued);
    let id: String = connection
        .get(format!("{}:{key}", config.idempotency_key_set()))
        .await
        .unwrap();
    let set = if status == "Done" {
        config.done_jobs_set()
    } else {
        config.dead_jobs_set()
    };
    let result = if status == "Done" {
        r#"{"Ok":null}"#.to_owned()
    } else {
        // A handler's error text may carry anything, a terminal's escape sequences included.
        format!(r#"{{"Err":"AbortError: boom for {svix_id}\u001b[2J\u001b]0;pwned\u0007"}}"#)
    };
    redis::pipe()
        .lrem(config.active_jobs_list(), 0, &id)
        .sadd(set, &id)
        .hset_multiple(
            format!("{}:{id}", config.job_meta_hash()),
            &[
                ("status", status.to_owned()),
                ("attempts", "1".to_owned()),
                ("result", result),
                ("done_at", done_at.to_string()),
            ],
        )
        .exec_async(connection)
        .await
        .unwrap();
    id
}

#[test]
fn queue_lists_requeues_and_sweeps_jobs() {
    use redis::AsyncCommands;
    let server = redis_server::RedisServer::start();
    let url = server.url();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let endpoint = "cli-test";
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut connection = runtime.block_on(async {
        redis::Client::open(url.as_str())
            .unwrap()
            .get_connection_manager()
            .await
            .unwrap()
    });
    let (first, second) = runtime.block_on(async {
        let first = finish_job(&mut connection, endpoint, "msg_1", "Killed", now).await;
        let second = finish_job(&mut connection, endpoint, "msg_2", "Failed", now).await;
        finish_job(
            &mut connection,
            endpoint,
            "msg_old",
            "Done",
            now - 48 * 3600,
        )
        .await;
        finish_job(&mut connection, endpoint, "msg_new", "Done", now).await;
        (first, second)
    });
    let target = ["--redis", url.as_str(), "--endpoint", endpoint];
    let queue = |args: &[&str]| {
        let mut all = vec!["queue"];
        all.extend_from_slice(args);
        run(&all)
    };

    let output = queue(&[&["dead"][..], &target].concat());
    let text = stdout(&output);
    assert!(output.status.success(), "{text}");
    assert!(
        text.contains("2 dead job(s) in the queue of cli-test"),
        "{text}"
    );
    assert!(text.contains(&first) && text.contains(&second), "{text}");
    assert!(
        text.contains("svix-id msg_1") && text.contains("Killed"),
        "{text}"
    );
    assert!(text.contains("AbortError: boom for msg_2"), "{text}");
    // Regression (issue 29, item 7): the stored error reached the terminal raw.
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}'),
        "{text:?}"
    );
    assert!(text.contains("\\u{1b}[2J"), "{text}");

    let output = queue(&[&["requeue"][..], &target, &[first.as_str()]].concat());
    let text = stdout(&output);
    assert!(output.status.success(), "{text}");
    assert!(text.contains(&format!("requeued {first}")), "{text}");
    // Not dead any more.
    let output = queue(&[&["requeue"][..], &target, &[first.as_str()]].concat());
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).contains("not requeued"));

    let output = queue(&[&["requeue"][..], &target, &["--all"]].concat());
    let text = stdout(&output);
    assert!(output.status.success(), "{text}");
    assert!(text.contains("requeued 1 dead job(s)"), "{text}");
    let output = queue(&[&["dead"][..], &target].concat());
    assert!(stdout(&output).contains("0 dead job(s)"));
    let config = clerk_webhooks_redis::queue::queue_config(endpoint);
    let active: Vec<String> = runtime.block_on(async {
        connection
            .lrange(config.active_jobs_list(), 0, -1)
            .await
            .unwrap()
    });
    assert_eq!(active, vec![first.clone(), second.clone()]);

    let output = queue(&[&["sweep"][..], &target, &["--older-than-hours", "24"]].concat());
    let text = stdout(&output);
    assert!(output.status.success(), "{text}");
    assert!(text.contains("swept 1 job(s)"), "{text}");
    let jobs: usize =
        runtime.block_on(async { connection.hlen(config.job_data_hash()).await.unwrap() });
    assert_eq!(
        jobs, 3,
        "the old finished job's data is gone, the others stay"
    );

    // Regression (issue 29, item 7): without --endpoint the tool looked in the queue named after
    // the secret's fingerprint and printed "0 dead job(s)" for a queue nobody uses. No name is
    // guessed: the flag, or the variable the app reads, or a clear error.
    let output = queue(&["dead", "--redis", url.as_str()]);
    assert_eq!(output.status.code(), Some(2));
    let error = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        error.contains("which queue?") && error.contains("CLERK_WEBHOOK_QUEUE"),
        "{error}"
    );
    let output = run_with(
        &["queue", "dead", "--redis", url.as_str()],
        &[("CLERK_WEBHOOK_QUEUE", endpoint)],
        None,
    );
    let text = stdout(&output);
    assert!(output.status.success(), "{text}");
    assert!(
        text.contains("dead job(s) in the queue of cli-test"),
        "{text}"
    );

    // Neither a task id nor --all; no Redis.
    let output = queue(&[&["requeue"][..], &target].concat());
    assert_eq!(output.status.code(), Some(2));
    let output = queue(&[
        "dead",
        "--redis",
        "redis://127.0.0.1:1/",
        "--endpoint",
        endpoint,
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot reach Redis"));
}

/// A server that answers every request on one connection with `answer` (a whole HTTP response),
/// once; its URL.
fn answering(answer: Vec<u8>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/webhooks/clerk", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        // Read the request head and its small body before answering.
        let mut request = [0u8; 64 * 1024];
        let _ = stream.read(&mut request);
        let _ = stream.write_all(&answer);
    });
    url
}

#[test]
fn send_reads_at_most_a_mebibyte_of_the_answer_and_escapes_control_characters() {
    let mut answer = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 8388608\r\n\r\n".to_vec();
    answer.extend_from_slice(b"{\"error\":\"\x1b[31mred\x1b[0m\r\x07\"}\n");
    answer.resize(answer.len() + 8 * 1024 * 1024 - 27, b'x');
    let url = answering(answer);
    let output = run(&[
        "send",
        "--url",
        &url,
        "--type",
        "user.created",
        "--secret",
        SECRET,
    ]);
    let text = stdout(&output);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        &text[..200.min(text.len())]
    );
    assert!(text.contains("400 Bad Request"), "{}", &text[..200]);
    assert!(
        text.contains(r#"{"error":"\u{1b}[31mred\u{1b}[0m\u{d}\u{7}"}"#),
        "{}",
        &text[..300]
    );
    assert!(!text.contains('\x1b') && !text.contains('\r') && !text.contains('\x07'));
    assert!(text.contains("(the answer was cut after 1024 KiB)"));
    assert!(
        text.len() < 1024 * 1024 + 4096,
        "{} bytes printed",
        text.len()
    );
}

#[test]
fn send_speaks_https() {
    // Nothing listens on port 1: the tool tried to connect (it did not refuse the scheme).
    let output = run(&[
        "send",
        "--url",
        "https://127.0.0.1:1/webhooks/clerk",
        "--type",
        "user.created",
        "--secret",
        SECRET,
    ]);
    let errors = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{errors}");
    assert!(
        errors.contains("sending to https://127.0.0.1:1/webhooks/clerk failed"),
        "{errors}"
    );
    assert!(!errors.contains("only http://"), "{errors}");
}

#[test]
fn verify_survives_extreme_timestamps_and_clocks() {
    let body = br#"{"type":"user.created","data":{"id":"user_1"}}"#;
    let path = file("extreme.json", body);
    for (timestamp, now) in [
        ("9223372036854775807", "--now=-1"),
        ("0", "--now=9223372036854775807"),
        ("9223372036854775807", "--now=-9223372036854775808"),
    ] {
        let output = run(&[
            "verify",
            "--secret",
            SECRET,
            "--id",
            "msg_1",
            "--timestamp",
            timestamp,
            "--signature",
            "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            "--body",
            path.to_str().unwrap(),
            now,
        ]);
        let text = stdout(&output);
        let errors = String::from_utf8_lossy(&output.stderr);
        // 1: refused and explained; 2: a time this system cannot represent. Never a panic (101).
        assert!(
            matches!(output.status.code(), Some(1 | 2)),
            "{timestamp} {now}: {text}{errors}"
        );
        assert!(!errors.contains("panicked"), "{errors}");
    }
    let output = run(&[
        "verify",
        "--secret",
        SECRET,
        "--id",
        "msg_1",
        "--timestamp",
        "9223372036854775807",
        "--signature",
        "v1,x",
        "--body",
        path.to_str().unwrap(),
        "--now=-1",
    ]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("timestamp_too_new") && text.contains("tolerance of 300 s"),
        "{text}"
    );
}

#[test]
fn verify_de_chunks_a_chunked_dump() {
    let body = br#"{"type":"user.created","data":{"id":"user_1"}}"#;
    let signature = signature(&verifier(), "msg_chunked", body);
    let mut dump = format!(
        "POST /webhooks/clerk HTTP/1.1\r\nHost: example.com\r\nsvix-id: msg_chunked\r\n\
         svix-timestamp: {T}\r\nsvix-signature: {signature}\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    .into_bytes();
    for chunk in body.chunks(10) {
        dump.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        dump.extend_from_slice(chunk);
        dump.extend_from_slice(b"\r\n");
    }
    dump.extend_from_slice(b"0\r\n\r\n");
    let path = file("chunked.http", &dump);
    let output = verify_dump(&path);
    let text = stdout(&output);
    assert!(output.status.success(), "{text}");
    assert!(
        text.contains(&format!("a body of {} bytes", body.len())),
        "{text}"
    );
    assert!(text.contains("svix-id msg_chunked"), "{text}");
}

#[test]
fn verify_tells_a_re_serialized_body_from_a_wrong_secret() {
    let sent = "{\"type\":\"user.created\",\"data\":{\"first_name\":\"Jürgen\"}}";
    let signature = signature(&verifier(), "msg_1", sent.as_bytes());
    let proxied = file(
        "proxied.json",
        br#"{"type": "user.created", "data": {"first_name": "J\u00fcrgen"}}"#,
    );
    let output = run(&verify_args(&signature, proxied.to_str().unwrap()));
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("re-serialized") && text.contains("\\u escapes"),
        "{text}"
    );
    assert!(!text.contains("another endpoint"), "{text}");
}

#[test]
fn the_secret_comes_from_the_environment_a_file_or_standard_input() {
    let body = file("sources.json", br#"{"type":"user.created","data":{}}"#);
    let sign = [
        "sign",
        "--file",
        body.to_str().unwrap(),
        "--id",
        "msg_s",
        "--timestamp",
        "1700000000",
    ];
    let expected = verifier().sign("msg_s", T, &std::fs::read(&body).unwrap());
    let signed = |output: Output| {
        let text = stdout(&output);
        assert!(
            output.status.success(),
            "{text}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            text.contains(&format!("svix-signature: {expected}")),
            "{text}"
        );
    };
    signed(run_with(&sign, &[("CLERK_WEBHOOK_SECRET", SECRET)], None));
    signed(run_with(
        &sign,
        &[("CLERK_WEBHOOK_SIGNING_SECRET", &format!("  {SECRET}\n"))],
        None,
    ));
    let secret_file = file("secret.txt", format!("{SECRET}\n").as_bytes());
    let mut args = sign.to_vec();
    args.extend(["--secret-file", secret_file.to_str().unwrap()]);
    signed(run(&args));
    let mut args = sign.to_vec();
    args.push("--secret-stdin");
    signed(run_with(&args, &[], Some(format!("{SECRET}\n").as_bytes())));

    // Only one source on the command line.
    let mut args = sign.to_vec();
    args.extend(["--secret-stdin", "--secret", SECRET]);
    assert_eq!(run(&args).status.code(), Some(2));

    // Messages never suggest putting the secret on the command line.
    let output = run(&sign);
    let errors = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        errors.contains("--secret-file") && errors.contains("--secret-stdin"),
        "{errors}"
    );
    assert!(
        !errors.contains("--secret ") && !errors.contains("--secret whsec"),
        "{errors}"
    );
    let help = String::from_utf8_lossy(&run(&["sign", "--help"]).stdout).into_owned();
    assert!(help.contains("Visible to every local user"), "{help}");
}

#[test]
fn send_does_not_follow_redirects() {
    let url = answering(
        b"HTTP/1.1 308 Permanent Redirect\r\nlocation: http://127.0.0.1:1/elsewhere\r\ncontent-length: 0\r\n\r\n"
            .to_vec(),
    );
    let output = run(&[
        "send",
        "--url",
        &url,
        "--type",
        "user.created",
        "--secret",
        SECRET,
    ]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains("308 Permanent Redirect"), "{text}");
}
