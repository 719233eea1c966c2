//! `ClerkEvent`: one variant per event type, generated from a single table.

use serde::de::Error as _;
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use super::billing::{BillingPaymentAttempt, BillingSubscription, BillingSubscriptionItem};
use super::common::{DeletedObject, MaybeDeleted};
use super::communication::{Email, SmsMessage};
use super::error::EventError;
use super::invitation::{Invitation, WaitlistEntry};
use super::organization::{
    Organization, OrganizationDomain, OrganizationInvitation, OrganizationMembership,
};
use super::role::{Permission, Role};
use super::session::Session;
use super::user::User;

/// An event of a type this version of the crate does not know, kept whole so nothing is lost.
///
/// ```
/// use clerk_webhooks::ClerkEvent;
///
/// fn handle(event: ClerkEvent) {
///     if let ClerkEvent::Unknown(unknown) = event {
///         // Newer than this crate: acknowledge it, and look at it by hand if it matters.
///         println!("{} with id {}", unknown.event_type, unknown.data["id"]);
///     }
/// }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct UnknownEvent {
    /// The event type as sent (`agent.created`).
    pub event_type: String,
    /// The raw `data` of the envelope.
    pub data: Value,
}

impl UnknownEvent {
    /// An unknown event from its type and raw data.
    pub fn new(event_type: impl Into<String>, data: Value) -> Self {
        Self {
            event_type: event_type.into(),
            data,
        }
    }
}

/// An event of a known type whose data does not fit this version's model, kept whole: what the
/// layer hands on under
/// [`UnsupportedEvents::PassAsUnparsed`](crate::layer::UnsupportedEvents::PassAsUnparsed) instead
/// of refusing it.
///
/// ```
/// use clerk_webhooks::ClerkEvent;
///
/// fn handle(event: ClerkEvent) {
///     match event {
///         ClerkEvent::UserCreated(user) => println!("welcome {}", user.id),
///         // A `user.created` this crate could not read: the raw data is all there is.
///         ClerkEvent::Unparsed(unparsed) => {
///             eprintln!("{} did not fit at {}", unparsed.event_type, unparsed.path);
///         }
///         _ => {}
///     }
/// }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct UnparsedEvent {
    /// The event type as sent (`user.created`).
    pub event_type: String,
    /// The raw `data` of the envelope.
    pub data: Value,
    /// Where in `data` it did not fit the model (`email_addresses[0].id`; `.` for `data` itself).
    pub path: String,
}

impl UnparsedEvent {
    pub(crate) fn new(event_type: &str, data: Value, path: String) -> Self {
        Self {
            event_type: event_type.to_owned(),
            data,
            path,
        }
    }
}

