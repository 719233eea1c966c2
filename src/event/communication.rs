//! Emails and SMS messages Clerk sends (or asks you to send).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// An email Clerk sent or, with delivery turned off, asks you to send (`email.created`).
///
/// ```
/// use clerk_webhooks::event::Email;
///
/// let email: Email = serde_json::from_str(r#"{"id":"ema_1","slug":"verification_code",
///     "to_email_address":"ada@example.com","delivered_by_clerk":false,
///     "data":{"otp_code":"012345"}}"#)?;
/// assert_eq!(email.otp_code(), Some("012345"));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Email {
    /// The email id.
    pub id: String,
    /// Always `email`.
    pub object: Option<String>,
    /// The template (`verification_code`, `magic_link_sign_in`, `invitation`, ...).
    pub slug: Option<String>,
    /// The sender name.
    pub from_email_name: Option<String>,
    /// The reply-to name.
    pub reply_to_email_name: Option<String>,
    /// The recipient.
    pub to_email_address: Option<String>,
    /// The recipient's identification id.
    pub email_address_id: Option<String>,
    /// The recipient user.
    pub user_id: Option<String>,
    /// The subject.
    pub subject: Option<String>,
    /// The HTML body.
    pub body: Option<String>,
    /// The plain-text body.
    pub body_plain: Option<String>,
    /// The delivery status.
    pub status: Option<String>,
    /// The template variables (OTP code, links, app name, ...).
    #[serde(default)]
    pub data: Value,
    /// Whether Clerk delivered it (`false`: you are expected to).
    #[serde(default)]
    pub delivered_by_clerk: Option<bool>,
}

impl Email {
    /// The one-time code in the template variables, as a string (it can start with zeros).
    ///
    /// ```
    /// # let email: clerk_webhooks::event::Email = serde_json::from_str(r#"{"id":"ema_1","data":{}}"#)?;
    /// assert_eq!(email.otp_code(), None);
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn otp_code(&self) -> Option<&str> {
        self.data.get("otp_code")?.as_str()
    }
}

/// An SMS Clerk sent or, with delivery turned off, asks you to send (`sms.created`).
///
/// ```
/// use clerk_webhooks::event::SmsMessage;
///
/// let sms: SmsMessage = serde_json::from_str(r#"{"id":"sms_1","to_phone_number":"+15555550100",
///     "message":"Your code is 000123","data":{"otp_code":"000123"}}"#)?;
/// assert_eq!(sms.otp_code(), Some("000123"));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SmsMessage {
    /// The message id.
    pub id: String,
    /// Always `sms_message`.
    pub object: Option<String>,
    /// The template.
    pub slug: Option<String>,
    /// The sender number.
    pub from_phone_number: Option<String>,
    /// The recipient number.
    #[serde(default)]
    pub to_phone_number: Option<String>,
    /// The recipient's identification id.
    pub phone_number_id: Option<String>,
    /// The recipient user.
    pub user_id: Option<String>,
    /// The text.
    #[serde(default)]
    pub message: Option<String>,
    /// The delivery status.
    pub status: Option<String>,
    /// The template variables.
    #[serde(default)]
    pub data: Value,
    /// Whether Clerk delivered it.
    #[serde(default)]
    pub delivered_by_clerk: Option<bool>,
    /// Creation (Unix ms), as the spec names it.
    pub created_at_ms: Option<i64>,
    /// Creation (Unix ms), as the spec's own example names it.
    pub created_at: Option<i64>,
}

impl SmsMessage {
    /// The one-time code in the template variables, as a string.
    ///
    /// ```
    /// # let sms: clerk_webhooks::event::SmsMessage = serde_json::from_str(r#"{"id":"sms_1"}"#)?;
    /// assert_eq!(sms.otp_code(), None);
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn otp_code(&self) -> Option<&str> {
        self.data.get("otp_code")?.as_str()
    }
}
