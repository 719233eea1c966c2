//! Every answer the crate gives instead of the service behind it: one type per failure, each with
//! its status, its stable code and its JSON body `{"error": CODE, "message": TEXT}` (the
//! [table](crate#error-codes) lists them), and, with the `axum` feature, `IntoResponse`, which logs
//! the rejection where it becomes a response ([`VerifyError`](crate::VerifyError) answers through
//! [`WebhookRejection`]). The message names headers, limits, event types and
//! field paths, never a value from the body or a secret.
//!
//! - The layer's: [`WebhookRejection`], one of [`VerifyError`](crate::VerifyError),
//!   [`PayloadTooLarge`], [`BodyError`], [`OutOfMemory`], [`Overloaded`], [`BodyTooSlow`],
//!   [`InvalidPayload`] or [`UnsupportedEvent`].
//! - De-duplication's: [`DeliveryInProgress`] and [`StoreUnavailable`].
//! - The queue route's: [`QueueUnavailable`].
//! - Everything that needs the layer in front of it: [`MissingWebhookLayer`].
//!
//! (The sync's answers are `SyncError` in clerk-webhooks-sqlx.)

mod dedupe;
mod layer;
mod missing_layer;
mod queue;

pub use self::dedupe::{DeliveryInProgress, StoreUnavailable};
pub(crate) use self::layer::LogContext;
pub use self::layer::{
    BodyError, BodyTooSlow, InvalidPayload, OutOfMemory, Overloaded, PayloadTooLarge,
    UnsupportedEvent, WebhookRejection,
};
pub use self::missing_layer::MissingWebhookLayer;
pub use self::queue::QueueUnavailable;
