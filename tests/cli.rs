//! The `clerk-webhooks` command-line tool, run as a user runs it, against a loopback server.
#![cfg(feature = "cli")]

mod common;
#[cfg(feature = "queue")]
#[path = "common/redis_server.rs"]
mod redis_server;

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use axum::routing::post;
use axum::Router;
use clerk_webhooks::{ClerkEvent, ClerkWebhookLayer, Delivery, SigningSecret, Verifier};
use common::{OTHER_SECRET, SECRET};

const KEY: &str = "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"; // SECRET without `whsec_`
const T: i64 = 1_700_000_000;

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_clerk-webhooks"))
        .args(args)
        .env_remove("CLERK_WEBHOOK_SIGNING_SECRET")
        .env_remove("CLERK_WEBHOOK_SECRET")
        .output()
        .unwrap()
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
    let output = run(&[
        "verify",
        "--secret",
        SECRET,
        "--request",
        path.to_str().unwrap(),
        "--now",
        "1700000000",
    ]);
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

    let output = run(&[
        "send",
        "--url",
        "https://example.com/",
        "--type",
        "user.created",
        "--secret",
        SECRET,
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("only http://"));
}

/// Marks the job of `svix_id` as apalis-redis 1.0 does when it gives up on it or finishes it
/// (handle_results.lua): out of the scheduled set, into the dead or done set, with its status,
/// result and time. The library's own tests kill jobs with real workers; this one checks the
/// command's plumbing.
#[cfg(feature = "queue")]
async fn finish_job(
    connection: &mut redis::aio::ConnectionManager,
    endpoint: &str,
    svix_id: &str,
    status: &str,
    done_at: u64,
) -> String {
    use clerk_webhooks::queue::{enqueue, queue_config, Enqueued, QueuedDelivery};
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
        format!(r#"{{"Err":"AbortError: boom for {svix_id}"}}"#)
    };
    redis::pipe()
        .zrem(config.scheduled_jobs_set(), &id)
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

#[cfg(feature = "queue")]
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
    let config = clerk_webhooks::queue::queue_config(endpoint);
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

    // The namespace derived from the secret, as the server derives it.
    let output = queue(&["dead", "--redis", url.as_str(), "--secret", SECRET]);
    let text = stdout(&output);
    assert!(output.status.success(), "{text}");
    assert!(
        text.contains(&format!("in the queue of {}", verifier().endpoint())),
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
