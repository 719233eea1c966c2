//! The worker: takes jobs from an endpoint's queue, runs the app's handler on each, records how
//! each ended before it takes the next, and stops gracefully.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use apalis_redis::Config as QueueConfig;
use redis::aio::ConnectionManager;
use tokio::sync::watch;
use tokio::task::{AbortHandle, JoinSet};

use super::connection::{queue_config, ConnectOptions, QueueError};
use super::lease::{Beat, Finished, Lease, Outcome, Take, TakenJob};
use super::random_u64;
use clerk_webhooks::__private::log::{debug, error, info, warn};
use clerk_webhooks::__private::metrics;
use clerk_webhooks::queue::{Abort, QueuedDelivery, RetryPolicy, WorkerHealth};
use clerk_webhooks::BoxError;

/// How many jobs a worker runs at once unless told otherwise.
pub const DEFAULT_CONCURRENCY: usize = 4;
/// How long a worker may miss its heartbeats (one a second) before another takes its jobs over.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);
/// How long a stopping worker lets its running jobs finish: under the 30 seconds orchestrators
/// (Kubernetes, ECS, systemd) allow between `SIGTERM` and `SIGKILL`.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(25);

/// How often an idle worker looks for new jobs, and how soon it tries Redis again in an outage.
const DEFAULT_POLL_INTERVAL: Duration = Duration::from_millis(200);
/// The longest pause between two tries of a job's record while Redis is away.
const MAX_RECORD_PAUSE: Duration = Duration::from_secs(1);
/// What a stop allows, after the grace period, for cancelled jobs to be given back and for leaving:
/// with the default grace, the whole stop fits in the 30 seconds orchestrators allow.
const RELEASE_BUDGET: Duration = Duration::from_millis(2_000);

/// Consumes an endpoint's queue of [`QueuedDelivery`] jobs: takes up to
/// [`concurrency`](Self::concurrency) at a time, runs the handler on each, retries failures on a
/// [`RetryPolicy`], and stops gracefully.
///
/// ```no_run
/// use clerk_webhooks::queue::QueuedDelivery;
/// use clerk_webhooks_redis::queue::Worker;
/// use clerk_webhooks::{BoxError, ClerkEvent};
///
/// async fn process(job: QueuedDelivery) -> Result<(), BoxError> {
///     if let ClerkEvent::UserCreated(user) = job.event()?.event {
///         println!("welcome {}", user.id);
///     }
///     Ok(())
/// }
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let worker = Worker::connect("redis://127.0.0.1:6379/", "myapp-production").await?;
/// // Stops taking jobs at Ctrl-C (or SIGTERM, see the `queue_worker` example) and lets the
/// // running ones finish.
/// worker
///     .run(process, async {
///         let _ = tokio::signal::ctrl_c().await;
///     })
///     .await?;
/// # Ok(()) }
/// ```
///
/// What it promises, with a Redis that keeps what it acknowledges (the route checks it,
/// [`RedisQueue::connect`](super::RedisQueue::connect)):
/// - **A job runs once while its worker lives.** Each worker holds the jobs it runs under its own
///   name, unique per process by default ([`named`](Self::named) to choose one; a name whose
///   holder beat within the lease is refused at [`run`](Self::run)), so any number of replicas
///   and rolling deploys share a queue.
/// - **A finished job is recorded in Redis before its slot takes another**, and the record is
///   retried until Redis takes it: a Redis restart or crash re-runs nothing that finished, and
///   the worker carries on within about a second of Redis answering again.
/// - **A worker that dies** (`kill -9`, a lost host) has its running jobs run again by another
///   worker once its heartbeat is older than the [`lease`](Self::lease): those jobs ran part-way
///   and run again, so their effects are at least once. So are the effects of a job whose worker
///   was cut off from Redis for longer than the lease ([`WorkerHealth::lost_leases`] counts them)
///   and of a job a stop could not finish within its [grace](Self::shutdown_grace).
/// - **One job's trouble stays its own**: a handler that fails, panics, or finishes after its lease
///   was lost affects that job only.
pub struct Worker {
    connection: ConnectionManager,
    config: QueueConfig,
    name: String,
    concurrency: usize,
    retry: RetryPolicy,
    lease: Duration,
    grace: Duration,
    poll_interval: Duration,
    health: WorkerHealth,
}

