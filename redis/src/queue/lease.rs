//! A worker's lease on jobs: what it says to Redis to register, stay alive, take a job, finish it
//! and leave, each in one Lua script so that no other worker ever sees half of it.
//!
//! The keys are apalis-redis 1.0's (see [`recovery`](super::recovery)), so a job queued by an
//! earlier version, and tools that read apalis-redis' layout, keep working. What differs from an
//! apalis-redis worker is what makes the queue's promises hold on real deployments:
//!
//! - **Time is Redis' own** (`TIME` inside each script): replicas on hosts whose clocks disagree,
//!   and commands that wait in a frozen Redis, agree on whose heartbeat is stale.
//! - **A name is held, not shared**: a registration carries the process' own token; it is refused
//!   while another token's heartbeat is fresher than the lease, and a heartbeat or take that finds
//!   its registration gone (or someone else's) says so instead of working on. Registering twice
//!   with one token (a retry whose first answer was lost) is harmless.
//! - **A worker is reclaimed only by a worker that has itself beaten steadily for a whole lease**,
//!   judged by Redis' clock (`{workers}:alive`): after a Redis restart or freeze every heartbeat is
//!   old, and nobody's jobs are taken from them before they could beat again.
//! - **Each take is a lease of its own** (`lease` in the job's metadata, from a counter that never
//!   goes back): finishing checks it, so a finish retried after its answer was lost is recognised
//!   (`finished_by`), one that belongs to an earlier take changes nothing, and one whose job was
//!   given back but not taken again still wins.
//! - **Strays go back unrun**: a job this worker holds in Redis but does not run (a take whose
//!   answer was lost) is put back on the list by the next heartbeat, its attempt not counted.

use std::sync::LazyLock;
use std::time::Duration;

use apalis_redis::Config as QueueConfig;
use redis::aio::ConnectionLike;
use redis::Script;

/// A job this worker took: its task id, the job's JSON, which attempt this is (1 for the first
/// run), and the lease its finish must show.
#[derive(Debug)]
pub(super) struct TakenJob {
    pub(super) task_id: String,
    pub(super) data: Vec<u8>,
    pub(super) attempt: u32,
    pub(super) lease: String,
}

/// What a take found.
#[derive(Debug)]
pub(super) enum Take {
    Job(TakenJob),
    /// Nothing to run now.
    Empty,
    /// Only ids of jobs already finished or deleted were found: look again at once.
    Skipped,
    /// This worker's registration is gone (it was reclaimed): register again before taking.
    Unregistered,
}

/// What happened to a finished job, as its worker decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Outcome {
    Done,
    /// Failed; run it again after this delay.
    Retry(Duration),
    /// Failed for the last time: the dead set.
    Dead,
    /// Failed in a way no retry can fix ([`Abort`](clerk_webhooks::queue::Abort)): the dead set at once.
    Killed,
    /// Cancelled by a stop: back on the list for another worker.
    Released,
}

impl Outcome {
    /// The word the finish script and the metric use.
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::Done => "done",
            Self::Retry(_) => "retry",
            Self::Dead => "dead",
            Self::Killed => "killed",
            Self::Released => "released",
        }
    }
}

/// What a finish did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Finished {
    Recorded,
    /// The job is another take's now (another worker's, or a replay's): that one decides.
    LeaseLost,
}

/// What a heartbeat did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Beat {
    /// Alive; `reclaimed` jobs of dead workers went back on the list, `strays` of our own.
    Alive {
        reclaimed: u64,
        strays: u64,
    },
    Unregistered,
}

/// The keys of one queue, and the name and token of one worker.
#[derive(Debug, Clone)]
pub(super) struct Lease {
    name: String,
    token: String,
    lease: Duration,
    workers: String,
    inflight: String,
    active: String,
    signal: String,
    meta: String,
    data: String,
    scheduled: String,
    done: String,
    dead: String,
}

impl Lease {
    /// `token` tells this process' registration of `name` from any other's.
    pub(super) fn new(config: &QueueConfig, name: &str, token: &str, lease: Duration) -> Self {
        Self {
            name: name.to_owned(),
            token: token.to_owned(),
            lease,
            workers: config.workers_set(),
            inflight: config.inflight_jobs_set(),
            active: config.active_jobs_list(),
            signal: config.signal_list(),
            meta: config.job_meta_hash(),
            data: config.job_data_hash(),
            scheduled: config.scheduled_jobs_set(),
            done: config.done_jobs_set(),
            dead: config.dead_jobs_set(),
        }
    }

    pub(super) fn name(&self) -> &str {
        &self.name
    }

