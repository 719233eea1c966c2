//! What the layer is configured with.

use std::sync::Arc;

use super::budget::UnverifiedBudget;
use super::streak::FailureStreak;
use crate::verify::Verifier;

/// The default [`with_body_limit`](crate::ClerkWebhookLayer::with_body_limit): 1 MiB, the largest
/// body Svix sends.
///
/// Clerk's events are a few KiB, the largest real ones (a user with many organization memberships,
/// a session carrying its user) a few tens of KiB; a smaller limit would refuse a genuine delivery
/// for all 28 hours of Svix's retries, so the default accepts every body Svix can send. What a
/// forged near-limit body can hold is bounded by the
/// [budget of unverified bytes](super::DEFAULT_UNVERIFIED_BUDGET), a quarter of which is kept for
/// bodies of at most 64 KiB, so genuine deliveries still get through while forged large ones fill
/// the rest.
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

/// How much of a verified body the layer reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Parsing {
    /// The envelope and the typed event.
    Typed,
    /// The envelope only: the route stores the delivery and a worker types it later.
    EnvelopeOnly,
}

#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) verifier: Verifier,
    pub(crate) body_limit: usize,
    pub(crate) unsupported: UnsupportedEvents,
    pub(crate) parsing: Parsing,
    /// What was asked for with `with_unverified_budget`; the budget itself is at least the body
    /// limit.
    pub(crate) budget_bytes: usize,
    pub(crate) budget: UnverifiedBudget,
    /// Shared by the layer's clones: the refusals in a row, for the loud signal.
    pub(crate) streak: Arc<FailureStreak>,
}

impl Config {
    pub(crate) fn new(verifier: Verifier) -> Self {
        let mut config = Self {
            verifier,
            body_limit: DEFAULT_BODY_LIMIT,
            unsupported: UnsupportedEvents::default(),
            parsing: Parsing::Typed,
            budget_bytes: super::DEFAULT_UNVERIFIED_BUDGET,
            budget: UnverifiedBudget::new(0, 0),
            streak: Arc::default(),
        };
        config.renew_budget();
        config
    }

    /// A fresh budget for the current settings: one body of the largest size always fits, so a
    /// budget below the body limit cannot refuse a genuine delivery on an idle server.
    pub(crate) fn renew_budget(&mut self) {
        let total = self.budget_bytes.max(self.body_limit);
        // A quarter kept for small bodies, as long as one body of the limit still fits.
        let reserve = (total / 4).min(total - self.body_limit);
        self.budget = UnverifiedBudget::new(total, reserve);
    }
}
