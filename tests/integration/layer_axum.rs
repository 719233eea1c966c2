//! ClerkWebhookLayer end to end through a real axum `Router`.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::post;
use axum::{Json, Router};
use bytes::Bytes;
use clerk_webhooks::layer::UnsupportedEvents;
use clerk_webhooks::{ClerkEvent, ClerkWebhookLayer, Delivery, EventMeta};
use http::{Request, StatusCode};
use http_body::Frame;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::common::*;

#[derive(Clone, Default)]
struct Calls(Arc<AtomicUsize>);

async fn handler(
    State(calls): State<Calls>,
    delivery: Delivery,
    event: ClerkEvent,
    meta: EventMeta,
    raw: Bytes,
) -> Json<Value> {
    calls.0.fetch_add(1, Ordering::SeqCst);
    let user_id = match &event {
        ClerkEvent::UserCreated(user) => Some(user.id.clone()),
        _ => None,
    };
    let unknown_data = match &event {
        ClerkEvent::Unknown(unknown) => Some(unknown.data.clone()),
        _ => None,
    };
    let (unparsed_data, unparsed_path) = match &event {
        ClerkEvent::Unparsed(unparsed) => {
            (Some(unparsed.data.clone()), Some(unparsed.path.clone()))
        }
        _ => (None, None),
    };
    Json(json!({
        "svix_id": delivery.id(),
        "svix_timestamp": delivery.timestamp(),
        "type": event.event_type(),
        "user_id": user_id,
        "unknown_data": unknown_data,
        "unparsed_data": unparsed_data,
        "unparsed_path": unparsed_path,
        "is_known": event.is_known(),
        "instance_id": meta.instance_id,
        "raw": String::from_utf8_lossy(&raw),
    }))
}

fn app_with(layer: ClerkWebhookLayer) -> (Router, Calls) {
    let calls = Calls::default();
    let app = Router::new()
        .route("/webhooks/clerk", post(handler))
        .route_layer(layer)
        .route("/other", post(|| async { "other" }))
        .with_state(calls.clone());
    (app, calls)
}

fn app() -> (Router, Calls) {
    app_with(ClerkWebhookLayer::new(verifier()))
}

async fn send(app: &Router, request: Request<Body>) -> (StatusCode, http::HeaderMap, Value) {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
    (status, headers, body)
}

fn signed(id: &str, timestamp: i64, body: &str) -> Request<Body> {
    signed_request(
        "/webhooks/clerk",
        id,
        timestamp,
        body.as_bytes(),
        Body::from(body.to_owned()),
    )
}

