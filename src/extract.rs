//! axum extractors for what [`ClerkWebhookLayer`](crate::ClerkWebhookLayer) puts in the request
//! extensions.

use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
use bytes::Bytes;
use http::request::Parts;

use crate::event::catalog::ClerkEvent;
use crate::event::envelope::EventMeta;
use crate::reading::parse_event_with;
use crate::rejection::MissingWebhookLayer;
use crate::verify::Delivery;

/// Clones the value the layer inserted (the metadata or the delivery: a few short strings), so
/// several extractors (or a middleware and the handler) can all read it.
fn from_extensions<T: Clone + Send + Sync + 'static>(
    parts: &Parts,
    extractor: &'static str,
) -> Result<T, MissingWebhookLayer> {
    parts
        .extensions
        .get::<T>()
        .cloned()
        .ok_or_else(|| MissingWebhookLayer::extractor(extractor))
}

/// The verified body and how the layer typed it, kept beside the event: the [`ClerkEvent`]
/// extractor takes the event out of the extensions rather than copying it (a copy costs about a
/// sixth of the parse), and when an earlier extractor took it already (a middleware and the
/// handler both extracting), types it again from these bytes.
#[derive(Clone)]
pub(crate) struct TypedBody {
    body: Bytes,
    lenient: bool,
}

impl TypedBody {
    pub(crate) fn new(body: Bytes, lenient: bool) -> Self {
        Self { body, lenient }
    }

    /// The event the layer read from this body; the same bytes read the same way again, so it
    /// is only `None` if the extensions were tampered with.
    fn event(&self) -> Option<ClerkEvent> {
        parse_event_with(&self.body, self.lenient)
            .ok()
            .map(|(event, _)| event)
    }
}

/// The event, moved out of the extensions; typed again from the body after the first taker.
fn take_event(parts: &mut Parts) -> Option<ClerkEvent> {
    parts
        .extensions
        .remove::<ClerkEvent>()
        .or_else(|| parts.extensions.get::<TypedBody>()?.event())
}

/// Extracts the verified, typed event. Works in any argument position, beside `Bytes` or `Json`.
///
/// The event is moved out of the request's extensions, not copied: a handler gets it for free.
/// Extracting it a second time (in a middleware, then in the handler) types it again from the
/// verified body, so both get the same event; only a plain tower service after such a middleware
/// would find `extensions().get::<ClerkEvent>()` empty.
impl<S: Sync> FromRequestParts<S> for ClerkEvent {
    type Rejection = MissingWebhookLayer;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        take_event(parts).ok_or_else(|| MissingWebhookLayer::extractor("ClerkEvent"))
    }
}

/// `None` on a route without the layer, instead of a 500.
impl<S: Sync> OptionalFromRequestParts<S> for ClerkEvent {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(take_event(parts))
    }
}

macro_rules! extractor {
    ($type:ident, $doc:literal) => {
        #[doc = $doc]
        impl<S: Sync> FromRequestParts<S> for $type {
            type Rejection = MissingWebhookLayer;

            async fn from_request_parts(
                parts: &mut Parts,
                _state: &S,
            ) -> Result<Self, Self::Rejection> {
                from_extensions(parts, stringify!($type))
            }
        }

        /// `None` on a route without the layer, instead of a 500.
        impl<S: Sync> OptionalFromRequestParts<S> for $type {
            type Rejection = std::convert::Infallible;

            async fn from_request_parts(
                parts: &mut Parts,
                _state: &S,
            ) -> Result<Option<Self>, Self::Rejection> {
                Ok(parts.extensions.get::<$type>().cloned())
            }
        }
    };
}

extractor!(
    EventMeta,
    "Extracts the envelope metadata of the verified event."
);
extractor!(
    Delivery,
    "Extracts the delivery's `svix-id` and timestamp, the key for de-duplication."
);
