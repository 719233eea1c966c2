//! The Redis store, for many instances behind a load balancer.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::Script;

use clerk_webhooks::__private::FOREVER;
use clerk_webhooks::dedupe::{Claim, ClaimToken, DedupeStore, StoreError};

/// The default key prefix. A key is `{prefix}:{endpoint}:{svix-id}`: the endpoint namespace
/// ([`Delivery::key`](clerk_webhooks::Delivery::key)) keeps endpoints sharing one Redis apart.
pub const DEFAULT_KEY_PREFIX: &str = "clerk-webhooks:delivery";

/// The value of a key once its delivery succeeded; a claim's value is its token, which never
/// equals it.
const DONE: &str = "done";

/// Sets the key to `done` for the retention while the caller's token holds it or nobody does (the
/// lease expired and no other attempt claimed the id since); not over another attempt's claim or
/// completion.
const COMPLETE: &str = r"
local value = redis.call('GET', KEYS[1])
if value == false or value == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0";

/// Deletes the key only while the caller's token holds it (compare-and-delete).
const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0";

/// Remembers delivery ids in Redis, shared by every instance of your service (cargo feature
/// `redis`).
///
/// A claim is `SET key token NX PX lease`, atomic across instances; completing and releasing are
/// small Lua scripts that act only while the caller's token still holds the key, so an instance
/// whose lease expired cannot undo another's claim. Redis' own expiry purges old ids.
///
/// ```no_run
/// use clerk_webhooks::dedupe::DedupeLayer;
/// use clerk_webhooks_redis::RedisStore;
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let store = RedisStore::connect("redis://127.0.0.1:6379/").await?.with_key_prefix("myapp:clerk");
/// let layer = DedupeLayer::new(store);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    connection: ConnectionManager,
    prefix: Arc<str>,
    complete: Arc<Script>,
    release: Arc<Script>,
}

impl RedisStore {
    /// Connects to `url` with a connection manager that reconnects by itself and fails commands
    /// within a few seconds while Redis is down (so deliveries get a prompt 503, not a hang).
    ///
    /// # Errors
    ///
    /// When the URL is invalid or Redis cannot be reached now.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let client = redis::Client::open(url).map_err(store_error)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(1);
        let connection = client
            .get_connection_manager_with_config(config)
            .await
            .map_err(store_error)?;
        Ok(Self::new(connection))
    }

    /// Uses an existing connection manager.
    ///
    /// ```no_run
    /// use clerk_webhooks_redis::RedisStore;
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let manager = redis::Client::open("redis://127.0.0.1/")?.get_connection_manager().await?;
    /// let store = RedisStore::new(manager);
    /// # Ok(()) }
    /// ```
    pub fn new(connection: ConnectionManager) -> Self {
        Self {
            connection,
            prefix: Arc::from(DEFAULT_KEY_PREFIX),
            complete: Arc::new(Script::new(COMPLETE)),
            release: Arc::new(Script::new(RELEASE)),
        }
    }

    /// Prefixes every key with `prefix` (default `clerk-webhooks:delivery`), to share a Redis
    /// with other data. A `:` separates it from the rest of the key (a trailing one in `prefix`
    /// is not doubled). Endpoints sharing one Redis are already kept apart by the endpoint
    /// namespace in every key ([`Verifier::endpoint`](clerk_webhooks::Verifier::endpoint)).
    ///
    /// ```no_run
    /// use clerk_webhooks_redis::RedisStore;
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = RedisStore::connect("redis://127.0.0.1/").await?.with_key_prefix("myapp:clerk");
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn with_key_prefix(mut self, prefix: &str) -> Self {
        self.prefix = Arc::from(prefix.strip_suffix(':').unwrap_or(prefix));
        self
    }

    fn key(&self, id: &str) -> String {
        format!("{}:{id}", self.prefix)
    }
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .finish()
    }
}

fn store_error(err: redis::RedisError) -> StoreError {
    StoreError::new(err)
}

/// An expiry for `PX`: at least 1 ms (Redis refuses 0), at most [`FOREVER`] (Redis refuses an
/// expiry that overflows its clock, and would then fail every delivery).
fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.min(FOREVER).as_millis())
        .unwrap_or(u64::MAX)
        .max(1)
}

impl DedupeStore for RedisStore {
    fn claim(
        &self,
        id: &str,
        lease: Duration,
    ) -> impl Future<Output = Result<Claim, StoreError>> + Send {
        let key = self.key(id);
        let mut connection = self.connection.clone();
        async move {
            // A key that expires between the SET and the GET is claimed on the next round.
            for _ in 0..3 {
                let token = ClaimToken::new();
                let set: Option<String> = redis::cmd("SET")
                    .arg(&key)
                    .arg(token.as_str())
                    .arg("NX")
                    .arg("PX")
                    .arg(millis(lease))
                    .query_async(&mut connection)
                    .await
                    .map_err(store_error)?;
                if set.is_some() {
                    return Ok(Claim::Claimed(token));
                }
                let (value, ttl_ms): (Option<String>, i64) = redis::pipe()
                    .get(&key)
                    .pttl(&key)
                    .query_async(&mut connection)
                    .await
                    .map_err(store_error)?;
                match value.as_deref() {
                    Some(DONE) => return Ok(Claim::Done),
                    Some(_) => {
                        let retry_after = u64::try_from(ttl_ms).ok().map(Duration::from_millis);
                        return Ok(Claim::InProgress { retry_after });
                    }
                    None => continue,
                }
            }
            Ok(Claim::InProgress { retry_after: None })
        }
    }

    fn complete(
        &self,
        id: &str,
        token: &ClaimToken,
        retention: Duration,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        let key = self.key(id);
        let token = token.clone();
        let script = Arc::clone(&self.complete);
        let mut connection = self.connection.clone();
        async move {
            let updated: i64 = script
                .key(key)
                .arg(token.as_str())
                .arg(DONE)
                .arg(millis(retention))
                .invoke_async(&mut connection)
                .await
                .map_err(store_error)?;
            Ok(updated == 1)
        }
    }

    fn release(
        &self,
        id: &str,
        token: &ClaimToken,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        let key = self.key(id);
        let token = token.clone();
        let script = Arc::clone(&self.release);
        let mut connection = self.connection.clone();
        async move {
            let _deleted: i64 = script
                .key(key)
                .arg(token.as_str())
                .invoke_async(&mut connection)
                .await
                .map_err(store_error)?;
            Ok(())
        }
    }

    fn is_done(&self, id: &str) -> impl Future<Output = Result<bool, StoreError>> + Send {
        let key = self.key(id);
        let mut connection = self.connection.clone();
        async move {
            let value: Option<String> = redis::cmd("GET")
                .arg(&key)
                .query_async(&mut connection)
                .await
                .map_err(store_error)?;
            Ok(value.as_deref() == Some(DONE))
        }
    }

    fn abandon(&self, id: String, token: ClaimToken) {
        // Without a runtime the release cannot run; the lease expiry frees the id instead.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let store = self.clone();
            runtime.spawn(async move {
                let _ = store.release(&id, &token).await;
            });
        }
    }
}