impl Worker {
    /// A worker for the queue named `endpoint` (the name its route was given,
    /// [`RedisQueue::connect`](super::RedisQueue::connect)), reaching Redis with `options`
    /// (or a URL with the [defaults](ConnectOptions)).
    ///
    /// # Errors
    ///
    /// [`QueueError::Redis`] when the URL is malformed or Redis cannot be reached now.
    pub async fn connect(
        options: impl Into<ConnectOptions>,
        endpoint: &str,
    ) -> Result<Self, QueueError> {
        clerk_webhooks::__private::metrics::describe();
        let connection = options.into().connect().await?;
        Ok(Self {
            connection,
            config: queue_config(endpoint),
            name: default_name(),
            concurrency: DEFAULT_CONCURRENCY,
            retry: RetryPolicy::default(),
            lease: DEFAULT_LEASE,
            grace: DEFAULT_SHUTDOWN_GRACE,
            poll_interval: DEFAULT_POLL_INTERVAL,
            health: WorkerHealth::default(),
        })
    }

    /// The name this worker registers under. The default is unique per process (host name,
    /// process id and a random part); a name of your own must be too: while one process holds a
    /// name, [`run`](Self::run) in another is refused ([`QueueError::WorkerNameInUse`]).
    #[must_use]
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The name this worker registers under.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How many jobs it runs at once (default [`DEFAULT_CONCURRENCY`]; at least 1): what a backlog
    /// after an outage can put on your database at once, per process.
    #[must_use]
    pub fn concurrency(mut self, jobs: usize) -> Self {
        self.concurrency = jobs.max(1);
        self
    }

    /// How failed jobs are retried (default [`RetryPolicy::default`]).
    #[must_use]
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// How long this worker's heartbeat may be missing before another worker runs its jobs again
    /// (default [`DEFAULT_LEASE`]; at least 1 second): the longest a crashed worker's jobs wait,
    /// and the longest a worker cut off from Redis keeps its jobs.
    #[must_use]
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease.clamp(Duration::from_secs(1), Duration::from_secs(24 * 60 * 60));
        self
    }

    /// How long a stop lets running jobs finish (default [`DEFAULT_SHUTDOWN_GRACE`]); the jobs
    /// still running then are cancelled and go back to the queue. A stop takes up to about 4
    /// seconds more to give them back and leave: keep the sum under what your orchestrator allows
    /// between `SIGTERM` and `SIGKILL`.
    #[must_use]
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// How often an idle worker looks for new jobs (default 200 ms).
    #[must_use]
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval.clamp(Duration::from_millis(10), Duration::from_secs(60));
        self
    }

    /// Whether this worker is alive, for a health endpoint.
    pub fn health(&self) -> WorkerHealth {
        self.health.clone()
    }

    /// Runs `handler` on each job until `shutdown` completes, then stops taking jobs, lets the
    /// running ones finish within the [grace period](Self::shutdown_grace), and returns.
    ///
    /// A handler's `Err` (or panic) is retried on the [`RetryPolicy`]; after the last retry, or at
    /// once for an [`Abort`] (a failure no retry can fix), the job is dead ([`dead_jobs`](super::dead_jobs)), kept for an operator to re-queue. Redis
    /// outages do not end it: it logs the outage once, keeps its jobs' records until Redis takes
    /// them, and carries on when Redis is back.
    ///
    /// # Errors
    ///
    /// [`QueueError::WorkerNameInUse`] when another live process holds this worker's
    /// [name](Self::named): at start, or later if that process took the name over while this one
    /// was cut off from Redis (this worker then stops as for `shutdown`, its running jobs first).
    pub async fn run<H, Fut, E>(
        self,
        handler: H,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), QueueError>
    where
        H: Fn(QueuedDelivery) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<BoxError> + Send + 'static,
    {
        let (stopping, stop_requested) = watch::channel(false);
        let token = format!("{:016x}", random_u64());
        let mut run = Run {
            lease: Arc::new(Lease::new(&self.config, &self.name, &token, self.lease)),
            connection: self.connection.clone(),
            handler: Arc::new(handler),
            jobs: JoinSet::new(),
            running: HashMap::new(),
            outage: None,
            next_beat: Instant::now(),
            heartbeat: (self.lease / 10).clamp(Duration::from_millis(100), Duration::from_secs(1)),
            stopping,
            stop_requested,
            worker: self,
        };
        tokio::pin!(shutdown);
        tokio::select! {
            registered = run.register() => registered?,
            () = &mut shutdown => return Ok(()),
        }
        info!(
            worker = run.lease.name(),
            concurrency = run.worker.concurrency,
            "clerk webhook queue worker started"
        );
        let mut next_take = Instant::now();
        let refused = loop {
            let mut failed = None;
            while failed.is_none()
                && run.jobs.len() < run.worker.concurrency
                && Instant::now() >= next_take
            {
                match run.take_one().await {
                    Ok(true) => {}
                    Ok(false) => next_take = later(run.worker.poll_interval),
                    Err(err) => failed = Some(err),
                }
            }
            if let Some(err) = failed {
                break Some(err);
            }
            let room = run.jobs.len() < run.worker.concurrency;
            let wake = if room {
                run.next_beat.min(next_take)
            } else {
                run.next_beat
            };
            tokio::select! {
                () = &mut shutdown => break None,
                Some(joined) = run.jobs.join_next_with_id() => run.joined(joined),
                () = tokio::time::sleep_until(wake.into()) => {}
            }
            if let Err(err) = run.beat_if_due().await {
                break Some(err);
            }
        };
        // A name another process took over is a stop too: the running jobs finish first.
        run.stop().await;
        refused.map_or(Ok(()), Err)
    }
}

