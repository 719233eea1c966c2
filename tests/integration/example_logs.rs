//! The `axum` example as a new user runs it: a forged delivery shows up in its output, and a
//! missing secret stops it at startup with words a person understands.
//!
//! Runs the example's binary, which `cargo test --all-targets` (the README's test command) builds.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::common::{example, Running};

/// How long a line may take to appear before the test gives up (a guard, never a wait).
const PATIENCE: Duration = Duration::from_secs(60);

#[test]
fn the_axum_example_logs_a_forged_delivery() {
    let mut child = Running(
        Command::new(example("axum", &[]))
            .env(
                "CLERK_WEBHOOK_SIGNING_SECRET",
                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            )
            .env("PORT", "0")
            .env("NO_COLOR", "1")
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let (lines_tx, lines) = mpsc::channel();
    for output in [
        Box::new(child.0.stdout.take().unwrap()) as Box<dyn Read + Send>,
        Box::new(child.0.stderr.take().unwrap()),
    ] {
        let lines_tx = lines_tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(output).lines().map_while(Result::ok) {
                if lines_tx.send(line).is_err() {
                    break;
                }
            }
        });
    }
    let next_line = || {
        lines
            .recv_timeout(PATIENCE)
            .expect("the example printed nothing more")
    };

    let listening = next_line();
    let address = listening
        .strip_prefix("listening on http://")
        .and_then(|rest| rest.strip_suffix("/webhooks/clerk"))
        .unwrap_or_else(|| panic!("unexpected first line: {listening}"))
        .to_owned();

    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let body = r#"{"type":"user.created","data":{"id":"user_1"}}"#;
    let mut stream = TcpStream::connect(&address).unwrap();
    write!(
        stream,
        "POST /webhooks/clerk HTTP/1.1\r\nhost: {address}\r\nconnection: close\r\n\
         content-type: application/json\r\ncontent-length: {}\r\nsvix-id: msg_forged_1\r\n\
         svix-timestamp: {now}\r\nsvix-signature: v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(
        answer.contains(r#""error":"invalid_signature""#),
        "{answer}"
    );

    let logged = next_line();
    assert!(logged.contains("WARN"), "{logged}");
    assert!(logged.contains("clerk webhook rejected"), "{logged}");
    assert!(logged.contains("invalid_signature"), "{logged}");
    assert!(logged.contains("msg_forged_1"), "{logged}");
    assert!(
        logged.contains("checked 1 v1 signature(s) in svix-signature against 1 secret(s)"),
        "{logged}"
    );
    assert!(
        !logged.contains("user_1"),
        "the log quotes the body: {logged}"
    );
}

#[test]
fn the_axum_example_without_a_secret_says_what_to_set() {
    let output = Command::new(example("axum", &[]))
        .env_remove("CLERK_WEBHOOK_SIGNING_SECRET")
        .env_remove("CLERK_WEBHOOK_SECRET")
        .env("PORT", "0")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    // `main` returned the error with `?`: Rust prints its Debug form, which must read like a
    // sentence, not `MissingSecret`.
    assert!(stderr.contains("CLERK_WEBHOOK_SIGNING_SECRET"), "{stderr}");
    assert!(stderr.contains("whsec_"), "{stderr}");
    assert!(!stderr.contains("MissingSecret"), "{stderr}");
}
