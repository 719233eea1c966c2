//! What the crate and its backend packages count, through the [`metrics`](https://docs.rs/metrics) facade (cargo feature
//! `metrics`). Without the feature every function here is empty and compiles away.
//!
//! Labels have bounded cardinality: a stable error code, an outcome word, or a known event type
//! (an unknown one is `unknown`); never an id or a value from a body. The names and units are in
//! the metrics table of the operations guide (`guide::operations`).
#![cfg_attr(not(feature = "metrics"), allow(dead_code))]

/// Deliveries accepted by the layer, by event type.
pub(crate) const ACCEPTED: &str = "clerk_webhooks_deliveries_accepted_total";
/// Requests the layer refused, by error code.
pub(crate) const REFUSED: &str = "clerk_webhooks_deliveries_refused_total";
/// The size of each body the layer received in full, in bytes.
pub(crate) const BODY_BYTES: &str = "clerk_webhooks_body_bytes";
/// How long verifying and parsing a received body took, in seconds.
pub(crate) const VERIFY_SECONDS: &str = "clerk_webhooks_verify_parse_seconds";
/// What `DedupeLayer` did with each verified delivery, by outcome.
pub(crate) const DEDUPE: &str = "clerk_webhooks_dedupe_total";
/// What `DeliveryQueue` did with each verified delivery, by outcome.
pub(crate) const QUEUE: &str = "clerk_webhooks_queue_total";
/// How each job a queue worker (clerk-webhooks-redis's `Worker`) ran ended, by outcome.
pub(crate) const JOBS: &str = "clerk_webhooks_queue_jobs_total";
/// What the mirror (clerk-webhooks-sqlx's `Mirror::apply`) did with each verified delivery, by outcome.
pub(crate) const SYNC: &str = "clerk_webhooks_sync_total";
/// 1 while the layer has refused, for one code, at least 10 requests with Svix headers in a row
/// over at least 5 minutes, none accepted since (label `code`): Clerk's deliveries or forged ones.
pub(crate) const REFUSED_IN_A_ROW: &str = "clerk_webhooks_refused_in_a_row";
/// 1 while accepted deliveries also carry a signature none of the configured secrets made: Clerk
/// signs with a secret the layer lacks (a rotation whose new secret is missing).
pub(crate) const UNKNOWN_SIGNER: &str = "clerk_webhooks_unknown_signer";

#[cfg(feature = "metrics")]
mod record {
    use std::time::Duration;

