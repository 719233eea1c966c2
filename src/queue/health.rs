//! Whether a worker is alive, for a health endpoint.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Whether a queue worker (clerk-webhooks-redis's `Worker`, whose `health()` hands it out) is
/// alive: its last heartbeat, how often it lost its store, its last error, and the jobs it
/// finished after another worker had taken them over.
///
/// Cheap to clone; every clone sees the same worker. Serve it from a health endpoint:
///
/// ```
/// use std::time::Duration;
/// use clerk_webhooks::queue::WorkerHealth;
///
/// fn healthy(worker: &WorkerHealth) -> bool {
///     // With the default lease the worker beats every second: ten missed beats mean trouble.
///     worker.beat_within(Duration::from_secs(10))
/// }
/// # assert!(!healthy(&WorkerHealth::default()));
/// ```
#[derive(Clone, Default)]
pub struct WorkerHealth {
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    last_beat: Option<Instant>,
    outages: u64,
    lost_leases: u64,
    last_error: Option<String>,
}

impl WorkerHealth {
    /// Whether the worker has reached its store within `age` (a heartbeat, or its registration).
    pub fn beat_within(&self, age: Duration) -> bool {
        self.lock()
            .last_beat
            .is_some_and(|beat| beat.elapsed() <= age)
    }

    /// How often the worker lost its store (an outage counts once, however long).
    pub fn outages(&self) -> u64 {
        self.lock().outages
    }

    /// How many jobs this worker finished after another worker had taken them over (it missed its
    /// heartbeats for longer than the lease): those ran twice.
    pub fn lost_leases(&self) -> u64 {
        self.lock().lost_leases
    }

    /// Why the worker last lost its store, if it ever did.
    pub fn last_error(&self) -> Option<String> {
        self.lock().last_error.clone()
    }

    /// For a backend's worker: it is alive now (each heartbeat that reached its store).
    pub fn beat(&self) {
        self.lock().last_beat = Some(Instant::now());
    }

    /// For a backend's worker: it lost its store, for `error`.
    pub fn outage(&self, error: String) {
        let mut state = self.lock();
        state.outages += 1;
        state.last_error = Some(error);
    }

    /// For a backend's worker: it finished a job that another worker had taken over.
    pub fn lost_lease(&self) {
        self.lock().lost_leases += 1;
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Plain fields written in one statement each: a poisoned lock still holds valid data.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl fmt::Debug for WorkerHealth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("WorkerHealth")
            .field("last_beat", &state.last_beat)
            .field("outages", &state.outages)
            .field("lost_leases", &state.lost_leases)
            .field("last_error", &state.last_error)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_worker_that_never_beat_is_not_healthy_and_one_that_just_did_is() {
        let health = WorkerHealth::default();
        assert!(!health.beat_within(Duration::from_secs(3600)));
        health.clone().beat();
        assert!(health.beat_within(Duration::from_secs(10)));
    }

    #[test]
    fn outages_keep_the_last_error() {
        let health = WorkerHealth::default();
        health.outage("connection refused".into());
        health.outage("timed out".into());
        assert_eq!(health.outages(), 2);
        assert_eq!(health.last_error().as_deref(), Some("timed out"));
    }
}
