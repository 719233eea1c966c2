//! Why a body could not be read as a Clerk event.

/// Why a body could not be read as a Clerk event.
///
/// ```
/// use clerk_webhooks::event::{parse_event, EventError};
///
/// let err = parse_event(b"not json").unwrap_err();
/// assert_eq!(err.code(), "invalid_payload");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EventError {
    /// The body is not a JSON object with a string `type` and a `data` field.
    #[error("not a Clerk webhook envelope: {reason}")]
    InvalidEnvelope {
        /// The JSON error.
        reason: String,
    },
    /// The event type is known, but its data does not fit the model.
    #[error("the data of `{event_type}` does not fit the model at `{path}`: {reason}")]
    UnsupportedData {
        /// The event type.
        event_type: String,
        /// Where in `data` the problem is (`email_addresses[0].id`; `.` for `data` itself).
        path: String,
        /// What is wrong there.
        reason: String,
    },
}

impl EventError {
    /// A stable machine code: `invalid_payload` or `unsupported_event`.
    ///
    /// ```
    /// use clerk_webhooks::event::{parse_event, EventError};
    ///
    /// let err = parse_event(br#"{"type":"user.created","data":{}}"#).unwrap_err();
    /// assert_eq!(err.code(), "unsupported_event");
    /// ```
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidEnvelope { .. } => "invalid_payload",
            Self::UnsupportedData { .. } => "unsupported_event",
        }
    }

    /// From the error of the fast decode and, when the tracked second pass failed the same way,
    /// its path.
    pub(crate) fn unsupported<E: std::fmt::Display>(
        event_type: &str,
        tracked: Option<serde_path_to_error::Error<E>>,
        untracked: E,
    ) -> Self {
        let (path, reason) = match tracked {
            Some(tracked) => (tracked.path().to_string(), tracked.inner().to_string()),
            None => (".".to_owned(), untracked.to_string()),
        };
        Self::UnsupportedData {
            event_type: event_type.to_owned(),
            path,
            reason,
        }
    }
}
