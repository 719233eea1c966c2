//! What the layer is configured with.

use std::num::NonZeroU64;
use std::sync::Arc;
use std::time::Duration;

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

/// The default rate of [`with_min_body_rate`](crate::ClerkWebhookLayer::with_min_body_rate):
/// once [`DEFAULT_BODY_GRACE`] has passed, a body not verified yet must keep arriving at 64 KiB/s
/// or faster, or be refused with `408` (code `body_too_slow`).
///
/// No genuine delivery trips it. Svix sends bodies of at most 1 MiB, from data centers, and gives
/// up on a request after 15 s. A body is refused `t` seconds after the layer first waited for it
/// only if it has sent fewer than `(t - 5) * 64 KiB` bytes by then: before Svix gives up, only a
/// body still short of 64 KiB after 6 s, of 320 KiB after 10 s, or of 640 KiB after 15 s. A
/// delivery of a few KiB (nearly all of Clerk's) arrives in one round trip, and a body of 1 MiB
/// sent at under 64 KiB/s would take 16 s, longer than Svix waits anyway.
///
/// What it buys: a forged request can hold at most the body limit, for at most
/// `grace + limit / rate` (21 s at the defaults), before it is refused; an attacker keeping the
/// [budget of unverified bytes](super::DEFAULT_UNVERIFIED_BUDGET) full must send it again and
/// again (about 2 MiB per second at the least, as the operations guide's "What an unauthenticated
/// request can cost", [`guide::operations`](crate::guide::operations), works out), where before it
/// sent it once and stalled.
pub const DEFAULT_MIN_BODY_RATE: u64 = 64 * 1024;

/// The default grace of [`with_min_body_rate`](crate::ClerkWebhookLayer::with_min_body_rate):
/// 5 s from the moment the layer first waits for the body, before the
/// [minimum rate](DEFAULT_MIN_BODY_RATE) applies. Long enough for a slow start (a congested path,
/// TCP's slow start, a lost packet's retransmission, several times over), a third of Svix's own
/// 15 s timeout.
pub const DEFAULT_BODY_GRACE: Duration = Duration::from_secs(5);

/// The least rate at which a body not verified yet must arrive: the deadline for a body that has
/// sent `received` bytes is `start + grace + received / bytes_per_sec`, where `start` is when the
/// layer first waited for the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MinBodyRate {
    pub(crate) bytes_per_sec: NonZeroU64,
    pub(crate) grace: Duration,
}

impl MinBodyRate {
    /// `None` for a rate of zero, which is no minimum.
    pub(crate) fn new(bytes_per_sec: u64, grace: Duration) -> Option<Self> {
        NonZeroU64::new(bytes_per_sec).map(|bytes_per_sec| Self {
            bytes_per_sec,
            grace,
        })
    }

    /// How long after `start` a body that has sent `received` bytes may take to send more:
    /// `grace + received / bytes_per_sec` (saturating: a huge allowance is no deadline).
    pub(crate) fn allowance(&self, received: usize) -> Duration {
        let nanos = received as u128 * 1_000_000_000 / u128::from(self.bytes_per_sec.get());
        let earned = Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX));
        self.grace.saturating_add(earned)
    }
}

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
    /// The deadline of bodies not verified yet; `None` when turned off. Kept by tokio's timer with
    /// the `tokio` feature inside a runtime that has one, else checked as the body sends more.
    pub(crate) min_body_rate: Option<MinBodyRate>,
    /// Set, for the layer and its clones, once the tokio runtime turned out to have no timer.
    pub(crate) no_timer: Arc<std::sync::atomic::AtomicBool>,
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
            min_body_rate: MinBodyRate::new(DEFAULT_MIN_BODY_RATE, DEFAULT_BODY_GRACE),
            no_timer: Arc::default(),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(bytes_per_sec: u64, grace: Duration) -> MinBodyRate {
        MinBodyRate::new(bytes_per_sec, grace).unwrap()
    }

    #[test]
    fn the_allowance_is_the_grace_and_what_the_bytes_earned() {
        let default = Config::new(crate::Verifier::new(
            crate::SigningSecret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap(),
        ))
        .min_body_rate
        .unwrap();
        assert_eq!(default.allowance(0), Duration::from_secs(5));
        assert_eq!(default.allowance(64 * 1024), Duration::from_secs(6));
        // A body of the default limit has 21 s, past Svix's 15 s.
        assert_eq!(
            default.allowance(super::DEFAULT_BODY_LIMIT),
            Duration::from_secs(21)
        );
        assert_eq!(
            rate(3, Duration::ZERO).allowance(1),
            Duration::from_nanos(333_333_333)
        );
    }

    #[test]
    fn a_huge_allowance_saturates_instead_of_overflowing() {
        assert_eq!(rate(1, Duration::MAX).allowance(usize::MAX), Duration::MAX);
        assert_eq!(
            rate(1, Duration::ZERO).allowance(usize::MAX),
            Duration::from_nanos(u64::MAX)
        );
    }
}
