//! The de-duplication's own answers when it cannot let a delivery through.

use std::time::Duration;

/// How long Svix is asked to wait when the store is down.
const STORE_DOWN_RETRY_AFTER: Duration = Duration::from_secs(30);

/// [`DedupeLayer`](crate::dedupe::DedupeLayer): another attempt holds the delivery's claim: `409 Conflict`, code `delivery_in_progress`, with
/// `Retry-After` for the rest of its lease.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("this delivery is being processed")]
pub struct DeliveryInProgress {
    wait: Duration,
}

impl DeliveryInProgress {
    pub(crate) fn new(wait: Duration) -> Self {
        Self { wait }
    }
}

/// [`DedupeLayer`](crate::dedupe::DedupeLayer): its store failed: `503 Service Unavailable`, code `dedupe_unavailable`, with `Retry-After`;
/// Svix retries the delivery later.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the de-duplication store is unavailable")]
pub struct StoreUnavailable {
    _private: (),
}

define_rejection!(
    DeliveryInProgress,
    status = CONFLICT,
    code = "delivery_in_progress",
    retry_after(this) = this.wait,
);
impl StoreUnavailable {
    pub(crate) fn new() -> Self {
        Self { _private: () }
    }
}

define_rejection!(
    StoreUnavailable,
    status = SERVICE_UNAVAILABLE,
    code = "dedupe_unavailable",
    retry_after(_this) = STORE_DOWN_RETRY_AFTER,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_the_documented_ones() {
        let busy = DeliveryInProgress::new(Duration::from_millis(1500)).response();
        assert_eq!(busy.status(), 409);
        assert_eq!(busy.headers()["retry-after"], "2");
        assert_eq!(
            busy.body(),
            r#"{"error":"delivery_in_progress","message":"this delivery is being processed"}"#
        );
        let down = StoreUnavailable::new().response();
        assert_eq!(down.status(), 503);
        assert_eq!(down.headers()["retry-after"], "30");
        assert_eq!(
            down.body(),
            r#"{"error":"dedupe_unavailable","message":"the de-duplication store is unavailable"}"#
        );
    }
}
