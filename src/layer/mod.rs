//! The tower middleware: [`ClerkWebhookLayer`] (also at the crate root) and its service
//! [`ClerkWebhook`].
//!
//! Works wherever tower services do: axum (`MethodRouter::route_layer`), plain hyper (through
//! `hyper_util::service::TowerToHyperService`), tonic, and `ServiceBuilder` stacks. The inner
//! service receives a `Request<`[`WebhookBody`]`>` whose extensions hold the
//! [`ClerkEvent`](crate::ClerkEvent), [`EventMeta`](crate::EventMeta) and
//! [`Delivery`](crate::Delivery); refused deliveries never reach it and are answered with a
//! [`WebhookRejection`](crate::rejection::WebhookRejection).

pub(crate) mod body;
mod budget;
mod buffer;
mod config;
mod future;
#[allow(clippy::module_inception)] // one file per concept, as in tower-http
pub(crate) mod layer;
mod pipeline;
mod service;
mod streak;

pub use self::body::{ResponseBody, WebhookBody};
pub use self::budget::DEFAULT_UNVERIFIED_BUDGET;
pub use self::config::{
    UnsupportedEvents, DEFAULT_BODY_GRACE, DEFAULT_BODY_LIMIT, DEFAULT_MIN_BODY_RATE,
};
pub use self::future::ResponseFuture;
pub use self::layer::ClerkWebhookLayer;
pub use self::service::ClerkWebhook;
