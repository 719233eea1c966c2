//! A real Clerk webhook receiver with axum.
//!
//! ```text
//! CLERK_WEBHOOK_SIGNING_SECRET=whsec_... cargo run --example axum
//! ```
//!
//! Listens on `127.0.0.1:3000` (or `$PORT`) at `/webhooks/clerk`. Try it with
//! `cargo run -p clerk-webhooks-cli -- send --url http://127.0.0.1:3000/webhooks/clerk --type user.created`.
//!
//! With `--features metrics` it also serves Prometheus metrics at `/metrics` (the metrics table of
//! the operations guide, `clerk_webhooks::guide::operations`, says what each one counts).

use std::time::Duration;

use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use clerk_webhooks::dedupe::{DedupeLayer, MemoryStore};
use clerk_webhooks::{ClerkEvent, ClerkWebhookLayer, Delivery};
use tower::ServiceBuilder;
use tower_http::timeout::TimeoutLayer;
use tracing_subscriber::EnvFilter;

async fn on_clerk(delivery: Delivery, event: ClerkEvent) -> StatusCode {
    // Svix retries with the same id until it gets a 2xx: make the effects idempotent on it.
    let id = delivery.id();
    match event {
        ClerkEvent::UserCreated(user) | ClerkEvent::UserUpdated(user) => {
            println!(
                "[{id}] upsert user {} name={:?} email={:?}",
                user.id,
                user.full_name(),
                user.primary_email()
            );
        }
        ClerkEvent::UserDeleted(deleted) => println!("[{id}] delete user {:?}", deleted.id),
        ClerkEvent::OrganizationCreated(org) | ClerkEvent::OrganizationUpdated(org) => {
            println!("[{id}] upsert organization {} {:?}", org.id, org.name);
        }
        ClerkEvent::OrganizationDeleted(deleted) => {
            println!("[{id}] delete organization {:?}", deleted.id)
        }
        ClerkEvent::OrganizationMembershipCreated(membership)
        | ClerkEvent::OrganizationMembershipUpdated(membership) => {
            println!(
                "[{id}] {:?} is {:?} in {}",
                membership.user_id(),
                membership.role,
                membership.organization.id
            );
        }
        ClerkEvent::OrganizationMembershipDeleted(membership) => {
            println!(
                "[{id}] {:?} left {}",
                membership.user_id(),
                membership.organization.id
            );
        }
        other => println!("[{id}] ignoring {}", other.event_type()),
    }
    StatusCode::OK
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Refused deliveries are logged (warn/error) through `tracing`; set
    // RUST_LOG=clerk_webhooks=debug to also see each accepted one.
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    // The recorder first: the layer describes its metrics (`# HELP`) to the recorder installed
    // when it is built.
    #[cfg(feature = "metrics")]
    let prometheus = metrics_exporter_prometheus::PrometheusBuilder::new().install_recorder()?;
    // A missing or malformed secret stops the process here, not on the first delivery.
    let webhooks = ServiceBuilder::new()
        .layer(ClerkWebhookLayer::from_env()?)
        // Svix retries until it gets a 2xx and the dashboard replays: run each delivery once.
        .layer(DedupeLayer::new(MemoryStore::new()));
    let app = Router::new().route("/webhooks/clerk", post(on_clerk).route_layer(webhooks));
    #[cfg(feature = "metrics")]
    let app = app.route(
        "/metrics",
        axum::routing::get(move || std::future::ready(prometheus.render())),
    );
    let app = app
        // A deadline for the whole request: the layer waits for the body as long as it comes.
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(10),
        ));
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".into());
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    println!(
        "listening on http://{}/webhooks/clerk",
        listener.local_addr()?
    );
    axum::serve(listener, app).await?;
    Ok(())
}