/// `after` from now, or far in the future when that cannot be said.
fn later(after: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(after)
        .unwrap_or_else(|| now + Duration::from_secs(24 * 60 * 60))
}

impl fmt::Debug for Worker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Worker")
            .field("queue", &self.config.active_jobs_list())
            .field("name", &self.name)
            .field("concurrency", &self.concurrency)
            .field("retry", &self.retry)
            .field("lease", &self.lease)
            .field("grace", &self.grace)
            .finish_non_exhaustive()
    }
}

/// A running worker's state.
struct Run<H> {
    worker: Worker,
    lease: Arc<Lease>,
    connection: ConnectionManager,
    handler: Arc<H>,
    jobs: JoinSet<()>,
    /// The task id of each running job, by the tokio task that runs it.
    running: HashMap<tokio::task::Id, String>,
    /// Since when Redis has been failing, to log an outage once.
    outage: Option<Instant>,
    next_beat: Instant,
    heartbeat: Duration,
    /// Set when the grace period of a stop is over: running handlers are cancelled.
    stopping: watch::Sender<bool>,
    stop_requested: watch::Receiver<bool>,
}

impl<H, Fut, E> Run<H>
where
    H: Fn(QueuedDelivery) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: Into<BoxError> + Send + 'static,
{
    /// Registers the name, waiting out an outage.
    async fn register(&mut self) -> Result<(), QueueError> {
        loop {
            let running = self.running.values().map(String::as_str);
            match self.lease.register(&mut self.connection, running).await {
                Ok(true) => {
                    self.reached();
                    return Ok(());
                }
                Ok(false) => {
                    return Err(QueueError::WorkerNameInUse {
                        name: self.lease.name().to_owned(),
                    })
                }
                Err(err) => {
                    self.unreachable(&err);
                    tokio::time::sleep(self.worker.poll_interval).await;
                }
            }
        }
    }

    /// Takes one job and starts it; `false` when there was none (or Redis failed).
    async fn take_one(&mut self) -> Result<bool, QueueError> {
        match self.lease.take(&mut self.connection).await {
            Ok(Take::Job(job)) => {
                self.reached();
                let task_id = job.task_id.clone();
                let started = self.jobs.spawn(run_job(
                    job,
                    Arc::clone(&self.handler),
                    Arc::clone(&self.lease),
                    self.connection.clone(),
                    self.worker.retry,
                    self.worker.health.clone(),
                    self.stop_requested.clone(),
                ));
                self.running.insert(started.id(), task_id);
                Ok(true)
            }
            Ok(Take::Empty) => {
                self.reached();
                Ok(false)
            }
            Ok(Take::Skipped) => {
                self.reached();
                Ok(true)
            }
            Ok(Take::Unregistered) => {
                self.lost_registration();
                self.register().await?;
                Ok(false)
            }
            Err(err) => {
                self.unreachable(&err);
                Ok(false)
            }
        }
    }

    fn joined(&mut self, joined: Result<(tokio::task::Id, ()), tokio::task::JoinError>) {
        let id = match joined {
            Ok((id, ())) => id,
            Err(err) => err.id(),
        };
        self.running.remove(&id);
    }

    async fn beat_if_due(&mut self) -> Result<(), QueueError> {
        if Instant::now() < self.next_beat {
            return Ok(());
        }
        self.next_beat = Instant::now() + self.heartbeat;
        let running = self.running.values().map(String::as_str);
        match self.lease.beat(&mut self.connection, running).await {
            Ok(Beat::Alive { reclaimed, strays }) => {
                self.reached();
                if reclaimed > 0 {
                    warn!(
                        jobs = reclaimed,
                        "clerk webhook queue: jobs of a worker that stopped beating for longer than \
                         the lease go back to the queue (they ran part-way and run again)"
                    );
                }
                if strays > 0 {
                    debug!(
                        jobs = strays,
                        "clerk webhook queue: unstarted jobs given back"
                    );
                }
            }
            Ok(Beat::Unregistered) => {
                self.lost_registration();
                self.register().await?;
            }
            Err(err) => self.unreachable(&err),
        }
        Ok(())
    }

    /// Stops taking jobs, lets the running ones finish within the grace period (still beating, so
    /// that nobody takes them over), then cancels the handlers still running: their jobs go back
    /// to the list (a job whose handler had finished keeps its own record). Then it leaves.
    #[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
    async fn stop(mut self) {
        info!(
            worker = self.lease.name(),
            running = self.jobs.len(),
            grace = ?self.worker.grace,
            "clerk webhook queue worker stopping: finishing its running jobs"
        );
        let deadline = later(self.worker.grace);
        let cancelled = self.finish_jobs_until(deadline).await;
        if cancelled > 0 {
            let _ = self.stopping.send(true);
            // Cancelled handlers record their jobs as given back: one round trip each, in parallel.
            self.finish_jobs_until(later(RELEASE_BUDGET)).await;
        }
        let abandoned = self.jobs.len();
        self.jobs.shutdown().await;
        let left =
            tokio::time::timeout(RELEASE_BUDGET, self.lease.leave(&mut self.connection)).await;
        match left {
            Ok(Ok(_)) if cancelled > 0 => warn!(
                worker = self.lease.name(),
                cancelled,
                "clerk webhook queue worker stopped; jobs still running after the grace period \
                 were cancelled and go back to the queue (they ran part-way and run again)"
            ),
            Ok(Ok(_)) => info!(
                worker = self.lease.name(),
                "clerk webhook queue worker stopped"
            ),
            _ => error!(
                worker = self.lease.name(),
                abandoned,
                "clerk webhook queue worker stopped without reaching Redis; its unfinished jobs \
                 run again once its lease expires"
            ),
        }
    }

    /// Waits for the running jobs until `deadline`, beating meanwhile; how many still run then.
    async fn finish_jobs_until(&mut self, deadline: Instant) -> usize {
        while !self.jobs.is_empty() && Instant::now() < deadline {
            let wake = self.next_beat.min(deadline);
            tokio::select! {
                Some(joined) = self.jobs.join_next_with_id() => self.joined(joined),
                () = tokio::time::sleep_until(wake.into()) => {}
            }
            // A name taken over while stopping changes nothing here: the jobs still finish.
            let _ = self.beat_if_due().await;
        }
        self.jobs.len()
    }

    #[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
    fn reached(&mut self) {
        self.worker.health.beat();
        if let Some(since) = self.outage.take() {
            info!(
                worker = self.lease.name(),
                after = ?since.elapsed(),
                "clerk webhook queue worker reaches Redis again"
            );
        }
    }

    fn unreachable(&mut self, err: &redis::RedisError) {
        if self.outage.is_none() {
            self.outage = Some(Instant::now());
            self.worker.health.outage(err.to_string());
            error!(
                worker = self.lease.name(),
                error = %err,
                "clerk webhook queue worker cannot reach Redis; retrying (finished jobs are \
                 recorded once it is back)"
            );
        }
    }

    fn lost_registration(&self) {
        error!(
            worker = self.lease.name(),
            "clerk webhook queue worker missed its heartbeats for longer than the lease and was \
             taken over: registering again (its running jobs may run twice)"
        );
    }
}

