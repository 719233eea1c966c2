//! Answer fast, process later (cargo feature `queue`): verified deliveries handed to a durable
//! [apalis-redis](https://docs.rs/apalis-redis) queue, answered 2xx only once the job is stored.
//!
//! Clerk's guides say it for every real app: verify, answer at once, and do the slow work (database
//! sync, emails, third-party calls) in a background job, because a slow answer times out and Svix
//! retries it. [`DeliveryQueue`] is the route's service behind [`ClerkWebhookLayer`](crate::ClerkWebhookLayer):
//!
//! ```no_run
//! use axum::{routing::post_service, Router};
//! use clerk_webhooks::queue::DeliveryQueue;
//! use clerk_webhooks::ClerkWebhookLayer;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let layer = ClerkWebhookLayer::from_env()?;
//! // One queue per endpoint: its name carries the endpoint's namespace.
//! let queue = DeliveryQueue::connect("redis://127.0.0.1:6379/", layer.endpoint()).await?;
//! let app: Router = Router::new().route("/webhooks/clerk", post_service(queue).route_layer(layer));
//! # Ok(()) }
//! ```
//!
//! A worker consumes [`QueuedDelivery`] jobs with apalis (see the `queue_worker` example) and gets
//! the typed event from [`QueuedDelivery::event`].
//!
//! - **Nothing is lost**: the job holds the `svix-id`, the timestamp and the verified body as sent,
//!   so a field Clerk adds after this version reaches the worker; a `ClerkEvent` would keep only
//!   what the model knows.
//! - **Durable before 2xx**: the answer is `200` only once Redis has the job; if Redis cannot take
//!   it the answer is `503 queue_unavailable` with `Retry-After`, and Svix delivers again later.
//! - **One job per delivery**: the delivery's [`key`](Delivery::key) (endpoint and `svix-id`) is
//!   the job's idempotency key, so a Svix retry, a dashboard replay or the same delivery reaching
//!   two instances adds no second job. The key is kept for [`DEFAULT_IDEMPOTENCY_TTL`] (longer
//!   than Svix retries).
//! - **One queue per endpoint**: Svix sends the same `svix-id` to every endpoint subscribed to a
//!   message; each endpoint's jobs go to a queue named after its namespace
//!   ([`Verifier::endpoint`](crate::Verifier::endpoint)), so two apps or environments sharing one
//!   Redis neither drop nor run each other's deliveries.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use apalis_core::backend::TaskSink;
use apalis_core::task::builder::TaskBuilder;
use apalis_redis::{Config as QueueConfig, RedisStorage};
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body::Body;
use http_body_util::{BodyExt, Full};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde::{Deserialize, Serialize};
use tower_service::Service;

use crate::response::{error_json, json_response, set_retry_after};
use crate::{parse_event, ClerkEvent, Delivery, EventError, EventMeta};

/// How long a delivery's `svix-id` keeps a second job out: 3 days, longer than Svix's retry
/// schedule (about 28 hours) with room for manual replays soon after.
pub const DEFAULT_IDEMPOTENCY_TTL: Duration = Duration::from_secs(3 * 24 * 60 * 60);

/// The start of every queue's name: an endpoint's queue is `clerk-webhooks:{endpoint}`.
pub const QUEUE_PREFIX: &str = "clerk-webhooks";

/// A verified delivery as a job: everything Clerk sent, losslessly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct QueuedDelivery {
    /// The `svix-id`: the same on every retry of the delivery.
    pub id: String,
    /// When this attempt was signed (`svix-timestamp`), Unix seconds.
    pub timestamp: i64,
    /// The body exactly as Clerk sent and signed it. It is text: a verified body parsed as a JSON
    /// envelope before it was queued.
    pub body: String,
    /// The namespace of the endpoint that verified it ([`Delivery::endpoint`]); empty in a job
    /// queued by a version that did not record it.
    #[serde(default)]
    pub endpoint: String,
}

impl QueuedDelivery {
    /// The typed event and its metadata, parsed from the stored body with this version's model.
    ///
    /// # Errors
    ///
    /// As [`parse_event`]: a type this version knows whose data does not fit is
    /// [`EventError::UnsupportedData`]; the raw body is still in [`body`](Self::body).
    pub fn event(&self) -> Result<(ClerkEvent, EventMeta), EventError> {
        parse_event(self.body.as_bytes())
    }

    /// The identity of the delivery, as the layer hands it to handlers.
    pub fn delivery(&self) -> Delivery {
        Delivery::new(&self.id, self.timestamp, &self.endpoint.as_str().into())
    }
}

/// The route's service that stores each verified delivery as a [`QueuedDelivery`] job; place it
/// behind [`ClerkWebhookLayer`](crate::ClerkWebhookLayer).
#[derive(Clone)]
pub struct DeliveryQueue {
    storage: RedisStorage<QueuedDelivery>,
}

impl std::fmt::Debug for DeliveryQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeliveryQueue")
            .field("active_jobs", &self.storage.get_config().active_jobs_list())
            .finish_non_exhaustive()
    }
}

