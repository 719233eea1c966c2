//! What can go wrong while syncing a delivery into the database.

use clerk_webhooks::EventError;

/// A delivery could not be written to the database. Nothing of it was committed: answer with a
/// 5xx (the axum `IntoResponse` does) and Svix retries it.
///
/// A few cannot succeed on any retry ([`is_permanent`](Self::is_permanent)): the database refuses
/// a value for good, or the event cannot be ordered. [`Mirror::apply`](super::Mirror::apply)
/// does not return those: it records the delivery with
/// [`InboxTransaction::set_aside`](super::InboxTransaction::set_aside)
/// and answers [`Synced::Unstorable`](super::Synced::Unstorable), so Svix stops retrying.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    /// The database refused or could not be reached; the transaction was rolled back.
    #[error("the database failed: {0}")]
    Database(#[from] sqlx::Error),
    /// The body is not an event this version can read (only on paths that parse it here, such as
    /// a queue worker; the layer refuses such a body before any handler runs).
    #[error("the delivery's body is not a Clerk event this version can read: {0}")]
    Event(#[from] EventError),
    /// The event lacks what ordering it needs: its object's id, or any version (`updated_at` and
    /// the envelope `timestamp` are both absent). Applying it anyway could overwrite newer data,
    /// so it is not applied, and its retries fail the same way where they can be seen.
    #[error("a {event_type} event cannot be ordered: it has no {missing}")]
    Unordered {
        /// The event's type (`user.updated`, ...).
        event_type: String,
        /// What is absent.
        missing: &'static str,
    },
    /// The handler's own work failed (an error it returned through [`SyncError::handler`]).
    #[error("the handler failed: {0}")]
    Handler(#[source] clerk_webhooks::BoxError),
    /// No connection to the database could be had within the inbox's
    /// [acquire timeout](super::Inbox::with_acquire_timeout): the database is down or every
    /// connection is busy. Answered `503` with `Retry-After` well before Svix gives up on the
    /// attempt (15 s).
    #[error("the database could not be reached within {waited:?}")]
    Unavailable {
        /// How long the delivery waited for a connection.
        waited: std::time::Duration,
    },
    /// The connection failed while the commit was under way: whether the database kept the
    /// delivery is unknown. Answered `503` with `Retry-After`; the retry finds the delivery's
    /// record if it was kept (a duplicate) and applies it if not, so either way it happens once.
    #[error("the database's answer to the commit was lost: {0}")]
    CommitUnconfirmed(#[source] sqlx::Error),
}

/// How long Svix is asked to wait when the database could not be reached.
#[cfg(feature = "axum")]
const DATABASE_DOWN_RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(5);

impl SyncError {
    /// Wraps an error of the app's own handler, so that it rolls the delivery back like any other.
    pub fn handler(err: impl Into<clerk_webhooks::BoxError>) -> Self {
        Self::Handler(err.into())
    }

    /// Whether a retry of the same delivery must fail the same way, so that retrying it for 28
    /// hours only hides it: the event cannot be ordered, or the database refused a value for
    /// good (on PostgreSQL a data exception, SQLSTATE class 22, or a limit, class 54, such as an
    /// id too long for an index). SQLite holds any value under its size limit (1 GB by default,
    /// a thousand times the largest delivery); one over it could not be recorded either, so it is
    /// retried.
    pub fn is_permanent(&self) -> bool {
        self.set_aside_reason().is_some()
    }

    /// What `clerk_webhooks_failed_deliveries` records of a permanent failure: its reason, and
    /// the database's code and message when the database refused.
    pub(crate) fn set_aside_reason(
        &self,
    ) -> Option<(&'static str, Option<String>, Option<String>)> {
        match self {
            Self::Unordered { .. } => Some(("unordered", None, None)),
            Self::Database(sqlx::Error::Database(err)) => {
                let code = err.code()?;
                // PostgreSQL's SQLSTATEs have five characters, SQLite's result codes fewer.
                let for_good =
                    code.len() == 5 && (code.starts_with("22") || code.starts_with("54"));
                for_good.then(|| {
                    (
                        "database_refused",
                        Some(code.into_owned()),
                        Some(err.message().to_owned()),
                    )
                })
            }
            _ => None,
        }
    }

    /// The stable code of the answer: `database_unavailable` when the database could not be
    /// reached, else `sync_failed`.
    pub fn code(&self) -> &'static str {
        if self.is_unavailable() {
            "database_unavailable"
        } else {
            "sync_failed"
        }
    }

    /// `503 Service Unavailable` when the database could not be reached (with `Retry-After`),
    /// else `500 Internal Server Error`: either way Svix retries the delivery.
    pub fn status(&self) -> http::StatusCode {
        if self.is_unavailable() {
            http::StatusCode::SERVICE_UNAVAILABLE
        } else {
            http::StatusCode::INTERNAL_SERVER_ERROR
        }
    }

    /// Whether the database could not be reached at all (a wait for a connection ran out, or the
    /// connection itself failed), rather than refusing what was asked.
    fn is_unavailable(&self) -> bool {
        match self {
            Self::Unavailable { .. } | Self::CommitUnconfirmed(_) => true,
            Self::Database(sqlx::Error::Database(err)) => err.code().is_some_and(|code| {
                // SQLite's result codes (PostgreSQL's SQLSTATEs have five characters):
                // SQLITE_BUSY or SQLITE_LOCKED, still there after the busy timeout, is another
                // writer holding the database, as a pool without a free connection is.
                code.len() < 5
                    && code
                        .parse::<u32>()
                        .is_ok_and(|code| matches!(code & 0xff, 5 | 6))
            }),
            Self::Database(err) => matches!(
                err,
                sqlx::Error::Io(_)
                    | sqlx::Error::PoolTimedOut
                    | sqlx::Error::PoolClosed
                    | sqlx::Error::WorkerCrashed
            ),
            _ => false,
        }
    }

    /// `{"error":"sync_failed","message":...}`: says that nothing was kept and a retry will come,
    /// never the database's own words (they may quote the data).
    pub fn body_text(&self) -> String {
        let message = match self {
            Self::Unordered { .. } => {
                "the event carries no id or version to order it by; nothing was written"
            }
            Self::CommitUnconfirmed(_) => {
                "the database's answer to the commit was lost; a retry will find the delivery if it was kept, and apply it if not"
            }
            _ if self.is_unavailable() => {
                "the database cannot be reached; nothing was kept and a retry will be applied"
            }
            _ => "the delivery could not be written to the database; nothing was kept and a retry will be applied",
        };
        clerk_webhooks::__private::error_json(self.code(), message)
    }
}

#[cfg(feature = "axum")]
impl axum_core::response::IntoResponse for SyncError {
    fn into_response(self) -> axum_core::response::Response {
        use clerk_webhooks::__private::log::error;

        error!(code = self.code(), error = %self, "clerk webhook not synced");
        let retry_after = self.is_unavailable().then_some(DATABASE_DOWN_RETRY_AFTER);
        clerk_webhooks::__private::rejection_response(self.status(), retry_after, self.body_text())
            .map(Into::into)
    }
}
