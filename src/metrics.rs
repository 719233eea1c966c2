//! What the crate counts, through the [`metrics`](https://docs.rs/metrics) facade (cargo feature
//! `metrics`). Without the feature every function here is empty and compiles away.
//!
//! Labels have bounded cardinality: a stable error code, an outcome word, or a known event type
//! (an unknown one is `unknown`); never an id or a value from a body. The names and units are in
//! the README's metrics table.
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
#[cfg(feature = "queue")]
pub(crate) const QUEUE: &str = "clerk_webhooks_queue_total";
/// How each job a `queue::Worker` ran ended, by outcome.
#[cfg(feature = "queue")]
pub(crate) const JOBS: &str = "clerk_webhooks_queue_jobs_total";
/// 1 while every delivery for a while has been refused for the same reason (label `code`).
pub(crate) const FAILING: &str = "clerk_webhooks_failing";

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

    #[cfg(feature = "queue")]
    pub(crate) fn queue(outcome: &'static str) {
        metrics::counter!(super::QUEUE, "outcome" => outcome).increment(1);
    }

    #[cfg(feature = "queue")]
    pub(crate) fn job(outcome: &'static str) {
        metrics::counter!(super::JOBS, "outcome" => outcome).increment(1);
    }

    pub(crate) fn failing(code: &'static str, on: bool) {
        metrics::gauge!(super::FAILING, "code" => code).set(if on { 1.0 } else { 0.0 });
    }
}

#[cfg(not(feature = "metrics"))]
mod record {
    use std::time::Duration;

    pub(crate) fn accepted(_event_type: Option<&str>, _body_bytes: usize, _took: Duration) {}
    pub(crate) fn received(_body_bytes: usize, _took: Duration) {}
    pub(crate) fn refused(_code: &'static str) {}
    pub(crate) fn dedupe(_outcome: &'static str) {}
    #[cfg(feature = "queue")]
    pub(crate) fn queue(_outcome: &'static str) {}
    #[cfg(feature = "queue")]
    pub(crate) fn job(_outcome: &'static str) {}
    pub(crate) fn failing(_code: &'static str, _on: bool) {}
}

pub(crate) use record::*;

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
