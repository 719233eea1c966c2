//! Regression (issue 17, item 4): no configuration value may panic at request time. Every size and
//! duration setting of the layer and the verifier, from zero to its type's maximum, answers each
//! request with the status its meaning calls for. (The de-duplication layer's lease and retention
//! are covered in `dedupe.rs`, against both stores.)

use std::time::Duration;

use axum::body::Body;
use axum::routing::post;
use axum::Router;
use clerk_webhooks::ClerkWebhookLayer;
use http::StatusCode;
use tower::ServiceExt;

use crate::common::*;

async fn answer(layer: ClerkWebhookLayer, request: http::Request<Body>) -> StatusCode {
    let app = Router::new().route("/hook", post(|| async { "ok" }).route_layer(layer));
    app.oneshot(request).await.unwrap().status()
}

fn genuine(timestamp: i64) -> http::Request<Body> {
    let body = user_created("user_1");
    signed_request(
        "/hook",
        "msg_1",
        timestamp,
        body.as_bytes(),
        Body::from(body.clone()),
    )
}

#[tokio::test]
async fn every_body_limit_and_budget_answers() {
    let body_len = user_created("user_1").len();
    for limit in [0, 1, body_len - 1, body_len, usize::MAX] {
        for budget in [0, 1, body_len, usize::MAX] {
            let layer = ClerkWebhookLayer::new(verifier())
                .with_body_limit(limit)
                .with_unverified_budget(budget);
            let expected = if limit >= body_len {
                // A budget below the limit is raised to it: one body always fits.
                StatusCode::OK
            } else {
                StatusCode::PAYLOAD_TOO_LARGE
            };
            let status = answer(layer.clone(), genuine(NOW)).await;
            assert_eq!(status, expected, "limit {limit}, budget {budget}");
            let forged = forged_request("/hook", "msg_2", Body::from("{}"));
            let status = answer(layer, forged).await;
            let expected = if limit >= 2 {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::PAYLOAD_TOO_LARGE
            };
            assert_eq!(status, expected, "forged: limit {limit}, budget {budget}");
        }
    }
}

#[tokio::test]
async fn every_tolerance_answers() {
    for tolerance in [Duration::ZERO, Duration::from_secs(1), Duration::MAX] {
        let layer = ClerkWebhookLayer::new(verifier().with_tolerance(tolerance));
        assert_eq!(answer(layer.clone(), genuine(NOW)).await, StatusCode::OK);
        for timestamp in [0, NOW - 2, NOW + 2, i64::MAX] {
            let within = tolerance == Duration::MAX;
            let expected = if within {
                StatusCode::OK
            } else {
                StatusCode::BAD_REQUEST
            };
            let status = answer(layer.clone(), genuine(timestamp)).await;
            assert_eq!(
                status, expected,
                "tolerance {tolerance:?}, timestamp {timestamp}"
            );
        }
    }
}
