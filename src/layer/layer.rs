//! The layer: configuration and builder.

use std::sync::Arc;
use std::time::Duration;

use tower_layer::Layer;

use super::config::{Config, MinBodyRate, Parsing, UnsupportedEvents};
use super::service::ClerkWebhook;
use crate::verify::ConfigError;
use crate::verify::Verifier;

/// A [`Layer`] that verifies Clerk webhook deliveries and hands handlers typed events.
///
/// For each request it:
/// 1. refuses a `Content-Length` above the body limit (413) and bad or stale scheme headers (400)
///    before reading the body;
/// 2. buffers the body as it arrives, up to the limit (413 beyond it), at a minimum rate (408
///    below it), within a budget that all unverified bodies share (503 beyond it);
/// 3. verifies the signature over the raw bytes (400 with a stable code otherwise);
/// 4. parses the event once and inserts [`ClerkEvent`](crate::ClerkEvent),
///    [`EventMeta`](crate::EventMeta) and [`Delivery`](crate::Delivery) into the request
///    extensions;
/// 5. readies the inner service and calls it with the same bytes as the body
///    ([`WebhookBody`](super::WebhookBody)).
///
/// Until step 3 succeeds the request is not trusted: it holds memory only for the bytes it really
/// sent, only for as long as it keeps sending them at the minimum rate, and no capacity of the
/// inner service (a concurrency or rate limit inside this layer is taken only by verified
/// deliveries). All requests not verified yet together hold at most the
/// [unverified budget](Self::with_unverified_budget), whatever the number of connections and
/// HTTP/2 streams.
///
/// # Deadlines
///
/// Until it is verified, a body must keep arriving at a
/// [minimum rate](Self::with_min_body_rate) (by default 64 KiB/s once 5 s have passed) or it is
/// refused with `408 Request Timeout` (code `body_too_slow`) and the bytes it held go back to the
/// budget: a client trickling a forged body, or stalling halfway, cannot hold memory for long.
/// That deadline covers only the body before verification; a body that stops sending altogether is
/// refused only with the `tokio` feature (off by default: turn it on in a tokio app), whose timer
/// wakes the layer (see [`with_min_body_rate`](Self::with_min_body_rate)). Put a deadline on the
/// whole request, handler included, outside this layer, such as tower-http's `TimeoutLayer` (Svix
/// itself gives up after 15 seconds, so 10 is plenty); headers that trickle in are the server's to bound (hyper's
/// `http1().header_read_timeout`):
///
/// ```
/// use std::time::Duration;
///
/// use axum::{http::StatusCode, routing::post, Router};
/// use clerk_webhooks::{ClerkEvent, ClerkWebhookLayer, SigningSecret, Verifier};
/// use tower::ServiceBuilder;
/// use tower_http::timeout::TimeoutLayer;
///
/// async fn on_clerk(event: ClerkEvent) -> StatusCode {
///     if let ClerkEvent::UserCreated(user) = event {
///         println!("welcome {}", user.id);
///     }
///     StatusCode::OK
/// }
///
/// let verifier = Verifier::new(SigningSecret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?);
/// let app: Router = Router::new().route(
///     "/webhooks/clerk",
///     post(on_clerk).route_layer(
///         ServiceBuilder::new()
///             .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, Duration::from_secs(10)))
///             .layer(ClerkWebhookLayer::new(verifier).with_body_limit(1024 * 1024)),
///     ),
/// );
/// # Ok::<(), clerk_webhooks::SecretError>(())
/// ```
#[derive(Debug, Clone)]
pub struct ClerkWebhookLayer {
    config: Arc<Config>,
}

impl ClerkWebhookLayer {
    /// A layer verifying with `verifier`, a 1 MiB body limit, a 32 MiB budget of unverified
    /// bytes, a minimum body rate of 64 KiB/s after 5 s, and unsupported events rejected.
    pub fn new(verifier: Verifier) -> Self {
        crate::metrics::describe();
        Self {
            config: Arc::new(Config::new(verifier)),
        }
    }

