//! Users and their identifications.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::common::{HasId, IdentificationLink, Verification};
use super::organization::OrganizationMembership;

/// A Clerk user (`user.created`, `user.updated`, and nested in `session.*`).
///
/// ```
/// use clerk_webhooks::event::User;
///
/// let user: User = serde_json::from_str(r#"{
///     "id": "user_1", "first_name": "Ada", "last_name": "Lovelace",
///     "primary_email_address_id": "idn_2",
///     "email_addresses": [
///         {"id": "idn_1", "email_address": "old@example.com"},
///         {"id": "idn_2", "email_address": "ada@example.com"}
///     ]
/// }"#)?;
/// assert_eq!(user.primary_email(), Some("ada@example.com"));
/// assert_eq!(user.full_name().as_deref(), Some("Ada Lovelace"));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct User {
    /// The user id (`user_...`).
    pub id: String,
    /// Always `user`.
    pub object: Option<String>,
    /// Your own id for this user, if you set one.
    pub external_id: Option<String>,
    /// The id of the primary entry of [`email_addresses`](Self::email_addresses).
    pub primary_email_address_id: Option<String>,
    /// The id of the primary entry of [`phone_numbers`](Self::phone_numbers).
    pub primary_phone_number_id: Option<String>,
    /// The id of the primary entry of [`web3_wallets`](Self::web3_wallets).
    pub primary_web3_wallet_id: Option<String>,
    /// The username.
    pub username: Option<String>,
    /// The first name.
    pub first_name: Option<String>,
    /// The last name.
    pub last_name: Option<String>,
    /// The locale (BCP-47).
    pub locale: Option<String>,
    /// Deprecated by Clerk in favour of `image_url`, still sent.
    pub profile_image_url: Option<String>,
    /// The profile image (or a default one).
    pub image_url: Option<String>,
    /// Whether the user uploaded an image.
    #[serde(default)]
    pub has_image: Option<bool>,
    /// Metadata readable by the frontend, writable by the backend.
    #[serde(default)]
    pub public_metadata: Value,
    /// Metadata only the backend sees.
    #[serde(default)]
    pub private_metadata: Value,
    /// Metadata the frontend can write.
    #[serde(default)]
    pub unsafe_metadata: Value,
    /// The user's email addresses.
    #[serde(default)]
    pub email_addresses: Vec<EmailAddress>,
    /// The user's phone numbers.
    #[serde(default)]
    pub phone_numbers: Vec<PhoneNumber>,
    /// The user's web3 wallets.
    #[serde(default)]
    pub web3_wallets: Vec<Web3Wallet>,
    /// The user's passkeys.
    #[serde(default)]
    pub passkeys: Vec<Passkey>,
    /// Whether the user has a password.
    #[serde(default)]
    pub password_enabled: Option<bool>,
    /// Whether any second factor is enabled.
    #[serde(default)]
    pub two_factor_enabled: Option<bool>,
    /// Whether TOTP is enabled.
    #[serde(default)]
    pub totp_enabled: Option<bool>,
    /// Whether backup codes are enabled.
    #[serde(default)]
    pub backup_code_enabled: Option<bool>,
    /// When MFA was enabled (Unix ms).
    pub mfa_enabled_at: Option<i64>,
    /// When MFA was disabled (Unix ms).
    pub mfa_disabled_at: Option<i64>,
    /// When the password last changed (Unix ms).
    pub password_last_updated_at: Option<i64>,
    /// OAuth accounts.
    #[serde(default)]
    pub external_accounts: Vec<ExternalAccount>,
    /// SAML accounts.
    #[serde(default)]
    pub saml_accounts: Vec<SamlAccount>,
    /// Enterprise SSO accounts.
    #[serde(default)]
    pub enterprise_accounts: Vec<EnterpriseAccount>,
    /// Organization memberships, when Clerk includes them.
    pub organization_memberships: Option<Vec<OrganizationMembership>>,
    /// When the user last signed in (Unix ms).
    pub last_sign_in_at: Option<i64>,
    /// Whether the user is banned.
    #[serde(default)]
    pub banned: Option<bool>,
    /// Whether the user is locked out.
    #[serde(default)]
    pub locked: Option<bool>,
    /// Whether the user was deprovisioned by SCIM.
    pub deprovisioned: Option<bool>,
    /// Seconds until the lockout ends.
    pub lockout_expires_in_seconds: Option<i64>,
    /// Attempts left before a lockout.
    pub verification_attempts_remaining: Option<i64>,
    /// Last update (Unix ms).
    #[serde(default)]
    pub updated_at: Option<i64>,
    /// Creation (Unix ms).
    #[serde(default)]
    pub created_at: Option<i64>,
    /// Whether the user may delete their own account.
    #[serde(default)]
    pub delete_self_enabled: Option<bool>,
    /// Whether the user may create organizations.
    #[serde(default)]
    pub create_organization_enabled: Option<bool>,
    /// How many organizations the user may create.
    pub create_organizations_limit: Option<i64>,
    /// When the user was last active (Unix ms).
    pub last_active_at: Option<i64>,
    /// When the user accepted the legal terms (Unix ms).
    pub legal_accepted_at: Option<i64>,
    /// Whether the user skips client trust checks.
    pub bypass_client_trust: Option<bool>,
    /// SCIM provisioning details.
    pub scim: Option<ScimUserMetadata>,
}

