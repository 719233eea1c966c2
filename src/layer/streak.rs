//! The layer's two signals about deliveries that stop verifying, each saying only what is known.
//!
//! **Refused in a row** (forgeable). A receiver fails quietly: a rotated secret, a proxy that
//! re-encodes bodies or a drifted clock refuses every delivery, each refusal one `warn` line among
//! the scanners'. The rule:
//! - only refusals a genuine Clerk delivery could meet through a misconfiguration count (a bad
//!   signature, a timestamp outside the window, a body the layer cannot take or read); requests
//!   without well-formed Svix headers, what scanners send, neither count nor break a streak;
//! - the signal is raised after [`MIN_REFUSALS`] such refusals for one code since the last accepted
//!   delivery, spanning at least [`MIN_SPAN`], then stays quiet; each code keeps its own count, so
//!   refusals for other reasons (forged requests with a stale timestamp, say) cannot hold it back;
//! - any accepted delivery ends the streak (and says so if the signal was raised).
//!
//! Anyone can send well-formed Svix headers with a bad signature, so on a quiet endpoint forged
//! requests alone raise it: its words say what was refused and what it means if Clerk sent the
//! requests, and if it did not; it logs at `warn`. Only the refusals of requests whose signature
//! verified (`unsupported_event`, `invalid_payload`), which only a holder of the secret can send,
//! log at `error`, as does a streak of bad signatures after the unknown-signer signal below, which
//! forged requests cannot raise.
//!
//! **Unknown signer** (unforgeable). For 24 hours after an endpoint's signing secret is rotated,
//! Svix signs every delivery with the old and the new secret, one `v1` signature each. A delivery
//! that verifies under one of the layer's secrets but also carries a signature none of them made
//! shows that Clerk signs with a secret the layer lacks: unless it is added within those 24 hours,
//! every delivery will be refused. Only a holder of one of the layer's secrets can send such a
//! delivery (or someone replaying a genuine one, captured within its timestamp's tolerance, with
//! a signature added), so forged requests cannot raise it. It is logged at `error` when first
//! seen, then again at most every [`REMIND_EVERY`] while deliveries keep showing it, and ends,
//! with an `info` line, at the first accepted delivery whose signatures are all known.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

use crate::__private::log::{error, info, warn};
use crate::metrics;

/// How many refusals for one cause, at the least, raise the signal.
pub(crate) const MIN_REFUSALS: u64 = 10;
/// How long, at the least, the refusals must span (in seconds of the verifier's clock).
pub(crate) const MIN_SPAN: i64 = 5 * 60;
/// How long, at the least, between two `error` lines about the same unknown signer (in seconds of
/// the verifier's clock).
pub(crate) const REMIND_EVERY: i64 = 60 * 60;

/// The signals' state, shared by one layer and its clones.
#[derive(Debug, Default)]
pub(crate) struct FailureStreak {
    /// Whether any refusal has been counted since the last accepted delivery: an accepted
    /// delivery, the common case, reads only this and `unknown_signer`.
    counting: AtomicBool,
    /// Whether the unknown-signer signal is raised.
    unknown_signer: AtomicBool,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    causes: Vec<Cause>,
    unknown: Option<UnknownSigner>,
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

/// Accepted deliveries that carried a signature none of the secrets made, since the first.
#[derive(Debug)]
struct UnknownSigner {
    since: i64,
    deliveries: u64,
    /// When the signal was last logged.
    logged_at: i64,
    /// How many times it was logged.
    logged: u64,
}

impl FailureStreak {
    /// A delivery was accepted, carrying `unknown_signatures` `v1` signatures that none of the
    /// verifier's secrets made: every streak of refusals ends, and the unknown-signer signal is
    /// raised, or lowered when there are none. `now` reads the clock (Unix seconds) only when a
    /// signal changes.
    pub(crate) fn accepted(&self, unknown_signatures: usize, now: impl FnOnce() -> i64) {
        if unknown_signatures > 0 {
            self.signed_by_unknown(unknown_signatures, now());
        } else if self.unknown_signer.load(Ordering::Acquire) {
            self.signers_known_again();
        }
        if !self.counting.load(Ordering::Acquire) {
            return;
        }
        let mut state = self.lock();
        self.counting.store(false, Ordering::Release);
        for cause in state.causes.drain(..).filter(|cause| cause.raised) {
            log_recovered(cause.code, cause.count);
            metrics::refused_in_a_row(cause.code, false);
        }
    }

