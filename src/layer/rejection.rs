//! A refused delivery and its response.

use http::{HeaderMap, Response, StatusCode};

use super::ResponseBody;
use crate::verify::{error_json, VerifyError};

/// Why the layer answered instead of the inner service.
#[derive(Debug)]
pub(crate) struct Rejection {
    status: StatusCode,
    code: &'static str,
    /// Sent to the client; may quote the body (a JSON error names the offending value).
    message: String,
}

impl Rejection {
    /// `log_detail` goes to the log beside the code and must not quote the body.
    pub(crate) fn new(
        status: StatusCode,
        code: &'static str,
        message: String,
        log_detail: &str,
        headers: &HeaderMap,
    ) -> Self {
        let rejection = Self {
            status,
            code,
            message,
        };
        rejection.log(log_detail, headers);
        rejection
    }

    pub(crate) fn verify(err: VerifyError, headers: &HeaderMap) -> Self {
        // Payload and body errors quote JSON or I/O errors; only the code goes to the log for them.
        let log_detail = match &err {
            VerifyError::InvalidPayload { .. } | VerifyError::BodyError { .. } => String::new(),
            other => other.to_string(),
        };
        Self::new(
            err.status(),
            err.code(),
            err.to_string(),
            &log_detail,
            headers,
        )
    }

    pub(crate) fn into_response<B>(self) -> Response<ResponseBody<B>> {
        ResponseBody::json_response(self.status, error_json(self.code, &self.message))
    }

    /// One event per rejection: the code, the status, the svix-id as sent and a detail that never
    /// quotes the body or the secret. An unsupported event is an error (it needs a crate upgrade),
    /// the rest are warnings.
    #[cfg(feature = "tracing")]
    fn log(&self, detail: &str, headers: &HeaderMap) {
        let svix_id = headers
            .get("svix-id")
            .or_else(|| headers.get("webhook-id"))
            .and_then(|value| value.to_str().ok())
            .unwrap_or("");
        if self.code == "unsupported_event" {
            tracing::error!(
                code = self.code,
                status = self.status.as_u16(),
                svix_id,
                detail,
                "clerk webhook rejected"
            );
        } else {
            tracing::warn!(
                code = self.code,
                status = self.status.as_u16(),
                svix_id,
                detail,
                "clerk webhook rejected"
            );
        }
    }

    #[cfg(not(feature = "tracing"))]
    fn log(&self, _detail: &str, _headers: &HeaderMap) {}
}
