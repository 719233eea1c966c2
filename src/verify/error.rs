//! Why the verifier refused a delivery.

use http::StatusCode;

/// Why [`Verifier::verify`](crate::Verifier::verify) refused a delivery, with a stable
/// machine-readable [`code`](Self::code); every one is answered `400 Bad Request`.
///
/// These are the verifier's outcomes only. The tower layer can refuse a request for more reasons
/// (body too large, unreadable, not an event): see
/// [`WebhookRejection`](crate::rejection::WebhookRejection) and the [table of codes](crate#error-codes).
///
/// Messages name headers and numbers, never the secret, the body or a header's value.
///
/// ```
/// use clerk_webhooks::{SigningSecret, Verifier, VerifyError};
///
/// let verifier = Verifier::new(SigningSecret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?);
/// match verifier.verify(&http::HeaderMap::new(), b"{}") {
///     Ok(delivery) => println!("verified {}", delivery.id()),
///     // Outside tower, answer with the status and the JSON body yourself.
///     Err(err) => println!("{} {}", err.status(), err.body_text()),
/// }
/// # Ok::<(), clerk_webhooks::SecretError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// A required header is absent under both its `svix-*` and `webhook-*` names.
    #[error("missing header {name}")]
    MissingHeader {
        /// The `svix-*` name of the header.
        name: &'static str,
    },
    /// A header is present but unusable: not visible ASCII, an empty id, or longer than any
    /// sender writes (an id over 256 bytes, a signature list over 4 KiB or 16 entries).
    #[error("header {name} is not valid")]
    InvalidHeader {
        /// The `svix-*` name of the header.
        name: &'static str,
    },
    /// The timestamp header is not a non-negative decimal number of seconds that fits in an `i64`.
    #[error("svix-timestamp is not a whole number of seconds since the Unix epoch")]
    InvalidTimestamp,
    /// The timestamp lies further in the past than the tolerance allows.
    #[error("svix-timestamp {timestamp} is older than the tolerance allows (replayed or delayed delivery)")]
    TimestampTooOld {
        /// The timestamp of the delivery, in seconds since the Unix epoch.
        timestamp: i64,
    },
    /// The timestamp lies further in the future than the tolerance allows.
    #[error("svix-timestamp {timestamp} is further in the future than the tolerance allows")]
    TimestampTooNew {
        /// The timestamp of the delivery, in seconds since the Unix epoch.
        timestamp: i64,
    },
    /// No `v1` entry of the signature header matches any configured secret.
    #[error("no signature in svix-signature matches the signing secret")]
    InvalidSignature,
}

impl VerifyError {
    /// The stable machine-readable code of this error (see the [table](crate#error-codes)).
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingHeader { .. } => "missing_header",
            Self::InvalidHeader { .. } => "invalid_header",
            Self::InvalidTimestamp => "invalid_timestamp",
            Self::TimestampTooOld { .. } => "timestamp_too_old",
            Self::TimestampTooNew { .. } => "timestamp_too_new",
            Self::InvalidSignature => "invalid_signature",
        }
    }

    /// The HTTP status to answer with: always `400 Bad Request`.
    pub fn status(&self) -> StatusCode {
        StatusCode::BAD_REQUEST
    }

    /// The JSON response body `{"error": CODE, "message": TEXT}`, for frameworks other than tower.
    pub fn body_text(&self) -> String {
        crate::response::error_json(self.code(), &self.to_string())
    }

    /// No refusal of the verifier asks the sender to wait before it retries.
    pub(crate) fn retry_after(&self) -> Option<std::time::Duration> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_documented_ones_and_all_are_400() {
        let errors = [
            VerifyError::MissingHeader { name: "svix-id" },
            VerifyError::InvalidHeader { name: "svix-id" },
            VerifyError::InvalidTimestamp,
            VerifyError::TimestampTooOld { timestamp: 1 },
            VerifyError::TimestampTooNew { timestamp: 1 },
            VerifyError::InvalidSignature,
        ];
        let codes: Vec<&str> = errors.iter().map(VerifyError::code).collect();
        assert_eq!(
            codes,
            [
                "missing_header",
                "invalid_header",
                "invalid_timestamp",
                "timestamp_too_old",
                "timestamp_too_new",
                "invalid_signature",
            ]
        );
        assert!(errors
            .iter()
            .all(|err| err.status() == StatusCode::BAD_REQUEST));
    }

    #[test]
    fn json_body_has_the_code_and_the_message() {
        let err = VerifyError::InvalidHeader { name: "svix-id" };
        let body: serde_json::Value = serde_json::from_str(&err.body_text()).unwrap();
        assert_eq!(body["error"], "invalid_header");
        assert_eq!(body["message"], err.to_string());
        assert_eq!(body.as_object().unwrap().len(), 2);
    }
}
