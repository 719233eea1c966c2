//! What the layer was configured with, and turning a buffered request into a verified one.

use bytes::Bytes;
use http::request::Parts;
use http::{Request, StatusCode};

use super::{Rejection, WebhookBody};
use crate::event::{parse_event_with, EventError};
use crate::verify::{Verifier, VerifyError};

/// The default [`body_limit`](super::ClerkWebhookLayer::body_limit): 1 MiB, far above any Clerk
/// event (a user with many identifications is a few KiB).
///
/// ```
/// use clerk_webhooks::layer::DEFAULT_BODY_LIMIT;
/// assert_eq!(DEFAULT_BODY_LIMIT, 1024 * 1024);
/// ```
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// What to do with an authentic delivery of a known event type whose data does not fit this
/// version's model.
///
/// ```
/// use clerk_webhooks::layer::UnsupportedEvents;
///
/// assert_eq!(UnsupportedEvents::default(), UnsupportedEvents::Reject);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum UnsupportedEvents {
    /// Answer `422 Unprocessable Entity` with code `unsupported_event` and log at error level:
    /// Svix retries, the failure shows in the Clerk dashboard, and nothing is processed wrongly.
    #[default]
    Reject,
    /// Hand it to the handler as [`ClerkEvent::Unknown`](crate::ClerkEvent::Unknown) with the raw
    /// data, and log at warn level.
    PassAsUnknown,
}

#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) verifier: Verifier,
    pub(crate) body_limit: usize,
    pub(crate) unsupported: UnsupportedEvents,
}

impl Config {
    /// Verifies the bytes, parses the event once, and hands on a request whose extensions hold the
    /// event, its metadata and the delivery, and whose body is the same bytes.
    pub(crate) fn accept(
        &self,
        mut parts: Parts,
        body: Bytes,
    ) -> Result<Request<WebhookBody>, Rejection> {
        let delivery = self
            .verifier
            .verify(&parts.headers, &body)
            .map_err(|err| Rejection::verify(err, &parts.headers))?;
        let lenient = self.unsupported == UnsupportedEvents::PassAsUnknown;
        let (event, meta) = parse_event_with(&body, lenient).map_err(|err| match err {
            EventError::InvalidEnvelope { reason } => {
                Rejection::verify(VerifyError::InvalidPayload { reason }, &parts.headers)
            }
            unsupported => {
                let log_detail = match &unsupported {
                    EventError::UnsupportedData {
                        event_type, path, ..
                    } => format!("the data of {event_type} does not fit the model at {path}"),
                    other => other.code().to_owned(),
                };
                Rejection::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    unsupported.code(),
                    unsupported.to_string(),
                    &log_detail,
                    &parts.headers,
                )
            }
        })?;
        #[cfg(feature = "tracing")]
        if lenient {
            if let crate::ClerkEvent::Unknown(unknown) = &event {
                if crate::ClerkEvent::KNOWN_TYPES.contains(&unknown.event_type.as_str()) {
                    tracing::warn!(
                        svix_id = delivery.id(),
                        event_type = %unknown.event_type,
                        "clerk webhook: event data does not fit the model; passed on as Unknown"
                    );
                }
            }
        }
        parts.extensions.insert(event);
        parts.extensions.insert(meta);
        parts.extensions.insert(delivery);
        Ok(Request::from_parts(parts, WebhookBody::new(body)))
    }
}
