//! The data types of Clerk's webhook events.
//!
//! A webhook body is an envelope `{"type": ..., "data": ..., "timestamp": ..., "instance_id": ...,
//! "event_attributes": ...}`. [`parse_event`](crate::parse_event) reads it once into a
//! [`ClerkEvent`](crate::ClerkEvent) (the type and its typed data, one of the types of this module)
//! and its [`EventMeta`](crate::EventMeta) (the rest). `ClerkEvent` also implements `Deserialize`
//! from a whole body and `Serialize` back to `{"type": ..., "data": ...}`.
//!
//! Nothing here verifies signatures: parse only bodies a [`Verifier`](crate::Verifier) accepted,
//! or that you stored after verifying them.
//!
//! # Forgiving by design
//!
//! The model follows Clerk's wire format, which grows. Unknown fields are ignored; fields that may be
//! absent or `null` are `Option` (or default to empty); statuses that Clerk may extend keep unknown
//! values as `Other(String)`; event types this version does not know become
//! [`ClerkEvent::Unknown`](crate::ClerkEvent::Unknown) with their raw data. A known event type whose
//! data does not fit the model (say, `user.created` without an `id`) is an
//! [`EventError::UnsupportedData`](crate::EventError::UnsupportedData) naming the type and the field,
//! or, where asked for, [`ClerkEvent::Unparsed`](crate::ClerkEvent::Unparsed): never silently
//! something else.
//!
//! The model never invents a value: a field that may be absent is an `Option` (`None` when it was
//! not sent), and lists that may be absent are empty.
//!
//! # The catalog
//!
//! | event type | variant | data |
//! |---|---|---|
//! | `user.created`, `user.updated` | `UserCreated`, `UserUpdated` | [`User`] |
//! | `user.deleted` | `UserDeleted` | [`DeletedObject`] |
//! | `session.created`, `.pending`, `.ended`, `.removed`, `.revoked` | `SessionCreated`, `SessionPending`, `SessionEnded`, `SessionRemoved`, `SessionRevoked` | [`Session`] |
//! | `email.created` | `EmailCreated` | [`Email`] |
//! | `sms.created` | `SmsCreated` | [`SmsMessage`] |
//! | `organization.created`, `.updated` | `OrganizationCreated`, `OrganizationUpdated` | [`Organization`] |
//! | `organization.deleted` | `OrganizationDeleted` | [`DeletedObject`] |
//! | `organizationDomain.created`, `.updated` | `OrganizationDomainCreated`, `OrganizationDomainUpdated` | [`OrganizationDomain`] |
//! | `organizationDomain.deleted` | `OrganizationDomainDeleted` | [`DeletedObject`] |
//! | `organizationInvitation.created`, `.accepted`, `.revoked` | `OrganizationInvitationCreated`, `OrganizationInvitationAccepted`, `OrganizationInvitationRevoked` | [`OrganizationInvitation`] |
//! | `organizationMembership.created`, `.updated`, `.deleted` | `OrganizationMembershipCreated`, `OrganizationMembershipUpdated`, `OrganizationMembershipDeleted` | [`OrganizationMembership`] |
//! | `role.created`, `.updated` | `RoleCreated`, `RoleUpdated` | [`Role`] |
//! | `role.deleted` | `RoleDeleted` | [`MaybeDeleted`]`<`[`Role`]`>` |
//! | `permission.created`, `.updated` | `PermissionCreated`, `PermissionUpdated` | [`Permission`] |
//! | `permission.deleted` | `PermissionDeleted` | [`MaybeDeleted`]`<`[`Permission`]`>` |
//! | `invitation.created`, `.accepted`, `.revoked` | `InvitationCreated`, `InvitationAccepted`, `InvitationRevoked` | [`Invitation`] |
//! | `waitlistEntry.created`, `.updated` | `WaitlistEntryCreated`, `WaitlistEntryUpdated` | [`WaitlistEntry`] |
//! | `subscription.created`, `.updated`, `.active`, `.pastDue` | `SubscriptionCreated`, `SubscriptionUpdated`, `SubscriptionActive`, `SubscriptionPastDue` | [`BillingSubscription`] |
//! | `subscriptionItem.created`, `.updated`, `.active`, `.canceled`, `.upcoming`, `.ended`, `.abandoned`, `.incomplete`, `.pastDue`, `.freeTrialEnding` | `SubscriptionItemCreated`, ..., `SubscriptionItemFreeTrialEnding` | [`BillingSubscriptionItem`] |
//! | `paymentAttempt.created`, `.updated` | `PaymentAttemptCreated`, `PaymentAttemptUpdated` | [`BillingPaymentAttempt`] |
//! | anything else | `Unknown` | [`UnknownEvent`] (type and raw `data`) |
//! | a known type whose data does not fit (only where asked for) | `Unparsed` | [`UnparsedEvent`] (type, raw `data`, where it did not fit) |
//!
//! `subscription.past_due` and `subscriptionItem.past_due` (the spelling of Clerk's TypeScript types)
//! are read as the `pastDue` variants (the spelling of the OpenAPI spec, which `event_type()` returns).
//!
//! # Where Clerk's sources disagree
//!
//! - The envelope `timestamp` is Unix milliseconds, although the spec's examples show seconds.
//! - `organizationInvitation.*` carry `public_organization_data` beside the other fields in the
//!   payloads seen, and inside a nested `data` object per the spec's schema: both are read
//!   ([`OrganizationInvitation`]).
//! - `role.deleted` and `permission.deleted` carry a [`DeletedObject`] per the spec and the whole
//!   object per the TypeScript types: both are read ([`MaybeDeleted`]).
//! - Subscription items come in two shapes: the spec's (`interval: "month"`, `plan.unit_prices`,
//!   `seats`) and the TypeScript types' (`plan_period`, `plan.interval: 1`, `credit`,
//!   `lifetime_paid`, `next_payment_*`). [`BillingSubscriptionItem`] holds the union, all optional.
//! - Billing payers send `""` for the absent user or organization fields; use the accessors.
//! - `object` is spelled `waitlist_entry` or `waitlistEntry`, `subscription_item` or
//!   `commerce_subscription_item`, or missing: it is kept, never checked.
//! - `sms.created` carries `created_at_ms` per the spec and `created_at` in its example: both kept.
//!
//! ```
//! use clerk_webhooks::{parse_event, ClerkEvent, ParsedEvent};
//!
//! let body = br#"{"type":"user.created","object":"event","timestamp":1716883200000,
//!     "data":{"id":"user_1","first_name":"Ada"}}"#;
//! let ParsedEvent { event, meta, .. } = parse_event(body)?;
//! match &event {
//!     ClerkEvent::UserCreated(user) => assert_eq!(user.first_name.as_deref(), Some("Ada")),
//!     other => panic!("unexpected {}", other.event_type()),
//! }
//! assert_eq!(meta.timestamp, Some(1716883200000));
//! # Ok::<(), clerk_webhooks::EventError>(())
//! ```