impl DeliveryQueue {
    /// Connects to Redis at `url` (with 2-second connection and response timeouts, so an
    /// unreachable Redis is a quick `503`, not a hung delivery) and stores jobs in the queue of
    /// `endpoint` ([`queue_config`]): pass [`ClerkWebhookLayer::endpoint`](crate::ClerkWebhookLayer::endpoint)
    /// of the layer in front, and the same to [`worker_storage`] in the worker.
    ///
    /// # Errors
    ///
    /// When the URL is malformed or Redis cannot be reached at startup.
    pub async fn connect(url: &str, endpoint: &str) -> Result<Self, redis::RedisError> {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(2)));
        let connection = redis::Client::open(url)?
            .get_connection_manager_with_config(config)
            .await?;
        Ok(Self::new(
            RedisStorage::new(connection).with_config(queue_config(endpoint)),
        ))
    }

    /// Uses an apalis-redis storage of your own (its queue name, connection and idempotency
    /// settings); the worker must consume the same queue.
    pub fn new(storage: RedisStorage<QueuedDelivery>) -> Self {
        Self { storage }
    }
}

/// The apalis-redis configuration [`DeliveryQueue::connect`] and [`worker_storage`] use for the
/// jobs of `endpoint`: the queue `clerk-webhooks:{endpoint}` ([`QUEUE_PREFIX`]), idempotency keys
/// kept [`DEFAULT_IDEMPOTENCY_TTL`], and a 1-second
/// worker heartbeat. An idle apalis-redis worker looks for new jobs on each heartbeat (30 s by
/// default), so the heartbeat is the longest a queued delivery waits for an idle worker; a worker
/// that misses two is considered dead and its jobs go back to the queue.
pub fn queue_config(endpoint: &str) -> QueueConfig {
    QueueConfig::default()
        .queue(format!("{QUEUE_PREFIX}:{endpoint}"))
        .idempotency_ttl(Some(DEFAULT_IDEMPOTENCY_TTL))
        .heartbeat_interval(Duration::from_secs(1))
}

/// Connects a storage for workers consuming the queue of `endpoint`, with the same
/// [`queue_config`] as [`DeliveryQueue::connect`].
///
/// # Errors
///
/// When the URL is malformed or Redis cannot be reached.
pub async fn worker_storage(
    url: &str,
    endpoint: &str,
) -> Result<RedisStorage<QueuedDelivery, ConnectionManager>, redis::RedisError> {
    let connection = redis::Client::open(url)?.get_connection_manager().await?;
    Ok(RedisStorage::new(connection).with_config(queue_config(endpoint)))
}

type ResponseFuture =
    Pin<Box<dyn Future<Output = Result<Response<Full<Bytes>>, Infallible>> + Send + 'static>>;

impl<B> Service<Request<B>> for DeliveryQueue
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: std::fmt::Display,
{
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let mut storage = self.storage.clone();
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let Some(delivery) = parts.extensions.get::<Delivery>().cloned() else {
                return Ok(answer(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    error_json(
                        "missing_webhook_layer",
                        "DeliveryQueue runs behind ClerkWebhookLayer, which verifies deliveries",
                    ),
                ));
            };
            // The layer hands on the verified bytes in one frame: this does not wait on the client.
            let bytes = match body.collect().await {
                Ok(collected) => collected.to_bytes(),
                Err(err) => {
                    return Ok(answer(
                        StatusCode::BAD_REQUEST,
                        error_json("body_error", &err.to_string()),
                    ))
                }
            };
            let Ok(text) = String::from_utf8(bytes.to_vec()) else {
                return Ok(answer(
                    StatusCode::BAD_REQUEST,
                    error_json("invalid_payload", "the body is not UTF-8 JSON"),
                ));
            };
            let job = QueuedDelivery {
                id: delivery.id().to_owned(),
                timestamp: delivery.timestamp(),
                body: text,
                endpoint: delivery.endpoint().to_owned(),
            };
            let task = TaskBuilder::new(job)
                .idempotency_key(delivery.key())
                .build();
            match storage.push_task(task).await {
                Ok(()) => {
                    log_queued(delivery.id());
                    let body = serde_json::json!({"queued": true, "svix_id": delivery.id()});
                    Ok(answer(StatusCode::OK, body.to_string()))
                }
                Err(err) => {
                    log_unavailable(delivery.id(), &err);
                    let mut response = answer(
                        StatusCode::SERVICE_UNAVAILABLE,
                        error_json(
                            "queue_unavailable",
                            "the delivery could not be stored for processing; retry later",
                        ),
                    );
                    set_retry_after(&mut response, Duration::from_secs(5));
                    Ok(response)
                }
            }
        })
    }
}

fn answer(status: StatusCode, json: String) -> Response<Full<Bytes>> {
    json_response(status, json).map(|body| Full::new(Bytes::from(body)))
}

#[cfg(feature = "tracing")]
fn log_queued(id: &str) {
    tracing::debug!(svix_id = id, "clerk webhook queued");
}

#[cfg(not(feature = "tracing"))]
fn log_queued(_id: &str) {}

#[cfg(feature = "tracing")]
fn log_unavailable(id: &str, err: &dyn std::fmt::Display) {
    tracing::error!(svix_id = id, error = %err, "clerk webhook queue unavailable; answered 503");
}

#[cfg(not(feature = "tracing"))]
fn log_unavailable(_id: &str, _err: &dyn std::fmt::Display) {}