    /// A layer with the secret(s) from the environment; see [`Verifier::from_env`].
    ///
    /// # Errors
    ///
    /// [`ConfigError`] when no secret is set or one is malformed: call it at startup.
    pub fn from_env() -> Result<Self, ConfigError> {
        Verifier::from_env().map(Self::new)
    }

    /// The largest body accepted, in bytes (default [`DEFAULT_BODY_LIMIT`](super::DEFAULT_BODY_LIMIT),
    /// 1 MiB; its documentation says why). Larger bodies get `413 Payload Too Large`, and no
    /// more than this is held in memory per request. An outer body limit (tower-http's
    /// `RequestBodyLimitLayer`) must be at least this large.
    #[must_use]
    pub fn with_body_limit(mut self, limit: usize) -> Self {
        let config = Arc::make_mut(&mut self.config);
        config.body_limit = limit;
        config.renew_budget();
        self
    }

    /// How many bytes all requests not verified yet may hold together (default
    /// [`DEFAULT_UNVERIFIED_BUDGET`](super::DEFAULT_UNVERIFIED_BUDGET), 32 MiB). The budget is
    /// shared by this layer and every service it builds (each route and clone it serves), across
    /// all connections and HTTP/2 streams; a body that would take it past the budget is refused
    /// with `503 Service Unavailable` and `Retry-After` (code `overloaded`) instead of being
    /// buffered, and its bytes are given back as soon as a body is verified or dropped. Genuine
    /// deliveries are a few KiB, so thousands fit at once.
    ///
    /// A budget below the body limit is raised to it: one body of the largest size always fits.
    ///
    /// ```
    /// use clerk_webhooks::{ClerkWebhookLayer, SigningSecret, Verifier};
    ///
    /// // A small instance: at most 8 MiB for requests whose signature is not checked yet.
    /// let layer = ClerkWebhookLayer::new(Verifier::new(SigningSecret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?))
    ///     .with_unverified_budget(8 * 1024 * 1024);
    /// # Ok::<(), clerk_webhooks::SecretError>(())
    /// ```
    #[must_use]
    pub fn with_unverified_budget(mut self, bytes: usize) -> Self {
        let config = Arc::make_mut(&mut self.config);
        config.budget_bytes = bytes;
        config.renew_budget();
        self
    }

    /// The least rate at which a body not verified yet must arrive, once `grace` has passed
    /// (default [`DEFAULT_MIN_BODY_RATE`](super::DEFAULT_MIN_BODY_RATE), 64 KiB/s, after
    /// [`DEFAULT_BODY_GRACE`](super::DEFAULT_BODY_GRACE), 5 s; their documentation says why no
    /// genuine delivery trips them).
    ///
    /// The deadline of a body that has sent `n` bytes is `start + grace + n / bytes_per_sec`,
    /// where `start` is when the layer first had to wait for the body; it moves forward as bytes
    /// arrive. A body still short of it when the deadline passes is refused with
    /// `408 Request Timeout` (code `body_too_slow`, logged at `warn` like other refusals, and not
    /// counted toward the loud signal, the operations guide's "refused in a row": scanners and attackers send such bodies),
    /// and the bytes it held go back to the [unverified budget](Self::with_unverified_budget) at
    /// once. A forged request therefore holds at most the body limit for
    /// `grace + limit / bytes_per_sec` (21 s at the defaults); to keep the budget full an attacker
    /// must send it again and again, not once.
    ///
    /// A rate of 0 is no minimum, as [`without_min_body_rate`](Self::without_min_body_rate).
    ///
    /// # Timer
    ///
    /// With the cargo feature `tokio` (off by default: turn it on in a tokio app) the deadline is
    /// kept with tokio's timer, which wakes the layer when it passes, so a body that stops sending
    /// is refused too. It is armed only for a body not complete when the layer first reads it: a
    /// delivery that arrives with its headers, as nearly all do, costs no timer, no clock read and
    /// no allocation. Without the feature, for a body first read outside a tokio runtime, or on a
    /// runtime without a timer, the deadline is checked each time the body sends more and makes
    /// the layer wait again: a body that trickles is still refused, one that stops sending is left
    /// to the request's deadline (bound it from outside, as in [Deadlines](Self#deadlines)). A tokio
    /// runtime needs its timer enabled (`Builder::enable_time` or `enable_all`, as `#[tokio::main]`
    /// and `#[tokio::test]` build it): tokio panics when a timer is armed on a runtime without one
    /// and offers no way to ask beforehand, so the layer catches that panic the first time, logs at
    /// `error` that stalled bodies are not refused, and checks the deadline as bodies send more
    /// from then on (a build with `panic = "abort"` cannot catch it: turn the deadline off there).
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// use clerk_webhooks::{ClerkWebhookLayer, SigningSecret, Verifier};
    ///
    /// // Senders behind a slow link: 16 KiB/s, after 10 s.
    /// let layer = ClerkWebhookLayer::new(Verifier::new(SigningSecret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?))
    ///     .with_min_body_rate(16 * 1024, Duration::from_secs(10));
    /// # Ok::<(), clerk_webhooks::SecretError>(())
    /// ```
    #[must_use]
    pub fn with_min_body_rate(mut self, bytes_per_sec: u64, grace: Duration) -> Self {
        Arc::make_mut(&mut self.config).min_body_rate = MinBodyRate::new(bytes_per_sec, grace);
        self
    }

