//! When a failed job runs again, and when it is given up.

use std::fmt;
use std::time::Duration;

/// How a queue worker (clerk-webhooks-redis's `Worker`) retries a job whose handler failed: `retries` more runs after
/// the first, the first retry after about `first`, each pause doubling up to `max`, with up to
/// half again of random spread so that a backlog does not come back all at once. After the last
/// retry fails the job is dead (its backend lists it, to re-queue); the limit you set is
/// the limit that applies.
///
/// The default, [`DEFAULT_RETRIES`] retries from 30 seconds to 2 hours, spans about 30 hours, in
/// the spirit of Svix's own schedule (about 28 hours): a database outage of an afternoon ends with
/// every job done, none dead.
///
/// ```
/// use std::time::Duration;
/// use clerk_webhooks::queue::RetryPolicy;
///
/// # fn main() -> Result<(), clerk_webhooks::queue::InvalidRetryPolicy> {
/// // Three runs in all, a minute apart and more: for work that is pointless once stale.
/// let policy = RetryPolicy::new(2, Duration::from_secs(60), Duration::from_secs(300))?;
/// # let _ = policy;
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    retries: u32,
    first: Duration,
    max: Duration,
}

/// The retries of the default [`RetryPolicy`]: with its backoff, about 30 hours of attempts.
pub const DEFAULT_RETRIES: u32 = 22;

impl RetryPolicy {
    /// `retries` runs after the first, the first after about `first`, doubling up to `max`.
    ///
    /// # Errors
    ///
    /// [`InvalidRetryPolicy`] when `first` is zero or `max` is below `first`: call it at startup.
    pub fn new(retries: u32, first: Duration, max: Duration) -> Result<Self, InvalidRetryPolicy> {
        if first.is_zero() || max < first {
            return Err(InvalidRetryPolicy { first, max });
        }
        Ok(Self {
            retries,
            first,
            max,
        })
    }

    /// No retry: a job whose handler fails once is dead.
    pub fn never() -> Self {
        Self {
            retries: 0,
            ..Self::default()
        }
    }

    /// After attempt `attempt` (1 for the first run) failed: the pause before the next run, or
    /// `None` when it was the last. `spread` is a random number; it stretches the pause by up to
    /// half.
    pub fn after_failure(&self, attempt: u32, spread: u64) -> Option<Duration> {
        if attempt > self.retries {
            return None;
        }
        let doublings = attempt.saturating_sub(1).min(31);
        let pause = self
            .first
            .saturating_mul(1 << doublings)
            .min(self.max)
            .as_secs_f64();
        // `spread` mapped onto [0, 0.5).
        let stretch = 1.0 + (spread % 1_000_000) as f64 / 2_000_000.0;
        Some(Duration::try_from_secs_f64(pause * stretch).unwrap_or(self.max))
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            retries: DEFAULT_RETRIES,
            first: Duration::from_secs(30),
            max: Duration::from_secs(2 * 60 * 60),
        }
    }
}

impl fmt::Debug for RetryPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryPolicy")
            .field("retries", &self.retries)
            .field("first", &self.first)
            .field("max", &self.max)
            .finish()
    }
}

/// A [`RetryPolicy`] whose pauses cannot be: the first is zero, or the longest is shorter than
/// the first.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid retry policy: the first pause ({first:?}) must be above zero and at most the \
     longest ({max:?})"
)]
pub struct InvalidRetryPolicy {
    first: Duration,
    max: Duration,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_set_is_the_limit_that_applies() {
        let policy = RetryPolicy::new(2, Duration::from_secs(1), Duration::from_secs(4)).unwrap();
        assert!(policy.after_failure(1, 0).is_some());
        assert!(policy.after_failure(2, 0).is_some());
        assert_eq!(policy.after_failure(3, 0), None);
        assert_eq!(RetryPolicy::never().after_failure(1, 0), None);
    }

    #[test]
    fn pauses_double_up_to_the_longest_and_spread_by_at_most_half() {
        let policy =
            RetryPolicy::new(40, Duration::from_secs(30), Duration::from_secs(7200)).unwrap();
        assert_eq!(policy.after_failure(1, 0), Some(Duration::from_secs(30)));
        assert_eq!(policy.after_failure(2, 0), Some(Duration::from_secs(60)));
        assert_eq!(policy.after_failure(40, 0), Some(Duration::from_secs(7200)));
        let stretched = policy.after_failure(1, 999_999).unwrap();
        assert!(stretched > Duration::from_secs(44) && stretched < Duration::from_secs(45));
    }

    #[test]
    fn the_default_spans_about_thirty_hours() {
        let policy = RetryPolicy::default();
        let total: Duration = (1..=DEFAULT_RETRIES)
            .map(|attempt| policy.after_failure(attempt, 0).unwrap())
            .sum();
        assert!(total > Duration::from_secs(29 * 3600) && total < Duration::from_secs(31 * 3600));
        assert_eq!(policy.after_failure(DEFAULT_RETRIES + 1, 0), None);
    }

    #[test]
    fn the_longest_pauses_do_not_overflow() {
        let policy = RetryPolicy::new(3, Duration::MAX, Duration::MAX).unwrap();
        assert_eq!(policy.after_failure(2, 999_999), Some(Duration::MAX));
    }

    #[test]
    fn impossible_pauses_are_refused() {
        assert!(RetryPolicy::new(1, Duration::ZERO, Duration::from_secs(1)).is_err());
        let err = RetryPolicy::new(1, Duration::from_secs(2), Duration::from_secs(1)).unwrap_err();
        assert!(err.to_string().contains("at most the longest"));
    }
}

/// A handler's failure that no retry can fix (a delivery the app can never process until its code
/// changes): the job is dead at once, with status `Killed`, kept for an operator to re-queue
/// (clerk-webhooks-redis's `requeue_dead`, or the tool's `queue requeue`) once the fix is deployed.
///
/// ```
/// use clerk_webhooks::queue::{Abort, QueuedDelivery};
/// use clerk_webhooks::BoxError;
///
/// async fn process(job: QueuedDelivery) -> Result<(), BoxError> {
///     // A body this version of the model cannot read stays unreadable however often it runs.
///     let event = job.event().map_err(|err| Abort::new(err.to_string()))?;
///     # let _ = event;
///     Ok(())
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Abort(String);

impl Abort {
    /// An abort that says why.
    pub fn new(reason: impl Into<String>) -> Self {
        Self(reason.into())
    }
}
