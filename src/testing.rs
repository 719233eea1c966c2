//! Helpers for testing your handlers (cargo feature `test-util`): signed requests, a realistic body
//! for every event type (with its [ids]), a [`Sample`] to edit before signing, and what the layer
//! hands a handler, for calling it directly.
//!
//! # Through your router and the layer
//!
//! ```
//! use axum::{http::StatusCode, routing::post, Router};
//! use clerk_webhooks::testing::{sample, signed_request};
//! use clerk_webhooks::{ClerkEvent, ClerkWebhookLayer, SigningSecret, Verifier};
//! use tower::ServiceExt;
//!
//! async fn on_clerk(event: ClerkEvent) -> StatusCode {
//!     match event {
//!         ClerkEvent::UserCreated(_) => StatusCode::CREATED,
//!         _ => StatusCode::OK,
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let verifier = Verifier::new(SigningSecret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?);
//! let app = Router::new()
//!     .route("/webhooks/clerk", post(on_clerk).route_layer(ClerkWebhookLayer::new(verifier.clone())));
//!
//! let request = signed_request(&verifier, sample("user.created").unwrap());
//! let response = app.oneshot(request).await?;
//! assert_eq!(response.status(), StatusCode::CREATED);
//! # Ok(()) }
//! ```
//!
//! # Calling a handler function directly
//!
//! A handler takes what the layer puts in the request's extensions: the [`ClerkEvent`], its
//! [`EventMeta`] and the [`Delivery`]. [`sample_event`] gives the first two (a [`ParsedEvent`]:
//! take its fields), [`delivery`] the third, from an id *and* a timestamp.
//!
//! ```
//! use clerk_webhooks::testing::{delivery, ids, sample_event, Sample};
//! use clerk_webhooks::{ClerkEvent, Delivery, EventMeta, ParsedEvent};
//!
//! // The handler under test, with the extractors of an axum route.
//! async fn on_clerk(delivery: Delivery, meta: EventMeta, event: ClerkEvent) -> String {
//!     match event {
//!         ClerkEvent::UserCreated(user) => format!(
//!             "{} welcomes {} ({:?})",
//!             delivery.id(),
//!             user.primary_email().unwrap_or("no email"),
//!             meta.instance_id.as_deref(),
//!         ),
//!         other => other.event_type().to_owned(),
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let ParsedEvent { event, meta, .. } = sample_event("user.created").unwrap();
//! let answer = on_clerk(delivery("msg_1", 1_700_000_000), meta, event).await;
//! assert_eq!(answer, format!("msg_1 welcomes zoë.müller@例え.jp (Some({:?}))", ids::INSTANCE));
//!
//! // With an email of your own: edit the sample, then parse it as the layer would.
//! let sample = Sample::new("user.created").unwrap()
//!     .set("/data/email_addresses/0/email_address", "ada@example.com");
//! let ParsedEvent { event, meta, .. } = sample.event()?;
//! let answer = on_clerk(delivery("msg_2", 1_700_000_000), meta, event).await;
//! assert!(answer.starts_with("msg_2 welcomes ada@example.com"));
//! # Ok(()) }
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, Request};

pub mod ids;
mod sample;

pub use self::sample::Sample;
use crate::event::envelope::ParsedEvent;
use crate::layer::body::WebhookBody;
use crate::reading::parse_event;
use crate::verify::{Delivery, Verifier};
#[cfg(doc)]
use crate::{event::envelope::EventMeta, ClerkEvent};

macro_rules! samples {
    ($($event_type:literal),+ $(,)?) => {
        /// A realistic, complete body of `event_type` (in the spelling of
        /// [`ClerkEvent::KNOWN_TYPES`](crate::ClerkEvent::KNOWN_TYPES)) as Clerk sends it: every field Clerk documents, with
        /// plausible ids and values. `None` for a type this version does not know.
        ///
        /// These are the crate's own test fixtures: each parses to its own typed variant.
        pub fn sample(event_type: &str) -> Option<&'static [u8]> {
            match event_type {
                $($event_type => Some(include_bytes!(concat!(
                    env!("CARGO_MANIFEST_DIR"), "/src/testing/samples/", $event_type, ".json"
                ))),)+
                _ => None,
            }
        }
    };
}

