//! Why the layer answered instead of the inner service: one type per failure, and the composite
//! [`WebhookRejection`].

use std::time::Duration;

use http::{Response, StatusCode};

use super::ResponseBody;
use crate::response::{error_json, json_response, set_retry_after, truncate_for_log};
use crate::verify::VerifyError;
use crate::EventError;

/// How long Svix is asked to wait when the server could not reserve memory for a body.
const OUT_OF_MEMORY_RETRY_AFTER: Duration = Duration::from_secs(30);
/// How long a sender is asked to wait when unverified bodies hold the whole budget: they are cut
/// by the request deadline within seconds.
const OVERLOADED_RETRY_AFTER: Duration = Duration::from_secs(5);
/// Bounds on what a log line quotes of a request, so one refusal never writes more than about
/// 1 KiB of log whatever the request sent.
const LOGGED_ID_CHARS: usize = 64;
const LOGGED_DETAIL_CHARS: usize = 512;

/// The body is larger than the limit: `413 Payload Too Large`, code `payload_too_large`.
///
/// Answered from `Content-Length` before the body is read when it is announced, as soon as the
/// limit is passed otherwise, and also when an outer layer's limit (tower-http's
/// `RequestBodyLimitLayer`) stops the body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the request body is larger than the limit{}", .limit.map(|limit| format!(" of {limit} bytes")).unwrap_or_default())]
pub struct PayloadTooLarge {
    limit: Option<usize>,
}

/// The request body stream failed before it was complete: `400`, code `body_error`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the request body could not be read: {reason}")]
pub struct BodyError {
    reason: String,
}

/// The server could not reserve memory for the body: `503 Service Unavailable` with
/// `Retry-After`, code `out_of_memory`. Svix retries the delivery later.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the server could not reserve memory for the request body; retry later")]
pub struct OutOfMemory {
    _private: (),
}

/// Requests not verified yet already hold the whole budget of unverified bytes that the layer
/// shares across connections and streams: `503 Service Unavailable` with `Retry-After`, code
/// `overloaded`. Svix retries the delivery later; see
/// [`with_unverified_budget`](crate::ClerkWebhookLayer::with_unverified_budget).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the server holds as many unverified request bytes as it allows; retry later")]
pub struct Overloaded {
    _private: (),
}

/// The body is authentic but is not a JSON webhook envelope: `400`, code `invalid_payload`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the verified body is not a Clerk webhook event: {reason}")]
pub struct InvalidPayload {
    reason: String,
}

/// The event is authentic and of a known type, but its data does not fit this version's model:
/// `422 Unprocessable Entity`, code `unsupported_event`. Svix retries it and the Clerk dashboard
/// shows the failure; see [`UnsupportedEvents`](super::UnsupportedEvents) to receive it instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the data of `{event_type}` does not fit this version's model at `{path}`: {reason}")]
pub struct UnsupportedEvent {
    event_type: String,
    path: String,
    reason: String,
}

