//! The identity of one verified delivery.

use std::sync::Arc;

/// The `svix-id` and `svix-timestamp` of a verified delivery, and the endpoint that verified it.
///
/// Svix retries a failed delivery with the same id (and a new timestamp and signature), so the id is
/// the key to de-duplicate on; and it sends the same id to every endpoint subscribed to a message,
/// so a key shared between endpoints names the endpoint too ([`key`](Self::key)).
///
/// ```
/// use clerk_webhooks::{SigningSecret, Verifier};
/// use std::time::{Duration, UNIX_EPOCH};
///
/// let verifier = Verifier::new(SigningSecret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?);
/// let body = br#"{"type":"user.created","data":{}}"#;
/// let headers = verifier.signed_headers("msg_2abc", 1_700_000_000, body)?;
/// let delivery = verifier.verify_at(&headers, body, UNIX_EPOCH + Duration::from_secs(1_700_000_000))?;
/// // Key your side effects on the id: a retry of this delivery carries the same one.
/// let idempotency_key = format!("clerk:{}", delivery.key());
/// # assert_eq!(idempotency_key, format!("clerk:{}:msg_2abc", verifier.endpoint()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Delivery {
    id: String,
    timestamp: i64,
    endpoint: Arc<str>,
}

impl Delivery {
    pub(crate) fn new(id: &str, timestamp: i64, endpoint: &Arc<str>) -> Self {
        Self {
            id: id.to_owned(),
            timestamp,
            endpoint: Arc::clone(endpoint),
        }
    }

    /// The message id (`svix-id`): the same on every retry of this delivery.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The time this attempt was signed (`svix-timestamp`), in seconds since the Unix epoch.
    pub fn timestamp(&self) -> i64 {
        self.timestamp
    }

    /// The namespace of the endpoint that verified it ([`Verifier::endpoint`](crate::Verifier::endpoint)).
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// `{endpoint}:{id}`: the id, kept apart from the same id delivered to another endpoint. The
    /// de-duplication layer and the queue key on it.
    pub fn key(&self) -> String {
        format!("{}:{}", self.endpoint, self.id)
    }
}
