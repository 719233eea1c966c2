//! axum extractors for what [`ClerkWebhookLayer`](crate::ClerkWebhookLayer) puts in the request
//! extensions.

use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
use axum_core::response::{IntoResponse, Response};
use http::request::Parts;
use http::StatusCode;

use crate::response::{error_json, json_response};
use crate::{ClerkEvent, Delivery, EventMeta};

/// The rejection of the [`ClerkEvent`], [`EventMeta`] and [`Delivery`] extractors when the route
/// has no [`ClerkWebhookLayer`](crate::ClerkWebhookLayer): a server bug, answered with `500`, code
/// `missing_webhook_layer`, and a message naming the fix.
///
/// Extract `Option<ClerkEvent>` (or `Option<Delivery>`, `Option<EventMeta>`) in a handler that
/// also serves requests without the layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "{extractor} was extracted on a route without ClerkWebhookLayer: add \
     `.route_layer(ClerkWebhookLayer::...)` to the webhook route"
)]
pub struct MissingWebhookLayer {
    extractor: &'static str,
}

impl MissingWebhookLayer {
    /// The HTTP status of the answer: `500 Internal Server Error`.
    pub fn status(&self) -> StatusCode {
        StatusCode::INTERNAL_SERVER_ERROR
    }

    /// The JSON body of the answer: `{"error": "missing_webhook_layer", "message": TEXT}`.
    pub fn body_text(&self) -> String {
        error_json("missing_webhook_layer", &self.to_string())
    }
}

impl IntoResponse for MissingWebhookLayer {
    fn into_response(self) -> Response {
        #[cfg(feature = "tracing")]
        tracing::error!(extractor = self.extractor, "{self}");
        json_response(self.status(), self.body_text()).into_response()
    }
}

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
        .ok_or(MissingWebhookLayer { extractor })
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
