//! Issue 21: every outcome counted through the `metrics` facade, read back with its debugging
//! recorder; the gauge of refusals in a row, raised by a streak of refusals and lowered by a
//! success; and the unknown-signer gauge, raised only by a verified delivery.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::routing::post;
use axum::Router;
use clerk_webhooks::dedupe::{DedupeLayer, MemoryStore};
use clerk_webhooks::{ClerkWebhookLayer, SigningSecret, Verifier};
use clerk_webhooks_test_support::recorded_metrics::*;
use http::StatusCode;
use metrics::Unit;
use metrics_util::debugging::{DebugValue, Snapshotter};
use metrics_util::MetricKind;
use tower::{ServiceBuilder, ServiceExt};

use crate::common::*;

fn gauge(snapshotter: &Snapshotter, code: &str) -> Option<f64> {
    gauge_named(
        snapshotter,
        "clerk_webhooks_refused_in_a_row",
        &[("code", code)],
    )
}

fn unknown_signer(snapshotter: &Snapshotter) -> Option<f64> {
    gauge_named(snapshotter, "clerk_webhooks_unknown_signer", &[])
}

async fn send(app: &Router, request: http::Request<Body>) -> StatusCode {
    app.clone().oneshot(request).await.unwrap().status()
}

fn genuine(id: &str, timestamp: i64) -> http::Request<Body> {
    let body = user_created("user_1");
    signed_request(
        "/hook",
        id,
        timestamp,
        body.as_bytes(),
        Body::from(body.clone()),
    )
}

#[test]
fn each_outcome_is_counted_with_bounded_labels() {
    with_recorder(|snapshotter, runtime| {
        let app = Router::new().route(
            "/hook",
            post(|| async { "ok" }).route_layer(
                ServiceBuilder::new()
                    .layer(ClerkWebhookLayer::new(verifier()))
                    .layer(DedupeLayer::new(MemoryStore::new())),
            ),
        );
        runtime.block_on(async {
            assert_eq!(send(&app, genuine("msg_1", NOW)).await, StatusCode::OK);
            assert_eq!(send(&app, genuine("msg_1", NOW)).await, StatusCode::OK);
            let forged = forged_request("/hook", "msg_2", Body::from("{}"));
            assert_eq!(send(&app, forged).await, StatusCode::BAD_REQUEST);
            let headless = http::Request::post("/hook").body(Body::from("{}")).unwrap();
            assert_eq!(send(&app, headless).await, StatusCode::BAD_REQUEST);
            let unknown = r#"{"type":"agent.created","data":{}}"#;
            let request = signed_request(
                "/hook",
                "msg_3",
                NOW,
                unknown.as_bytes(),
                Body::from(unknown),
            );
            assert_eq!(send(&app, request).await, StatusCode::OK);
        });
        let snapshot = snapshotter.snapshot().into_vec();
        let accepted = "clerk_webhooks_deliveries_accepted_total";
        let refused = "clerk_webhooks_deliveries_refused_total";
        let dedupe = "clerk_webhooks_dedupe_total";
        assert_eq!(
            counter(&snapshot, accepted, &[("event_type", "user.created")]),
            2
        );
        assert_eq!(
            counter(&snapshot, accepted, &[("event_type", "unknown")]),
            1
        );
        assert_eq!(
            counter(&snapshot, refused, &[("code", "invalid_signature")]),
            1
        );
        assert_eq!(
            counter(&snapshot, refused, &[("code", "missing_header")]),
            1
        );
        assert_eq!(counter(&snapshot, dedupe, &[("outcome", "processed")]), 2);
        assert_eq!(counter(&snapshot, dedupe, &[("outcome", "duplicate")]), 1);
        let Some(DebugValue::Histogram(sizes)) = value(
            &snapshot,
            MetricKind::Histogram,
            "clerk_webhooks_body_bytes",
            &[],
        ) else {
            panic!("no body sizes recorded")
        };
        // Four bodies were received in full; the one without headers was refused from its head.
        assert_eq!(sizes.len(), 4);
        assert!(sizes.iter().any(|size| size.into_inner() == 2.0));
        let Some(DebugValue::Histogram(times)) = value(
            &snapshot,
            MetricKind::Histogram,
            "clerk_webhooks_verify_parse_seconds",
            &[],
        ) else {
            panic!("no verification times recorded")
        };
        assert_eq!(times.len(), 4);
    });
}