    /// No deadline for bodies not verified yet: the layer waits for a body as long as the client
    /// sends it, as it did before [`with_min_body_rate`](Self::with_min_body_rate) existed. Bound
    /// the request from outside then, as in [Deadlines](Self#deadlines); a client that stalls
    /// holds what it sent of the [unverified budget](Self::with_unverified_budget) until it goes.
    #[must_use]
    pub fn without_min_body_rate(mut self) -> Self {
        Arc::make_mut(&mut self.config).min_body_rate = None;
        self
    }

    /// Verifies and checks the envelope, but does not type the event: for routes that store the
    /// delivery and process it later, such as the [`queue`](crate::queue)'s
    /// [`DeliveryQueue`](crate::queue::DeliveryQueue).
    ///
    /// The signature, the headers and the body being a JSON webhook envelope (an object with a
    /// string `type` and a `data` field) are checked as always; the event's data is not read, so
    /// an authentic delivery this version's model cannot read is still handed on (and queued)
    /// instead of being answered `422`: the worker parses it, with whatever model it has then.
    /// The extensions hold [`Delivery`](crate::Delivery) and [`EventMeta`](crate::EventMeta), no
    /// [`ClerkEvent`](crate::ClerkEvent).
    ///
    /// ```
    /// use clerk_webhooks::{ClerkWebhookLayer, SigningSecret, Verifier};
    ///
    /// let layer = ClerkWebhookLayer::new(Verifier::new(SigningSecret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?))
    ///     .verify_only();
    /// # Ok::<(), clerk_webhooks::SecretError>(())
    /// ```
    #[must_use]
    pub fn verify_only(mut self) -> Self {
        Arc::make_mut(&mut self.config).parsing = Parsing::EnvelopeOnly;
        self
    }

    /// The namespace of the endpoint this layer guards, from its verifier
    /// ([`Verifier::endpoint`]): what keeps this endpoint's de-duplication keys and queue apart
    /// from another's in a shared Redis.
    pub fn endpoint(&self) -> &str {
        self.config.verifier.endpoint()
    }

    /// What to do with authentic deliveries whose data this version cannot model (default:
    /// [`UnsupportedEvents::Reject`]).
    #[must_use]
    pub fn with_unsupported_events(mut self, policy: UnsupportedEvents) -> Self {
        Arc::make_mut(&mut self.config).unsupported = policy;
        self
    }
}

impl<S> Layer<S> for ClerkWebhookLayer {
    type Service = ClerkWebhook<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ClerkWebhook::from_config(inner, Arc::clone(&self.config))
    }
}
