//! The middleware's own JSON answers, shared by the layer's rejections, the extractors and the
//! de-duplication replies.

use std::time::Duration;

use http::header::{CONTENT_TYPE, RETRY_AFTER};
use http::{HeaderValue, Response, StatusCode};

/// `{"error": code, "message": message}`, escaped as JSON.
pub fn error_json(code: &str, message: &str) -> String {
    serde_json::json!({ "error": code, "message": message }).to_string()
}

/// A response with `status`, `content-type: application/json` and `body`.
pub fn json_response<B>(status: StatusCode, body: B) -> Response<B> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// A rejection's answer: `status`, JSON `body`, and `Retry-After` when the sender should wait.
pub fn rejection_response(
    status: StatusCode,
    retry_after: Option<Duration>,
    body: String,
) -> Response<String> {
    let mut response = json_response(status, body);
    if let Some(wait) = retry_after {
        set_retry_after(&mut response, wait);
    }
    response
}

/// Adds `Retry-After` in whole seconds, rounded up and at least 1.
pub(crate) fn set_retry_after<B>(response: &mut Response<B>, wait: Duration) {
    let seconds = wait
        .as_secs()
        .saturating_add(u64::from(wait.subsec_nanos() > 0));
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(seconds.max(1)));
}

/// At most `max` characters of `text` for a log line, marked when cut: logged strings that an
/// unauthenticated request controls (its `svix-id`, its event type) must not let it write a large
/// log.
pub(crate) fn truncate_for_log(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(max) {
        None => std::borrow::Cow::Borrowed(text),
        Some((cut, _)) => std::borrow::Cow::Owned(format!("{}…", &text[..cut])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_json_escapes_the_message() {
        let body: serde_json::Value =
            serde_json::from_str(&error_json("code", "bad \"quote\"\n")).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"error": "code", "message": "bad \"quote\"\n"})
        );
    }

    #[test]
    fn retry_after_rounds_up_to_a_whole_second() {
        let mut response = json_response(StatusCode::CONFLICT, ());
        set_retry_after(&mut response, Duration::from_millis(1500));
        assert_eq!(response.headers()[RETRY_AFTER], "2");
        set_retry_after(&mut response, Duration::ZERO);
        assert_eq!(response.headers()[RETRY_AFTER], "1");
        set_retry_after(&mut response, Duration::MAX);
        assert_eq!(
            response.headers()[RETRY_AFTER],
            u64::MAX.to_string().as_str()
        );
    }

    #[test]
    fn long_strings_are_cut_on_a_character_boundary() {
        assert_eq!(truncate_for_log("short", 8), "short");
        assert_eq!(truncate_for_log("ééééé", 3), "ééé…");
        assert_eq!(
            truncate_for_log(&"x".repeat(65_536), 64).chars().count(),
            65
        );
    }
}
