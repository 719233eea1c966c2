//! With the `tracing` feature, each rejection emits one bounded event with the code and the
//! svix-id, and never the body or the secret; an accepted delivery one debug event.
#![cfg(feature = "tracing")]

mod common;

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::routing::post;
use axum::Router;
use clerk_webhooks::ClerkWebhookLayer;
use common::*;
use tower::ServiceExt;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// Records every event as `LEVEL field=value ...`.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<String>>>);

struct Line<'a>(&'a mut String);

impl Visit for Line<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={:?}", field.name(), value);
    }
}

impl Subscriber for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut line = event.metadata().level().to_string();
        event.record(&mut Line(&mut line));
        self.0.lock().unwrap().push(line);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

fn run(recorder: &Recorder, request: http::Request<Body>) -> u16 {
    let app: Router = Router::new().route(
        "/hook",
        post(|| async { "ok" }).route_layer(ClerkWebhookLayer::new(verifier())),
    );
    tracing::subscriber::with_default(recorder.clone(), || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime
            .block_on(app.oneshot(request))
            .unwrap()
            .status()
            .as_u16()
    })
}

#[test]
fn one_event_per_rejection_with_code_and_id_but_no_body_or_secret() {
    let recorder = Recorder::default();
    let secret_body = r#"{"type":"user.created","data":{"id":"user_1","first_name":"SECRET-PII"}}"#;
    let tampered = secret_body.replace("user_1", "user_2");
    let request = signed_request(
        "/hook",
        "msg_traced",
        NOW,
        secret_body.as_bytes(),
        Body::from(tampered),
    );
    assert_eq!(run(&recorder, request), 400);

    let lines = recorder.0.lock().unwrap().clone();
    assert_eq!(lines.len(), 1, "{lines:?}");
    let line = &lines[0];
    assert!(line.starts_with(&Level::WARN.to_string()), "{line}");
    assert!(line.contains("code=\"invalid_signature\""), "{line}");
    assert!(line.contains("svix_id=\"msg_traced\""), "{line}");
    assert!(!line.contains("SECRET-PII"), "{line}");
    let key = SECRET.strip_prefix("whsec_").unwrap();
    assert!(!line.contains(key), "{line}");
}

#[test]
fn unsupported_events_are_logged_at_error_level() {
    let recorder = Recorder::default();
    let body = r#"{"type":"user.created","data":{"id":"user_1","banned":"maybe"}}"#;
    let request = signed_request(
        "/hook",
        "msg_bad_data",
        NOW,
        body.as_bytes(),
        Body::from(body),
    );
    assert_eq!(run(&recorder, request), 422);
    let lines = recorder.0.lock().unwrap().clone();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with(&Level::ERROR.to_string()),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains("code=\"unsupported_event\"") && lines[0].contains("msg_bad_data"));
    assert!(
        lines[0].contains("user.created") && lines[0].contains("banned"),
        "{}",
        lines[0]
    );
    assert!(
        !lines[0].contains("maybe"),
        "the log quotes the body: {}",
        lines[0]
    );
}

#[test]
fn accepted_deliveries_log_one_debug_line_with_id_and_type() {
    let recorder = Recorder::default();
    let body = user_created("user_1");
    let request = signed_request(
        "/hook",
        "msg_ok",
        NOW,
        body.as_bytes(),
        Body::from(body.clone()),
    );
    assert_eq!(run(&recorder, request), 200);
    let lines = recorder.0.lock().unwrap().clone();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with(&Level::DEBUG.to_string()),
        "{}",
        lines[0]
    );
    assert!(
        lines[0].contains("svix_id=\"msg_ok\"") && lines[0].contains("user.created"),
        "{}",
        lines[0]
    );
    assert!(!lines[0].contains("Zoë"), "{}", lines[0]);
}

fn forged(id: &str, body: &'static str) -> http::Request<Body> {
    forged_request("/hook", id, Body::from(body))
}

fn logged_bytes(recorder: &Recorder) -> usize {
    recorder.0.lock().unwrap().iter().map(String::len).sum()
}

