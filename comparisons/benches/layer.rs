//! The whole layer in-process (`oneshot` through an axum `Router`) vs a plain axum handler that
//! verifies with svix and parses to `Value` by hand, vs a handler that does no verification.

use std::time::SystemTime;

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use bytes::Bytes;
use clerk_webhooks::{ClerkEvent, ClerkWebhookLayer, SigningSecret, Verifier};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use http::Request;
use serde_json::Value;
use std::hint::black_box;
use tower::ServiceExt;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

async fn typed(event: ClerkEvent) -> StatusCode {
    black_box(event);
    StatusCode::OK
}

async fn hand_written(headers: HeaderMap, body: Bytes) -> StatusCode {
    let webhook = svix::webhooks::Webhook::new(SECRET).unwrap();
    if webhook.verify(&body, &headers).is_err() {
        return StatusCode::BAD_REQUEST;
    }
    match serde_json::from_slice::<Value>(&body) {
        Ok(value) => {
            black_box(value);
            StatusCode::OK
        }
        Err(_) => StatusCode::BAD_REQUEST,
    }
}

/// What a queue route does behind `verify_only`: takes the verified bytes as they are.
async fn store(body: Bytes) -> StatusCode {
    black_box(body);
    StatusCode::OK
}

async fn unverified(body: Bytes) -> StatusCode {
    black_box(serde_json::from_slice::<Value>(&body).ok());
    StatusCode::OK
}

fn layer(c: &mut Criterion) {
    // With `--features metrics`, every outcome is recorded as a Prometheus exporter would.
    #[cfg(feature = "metrics")]
    metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .unwrap();
    let verifier = Verifier::new(SigningSecret::new(SECRET).unwrap());
    let body = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../src/testing/samples/user.created.json"
    ))
    .unwrap();
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let headers = verifier.signed_headers("msg_bench", now, &body).unwrap();
    let app = Router::new()
        .route(
            "/layer",
            post(typed).route_layer(ClerkWebhookLayer::new(verifier.clone())),
        )
        .route(
            "/verify-only",
            post(store).route_layer(ClerkWebhookLayer::new(verifier).verify_only()),
        )
        .route("/svix", post(hand_written))
        .route("/unverified", post(unverified));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let request = |path: &str| {
        let mut request = Request::post(path).body(Body::from(body.clone())).unwrap();
        request.headers_mut().extend(headers.clone());
        request
    };

    let mut group = c.benchmark_group("request-user.created");
    group.throughput(Throughput::Elements(1));
    for (name, path) in [
        ("ClerkWebhookLayer + typed ClerkEvent", "/layer"),
        (
            "ClerkWebhookLayer::verify_only + raw body (queue route)",
            "/verify-only",
        ),
        ("hand-written svix verify + Value", "/svix"),
        ("no verification, Value", "/unverified"),
    ] {
        group.bench_function(name, |b| {
            b.to_async(&runtime).iter(|| {
                let app = app.clone();
                let request = request(path);
                async move {
                    let response = app.oneshot(request).await.unwrap();
                    assert_eq!(response.status(), StatusCode::OK);
                }
            })
        });
    }
    group.finish();

    // What a forged delivery costs, refusal, diagnosis for the log and answer included: the body
    // compact, as Clerk sends it, and pretty-printed as the fixture is (the diagnosis looks at
    // the body for signs of re-serializing).
    let mut group = c.benchmark_group("refused-user.created");
    group.throughput(Throughput::Elements(1));
    let compact =
        serde_json::to_vec(&serde_json::from_slice::<serde_json::Value>(&body).unwrap()).unwrap();
    for (name, forged_body) in [
        ("forged signature, compact body", compact),
        ("forged signature, pretty-printed body", body.clone()),
    ] {
        group.bench_function(name, |b| {
            b.to_async(&runtime).iter(|| {
                let app = app.clone();
                let mut request = Request::post("/layer")
                    .body(Body::from(forged_body.clone()))
                    .unwrap();
                request.headers_mut().extend(headers.clone());
                request.headers_mut().insert(
                    "svix-signature",
                    "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
                        .parse()
                        .unwrap(),
                );
                async move {
                    let response = app.oneshot(request).await.unwrap();
                    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, layer);
criterion_main!(benches);
