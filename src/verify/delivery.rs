//! The identity of one verified delivery.

/// The `svix-id` and `svix-timestamp` of a verified delivery.
///
/// Svix retries a failed delivery with the same id (and a new timestamp and signature), so the id is
/// the key to de-duplicate on.
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
/// let idempotency_key = format!("clerk:{}", delivery.id());
/// # assert_eq!(idempotency_key, "clerk:msg_2abc");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Delivery {
    id: String,
    timestamp: i64,
}

impl Delivery {
    pub(crate) fn new(id: &str, timestamp: i64) -> Self {
        Self {
            id: id.to_owned(),
            timestamp,
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
}
