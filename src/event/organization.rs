//! Organizations, their domains, invitations and memberships.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::common::open_enum;
use super::invitation::InvitationStatus;

/// An organization (`organization.created`, `organization.updated`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Organization {
    /// The organization id (`org_...`).
    pub id: String,
    /// Always `organization`.
    pub object: Option<String>,
    /// The name.
    #[serde(default)]
    pub name: Option<String>,
    /// The slug.
    pub slug: Option<String>,
    /// The logo (or a default one).
    pub image_url: Option<String>,
    /// The logo, in older payloads.
    pub logo_url: Option<String>,
    /// Whether a logo was uploaded.
    #[serde(default)]
    pub has_image: Option<bool>,
    /// How many members it has, when included.
    pub members_count: Option<i64>,
    /// Whether no member has elevated permissions.
    pub missing_member_with_elevated_permissions: Option<bool>,
    /// How many invitations are pending, when included.
    pub pending_invitations_count: Option<i64>,
    /// The membership limit (0: unlimited).
    #[serde(default)]
    pub max_allowed_memberships: Option<i64>,
    /// Whether admins may delete it.
    #[serde(default)]
    pub admin_delete_enabled: Option<bool>,
    /// Metadata readable by the frontend.
    #[serde(default)]
    pub public_metadata: Value,
    /// Metadata only the backend sees.
    #[serde(default)]
    pub private_metadata: Value,
    /// The user who created it.
    pub created_by: Option<String>,
    /// Creation (Unix ms).
    #[serde(default)]
    pub created_at: Option<i64>,
    /// Last update (Unix ms).
    #[serde(default)]
    pub updated_at: Option<i64>,
    /// Last activity (Unix ms).
    pub last_active_at: Option<i64>,
    /// The role set in use.
    pub role_set_key: Option<String>,
}

/// The public part of an organization, embedded in domains and invitations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PublicOrganizationData {
    /// The organization id.
    pub id: String,
    /// The name.
    #[serde(default)]
    pub name: Option<String>,
    /// The slug.
    pub slug: Option<String>,
    /// The logo.
    pub image_url: Option<String>,
    /// Whether a logo was uploaded.
    #[serde(default)]
    pub has_image: Option<bool>,
}

open_enum! {
    /// How users with an email address at a verified domain join the organization.
    ///
    /// ```
    /// use clerk_webhooks::event::EnrollmentMode;
    ///
    /// let value: EnrollmentMode = serde_json::from_str(r#""automatic_invitation""#)?;
    /// assert_eq!(value, EnrollmentMode::AutomaticInvitation);
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub enum EnrollmentMode {
        /// Only by invitation.
        ManualInvitation = "manual_invitation",
        /// Invited automatically.
        AutomaticInvitation = "automatic_invitation",
        /// Suggested to join.
        AutomaticSuggestion = "automatic_suggestion",
        /// Through enterprise SSO.
        EnterpriseSso = "enterprise_sso",
    }
}

/// A domain of an organization (`organizationDomain.created`, `organizationDomain.updated`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OrganizationDomain {
    /// The domain id.
    pub id: String,
    /// Always `organization_domain`.
    pub object: Option<String>,
    /// The organization.
    #[serde(default)]
    pub organization_id: Option<String>,
    /// The domain name.
    #[serde(default)]
    pub name: Option<String>,
    /// How users of this domain join.
    pub enrollment_mode: Option<EnrollmentMode>,
    /// The address used for affiliation verification.
    pub affiliation_email_address: Option<String>,
    /// Affiliation verification.
    pub affiliation_verification: Option<DomainVerification>,
    /// Ownership verification.
    pub ownership_verification: Option<DomainVerification>,
    /// Verification (older payloads).
    pub verification: Option<DomainVerification>,
    /// Pending invitations created from this domain.
    #[serde(default)]
    pub total_pending_invitations: Option<i64>,
    /// Pending suggestions created from this domain.
    #[serde(default)]
    pub total_pending_suggestions: Option<i64>,
    /// The organization's public data.
    pub public_organization_data: Option<PublicOrganizationData>,
    /// Creation (Unix ms).
    #[serde(default)]
    pub created_at: Option<i64>,
    /// Last update (Unix ms).
    #[serde(default)]
    pub updated_at: Option<i64>,
}

