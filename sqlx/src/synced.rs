//! What syncing a delivery did, and its answer.

/// What syncing a delivery did. Every outcome is final: answer 2xx (the axum `IntoResponse`
/// answers `200 {"synced":true,"status":...}`, and `"synced":false` for
/// [`Unstorable`](Self::Unstorable)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Synced {
    /// The change was written.
    Applied,
    /// The delivery was processed before (a retry or a duplicate); nothing ran.
    Duplicate,
    /// Newer data about the object was applied before; nothing was written.
    Stale,
    /// The object was deleted before; nothing was written.
    Deleted,
    /// An event about something the mirror does not keep; recorded as processed.
    Ignored,
    /// No retry could apply it (see [`SyncError::is_permanent`](crate::SyncError::is_permanent)); nothing of it was written. It
    /// is recorded in `clerk_webhooks_failed_deliveries` with its body, and logged at `error`;
    /// answered 2xx so that Svix stops retrying.
    Unstorable,
}

impl Synced {
    /// `applied`, `duplicate`, `stale`, `deleted`, `ignored` or `unstorable`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Applied => "applied",
            Self::Duplicate => "duplicate",
            Self::Stale => "stale",
            Self::Deleted => "deleted",
            Self::Ignored => "ignored",
            Self::Unstorable => "unstorable",
        }
    }
}

#[cfg(feature = "axum")]
impl axum_core::response::IntoResponse for Synced {
    fn into_response(self) -> axum_core::response::Response {
        let synced = self != Self::Unstorable;
        let body = serde_json::json!({ "synced": synced, "status": self.as_str() }).to_string();
        clerk_webhooks::__private::json_response(http::StatusCode::OK, body.into())
    }
}
