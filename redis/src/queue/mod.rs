//! Answer fast, process later on Redis: verified deliveries handed to a durable queue in Redis, answered 2xx only once the job is stored, and workers that run each job once on
//! any number of replicas.
//!
//! Clerk's guides say it for every real app: verify, answer at once, and do the slow work (database
//! sync, emails, third-party calls) in a background job, because a slow answer times out and Svix
//! retries it. [`RedisQueue`] is the backend of the route's
//! [`DeliveryQueue`](clerk_webhooks::queue::DeliveryQueue), behind
//! [`ClerkWebhookLayer`](clerk_webhooks::ClerkWebhookLayer):
//!
//! ```no_run
//! use axum::{routing::post_service, Router};
//! use clerk_webhooks::queue::DeliveryQueue;
//! use clerk_webhooks::ClerkWebhookLayer;
//! use clerk_webhooks_redis::queue::RedisQueue;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let layer = ClerkWebhookLayer::from_env()?.verify_only();
//! // One queue per endpoint, with a stable name its workers use too.
//! let queue = DeliveryQueue::new(RedisQueue::connect("redis://127.0.0.1:6379/", "myapp-production").await?);
//! let app: Router = Router::new().route("/webhooks/clerk", post_service(queue).route_layer(layer));
//! # Ok(()) }
//! ```
//!
//! A [`Worker`] runs your handler on each [`QueuedDelivery`](clerk_webhooks::queue::QueuedDelivery) (see the `queue_worker` example), which
//! gets the typed event from [`QueuedDelivery::event`](clerk_webhooks::queue::QueuedDelivery::event); its docs say what runs once and what at
//! least once.
//!
//! - **Nothing is lost**: the job holds the `svix-id`, the timestamp and the verified body as sent,
//!   so a field Clerk adds after this version reaches the worker; a `ClerkEvent` would keep only
//!   what the model knows.
//! - **Durable before 2xx**: the answer is `200` only once Redis has the job; if Redis cannot take
//!   it the answer is `503 queue_unavailable` with `Retry-After`, and Svix delivers again later.
//! - **One job per delivery**: the delivery's [`key`](clerk_webhooks::Delivery::key) (endpoint and `svix-id`)
//!   names its job for as long as the job exists, so a Svix retry, a dashboard replay or the same
//!   delivery reaching two instances adds no second job.
//! - **One queue per endpoint**: each endpoint's jobs go to a queue of the name the route and its
//!   workers are given, so two apps or environments sharing one Redis neither drop nor run each
//!   other's deliveries. Choose a stable name: the secret's fingerprint
//!   ([`Verifier::endpoint`](clerk_webhooks::Verifier::endpoint)) changes when the first secret does.

//!
//! The module, in the order a delivery goes through it: [`ConnectOptions`] (how the route and the
//! workers reach Redis, and the durability check), [`RedisQueue`] (where the route stores each
//! job), [`Worker`] (runs it, with a [`RetryPolicy`](clerk_webhooks::queue::RetryPolicy)), and the recovery
//! functions for operators ([`dead_jobs`], [`requeue_dead`], [`sweep_done`]).

mod backend;
mod connection;
mod lease;
mod recovery;
mod worker;

use std::time::Duration;

pub use self::backend::RedisQueue;
pub use self::connection::{queue_config, ConnectOptions, QueueError};
pub use self::recovery::{
    dead_jobs, enqueue, requeue_all_dead, requeue_dead, sweep_done, DeadJob, DEFAULT_DONE_RETENTION,
};
pub use self::worker::{Worker, DEFAULT_CONCURRENCY, DEFAULT_LEASE, DEFAULT_SHUTDOWN_GRACE};

/// How long apalis-redis' own idempotency key of a delivery lives, for tools that read apalis-redis'
/// layout: the window in which [`DedupeLayer`](clerk_webhooks::dedupe::DedupeLayer) remembers a processed
/// id ([`DEFAULT_RETENTION`](clerk_webhooks::dedupe::DEFAULT_RETENTION), 3 days). The queue itself keeps a
/// second job out for as long as the delivery's job exists (until [`sweep_done`]).
pub const DEFAULT_IDEMPOTENCY_TTL: Duration = clerk_webhooks::dedupe::DEFAULT_RETENTION;

/// The environment variable that names an app's queue by convention: the `queue_worker` example
/// reads it, and so does `clerk-webhooks queue` when no `--queue` is given, so the tool looks in
/// the queue the app uses.
pub const QUEUE_ENV_VAR: &str = "CLERK_WEBHOOK_QUEUE";

/// The start of every queue's name: an endpoint's queue is `clerk-webhooks:{endpoint}`.
pub const QUEUE_PREFIX: &str = "clerk-webhooks";

/// A random number from the standard library's per-process random keys (task ids, worker names,
/// retry spread): nothing here needs more than that they differ.
pub(crate) fn random_u64() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    use std::time::{Instant, SystemTime};
    RandomState::new().hash_one((SystemTime::now(), Instant::now()))
}