/// The verification of an organization domain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DomainVerification {
    /// `unverified` or `verified`.
    #[serde(default)]
    pub status: Option<String>,
    /// `email_code`, `dns_record`, ...
    #[serde(default)]
    pub strategy: Option<String>,
    /// Attempts made.
    pub attempts: Option<i64>,
    /// When the attempt expires (Unix ms).
    pub expire_at: Option<i64>,
    /// When it was verified (Unix ms).
    pub verified_at: Option<i64>,
}

/// An invitation to an organization (`organizationInvitation.created`, `.accepted`, `.revoked`).
///
/// Clerk's published schema puts the organization's public data one level down, in
/// `data.public_organization_data`, where the payloads seen so far carry it beside the other fields;
/// both shapes are read into [`public_organization_data`](Self::public_organization_data) (the
/// outer one wins when both are sent), and it is serialized beside the other fields.
///
/// ```
/// use clerk_webhooks::event::OrganizationInvitation;
///
/// let flat: OrganizationInvitation = serde_json::from_str(
///     r#"{"id":"orginv_1","public_organization_data":{"id":"org_1","name":"Acme"}}"#,
/// )?;
/// let nested: OrganizationInvitation = serde_json::from_str(
///     r#"{"id":"orginv_1","data":{"public_organization_data":{"id":"org_1","name":"Acme"}}}"#,
/// )?;
/// assert_eq!(flat, nested);
/// assert_eq!(nested.public_organization_data.unwrap().name.as_deref(), Some("Acme"));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "InvitationWire")]
#[non_exhaustive]
pub struct OrganizationInvitation {
    /// The invitation id (`orginv_...`).
    pub id: String,
    /// Always `organization_invitation`.
    pub object: Option<String>,
    /// The invitee.
    #[serde(default)]
    pub email_address: Option<String>,
    /// The role key offered (`org:member`, ...).
    #[serde(default)]
    pub role: Option<String>,
    /// The role's display name.
    pub role_name: Option<String>,
    /// The organization.
    pub organization_id: Option<String>,
    /// The user who accepted it (`organizationInvitation.accepted`).
    pub user_id: Option<String>,
    /// Who sent it.
    pub inviter_id: Option<String>,
    /// Public data of the inviter.
    pub public_inviter_data: Option<PublicUserData>,
    /// The organization's public data.
    pub public_organization_data: Option<PublicOrganizationData>,
    /// Its state.
    pub status: Option<InvitationStatus>,
    /// Metadata readable by the frontend.
    #[serde(default)]
    pub public_metadata: Value,
    /// Metadata only the backend sees.
    #[serde(default)]
    pub private_metadata: Value,
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

/// [`OrganizationInvitation`] as sent, in either shape: with `public_organization_data` beside the
/// other fields, or (as Clerk's schema declares it) inside a nested `data` object.
#[derive(Deserialize)]
struct InvitationWire {
    id: String,
    object: Option<String>,
    #[serde(default)]
    email_address: Option<String>,
    #[serde(default)]
    role: Option<String>,
    role_name: Option<String>,
    organization_id: Option<String>,
    user_id: Option<String>,
    inviter_id: Option<String>,
    public_inviter_data: Option<PublicUserData>,
    public_organization_data: Option<PublicOrganizationData>,
    status: Option<InvitationStatus>,
    #[serde(default)]
    public_metadata: Value,
    #[serde(default)]
    private_metadata: Value,
    url: Option<String>,
    expires_at: Option<i64>,
    #[serde(default)]
    created_at: Option<i64>,
    #[serde(default)]
    updated_at: Option<i64>,
    /// The schema's nesting of the organization's public data.
    #[serde(default)]
    data: Option<InvitationData>,
}

#[derive(Deserialize)]
struct InvitationData {
    #[serde(default)]
    public_organization_data: Option<PublicOrganizationData>,
}

impl From<InvitationWire> for OrganizationInvitation {
    fn from(wire: InvitationWire) -> Self {
        let nested = wire.data.and_then(|data| data.public_organization_data);
        Self {
            id: wire.id,
            object: wire.object,
            email_address: wire.email_address,
            role: wire.role,
            role_name: wire.role_name,
            organization_id: wire.organization_id,
            user_id: wire.user_id,
            inviter_id: wire.inviter_id,
            public_inviter_data: wire.public_inviter_data,
            public_organization_data: wire.public_organization_data.or(nested),
            status: wire.status,
            public_metadata: wire.public_metadata,
            private_metadata: wire.private_metadata,
            url: wire.url,
            expires_at: wire.expires_at,
            created_at: wire.created_at,
            updated_at: wire.updated_at,
        }
    }
}

/// A membership of a user in an organization (`organizationMembership.*`, including `.deleted`,
/// which carries the whole membership).
///
/// ```
/// use clerk_webhooks::event::OrganizationMembership;
///
/// let membership: OrganizationMembership = serde_json::from_str(r#"{
///     "id": "orgmem_1", "role": "org:admin",
///     "organization": {"id": "org_1", "name": "Acme"},
///     "public_user_data": {"user_id": "user_1", "identifier": "ada@example.com"}
/// }"#)?;
/// assert_eq!(membership.user_id(), Some("user_1"));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OrganizationMembership {
    /// The membership id (`orgmem_...`).
    pub id: String,
    /// Always `organization_membership`.
    pub object: Option<String>,
    /// The role key (`org:admin`, `org:member`, custom roles).
    #[serde(default)]
    pub role: Option<String>,
    /// The role's display name.
    pub role_name: Option<String>,
    /// The permissions the role grants.
    #[serde(default)]
    pub permissions: Vec<String>,
    /// Metadata readable by the frontend.
    #[serde(default)]
    pub public_metadata: Value,
    /// Metadata only the backend sees.
    #[serde(default)]
    pub private_metadata: Value,
    /// The organization.
    pub organization: Organization,
    /// The member's public data.
    pub public_user_data: Option<PublicUserData>,
    /// Creation (Unix ms).
    #[serde(default)]
    pub created_at: Option<i64>,
    /// Last update (Unix ms).
    #[serde(default)]
    pub updated_at: Option<i64>,
}

