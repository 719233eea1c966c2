//! Application invitations and the waitlist.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::common::open_enum;

open_enum! {
    /// The state of an invitation, to the application or to an organization.
    ///
    /// ```
    /// use clerk_webhooks::event::InvitationStatus;
    ///
    /// let value: InvitationStatus = serde_json::from_str(r#""revoked""#)?;
    /// assert_eq!(value, InvitationStatus::Revoked);
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub enum InvitationStatus {
        /// Waiting for the invitee.
        Pending = "pending",
        /// Accepted.
        Accepted = "accepted",
        /// Revoked.
        Revoked = "revoked",
        /// Expired.
        Expired = "expired",
    }
}

/// An invitation to sign up for the application (`invitation.created`, `.accepted`, `.revoked`).
///
/// ```
/// use clerk_webhooks::event::{Invitation, InvitationStatus};
///
/// let invitation: Invitation =
///     serde_json::from_str(r#"{"id":"inv_1","email_address":"ada@example.com","status":"accepted"}"#)?;
/// assert_eq!(invitation.status, InvitationStatus::Accepted);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Invitation {
    /// The invitation id (`inv_...`).
    pub id: String,
    /// Always `invitation`.
    pub object: Option<String>,
    /// The invitee.
    #[serde(default)]
    pub email_address: Option<String>,
    /// Metadata copied to the user on sign-up.
    #[serde(default)]
    pub public_metadata: Value,
    /// Whether it was revoked (older payloads).
    pub revoked: Option<bool>,
    /// Its state.
    pub status: InvitationStatus,
    /// The link to accept it.
    pub url: Option<String>,
    /// When it expires (Unix ms).
    pub expires_at: Option<i64>,
    /// Creation (Unix ms).
    #[serde(default)]
    pub created_at: Option<i64>,
    /// Last update (Unix ms).
    #[serde(default)]
    pub updated_at: Option<i64>,
}

open_enum! {
    /// The state of a waitlist entry.
    ///
    /// ```
    /// use clerk_webhooks::event::WaitlistEntryStatus;
    ///
    /// let value: WaitlistEntryStatus = serde_json::from_str(r#""invited""#)?;
    /// assert_eq!(value, WaitlistEntryStatus::Invited);
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub enum WaitlistEntryStatus {
        /// Waiting.
        Pending = "pending",
        /// Invited.
        Invited = "invited",
        /// Rejected.
        Rejected = "rejected",
        /// Signed up.
        Completed = "completed",
    }
}

/// A waitlist entry (`waitlistEntry.created`, `waitlistEntry.updated`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WaitlistEntry {
    /// The entry id (`wle_...`).
    pub id: String,
    /// `waitlist_entry` (some payloads say `waitlistEntry`).
    pub object: Option<String>,
    /// The email address on the list.
    #[serde(default)]
    pub email_address: Option<String>,
    /// Its state.
    pub status: WaitlistEntryStatus,
    /// Whether the entry is locked.
    pub is_locked: Option<bool>,
    /// Creation (Unix ms).
    #[serde(default)]
    pub created_at: Option<i64>,
    /// Last update (Unix ms).
    #[serde(default)]
    pub updated_at: Option<i64>,
    /// The invitation sent to the entry, if any.
    pub invitation: Option<Invitation>,
}
