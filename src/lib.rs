//! Receive Clerk webhooks safely in any tower-based server: verify the Svix / Standard Webhooks
//! signature of every delivery, then hand handlers a typed [`ClerkEvent`].
//!
//! ```no_run
//! use axum::{http::StatusCode, routing::post, Router};
//! use clerk_webhooks::{ClerkEvent, ClerkWebhookLayer};
//!
//! async fn on_clerk(event: ClerkEvent) -> StatusCode {
//!     if let ClerkEvent::UserCreated(user) = event {
//!         println!("welcome {}", user.id);
//!     }
//!     StatusCode::OK // every other event still gets a 200, so Clerk does not retry
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let app: Router = Router::new()
//!     .route("/webhooks/clerk", post(on_clerk).route_layer(ClerkWebhookLayer::from_env()?));
//! # Ok(()) }
//! ```
//!
//! The parts work alone too:
//! - [`Verifier`]: headers and raw bytes in, [`Delivery`] or [`VerifyError`] out; no framework.
//! - [`event`]: the typed model and [`parse_event`], for bodies verified elsewhere or stored.
//! - [`layer`]: the tower middleware, for axum, hyper and tonic.
//!
//! Refusals carry a stable code ([`VerifyError::code`]) and a JSON body; see the README's table.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_auto_cfg))]

pub mod dedupe;
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