mod billing;
pub(crate) mod catalog;
pub(crate) mod common;
mod communication;
pub(crate) mod envelope;
pub(crate) mod error;
mod invitation;
mod organization;
mod role;
mod session;
mod user;

pub use billing::{
    BillingAmount, BillingAmountValue, BillingCredit, BillingCredits, BillingFailedReason,
    BillingInterval, BillingPayee, BillingPayer, BillingPayerCredit, BillingPaymentAttempt,
    BillingPaymentSource, BillingPlan, BillingSeats, BillingStatus, BillingSubscription,
    BillingSubscriptionItem, BillingTotals, BillingUnitPrice, BillingUnitPriceTier,
    BillingUnitTotal, ChargeType, PaymentAttemptStatus,
};
pub use common::{
    ClerkError, DeletedObject, HasId, IdentificationLink, MaybeDeleted, Verification,
    VerificationStatus,
};
pub use communication::{Email, SmsMessage};
pub use envelope::HttpRequest;
pub use invitation::{Invitation, InvitationStatus, WaitlistEntry, WaitlistEntryStatus};
pub use organization::{
    DomainVerification, EnrollmentMode, Organization, OrganizationDomain, OrganizationInvitation,
    OrganizationMembership, PublicOrganizationData, PublicUserData,
};
pub use role::{Permission, Role};
pub use session::{Session, SessionActivity, SessionStatus};
pub use user::{
    EmailAddress, EnterpriseAccount, ExternalAccount, Passkey, PhoneNumber, SamlAccount,
    ScimUserMetadata, SsoConnection, User, Web3Wallet,
};

pub use catalog::{UnknownEvent, UnparsedEvent};
