//! The loud signal: when every delivery for a while has been refused for the same reason, say once,
//! at `error`, what is wrong and what to do.
//!
//! A receiver fails quietly: a rotated secret, a proxy that re-encodes bodies or a drifted clock
//! refuses every delivery, each refusal one `warn` line among the scanners'. The rule:
//! - only refusals a genuine Clerk delivery could meet through a misconfiguration count (a bad
//!   signature, a timestamp outside the window, a body the layer cannot take or read); requests
//!   without well-formed Svix headers, what scanners send, neither count nor break a streak;
//! - the signal is raised after [`MIN_REFUSALS`] such refusals in a row for one code, spanning at
//!   least [`MIN_SPAN`] with no delivery accepted in between, then stays quiet;
//! - any accepted delivery ends the streak (and says so if the signal was raised). Forged traffic
//!   therefore cannot raise it while genuine deliveries succeed: it can only raise it when nothing
//!   at all was accepted for [`MIN_SPAN`], which is then true of every delivery that arrived.

use std::sync::{Mutex, MutexGuard};

/// How many refusals in a row, at the least, raise the signal.
pub(crate) const MIN_REFUSALS: u64 = 10;
/// How long, at the least, the refusals must span (in seconds of the verifier's clock).
pub(crate) const MIN_SPAN: i64 = 5 * 60;

/// The current streak of one layer and its clones.
#[derive(Debug, Default)]
pub(crate) struct FailureStreak {
    state: Mutex<Streak>,
}

#[derive(Debug, Default)]
struct Streak {
    code: Option<&'static str>,
    count: u64,
    since: i64,
    raised: bool,
}

impl FailureStreak {
    /// A delivery was accepted: the streak ends.
    pub(crate) fn accepted(&self) {
        let mut streak = self.lock();
        if streak.code.is_none() {
            return;
        }
        if let (true, Some(code)) = (streak.raised, streak.code) {
            log_recovered(code, streak.count);
            crate::metrics::failing(code, false);
        }
        *streak = Streak::default();
    }

    /// A request was refused with `code` at `now` (Unix seconds).
    pub(crate) fn refused(&self, code: &'static str, now: i64) {
        let Some(advice) = advice(code) else {
            return;
        };
        let mut streak = self.lock();
        if streak.code != Some(code) {
            if let (true, Some(previous)) = (streak.raised, streak.code) {
                crate::metrics::failing(previous, false);
            }
            *streak = Streak {
                code: Some(code),
                count: 0,
                since: now,
                raised: false,
            };
        }
        streak.count += 1;
        let span = now.saturating_sub(streak.since);
        if !streak.raised && streak.count >= MIN_REFUSALS && span >= MIN_SPAN {
            streak.raised = true;
            log_raised(code, streak.count, span, advice);
            crate::metrics::failing(code, true);
        }
    }

    #[cfg(test)]
    fn raised(&self) -> bool {
        self.lock().raised
    }

    fn lock(&self) -> MutexGuard<'_, Streak> {
        // Plain fields, each written in one statement: a poisoned lock still holds valid data.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// What to do when every delivery is refused with `code`; `None` for codes that do not count.
fn advice(code: &str) -> Option<&'static str> {
    Some(match code {
        "invalid_signature" => {
            "the endpoint's signing secret was probably rotated, or a proxy re-encodes the body: set \
             CLERK_WEBHOOK_SIGNING_SECRET to the endpoint's current secret (both, space-separated, \
             during a change), and make sure nothing before the layer rewrites the request body"
        }
        "timestamp_too_old" | "timestamp_too_new" => {
            "this server's clock is off by more than the tolerance: check its time synchronization \
             (NTP)"
        }
        "unsupported_event" => {
            "Clerk sends data this version of clerk-webhooks cannot read: upgrade it, or receive \
             such events with UnsupportedEvents::PassAsUnparsed"
        }
        "invalid_payload" => {
            "the verified bodies are not Clerk webhook envelopes: check that this route receives \
             Clerk's deliveries and that nothing transforms them"
        }
        "payload_too_large" => {
            "the bodies are larger than the layer's or an outer body limit: raise the limit \
             (with_body_limit, RequestBodyLimitLayer)"
        }
        "out_of_memory" | "overloaded" => {
            "the server is out of memory or of budget for unverified bodies: look for a flood of \
             unverified requests, or raise with_unverified_budget"
        }
        _ => return None,
    })
}

#[cfg(feature = "tracing")]
fn log_raised(code: &str, count: u64, span: i64, advice: &str) {
    tracing::error!(
        code,
        refused = count,
        minutes = span / 60,
        "clerk webhook: every delivery for {} minutes was refused ({code}); {advice}",
        span / 60
    );
}

#[cfg(not(feature = "tracing"))]
fn log_raised(_code: &str, _count: u64, _span: i64, _advice: &str) {}

#[cfg(feature = "tracing")]
fn log_recovered(code: &str, count: u64) {
    tracing::info!(
        code,
        refused = count,
        "clerk webhook: deliveries are accepted again after a streak of refusals"
    );
}

#[cfg(not(feature = "tracing"))]
fn log_recovered(_code: &str, _count: u64) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raised_after_enough_refusals_over_enough_time_then_quiet_until_a_success() {
        let streak = FailureStreak::default();
        for n in 0..MIN_REFUSALS {
            streak.refused("invalid_signature", 1000 + n as i64);
        }
        assert!(
            !streak.raised(),
            "ten refusals in ten seconds are not a pattern yet"
        );
        streak.refused("invalid_signature", 1000 + MIN_SPAN);
        assert!(streak.raised());
        streak.accepted();
        assert!(!streak.raised());
    }

    #[test]
    fn any_success_ends_the_streak_and_other_codes_restart_it() {
        let streak = FailureStreak::default();
        for n in 0..20 {
            streak.refused("invalid_signature", n * 60);
            if n == 10 {
                streak.accepted(); // a genuine delivery between forged ones
            }
        }
        // 9 refusals since the success, over 9 minutes: not enough.
        assert!(!streak.raised());
        for n in 0..20 {
            let code = if n % 2 == 0 {
                "timestamp_too_old"
            } else {
                "invalid_signature"
            };
            streak.refused(code, 2000 + n * 60);
        }
        assert!(!streak.raised(), "alternating causes are no single cause");
    }

    #[test]
    fn what_scanners_send_neither_counts_nor_breaks_a_streak() {
        let streak = FailureStreak::default();
        for n in 0..MIN_REFUSALS + 1 {
            streak.refused("missing_header", n as i64 * 60);
        }
        assert!(!streak.raised());
        for n in 0..=MIN_REFUSALS {
            streak.refused("invalid_signature", n as i64 * 60);
            streak.refused("missing_header", n as i64 * 60);
        }
        assert!(streak.raised());
    }
}
