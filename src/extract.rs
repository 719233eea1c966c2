//! axum extractors for what [`ClerkWebhookLayer`](crate::ClerkWebhookLayer) puts in the request
//! extensions.

use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
use http::request::Parts;

use crate::event::catalog::ClerkEvent;
use crate::event::envelope::EventMeta;
use crate::layer::rejection::MissingWebhookLayer;
use crate::verify::Delivery;

/// Clones the value the layer inserted; a clone, not a take, so several extractors (or a
/// middleware and the handler) can all read it.
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
    ClerkEvent,
    "Extracts the verified, typed event. Works in any argument position, beside `Bytes` or `Json`."
);
extractor!(
    EventMeta,
    "Extracts the envelope metadata of the verified event."
);
extractor!(
    Delivery,
    "Extracts the delivery's `svix-id` and timestamp, the key for de-duplication."
);
