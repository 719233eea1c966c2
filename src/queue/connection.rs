//! Reaching Redis: the settings the route and the workers share, and the durability check the
//! route's promise depends on.

use std::fmt;
use std::time::Duration;

use apalis_redis::{Config as QueueConfig, RedisStorage};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::job::QueuedDelivery;
use super::{DEFAULT_IDEMPOTENCY_TTL, QUEUE_PREFIX};

/// How the queue reaches Redis: its URL, how long a command may wait, and whether a Redis that
/// can lose acknowledged jobs is accepted.
///
/// The defaults answer a delivery within about 2 seconds while Redis is unreachable (a `503` that
/// Svix retries, not a hung request): a 1-second connection timeout, a 1-second response timeout
/// and one reconnection attempt per command. A `&str` URL converts into the defaults.
///
/// ```no_run
/// use std::time::Duration;
/// use clerk_webhooks::queue::{ConnectOptions, DeliveryQueue};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let options = ConnectOptions::new("redis://127.0.0.1:6379/")
///     .response_timeout(Duration::from_millis(500));
/// let queue = DeliveryQueue::connect(options, "myapp-production").await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ConnectOptions {
    url: String,
    connection_timeout: Duration,
    response_timeout: Duration,
    require_durable: bool,
}

impl ConnectOptions {
    /// The defaults for the Redis at `url`.
    pub fn new(url: &str) -> Self {
        Self {
            url: url.to_owned(),
            connection_timeout: DEFAULT_TIMEOUT,
            response_timeout: DEFAULT_TIMEOUT,
            require_durable: true,
        }
    }

    /// How long one attempt to (re)connect may take (default 1 second).
    #[must_use]
    pub fn connection_timeout(mut self, timeout: Duration) -> Self {
        self.connection_timeout = timeout;
        self
    }

    /// How long a command may wait for its answer (default 1 second).
    #[must_use]
    pub fn response_timeout(mut self, timeout: Duration) -> Self {
        self.response_timeout = timeout;
        self
    }

    /// Accepts a Redis without the append-only file. [`DeliveryQueue::connect`](super::DeliveryQueue::connect)
    /// refuses one by default: a job answered `200` lives only in memory there, and a crash or
    /// restart of Redis loses it while Svix, told it was delivered, never sends it again. For
    /// development and tests.
    #[must_use]
    pub fn allow_non_durable(mut self) -> Self {
        self.require_durable = false;
        self
    }

    /// A connection with these settings, for the operator functions ([`dead_jobs`](super::dead_jobs),
    /// [`requeue_dead`](super::requeue_dead), [`sweep_done`](super::sweep_done)) without a
    /// direct dependency on `redis`. It fails a command within about the two timeouts while Redis
    /// is down (one reconnection attempt, 100 to 200 ms apart), and reconnects on the next command
    /// once it is back.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use clerk_webhooks::queue::{sweep_done, ConnectOptions, DEFAULT_DONE_RETENTION};
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut redis = ConnectOptions::new("redis://127.0.0.1:6379/").connect().await?;
    /// // Once an hour: finished jobs older than a week go.
    /// let swept = sweep_done(&mut redis, "myapp-production", DEFAULT_DONE_RETENTION).await?;
    /// println!("{swept} finished jobs swept");
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`QueueError::Redis`] when the URL is malformed or Redis cannot be reached now.
    pub async fn connect(&self) -> Result<ConnectionManager, QueueError> {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.connection_timeout))
            .set_response_timeout(Some(self.response_timeout))
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(100))
            .set_max_delay(Duration::from_millis(200));
        Ok(redis::Client::open(self.url.as_str())?
            .get_connection_manager_with_config(config)
            .await?)
    }

    /// The longest a command can take while Redis is unreachable: what the route waits at most
    /// before answering `503`.
    pub(crate) fn command_deadline(&self) -> Duration {
        command_deadline(self.connection_timeout, self.response_timeout)
    }

    /// Refuses (or, when allowed, warns about) a Redis whose `appendonly` is off. A Redis that does
    /// not let us read its configuration (managed services often disable `CONFIG`) is taken on
    /// trust, with a warning.
    pub(crate) async fn check_durable(
        &self,
        connection: &mut ConnectionManager,
    ) -> Result<(), QueueError> {
        let reply: redis::RedisResult<Vec<String>> = redis::cmd("CONFIG")
            .arg("GET")
            .arg("appendonly")
            .query_async(connection)
            .await;
        match reply {
            Ok(pair) => match pair.as_slice() {
                [_, value] if value == "yes" => Ok(()),
                [_, value] if self.require_durable => Err(QueueError::NotDurable {
                    appendonly: value.clone(),
                }),
                [_, _] => {
                    log_non_durable();
                    Ok(())
                }
                // A Redis that filters what CONFIG shows (some managed services) answers nothing.
                _ => {
                    log_unchecked("CONFIG GET appendonly answered nothing");
                    Ok(())
                }
            },
            // Redis could not be reached or answer: not a question of its configuration.
            Err(err) if err.is_io_error() || err.is_timeout() || err.is_connection_dropped() => {
                Err(QueueError::Redis(err))
            }
            // Redis refused the command (CONFIG disabled, an ACL): taken on trust, with a warning.
            Err(err) => {
                log_unchecked(&err.to_string());
                Ok(())
            }
        }
    }
}