samples! {
    "email.created", "invitation.accepted", "invitation.created", "invitation.revoked",
    "organization.created", "organization.deleted", "organization.updated",
    "organizationDomain.created", "organizationDomain.deleted", "organizationDomain.updated",
    "organizationInvitation.accepted", "organizationInvitation.created",
    "organizationInvitation.revoked", "organizationMembership.created",
    "organizationMembership.deleted", "organizationMembership.updated", "paymentAttempt.created",
    "paymentAttempt.updated", "permission.created", "permission.deleted", "permission.updated",
    "role.created", "role.deleted", "role.updated", "session.created", "session.ended",
    "session.pending", "session.removed", "session.revoked", "sms.created",
    "subscription.active", "subscription.created", "subscription.pastDue", "subscription.updated",
    "subscriptionItem.abandoned", "subscriptionItem.active", "subscriptionItem.canceled",
    "subscriptionItem.created", "subscriptionItem.ended", "subscriptionItem.freeTrialEnding",
    "subscriptionItem.incomplete", "subscriptionItem.pastDue", "subscriptionItem.upcoming",
    "subscriptionItem.updated", "user.created", "user.deleted", "user.updated",
    "waitlistEntry.created", "waitlistEntry.updated",
}

/// The sample of `event_type`, parsed: what the layer would put in a handler's extensions.
///
/// ```
/// use clerk_webhooks::testing::{delivery, sample_event};
/// use clerk_webhooks::ClerkEvent;
///
/// // Call a handler function directly, without a router.
/// async fn on_user(delivery: clerk_webhooks::Delivery, event: ClerkEvent) -> String {
///     format!("{} {}", delivery.id(), event.event_type())
/// }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let event = sample_event("user.created").unwrap().event;
/// assert_eq!(on_user(delivery("msg_1", 1_700_000_000), event).await, "msg_1 user.created");
/// # }
/// ```
pub fn sample_event(event_type: &str) -> Option<ParsedEvent> {
    parse_event(sample(event_type)?).ok()
}

/// A [`Delivery`] as the layer would hand it on, for calling a handler function directly: `id` is
/// the `svix-id` (the de-duplication key), `timestamp` the `svix-timestamp` in Unix seconds; its
/// [endpoint](Delivery::endpoint) is `test`.
///
/// ```
/// use clerk_webhooks::testing::delivery;
///
/// let retry = delivery("msg_2abc", 1_700_000_000);
/// assert_eq!((retry.id(), retry.timestamp()), ("msg_2abc", 1_700_000_000));
/// assert_eq!(retry.endpoint(), "test");
/// ```
pub fn delivery(id: &str, timestamp: i64) -> Delivery {
    Delivery::named(id, timestamp, "test")
}

/// A [`QueuedDelivery`](crate::queue::QueuedDelivery) as the queue route stores it, for calling a worker's job function directly: `body` as sent, the timestamp now, the
/// [endpoint](Delivery::endpoint) `test`.
///
/// ```
/// use clerk_webhooks::queue::QueuedDelivery;
/// use clerk_webhooks::testing::{queued_delivery, sample};
/// use clerk_webhooks::ClerkEvent;
///
/// /// The worker's job function under test.
/// fn greet(job: &QueuedDelivery) -> Option<String> {
///     match job.event().ok()?.event {
///         ClerkEvent::UserCreated(user) => Some(format!("welcome {}", user.id)),
///         _ => None,
///     }
/// }
///
/// let body = std::str::from_utf8(sample("user.created").unwrap()).unwrap();
/// let job = queued_delivery("msg_1", body);
/// assert!(greet(&job).unwrap().starts_with("welcome user_"));
/// ```
pub fn queued_delivery(id: &str, body: &str) -> crate::queue::QueuedDelivery {
    crate::queue::QueuedDelivery {
        id: id.to_owned(),
        timestamp: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| {
                i64::try_from(since.as_secs()).unwrap_or(i64::MAX)
            }),
        body: body.to_owned(),
        endpoint: "test".to_owned(),
    }
}

/// A POST of `body` signed by `verifier` now, with `content-type: application/json`, the three
/// `svix-*` headers and a fresh `svix-id`, to `/webhooks/clerk`; ready for `oneshot` through a
/// router or a service. [`SignedRequest`] chooses the rest.
///
/// The body is a [`WebhookBody`]: the crate's own body of bytes, readable by any tower or axum
/// service.
pub fn signed_request(verifier: &Verifier, body: impl Into<Bytes>) -> Request<WebhookBody> {
    SignedRequest::new(body).build(verifier)
}

