//! Where the route stores each job: an endpoint's queue in Redis.

use std::sync::Arc;
use std::time::Duration;

use apalis_redis::Config as QueueConfig;
use clerk_webhooks::queue::{Enqueued, QueueBackend, QueuedDelivery};
use clerk_webhooks::BoxError;
use redis::aio::ConnectionManager;

use super::connection::{queue_config, ConnectOptions, DurabilityWatch, QueueError};
use super::recovery::enqueue_under;

/// An endpoint's queue in Redis, the [`QueueBackend`] of the route's
/// [`DeliveryQueue`](clerk_webhooks::queue::DeliveryQueue): each job is stored by one Lua script
/// (found under any of the delivery's keys, so a retry or a replay adds no second job) before the
/// route answers `200`.
#[derive(Clone)]
pub struct RedisQueue {
    connection: ConnectionManager,
    config: Arc<QueueConfig>,
    /// Re-reads Redis' persistence settings now and then: a Redis restarted without them loses
    /// what it acknowledges.
    durability: Arc<DurabilityWatch>,
    /// The longest a delivery waits for Redis before it is answered `503`.
    deadline: Duration,
}

impl std::fmt::Debug for RedisQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisQueue")
            .field("active_jobs", &self.config.active_jobs_list())
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

impl RedisQueue {
    /// Connects to Redis (`options`, or a URL with the [defaults](ConnectOptions): a delivery is
    /// answered `503` within about 2 seconds while Redis is unreachable), checks that Redis keeps
    /// an append-only file, and stores jobs in the queue named `endpoint`
    /// ([`queue_config`](super::queue_config)): a stable name of this endpoint (app and
    /// environment), which its workers give [`Worker::connect`](super::Worker::connect). Not the
    /// secret's fingerprint
    /// ([`ClerkWebhookLayer::endpoint`](clerk_webhooks::ClerkWebhookLayer::endpoint)) if you
    /// rotate secrets: it changes with the first secret, and jobs queued under the old name would
    /// wait for a worker that no longer reads them.
    ///
    /// # Errors
    ///
    /// [`QueueError::Redis`] when the URL is malformed or Redis cannot be reached at startup;
    /// [`QueueError::NotDurable`] when Redis runs without `appendonly yes` (see
    /// [`ConnectOptions::allow_non_durable`]).
    pub async fn connect(
        options: impl Into<ConnectOptions>,
        endpoint: &str,
    ) -> Result<Self, QueueError> {
        let options = options.into();
        let mut connection = options.connect().await?;
        options.check_durable(&mut connection).await?;
        Ok(Self {
            connection,
            config: Arc::new(queue_config(endpoint)),
            deadline: options.command_deadline(),
            durability: Arc::new(DurabilityWatch::new(options)),
        })
    }
}

impl QueueBackend for RedisQueue {
    async fn enqueue(&self, job: &QueuedDelivery, keys: &[String]) -> Result<Enqueued, BoxError> {
        let mut connection = self.connection.clone();
        let enqueued = async {
            self.durability.ensure(&mut connection).await?;
            enqueue_under(&mut connection, &self.config, job, keys).await
        };
        // The connection's timeouts bound each command; this bounds the whole enqueue (now and
        // then a look at Redis' persistence settings first).
        match tokio::time::timeout(self.deadline, enqueued).await {
            Ok(outcome) => Ok(outcome?),
            Err(_) => Err(format!("Redis did not answer within {:?}", self.deadline).into()),
        }
    }
}
