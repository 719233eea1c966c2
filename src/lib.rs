#![doc = include_str!("../README.md")]
//!
//! # Where things are
//!
//! Each public item has one path, in the module of its concept; what an app names (the layer, the
//! verifier and its secret, the event, its metadata, the delivery, and their errors) is also
//! re-exported at the crate root:
//! - [`guide`]: how to fit the crate into an app, one topic per page;
//! - [`event`]: the data types of Clerk's events;
//! - [`layer`]: the layer, its service, its bodies and its future;
//! - [`rejection`]: every answer the crate gives instead of your service, with its status and code;
//! - [`dedupe`]: processing each delivery once;
//! - [`queue`]: answer fast, process later: the route that hands verified deliveries to a durable
//!   queue, and what every queue backend shares;
//! - `testing` (cargo feature `test-util`): signed requests and sample bodies for your tests.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![deny(unreachable_pub)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[macro_use]
mod macros;

mod auto_traits;
pub mod dedupe;
pub mod event;
#[cfg(feature = "axum")]
mod extract;
#[cfg(any(doc, doctest))]
pub mod guide;
pub mod layer;
mod metrics;
pub mod queue;
mod reading;
pub mod rejection;
mod response;
#[cfg(feature = "test-util")]
pub mod testing;
mod verify;

pub use event::catalog::ClerkEvent;
pub use event::envelope::{EventMeta, ParsedEvent};
pub use event::error::EventError;
pub use layer::ClerkWebhookLayer;
pub use reading::parse_event;
pub use verify::{
    BodyVariant, ConfigError, Delivery, Diagnosis, Finding, SecretError, SignatureCheck,
    SigningSecret, Verifier, VerifyError, DEFAULT_TOLERANCE, FALLBACK_SECRET_ENV_VAR,
    SECRET_ENV_VAR,
};

/// `parse_event` (with the layer's lenient mode) and the two-pass reading it falls back to, and the
/// one-pass reading's JSON reader, for the differential fuzz targets (`fuzz/fuzz_targets/
/// parse_paths.rs`, `json_reader.rs`); built only under cargo-fuzz.
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod __fuzzing {
    use crate::{ClerkEvent, EventError, EventMeta};

    /// What the layer reads: the one-pass reading when it can, else the two-pass one.
    pub fn parse_event_with(
        body: &[u8],
        lenient: bool,
    ) -> Result<(ClerkEvent, EventMeta), EventError> {
        crate::reading::parse_event_with(body, lenient)
    }

    /// The two-pass reading alone.
    pub fn parse_event_two_pass(
        body: &[u8],
        lenient: bool,
    ) -> Result<(ClerkEvent, EventMeta), EventError> {
        crate::reading::parse_event_two_pass(body, lenient)
    }

    /// `text` read into a `Value` by the one-pass reading's own JSON reader; `None` where it
    /// declines (and serde_json would decide).
    pub fn read_value_one_pass(text: &str) -> Option<serde_json::Value> {
        crate::reading::json_reader::read_value(text)
    }
}

/// What the backend packages (clerk-webhooks-redis, clerk-webhooks-sqlx) share with this crate: the
/// JSON answers, the metrics and the logging switch. Not public API: no semver promise, for the workspace's
/// packages only.
#[doc(hidden)]
pub mod __private {
    pub use crate::dedupe::store::FOREVER;
    pub use crate::response::{error_json, json_response, rejection_response};

    /// The log macros: through `tracing` with this crate's `tracing` feature, else nothing (and
    /// their arguments are not evaluated).
    pub mod log {
        pub use crate::{__debug as debug, __error as error, __info as info, __warn as warn};
    }

    /// The body is not a JSON envelope (`err`, described without the body's values).
    pub fn invalid_envelope(err: &serde_json::Error) -> crate::EventError {
        crate::EventError::invalid_envelope(err)
    }

    /// The metrics the backends record (through this crate's `metrics` feature, which theirs
    /// turns on), named and described with the rest.
    pub mod metrics {
        pub use crate::metrics::{describe, job, sync};
    }
    #[cfg(feature = "tracing")]
    pub use tracing;
}

/// The boxed error type that request bodies and stores may fail with.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
