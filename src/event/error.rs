//! Why a body could not be read as a Clerk event.

/// Why a body could not be read as a Clerk event.
///
/// Its messages name the event type, field names and positions, never a value from the body: they
/// end up in logs and in the answers Svix shows in the Clerk dashboard.
///
/// ```
/// use clerk_webhooks::{parse_event, EventError};
///
/// let err = parse_event(br#"{"type":"user.created","data":{"id":"user_1","banned":"alice@example.com"}}"#).unwrap_err();
/// match &err {
///     EventError::UnsupportedData { event_type, path, .. } => println!("{event_type} does not fit at {path}"),
///     other => println!("not an event: {other}"),
/// }
/// assert!(!err.to_string().contains("alice@example.com"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EventError {
    /// The body is not a JSON object with a string `type` and a `data` field.
    #[error("not a Clerk webhook envelope: {reason}")]
    InvalidEnvelope {
        /// What is wrong, and where (never a value from the body).
        reason: String,
    },
    /// The event type is known, but its data does not fit the model.
    #[error("the data of `{event_type}` does not fit the model at `{path}`: {reason}")]
    UnsupportedData {
        /// The event type.
        event_type: String,
        /// Where in `data` the problem is (`email_addresses[0].id`; `.` for `data` itself).
        path: String,
        /// What is wrong there (never the value).
        reason: String,
    },
}

/// The code of a verified body that is not a webhook envelope, here and in the layer's answer.
pub(crate) const INVALID_PAYLOAD: &str = "invalid_payload";
/// The code of a known event whose data does not fit the model, here and in the layer's answer.
pub(crate) const UNSUPPORTED_EVENT: &str = "unsupported_event";

impl EventError {
    /// A stable machine code: `invalid_payload` or `unsupported_event`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidEnvelope { .. } => INVALID_PAYLOAD,
            Self::UnsupportedData { .. } => UNSUPPORTED_EVENT,
        }
    }

    pub(crate) fn reason(&self) -> &str {
        match self {
            Self::InvalidEnvelope { reason } | Self::UnsupportedData { reason, .. } => reason,
        }
    }

    pub(crate) fn invalid_envelope(err: &serde_json::Error) -> Self {
        Self::InvalidEnvelope {
            reason: describe(err),
        }
    }

    /// A body that is not UTF-8, with the position of its first invalid byte, counted as
    /// serde_json counts (line from 1, column in bytes from 1).
    pub(crate) fn not_utf8(body: &[u8], valid_up_to: usize) -> Self {
        let before = &body[..valid_up_to];
        let line = 1 + before.iter().filter(|&&byte| byte == b'\n').count();
        let line_start = before
            .iter()
            .rposition(|&byte| byte == b'\n')
            .map_or(0, |newline| newline + 1);
        let column = valid_up_to - line_start + 1;
        Self::InvalidEnvelope {
            reason: format!("the body is not UTF-8 at line {line} column {column}"),
        }
    }

    /// From the error of the fast decode and, when the tracked second pass failed the same way,
    /// its path.
    pub(crate) fn unsupported(
        event_type: &str,
        tracked: Option<serde_path_to_error::Error<serde_json::Error>>,
        untracked: &serde_json::Error,
    ) -> Self {
        let (path, reason) = match tracked {
            Some(tracked) => (tracked.path().to_string(), describe(tracked.inner())),
            None => (".".to_owned(), describe(untracked)),
        };
        Self::UnsupportedData {
            event_type: event_type.to_owned(),
            path,
            reason,
        }
    }
}

/// serde's messages quote the offending value (`invalid type: string "alice@example.com",
/// expected ...`). What is kept: the kind of mistake, what the model expected (text of the model,
/// not of the body), names of missing fields, and the position.
fn describe(err: &serde_json::Error) -> String {
    use serde_json::error::Category;

    let position = if err.line() > 0 {
        format!(" at line {} column {}", err.line(), err.column())
    } else {
        String::new()
    };
    let full = err.to_string();
    let message = full.strip_suffix(&position).unwrap_or(&full);
    let kept = match err.classify() {
        Category::Syntax => "invalid JSON".to_owned(),
        Category::Eof => "the JSON ends early".to_owned(),
        Category::Io => "the body could not be read".to_owned(),
        Category::Data => {
            const KINDS: [&str; 5] = [
                "invalid type",
                "invalid value",
                "invalid length",
                "unknown variant",
                "unknown field",
            ];
            if message.starts_with("missing field `") || message.starts_with("duplicate field `") {
                message.to_owned()
            } else {
                let kind = KINDS.iter().find(|kind| message.starts_with(*kind));
                match (kind, message.rsplit_once(", expected ")) {
                    (Some(kind), Some((_, expected))) => format!("{kind}, expected {expected}"),
                    (Some(kind), None) => (*kind).to_owned(),
                    (None, _) => "a value does not fit the model".to_owned(),
                }
            }
        }
    };
    format!("{kept}{position}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of<T: serde::de::DeserializeOwned + std::fmt::Debug>(json: &str) -> String {
        describe(&serde_json::from_str::<T>(json).unwrap_err())
    }

    #[test]
    fn values_are_never_quoted() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Model {
            banned: bool,
        }
        let text = error_of::<Model>(r#"{"banned":"alice@example.com, expected x"}"#);
        assert_eq!(text, "invalid type, expected a boolean at line 1 column 41");
        let text = error_of::<Model>(r#"{}"#);
        assert_eq!(text, "missing field `banned` at line 1 column 2");
        let text = error_of::<Model>(r#"{"banned": trux}"#);
        assert!(text.starts_with("invalid JSON at line 1"), "{text}");
        let text = error_of::<Model>(r#"{"banned": "#);
        assert!(text.starts_with("the JSON ends early"), "{text}");
    }
}