    /// The common keys and arguments of the registration scripts: KEYS 1 workers, 2 inflight
    /// prefix, 3 active list, 4 meta prefix, 5 signal list; ARGV 1 name, 2 token, 3 lease.
    fn invocation(&self, script: &'static Script) -> redis::ScriptInvocation<'static> {
        let mut invocation = script.prepare_invoke();
        invocation
            .key(&self.workers)
            .key(&self.inflight)
            .key(&self.active)
            .key(&self.meta)
            .key(&self.signal)
            .arg(&self.name)
            .arg(&self.token)
            .arg(self.lease.as_secs_f64());
        invocation
    }

    /// Registers the name; `Ok(false)` when another process holds it (its heartbeat is fresher
    /// than the lease). The jobs a stale registration of the name holds (a crashed process) go
    /// back first, but those this worker still runs (`running`: registering again after it was
    /// taken over), which it takes back if nobody has taken them since.
    pub(super) async fn register<C>(
        &self,
        connection: &mut C,
        running: impl Iterator<Item = &str>,
    ) -> redis::RedisResult<bool>
    where
        C: ConnectionLike + Send,
    {
        let mut invocation = self.invocation(&REGISTER);
        for id in running {
            invocation.arg(id);
        }
        let registered: i64 = invocation.invoke_async(connection).await?;
        Ok(registered == 1)
    }

    /// Renews the registration; gives back the jobs this worker holds but does not run
    /// (`running`: the task ids it runs); and, when this worker has beaten steadily for a whole
    /// lease, gives back the jobs of workers whose heartbeat is older than the lease.
    pub(super) async fn beat<C>(
        &self,
        connection: &mut C,
        running: impl Iterator<Item = &str>,
    ) -> redis::RedisResult<Beat>
    where
        C: ConnectionLike + Send,
    {
        let mut invocation = self.invocation(&HEARTBEAT);
        for id in running {
            invocation.arg(id);
        }
        let (state, reclaimed, strays): (String, u64, u64) =
            invocation.invoke_async(connection).await?;
        Ok(if state == "alive" {
            Beat::Alive { reclaimed, strays }
        } else {
            Beat::Unregistered
        })
    }

    /// Takes the next job: retries that are due go on the list first; a job already done or dead
    /// (a stray id) is passed over.
    pub(super) async fn take<C>(&self, connection: &mut C) -> redis::RedisResult<Take>
    where
        C: ConnectionLike + Send,
    {
        let (state, task_id, data, attempt, lease): (String, String, Vec<u8>, u32, String) = self
            .invocation(&TAKE)
            .key(&self.data)
            .key(&self.scheduled)
            .key(&self.done)
            .key(&self.dead)
            .invoke_async(connection)
            .await?;
        Ok(match state.as_str() {
            "job" => Take::Job(TakenJob {
                task_id,
                data,
                attempt,
                lease,
            }),
            "skipped" => Take::Skipped,
            "unregistered" => Take::Unregistered,
            _ => Take::Empty,
        })
    }

    /// Records how `job` ended. Safe to call again when an answer was lost: the second call finds
    /// its own record.
    pub(super) async fn finish<C>(
        &self,
        connection: &mut C,
        job: &TakenJob,
        outcome: Outcome,
        result: &str,
    ) -> redis::RedisResult<Finished>
    where
        C: ConnectionLike + Send,
    {
        let delay = match outcome {
            Outcome::Retry(delay) => delay.as_secs_f64(),
            _ => 0.0,
        };
        let recorded: i64 = self
            .invocation(&FINISH)
            .key(&self.done)
            .key(&self.dead)
            .key(&self.scheduled)
            .arg(&job.task_id)
            .arg(&job.lease)
            .arg(outcome.as_str())
            .arg(result)
            .arg(delay)
            .invoke_async(connection)
            .await?;
        Ok(if recorded == 1 {
            Finished::Recorded
        } else {
            Finished::LeaseLost
        })
    }

    /// Gives back every job this worker still holds and removes its registration: the end of a
    /// graceful stop.
    pub(super) async fn leave<C>(&self, connection: &mut C) -> redis::RedisResult<u64>
    where
        C: ConnectionLike + Send,
    {
        self.invocation(&LEAVE).invoke_async(connection).await
    }
}

/// What every script starts with. KEYS 1 workers, 2 inflight prefix, 3 active list, 4 meta prefix,
/// 5 signal list; ARGV 1 name, 2 token, 3 lease (seconds). `{workers}:owners` holds each name's
/// token, `{workers}:alive` since when each worker has beaten steadily.
const PRELUDE: &str = include_str!("lua/lease_prelude.lua");

fn script(body: &str) -> Script {
    Script::new(&format!("{PRELUDE}{body}"))
}

/// ARGV 4.. the task ids it runs. Returns 1, or 0 when another process holds the name.
static REGISTER: LazyLock<Script> =
    LazyLock::new(|| script(include_str!("lua/lease_register.lua")));

/// ARGV 4.. the task ids it runs. Returns {"alive" | "unregistered", reclaimed, strays}.
static HEARTBEAT: LazyLock<Script> =
    LazyLock::new(|| script(include_str!("lua/lease_heartbeat.lua")));

/// KEYS 6 data hash, 7 scheduled set, 8 done set, 9 dead set.
/// Returns {state, id, data, attempt, lease}, state one of "job", "empty", "skipped",
/// "unregistered".
static TAKE: LazyLock<Script> = LazyLock::new(|| script(include_str!("lua/lease_take.lua")));

/// KEYS 6 done set, 7 dead set, 8 scheduled set. ARGV 4 id, 5 its lease, 6 "done" | "retry" |
/// "dead" | "killed" | "released", 7 result, 8 retry delay (seconds).
/// Returns 1 when recorded (now, or by an earlier call with this lease), 0 when the job is another
/// take's now.
static FINISH: LazyLock<Script> = LazyLock::new(|| script(include_str!("lua/lease_finish.lua")));

/// Returns how many jobs went back.
static LEAVE: LazyLock<Script> = LazyLock::new(|| script(include_str!("lua/lease_leave.lua")));
