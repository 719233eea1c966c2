//! Sessions.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::common::open_enum;
use super::user::User;

open_enum! {
    /// The state of a session.
    ///
    /// ```
    /// use clerk_webhooks::event::SessionStatus;
    ///
    /// let value: SessionStatus = serde_json::from_str(r#""revoked""#)?;
    /// assert_eq!(value, SessionStatus::Revoked);
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub enum SessionStatus {
        /// Signed in.
        Active = "active",
        /// Waiting for the user to complete a step (for example choosing an organization).
        Pending = "pending",
        /// Revoked by an administrator or the API.
        Revoked = "revoked",
        /// Signed out.
        Ended = "ended",
        /// Expired.
        Expired = "expired",
        /// Removed by the user from another device.
        Removed = "removed",
        /// Abandoned (inactive too long).
        Abandoned = "abandoned",
        /// Replaced by a new session.
        Replaced = "replaced",
    }
}

/// A session (`session.created`, `.pending`, `.ended`, `.removed`, `.revoked`).
///
/// ```
/// use clerk_webhooks::event::{Session, SessionStatus};
///
/// let session: Session = serde_json::from_str(
///     r#"{"id":"sess_1","user_id":"user_1","client_id":"client_1","status":"active","user":null}"#,
/// )?;
/// assert_eq!(session.status, SessionStatus::Active);
/// assert!(session.user.is_none());
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Session {
    /// The session id (`sess_...`).
    pub id: String,
    /// Always `session`.
    pub object: Option<String>,
    /// The user the session belongs to.
    #[serde(default)]
    pub user_id: Option<String>,
    /// The user, when Clerk embeds it (it can be `null`).
    pub user: Option<Box<User>>,
    /// The client (browser or device).
    #[serde(default)]
    pub client_id: Option<String>,
    /// The impersonator, for impersonation sessions.
    pub actor: Option<Value>,
    /// Its state.
    pub status: SessionStatus,
    /// The organization active in this session.
    pub last_active_organization_id: Option<String>,
    /// Last activity (Unix ms).
    pub last_active_at: Option<i64>,
    /// Where the latest activity came from.
    pub latest_activity: Option<SessionActivity>,
    /// When the session expires (Unix ms).
    pub expire_at: Option<i64>,
    /// When the session is abandoned if inactive (Unix ms).
    pub abandon_at: Option<i64>,
    /// Last update (Unix ms).
    #[serde(default)]
    pub updated_at: Option<i64>,
    /// Creation (Unix ms).
    #[serde(default)]
    pub created_at: Option<i64>,
}

/// The device and place of a session's latest activity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SessionActivity {
    /// The activity id.
    #[serde(default)]
    pub id: Option<String>,
    /// Always `session_activity`.
    pub object: Option<String>,
    /// `desktop`, `mobile`, ...
    pub device_type: Option<String>,
    /// Whether the device is mobile.
    #[serde(default)]
    pub is_mobile: Option<bool>,
    /// The browser.
    pub browser_name: Option<String>,
    /// The browser version.
    pub browser_version: Option<String>,
    /// The IP address.
    pub ip_address: Option<String>,
    /// The city.
    pub city: Option<String>,
    /// The country.
    pub country: Option<String>,
}
