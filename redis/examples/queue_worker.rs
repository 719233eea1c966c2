//! Answer fast, process later: the receiver stores each verified delivery in Redis and answers at
//! once; this worker does the slow work, with retries and backoff.
//!
//! ```text
//! CLERK_WEBHOOK_SIGNING_SECRET=whsec_... REDIS_URL=redis://127.0.0.1:6379/ \
//!     cargo run -p clerk-webhooks-redis --example queue_worker
//! cargo run -p clerk-webhooks-cli -- send --url http://127.0.0.1:3000/webhooks/clerk --type user.created
//! ```
//!
//! One process here for the demonstration: the route on `127.0.0.1:3000` (or `$PORT`) and a
//! worker. In production the workers often run in processes of their own; run as many replicas as
//! you like: each worker's name is unique to its process. `SIGTERM` (a deploy) or Ctrl-C stops
//! the worker from taking jobs and lets the running ones finish before the process exits.

use std::time::Duration;

use axum::http::StatusCode;
use axum::routing::post_service;
use axum::Router;
use clerk_webhooks::queue::{Abort, DeliveryQueue, QueuedDelivery};
use clerk_webhooks::{BoxError, ClerkEvent, ClerkWebhookLayer};
use clerk_webhooks_redis::queue::{RedisQueue, Worker, QUEUE_ENV_VAR};
use tower_http::timeout::TimeoutLayer;
use tracing_subscriber::EnvFilter;

/// The slow work. An `Err` is retried with exponential backoff (for about 30 hours); a delivery
/// this version of the model cannot read is not retried (it never will be readable): an `Abort`
/// makes its job dead at once, listed by `clerk-webhooks queue dead` and re-queued once an
/// upgrade can read it.
async fn process(job: QueuedDelivery) -> Result<(), BoxError> {
    let event = job
        .event()
        .map_err(|err| Abort::new(err.to_string()))?
        .event;
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
    // `clerk-webhooks queue dead` reads the same variable, so the tool looks where the app works.
    let queue_name = std::env::var(QUEUE_ENV_VAR).unwrap_or_else(|_| "clerk-example".into());
    // Four jobs at a time (`.concurrency(n)` for more), failures retried for about 30 hours.
    let worker = Worker::connect(redis_url.as_str(), &queue_name).await?;
    let _health = worker.health(); // serve it on a health endpoint
    let worker = tokio::spawn(worker.run(process, stop_signal()));

    let app = Router::new()
        .route(
            "/webhooks/clerk",
            post_service(DeliveryQueue::new(
                RedisQueue::connect(&redis_url, &queue_name).await?,
            ))
            .route_layer(layer),
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
    axum::serve(listener, app)
        .with_graceful_shutdown(stop_signal())
        .await?;
    // The worker finishes its running jobs (within its grace period) before the process exits.
    worker.await??;
    Ok(())
}

/// Ctrl-C, or `SIGTERM` as orchestrators send it before they kill a process.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut terminate = signal(SignalKind::terminate()).expect("a SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}
