//! The Standard Webhooks (Svix) signature scheme, free of any framework.
//!
//! [`Verifier::verify`] takes the request headers and the raw body bytes and returns the
//! [`Delivery`] or the [`VerifyError`] saying why it was refused. Use it directly in frameworks other
//! than tower, in queue consumers, or in tests; the `ClerkWebhookLayer`
//! uses it for you.

mod delivery;
mod diagnosis;
mod error;
mod headers;
mod secret;
mod verifier;

pub use self::delivery::Delivery;
pub use self::diagnosis::{BodyVariant, Diagnosis, Finding, SignatureCheck};
pub use self::error::VerifyError;
pub(crate) use self::headers::CheckedHead;
pub(crate) use self::headers::{content_length, delivery_id};
pub use self::secret::{
    ConfigError, SecretError, SigningSecret, FALLBACK_SECRET_ENV_VAR, SECRET_ENV_VAR,
};
pub(crate) use self::verifier::{unix_secs, Signer};
pub use self::verifier::{Verifier, DEFAULT_TOLERANCE};
