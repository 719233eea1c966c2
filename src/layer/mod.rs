//! The tower middleware: [`ClerkWebhookLayer`] and its service [`ClerkWebhook`].
//!
//! Works wherever tower services do: axum (`Router::route_layer`), plain hyper (through
//! `hyper_util::service::TowerToHyperService`), tonic, and `ServiceBuilder` stacks. The inner
//! service receives a `Request<`[`WebhookBody`]`>` whose extensions hold the
//! [`ClerkEvent`](crate::ClerkEvent), [`EventMeta`](crate::EventMeta) and
//! [`Delivery`](crate::Delivery); refused deliveries never reach it.
//!
//! Every refusal is a small JSON body `{"error": CODE, "message": TEXT}` with
//! `content-type: application/json`: the codes of [`VerifyError`](crate::VerifyError) (400, or 413
//! for `payload_too_large`), and `unsupported_event` (422) for an authentic event of a known type
//! whose data this version cannot model (see [`UnsupportedEvents`]).

mod body;
mod config;
mod future;
#[allow(clippy::module_inception)] // one file per concept, as in tower-http
mod layer;
mod rejection;
mod service;

pub(crate) use self::body::BodyBuffer;
pub use self::body::{ResponseBody, WebhookBody};
pub use self::config::{UnsupportedEvents, DEFAULT_BODY_LIMIT};
pub use self::future::ResponseFuture;
pub use self::layer::ClerkWebhookLayer;
pub(crate) use self::rejection::Rejection;
pub use self::service::{BoxError, ClerkWebhook};
