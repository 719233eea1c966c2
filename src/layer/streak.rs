//! The loud signal: when every delivery for a while has been refused for the same reason, say once,
//! at `error`, what is wrong and what to do.
//!
//! A receiver fails quietly: a rotated secret, a proxy that re-encodes bodies or a drifted clock
//! refuses every delivery, each refusal one `warn` line among the scanners'. The rule:
//! - only refusals a genuine Clerk delivery could meet through a misconfiguration count (a bad
//!   signature, a timestamp outside the window, a body the layer cannot take or read); requests
//!   without well-formed Svix headers, what scanners send, neither count nor break a streak;
//! - the signal is raised after [`MIN_REFUSALS`] such refusals for one code since the last accepted
//!   delivery, spanning at least [`MIN_SPAN`], then stays quiet; each code keeps its own count, so
//!   refusals for other reasons (forged requests with a stale timestamp, say) cannot hold it back;
//! - any accepted delivery ends the streak (and says so if the signal was raised). Forged traffic
//!   therefore cannot raise it while genuine deliveries succeed: it can only raise it when nothing
//!   at all was accepted for [`MIN_SPAN`], which is then true of every delivery that arrived.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

/// How many refusals for one cause, at the least, raise the signal.
pub(crate) const MIN_REFUSALS: u64 = 10;
/// How long, at the least, the refusals must span (in seconds of the verifier's clock).
pub(crate) const MIN_SPAN: i64 = 5 * 60;

/// The refusals since the last accepted delivery, of one layer and its clones.
#[derive(Debug, Default)]
pub(crate) struct FailureStreak {
    /// Whether any refusal has been counted since the last accepted delivery: an accepted
    /// delivery, the common case, reads only this.
    counting: AtomicBool,
    causes: Mutex<Vec<Cause>>,
}

/// The refusals for one code since the last accepted delivery. Each cause has its own count, so
/// a request refused for another reason (a forged one with a stale timestamp, say) cannot reset
/// the streak of a real misconfiguration.
#[derive(Debug)]
struct Cause {
    code: &'static str,
    count: u64,
    since: i64,
    raised: bool,
}

impl FailureStreak {
    /// A delivery was accepted: every streak ends.
    pub(crate) fn accepted(&self) {
        if !self.counting.load(Ordering::Acquire) {
            return;
        }
        let mut causes = self.lock();
        self.counting.store(false, Ordering::Release);
        for cause in causes.drain(..).filter(|cause| cause.raised) {
            log_recovered(cause.code, cause.count);
            crate::metrics::failing(cause.code, false);
        }
    }

    /// A request with well-formed Svix headers was refused with `code`; `now` reads the clock
    /// (Unix seconds) only for the codes that count.
    pub(crate) fn refused(&self, code: &'static str, now: impl FnOnce() -> i64) {
        let Some(advice) = advice(code) else {
            return;
        };
        let now = now();
        let mut causes = self.lock();
        self.counting.store(true, Ordering::Release);
        let index = match causes.iter().position(|cause| cause.code == code) {
            Some(index) => index,
            None => {
                causes.push(Cause {
                    code,
                    count: 0,
                    since: now,
                    raised: false,
                });
                causes.len() - 1
            }
        };
        let cause = &mut causes[index];
        cause.count += 1;
        let span = now.saturating_sub(cause.since);
        if !cause.raised && cause.count >= MIN_REFUSALS && span >= MIN_SPAN {
            cause.raised = true;
            log_raised(code, cause.count, span, advice);
            crate::metrics::failing(code, true);
        }
    }