#[tokio::test]
async fn a_valid_delivery_reaches_the_handler_typed_and_raw() {
    let (app, calls) = app();
    let body = user_created("user_42");
    let (status, _, seen) = send(&app, signed("msg_1", NOW, &body)).await;
    assert_eq!(status, StatusCode::OK, "{seen}");
    assert_eq!(seen["svix_id"], "msg_1");
    assert_eq!(seen["svix_timestamp"], NOW);
    assert_eq!(seen["type"], "user.created");
    assert_eq!(seen["user_id"], "user_42");
    assert_eq!(seen["instance_id"], "ins_1");
    assert_eq!(
        seen["raw"], body,
        "the handler sees the exact bytes that were signed"
    );
    assert_eq!(calls.0.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn each_verification_failure_is_a_400_json_and_the_handler_is_not_called() {
    let (app, calls) = app();
    let body = user_created("user_1");
    let mut missing = signed("msg_1", NOW, &body);
    missing.headers_mut().remove("svix-signature");
    let mut bad_header = signed("msg_1", NOW, &body);
    bad_header
        .headers_mut()
        .insert("svix-id", http::HeaderValue::from_bytes(b"\xffid").unwrap());
    let mut bad_timestamp = signed("msg_1", NOW, &body);
    bad_timestamp
        .headers_mut()
        .insert("svix-timestamp", http::HeaderValue::from_static("soon"));
    let tampered = signed_request(
        "/webhooks/clerk",
        "msg_1",
        NOW,
        body.as_bytes(),
        Body::from(body.replace("user_1", "user_2")),
    );
    let cases = [
        (missing, "missing_header"),
        (bad_header, "invalid_header"),
        (bad_timestamp, "invalid_timestamp"),
        (signed("msg_1", NOW - 301, &body), "timestamp_too_old"),
        (signed("msg_1", NOW + 301, &body), "timestamp_too_new"),
        (tampered, "invalid_signature"),
    ];
    for (request, code) in cases {
        let (status, headers, error) = send(&app, request).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{code}");
        assert_eq!(headers["content-type"], "application/json");
        assert_eq!(error["error"], code);
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert_eq!(error.as_object().unwrap().len(), 2);
    }
    assert_eq!(calls.0.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_verified_body_that_is_not_an_envelope_is_invalid_payload() {
    let (app, calls) = app();
    for body in ["not json", "[1,2]", r#"{"data":{}}"#] {
        let (status, _, error) = send(&app, signed("msg_1", NOW, body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(error["error"], "invalid_payload", "{body}");
    }
    assert_eq!(calls.0.load(Ordering::SeqCst), 0);
}

/// Issue 18, item 6: a route that only stores deliveries hands on every authentic envelope,
/// including one whose data this version's model cannot read, with the delivery and the metadata
/// and no typed event; what is not an envelope is still refused.
#[tokio::test]
async fn a_verify_only_layer_hands_on_every_authentic_envelope_untyped() {
    async fn store(
        delivery: Delivery,
        meta: EventMeta,
        event: Option<ClerkEvent>,
        raw: Bytes,
    ) -> Json<Value> {
        Json(json!({
            "svix_id": delivery.id(),
            "instance_id": meta.instance_id,
            "typed": event.is_some(),
            "raw": String::from_utf8_lossy(&raw),
        }))
    }
    let app = Router::new().route(
        "/webhooks/clerk",
        post(store).route_layer(ClerkWebhookLayer::new(verifier()).verify_only()),
    );
    let unsupported =
        r#"{"type":"user.created","instance_id":"ins_1","data":{"id":"user_1","banned":"maybe"}}"#;
    let (status, _, seen) = send(&app, signed("msg_1", NOW, unsupported)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        seen,
        json!({"svix_id": "msg_1", "instance_id": "ins_1", "typed": false, "raw": unsupported})
    );
    for body in [
        "not json",
        "[1,2]",
        r#"{"data":{}}"#,
        r#"{"type":"user.created"}"#,
    ] {
        let (status, _, error) = send(&app, signed("msg_2", NOW, body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(error["error"], "invalid_payload", "{body}");
    }
}

#[tokio::test]
async fn unknown_event_types_pass_through_with_their_data() {
    let (app, calls) = app();
    let body = r#"{"type":"agent.created","data":{"id":"ag_1"}}"#;
    let (status, _, seen) = send(&app, signed("msg_1", NOW, body)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(seen["type"], "agent.created");
    assert_eq!(seen["unknown_data"], json!({"id": "ag_1"}));
    assert_eq!(calls.0.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn unsupported_events_are_422_by_default_or_passed_as_unparsed() {
    let body = r#"{"type":"user.created","data":{"id":"user_1","banned":"maybe"}}"#;
    let (app, calls) = app();
    let (status, headers, error) = send(&app, signed("msg_1", NOW, body)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(error["error"], "unsupported_event");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("user.created") && message.contains("banned"),
        "{message}"
    );
    assert_eq!(calls.0.load(Ordering::SeqCst), 0);

    let (lenient, calls) = app_with(
        ClerkWebhookLayer::new(verifier())
            .with_unsupported_events(UnsupportedEvents::PassAsUnparsed),
    );
    let (status, _, seen) = send(&lenient, signed("msg_1", NOW, body)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(seen["type"], "user.created");
    assert_eq!(seen["unknown_data"], Value::Null);
    assert_eq!(
        seen["unparsed_data"],
        json!({"id": "user_1", "banned": "maybe"})
    );
    assert_eq!(seen["unparsed_path"], "banned");
    assert_eq!(seen["is_known"], true);
    assert_eq!(calls.0.load(Ordering::SeqCst), 1);
}

/// The extractor moves the event out of the extensions; a second extraction (a middleware, then
/// the handler) reads it again from the verified body, strict or lenient as the layer is.
#[tokio::test]
async fn a_middleware_and_the_handler_both_extract_the_same_event() {
    async fn peek(event: ClerkEvent, request: Request<Body>, next: Next) -> Response {
        let in_extensions = request.extensions().get::<ClerkEvent>().is_some();
        let mut response = next.run(request).await;
        let seen = format!("{}:{in_extensions}", event.event_type());
        response
            .headers_mut()
            .insert("x-middleware-saw", seen.parse().unwrap());
        response
    }
    let lenient = r#"{"type":"user.created","data":{"id":"user_1","banned":"maybe"}}"#;
    for (layer, body, path) in [
        (
            ClerkWebhookLayer::new(verifier()),
            user_created("user_7"),
            None,
        ),
        (
            ClerkWebhookLayer::new(verifier())
                .with_unsupported_events(UnsupportedEvents::PassAsUnparsed),
            lenient.to_owned(),
            Some("banned"),
        ),
    ] {
        let calls = Calls::default();
        let app = Router::new()
            .route("/webhooks/clerk", post(handler))
            .route_layer(axum::middleware::from_fn(peek))
            .route_layer(layer)
            .with_state(calls.clone());
        let (status, headers, seen) = send(&app, signed("msg_1", NOW, &body)).await;
        assert_eq!(status, StatusCode::OK, "{seen}");
        assert_eq!(
            headers["x-middleware-saw"], "user.created:false",
            "the middleware took the event out of the extensions"
        );
        assert_eq!(seen["type"], "user.created");
        match path {
            None => assert_eq!(seen["user_id"], "user_7"),
            Some(path) => assert_eq!(seen["unparsed_path"], path),
        }
        assert_eq!(calls.0.load(Ordering::SeqCst), 1);
    }
}

/// A body that yields `chunks` frames of `chunk` bytes with no announced length, and records
/// whether it was ever polled; it can also fail after its chunks.
struct TestBody {
    chunks: usize,
    chunk: usize,
    fail_at_end: bool,
    polled: Arc<AtomicBool>,
}

impl http_body::Body for TestBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        self.polled.store(true, Ordering::SeqCst);
        if self.chunks == 0 {
            if self.fail_at_end {
                self.fail_at_end = false;
                return Poll::Ready(Some(Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "peer reset",
                ))));
            }
            return Poll::Ready(None);
        }
        self.chunks -= 1;
        Poll::Ready(Some(Ok(Frame::data(Bytes::from(vec![b' '; self.chunk])))))
    }
}

fn test_body(chunks: usize, chunk: usize, fail_at_end: bool) -> (Body, Arc<AtomicBool>) {
    let polled = Arc::new(AtomicBool::new(false));
    let body = TestBody {
        chunks,
        chunk,
        fail_at_end,
        polled: polled.clone(),
    };
    (Body::new(body), polled)
}

#[tokio::test]
async fn content_length_over_the_limit_is_413_without_reading_the_body() {
    let (app, calls) = app_with(ClerkWebhookLayer::new(verifier()).with_body_limit(1024));
    let (body, polled) = test_body(4, 1024, false);
    let mut request = signed_request("/webhooks/clerk", "msg_1", NOW, b"", body);
    request
        .headers_mut()
        .insert("content-length", http::HeaderValue::from(4096));
    let (status, headers, error) = send(&app, request).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(error["error"], "payload_too_large");
    assert!(!polled.load(Ordering::SeqCst), "the body was read");
    assert_eq!(calls.0.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_streamed_body_over_the_limit_is_413() {
    let (app, calls) = app_with(ClerkWebhookLayer::new(verifier()).with_body_limit(1024));
    let (body, polled) = test_body(100, 100, false);
    let (status, _, error) = send(
        &app,
        signed_request("/webhooks/clerk", "msg_1", NOW, b"", body),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error["error"], "payload_too_large");
    assert!(polled.load(Ordering::SeqCst));
    assert_eq!(calls.0.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_body_exactly_at_the_limit_is_accepted() {
    let body = user_created("user_1");
    let (app, _) = app_with(ClerkWebhookLayer::new(verifier()).with_body_limit(body.len()));
    let (status, _, _) = send(&app, signed("msg_1", NOW, &body)).await;
    assert_eq!(status, StatusCode::OK);
    let (app, _) = app_with(ClerkWebhookLayer::new(verifier()).with_body_limit(body.len() - 1));
    let (status, _, _) = send(&app, signed("msg_1", NOW, &body)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn a_failing_body_stream_is_body_error() {
    let (app, calls) = app();
    let (body, _) = test_body(2, 10, true);
    let (status, _, error) = send(
        &app,
        signed_request("/webhooks/clerk", "msg_1", NOW, b"", body),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["error"], "body_error");
    assert!(error["message"].as_str().unwrap().contains("peer reset"));
    assert_eq!(calls.0.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn bad_headers_are_refused_before_the_body_is_read() {
    let (app, _) = app();
    let (body, polled) = test_body(1, 10, false);
    let request = signed_request("/webhooks/clerk", "msg_1", NOW - 10_000, b"", body);
    let (status, _, error) = send(&app, request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["error"], "timestamp_too_old");
    assert!(!polled.load(Ordering::SeqCst));
}

#[tokio::test]
async fn route_layer_leaves_other_routes_and_methods_alone() {
    let (app, _) = app();
    let request = Request::post("/other").body(Body::empty()).unwrap();
    let (status, _, body) = send(&app, request).await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, Value::String("other".into()))
    );
    let request = Request::post("/nowhere").body(Body::empty()).unwrap();
    assert_eq!(send(&app, request).await.0, StatusCode::NOT_FOUND);
    // `Router::route_layer` wraps every method of the path, so a GET is refused as a delivery...
    let request = Request::get("/webhooks/clerk").body(Body::empty()).unwrap();
    let (status, _, error) = send(&app, request).await;
    assert_eq!(
        (status, error["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("missing_header"))
    );
    // ... while `MethodRouter::route_layer` leaves the 405 of other methods untouched.
    let app: Router = Router::new().route(
        "/webhooks/clerk",
        post(|| async { "ok" }).route_layer(ClerkWebhookLayer::new(verifier())),
    );
    let request = Request::get("/webhooks/clerk").body(Body::empty()).unwrap();
    assert_eq!(send(&app, request).await.0, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        send(&app, signed("msg_1", NOW, &user_created("user_1")))
            .await
            .0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn extractors_without_the_layer_answer_500_naming_it() {
    let app = Router::new().route(
        "/hook",
        post(|event: ClerkEvent| async move { event.event_type().to_owned() }),
    );
    let request = Request::post("/hook").body(Body::empty()).unwrap();
    let (status, headers, error) = send(&app, request).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(error["error"], "missing_webhook_layer");
    assert!(error["message"]
        .as_str()
        .unwrap()
        .contains("ClerkWebhookLayer"));
}

/// One handler for a route that is sometimes behind the layer: `Option<ClerkEvent>` is `None`
/// where the layer did not run, instead of a 500.
#[tokio::test]
async fn optional_extractors_are_none_without_the_layer() {
    async fn maybe(event: Option<ClerkEvent>, delivery: Option<Delivery>) -> String {
        match (event, delivery) {
            (Some(event), Some(delivery)) => format!("{} {}", event.event_type(), delivery.id()),
            (None, None) => "no webhook".to_owned(),
            _ => "mixed".to_owned(),
        }
    }
    let app = Router::new().route("/plain", post(maybe)).route(
        "/webhooks/clerk",
        post(maybe).route_layer(ClerkWebhookLayer::new(verifier())),
    );
    let text = |response: http::Response<Body>| async move {
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8(bytes.to_vec()).unwrap()
    };
    let plain = Request::post("/plain").body(Body::empty()).unwrap();
    let response = app.clone().oneshot(plain).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(text(response).await, "no webhook");

    let body = user_created("user_1");
    let response = app.oneshot(signed("msg_opt", NOW, &body)).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(text(response).await, "user.created msg_opt");
}

#[tokio::test]
async fn composes_with_tower_http_layers() {
    use tower_http::compression::CompressionLayer;
    use tower_http::limit::RequestBodyLimitLayer;
    use tower_http::timeout::TimeoutLayer;
    use tower_http::trace::TraceLayer;

    let calls = Calls::default();
    let app = Router::new()
        .route("/webhooks/clerk", post(handler))
        .route_layer(ClerkWebhookLayer::new(verifier()))
        .layer(
            tower::ServiceBuilder::new()
                .layer(TraceLayer::new_for_http())
                .layer(RequestBodyLimitLayer::new(64 * 1024))
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::REQUEST_TIMEOUT,
                    Duration::from_secs(30),
                ))
                .layer(CompressionLayer::new()),
        )
        .with_state(calls.clone());
    let body = user_created("user_7");
    let (status, _, seen) = send(&app, signed("msg_7", NOW, &body)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(seen["user_id"], "user_7");
    // Gzip is negotiated through all of it, rejections included.
    let tampered = Body::from(body.replace("user_7", "user_8"));
    let mut request = signed_request("/webhooks/clerk", "msg_7", NOW, body.as_bytes(), tampered);
    request
        .headers_mut()
        .insert("accept-encoding", http::HeaderValue::from_static("gzip"));
    let response = app.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(response.headers()["content-encoding"], "gzip");
    assert_eq!(calls.0.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_deliveries_are_each_verified_and_never_mixed_up() {
    let (app, calls) = app();
    let mut tasks = Vec::new();
    for n in 0..200 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            let body = user_created(&format!("user_{n}"));
            let id = format!("msg_{n}");
            // Every fourth delivery is tampered with and must be refused.
            let request = if n % 4 == 0 {
                signed_request(
                    "/webhooks/clerk",
                    &id,
                    NOW,
                    body.as_bytes(),
                    Body::from(body.replace("Zoë", "Eve")),
                )
            } else {
                signed(&id, NOW, &body)
            };
            (n, send(&app, request).await)
        }));
    }
    for task in tasks {
        let (n, (status, _, seen)) = task.await.unwrap();
        if n % 4 == 0 {
            assert_eq!(status, StatusCode::BAD_REQUEST);
            assert_eq!(seen["error"], "invalid_signature");
        } else {
            assert_eq!(status, StatusCode::OK);
            assert_eq!(seen["svix_id"], format!("msg_{n}"));
            assert_eq!(seen["user_id"], format!("user_{n}"));
        }
    }
    assert_eq!(calls.0.load(Ordering::SeqCst), 150);
}
