//! A refused delivery and its response.

use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderValue, Response, StatusCode};

use super::ResponseBody;
use crate::verify::{error_json, VerifyError};

/// Why the layer answered instead of the inner service.
#[derive(Debug)]
pub(crate) struct Rejection {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl Rejection {
    pub(crate) fn new(
        status: StatusCode,
        code: &'static str,
        message: String,
        headers: &HeaderMap,
    ) -> Self {
        let rejection = Self {
            status,
            code,
            message,
        };
        rejection.log(headers);
        rejection
    }

    pub(crate) fn verify(err: VerifyError, headers: &HeaderMap) -> Self {
        Self::new(err.status(), err.code(), err.to_string(), headers)
    }

    pub(crate) fn into_response<B>(self) -> Response<ResponseBody<B>> {
        let mut response = Response::new(ResponseBody::rejection(error_json(
            self.code,
            &self.message,
        )));
        *response.status_mut() = self.status;
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        response
    }

    /// One event per rejection: the code, the status and the svix-id as sent; never the body or
    /// the secret. An unsupported event is an error (it needs a crate upgrade), the rest are warnings.
    #[cfg(feature = "tracing")]
    fn log(&self, headers: &HeaderMap) {
        let svix_id = headers
            .get("svix-id")
            .or_else(|| headers.get("webhook-id"))
            .and_then(|value| value.to_str().ok())
            .unwrap_or("");
        if self.code == "unsupported_event" {
            tracing::error!(code = self.code, status = self.status.as_u16(), svix_id, message = %self.message,
                "clerk webhook rejected");
        } else {
            tracing::warn!(code = self.code, status = self.status.as_u16(), svix_id, message = %self.message,
                "clerk webhook rejected");
        }
    }

    #[cfg(not(feature = "tracing"))]
    fn log(&self, _headers: &HeaderMap) {}
}