macro_rules! catalog {
    ( $( $wire:literal $(| $alias:literal)* => $variant:ident($data:ty), )+ ) => {
        /// A Clerk webhook event: its type and its typed data.
        ///
        /// Match on the variants you handle and let the rest fall through: they include
        /// [`ClerkEvent::Unknown`] for types newer than this crate, which a handler should still
        /// acknowledge with a 2xx so Clerk does not retry.
        ///
        /// ```
        /// use clerk_webhooks::ClerkEvent;
        ///
        /// fn handle(event: &ClerkEvent) -> &'static str {
        ///     match event {
        ///         ClerkEvent::UserCreated(user) if user.primary_email().is_some() => "welcome email",
        ///         ClerkEvent::UserDeleted(_) => "erase data",
        ///         _ => "ignored",
        ///     }
        /// }
        ///
        /// let event: ClerkEvent =
        ///     serde_json::from_str(r#"{"type":"user.deleted","data":{"id":"user_1","deleted":true}}"#)?;
        /// assert_eq!(event.event_type(), "user.deleted");
        /// assert_eq!(handle(&event), "erase data");
        /// # Ok::<(), serde_json::Error>(())
        /// ```
        // A user event is large, but events are handed over once and not stored in bulk: boxing
        // every variant would cost an allocation and make patterns clumsier for no gain.
        #[allow(clippy::large_enum_variant)]
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub enum ClerkEvent {
            $(
                #[doc = concat!("`", $wire, "`")]
                $variant($data),
            )+
            /// An event type this version does not know.
            Unknown(UnknownEvent),
            /// A known event type whose data does not fit this version's model; only where asked
            /// for (see [`UnsupportedEvents`](crate::layer::UnsupportedEvents)), otherwise such a
            /// delivery is refused.
            Unparsed(UnparsedEvent),
        }

        impl ClerkEvent {
            /// Every event type this version knows, in the spelling `event_type()` returns.
            pub const KNOWN_TYPES: &'static [&'static str] = &[$($wire),+];

            /// The event type as on the wire (`user.created`).
            pub fn event_type(&self) -> &str {
                match self {
                    $( Self::$variant(_) => $wire, )+
                    Self::Unknown(unknown) => &unknown.event_type,
                    Self::Unparsed(unparsed) => &unparsed.event_type,
                }
            }

            /// Types `data` for `event_type`; `Ok(None)` when the type is not in the catalog.
            pub(crate) fn decode<'de, D: Deserializer<'de>>(
                event_type: &str,
                data: D,
            ) -> Result<Option<Self>, D::Error> {
                Ok(Some(match event_type {
                    $( $wire $(| $alias)* => Self::$variant(<$data>::deserialize(data)?), )+
                    _ => return Ok(None),
                }))
            }

            /// [`decode`](Self::decode) into a slot: no copy of the (large) event on the way out.
            /// An error for a type outside the catalog.
            pub(crate) fn decode_into<'de, D: Deserializer<'de>>(
                event_type: &str,
                data: D,
                slot: &mut Option<Self>,
            ) -> Result<(), D::Error> {
                match event_type {
                    $( $wire $(| $alias)* => *slot = Some(Self::$variant(<$data>::deserialize(data)?)), )+
                    _ => return Err(D::Error::custom("not in the catalog")),
                }
                Ok(())
            }

            /// Whether [`decode`](Self::decode) types `data` for `event_type`.
            pub(crate) fn knows(event_type: &str) -> bool {
                matches!(event_type, $( $wire $(| $alias)* )|+)
            }

            /// [`decode`](Self::decode) tracking the path of the failing field. Run only after a
            /// failure: tracking allocates for every key, which would double the cost of parsing.
            pub(crate) fn decode_tracked<'de, D: Deserializer<'de>>(
                event_type: &str,
                data: D,
            ) -> Result<Option<Self>, serde_path_to_error::Error<D::Error>> {
                Ok(Some(match event_type {
                    $( $wire $(| $alias)* => Self::$variant(serde_path_to_error::deserialize(data)?), )+
                    _ => return Ok(None),
                }))
            }

            fn serialize_data<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                match self {
                    $( Self::$variant(data) => data.serialize(serializer), )+
                    Self::Unknown(unknown) => unknown.data.serialize(serializer),
                    Self::Unparsed(unparsed) => unparsed.data.serialize(serializer),
                }
            }
        }
    };
}

