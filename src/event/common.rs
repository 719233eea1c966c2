//! Types shared by several events: deleted objects, verifications, open string enums.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Declares a string enum that keeps values Clerk adds later in `Other(String)` instead of failing.
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $wire:literal, )+ }
    ) => {
        $(#[$meta])*
        ///
        /// Non-exhaustive: a value that arrives as `Other` today may get a variant of its own in a
        /// later 1.x version, so compare with [`as_str`](Self::as_str) when you match on values
        /// this version does not name.
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this version of the crate does not know, kept as sent.
            Other(String),
        }

        impl $name {
            /// The value as it appears on the wire.
            ///
            /// ```
            /// use clerk_webhooks::event::SessionStatus;
            ///
            /// assert_eq!(SessionStatus::Active.as_str(), "active");
            /// assert_eq!(SessionStatus::from("dormant").as_str(), "dormant");
            /// ```
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $wire, )+
                    Self::Other(other) => other,
                }
            }
        }

        impl From<&str> for $name {
            fn from(wire: &str) -> Self {
                match wire {
                    $( $wire => Self::$variant, )+
                    other => Self::Other(other.to_owned()),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let wire = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
                Ok(Self::from(wire.as_ref()))
            }
        }
    };
}
pub(crate) use open_enum;

/// What `*.deleted` events carry: the id of the deleted object and little else.
///
/// ```
/// use clerk_webhooks::event::DeletedObject;
///
/// let deleted: DeletedObject =
///     serde_json::from_str(r#"{"object":"user","id":"user_1","deleted":true,"external_id":"ext-9"}"#)?;
/// assert_eq!(deleted.id.as_deref(), Some("user_1"));
/// assert_eq!(deleted.external_id.as_deref(), Some("ext-9"));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DeletedObject {
    /// The kind of the deleted object (`user`, `organization`, ...).
    pub object: Option<String>,
    /// The id of the deleted object. Clerk's schema makes it optional, because a deleted object
    /// may be named by its `slug` instead; the `*.deleted` events in this catalog (`user`,
    /// `organization`, `organizationDomain`, `role`, `permission`) send it in every example Clerk
    /// publishes. `None` means the body had no `id`: look at `slug`, never assume a value.
    pub id: Option<String>,
    /// The slug of the deleted object, for objects that are named by one.
    pub slug: Option<String>,
    /// `true` in every delivery seen; `None` when the body does not say.
    #[serde(default)]
    pub deleted: Option<bool>,
    /// Your own id for the deleted user, when you set one (`user.deleted`).
    pub external_id: Option<String>,
}

/// Either a [`DeletedObject`] or the whole object: `role.deleted` and `permission.deleted` carry the
/// former according to Clerk's OpenAPI spec and the latter according to its TypeScript types.
///
/// A payload with a `deleted` field is read as a [`DeletedObject`], any other as the full object.
///
/// ```
/// use clerk_webhooks::event::{MaybeDeleted, Permission};
///
/// let short: MaybeDeleted<Permission> =
///     serde_json::from_str(r#"{"object":"permission","id":"perm_1","deleted":true}"#)?;
/// assert_eq!(short.id(), Some("perm_1"));
/// assert!(matches!(short, MaybeDeleted::Deleted(_)));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum MaybeDeleted<T> {
    /// The short form: `{"object": ..., "id": ..., "deleted": true}`.
    Deleted(DeletedObject),
    /// The whole object as it was before deletion.
    Full(T),
}

/// Objects with an id, so [`MaybeDeleted::id`] works for both forms.
///
/// ```
/// use clerk_webhooks::event::{HasId, Role};
///
/// let role: Role = serde_json::from_str(r#"{"id":"role_1"}"#)?;
/// assert_eq!(HasId::id(&role), "role_1");
/// # Ok::<(), serde_json::Error>(())
/// ```
pub trait HasId {
    /// The object's id.
    fn id(&self) -> &str;
}

impl<T: HasId> MaybeDeleted<T> {
    /// The id of the deleted object, whichever form was sent.
    ///
    /// ```
    /// use clerk_webhooks::event::{MaybeDeleted, Role};
    ///
    /// let full: MaybeDeleted<Role> = serde_json::from_str(r#"{"id":"role_1","key":"org:editor"}"#)?;
    /// assert_eq!(full.id(), Some("role_1"));
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn id(&self) -> Option<&str> {
        match self {
            Self::Deleted(deleted) => deleted.id.as_deref(),
            Self::Full(full) => Some(full.id()),
        }
    }
}

impl<'de, T: serde::de::DeserializeOwned> Deserialize<'de> for MaybeDeleted<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        // Which form it is depends on a key, so the object is looked at once before it is typed.
        let value = Value::deserialize(deserializer)?;
        let short_form = value.get("deleted").is_some();
        if short_form {
            DeletedObject::deserialize(value)
                .map(Self::Deleted)
                .map_err(D::Error::custom)
        } else {
            T::deserialize(value)
                .map(Self::Full)
                .map_err(D::Error::custom)
        }
    }
}

open_enum! {
    /// The state of a verification.
    ///
    /// ```
    /// use clerk_webhooks::event::VerificationStatus;
    ///
    /// let value: VerificationStatus = serde_json::from_str(r#""verified""#)?;
    /// assert_eq!(value, VerificationStatus::Verified);
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub enum VerificationStatus {
        /// Not verified yet.
        Unverified = "unverified",
        /// Verified.
        Verified = "verified",
        /// The attempt failed.
        Failed = "failed",
        /// The attempt expired.
        Expired = "expired",
        /// The identification can be transferred to another user or sign-up.
        Transferable = "transferable",
    }
}

/// How an identification (email, phone, wallet, account) was verified.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Verification {
    /// The kind of verification object (`verification_otp`, `verification_oauth`, ...).
    pub object: Option<String>,
    /// Its state.
    pub status: VerificationStatus,
    /// The strategy used: `email_code`, `oauth_google`, `saml`, `admin`, ... (Clerk adds new ones).
    #[serde(default)]
    pub strategy: Option<String>,
    /// Attempts made.
    pub attempts: Option<i64>,
    /// When the attempt expires (Unix ms).
    pub expire_at: Option<i64>,
    /// The channel an OTP was sent on (`sms`, `whatsapp`).
    pub channel: Option<String>,
    /// The client that completed the verification.
    pub verified_at_client: Option<String>,
    /// Where to send the user to complete an external (OAuth, SAML) verification.
    pub external_verification_redirect_url: Option<String>,
    /// The nonce of a web3 or passkey verification.
    pub nonce: Option<String>,
    /// The message of a web3 verification.
    pub message: Option<String>,
    /// Why the verification failed.
    pub error: Option<ClerkError>,
}

/// An error reported by Clerk inside a payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ClerkError {
    /// A short message.
    #[serde(default)]
    pub message: Option<String>,
    /// A longer explanation.
    #[serde(default)]
    pub long_message: Option<String>,
    /// A machine code.
    #[serde(default)]
    pub code: Option<String>,
    /// Extra details.
    #[serde(default)]
    pub meta: Value,
}

/// A link from an identification to another (an email address linked to an OAuth account).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct IdentificationLink {
    /// The kind of the linked identification (`oauth_google`, `saml`, ...).
    #[serde(rename = "type")]
    pub kind: String,
    /// The id of the linked identification.
    pub id: String,
}

/// `Some` unless the value is empty: Clerk sends `""` for some absent strings.
pub(crate) fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|text| !text.is_empty())
}