/// Why [`ClerkWebhook`](super::ClerkWebhook) answered instead of the inner service.
///
/// Every variant answers with a small JSON body `{"error": CODE, "message": TEXT}`; the code is
/// stable (see the [table](crate#error-codes)) and the message names headers, limits, event types
/// and field paths, never a value from the body or the secret. The layer logs each rejection once,
/// through `tracing` (feature `tracing`), when it becomes a response.
///
/// ```
/// use clerk_webhooks::layer::WebhookRejection;
/// use clerk_webhooks::VerifyError;
///
/// // The verifier's errors convert, so code outside the layer can answer the same way.
/// let rejection = WebhookRejection::from(VerifyError::InvalidSignature);
/// assert_eq!((rejection.status().as_u16(), rejection.code()), (400, "invalid_signature"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookRejection {
    /// The verifier refused the delivery (`400`).
    #[error(transparent)]
    Verify(#[from] VerifyError),
    /// The body is larger than the limit (`413`).
    #[error(transparent)]
    PayloadTooLarge(#[from] PayloadTooLarge),
    /// The body stream failed (`400`).
    #[error(transparent)]
    BodyError(#[from] BodyError),
    /// No memory could be reserved for the body (`503`).
    #[error(transparent)]
    OutOfMemory(#[from] OutOfMemory),
    /// Unverified bodies hold the whole budget (`503`).
    #[error(transparent)]
    Overloaded(#[from] Overloaded),
    /// Authentic, but not a webhook envelope (`400`).
    #[error(transparent)]
    InvalidPayload(#[from] InvalidPayload),
    /// Authentic, of a known type, but its data does not fit the model (`422`).
    #[error(transparent)]
    UnsupportedEvent(#[from] UnsupportedEvent),
}

impl PayloadTooLarge {
    pub(crate) fn new(limit: Option<usize>) -> Self {
        Self { limit }
    }
}

impl BodyError {
    /// The reason is the body's own error text, bounded: it comes from the transport, not from
    /// the bytes of the body.
    pub(crate) fn new(reason: &str) -> Self {
        Self {
            reason: truncate_for_log(reason, LOGGED_DETAIL_CHARS / 2).into_owned(),
        }
    }
}

impl OutOfMemory {
    pub(crate) fn new() -> Self {
        Self { _private: () }
    }
}

impl Overloaded {
    pub(crate) fn new() -> Self {
        Self { _private: () }
    }
}

impl From<EventError> for WebhookRejection {
    fn from(err: EventError) -> Self {
        match err {
            EventError::UnsupportedData {
                event_type,
                path,
                reason,
            } => UnsupportedEvent {
                event_type,
                path,
                reason,
            }
            .into(),
            other => InvalidPayload {
                reason: other.reason().to_owned(),
            }
            .into(),
        }
    }
}

impl WebhookRejection {
    /// The HTTP status of the answer.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Verify(err) => err.status(),
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::BodyError(_) | Self::InvalidPayload(_) => StatusCode::BAD_REQUEST,
            Self::OutOfMemory(_) | Self::Overloaded(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::UnsupportedEvent(_) => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }

    /// The stable machine-readable code (see the [table](crate#error-codes)).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Verify(err) => err.code(),
            Self::PayloadTooLarge(_) => "payload_too_large",
            Self::BodyError(_) => "body_error",
            Self::OutOfMemory(_) => "out_of_memory",
            Self::Overloaded(_) => "overloaded",
            Self::InvalidPayload(_) => "invalid_payload",
            Self::UnsupportedEvent(_) => "unsupported_event",
        }
    }

    /// The JSON body of the answer: `{"error": CODE, "message": TEXT}`.
    pub fn body_text(&self) -> String {
        error_json(self.code(), &self.to_string())
    }

    /// The answer, with `content-type: application/json` (and `Retry-After` where a retry helps).
    pub(crate) fn to_response<B>(&self) -> Response<ResponseBody<B>> {
        let mut response = json_response(self.status(), ResponseBody::json(self.body_text()));
        match self {
            Self::OutOfMemory(_) => set_retry_after(&mut response, OUT_OF_MEMORY_RETRY_AFTER),
            Self::Overloaded(_) => set_retry_after(&mut response, OVERLOADED_RETRY_AFTER),
            _ => {}
        }
        response
    }

    /// One event per rejection, at a level chosen by what it means for the operator: an event the
    /// model cannot read and a server short of memory need someone (error); the rest is what any
    /// public endpoint sees from scanners and misconfigured senders (warn). `context` says what
    /// the request looked like, in bounded words.
    #[cfg(feature = "tracing")]
    pub(crate) fn log(&self, context: &LogContext) {
        let code = self.code();
        let status = self.status().as_u16();
        // `None` fields are left out of the event.
        let svix_id = context.svix_id.as_deref();
        // The message never quotes a value from the body; its length is bounded here, whatever
        // the size of the type, path or reason it names.
        let detail = self.to_string();
        let detail = truncate_for_log(&detail, LOGGED_DETAIL_CHARS);
        let hint = context.hint.as_deref();
        match self {
            Self::UnsupportedEvent(_) | Self::OutOfMemory(_) => {
                tracing::error!(code, status, svix_id, %detail, hint, "clerk webhook rejected")
            }
            _ => tracing::warn!(code, status, svix_id, %detail, hint, "clerk webhook rejected"),
        }
    }

    #[cfg(not(feature = "tracing"))]
    pub(crate) fn log(&self, _context: &LogContext) {}
}

/// What the layer logs about the request beside a rejection: its `svix-id`, cut to a short
/// bound, and a hint at the likely cause where the request shows one.
#[derive(Debug, Default)]
#[cfg_attr(not(feature = "tracing"), allow(dead_code))]
pub(crate) struct LogContext {
    pub(crate) svix_id: Option<String>,
    /// Boxed: a refusal travels by value through the response future, and stays small.
    pub(crate) hint: Option<Box<str>>,
}

impl LogContext {
    pub(crate) fn from_headers(headers: &http::HeaderMap) -> Self {
        let svix_id = crate::verify::delivery_id(headers).map(|value| {
            // Cut the bytes first: a header of any size costs the same to log.
            let bytes = value.as_bytes();
            let head = &bytes[..bytes.len().min(4 * LOGGED_ID_CHARS)];
            let text = String::from_utf8_lossy(head);
            truncate_for_log(&text, LOGGED_ID_CHARS).into_owned()
        });
        Self {
            svix_id,
            hint: None,
        }
    }
}

#[cfg(feature = "axum")]
mod into_response {
    use axum_core::response::{IntoResponse, Response};

    use super::*;

    impl IntoResponse for WebhookRejection {
        fn into_response(self) -> Response {
            self.log(&LogContext::default());
            self.to_response::<axum_core::body::Body>()
                .map(axum_core::body::Body::new)
        }
    }

    macro_rules! leaf_into_response {
        ($($leaf:ident),+) => {$(
            impl IntoResponse for $leaf {
                fn into_response(self) -> Response {
                    WebhookRejection::from(self).into_response()
                }
            }
        )+};
    }

    leaf_into_response!(
        PayloadTooLarge,
        BodyError,
        OutOfMemory,
        Overloaded,
        InvalidPayload,
        UnsupportedEvent
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_variant() -> Vec<WebhookRejection> {
        vec![
            VerifyError::InvalidSignature.into(),
            PayloadTooLarge::new(Some(1024)).into(),
            BodyError::new("connection reset").into(),
            OutOfMemory::new().into(),
            Overloaded::new().into(),
            InvalidPayload {
                reason: "expected value at line 1 column 1".into(),
            }
            .into(),
            UnsupportedEvent {
                event_type: "user.created".into(),
                path: "banned".into(),
                reason: "invalid type, expected a boolean".into(),
            }
            .into(),
        ]
    }

    #[test]
    fn codes_and_statuses_are_the_documented_ones() {
        let seen: Vec<(&str, u16)> = every_variant()
            .iter()
            .map(|rejection| (rejection.code(), rejection.status().as_u16()))
            .collect();
        assert_eq!(
            seen,
            [
                ("invalid_signature", 400),
                ("payload_too_large", 413),
                ("body_error", 400),
                ("out_of_memory", 503),
                ("overloaded", 503),
                ("invalid_payload", 400),
                ("unsupported_event", 422),
            ]
        );
    }

    #[test]
    fn responses_are_json_and_the_503s_ask_for_a_retry() {
        for rejection in every_variant() {
            let response = rejection.to_response::<()>();
            assert_eq!(response.status(), rejection.status());
            assert_eq!(response.headers()["content-type"], "application/json");
            let retry = response.headers().get("retry-after");
            assert_eq!(retry.is_some(), rejection.status() == 503);
            let body: serde_json::Value = serde_json::from_str(&rejection.body_text()).unwrap();
            assert_eq!(body["error"], rejection.code());
            assert_eq!(body["message"], rejection.to_string());
        }
    }

    #[test]
    fn an_unannounced_limit_is_not_made_up() {
        assert_eq!(
            PayloadTooLarge::new(None).to_string(),
            "the request body is larger than the limit"
        );
        assert!(PayloadTooLarge::new(Some(7))
            .to_string()
            .ends_with("of 7 bytes"));
    }

    #[test]
    fn a_long_svix_id_is_cut_for_the_log() {
        let mut headers = http::HeaderMap::new();
        headers.insert("svix-id", "m".repeat(65_536).parse().unwrap());
        let context = LogContext::from_headers(&headers);
        assert!(context.svix_id.unwrap().len() <= LOGGED_ID_CHARS + 4);
    }
}
