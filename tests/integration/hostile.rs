//! Regression tests for the attacks of the hardening issue: what a forged, unauthenticated request
//! can make the layer spend or say. (Memory per stalled connection is in
//! `tests/stalled_memory.rs`, a binary of its own; log volume in `tracing.rs`.)

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::routing::post;
use axum::Router;
use bytes::Bytes;
use clerk_webhooks::{ClerkEvent, ClerkWebhookLayer};
use http::{Request, StatusCode};
use http_body::Frame;
use http_body_util::BodyExt;
use serde_json::Value;
use tokio::sync::Notify;
use tower::{Service, ServiceBuilder, ServiceExt};

use crate::common::*;

fn forged(body: Body) -> Request<Body> {
    forged_request("/hook", "msg_forged", body)
}

/// A body that sends `first` (if any), tells `polled` once it is waiting for more, and never ends.
struct NeverEnds {
    first: Option<Bytes>,
    polled: Arc<Notify>,
}

impl http_body::Body for NeverEnds {
    type Data = Bytes;
    type Error = Infallible;
    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if let Some(first) = self.first.take() {
            return Poll::Ready(Some(Ok(Frame::data(first))));
        }
        self.polled.notify_one();
        Poll::Pending
    }
}

/// The status and JSON answer of `app` to `request`.
async fn send(app: Router, request: Request<Body>) -> (StatusCode, Value) {
    let response = app.oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn ok_handler(event: ClerkEvent) -> StatusCode {
    assert!(event.is_known());
    StatusCode::OK
}

/// Regression (item 2): the inner service used to be readied, and its permit held, while a forged
/// body was still arriving; `concurrency_limit(1)` inside the layer then blocked every genuine
/// delivery behind one request whose body never ends.
#[tokio::test(start_paused = true)]
async fn a_forged_upload_holds_no_permit_of_a_limit_inside_the_layer() {
    let mut service = ServiceBuilder::new()
        .layer(ClerkWebhookLayer::new(verifier()))
        .concurrency_limit(1)
        .service(post(ok_handler));

    let polled = Arc::new(Notify::new());
    let stalled = forged(Body::new(NeverEnds {
        first: Some(Bytes::from_static(b"{")),
        polled: polled.clone(),
    }));
    let stalled = ServiceExt::<Request<Body>>::ready(&mut service)
        .await
        .unwrap()
        .call(stalled);
    let stalled = tokio::spawn(stalled);
    polled.notified().await;

    let body = user_created("user_1");
    let genuine = signed_request(
        "/hook",
        "msg_1",
        NOW,
        body.as_bytes(),
        Body::from(body.clone()),
    );
    // Time is paused: if the genuine delivery waited for the permit, the runtime would go idle,
    // the clock would jump and the timeout fire at once.
    let response = tokio::time::timeout(Duration::from_secs(2), async {
        ServiceExt::<Request<Body>>::ready(&mut service)
            .await
            .unwrap()
            .call(genuine)
            .await
            .unwrap()
    })
    .await
    .expect("the genuine delivery waited behind a forged upload");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(!stalled.is_finished());
    stalled.abort();
}

fn app(layer: ClerkWebhookLayer) -> Router {
    Router::new().route("/hook", post(ok_handler).route_layer(layer))
}

/// Regression (item 3): thousands of `v1,` entries cost 1000x a clean verification. A genuine
/// header never carries more than a handful; a flooded one is refused before any HMAC.
#[tokio::test]
async fn a_flooded_signature_header_is_refused_as_invalid_header() {
    let flooded = vec![FORGED_SIGNATURE; 8000].join(" ");
    let mut request = forged(Body::from("{}"));
    request
        .headers_mut()
        .insert("svix-signature", flooded.parse().unwrap());
    let (status, error) = send(app(ClerkWebhookLayer::new(verifier())), request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["error"], "invalid_header");
    assert!(
        !error["message"].as_str().unwrap().contains("AAAA"),
        "{error}"
    );
}

/// Key rotation sends a few signatures; the genuine one among them still verifies.
#[tokio::test]
async fn a_genuine_signature_among_a_few_others_verifies() {
    let body = user_created("user_1");
    let mut request = signed_request(
        "/hook",
        "msg_1",
        NOW,
        body.as_bytes(),
        Body::from(body.clone()),
    );
    let genuine = request.headers()["svix-signature"]
        .to_str()
        .unwrap()
        .to_owned();
    let others = [FORGED_SIGNATURE; 5].join(" ");
    request.headers_mut().insert(
        "svix-signature",
        format!("{others} v1a,xyz {genuine}").parse().unwrap(),
    );
    let response = app(ClerkWebhookLayer::new(verifier()))
        .oneshot(request)
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

/// Regression (item 1): a huge Content-Length was reserved up front; with no limit of our own a
/// single request aborted the process. Now only what arrives is held.
#[tokio::test]
async fn a_huge_announced_length_reserves_nothing() {
    let layer = ClerkWebhookLayer::new(verifier()).with_body_limit(usize::MAX);
    let mut request = forged(Body::from("{}"));
    request
        .headers_mut()
        .insert("content-length", u64::MAX.to_string().parse().unwrap());
    let (status, error) = send(app(layer), request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["error"], "invalid_signature");
}

/// Regression (item 6): behind tower-http's `RequestBodyLimitLayer`, a chunked body over that
/// limit was answered 400 `body_error`.
#[tokio::test]
async fn an_outer_body_limit_is_answered_413() {
    let app = app(ClerkWebhookLayer::new(verifier()))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(16));
    let body = Body::new(ReadyChunks(vec![Bytes::from(vec![b' '; 10]); 4]));
    let (status, error) = send(app, forged(body)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error["error"], "payload_too_large");
}

/// The README's advice for the whole request: a deadline around the layer, which also bounds a
/// body that trickles in where the layer keeps no deadline of its own (turned off here; its
/// minimum rate is `slow_body.rs`'s).
#[tokio::test(start_paused = true)]
async fn a_trickling_body_is_cut_by_a_timeout_around_the_layer() {
    let app = app(ClerkWebhookLayer::new(verifier()).without_min_body_rate()).layer(
        tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(10),
        ),
    );
    let polled = Arc::new(Notify::new());
    let body = Body::new(NeverEnds {
        first: Some(Bytes::from_static(b"{")),
        polled,
    });
    let started = tokio::time::Instant::now();
    let response = app.oneshot(forged(body)).await.unwrap();
    assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
    assert_eq!(
        started.elapsed(),
        Duration::from_secs(10),
        "the outer timeout answered"
    );
}

/// Regression (item 4): a 422 used to quote the value that did not fit, and Svix stores that
/// answer where the Clerk dashboard shows it.
#[tokio::test]
async fn an_unsupported_event_names_the_field_never_the_value() {
    let body = r#"{"type":"user.created","data":{"id":"user_1","banned":"alice@example.com"}}"#;
    let request = signed_request("/hook", "msg_1", NOW, body.as_bytes(), Body::from(body));
    let (status, error) = send(app(ClerkWebhookLayer::new(verifier())), request).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error["error"], "unsupported_event");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("user.created") && message.contains("banned"),
        "{message}"
    );
    assert!(!message.contains("alice"), "{message}");
}
