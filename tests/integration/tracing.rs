//! With the `tracing` feature, each rejection emits one bounded event with the code and the
//! svix-id, and never the body or the secret; an accepted delivery one debug event.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::routing::post;
use axum::Router;
use clerk_webhooks::ClerkWebhookLayer;
use tower::ServiceExt;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

use crate::common::*;

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
        // The longest hint: keys out of order, neither cause ruled out.
        forged(&huge_id, r#"{"type":"user.created","data":{}}"#),
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

/// A layer whose verifier reads a clock the test moves, and what it logged.
struct Clocked {
    app: Router,
    now: Arc<AtomicI64>,
    recorder: Recorder,
    runtime: tokio::runtime::Runtime,
}

impl Clocked {
    fn new() -> Self {
        let now = Arc::new(AtomicI64::new(NOW));
        let clock = Arc::clone(&now);
        let verifier =
            clerk_webhooks::Verifier::new(clerk_webhooks::SigningSecret::new(SECRET).unwrap())
                .with_clock(move || at(clock.load(Ordering::SeqCst)));
        Self {
            app: Router::new().route(
                "/hook",
                post(|| async { "ok" }).route_layer(ClerkWebhookLayer::new(verifier)),
            ),
            now,
            recorder: Recorder::default(),
            runtime: tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap(),
        }
    }

    /// Sends `request` at `secs`, its headers signed then: `signatures` makes its
    /// `svix-signature` from the id, the timestamp and the body.
    fn send(
        &self,
        secs: i64,
        id: &str,
        body: &str,
        signatures: impl Fn(&str, i64, &[u8]) -> String,
    ) -> u16 {
        self.now.store(secs, Ordering::SeqCst);
        let mut request = http::Request::post("/hook")
            .body(Body::from(body.to_owned()))
            .unwrap();
        let headers = request.headers_mut();
        headers.insert("svix-id", id.parse().unwrap());
        headers.insert("svix-timestamp", secs.to_string().parse().unwrap());
        let signature = signatures(id, secs, body.as_bytes());
        headers.insert("svix-signature", signature.parse().unwrap());
        tracing::subscriber::with_default(self.recorder.clone(), || {
            self.runtime
                .block_on(self.app.clone().oneshot(request))
                .unwrap()
                .status()
                .as_u16()
        })
    }

    fn lines(&self) -> Vec<String> {
        self.recorder.0.lock().unwrap().clone()
    }

    fn lines_at(&self, level: Level) -> Vec<String> {
        let level = level.to_string();
        self.lines()
            .into_iter()
            .filter(|line| line.starts_with(&level))
            .collect()
    }
}

fn forged_signature(_: &str, _: i64, _: &[u8]) -> String {
    FORGED_SIGNATURE.to_owned()
}

fn ours(id: &str, timestamp: i64, body: &[u8]) -> String {
    verifier().sign(id, timestamp, body)
}

/// Ours, and one of a secret this layer lacks, as Svix signs during a rotation.
fn ours_and_another(id: &str, timestamp: i64, body: &[u8]) -> String {
    let other =
        clerk_webhooks::Verifier::new(clerk_webhooks::SigningSecret::new(OTHER_SECRET).unwrap());
    format!(
        "{} {}",
        other.sign(id, timestamp, body),
        ours(id, timestamp, body)
    )
}

/// Regression (issue 30, item 7): forged requests with well-formed headers, a dozen over ten
/// minutes on a quiet endpoint, logged "every delivery was refused" at `error`. Forged traffic
/// alone now logs no `error` line: the streak says at `warn` what was refused, and what it means
/// if Clerk sent the requests and if it did not; the unknown-signer signal stays quiet.
#[test]
fn forged_requests_alone_log_no_error() {
    let layer = Clocked::new();
    for n in 0..20 {
        let status = layer.send(NOW + n * 30, &format!("msg_{n}"), "{}", forged_signature);
        assert_eq!(status, 400);
    }
    let errors = layer.lines_at(Level::ERROR);
    assert!(errors.is_empty(), "{errors:?}");
    let streak: Vec<String> = layer
        .lines_at(Level::WARN)
        .into_iter()
        .filter(|line| line.contains("in a row"))
        .collect();
    assert_eq!(streak.len(), 1, "{:?}", layer.lines());
    let line = &streak[0];
    assert!(
        line.contains("requests with Svix headers in a row were refused for invalid_signature")
            && line.contains("none accepted")
            && line.contains("if Clerk sent them")
            && line.contains("if it did not, someone is sending forged requests"),
        "{line}"
    );
    assert!(
        !line.contains("probably") && !line.contains("was rotated"),
        "{line}"
    );
    assert!(
        !layer
            .lines()
            .iter()
            .any(|line| line.contains("none of the configured secrets made")),
        "{:?}",
        layer.lines()
    );
}

/// Issue 30, item 7: a genuine delivery that also carries a signature none of the layer's secrets
/// made (Svix signs with the old and the new secret for 24 hours after a rotation) is told once
/// at `error`, then at most hourly; a delivery whose signatures are all known ends it; and a
/// streak of bad signatures after it says a secret of the rotation is missing, at `error`.
#[test]
fn a_delivery_also_signed_by_an_unknown_secret_is_told_once_at_error() {
    let layer = Clocked::new();
    let body = user_created("user_1");
    let unknown_signer = |lines: Vec<String>| -> Vec<String> {
        lines
            .into_iter()
            .filter(|line| line.contains("a verified delivery also carries"))
            .collect()
    };
    // Ten deliveries over twenty minutes: one line.
    for n in 0..10 {
        let status = layer.send(NOW + n * 120, &format!("msg_{n}"), &body, ours_and_another);
        assert_eq!(status, 200);
    }
    let told = unknown_signer(layer.lines_at(Level::ERROR));
    assert_eq!(told.len(), 1, "{:?}", layer.lines());
    assert!(
        told[0].contains("Clerk signs with a secret this server does not have")
            && told[0].contains("24 hours")
            && told[0].contains("CLERK_WEBHOOK_SIGNING_SECRET"),
        "{}",
        told[0]
    );
    // An hour after the first line, the next delivery tells it again.
    assert_eq!(
        layer.send(NOW + 3600, "msg_h", &body, ours_and_another),
        200
    );
    assert_eq!(unknown_signer(layer.lines_at(Level::ERROR)).len(), 2);

    // The rotation went through without the new secret: Svix signs with it alone, every
    // delivery is refused; the streak is no forgery's then, and says what is missing.
    for n in 0..11 {
        let status = layer.send(
            NOW + 7200 + n * 60,
            &format!("msg_r{n}"),
            &body,
            forged_signature,
        );
        assert_eq!(status, 400);
    }
    let streak: Vec<String> = layer
        .lines_at(Level::ERROR)
        .into_iter()
        .filter(|line| line.contains("in a row"))
        .collect();
    assert_eq!(streak.len(), 1, "{:?}", layer.lines());
    assert!(
        streak[0].contains("one of the two is not configured here")
            && streak[0].contains("these may be Clerk's deliveries"),
        "{}",
        streak[0]
    );

    // A delivery whose signatures are all known (the new secret added): the signal ends.
    assert_eq!(layer.send(NOW + 9000, "msg_k", &body, ours), 200);
    let infos = layer.lines_at(Level::INFO);
    assert!(
        infos
            .iter()
            .any(|line| line.contains("no signature of an unknown secret")),
        "{infos:?}"
    );
    assert_eq!(unknown_signer(layer.lines_at(Level::ERROR)).len(), 2);
}
