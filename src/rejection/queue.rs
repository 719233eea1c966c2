//! The queue route's own answer when it cannot store a delivery.

use std::time::Duration;

/// How long Svix is asked to wait when the backend could not take the job.
const QUEUE_DOWN_RETRY_AFTER: Duration = Duration::from_secs(5);

/// [`DeliveryQueue`](crate::queue::DeliveryQueue): its backend could not take the job in time: `503 Service Unavailable`, code `queue_unavailable`,
/// with `Retry-After`; Svix delivers again later.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the delivery could not be stored for processing; retry later")]
pub struct QueueUnavailable {
    _private: (),
}

impl QueueUnavailable {
    pub(crate) fn new() -> Self {
        Self { _private: () }
    }
}

define_rejection!(
    QueueUnavailable,
    status = SERVICE_UNAVAILABLE,
    code = "queue_unavailable",
    retry_after(_this) = QUEUE_DOWN_RETRY_AFTER,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_is_the_documented_one() {
        let response = QueueUnavailable::new().response();
        assert_eq!(response.status(), 503);
        assert_eq!(response.headers()["retry-after"], "5");
        assert_eq!(response.headers()["content-type"], "application/json");
        assert_eq!(
            response.body(),
            r#"{"error":"queue_unavailable","message":"the delivery could not be stored for processing; retry later"}"#
        );
    }
}
