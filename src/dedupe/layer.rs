//! The de-duplication layer and its settings.

use std::time::Duration;

use tower_layer::Layer;

use super::service::Dedupe;
use super::store::DedupeStore;

/// The default processing lease: how long one attempt may run before another may take over.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(60);
/// The default retention of processed ids: 3 days, longer than Svix's retry schedule (about 28
/// hours) with room for manual replays soon after.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(3 * 24 * 60 * 60);

/// A [`Layer`] that makes each Clerk delivery take effect once; place it inside
/// [`ClerkWebhookLayer`](crate::ClerkWebhookLayer), which provides the verified
/// [`Delivery`](crate::Delivery) id.
///
/// - first delivery of an id: claim it, call the handler; a 2xx marks it done, anything else
///   (other status, error, panic, dropped future) releases it so the retry is processed;
/// - an id already done: `200` with `{"duplicate": true, ...}`, handler not called;
/// - an id being processed right now: `409` with `Retry-After`, handler not called;
/// - the store failing: `503` with `Retry-After`, so Svix retries later.
///
/// ```
/// use axum::{http::StatusCode, routing::post, Router};
/// use clerk_webhooks::dedupe::{DedupeLayer, MemoryStore};
/// use clerk_webhooks::{ClerkEvent, ClerkWebhookLayer, SigningSecret, Verifier};
/// use tower::ServiceBuilder;
///
/// async fn on_clerk(_event: ClerkEvent) -> StatusCode {
///     StatusCode::OK // runs once per delivery id
/// }
///
/// let verifier = Verifier::new(SigningSecret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?);
/// let app: Router = Router::new().route(
///     "/webhooks/clerk",
///     post(on_clerk).route_layer(
///         ServiceBuilder::new()
///             .layer(ClerkWebhookLayer::new(verifier)) // outer: verifies first
///             .layer(DedupeLayer::new(MemoryStore::new())),
///     ),
/// );
/// # Ok::<(), clerk_webhooks::SecretError>(())
/// ```
#[derive(Debug, Clone)]
pub struct DedupeLayer<St> {
    store: St,
    lease: Duration,
    retention: Duration,
}

impl<St: DedupeStore> DedupeLayer<St> {
    /// De-duplicates with `store`, a 60-second lease and a 3-day retention.
    ///
    /// ```
    /// use clerk_webhooks::dedupe::{DedupeLayer, MemoryStore};
    ///
    /// let layer = DedupeLayer::new(MemoryStore::new());
    /// ```
    pub fn new(store: St) -> Self {
        Self {
            store,
            lease: DEFAULT_LEASE,
            retention: DEFAULT_RETENTION,
        }
    }

    /// How long one processing attempt holds the id; a crashed process's claim expires after it.
    /// Keep it above your handler's longest run.
    ///
    /// ```
    /// # use clerk_webhooks::dedupe::{DedupeLayer, MemoryStore};
    /// let layer = DedupeLayer::new(MemoryStore::new()).with_lease(std::time::Duration::from_secs(30));
    /// ```
    #[must_use]
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// How long a processed id is remembered.
    ///
    /// ```
    /// # use clerk_webhooks::dedupe::{DedupeLayer, MemoryStore};
    /// let layer = DedupeLayer::new(MemoryStore::new()).with_retention(std::time::Duration::from_secs(7 * 86_400));
    /// ```
    #[must_use]
    pub fn with_retention(mut self, retention: Duration) -> Self {
        self.retention = retention;
        self
    }
}

impl<S, St: DedupeStore> Layer<S> for DedupeLayer<St> {
    type Service = Dedupe<S, St>;

    fn layer(&self, inner: S) -> Self::Service {
        Dedupe::new(inner, self.store.clone(), self.lease, self.retention)
    }
}