/// A signed delivery request, with everything a test may want to choose.
///
/// ```
/// use clerk_webhooks::testing::{sample, SignedRequest};
/// use clerk_webhooks::{SigningSecret, Verifier};
///
/// let verifier = Verifier::new(SigningSecret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?);
/// // The id and time of your choosing: a retry of a message (same id) exercises
/// // de-duplication, an old timestamp the replay window.
/// let request = SignedRequest::new(sample("user.created").unwrap())
///     .with_id("msg_2abc")
///     .with_timestamp(1_700_000_000 - 600)
///     .with_uri("/hooks/clerk")
///     .with_unbranded_headers()
///     .build(&verifier);
/// assert_eq!(request.headers()["webhook-id"], "msg_2abc");
/// # Ok::<(), clerk_webhooks::SecretError>(())
/// ```
#[derive(Debug, Clone)]
pub struct SignedRequest {
    body: Bytes,
    id: Option<String>,
    timestamp: Option<i64>,
    uri: String,
    unbranded: bool,
}

impl SignedRequest {
    /// A request carrying `body`, by default to `/webhooks/clerk`, with a fresh id, signed at the
    /// verifier's current time, under the `svix-*` header names.
    pub fn new(body: impl Into<Bytes>) -> Self {
        Self {
            body: body.into(),
            id: None,
            timestamp: None,
            uri: "/webhooks/clerk".to_owned(),
            unbranded: false,
        }
    }

    /// The `svix-id`; the same id is how Svix marks a retry.
    #[must_use]
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// The signing time in Unix seconds, instead of the verifier's current time.
    #[must_use]
    pub fn with_timestamp(mut self, timestamp: i64) -> Self {
        self.timestamp = Some(timestamp);
        self
    }

    /// The request's URI.
    #[must_use]
    pub fn with_uri(mut self, uri: impl Into<String>) -> Self {
        self.uri = uri.into();
        self
    }

    /// The Standard Webhooks names (`webhook-id`, `webhook-timestamp`, `webhook-signature`).
    #[must_use]
    pub fn with_unbranded_headers(mut self) -> Self {
        self.unbranded = true;
        self
    }

    /// The headers, signed with the verifier's first secret.
    ///
    /// # Panics
    ///
    /// When the id chosen with [`with_id`](Self::with_id) cannot be a header value (control
    /// characters): a mistake in the test itself.
    pub fn headers(&self, verifier: &Verifier) -> HeaderMap {
        let id = self.id.clone().unwrap_or_else(fresh_id);
        let timestamp = self.timestamp.unwrap_or_else(|| verifier.now_secs());
        let signed = verifier
            .signed_headers(&id, timestamp, &self.body)
            .expect("the test's svix-id is not a valid header value");
        let mut headers = HeaderMap::with_capacity(4);
        for (name, value) in &signed {
            let name = if self.unbranded {
                let unbranded = name.as_str().replacen("svix-", "webhook-", 1);
                HeaderName::from_bytes(unbranded.as_bytes()).unwrap_or_else(|_| name.clone())
            } else {
                name.clone()
            };
            headers.insert(name, value.clone());
        }
        headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        headers
    }

    /// The request.
    ///
    /// # Panics
    ///
    /// When the URI or the id chosen for it is malformed: a mistake in the test itself.
    pub fn build(self, verifier: &Verifier) -> Request<WebhookBody> {
        let headers = self.headers(verifier);
        let mut request = Request::post(&self.uri)
            .body(WebhookBody::new(self.body))
            .expect("the test's URI is not a valid URI");
        request.headers_mut().extend(headers);
        request
    }
}

/// Unique in this process, and very likely across runs.
fn fresh_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.subsec_nanos());
    format!("msg_test_{nanos:08x}{count:06x}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::catalog::ClerkEvent;

    #[test]
    fn every_known_type_has_a_sample_that_parses_to_its_own_variant() {
        for event_type in ClerkEvent::KNOWN_TYPES {
            let event = sample_event(event_type)
                .unwrap_or_else(|| panic!("no parsable sample for {event_type}"))
                .event;
            assert_eq!(event.event_type(), *event_type);
            assert!(event.is_known() && !matches!(event, ClerkEvent::Unparsed(_)));
        }
        assert_eq!(sample("agent.created"), None);
    }

    #[test]
    fn every_sample_carries_the_exported_ids() {
        for event_type in ClerkEvent::KNOWN_TYPES {
            let body: serde_json::Value =
                serde_json::from_slice(sample(event_type).unwrap()).unwrap();
            assert_eq!(
                body["data"]["id"].as_str(),
                ids::of(event_type),
                "{event_type}"
            );
            if let Some(instance) = body.get("instance_id") {
                assert_eq!(instance, ids::INSTANCE, "{event_type}");
            }
        }
    }

    #[test]
    fn fresh_ids_differ() {
        assert_ne!(fresh_id(), fresh_id());
    }
}