catalog! {
    "user.created" => UserCreated(User),
    "user.updated" => UserUpdated(User),
    "user.deleted" => UserDeleted(DeletedObject),
    "session.created" => SessionCreated(Session),
    "session.pending" => SessionPending(Session),
    "session.ended" => SessionEnded(Session),
    "session.removed" => SessionRemoved(Session),
    "session.revoked" => SessionRevoked(Session),
    "email.created" => EmailCreated(Email),
    "sms.created" => SmsCreated(SmsMessage),
    "organization.created" => OrganizationCreated(Organization),
    "organization.updated" => OrganizationUpdated(Organization),
    "organization.deleted" => OrganizationDeleted(DeletedObject),
    "organizationDomain.created" => OrganizationDomainCreated(OrganizationDomain),
    "organizationDomain.updated" => OrganizationDomainUpdated(OrganizationDomain),
    "organizationDomain.deleted" => OrganizationDomainDeleted(DeletedObject),
    "organizationInvitation.created" => OrganizationInvitationCreated(OrganizationInvitation),
    "organizationInvitation.accepted" => OrganizationInvitationAccepted(OrganizationInvitation),
    "organizationInvitation.revoked" => OrganizationInvitationRevoked(OrganizationInvitation),
    "organizationMembership.created" => OrganizationMembershipCreated(OrganizationMembership),
    "organizationMembership.updated" => OrganizationMembershipUpdated(OrganizationMembership),
    "organizationMembership.deleted" => OrganizationMembershipDeleted(OrganizationMembership),
    "role.created" => RoleCreated(Role),
    "role.updated" => RoleUpdated(Role),
    "role.deleted" => RoleDeleted(MaybeDeleted<Role>),
    "permission.created" => PermissionCreated(Permission),
    "permission.updated" => PermissionUpdated(Permission),
    "permission.deleted" => PermissionDeleted(MaybeDeleted<Permission>),
    "invitation.created" => InvitationCreated(Invitation),
    "invitation.accepted" => InvitationAccepted(Invitation),
    "invitation.revoked" => InvitationRevoked(Invitation),
    "waitlistEntry.created" => WaitlistEntryCreated(WaitlistEntry),
    "waitlistEntry.updated" => WaitlistEntryUpdated(WaitlistEntry),
    "subscription.created" => SubscriptionCreated(BillingSubscription),
    "subscription.updated" => SubscriptionUpdated(BillingSubscription),
    "subscription.active" => SubscriptionActive(BillingSubscription),
    "subscription.pastDue" | "subscription.past_due" => SubscriptionPastDue(BillingSubscription),
    "subscriptionItem.created" => SubscriptionItemCreated(BillingSubscriptionItem),
    "subscriptionItem.updated" => SubscriptionItemUpdated(BillingSubscriptionItem),
    "subscriptionItem.active" => SubscriptionItemActive(BillingSubscriptionItem),
    "subscriptionItem.canceled" => SubscriptionItemCanceled(BillingSubscriptionItem),
    "subscriptionItem.upcoming" => SubscriptionItemUpcoming(BillingSubscriptionItem),
    "subscriptionItem.ended" => SubscriptionItemEnded(BillingSubscriptionItem),
    "subscriptionItem.abandoned" => SubscriptionItemAbandoned(BillingSubscriptionItem),
    "subscriptionItem.incomplete" => SubscriptionItemIncomplete(BillingSubscriptionItem),
    "subscriptionItem.pastDue" | "subscriptionItem.past_due" => SubscriptionItemPastDue(BillingSubscriptionItem),
    "subscriptionItem.freeTrialEnding" => SubscriptionItemFreeTrialEnding(BillingSubscriptionItem),
    "paymentAttempt.created" => PaymentAttemptCreated(BillingPaymentAttempt),
    "paymentAttempt.updated" => PaymentAttemptUpdated(BillingPaymentAttempt),
}

impl ClerkEvent {
    /// Builds an event from its type and raw data; types outside the catalog become
    /// [`ClerkEvent::Unknown`].
    fn from_parts(event_type: &str, data: Value) -> Result<Self, EventError> {
        match Self::decode(event_type, &data) {
            Ok(Some(event)) => Ok(event),
            Ok(None) => Ok(Self::Unknown(UnknownEvent::new(event_type, data))),
            Err(err) => Err(EventError::unsupported(
                event_type,
                Self::decode_tracked(event_type, &data).err(),
                &err,
            )),
        }
    }

    /// Whether this version knows the event type: false only for [`ClerkEvent::Unknown`] (an
    /// [`Unparsed`](ClerkEvent::Unparsed) event is of a known type whose data did not fit).
    pub fn is_known(&self) -> bool {
        !matches!(self, Self::Unknown(_))
    }
}

impl Serialize for ClerkEvent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Data<'a>(&'a ClerkEvent);
        impl Serialize for Data<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                self.0.serialize_data(serializer)
            }
        }
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("type", self.event_type())?;
        map.serialize_entry("data", &Data(self))?;
        map.end()
    }
}

impl<'de> Deserialize<'de> for ClerkEvent {
    /// Reads a whole webhook body (or the `{"type", "data"}` this type serializes to), in any serde
    /// format: for events stored or queued after verification. With JSON bytes at hand,
    /// [`parse_event`](crate::parse_event) is faster and keeps the metadata. A known type whose data
    /// does not fit is an error, never [`ClerkEvent::Unparsed`].
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // A map, not a derived struct: derived structs also accept arrays, which no envelope is.
        let mut envelope = serde_json::Map::<String, Value>::deserialize(deserializer)?;
        let event_type = match envelope.remove("type") {
            Some(Value::String(event_type)) => event_type,
            Some(_) => return Err(D::Error::custom("the event `type` is not a string")),
            None => return Err(D::Error::missing_field("type")),
        };
        let data = envelope
            .remove("data")
            .ok_or_else(|| D::Error::missing_field("data"))?;
        Self::from_parts(&event_type, data).map_err(D::Error::custom)
    }
}