/// The default connection and response timeouts.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1);

/// One reconnection attempt (at most 200 ms apart) within both timeouts.
pub(crate) const fn command_deadline(connection: Duration, response: Duration) -> Duration {
    connection
        .saturating_add(response)
        .saturating_add(Duration::from_millis(200))
}

/// [`ConnectOptions::command_deadline`] of the defaults, for a storage built elsewhere.
pub(crate) const DEFAULT_COMMAND_DEADLINE: Duration =
    command_deadline(DEFAULT_TIMEOUT, DEFAULT_TIMEOUT);

impl From<&str> for ConnectOptions {
    fn from(url: &str) -> Self {
        Self::new(url)
    }
}

impl From<&String> for ConnectOptions {
    fn from(url: &String) -> Self {
        Self::new(url)
    }
}

impl From<String> for ConnectOptions {
    fn from(url: String) -> Self {
        Self::new(&url)
    }
}

impl fmt::Debug for ConnectOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL may carry a password.
        f.debug_struct("ConnectOptions")
            .field("connection_timeout", &self.connection_timeout)
            .field("response_timeout", &self.response_timeout)
            .field("require_durable", &self.require_durable)
            .finish_non_exhaustive()
    }
}

/// Why the queue could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QueueError {
    /// The URL is malformed, or Redis could not be reached or answered with an error.
    #[error("the queue's Redis failed: {0}")]
    Redis(#[from] redis::RedisError),
    /// Redis runs without its append-only file, so it can lose jobs already answered `200`.
    #[error(
        "the queue's Redis runs with appendonly {appendonly}: a job answered 200 would be lost if \
         Redis restarted, and Svix would never send the delivery again. Set `appendonly yes` \
         (and `appendfsync everysec` or `always`) in redis.conf or with CONFIG SET, or call \
         ConnectOptions::allow_non_durable for development"
    )]
    NotDurable {
        /// The value Redis reported.
        appendonly: String,
    },
}

/// The apalis-redis configuration [`DeliveryQueue::connect`](super::DeliveryQueue::connect) and
/// [`worker_storage`] use for the jobs of `endpoint`: the queue `clerk-webhooks:{endpoint}`
/// ([`QUEUE_PREFIX`]), idempotency keys kept [`DEFAULT_IDEMPOTENCY_TTL`], and a 1-second worker
/// heartbeat, taking one job at a time.
///
/// - An idle apalis-redis worker looks for new jobs on each heartbeat (30 s by default), so the
///   heartbeat is the longest a queued delivery waits for an idle worker.
/// - A finished job's acknowledgement goes to Redis on the worker's next poll: at the latest on
///   its next heartbeat, so within about a second. A Redis restart inside that window runs the job
///   again (effects are at least once: make them idempotent, or put them in the database inbox
///   with the delivery id). Taking one job at a time keeps the window at one heartbeat even with a
///   backlog (a worker holding a batch acknowledges nothing until the batch is through).
/// - A worker that missed 10 heartbeats (apalis-redis 1.0's default), 10 seconds here, is
///   considered dead and its jobs go back to the queue.
pub fn queue_config(endpoint: &str) -> QueueConfig {
    QueueConfig::default()
        .queue(format!("{QUEUE_PREFIX}:{endpoint}"))
        .idempotency_ttl(Some(DEFAULT_IDEMPOTENCY_TTL))
        .heartbeat_interval(Duration::from_secs(1))
        .batch_size(1)
}

/// Connects a storage for workers consuming the queue of `endpoint`, with the same connection
/// settings (`options`, or a URL) and [`queue_config`] as
/// [`DeliveryQueue::connect`](super::DeliveryQueue::connect). (The durability check is the
/// route's: it is the route that answers `200`.)
///
/// # Errors
///
/// When the URL is malformed or Redis cannot be reached.
pub async fn worker_storage(
    options: impl Into<ConnectOptions>,
    endpoint: &str,
) -> Result<RedisStorage<QueuedDelivery, ConnectionManager>, QueueError> {
    let connection = options.into().connect().await?;
    Ok(RedisStorage::new(connection).with_config(queue_config(endpoint)))
}

fn log_non_durable() {
    warn!(
        "clerk webhook queue: Redis runs without appendonly; jobs answered 200 are lost if Redis \
         restarts (allowed by ConnectOptions::allow_non_durable)"
    );
}

#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
fn log_unchecked(reason: &str) {
    warn!(
        reason,
        "clerk webhook queue: could not read Redis' appendonly setting; make sure it is `yes`, or \
         jobs answered 200 can be lost when Redis restarts"
    );
}
