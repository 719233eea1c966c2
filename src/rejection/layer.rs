//! Why the layer answered instead of the inner service: one type per failure, each owning its
//! status, code and body, and the composite [`WebhookRejection`], which delegates to them.

use std::time::Duration;

use http::Response;

use crate::__private::log::{error, warn};
use crate::event::error::{EventError, INVALID_PAYLOAD, UNSUPPORTED_EVENT};
use crate::layer::ResponseBody;
use crate::response::{rejection_response, truncate_for_log};
use crate::verify::VerifyError;

/// How long Svix is asked to wait when the server could not reserve memory for a body.
const OUT_OF_MEMORY_RETRY_AFTER: Duration = Duration::from_secs(30);
/// How long a sender is asked to wait when unverified bodies hold the whole budget: they are cut
/// by the minimum body rate (or the request's deadline) within seconds.
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

/// The body, not verified yet, arrived slower than the layer's minimum rate: `408 Request
/// Timeout`, code `body_too_slow`. The bytes it held went back to the budget of unverified bytes
/// when it was refused; see
/// [`with_min_body_rate`](crate::ClerkWebhookLayer::with_min_body_rate).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the request body arrived slower than {bytes_per_sec} bytes per second (after the first {grace:?})"
)]
pub struct BodyTooSlow {
    bytes_per_sec: u64,
    grace: Duration,
}

/// The body is authentic but is not a JSON webhook envelope: `400`, code `invalid_payload`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the verified body is not a Clerk webhook event: {reason}")]
pub struct InvalidPayload {
    reason: String,
}

/// The event is authentic and of a known type, but its data does not fit this version's model:
/// `422 Unprocessable Entity`, code `unsupported_event`. Svix retries it and the Clerk dashboard
/// shows the failure; see [`UnsupportedEvents`](crate::layer::UnsupportedEvents) to receive it instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the data of `{event_type}` does not fit this version's model at `{path}`: {reason}")]
pub struct UnsupportedEvent {
    event_type: String,
    path: String,
    reason: String,
}

define_rejection!(
    PayloadTooLarge,
    status = PAYLOAD_TOO_LARGE,
    code = "payload_too_large",
    into_response = via(WebhookRejection)
);
define_rejection!(
    BodyError,
    status = BAD_REQUEST,
    code = "body_error",
    into_response = via(WebhookRejection)
);
define_rejection!(
    OutOfMemory,
    status = SERVICE_UNAVAILABLE,
    code = "out_of_memory",
    retry_after(_this) = OUT_OF_MEMORY_RETRY_AFTER,
    into_response = via(WebhookRejection)
);
define_rejection!(
    Overloaded,
    status = SERVICE_UNAVAILABLE,
    code = "overloaded",
    retry_after(_this) = OVERLOADED_RETRY_AFTER,
    into_response = via(WebhookRejection)
);
define_rejection!(
    BodyTooSlow,
    status = REQUEST_TIMEOUT,
    code = "body_too_slow",
    into_response = via(WebhookRejection)
);
define_rejection!(
    InvalidPayload,
    status = BAD_REQUEST,
    code = INVALID_PAYLOAD,
    into_response = via(WebhookRejection)
);
define_rejection!(
    UnsupportedEvent,
    status = UNPROCESSABLE_ENTITY,
    code = UNSUPPORTED_EVENT,
    into_response = via(WebhookRejection)
);

composite_rejection! {
    /// Why [`ClerkWebhook`](crate::layer::ClerkWebhook) answered instead of the inner service.
    ///
    /// Every variant answers with a small JSON body `{"error": CODE, "message": TEXT}`; the code is
    /// stable (see the [table](crate#error-codes)) and the message names headers, limits, event types
    /// and field paths, never a value from the body or the secret. The layer logs each rejection once,
    /// through `tracing` (feature `tracing`), when it becomes a response.
    ///
    /// ```
    /// use clerk_webhooks::rejection::WebhookRejection;
    /// use clerk_webhooks::VerifyError;
    ///
    /// // The verifier's errors convert, so code outside the layer can answer the same way.
    /// let rejection = WebhookRejection::from(VerifyError::InvalidSignature);
    /// assert_eq!((rejection.status().as_u16(), rejection.code()), (400, "invalid_signature"));
    /// ```
    pub enum WebhookRejection {
        /// The verifier refused the delivery (`400`).
        Verify(VerifyError),
        /// The body is larger than the limit (`413`).
        PayloadTooLarge(PayloadTooLarge),
        /// The body stream failed (`400`).
        BodyError(BodyError),
        /// No memory could be reserved for the body (`503`).
        OutOfMemory(OutOfMemory),
        /// Unverified bodies hold the whole budget (`503`).
        Overloaded(Overloaded),
        /// The body arrived slower than the minimum rate (`408`).
        BodyTooSlow(BodyTooSlow),
        /// Authentic, but not a webhook envelope (`400`).
        InvalidPayload(InvalidPayload),
        /// Authentic, of a known type, but its data does not fit the model (`422`).
        UnsupportedEvent(UnsupportedEvent),
    }
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

impl InvalidPayload {
    pub(crate) fn new(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
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

impl BodyTooSlow {
    pub(crate) fn new(bytes_per_sec: u64, grace: Duration) -> Self {
        Self {
            bytes_per_sec,
            grace,
        }
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
            other => InvalidPayload::new(other.reason()).into(),
        }
    }
}

impl WebhookRejection {
    /// The answer, with `content-type: application/json` (and `Retry-After` where a retry helps).
    pub(crate) fn to_response<B>(&self) -> Response<ResponseBody<B>> {
        rejection_response(self.status(), self.retry_after(), self.body_text())
            .map(ResponseBody::json)
    }

    /// One event per rejection, at a level chosen by what it means for the operator: an event the
    /// model cannot read and a server short of memory need someone (error); the rest is what any
    /// public endpoint sees from scanners and misconfigured senders (warn). `context` says what
    /// the request looked like, in bounded words.
    #[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
    pub(crate) fn log(&self, context: &LogContext) {
        // Written once for both levels; without `tracing` nothing here is evaluated. `None`
        // fields are left out of the event. The message never quotes a value from the body; its
        // length is bounded here, whatever the size of the type, path or reason it names.
        macro_rules! rejected {
            ($level:ident) => {
                $level!(
                    code = self.code(),
                    status = self.status().as_u16(),
                    svix_id = context.svix_id.as_deref(),
                    detail = %truncate_for_log(&self.to_string(), LOGGED_DETAIL_CHARS),
                    hint = context.hint.as_deref(),
                    "clerk webhook rejected"
                )
            };
        }
        match self {
            Self::UnsupportedEvent(_) | Self::OutOfMemory(_) => rejected!(error),
            _ => rejected!(warn),
        }
    }
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
            BodyTooSlow::new(65_536, Duration::from_secs(5)).into(),
            InvalidPayload::new("expected value at line 1 column 1").into(),
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
                ("body_too_slow", 408),
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
    fn a_slow_body_says_which_rate_it_missed() {
        assert_eq!(
            BodyTooSlow::new(65_536, Duration::from_secs(5)).body_text(),
            r#"{"error":"body_too_slow","message":"the request body arrived slower than 65536 bytes per second (after the first 5s)"}"#
        );
    }

    #[test]
    fn a_long_svix_id_is_cut_for_the_log() {
        let mut headers = http::HeaderMap::new();
        headers.insert("svix-id", "m".repeat(65_536).parse().unwrap());
        let context = LogContext::from_headers(&headers);
        assert!(context.svix_id.unwrap().len() <= LOGGED_ID_CHARS + 4);
    }
}