/// Regression (hardening issue, item 5): a 64 KiB `svix-id` wrote a 65 KB warn line.
#[test]
fn an_unauthenticated_request_writes_at_most_about_a_kilobyte_of_log() {
    let huge_id = "m".repeat(64 * 1024);
    for request in [
        forged(&huge_id, "{}"),
        forged(&huge_id[..200], "{}"),
        forged("msg_1", "{}"),
    ] {
        let recorder = Recorder::default();
        let status = run(&recorder, request);
        assert_eq!(status, 400);
        let lines = recorder.0.lock().unwrap().clone();
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(
            logged_bytes(&recorder) <= 1024,
            "{} bytes: {}",
            logged_bytes(&recorder),
            lines[0]
        );
    }
}

#[test]
fn a_signature_mismatch_says_what_was_compared_and_the_likely_cause() {
    let recorder = Recorder::default();
    assert_eq!(run(&recorder, forged("msg_1", "{}")), 400);
    let line = recorder.0.lock().unwrap()[0].clone();
    assert!(line.contains("code=\"invalid_signature\""), "{line}");
    assert!(
        line.contains("checked 1 v1 signature(s) in svix-signature against 1 secret(s), over a body of 2 bytes"),
        "{line}"
    );
    assert!(line.contains("the secret of another endpoint"), "{line}");

    let recorder = Recorder::default();
    let mut request = forged("msg_1", "{}");
    request
        .headers_mut()
        .insert("content-encoding", "gzip".parse().unwrap());
    assert_eq!(run(&recorder, request), 400);
    let line = recorder.0.lock().unwrap()[0].clone();
    assert!(line.contains("content-encoding"), "{line}");
}

/// The log's hint is the verifier's diagnosis of the one verification the request got.
#[test]
fn the_hint_tells_a_re_serialized_body_and_a_wrong_clock_from_a_wrong_secret() {
    let hint = |request: http::Request<Body>| {
        let recorder = Recorder::default();
        assert_eq!(run(&recorder, request), 400);
        let line = recorder.0.lock().unwrap()[0].clone();
        line
    };
    let sent = r#"{"type":"user.created","data":{"first_name":"Jürgen"}}"#;
    let proxied = r#"{"type": "user.created", "data": {"first_name": "J\u00fcrgen"}}"#;
    let line = hint(signed_request(
        "/hook",
        "msg_1",
        NOW,
        sent.as_bytes(),
        Body::from(proxied),
    ));
    assert!(
        line.contains("re-serialized") && line.contains("\\\\u escapes"),
        "{line}"
    );
    assert!(
        !line.contains("another endpoint") && !line.contains("rgen"),
        "{line}"
    );

    let line = hint(signed_request(
        "/hook",
        "msg_1",
        NOW + 420,
        b"{}",
        Body::from("{}"),
    ));
    assert!(line.contains("code=\"timestamp_too_new\""), "{line}");
    assert!(
        line.contains("420 s in the future, beyond the tolerance of 300 s"),
        "{line}"
    );
    assert!(!line.contains("replay"), "{line}");

    let line = hint(signed_request(
        "/hook",
        "msg_1",
        NOW * 1000,
        b"{}",
        Body::from("{}"),
    ));
    assert!(line.contains("looks like milliseconds"), "{line}");

    let line = hint(signed_request(
        "/hook",
        "msg_1",
        NOW - 600,
        b"{}",
        Body::from("{}"),
    ));
    assert!(
        line.contains("600 s in the past, beyond the tolerance of 300 s")
            && line.contains("replayed"),
        "{line}"
    );
}

#[test]
fn an_invalid_payload_logs_its_reason_without_the_value() {
    let recorder = Recorder::default();
    let body = r#"{"type":"user.created","data":"alice@example.com""#;
    let request = signed_request("/hook", "msg_1", NOW, body.as_bytes(), Body::from(body));
    assert_eq!(run(&recorder, request), 400);
    let line = recorder.0.lock().unwrap()[0].clone();
    assert!(line.contains("code=\"invalid_payload\""), "{line}");
    assert!(line.contains("line 1 column"), "{line}");
    assert!(!line.contains("alice"), "{line}");
}
