//! What the layer is configured with.

use crate::verify::Verifier;

/// The default [`with_body_limit`](crate::ClerkWebhookLayer::with_body_limit): 1 MiB, far above any
/// Clerk event (a user with many identifications is a few KiB).
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// What to do with an authentic delivery of a known event type whose data does not fit this
/// version's model.
///
/// ```
/// use clerk_webhooks::layer::UnsupportedEvents;
/// use clerk_webhooks::{ClerkWebhookLayer, SigningSecret, Verifier};
///
/// // Receive such events as `ClerkEvent::Unparsed` rather than having Svix retry them.
/// let layer = ClerkWebhookLayer::new(Verifier::new(SigningSecret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?))
///     .with_unsupported_events(UnsupportedEvents::PassAsUnparsed);
/// # Ok::<(), clerk_webhooks::SecretError>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum UnsupportedEvents {
    /// Answer `422 Unprocessable Entity` with code `unsupported_event` and log at error level:
    /// Svix retries, the failure shows in the Clerk dashboard, and nothing is processed wrongly.
    #[default]
    Reject,
    /// Hand it to the handler as [`ClerkEvent::Unparsed`](crate::ClerkEvent::Unparsed) with the raw
    /// data and the path where it did not fit, and log at warn level.
    PassAsUnparsed,
}

#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) verifier: Verifier,
    pub(crate) body_limit: usize,
    pub(crate) unsupported: UnsupportedEvents,
}
