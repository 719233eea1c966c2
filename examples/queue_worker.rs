//! Answer fast, process later: the receiver stores each verified delivery in Redis and answers at
//! once; this worker does the slow work, with retries and backoff.
//!
//! ```text
//! CLERK_WEBHOOK_SIGNING_SECRET=whsec_... REDIS_URL=redis://127.0.0.1:6379/ \
//!     cargo run --example queue_worker --features queue
//! cargo run -p clerk-webhooks-cli -- send --url http://127.0.0.1:3000/webhooks/clerk --type user.created
//! ```
//!
//! One process here for the demonstration: the route on `127.0.0.1:3000` (or `$PORT`) and two
//! workers. In production the workers usually run in processes of their own, with
//! `clerk_webhooks::queue::worker_storage`.

use std::time::Duration;

use apalis::prelude::*;
use axum::http::StatusCode;
use axum::routing::post_service;
use axum::Router;
use clerk_webhooks::queue::{
    retry_policy, supervise, worker_storage, DeliveryQueue, QueuedDelivery, WorkerHealth,
};
use clerk_webhooks::{ClerkEvent, ClerkWebhookLayer};
use tower_http::timeout::TimeoutLayer;
use tracing_subscriber::EnvFilter;

/// The slow work. An `Err` is retried with exponential backoff (for about 30 hours); a delivery this version of the
/// model cannot read is not retried (it never will be readable) but kept in `job.body`.
async fn process(job: QueuedDelivery) -> Result<(), BoxDynError> {
    let event = match job.event() {
        Ok(parsed) => parsed.event,
        Err(err) => {
            tracing::error!(svix_id = job.id, %err, "cannot read this delivery; body kept in the job");
            return Ok(());
        }
    };
    match event {
        ClerkEvent::UserCreated(user) | ClerkEvent::UserUpdated(user) => {
            // Upsert keyed on the user id, newest `updated_at` wins: safe to run twice.
            println!(
                "[{}] upsert user {} {:?}",
                job.id,
                user.id,
                user.primary_email()
            );
        }
        ClerkEvent::UserDeleted(deleted) => println!("[{}] delete user {:?}", job.id, deleted.id),
        other => println!("[{}] nothing to do for {}", job.id, other.event_type()),
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let redis_url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into());
    let layer = ClerkWebhookLayer::from_env()?.verify_only();

    // The endpoint's queue: a stable name, the same for the route and its workers.
    let queue_name = std::env::var("QUEUE_NAME").unwrap_or_else(|_| "clerk-example".into());
    let storage = worker_storage(&redis_url, &queue_name).await?;
    for name in ["worker-1", "worker-2"] {
        let storage = storage.clone();
        tokio::spawn(async move {
            // Built again whenever Redis goes away; a health endpoint would read `health`.
            let health = WorkerHealth::new();
            supervise(&health, || {
                WorkerBuilder::new(name)
                    .backend(storage.clone())
                    .on_event(health.listener())
                    .retry(retry_policy())
                    .build(process)
                    .run()
            })
            .await;
        });
    }

    let app = Router::new()
        .route(
            "/webhooks/clerk",
            post_service(DeliveryQueue::connect(&redis_url, &queue_name).await?).route_layer(layer),
        )
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
