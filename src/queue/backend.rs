//! Where the route stores each job, and what it says it did.

use std::future::Future;

use super::job::QueuedDelivery;
use crate::BoxError;

/// A durable queue of [`QueuedDelivery`] jobs that [`DeliveryQueue`](super::DeliveryQueue) stores
/// each verified delivery in: clerk-webhooks-redis's `RedisQueue`, or your own.
///
/// A backend keeps the promises the route's answers make:
/// - [`enqueue`](Self::enqueue) returns `Ok` only once the job is durable (a `2xx` follows);
/// - one job per delivery: the job is found under any of the delivery's keys, and a new job is
///   recorded under each;
/// - it returns within a bounded time (about 2 seconds) when its store is unreachable, with an
///   error: the route answers `503 queue_unavailable` and Svix delivers again later.
pub trait QueueBackend: Clone + Send + Sync + 'static {
    /// Stores `job` under the first of `keys` (the delivery's [`keys`](crate::Delivery::keys),
    /// its [`key`](crate::Delivery::key) first: more than one while a secret rotation is under
    /// way), unless the delivery already has a job under any of them, and says what happened.
    ///
    /// # Errors
    ///
    /// Whatever kept the job from being stored in time; the route answers `503` and logs it
    /// (keep the error free of the body: it is logged).
    fn enqueue(
        &self,
        job: &QueuedDelivery,
        keys: &[String],
    ) -> impl Future<Output = Result<Enqueued, BoxError>> + Send;
}

/// What a [`QueueBackend`] did with a delivery: the queue route says it in its answer, so a replay
/// from Clerk's dashboard does not read "queued" when nothing will run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Enqueued {
    /// A new job: the first time this delivery reached the queue (or its idempotency key had
    /// expired).
    Queued,
    /// The delivery already has a job that has not finished: waiting, running, or waiting for a
    /// retry. Nothing was added; that job will do the work.
    AlreadyQueued,
    /// The delivery's job already ran to success (or was swept after it did). Nothing was added.
    Done,
    /// The delivery's job had died (out of retries, or aborted): the same job was
    /// queued again with its attempts reset, so the replay is processed.
    Requeued,
}

impl Enqueued {
    /// A stable word for answers and logs: `queued`, `already_queued`, `done` or `requeued`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::AlreadyQueued => "already_queued",
            Self::Done => "done",
            Self::Requeued => "requeued",
        }
    }
}

impl std::fmt::Display for Enqueued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
