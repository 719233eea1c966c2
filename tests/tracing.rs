//! With the `tracing` feature, each rejection emits one event with the code and the svix-id, and
//! never the body or the secret.
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
fn accepted_deliveries_log_nothing() {
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
    assert!(recorder.0.lock().unwrap().is_empty());
}
