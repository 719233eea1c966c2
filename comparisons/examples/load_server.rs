//! The receiver of `scripts/load.sh`: the `axum` example's webhook route, plus an unverified route
//! that parses the same body to `serde_json::Value`, as the baseline a load test compares against.
//! Never expose such a route in a real service.
//!
//! With the `queue` feature and `REDIS_URL` set (`scripts/queue_load.sh`), two more verified routes
//! compare answering fast with processing inline: `/queued` stores each delivery in Redis for a
//! worker (`clerk_webhooks::queue::DeliveryQueue`), `/inline` does the slow work before answering
//! (simulated as [`SLOW_WORK`] of waiting on a database and an email API).
//!
//! It lives in the comparisons member, beside the benches, rather than among the crate's examples:
//! it measures, it does not teach.
//!
//! ```text
//! CLERK_WEBHOOK_SIGNING_SECRET=whsec_... PORT=3000 cargo run --release -p clerk-webhooks-comparisons --example load_server
//! ```

use std::time::Duration;

use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use bytes::Bytes;
use clerk_webhooks::{ClerkEvent, ClerkWebhookLayer, Delivery};
use tower_http::timeout::TimeoutLayer;
use tracing_subscriber::EnvFilter;

async fn on_clerk(delivery: Delivery, event: ClerkEvent) -> StatusCode {
    std::hint::black_box((delivery.id(), event.event_type()));
    StatusCode::OK
}

/// What the slow work of a delivery costs when done inline (a database write and an email API
/// call, simulated).
#[cfg(feature = "queue")]
const SLOW_WORK: Duration = Duration::from_millis(20);

#[cfg(feature = "queue")]
async fn inline(delivery: Delivery, event: ClerkEvent) -> StatusCode {
    tokio::time::sleep(SLOW_WORK).await;
    std::hint::black_box((delivery.id(), event.event_type()));
    StatusCode::OK
}

async fn unverified(body: Bytes) -> StatusCode {
    match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(value) => {
            std::hint::black_box(value);
            StatusCode::OK
        }
        Err(_) => StatusCode::BAD_REQUEST,
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Refused deliveries are logged (warn/error) through `tracing`; set
    // RUST_LOG=clerk_webhooks=debug to also see each accepted one.
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let app = Router::new()
        .route(
            "/webhooks/clerk",
            post(on_clerk).route_layer(ClerkWebhookLayer::from_env()?),
        )
        .route("/unverified", post(unverified));
    #[cfg(feature = "queue")]
    let app = match std::env::var("REDIS_URL") {
        Ok(url) => app
            .route(
                "/queued",
                axum::routing::post_service(clerk_webhooks::queue::DeliveryQueue::new(
                    clerk_webhooks_redis::queue::RedisQueue::connect(&url, "load").await?,
                ))
                .route_layer(ClerkWebhookLayer::from_env()?.verify_only()),
            )
            .route(
                "/inline",
                post(inline).route_layer(ClerkWebhookLayer::from_env()?),
            ),
        Err(_) => app,
    };
    let app = app
        // Slow clients are cut off by tower-http's timeout, not held forever.
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(5),
        ));
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".into());
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
