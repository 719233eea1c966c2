//! Workers that outlive Redis outages, their liveness, and a retry schedule that outlasts an
//! ordinary outage.
//!
//! An apalis worker whose backend fails (Redis restarting, a network blip) returns from `run` for
//! good; nothing in apalis builds it again. [`supervise`] does, with backoff, and [`WorkerHealth`]
//! tells the app whether its workers are alive.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use apalis::layers::retry::backoff::{
    ExponentialBackoff, ExponentialBackoffMaker, InvalidBackoff, MakeBackoff,
};
use apalis::layers::retry::{BackoffRetryPolicy, HasherRng, RetryPolicy};
use apalis_core::worker::context::WorkerContext;
use apalis_core::worker::event::Event;

/// The first pause before a failed worker is built again; it doubles up to
/// [`MAX_RESTART_BACKOFF`].
const MIN_RESTART_BACKOFF: Duration = Duration::from_secs(1);
/// The longest pause between two attempts to build a failed worker again.
pub const MAX_RESTART_BACKOFF: Duration = Duration::from_secs(30);

/// The retries of [`retry_policy`]: with its backoff, about 30 hours of attempts.
pub const DEFAULT_RETRIES: usize = 22;

/// Whether a supervised worker is alive: its last heartbeat, its restarts, its last error.
///
/// Cheap to clone; every clone sees the same worker. Serve it from a health endpoint:
///
/// ```
/// use std::time::Duration;
/// use clerk_webhooks::queue::WorkerHealth;
///
/// fn healthy(worker: &WorkerHealth) -> bool {
///     // The queue's heartbeat is 1 second: 10 missed ones mean trouble.
///     worker.beat_within(Duration::from_secs(10))
/// }
/// # assert!(!healthy(&WorkerHealth::new()));
/// ```
#[derive(Clone, Default)]
pub struct WorkerHealth {
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    last_beat: Option<Instant>,
    restarts: u64,
    last_error: Option<String>,
}

impl WorkerHealth {
    /// A worker that has not started yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// What to give the worker's `WorkerBuilder::on_event`: it records each heartbeat (and the
    /// registration, which is one).
    pub fn listener(&self) -> impl Fn(&WorkerContext, &Event) + Send + Sync + 'static {
        let health = self.clone();
        move |_worker, event| {
            if matches!(event, Event::Start | Event::HeartBeat) {
                health.lock().last_beat = Some(Instant::now());
            }
        }
    }

    /// Whether the worker has reached Redis within `age` (a heartbeat, or its registration).
    pub fn beat_within(&self, age: Duration) -> bool {
        self.lock()
            .last_beat
            .is_some_and(|beat| beat.elapsed() <= age)
    }

    /// How often the worker failed and was built again.
    pub fn restarts(&self) -> u64 {
        self.lock().restarts
    }

    /// Why the worker last failed, if it ever did.
    pub fn last_error(&self) -> Option<String> {
        self.lock().last_error.clone()
    }

    fn failed(&self, error: String) {
        let mut state = self.lock();
        state.restarts += 1;
        state.last_error = Some(error);
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
            .field("restarts", &state.restarts)
            .field("last_error", &state.last_error)
            .finish()
    }
}

/// Runs a worker, and builds and runs it again whenever it fails, until it stops without an error
/// (a graceful shutdown).
///
/// `run` builds the worker and runs it: keep the same worker name across restarts (apalis then
/// hands the new worker the jobs the failed one held), and pass
/// [`health.listener()`](WorkerHealth::listener) to `on_event`. Between attempts it waits 1
/// second, doubling up to [`MAX_RESTART_BACKOFF`], and from 1 second again after a run that
/// lasted longer than that; each failure is logged at `error` with what to check.
///
/// ```no_run
/// use apalis::prelude::*;
/// use clerk_webhooks::queue::{retry_policy, supervise, worker_storage, QueuedDelivery, WorkerHealth};
///
/// async fn process(job: QueuedDelivery) -> Result<(), BoxDynError> {
///     let _event = job.event()?.event;
///     Ok(())
/// }
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let storage = worker_storage("redis://127.0.0.1:6379/", "myapp-production").await?;
/// let health = WorkerHealth::new();
/// supervise(&health, || {
///     WorkerBuilder::new("clerk-worker-1")
///         .backend(storage.clone())
///         .on_event(health.listener())
///         .retry(retry_policy())
///         .build(process)
///         .run()
/// })
/// .await;
/// # Ok(()) }
/// ```
pub async fn supervise<F, Fut, E>(health: &WorkerHealth, mut run: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: fmt::Display,
{
    let mut backoff = MIN_RESTART_BACKOFF;
    loop {
        let started = Instant::now();
        let Err(err) = run().await else {
            return;
        };
        if started.elapsed() > MAX_RESTART_BACKOFF {
            backoff = MIN_RESTART_BACKOFF;
        }
        let error = err.to_string();
        log_restart(&error, backoff);
        health.failed(error);
        tokio::time::sleep(backoff).await;
        backoff = backoff.saturating_mul(2).min(MAX_RESTART_BACKOFF);
    }
}

/// The retry schedule for delivery jobs: [`DEFAULT_RETRIES`] retries with exponential backoff from
/// 30 seconds to 2 hours (with jitter), about 30 hours in all, in the spirit of Svix's own
/// schedule (about 28 hours): a database outage of an afternoon ends with every job done, none
/// dead.
///
/// apalis-redis 1.0 declares a job dead after 25 attempts in all, whatever the policy says, so a
/// policy of your own should keep under 24 retries and stretch them in time instead.
pub fn retry_policy() -> BackoffRetryPolicy<ExponentialBackoff> {
    let (first, max) = (Duration::from_secs(30), Duration::from_secs(2 * 60 * 60));
    retry_policy_with(DEFAULT_RETRIES, first, max)
        .expect("30 seconds to 2 hours is a range tower's backoff accepts")
}

/// [`retry_policy`] with other numbers: `retries` retries, the first after about `first`, doubling
/// up to `max`.
///
/// # Errors
///
/// tower's [`InvalidBackoff`] when `max` is zero or below `first`: call it at startup.
pub fn retry_policy_with(
    retries: usize,
    first: Duration,
    max: Duration,
) -> Result<BackoffRetryPolicy<ExponentialBackoff>, InvalidBackoff> {
    let mut maker = ExponentialBackoffMaker::new(first, max, 0.5, HasherRng::default())?;
    Ok(RetryPolicy::retries(retries).with_backoff(maker.make_backoff()))
}

#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
fn log_restart(error: &str, wait: Duration) {
    error!(
        %error,
        restart_in = ?wait,
        "clerk webhook queue worker stopped; building it again (check that Redis is reachable)"
    );
}
