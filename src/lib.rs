//! Receive Clerk webhooks safely: verify the Svix / Standard Webhooks signature of every delivery.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_auto_cfg))]

pub mod event;
mod extract;
pub mod layer;
mod secret;
pub mod verify;

pub use event::{parse_event, ClerkEvent, EventMeta};
pub use extract::MissingWebhookLayer;
pub use layer::ClerkWebhookLayer;
pub use secret::{
    ConfigError, SecretError, SigningSecret, FALLBACK_SECRET_ENV_VAR, SECRET_ENV_VAR,
};
pub use verify::{Delivery, Verifier, VerifyError, DEFAULT_TOLERANCE};

/// The README's examples, compiled and run as doc tests so the quick start keeps working.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
