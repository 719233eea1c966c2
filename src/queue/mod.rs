//! Answer fast, process later: what every durable queue of verified deliveries shares, whatever
//! keeps the jobs.
//!
//! Clerk's guides say it for every real app: verify, answer at once, and do the slow work (database
//! sync, emails, third-party calls) in a background job, because a slow answer times out and Svix
//! retries it. [`DeliveryQueue`] is the route's service behind
//! [`ClerkWebhookLayer`](crate::ClerkWebhookLayer): it stores each verified delivery as a
//! [`QueuedDelivery`] job in a [`QueueBackend`] and answers only once the job is stored. The
//! backends live in packages of their own, one per dependency stack:
//! [clerk-webhooks-redis](https://docs.rs/clerk-webhooks-redis) keeps the jobs in Redis
//! (apalis-redis' layout) and runs them with its `Worker`.
//!
//! ```no_run
//! use axum::{routing::post_service, Router};
//! use clerk_webhooks::queue::{DeliveryQueue, QueueBackend};
//! use clerk_webhooks::ClerkWebhookLayer;
//!
//! # fn run(backend: impl QueueBackend) -> Result<(), Box<dyn std::error::Error>> {
//! let layer = ClerkWebhookLayer::from_env()?.verify_only();
//! // `backend`: `clerk_webhooks_redis::queue::RedisQueue::connect(url, "myapp-production").await?`
//! let app: Router = Router::new()
//!     .route("/webhooks/clerk", post_service(DeliveryQueue::new(backend)).route_layer(layer));
//! # Ok(()) }
//! ```
//!
//! What every backend promises, and this module's types carry:
//! - **Nothing is lost**: the job holds the `svix-id`, the timestamp and the verified body as sent,
//!   so a field Clerk adds after this version reaches the worker; a `ClerkEvent` would keep only
//!   what the model knows.
//! - **Durable before 2xx**: the answer is `200` only once the backend has the job; if it cannot
//!   take it the answer is `503 queue_unavailable` with `Retry-After`, and Svix delivers again
//!   later.
//! - **One job per delivery**: the delivery's [`key`](crate::Delivery::key) (endpoint and `svix-id`)
//!   names its job for as long as the job exists, so a Svix retry, a dashboard replay or the same
//!   delivery reaching two instances adds no second job; the answer says which ([`Enqueued`]).
//! - **Retries on a schedule**: a worker retries a failed job on a [`RetryPolicy`] (about 30 hours
//!   by default, as Svix's own), and an [`Abort`] ends it at once; [`WorkerHealth`] tells a health
//!   endpoint whether the worker is alive.
//!
//! The module, in the order a delivery goes through it: [`DeliveryQueue`] (the route's service),
//! [`QueueBackend`] (where it stores the job, and what it answers: [`Enqueued`]),
//! [`QueuedDelivery`] (the job), [`RetryPolicy`] and [`Abort`] (how a worker retries it), and
//! [`WorkerHealth`].

mod backend;
mod health;
mod job;
mod retry;
mod service;

pub use self::backend::{Enqueued, QueueBackend};
pub use self::health::WorkerHealth;
pub use self::job::QueuedDelivery;
pub use self::retry::{Abort, InvalidRetryPolicy, RetryPolicy, DEFAULT_RETRIES};
pub use self::service::{DeliveryQueue, ResponseFuture};