    /// `event_type` as a label: the wire name of a known type, or `unknown`.
    fn event_label(event_type: Option<&str>) -> &'static str {
        event_type
            .and_then(|wire| {
                crate::ClerkEvent::KNOWN_TYPES
                    .iter()
                    .find(|known| **known == wire)
            })
            .copied()
            .unwrap_or("unknown")
    }

    pub(crate) fn accepted(event_type: Option<&str>, body_bytes: usize, took: Duration) {
        metrics::counter!(super::ACCEPTED, "event_type" => event_label(event_type)).increment(1);
        received(body_bytes, took);
    }

    /// A body received in full (accepted or not): its size and the time to verify and parse it.
    pub(crate) fn received(body_bytes: usize, took: Duration) {
        metrics::histogram!(super::BODY_BYTES).record(body_bytes as f64);
        metrics::histogram!(super::VERIFY_SECONDS).record(took.as_secs_f64());
    }

    pub(crate) fn refused(code: &'static str) {
        metrics::counter!(super::REFUSED, "code" => code).increment(1);
    }

    pub(crate) fn dedupe(outcome: &'static str) {
        metrics::counter!(super::DEDUPE, "outcome" => outcome).increment(1);
    }

    pub(crate) fn queue(outcome: &'static str) {
        metrics::counter!(super::QUEUE, "outcome" => outcome).increment(1);
    }

    /// Counts a job a queue worker ran, by how it ended.
    pub fn job(outcome: &'static str) {
        metrics::counter!(super::JOBS, "outcome" => outcome).increment(1);
    }

    /// Counts a delivery the mirror handled, by outcome.
    pub fn sync(outcome: &'static str) {
        metrics::counter!(super::SYNC, "outcome" => outcome).increment(1);
    }

    pub(crate) fn refused_in_a_row(code: &'static str, on: bool) {
        metrics::gauge!(super::REFUSED_IN_A_ROW, "code" => code).set(if on { 1.0 } else { 0.0 });
    }

    pub(crate) fn unknown_signer(on: bool) {
        metrics::gauge!(super::UNKNOWN_SIGNER).set(if on { 1.0 } else { 0.0 });
    }

    /// Gives every metric of the crate its unit and description (Prometheus' `# HELP`), in the
    /// recorder installed now. Called when a layer, a queue, a worker or a mirror is built:
    /// describing again is harmless.
    pub fn describe() {
        use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
        describe_counter!(
            super::ACCEPTED,
            Unit::Count,
            "Deliveries the Clerk webhook layer verified and accepted, by event type."
        );
        describe_counter!(
            super::REFUSED,
            Unit::Count,
            "Requests the Clerk webhook layer refused, by error code."
        );
        describe_histogram!(
            super::BODY_BYTES,
            Unit::Bytes,
            "Size of each request body the Clerk webhook layer received in full."
        );
        describe_histogram!(
            super::VERIFY_SECONDS,
            Unit::Seconds,
            "Time to verify and parse a received Clerk webhook body."
        );
        describe_counter!(
            super::DEDUPE,
            Unit::Count,
            "What DedupeLayer did with each verified Clerk delivery, by outcome."
        );
        {
            describe_counter!(
                super::QUEUE,
                Unit::Count,
                "What the queue route did with each verified Clerk delivery, by outcome."
            );
            describe_counter!(
                super::JOBS,
                Unit::Count,
                "How each Clerk delivery job a queue worker ran ended, by outcome."
            );
        }
        describe_counter!(
            super::SYNC,
            Unit::Count,
            "What the database mirror did with each verified Clerk delivery, by outcome."
        );
        describe_gauge!(
            super::REFUSED_IN_A_ROW,
            "1 while the Clerk webhook layer has refused at least 10 requests with Svix headers \
             in a row for this code, over at least 5 minutes, none accepted since (Clerk's \
             deliveries or forged requests: anyone can send the headers), else 0."
        );
        describe_gauge!(
            super::UNKNOWN_SIGNER,
            "1 while accepted Clerk deliveries also carry a signature none of the configured \
             secrets made: the endpoint's signing secret is being rotated and the new one is not \
             configured (add it within 24 hours of the rotation, or every delivery will be \
             refused), else 0. Forged requests cannot raise it."
        );
    }
}

#[cfg(not(feature = "metrics"))]
mod record {
    use std::time::Duration;

    pub(crate) fn accepted(_event_type: Option<&str>, _body_bytes: usize, _took: Duration) {}
    pub(crate) fn received(_body_bytes: usize, _took: Duration) {}
    pub(crate) fn refused(_code: &'static str) {}
    pub(crate) fn dedupe(_outcome: &'static str) {}
    pub(crate) fn queue(_outcome: &'static str) {}
    /// Counts a job a queue worker ran (nothing without the feature).
    pub fn job(_outcome: &'static str) {}
    /// Counts a delivery the mirror handled (nothing without the feature).
    pub fn sync(_outcome: &'static str) {}
    pub(crate) fn refused_in_a_row(_code: &'static str, _on: bool) {}
    pub(crate) fn unknown_signer(_on: bool) {}
    /// Describes the metrics (nothing without the feature).
    pub fn describe() {}
}

pub use record::*;

/// The start of a measurement, only when something will read it.
#[cfg(feature = "metrics")]
pub(crate) fn start() -> Option<std::time::Instant> {
    Some(std::time::Instant::now())
}

#[cfg(not(feature = "metrics"))]
pub(crate) fn start() -> Option<std::time::Instant> {
    None
}

/// The time since `start`, zero when nothing measured.
pub(crate) fn since(start: Option<std::time::Instant>) -> std::time::Duration {
    start.map(|start| start.elapsed()).unwrap_or_default()
}
