//! axum extractors for what [`ClerkWebhookLayer`](crate::ClerkWebhookLayer) puts in the request
//! extensions.

use axum_core::extract::FromRequestParts;
use axum_core::response::{IntoResponse, Response};
use http::header::CONTENT_TYPE;
use http::request::Parts;
use http::{HeaderValue, StatusCode};

use crate::event::{ClerkEvent, EventMeta};
use crate::verify::{error_json, Delivery};

/// The rejection of the [`ClerkEvent`], [`EventMeta`] and [`Delivery`] extractors when the route
/// has no [`ClerkWebhookLayer`](crate::ClerkWebhookLayer): a server bug, answered with `500` and a
/// message naming the fix.
///
/// ```
/// use axum_core::response::IntoResponse;
/// use clerk_webhooks::MissingWebhookLayer;
///
/// let response = MissingWebhookLayer::new("ClerkEvent").into_response();
/// assert_eq!(response.status(), 500);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "{extractor} was extracted on a route without ClerkWebhookLayer: add \
     `.route_layer(ClerkWebhookLayer::...)` to the webhook route"
)]
pub struct MissingWebhookLayer {
    extractor: &'static str,
}

impl MissingWebhookLayer {
    /// The rejection for the extractor named `extractor`.
    ///
    /// ```
    /// use clerk_webhooks::MissingWebhookLayer;
    ///
    /// let rejection = MissingWebhookLayer::new("Delivery");
    /// assert!(rejection.to_string().starts_with("Delivery was extracted"));
    /// ```
    pub fn new(extractor: &'static str) -> Self {
        Self { extractor }
    }
}

impl IntoResponse for MissingWebhookLayer {
    fn into_response(self) -> Response {
        let body = error_json("missing_webhook_layer", &self.to_string());
        let mut response = (StatusCode::INTERNAL_SERVER_ERROR, body).into_response();
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        response
    }
}

/// Clones the value the layer inserted; a clone, not a take, so several extractors (or a
/// middleware and the handler) can all read it.
fn from_extensions<T: Clone + Send + Sync + 'static>(
    parts: &Parts,
    name: &'static str,
) -> Result<T, MissingWebhookLayer> {
    parts
        .extensions
        .get::<T>()
        .cloned()
        .ok_or(MissingWebhookLayer::new(name))
}

/// Extracts the verified, typed event. Works in any argument position, beside `Bytes` or `Json`.
///
/// ```
/// use axum::http::StatusCode;
/// use bytes::Bytes;
/// use clerk_webhooks::ClerkEvent;
///
/// async fn handler(event: ClerkEvent, raw: Bytes) -> StatusCode {
///     println!("{} ({} bytes)", event.event_type(), raw.len());
///     StatusCode::OK
/// }
/// # let _: axum::routing::MethodRouter = axum::routing::post(handler);
/// ```
impl<S: Sync> FromRequestParts<S> for ClerkEvent {
    type Rejection = MissingWebhookLayer;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        from_extensions(parts, "ClerkEvent")
    }
}

/// Extracts the envelope metadata of the verified event.
///
/// ```
/// use clerk_webhooks::EventMeta;
///
/// async fn handler(meta: EventMeta) -> String {
///     format!("{:?}", meta.instance_id)
/// }
/// # let _: axum::routing::MethodRouter = axum::routing::post(handler);
/// ```
impl<S: Sync> FromRequestParts<S> for EventMeta {
    type Rejection = MissingWebhookLayer;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        from_extensions(parts, "EventMeta")
    }
}

/// Extracts the delivery's `svix-id` and timestamp, the key for de-duplication.
///
/// ```
/// use clerk_webhooks::Delivery;
///
/// async fn handler(delivery: Delivery) -> String {
///     delivery.id().to_owned()
/// }
/// # let _: axum::routing::MethodRouter = axum::routing::post(handler);
/// ```
impl<S: Sync> FromRequestParts<S> for Delivery {
    type Rejection = MissingWebhookLayer;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        from_extensions(parts, "Delivery")
    }
}