impl User {
    /// The primary email address, as a string.
    ///
    /// `None` when there is no primary address or it is not among the user's addresses.
    ///
    /// ```
    /// # let user: clerk_webhooks::event::User = serde_json::from_str(r#"{"id":"user_1"}"#)?;
    /// assert_eq!(user.primary_email(), None);
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn primary_email(&self) -> Option<&str> {
        self.primary_email_address()
            .map(|email| email.email_address.as_str())
    }

    /// The primary [`EmailAddress`] record, with its verification.
    ///
    /// ```
    /// # let user: clerk_webhooks::event::User = serde_json::from_str(r#"{"id":"user_1",
    /// #   "primary_email_address_id":"idn_1","email_addresses":[{"id":"idn_1","email_address":"a@b.c"}]}"#)?;
    /// // Only send mail to an address the user proved they own.
    /// let verified = user.primary_email_address().filter(|email| email.is_verified());
    /// assert!(verified.is_none()); // this one has no verification
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn primary_email_address(&self) -> Option<&EmailAddress> {
        primary(
            &self.primary_email_address_id,
            &self.email_addresses,
            |email| email.id.as_deref(),
        )
    }

    /// The primary phone number, as a string.
    ///
    /// ```
    /// # let user: clerk_webhooks::event::User = serde_json::from_str(r#"{"id":"user_1",
    /// #   "primary_phone_number_id":"idn_9","phone_numbers":[{"id":"idn_9","phone_number":"+15555550100"}]}"#)?;
    /// assert_eq!(user.primary_phone(), Some("+15555550100"));
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn primary_phone(&self) -> Option<&str> {
        self.primary_phone_number()
            .map(|phone| phone.phone_number.as_str())
    }

    /// The primary [`PhoneNumber`] record.
    ///
    /// ```
    /// # let user: clerk_webhooks::event::User = serde_json::from_str(r#"{"id":"user_1"}"#)?;
    /// assert!(user.primary_phone_number().is_none());
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn primary_phone_number(&self) -> Option<&PhoneNumber> {
        primary(
            &self.primary_phone_number_id,
            &self.phone_numbers,
            |phone| phone.id.as_deref(),
        )
    }

    /// The primary [`Web3Wallet`].
    ///
    /// ```
    /// # let user: clerk_webhooks::event::User = serde_json::from_str(r#"{"id":"user_1",
    /// #   "primary_web3_wallet_id":"idn_w","web3_wallets":[{"id":"idn_w","web3_wallet":"0xabc"}]}"#)?;
    /// assert_eq!(user.primary_web3_wallet().map(|w| w.web3_wallet.as_str()), Some("0xabc"));
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn primary_web3_wallet(&self) -> Option<&Web3Wallet> {
        primary(&self.primary_web3_wallet_id, &self.web3_wallets, |wallet| {
            wallet.id.as_deref()
        })
    }

    /// First and last name joined by a space, skipping whichever is missing or blank; `None` when
    /// both are.
    ///
    /// ```
    /// # let user: clerk_webhooks::event::User =
    /// #     serde_json::from_str(r#"{"id":"user_1","first_name":"Ada","last_name":null}"#)?;
    /// assert_eq!(user.full_name().as_deref(), Some("Ada"));
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn full_name(&self) -> Option<String> {
        let parts: Vec<&str> = [&self.first_name, &self.last_name]
            .into_iter()
            .filter_map(|part| part.as_deref().map(str::trim))
            .filter(|part| !part.is_empty())
            .collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    }
}

/// The entry of `entries` that `primary_id` points at; `None` when it is unset or dangling.
fn primary<'a, T>(
    primary_id: &Option<String>,
    entries: &'a [T],
    id: impl Fn(&T) -> Option<&str>,
) -> Option<&'a T> {
    let wanted = primary_id.as_deref()?;
    entries.iter().find(|entry| id(entry) == Some(wanted))
}

