//! Issue 21: the `axum` example serves Prometheus metrics; scraped after real deliveries (accepted,
//! refused, duplicate), the counts are what happened.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use clerk_webhooks::{SigningSecret, Verifier};

use crate::common::{example, Running};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// One HTTP/1.1 request on a connection of its own; the whole answer.
fn request(address: &str, head: &str, body: &str) -> String {
    let mut stream = TcpStream::connect(address).unwrap();
    write!(
        stream,
        "{head}\r\nhost: {address}\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

fn deliver(address: &str, id: &str, signature: Option<&str>) -> String {
    let body = r#"{"type":"user.created","data":{"id":"user_1"}}"#;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let verifier = Verifier::new(SigningSecret::new(SECRET).unwrap());
    let signature =
        signature.map_or_else(|| verifier.sign(id, now, body.as_bytes()), str::to_owned);
    let head = format!(
        "POST /webhooks/clerk HTTP/1.1\r\ncontent-type: application/json\r\nsvix-id: {id}\r\n\
         svix-timestamp: {now}\r\nsvix-signature: {signature}"
    );
    request(address, &head, body)
}

/// The value of the sample `series` (name and labels exactly as exported) in a scrape.
fn sample(scrape: &str, series: &str) -> Option<f64> {
    scrape
        .lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
}

#[test]
fn the_axum_example_counts_accepted_refused_and_duplicate_deliveries() {
    let mut child = Running(
        Command::new(example("axum", &["--all-features"]))
            .env("CLERK_WEBHOOK_SIGNING_SECRET", SECRET)
            .env("PORT", "0")
            .env("RUST_LOG", "off")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut lines = BufReader::new(child.0.stdout.take().unwrap()).lines();
    let listening = lines.next().unwrap().unwrap();
    let address = listening
        .strip_prefix("listening on http://")
        .and_then(|rest| rest.strip_suffix("/webhooks/clerk"))
        .unwrap_or_else(|| panic!("unexpected first line: {listening}"))
        .to_owned();
    // Keep reading what the handler prints, so the example never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});

    assert!(deliver(&address, "msg_1", None).starts_with("HTTP/1.1 200"));
    let duplicate = deliver(&address, "msg_1", None);
    assert!(duplicate.contains(r#""duplicate":true"#), "{duplicate}");
    let forged = "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    assert!(deliver(&address, "msg_2", Some(forged)).starts_with("HTTP/1.1 400"));

    let scrape = request(&address, "GET /metrics HTTP/1.1", "");
    assert!(scrape.starts_with("HTTP/1.1 200"), "{scrape}");
    let expect = [
        (
            r#"clerk_webhooks_deliveries_accepted_total{event_type="user.created"}"#,
            2.0,
        ),
        (
            r#"clerk_webhooks_deliveries_refused_total{code="invalid_signature"}"#,
            1.0,
        ),
        (r#"clerk_webhooks_dedupe_total{outcome="processed"}"#, 1.0),
        (r#"clerk_webhooks_dedupe_total{outcome="duplicate"}"#, 1.0),
        ("clerk_webhooks_body_bytes_count", 3.0),
        ("clerk_webhooks_verify_parse_seconds_count", 3.0),
    ];
    for (series, value) in expect {
        assert_eq!(
            sample(&scrape, series),
            Some(value),
            "{series} in:\n{scrape}"
        );
    }
    assert!(!scrape.contains("msg_1"), "an id became a label:\n{scrape}");
    // Regression (review of issue 30, item 9): the layer describes its metrics to the recorder
    // installed when it is built; the example installs it first, so Prometheus shows `# HELP`.
    for name in [
        "clerk_webhooks_deliveries_accepted_total",
        "clerk_webhooks_dedupe_total",
        "clerk_webhooks_verify_parse_seconds",
    ] {
        assert!(
            scrape.contains(&format!("# HELP {name} ")),
            "no description of {name}:\n{scrape}"
        );
    }
}