    #[cfg(test)]
    fn raised(&self, code: &str) -> bool {
        self.lock()
            .iter()
            .any(|cause| cause.code == code && cause.raised)
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Cause>> {
        // Plain fields, each written in one statement: a poisoned lock still holds valid data.
        self.causes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// What to do when every delivery is refused with `code`; `None` for codes that do not count.
fn advice(code: &str) -> Option<&'static str> {
    Some(match code {
        "invalid_signature" => {
            "the signing secret does not match theirs (a rotated secret, another endpoint's or \
             environment's) or something before the layer rewrites the body: set \
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

#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
fn log_raised(code: &str, count: u64, span: i64, advice: &str) {
    // Anyone can send requests with Svix headers: the words say what is known (nothing was
    // accepted since this cause's first refusal) and what it means if Clerk sent them, never that
    // it did; and what it means if Clerk did not, which depends on whether the refusal came
    // before or after the signature verified.
    error!(
        code,
        refused = count,
        minutes = span / 60,
        "clerk webhook: {count} requests refused ({code}) over at least {} minutes, none \
         accepted since. If Clerk sent them (its dashboard lists the endpoint's failed attempts): \
         {advice}. {}",
        span / 60,
        if_not_clerk(code)
    );
}

/// What a streak of `code` means when Clerk did not send the requests.
#[cfg_attr(not(feature = "tracing"), allow(dead_code))]
fn if_not_clerk(code: &str) -> &'static str {
    match code {
        // Refused after the signature verified: whoever sent them holds a valid secret.
        "unsupported_event" | "invalid_payload" => {
            "If it did not, someone else holds the signing secret: rotate it"
        }
        // A budget or memory refusal refuses genuine deliveries too.
        "out_of_memory" | "overloaded" => {
            "If it did not, a flood of unverified requests is under way and refuses genuine \
             deliveries too: bound it (TimeoutLayer, connection limits)"
        }
        _ => "If it did not, they were forged and nothing needs fixing",
    }
}

#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
fn log_recovered(code: &str, count: u64) {
    info!(
        code,
        refused = count,
        "clerk webhook: deliveries are accepted again after a streak of refusals"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIGNATURE: &str = "invalid_signature";

    #[test]
    fn raised_after_enough_refusals_over_enough_time_then_quiet_until_a_success() {
        let streak = FailureStreak::default();
        for n in 0..MIN_REFUSALS {
            streak.refused(SIGNATURE, || 1000 + n as i64);
        }
        assert!(
            !streak.raised(SIGNATURE),
            "ten refusals in ten seconds are no pattern yet"
        );
        streak.refused(SIGNATURE, || 1000 + MIN_SPAN);
        assert!(streak.raised(SIGNATURE));
        streak.accepted();
        assert!(!streak.raised(SIGNATURE));
    }

    /// Regression (issue 30, item 7): ten forged requests over five minutes on a quiet endpoint
    /// logged "the endpoint's signing secret was probably rotated". What forged traffic alone can
    /// cause, the words do not assert.
    #[test]
    fn the_advice_claims_nothing_forged_traffic_could_fake() {
        for code in [
            SIGNATURE,
            "timestamp_too_old",
            "invalid_payload",
            "payload_too_large",
        ] {
            let advice = advice(code).unwrap();
            assert!(!advice.contains("probably"), "{code}: {advice}");
        }
    }

    #[test]
    fn any_success_ends_the_streak() {
        let streak = FailureStreak::default();
        for n in 0..20 {
            streak.refused(SIGNATURE, || n * 60);
            if n == 10 {
                streak.accepted(); // a genuine delivery between forged ones
            }
        }
        // 9 refusals since the success, over 9 minutes: not enough.
        assert!(!streak.raised(SIGNATURE));
    }

    /// Review finding: forged requests refused for another reason reset the streak of a real
    /// misconfiguration, so the signal never came.
    #[test]
    fn refusals_for_other_causes_do_not_hold_a_streak_back() {
        let streak = FailureStreak::default();
        for n in 0..=MIN_REFUSALS as i64 {
            streak.refused(SIGNATURE, || n * 60);
            streak.refused("timestamp_too_old", || n * 60);
        }
        assert!(streak.raised(SIGNATURE));
        assert!(streak.raised("timestamp_too_old"));
    }

    #[test]
    fn what_scanners_send_neither_counts_nor_breaks_a_streak() {
        let streak = FailureStreak::default();
        for n in 0..MIN_REFUSALS + 1 {
            streak.refused("missing_header", || n as i64 * 60);
        }
        assert!(!streak.raised("missing_header"));
        for n in 0..=MIN_REFUSALS {
            streak.refused(SIGNATURE, || n as i64 * 60);
            streak.refused("missing_header", || n as i64 * 60);
        }
        assert!(streak.raised(SIGNATURE));
    }
}