impl HasId for User {
    fn id(&self) -> &str {
        &self.id
    }
}

/// An email address of a user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EmailAddress {
    /// The identification id (`idn_...`).
    #[serde(default)]
    pub id: Option<String>,
    /// Always `email_address`.
    pub object: Option<String>,
    /// The address.
    pub email_address: String,
    /// Whether the address is reserved.
    #[serde(default)]
    pub reserved: Option<bool>,
    /// How it was verified.
    pub verification: Option<Verification>,
    /// Linked identifications (for example the OAuth account it came from).
    #[serde(default)]
    pub linked_to: Vec<IdentificationLink>,
    /// Whether the address matches an enterprise SSO connection.
    pub matches_sso_connection: Option<bool>,
    /// Creation (Unix ms).
    pub created_at: Option<i64>,
    /// Last update (Unix ms).
    pub updated_at: Option<i64>,
}

impl EmailAddress {
    /// Whether the address is verified.
    ///
    /// ```
    /// # let email: clerk_webhooks::event::EmailAddress = serde_json::from_str(
    /// #     r#"{"id":"idn_1","email_address":"a@b.c","verification":{"status":"verified","strategy":"email_code"}}"#)?;
    /// assert!(email.is_verified());
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn is_verified(&self) -> bool {
        is_verified(&self.verification)
    }
}

/// A phone number of a user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PhoneNumber {
    /// The identification id (`idn_...`).
    #[serde(default)]
    pub id: Option<String>,
    /// Always `phone_number`.
    pub object: Option<String>,
    /// The number in E.164 format.
    pub phone_number: String,
    /// Whether the number is reserved for a second factor.
    pub reserved_for_second_factor: Option<bool>,
    /// Whether it is the default second factor.
    pub default_second_factor: Option<bool>,
    /// Whether the number is reserved.
    #[serde(default)]
    pub reserved: Option<bool>,
    /// How it was verified.
    pub verification: Option<Verification>,
    /// Linked identifications.
    #[serde(default)]
    pub linked_to: Vec<IdentificationLink>,
    /// Backup codes, when Clerk includes them.
    pub backup_codes: Option<Vec<String>>,
    /// Creation (Unix ms).
    pub created_at: Option<i64>,
    /// Last update (Unix ms).
    pub updated_at: Option<i64>,
}

impl PhoneNumber {
    /// Whether the number is verified.
    ///
    /// ```
    /// # let phone: clerk_webhooks::event::PhoneNumber =
    /// #     serde_json::from_str(r#"{"id":"idn_1","phone_number":"+1555","verification":null}"#)?;
    /// assert!(!phone.is_verified());
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn is_verified(&self) -> bool {
        is_verified(&self.verification)
    }
}

fn is_verified(verification: &Option<Verification>) -> bool {
    use super::common::VerificationStatus;
    verification
        .as_ref()
        .is_some_and(|verification| verification.status == VerificationStatus::Verified)
}

/// A web3 wallet of a user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Web3Wallet {
    /// The identification id.
    #[serde(default)]
    pub id: Option<String>,
    /// Always `web3_wallet`.
    pub object: Option<String>,
    /// The wallet address.
    pub web3_wallet: String,
    /// How it was verified.
    pub verification: Option<Verification>,
    /// Creation (Unix ms).
    pub created_at: Option<i64>,
    /// Last update (Unix ms).
    pub updated_at: Option<i64>,
}

/// A passkey of a user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Passkey {
    /// The passkey id.
    #[serde(default)]
    pub id: Option<String>,
    /// Always `passkey`.
    pub object: Option<String>,
    /// The name the user gave it.
    #[serde(default)]
    pub name: Option<String>,
    /// When it was last used (Unix ms).
    pub last_used_at: Option<i64>,
    /// Its verification.
    pub verification: Option<Verification>,
}

