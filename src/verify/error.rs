//! Why a delivery was refused.

use http::StatusCode;

/// Why a webhook delivery was refused, with a stable machine-readable [`code`](Self::code) and the
/// HTTP [`status`](Self::status) to answer with.
///
/// Messages name headers and numbers, never the secret or the body.
///
/// | code | status | meaning |
/// |---|---|---|
/// | `missing_header` | 400 | `svix-id`, `svix-timestamp` or `svix-signature` (and its `webhook-*` twin) is absent |
/// | `invalid_header` | 400 | a header is not visible ASCII, or `svix-id` is empty |
/// | `invalid_timestamp` | 400 | `svix-timestamp` is not a non-negative whole number of seconds that fits in an `i64` |
/// | `timestamp_too_old` | 400 | the timestamp is further in the past than the tolerance (a replay or a long delay) |
/// | `timestamp_too_new` | 400 | the timestamp is further in the future than the tolerance |
/// | `invalid_signature` | 400 | no `v1` signature in `svix-signature` matches any configured secret |
/// | `payload_too_large` | 413 | the body is larger than the configured limit |
/// | `invalid_payload` | 400 | the body is authentic but is not a JSON webhook envelope |
/// | `body_error` | 400 | the request body could not be read |
///
/// ```
/// use clerk_webhooks::VerifyError;
/// use http::StatusCode;
///
/// let err = VerifyError::InvalidSignature;
/// assert_eq!(err.code(), "invalid_signature");
/// assert_eq!(err.status(), StatusCode::BAD_REQUEST);
/// assert_eq!(
///     err.to_json(),
///     r#"{"error":"invalid_signature","message":"no signature in svix-signature matches the signing secret"}"#
/// );
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
    /// A header is present but unusable (not visible ASCII, or an empty id).
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
    /// The body is larger than the configured limit.
    #[error("the request body is larger than the limit of {limit} bytes")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The body is authentic but is not a JSON webhook envelope.
    #[error("the verified body is not a Clerk webhook event: {reason}")]
    InvalidPayload {
        /// What is wrong with it (a JSON error, never the body itself).
        reason: String,
    },
    /// The request body stream failed before it was complete.
    #[error("the request body could not be read: {reason}")]
    BodyError {
        /// The error reported by the body.
        reason: String,
    },
}

impl VerifyError {
    /// The stable machine-readable code of this error (see the table above).
    ///
    /// ```
    /// # use clerk_webhooks::VerifyError;
    /// assert_eq!(VerifyError::InvalidTimestamp.code(), "invalid_timestamp");
    /// ```
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingHeader { .. } => "missing_header",
            Self::InvalidHeader { .. } => "invalid_header",
            Self::InvalidTimestamp => "invalid_timestamp",
            Self::TimestampTooOld { .. } => "timestamp_too_old",
            Self::TimestampTooNew { .. } => "timestamp_too_new",
            Self::InvalidSignature => "invalid_signature",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::InvalidPayload { .. } => "invalid_payload",
            Self::BodyError { .. } => "body_error",
        }
    }

    /// The HTTP status to answer with: `413 Payload Too Large` for an oversized body, `400 Bad
    /// Request` for everything else.
    ///
    /// ```
    /// # use clerk_webhooks::VerifyError;
    /// use http::StatusCode;
    ///
    /// assert_eq!(VerifyError::PayloadTooLarge { limit: 1024 }.status(), StatusCode::PAYLOAD_TOO_LARGE);
    /// ```
    pub fn status(&self) -> StatusCode {
        match self {
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// The JSON response body `{"error": CODE, "message": TEXT}`, for frameworks other than tower.
    ///
    /// ```
    /// # use clerk_webhooks::VerifyError;
    /// let body: serde_json::Value = serde_json::from_str(&VerifyError::InvalidTimestamp.to_json())?;
    /// assert_eq!(body["error"], "invalid_timestamp");
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn to_json(&self) -> String {
        error_json(self.code(), &self.to_string())
    }
}

/// `{"error": code, "message": message}`, escaped as JSON.
pub(crate) fn error_json(code: &str, message: &str) -> String {
    serde_json::json!({ "error": code, "message": message }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_variant() -> Vec<VerifyError> {
        vec![
            VerifyError::MissingHeader { name: "svix-id" },
            VerifyError::InvalidHeader { name: "svix-id" },
            VerifyError::InvalidTimestamp,
            VerifyError::TimestampTooOld { timestamp: 1 },
            VerifyError::TimestampTooNew { timestamp: 1 },
            VerifyError::InvalidSignature,
            VerifyError::PayloadTooLarge { limit: 1 },
            VerifyError::InvalidPayload {
                reason: "expected value".into(),
            },
            VerifyError::BodyError {
                reason: "connection reset".into(),
            },
        ]
    }

    #[test]
    fn codes_are_the_documented_ones() {
        let codes: Vec<&str> = every_variant().iter().map(VerifyError::code).collect();
        assert_eq!(
            codes,
            [
                "missing_header",
                "invalid_header",
                "invalid_timestamp",
                "timestamp_too_old",
                "timestamp_too_new",
                "invalid_signature",
                "payload_too_large",
                "invalid_payload",
                "body_error",
            ]
        );
    }

    #[test]
    fn only_oversized_bodies_are_413() {
        for err in every_variant() {
            let expected = if err.code() == "payload_too_large" {
                413
            } else {
                400
            };
            assert_eq!(err.status().as_u16(), expected, "{err:?}");
        }
    }

    #[test]
    fn json_body_escapes_the_message() {
        let err = VerifyError::InvalidPayload {
            reason: "bad \"quote\"\n".into(),
        };
        let body: serde_json::Value = serde_json::from_str(&err.to_json()).unwrap();
        assert_eq!(body["error"], "invalid_payload");
        assert_eq!(body["message"], err.to_string());
        assert_eq!(body.as_object().unwrap().len(), 2);
    }
}