impl OrganizationMembership {
    /// The member's user id.
    ///
    /// ```
    /// # let m: clerk_webhooks::event::OrganizationMembership =
    /// #     serde_json::from_str(r#"{"id":"orgmem_1","organization":{"id":"org_1"}}"#)?;
    /// assert_eq!(m.user_id(), None);
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn user_id(&self) -> Option<&str> {
        self.public_user_data
            .as_ref()
            .and_then(|user| user.user_id.as_deref())
    }
}

/// The public part of a user, embedded in memberships and invitations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PublicUserData {
    /// The user id.
    #[serde(default)]
    pub user_id: Option<String>,
    /// The first name.
    pub first_name: Option<String>,
    /// The last name.
    pub last_name: Option<String>,
    /// The profile image (deprecated by Clerk).
    pub profile_image_url: Option<String>,
    /// The profile image.
    pub image_url: Option<String>,
    /// Whether an image was uploaded.
    #[serde(default)]
    pub has_image: Option<bool>,
    /// The identifier shown for the user (email, phone or username).
    pub identifier: Option<String>,
    /// The username.
    pub username: Option<String>,
    /// Whether the user is banned.
    pub banned: Option<bool>,
    /// Whether the user was deprovisioned.
    pub deprovisioned: Option<bool>,
}