/// One job: the handler in a task of its own (a panic is a failure, and cancelling the job
/// cancels the handler), then its record, retried until Redis takes it.
async fn run_job<H, Fut, E>(
    job: TakenJob,
    handler: Arc<H>,
    lease: Arc<Lease>,
    mut connection: ConnectionManager,
    retry: RetryPolicy,
    health: WorkerHealth,
    mut stopping: watch::Receiver<bool>,
) where
    H: Fn(QueuedDelivery) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: Into<BoxError> + Send + 'static,
{
    let delivery = serde_json::from_slice::<QueuedDelivery>(&job.data);
    let svix_id = delivery.as_ref().ok().map(|delivery| delivery.id.clone());
    let ran = match delivery {
        Ok(delivery) => {
            // The handler is called inside its task too: a panic while it builds its future is
            // the job's failure, like any other.
            let handle = tokio::spawn(async move { handler(delivery).await });
            let cancel = CancelOnDrop(handle.abort_handle());
            let stopped = async {
                let _ = stopping.wait_for(|stop| *stop).await;
            };
            tokio::select! {
                joined = handle => Ran::from(joined),
                () = stopped => {
                    drop(cancel);
                    Ran::Cancelled
                }
            }
        }
        // Not a job of ours: no run can read it, so it is not retried.
        Err(err) => Ran::Failed(format!("the job is not a delivery: {err}"), false),
    };
    let (outcome, result) = match &ran {
        Ran::Done => (Outcome::Done, r#"{"Ok":null}"#.to_owned()),
        Ran::Cancelled => (
            Outcome::Released,
            serde_json::json!({ "Err": "cancelled by a stop" }).to_string(),
        ),
        Ran::Failed(error, retriable) => {
            let pause = retriable
                .then(|| retry.after_failure(job.attempt, random_u64()))
                .flatten();
            log_failure(svix_id.as_deref(), &job, error, pause);
            let outcome = match pause {
                Some(pause) => Outcome::Retry(pause),
                None if *retriable => Outcome::Dead,
                None => Outcome::Killed,
            };
            (outcome, serde_json::json!({ "Err": error }).to_string())
        }
    };
    let mut pause = Duration::from_millis(50);
    let mut logged = false;
    loop {
        match lease.finish(&mut connection, &job, outcome, &result).await {
            Ok(Finished::Recorded) => {
                metrics::job(outcome.as_str());
                return;
            }
            Ok(Finished::LeaseLost) => {
                metrics::job("lease_lost");
                health.lost_lease();
                warn!(
                    svix_id,
                    task_id = job.task_id,
                    "clerk webhook job finished after another run took it over (its worker missed \
                     its heartbeats for longer than the lease, or a replay queued it again); that \
                     run decides"
                );
                return;
            }
            Err(err) => {
                // The worker logs an outage; anything else (a script Redis refuses) is said here,
                // once. The job keeps its slot until its record is in.
                let outage = err.is_io_error() || err.is_timeout() || err.is_connection_dropped();
                if !(logged || outage) {
                    logged = true;
                    error!(
                        svix_id,
                        task_id = job.task_id,
                        error = %err,
                        "clerk webhook job finished but Redis refuses its record; retrying"
                    );
                }
                tokio::time::sleep(pause).await;
                pause = pause.saturating_mul(2).min(MAX_RECORD_PAUSE);
            }
        }
    }
}

/// How a handler's run ended.
enum Ran {
    Done,
    /// Failed, with the error's text, and whether a retry can help.
    Failed(String, bool),
    /// Cancelled by a stop whose grace period was over.
    Cancelled,
}

impl<E: Into<BoxError>> From<Result<Result<(), E>, tokio::task::JoinError>> for Ran {
    fn from(joined: Result<Result<(), E>, tokio::task::JoinError>) -> Self {
        match joined {
            Ok(Ok(())) => Self::Done,
            Ok(Err(err)) => {
                let err: BoxError = err.into();
                let retriable = err.downcast_ref::<Abort>().is_none();
                Self::Failed(err.to_string(), retriable)
            }
            Err(err) if err.is_panic() => Self::Failed("the handler panicked".to_owned(), true),
            Err(_) => Self::Cancelled,
        }
    }
}

struct CancelOnDrop(AbortHandle);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
fn log_failure(svix_id: Option<&str>, job: &TakenJob, error: &str, retry_in: Option<Duration>) {
    if let Some(pause) = retry_in {
        warn!(
            svix_id,
            task_id = job.task_id,
            attempt = job.attempt,
            %error,
            retry_in = ?pause,
            "clerk webhook job failed; it will run again"
        );
    } else {
        error!(
            svix_id,
            task_id = job.task_id,
            attempt = job.attempt,
            %error,
            "clerk webhook job failed for the last time; it is dead (see `clerk-webhooks queue dead`)"
        );
    }
}

/// A name unique to this process: the host, the process id and a random part.
fn default_name() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|host| host.trim().to_owned())
        .filter(|host| !host.is_empty())
        .unwrap_or_else(|| "worker".to_owned());
    format!("{host}-{}-{:08x}", std::process::id(), random_u64() as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_names_differ_within_one_process() {
        let (first, second) = (default_name(), default_name());
        assert_ne!(first, second);
        assert!(first.contains(&std::process::id().to_string()));
    }
}