    /// A request with well-formed Svix headers was refused with `code`; `now` reads the clock
    /// (Unix seconds) only for the codes that count.
    pub(crate) fn refused(&self, code: &'static str, now: impl FnOnce() -> i64) {
        let Some(advice) = advice(code) else {
            return;
        };
        let now = now();
        let mut state = self.lock();
        self.counting.store(true, Ordering::Release);
        let rotation = state.unknown.as_ref().map(|unknown| unknown.since);
        let index = match state.causes.iter().position(|cause| cause.code == code) {
            Some(index) => index,
            None => {
                state.causes.push(Cause {
                    code,
                    count: 0,
                    since: now,
                    raised: false,
                });
                state.causes.len() - 1
            }
        };
        let cause = &mut state.causes[index];
        cause.count += 1;
        let span = now.saturating_sub(cause.since);
        if !cause.raised && cause.count >= MIN_REFUSALS && span >= MIN_SPAN {
            cause.raised = true;
            let rotation = rotation.filter(|_| code == "invalid_signature");
            log_raised(
                code,
                cause.count,
                span,
                advice,
                rotation.map(|since| now.saturating_sub(since)),
            );
            metrics::refused_in_a_row(code, true);
        }
    }

    /// An accepted delivery carried `signatures` signatures none of the secrets made.
    fn signed_by_unknown(&self, signatures: usize, now: i64) {
        let mut state = self.lock();
        self.unknown_signer.store(true, Ordering::Release);
        let unknown = state.unknown.get_or_insert_with(|| {
            metrics::unknown_signer(true);
            UnknownSigner {
                since: now,
                deliveries: 0,
                logged_at: now,
                logged: 0,
            }
        });
        unknown.deliveries += 1;
        let due = unknown.logged == 0 || now.saturating_sub(unknown.logged_at) >= REMIND_EVERY;
        if due {
            unknown.logged_at = now;
            unknown.logged += 1;
            log_unknown_signer(
                signatures,
                unknown.deliveries,
                now.saturating_sub(unknown.since),
            );
        }
    }

    /// An accepted delivery carried only signatures of the configured secrets.
    fn signers_known_again(&self) {
        let mut state = self.lock();
        self.unknown_signer.store(false, Ordering::Release);
        if let Some(unknown) = state.unknown.take() {
            log_signers_known(unknown.deliveries);
            metrics::unknown_signer(false);
        }
    }

    #[cfg(test)]
    fn raised(&self, code: &str) -> bool {
        self.lock()
            .causes
            .iter()
            .any(|cause| cause.code == code && cause.raised)
    }

