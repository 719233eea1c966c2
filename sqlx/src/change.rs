//! What an event changes, and the version it is ordered by.

use clerk_webhooks::{ClerkEvent, EventMeta};

use super::SyncError;

/// The kinds of Clerk object the order guard and the mirror keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ObjectKind {
    /// `user.*` events.
    User,
    /// `organization.*` events.
    Organization,
    /// `organizationMembership.*` events.
    OrganizationMembership,
}

impl ObjectKind {
    /// The name stored in the guard's table: `user`, `organization`, `organization_membership`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Organization => "organization",
            Self::OrganizationMembership => "organization_membership",
        }
    }
}

/// One event's change to one Clerk object, as the order guard sees it.
///
/// The version is the object's `updated_at` (Unix milliseconds) for a created or updated event,
/// falling back to the envelope's `timestamp` when the object has none; a deletion carries no
/// `updated_at`, so its version is the envelope's `timestamp`. A change applies only if its
/// version is strictly greater than the last applied one (a tie is the same state arriving again),
/// and never after a deletion: Clerk does not reuse ids, so a deleted object stays deleted.
///
/// ```
/// use clerk_webhooks_sqlx::{Change, ObjectKind};
///
/// let (event, meta) = clerk_webhooks::parse_event(
///     br#"{"type":"user.updated","timestamp":1700000000500,
///          "data":{"id":"user_1","updated_at":1700000000123}}"#,
/// )?
/// .into_parts();
/// let change = Change::of(&event, &meta)?.expect("a user event changes a user");
/// assert_eq!((change.kind(), change.id(), change.version()), (ObjectKind::User, "user_1", 1700000000123));
/// assert!(!change.is_deletion());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change<'a> {
    kind: ObjectKind,
    id: &'a str,
    version: i64,
    deletion: bool,
}

impl<'a> Change<'a> {
    /// The change `event` makes, or `None` for an event about anything but a user, an organization
    /// or a membership.
    ///
    /// # Errors
    ///
    /// [`SyncError::Unordered`] when the event lacks its object's id or any version.
    pub fn of(event: &'a ClerkEvent, meta: &EventMeta) -> Result<Option<Self>, SyncError> {
        use ClerkEvent::*;
        let (kind, id, updated_at, deletion) = match event {
            UserCreated(user) | UserUpdated(user) => (
                ObjectKind::User,
                Some(user.id.as_str()),
                user.updated_at,
                false,
            ),
            UserDeleted(deleted) => (ObjectKind::User, deleted.id.as_deref(), None, true),
            OrganizationCreated(org) | OrganizationUpdated(org) => (
                ObjectKind::Organization,
                Some(org.id.as_str()),
                org.updated_at,
                false,
            ),
            OrganizationDeleted(deleted) => {
                (ObjectKind::Organization, deleted.id.as_deref(), None, true)
            }
            OrganizationMembershipCreated(membership)
            | OrganizationMembershipUpdated(membership) => (
                ObjectKind::OrganizationMembership,
                Some(membership.id.as_str()),
                membership.updated_at,
                false,
            ),
            OrganizationMembershipDeleted(membership) => (
                ObjectKind::OrganizationMembership,
                Some(membership.id.as_str()),
                None,
                true,
            ),
            _ => return Ok(None),
        };
        let unordered = |missing| SyncError::Unordered {
            event_type: event.event_type().to_owned(),
            missing,
        };
        let id = id
            .filter(|id| !id.is_empty())
            .ok_or_else(|| unordered("data.id"))?;
        let version = updated_at
            .or(meta.timestamp)
            .ok_or_else(|| unordered("data.updated_at or envelope timestamp"))?;
        Ok(Some(Self {
            kind,
            id,
            version,
            deletion,
        }))
    }

    /// A change made by hand, for objects and versions an app tracks itself.
    pub fn new(kind: ObjectKind, id: &'a str, version: i64, deletion: bool) -> Self {
        Self {
            kind,
            id,
            version,
            deletion,
        }
    }

    /// The kind of object changed.
    pub fn kind(&self) -> ObjectKind {
        self.kind
    }

    /// The object's Clerk id.
    pub fn id(&self) -> &'a str {
        self.id
    }

    /// The version it is ordered by, in Unix milliseconds.
    pub fn version(&self) -> i64 {
        self.version
    }

    /// Whether the change deletes the object.
    pub fn is_deletion(&self) -> bool {
        self.deletion
    }
}

/// What the order guard decided about a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Admission {
    /// Newer than anything applied (or a first deletion): write it.
    Apply,
    /// Not newer than what was applied: a late or repeated event. Skip it.
    Stale,
    /// The object was deleted: no created or updated event brings it back, and a second deletion
    /// changes nothing. Skip it.
    Deleted,
}

impl Admission {
    /// Whether to write the change.
    pub fn applies(self) -> bool {
        matches!(self, Self::Apply)
    }
}
