//! The store protocol: claim, complete, release.

use std::collections::hash_map::RandomState;
use std::fmt;
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The longest a lease or retention is held by the stores (`MemoryStore`, clerk-webhooks-redis's
/// `RedisStore`): a longer one (up to `Duration::MAX`) means "as long as the store lives", and
/// adding it to a clock could overflow.
pub const FOREVER: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);

/// Proof that this process holds the processing lease of a delivery id; only its holder can
/// complete or release the claim.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ClaimToken(String);

impl ClaimToken {
    /// A new token, unique across processes: 128 random bits from the OS-seeded hasher keys plus a
    /// process-wide counter (no extra dependency for randomness).
    pub fn new() -> Self {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let count = COUNTER.fetch_add(1, Ordering::Relaxed);
        let mut first = RandomState::new().build_hasher();
        first.write_u64(count);
        let mut second = RandomState::new().build_hasher();
        second.write_u64(count.rotate_left(32));
        Self(format!(
            "{:016x}{:016x}{count:x}",
            first.finish(),
            second.finish()
        ))
    }

    /// The token as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for ClaimToken {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for ClaimToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClaimToken({})", self.0)
    }
}

/// The answer to a claim.
///
/// ```
/// use clerk_webhooks::dedupe::{Claim, DedupeStore, MemoryStore};
/// use std::time::Duration;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let store = MemoryStore::new();
/// let first = store.claim("msg_1", Duration::from_secs(60)).await?;
/// assert!(matches!(first, Claim::Claimed(_)));
/// let second = store.claim("msg_1", Duration::from_secs(60)).await?;
/// assert!(matches!(second, Claim::InProgress { retry_after: Some(_) }));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Claim {
    /// First delivery of this id (or a retry after a failure or an expired lease): process it.
    Claimed(ClaimToken),
    /// Already processed successfully: answer 200 without processing.
    Done,
    /// Being processed right now, here or on another instance: answer a retryable status.
    InProgress {
        /// How long the current lease still runs, when the store knows.
        retry_after: Option<Duration>,
    },
}

/// The store failed (Redis down, ...). The delivery is answered with `503` so Svix retries it.
///
/// `Debug` shows the same text as `Display`, so a `main` that returns it with `?` (from
/// `RedisStore::connect`) prints the cause.
#[derive(thiserror::Error)]
#[error("the de-duplication store failed: {source}")]
pub struct StoreError {
    #[source]
    source: crate::BoxError,
}

impl StoreError {
    /// A store failure caused by `source`, for implementations of [`DedupeStore`].
    pub fn new(source: impl Into<crate::BoxError>) -> Self {
        Self {
            source: source.into(),
        }
    }
}

impl fmt::Debug for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Where delivery ids are claimed and remembered.
///
/// Implemented by [`MemoryStore`](super::MemoryStore) (one process) and `RedisStore` (feature
/// `redis`, many instances). The protocol, for one id:
/// - [`claim`](Self::claim) for a lease: `Claimed` to the first caller, `InProgress` to others while
///   the lease runs, `Done` once completed; an expired lease can be claimed again.
/// - [`complete`](Self::complete) after a 2xx: remember the id as done for the retention period,
///   unless another attempt took the id over after this one's lease expired (a live claim of
///   another token, or done by it); say which. A lease that ran out with nobody else claiming the
///   id is no lost claim: the success is recorded all the same.
/// - [`release`](Self::release) after anything else, so the retry is processed.
/// - [`abandon`](Self::abandon) from `Drop` (handler panic, dropped future): a best-effort release
///   that cannot wait; the lease expiry covers what it misses.
///
/// Only the holder of the [`ClaimToken`] can complete or release a claim.
///
/// # Not a `dyn` trait
///
/// `dyn DedupeStore` does not compile, by choice: the methods return `impl Future` so that a
/// claim costs no allocation per delivery, and [`DedupeLayer`](super::DedupeLayer) clones its
/// store into each service. To choose the store at run time (memory in development, Redis in
/// production), wrap the candidates in an enum of your own that implements `DedupeStore` by
/// delegating to the store it holds; the layer is then generic over that one type.
///
/// ```
/// use clerk_webhooks::dedupe::{Claim, DedupeStore, MemoryStore};
/// use std::time::Duration;
///
/// /// Processes `id` once, whatever store is behind it.
/// async fn once<St: DedupeStore>(store: &St, id: &str) -> bool {
///     match store.claim(id, Duration::from_secs(60)).await {
///         Ok(Claim::Claimed(token)) => store.complete(id, &token, Duration::from_secs(3600)).await.unwrap_or(false),
///         _ => false,
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let store = MemoryStore::new();
/// assert!(once(&store, "msg_1").await);
/// assert!(!once(&store, "msg_1").await);
/// # }
/// ```
pub trait DedupeStore: Clone + Send + Sync + 'static {
    /// Claims `id` for `lease`. A lease too long to represent is held as long as the store can
    /// (a century for [`MemoryStore`](super::MemoryStore)); it never fails the claim.
    fn claim(
        &self,
        id: &str,
        lease: Duration,
    ) -> impl Future<Output = Result<Claim, StoreError>> + Send;

    /// Marks `id` done for `retention`, if `token` still holds its claim or the id is free (its
    /// lease expired and nobody claimed it since). `Ok(false)` when another attempt took it over:
    /// it holds a live claim, or already completed it; that attempt may have run the handler too.
    fn complete(
        &self,
        id: &str,
        token: &ClaimToken,
        retention: Duration,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Gives the claim on `id` up, if `token` still holds it.
    fn release(
        &self,
        id: &str,
        token: &ClaimToken,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Gives the claim up without waiting, from a destructor.
    fn abandon(&self, id: String, token: ClaimToken);

    /// Whether `id` is marked done. The de-duplication layer asks it of a delivery's other keys
    /// ([`Delivery::keys`](crate::Delivery::keys): while a secret rotation is under way), so a
    /// delivery processed under the old first secret's namespace is still a duplicate. The default
    /// answers `false`: such a store recognises a delivery under its current key only.
    fn is_done(&self, id: &str) -> impl Future<Output = Result<bool, StoreError>> + Send {
        let _ = id;
        std::future::ready(Ok(false))
    }
}