/// Ten refusals for the same cause over five minutes with nothing accepted raise
/// `clerk_webhooks_refused_in_a_row{code}`; a genuine delivery lowers it. Forged requests alone
/// raise it (it says only that requests were refused), never `clerk_webhooks_unknown_signer`.
#[test]
fn a_streak_of_refusals_raises_the_refused_in_a_row_gauge_until_a_delivery_succeeds() {
    with_recorder(|snapshotter, runtime| {
        let now = Arc::new(AtomicI64::new(NOW));
        let clock = Arc::clone(&now);
        let verifier = Verifier::new(SigningSecret::new(SECRET).unwrap())
            .with_clock(move || at(clock.load(Ordering::SeqCst)));
        let app = Router::new().route(
            "/hook",
            post(|| async { "ok" }).route_layer(ClerkWebhookLayer::new(verifier)),
        );
        runtime.block_on(async {
            // A rotated secret: every delivery fails its signature, one a minute.
            for minute in 0..=5 {
                now.store(NOW + minute * 60, Ordering::SeqCst);
                for copy in 0..2 {
                    let id = format!("msg_{minute}_{copy}");
                    let forged = forged_request("/hook", &id, Body::from("{}"));
                    // Its timestamp stays within the window: the header says NOW.
                    assert_eq!(send(&app, forged).await, StatusCode::BAD_REQUEST);
                }
                if minute < 5 {
                    assert_eq!(gauge(&snapshotter, "invalid_signature"), None);
                }
            }
            assert_eq!(gauge(&snapshotter, "invalid_signature"), Some(1.0));
            assert_eq!(unknown_signer(&snapshotter), None);
            let timestamp = NOW + 300;
            assert_eq!(
                send(&app, genuine("msg_ok", timestamp)).await,
                StatusCode::OK
            );
            assert_eq!(gauge(&snapshotter, "invalid_signature"), Some(0.0));
        });
    });
}

/// Issue 30, item 7: a verified delivery that also carries a signature none of the secrets made
/// (Svix signs with the old and the new secret for 24 hours after a rotation) raises
/// `clerk_webhooks_unknown_signer`; one whose signatures are all known lowers it.
#[test]
fn a_delivery_also_signed_by_an_unknown_secret_raises_the_unknown_signer_gauge() {
    with_recorder(|snapshotter, runtime| {
        let app = Router::new().route(
            "/hook",
            post(|| async { "ok" }).route_layer(ClerkWebhookLayer::new(verifier())),
        );
        runtime.block_on(async {
            let mut request = genuine("msg_1", NOW);
            let body = user_created("user_1");
            let other = Verifier::new(SigningSecret::new(OTHER_SECRET).unwrap());
            let both = format!(
                "{} {}",
                request.headers()["svix-signature"].to_str().unwrap(),
                other.sign("msg_1", NOW, body.as_bytes())
            );
            request
                .headers_mut()
                .insert("svix-signature", both.parse().unwrap());
            assert_eq!(send(&app, request).await, StatusCode::OK);
            assert_eq!(unknown_signer(&snapshotter), Some(1.0));
            assert_eq!(send(&app, genuine("msg_2", NOW)).await, StatusCode::OK);
            assert_eq!(unknown_signer(&snapshotter), Some(0.0));
        });
    });
}

/// Regression (issue 30, item 9): the metrics carried no descriptions, so Prometheus showed no
/// `# HELP`. Building a layer describes every metric of the crate, with its unit.
#[test]
fn every_metric_has_a_description() {
    with_recorder(|snapshotter, runtime| {
        let app = Router::new().route(
            "/hook",
            post(|| async { "ok" }).route_layer(ClerkWebhookLayer::new(verifier())),
        );
        runtime.block_on(async {
            assert_eq!(send(&app, genuine("msg_1", NOW)).await, StatusCode::OK);
            let forged = forged_request("/hook", "msg_2", Body::from("{}"));
            assert_eq!(send(&app, forged).await, StatusCode::BAD_REQUEST);
        });
        let snapshot = snapshotter.snapshot().into_vec();
        assert!(snapshot.len() >= 4, "{snapshot:?}");
        for (key, unit, description, _) in &snapshot {
            let name = key.key().name();
            let description = description.as_ref().map(|text| text.to_string());
            assert!(
                description.is_some_and(|text| text.len() > 20),
                "{name} has no description"
            );
            if name.ends_with("_total") {
                assert_eq!(unit, &Some(Unit::Count), "{name}");
            }
        }
    });
}