/// An OAuth account linked to a user (Google, GitHub, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ExternalAccount {
    /// The account id.
    pub id: String,
    /// `external_account` (older payloads: `google_account`, `facebook_account`).
    pub object: Option<String>,
    /// The provider (`oauth_google`, ...).
    #[serde(default)]
    pub provider: Option<String>,
    /// The identification this account backs.
    pub identification_id: Option<String>,
    /// The user's id at the provider.
    pub provider_user_id: Option<String>,
    /// The scopes granted.
    pub approved_scopes: Option<String>,
    /// The email address at the provider.
    pub email_address: Option<String>,
    /// Whether the provider verified the email address.
    pub email_address_verified: Option<bool>,
    /// The first name at the provider.
    pub first_name: Option<String>,
    /// The last name at the provider.
    pub last_name: Option<String>,
    /// The avatar at the provider (deprecated by Clerk).
    pub avatar_url: Option<String>,
    /// The image at the provider.
    pub image_url: Option<String>,
    /// The username at the provider.
    pub username: Option<String>,
    /// The phone number at the provider.
    pub phone_number: Option<String>,
    /// Public metadata of the account.
    #[serde(default)]
    pub public_metadata: Value,
    /// A label.
    pub label: Option<String>,
    /// Creation (Unix ms).
    pub created_at: Option<i64>,
    /// Last update (Unix ms).
    pub updated_at: Option<i64>,
    /// How it was verified.
    pub verification: Option<Verification>,
}

/// A SAML account linked to a user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SamlAccount {
    /// The account id.
    pub id: String,
    /// Always `saml_account`.
    pub object: Option<String>,
    /// The provider (`saml_okta`, ...).
    #[serde(default)]
    pub provider: Option<String>,
    /// Whether the account is active.
    #[serde(default)]
    pub active: Option<bool>,
    /// The email address.
    #[serde(default)]
    pub email_address: Option<String>,
    /// The first name.
    pub first_name: Option<String>,
    /// The last name.
    pub last_name: Option<String>,
    /// The user's id at the identity provider.
    pub provider_user_id: Option<String>,
    /// When the account last authenticated (Unix ms).
    pub last_authenticated_at: Option<i64>,
    /// Public metadata.
    #[serde(default)]
    pub public_metadata: Value,
    /// How it was verified.
    pub verification: Option<Verification>,
    /// The SAML connection.
    pub saml_connection: Option<SsoConnection>,
}

/// An enterprise SSO account (SAML or OIDC) linked to a user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EnterpriseAccount {
    /// The account id.
    pub id: String,
    /// Always `enterprise_account`.
    pub object: Option<String>,
    /// `saml` or `oauth`.
    pub protocol: Option<String>,
    /// The provider.
    #[serde(default)]
    pub provider: Option<String>,
    /// Whether the account is active.
    #[serde(default)]
    pub active: Option<bool>,
    /// The email address.
    #[serde(default)]
    pub email_address: Option<String>,
    /// The first name.
    pub first_name: Option<String>,
    /// The last name.
    pub last_name: Option<String>,
    /// The user's id at the identity provider.
    pub provider_user_id: Option<String>,
    /// The id of the enterprise connection.
    pub enterprise_connection_id: Option<String>,
    /// Public metadata.
    #[serde(default)]
    pub public_metadata: Value,
    /// How it was verified.
    pub verification: Option<Verification>,
    /// The enterprise connection.
    pub enterprise_connection: Option<SsoConnection>,
    /// When the account last authenticated (Unix ms).
    pub last_authenticated_at: Option<i64>,
}

/// A SAML or enterprise SSO connection, as embedded in a user's account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SsoConnection {
    /// The connection id.
    pub id: String,
    /// `saml` or `oauth` (enterprise connections only).
    pub protocol: Option<String>,
    /// The connection name.
    #[serde(default)]
    pub name: Option<String>,
    /// The provider.
    #[serde(default)]
    pub provider: Option<String>,
    /// The provider's logo (enterprise connections only).
    pub logo_public_url: Option<String>,
    /// The domain (deprecated by Clerk in favour of `domains`).
    pub domain: Option<String>,
    /// The domains.
    #[serde(default)]
    pub domains: Vec<String>,
    /// Whether the connection is active.
    #[serde(default)]
    pub active: Option<bool>,
    /// Whether user attributes are synced on each sign-in.
    pub sync_user_attributes: Option<bool>,
    /// Whether subdomains are allowed.
    pub allow_subdomains: Option<bool>,
    /// Whether IdP-initiated flows are allowed.
    pub allow_idp_initiated: Option<bool>,
    /// Whether additional identifications are disabled.
    pub disable_additional_identifications: Option<bool>,
    /// Creation (Unix ms).
    pub created_at: Option<i64>,
    /// Last update (Unix ms).
    pub updated_at: Option<i64>,
}

/// SCIM provisioning details of a user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ScimUserMetadata {
    /// The SCIM directory.
    #[serde(default)]
    pub directory_id: Option<String>,
    /// Whether the directory is enabled.
    pub directory_enabled: Option<bool>,
    /// The user's id in the directory.
    pub external_id: Option<String>,
}