    /// How many times the unknown-signer signal was logged since it was raised; `None` while it
    /// is not.
    #[cfg(test)]
    fn unknown_logged(&self) -> Option<u64> {
        self.lock().unknown.as_ref().map(|unknown| unknown.logged)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Plain fields, each written in one statement: a poisoned lock still holds valid data.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// What to check, if Clerk sent the requests refused with `code`; `None` for codes that do not
/// count.
fn advice(code: &str) -> Option<&'static str> {
    Some(match code {
        "invalid_signature" => {
            "the signing secret does not match the endpoint's (rotated more than 24 hours ago, or \
             another endpoint's or environment's) or something before the layer rewrites the \
             body: set CLERK_WEBHOOK_SIGNING_SECRET to the endpoint's current secret (both, \
             space-separated, during a change), and make sure nothing before the layer rewrites \
             the request body"
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

/// Whether a refusal with `code` comes after the signature verified: only a holder of the secret
/// can cause it, so a streak of them is no forgery.
fn verified_first(code: &str) -> bool {
    matches!(code, "unsupported_event" | "invalid_payload")
}

/// Logs a raised streak. `rotation`: for bad signatures, how long ago (in seconds) accepted
/// deliveries started carrying a signature none of the secrets made, if they did.
#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
fn log_raised(code: &str, count: u64, span: i64, advice: &str, rotation: Option<i64>) {
    // Anyone can send requests with Svix headers: the words say what is known (none was accepted
    // since this cause's first refusal), what it means if Clerk sent them, never that it did,
    // and what it means if it did not.
    let minutes = span / 60;
    let what = format!(
        "clerk webhook: {count} requests with Svix headers in a row were refused for {code} over \
         {minutes} minutes, none accepted"
    );
    if let Some(ago) = rotation {
        // The deliveries accepted before carried a signature of a secret this server lacks: a
        // rotation is under way, and its new secret is missing, which forged requests cannot
        // fake. Svix signs with the new secret alone 24 hours after a rotation.
        error!(
            code,
            refused = count,
            minutes,
            "{what}; accepted deliveries have carried a signature none of the configured secrets \
             made since {} h ago: the endpoint's signing secret is being rotated and one of the \
             two is not configured here; if it is the new one, Svix signs with it alone 24 hours \
             after the rotation, so these may be Clerk's deliveries: add the new secret to \
             CLERK_WEBHOOK_SIGNING_SECRET (both, space-separated, during a change)",
            ago / 3600
        );
    } else if verified_first(code) {
        error!(
            code,
            refused = count,
            minutes,
            "{what}; their signatures verified, so only a holder of the signing secret sent \
             them: if Clerk sent them (its dashboard lists the endpoint's failed attempts), \
             {advice}; {}",
            if_not_clerk(code)
        );
    } else {
        warn!(
            code,
            refused = count,
            minutes,
            "{what}; if Clerk sent them (its dashboard lists the endpoint's failed attempts), \
             {advice}; {}",
            if_not_clerk(code)
        );
    }
}

/// What a streak of `code` means when Clerk did not send the requests.
#[cfg_attr(not(feature = "tracing"), allow(dead_code))]
fn if_not_clerk(code: &str) -> &'static str {
    match code {
        // Refused after the signature verified: whoever sent them holds a valid secret.
        "unsupported_event" | "invalid_payload" => {
            "if it did not, someone else holds the signing secret: rotate it"
        }
        // A budget or memory refusal refuses genuine deliveries too.
        "out_of_memory" | "overloaded" => {
            "if it did not, a flood of unverified requests is under way and refuses genuine \
             deliveries too: bound it (TimeoutLayer, connection limits)"
        }
        _ => "if it did not, someone is sending forged requests, and nothing here needs fixing",
    }
}

#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
fn log_recovered(code: &str, count: u64) {
    info!(
        code,
        refused = count,
        "clerk webhook: a delivery was accepted after a streak of refusals"
    );
}

#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
fn log_unknown_signer(signatures: usize, deliveries: u64, span: i64) {
    let hours = span / 3600;
    let so_far = if deliveries > 1 {
        format!(" ({deliveries} deliveries carried one since the first, {hours} h ago)")
    } else {
        String::new()
    };
    error!(
        unknown_signatures = signatures,
        deliveries,
        hours,
        "clerk webhook: a verified delivery also carries {signatures} signature(s) that none of \
         the configured secrets made{so_far}: Clerk signs with a secret this server does not \
         have. Svix signs with both the old and the new secret for 24 hours after an endpoint's \
         signing secret is rotated, then with the new one alone. If the missing one is the new \
         secret, add it to CLERK_WEBHOOK_SIGNING_SECRET (both, space-separated) within 24 hours of \
         the rotation, or every delivery will then be refused; if this server already has the \
         new secret alone, the missing one is the old secret, and this stops within 24 hours"
    );
}

#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
fn log_signers_known(deliveries: u64) {
    info!(
        deliveries,
        "clerk webhook: a delivery was accepted with no signature of an unknown secret, after \
         {deliveries} that carried one"
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
        streak.accepted(0, || 2000);
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
        for code in [SIGNATURE, "timestamp_too_old", "payload_too_large"] {
            assert!(!verified_first(code), "{code}");
            assert!(if_not_clerk(code).contains("forged requests"), "{code}");
        }
    }

    #[test]
    fn any_success_ends_the_streak() {
        let streak = FailureStreak::default();
        for n in 0..20 {
            streak.refused(SIGNATURE, || n * 60);
            if n == 10 {
                streak.accepted(0, || n * 60); // a genuine delivery between forged ones
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

    /// Issue 30, item 7: the unknown-signer signal is told once, then at most every hour while
    /// deliveries keep showing it, and ends at the first delivery whose signatures are all known.
    #[test]
    fn the_unknown_signer_is_told_once_then_hourly_until_the_secret_is_added() {
        let streak = FailureStreak::default();
        streak.accepted(0, || panic!("no signal changed: the clock is not read"));
        assert_eq!(streak.unknown_logged(), None);
        // A delivery a minute for an hour and a half.
        for minute in 0..90 {
            streak.accepted(1, || 1000 + minute * 60);
        }
        // At minute 0, then at minute 60.
        assert_eq!(streak.unknown_logged(), Some(2));
        // The new secret was added: both signatures are known.
        streak.accepted(0, || panic!("lowering reads no clock"));
        assert_eq!(streak.unknown_logged(), None);
        // A new situation is told again, at once.
        streak.accepted(1, || 10_000);
        assert_eq!(streak.unknown_logged(), Some(1));
        // The clock going back does not make it due.
        streak.accepted(1, || 5_000);
        assert_eq!(streak.unknown_logged(), Some(1));
    }
}
