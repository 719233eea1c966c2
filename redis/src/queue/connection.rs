//! Reaching Redis: the settings the route and the workers share, and the durability check the
//! route's promise depends on.

use std::fmt;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use apalis_redis::Config as QueueConfig;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::{DEFAULT_IDEMPOTENCY_TTL, QUEUE_PREFIX};
use clerk_webhooks::__private::log::warn;

/// How the queue reaches Redis: its URL, how long a command may wait, and whether a Redis that
/// can lose acknowledged jobs is accepted.
///
/// The defaults answer a delivery within about 2 seconds while Redis is unreachable (a `503` that
/// Svix retries, not a hung request): a 1-second connection timeout, a 1-second response timeout
/// and one reconnection attempt per command. A `&str` URL converts into the defaults.
///
/// ```no_run
/// use std::time::Duration;
/// use clerk_webhooks::queue::DeliveryQueue;
/// use clerk_webhooks_redis::queue::{ConnectOptions, RedisQueue};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let options = ConnectOptions::new("redis://127.0.0.1:6379/")
///     .response_timeout(Duration::from_millis(500));
/// let route = DeliveryQueue::new(RedisQueue::connect(options, "myapp-production").await?);
/// # let _ = route;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ConnectOptions {
    url: String,
    connection_timeout: Duration,
    response_timeout: Duration,
    require_durable: bool,
    durability_recheck: Duration,
}

impl ConnectOptions {
    /// The defaults for the Redis at `url`.
    pub fn new(url: &str) -> Self {
        Self {
            url: url.to_owned(),
            connection_timeout: DEFAULT_TIMEOUT,
            response_timeout: DEFAULT_TIMEOUT,
            require_durable: true,
            durability_recheck: DURABILITY_RECHECK,
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

    /// Accepts a Redis without the append-only file. [`RedisQueue::connect`](super::RedisQueue::connect)
    /// refuses one by default: a job answered `200` lives only in memory there, and a crash or
    /// restart of Redis loses it while Svix, told it was delivered, never sends it again. For
    /// development and tests.
    #[must_use]
    pub fn allow_non_durable(mut self) -> Self {
        self.require_durable = false;
        self
    }

    /// How often the route reads Redis' persistence settings again after the check at
    /// [`connect`](super::RedisQueue::connect) (default 1 minute), so that a Redis restarted
    /// without them (or changed with `CONFIG SET`) is answered `503` rather than trusted with
    /// deliveries it could lose. One delivery in that interval makes the reading.
    #[must_use]
    pub fn recheck_durability_every(mut self, interval: Duration) -> Self {
        self.durability_recheck = interval;
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
    /// use clerk_webhooks_redis::queue::{sweep_done, ConnectOptions, DEFAULT_DONE_RETENTION};
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

    /// Refuses (or, when allowed, warns about) a Redis that can lose a job it acknowledged: one
    /// without the append-only file (`appendonly no`: a restart loses everything since the last
    /// snapshot), one that leaves flushing it to the operating system (`appendfsync no`: a host
    /// crash loses up to about 30 seconds of jobs), or one that evicts any key under memory
    /// pressure (`maxmemory-policy allkeys-*`: jobs themselves can go). `appendfsync everysec` (Redis' default) loses
    /// at most the last second on a host crash, never on a restart or a crash of Redis alone;
    /// `always` loses nothing.
    ///
    /// What the check cannot see: a Redis that does not let us read its configuration (managed
    /// services often disable `CONFIG`) is taken on trust, with a warning; and a replica promoted
    /// by a failover can miss what its primary acknowledged last (Redis replicates
    /// asynchronously).
    pub(crate) async fn check_durable(
        &self,
        connection: &mut ConnectionManager,
    ) -> Result<(), QueueError> {
        // Two readings: `CONFIG GET` takes one pattern before Redis 7.
        let reply: redis::RedisResult<(Vec<String>, Vec<String>)> = redis::pipe()
            .cmd("CONFIG")
            .arg("GET")
            .arg("append*")
            .cmd("CONFIG")
            .arg("GET")
            .arg("maxmemory-policy")
            .query_async(connection)
            .await;
        let pairs = match reply {
            Ok((append, eviction)) => [append, eviction].concat(),
            // Redis could not answer now (unreachable, loading its data, busy with a script): not
            // a question of its configuration.
            Err(err)
                if err.is_io_error()
                    || err.is_timeout()
                    || err.is_connection_dropped()
                    || matches!(
                        err.kind(),
                        redis::ErrorKind::Server(
                            redis::ServerErrorKind::BusyLoading | redis::ServerErrorKind::TryAgain
                        )
                    )
                    || err.code() == Some("BUSY") =>
            {
                return Err(QueueError::Redis(err));
            }
            // Redis refused the command (CONFIG disabled, an ACL): taken on trust, with a warning.
            Err(err) => {
                log_unchecked(&err.to_string());
                return Ok(());
            }
        };
        let setting = |name: &str| {
            pairs
                .chunks(2)
                .find(|pair| pair[0].eq_ignore_ascii_case(name))
                .and_then(|pair| pair.get(1).cloned())
        };
        let problem = match (setting("appendonly"), setting("appendfsync")) {
            (Some(appendonly), _) if appendonly != "yes" => {
                format!("appendonly {appendonly}")
            }
            (Some(_), Some(fsync)) if fsync == "no" => "appendfsync no".to_owned(),
            // Under memory pressure, an `allkeys-*` policy evicts jobs themselves.
            (Some(_), Some(_)) => match setting("maxmemory-policy") {
                Some(policy) if policy.starts_with("allkeys") => {
                    format!("maxmemory-policy {policy}")
                }
                _ => return Ok(()),
            },
            // A Redis that filters what CONFIG shows (some managed services) answers nothing.
            _ => {
                log_unchecked("CONFIG GET append* did not answer both settings");
                return Ok(());
            }
        };
        if self.require_durable {
            return Err(QueueError::NotDurable { setting: problem });
        }
        log_non_durable(&problem);
        Ok(())
    }
}

/// How often the route reads Redis' persistence settings again by default.
const DURABILITY_RECHECK: Duration = Duration::from_secs(60);

/// The route's view of whether Redis keeps what it acknowledges, read again every
/// [`ConnectOptions::recheck_durability_every`] by the delivery that finds it stale.
pub(crate) struct DurabilityWatch {
    options: ConnectOptions,
    /// When it was last read, and the answer: `None` while Redis keeps what it acknowledges.
    last: Mutex<(Instant, Option<String>)>,
}

impl DurabilityWatch {
    /// A watch whose first reading was just made, and passed.
    pub(crate) fn new(options: ConnectOptions) -> Self {
        Self {
            options,
            last: Mutex::new((Instant::now(), None)),
        }
    }

    /// `Err(NotDurable)` while Redis runs with settings that lose acknowledged jobs (unless the
    /// options allow it); a reading that cannot be made keeps the last answer.
    pub(crate) async fn ensure(
        &self,
        connection: &mut ConnectionManager,
    ) -> Result<(), QueueError> {
        let due = {
            let mut last = self.lock();
            let due = last.0.elapsed() >= self.options.durability_recheck;
            if due {
                // One delivery reads; the others go on with the last answer meanwhile.
                last.0 = Instant::now();
            }
            due
        };
        if due {
            let reading = match self.options.check_durable(connection).await {
                Ok(()) => Some(None),
                Err(QueueError::NotDurable { setting }) => Some(Some(setting)),
                Err(_) => None,
            };
            if let Some(answer) = reading {
                self.lock().1 = answer;
            }
        }
        match &self.lock().1 {
            None => Ok(()),
            Some(setting) => Err(QueueError::NotDurable {
                setting: setting.clone(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, (Instant, Option<String>)> {
        self.last
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
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
            .field("durability_recheck", &self.durability_recheck)
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
    /// Redis runs without its append-only file, without flushing it, or evicting any key, so it
    /// can lose jobs already answered `200`.
    #[error(
        "the queue's Redis runs with {setting}: a job answered 200 could be lost, and Svix would \
         never send the delivery again. Set `appendonly yes`, `appendfsync everysec` (or \
         `always`) and a `maxmemory-policy` of `noeviction` or `volatile-*` in redis.conf or with \
         CONFIG SET, or call ConnectOptions::allow_non_durable for development"
    )]
    NotDurable {
        /// The setting Redis reported (`appendonly no`, `appendfsync no`,
        /// `maxmemory-policy allkeys-lru`, ...).
        setting: String,
    },
    /// Another live worker holds this worker's name (its heartbeat is fresher than the lease):
    /// two processes must not share one.
    #[error(
        "another live worker is registered as {name:?} on this queue; give each process its own \
         name (the default, Worker::connect without Worker::named, is unique per process)"
    )]
    WorkerNameInUse {
        /// The name.
        name: String,
    },
}

/// The keys of `endpoint`'s queue, in apalis-redis 1.0's layout: the queue
/// `clerk-webhooks:{endpoint}` ([`QUEUE_PREFIX`]), idempotency keys kept
/// [`DEFAULT_IDEMPOTENCY_TTL`]. What [`DeliveryQueue`](clerk_webhooks::queue::DeliveryQueue),
/// [`Worker`](super::Worker) and the recovery functions use, for [`enqueue`](super::enqueue) from
/// code of your own.
pub fn queue_config(endpoint: &str) -> QueueConfig {
    QueueConfig::default()
        .queue(format!("{QUEUE_PREFIX}:{endpoint}"))
        .idempotency_ttl(Some(DEFAULT_IDEMPOTENCY_TTL))
}

#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
fn log_non_durable(setting: &str) {
    warn!(
        setting,
        "clerk webhook queue: Redis can lose jobs answered 200 when it or its host restarts \
         (allowed by ConnectOptions::allow_non_durable)"
    );
}

#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
fn log_unchecked(reason: &str) {
    warn!(
        reason,
        "clerk webhook queue: could not read Redis' appendonly and appendfsync settings; make sure \
         they are `yes` and `everysec` (or `always`), or jobs answered 200 can be lost when Redis \
         restarts"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The workers' and the recovery's Lua scripts read and write apalis-redis 1.0's keys, and
    /// jobs queued by 0.1 (through apalis-redis itself) live there: a version of apalis-redis
    /// that names them otherwise would strand those jobs. The dependency is pinned to `~1.0`;
    /// this says what to look at if a new 1.0.x moves a key.
    #[test]
    fn the_keys_are_apalis_redis_1_0s() {
        let config = queue_config("app");
        let keys = [
            config.job_data_hash(),
            config.job_meta_hash(),
            config.active_jobs_list(),
            config.signal_list(),
            config.dead_jobs_set(),
            config.done_jobs_set(),
            config.idempotency_key_set(),
        ];
        let expected = [
            "data",
            "meta",
            "active",
            "signal",
            "dead",
            "done",
            "idempotency",
        ]
        .map(|name| format!("clerk-webhooks:app:{name}"));
        assert_eq!(
            keys, expected,
            "apalis-redis changed its key layout: the Lua in src/queue (lease.rs, recovery.rs) \
             and jobs already queued rely on the old one"
        );
    }
}
