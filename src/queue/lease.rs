//! A worker's lease on jobs: what it says to Redis to register, stay alive, take a job, finish it
//! and leave, each in one Lua script so that no other worker ever sees half of it.
//!
//! The keys are apalis-redis 1.0's (see [`recovery`](super::recovery)), so a job queued by an
//! earlier version, and tools that read apalis-redis' layout, keep working. What differs from an
//! apalis-redis worker is what makes the queue's promises hold on real deployments:
//!
//! - **Time is Redis' own** (`TIME` inside each script): replicas on hosts whose clocks disagree
//!   agree on whose heartbeat is stale.
//! - **A name is held, not shared**: a registration is refused while the name's heartbeat is
//!   fresher than the lease, and a heartbeat or take that finds its registration gone says so
//!   instead of working on.
//! - **A worker is reclaimed only by a worker that has itself been reaching Redis for a whole
//!   lease** (the caller decides, and says so with `may_reclaim`): after a Redis restart every
//!   heartbeat is old, and nobody's jobs are taken from them before they could beat again.
//! - **Finishing is one idempotent script, awaited before the slot takes another job**: a finished
//!   job's completion is in Redis before the next job starts, a retried finish whose first answer
//!   was lost is recognised (`finished_by`), and a finish that lost its lease still wins if the
//!   job has not been taken again.
//! - **Strays go back**: a job this worker holds in Redis but does not run (a take whose answer
//!   was lost) is put back on the list by the next heartbeat.

use std::sync::LazyLock;
use std::time::Duration;

use apalis_redis::Config as QueueConfig;
use redis::aio::ConnectionLike;
use redis::Script;

/// A job this worker took: its task id, the job's JSON, and which attempt this is (1 for the
/// first run).
#[derive(Debug)]
pub(super) struct TakenJob {
    pub(super) task_id: String,
    pub(super) data: Vec<u8>,
    pub(super) attempt: u32,
}

/// What a take found.
#[derive(Debug)]
pub(super) enum Take {
    Job(TakenJob),
    Empty,
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
    /// Failed in a way no retry can fix ([`Abort`](super::Abort)): the dead set at once.
    Killed,
}

/// What a finish did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Finished {
    Recorded,
    /// The job had been taken from this worker and taken again by another: that run decides.
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

/// The keys of one queue and the name of one worker.
#[derive(Debug, Clone)]
pub(super) struct Lease {
    name: String,
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

impl Outcome {
    /// The metric's label.
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::Done => "done",
            Self::Retry(_) => "retry",
            Self::Dead => "dead",
            Self::Killed => "killed",
        }
    }
}

impl Lease {
    pub(super) fn new(config: &QueueConfig, name: &str, lease: Duration) -> Self {
        Self {
            name: name.to_owned(),
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

    /// Registers the name; `Ok(false)` when another worker holds it (its heartbeat is fresher than
    /// the lease). The jobs a stale registration of the name holds (this worker's earlier life,
    /// crashed) go back first, but those it still runs (`running`: registering again after it
    /// was taken over).
    pub(super) async fn register<C>(
        &self,
        connection: &mut C,
        running: impl Iterator<Item = &str>,
    ) -> redis::RedisResult<bool>
    where
        C: ConnectionLike + Send,
    {
        let mut invocation = REGISTER.prepare_invoke();
        invocation
            .key(&self.workers)
            .key(&self.inflight)
            .key(&self.active)
            .key(&self.meta)
            .key(&self.signal)
            .arg(&self.name)
            .arg(self.lease.as_secs_f64());
        for id in running {
            invocation.arg(id);
        }
        let registered: i64 = invocation.invoke_async(connection).await?;
        Ok(registered == 1)
    }

    /// Renews the registration; gives back the jobs this worker holds but does not run
    /// (`running`: the task ids it runs); when `may_reclaim`, gives back the jobs of workers whose
    /// heartbeat is older than the lease.
    pub(super) async fn beat<C>(
        &self,
        connection: &mut C,
        running: impl Iterator<Item = &str>,
        may_reclaim: bool,
    ) -> redis::RedisResult<Beat>
    where
        C: ConnectionLike + Send,
    {
        let mut invocation = HEARTBEAT.prepare_invoke();
        invocation
            .key(&self.workers)
            .key(&self.inflight)
            .key(&self.active)
            .key(&self.meta)
            .key(&self.signal)
            .arg(&self.name)
            .arg(self.lease.as_secs_f64())
            .arg(u8::from(may_reclaim));
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
        let reply: (String, String, Vec<u8>, u32) = TAKE
            .key(&self.workers)
            .key(&self.inflight)
            .key(&self.active)
            .key(&self.meta)
            .key(&self.data)
            .key(&self.scheduled)
            .key(&self.done)
            .key(&self.dead)
            .arg(&self.name)
            .invoke_async(connection)
            .await?;
        Ok(match reply {
            (state, task_id, data, attempt) if state == "job" => Take::Job(TakenJob {
                task_id,
                data,
                attempt,
            }),
            (state, ..) if state == "unregistered" => Take::Unregistered,
            _ => Take::Empty,
        })
    }

    /// Records how attempt `attempt` of `task_id` ended. Safe to call again when an answer was
    /// lost: the second call finds its own record.
    pub(super) async fn finish<C>(
        &self,
        connection: &mut C,
        task_id: &str,
        attempt: u32,
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
        let recorded: i64 = FINISH
            .key(&self.inflight)
            .key(&self.active)
            .key(&self.meta)
            .key(&self.done)
            .key(&self.dead)
            .key(&self.scheduled)
            .arg(&self.name)
            .arg(task_id)
            .arg(attempt)
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
    /// graceful stop (the jobs it could not finish within the grace period run again elsewhere).
    pub(super) async fn leave<C>(&self, connection: &mut C) -> redis::RedisResult<u64>
    where
        C: ConnectionLike + Send,
    {
        LEAVE
            .key(&self.workers)
            .key(&self.inflight)
            .key(&self.active)
            .key(&self.meta)
            .key(&self.signal)
            .arg(&self.name)
            .invoke_async(connection)
            .await
    }
}

/// What every script starts with: Redis' clock, and `give_back(id)` (a held job back on the active
/// list, as apalis-redis' `release_leases.lua` does) and `give_back_all(set)`. The common keys are
/// KEYS[1] workers, KEYS[2] inflight prefix, KEYS[3] active list, KEYS[4] meta prefix.
const PRELUDE: &str = r#"
if redis.replicate_commands then redis.replicate_commands() end
local clock = redis.call("TIME")
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000

local function give_back(set, id)
    if redis.call("srem", set, id) == 1 then
        redis.call("rpush", KEYS[3], id)
        local meta = KEYS[4] .. ":" .. id
        redis.call("hset", meta, "status", "Pending")
        redis.call("hdel", meta, "locked_at", "locked_by")
        return 1
    end
    return 0
end

-- Every job of `set` but those in `keep` (a table of ids).
local function give_back_all(set, keep)
    local count = 0
    for _, id in ipairs(redis.call("smembers", set)) do
        if not (keep and keep[id]) then
            count = count + give_back(set, id)
        end
    end
    return count
end

-- ARGV[first..] as a set.
local function ids_from(first)
    local ids = {}
    for i = first, #ARGV do
        ids[ARGV[i]] = true
    end
    return ids
end
"#;

fn script(body: &str) -> Script {
    Script::new(&format!("{PRELUDE}{body}"))
}

/// KEYS 5 signal list. ARGV 1 name, 2 lease (seconds), 3.. the task ids it runs. Returns 1, or 0
/// when the name is held.
static REGISTER: LazyLock<Script> = LazyLock::new(|| {
    script(
        r#"
local name, lease = ARGV[1], tonumber(ARGV[2])
local seen = redis.call("zscore", KEYS[1], name)
if seen and now - tonumber(seen) < lease then
    return 0
end
if give_back_all(KEYS[2] .. ":" .. name, ids_from(3)) > 0 then
    redis.call("del", KEYS[5])
    redis.call("lpush", KEYS[5], 1)
end
redis.call("zadd", KEYS[1], now, name)
return 1
"#,
    )
});

/// KEYS 5 signal list. ARGV 1 name, 2 lease, 3 may reclaim ("1"), 4.. the task ids it runs.
/// Returns {"alive" | "unregistered", reclaimed, strays}.
static HEARTBEAT: LazyLock<Script> = LazyLock::new(|| {
    script(
        r#"
local name, lease = ARGV[1], tonumber(ARGV[2])
if not redis.call("zscore", KEYS[1], name) then
    return {"unregistered", 0, 0}
end
redis.call("zadd", KEYS[1], now, name)

local strays = give_back_all(KEYS[2] .. ":" .. name, ids_from(4))

local reclaimed = 0
if ARGV[3] == "1" then
    for _, worker in ipairs(redis.call("zrangebyscore", KEYS[1], "-inf", now - lease)) do
        if worker ~= name then
            reclaimed = reclaimed + give_back_all(KEYS[2] .. ":" .. worker, nil)
            redis.call("zrem", KEYS[1], worker)
        end
    end
end
if reclaimed + strays > 0 then
    redis.call("del", KEYS[5])
    redis.call("lpush", KEYS[5], 1)
end
return {"alive", reclaimed, strays}
"#,
    )
});

/// KEYS 5 data hash, 6 scheduled set, 7 done set, 8 dead set. ARGV 1 name.
/// Returns {"job", id, data, attempt} | {"empty", "", "", 0} | {"unregistered", "", "", 0}.
static TAKE: LazyLock<Script> = LazyLock::new(|| {
    script(
        r#"
local name = ARGV[1]
if not redis.call("zscore", KEYS[1], name) then
    return {"unregistered", "", "", 0}
end
local due = redis.call("zrangebyscore", KEYS[6], "-inf", now, "LIMIT", 0, 100)
if #due > 0 then
    redis.call("rpush", KEYS[3], unpack(due))
    redis.call("zrem", KEYS[6], unpack(due))
end
for _ = 1, 100 do
    local id = redis.call("lpop", KEYS[3])
    if not id then
        break
    end
    local data = redis.call("hget", KEYS[5], id)
    local finished = redis.call("sismember", KEYS[7], id) == 1
        or redis.call("sismember", KEYS[8], id) == 1
    if data and not finished then
        local meta = KEYS[4] .. ":" .. id
        local attempt = redis.call("hincrby", meta, "attempts", 1)
        redis.call("hset", meta, "status", "Running", "locked_by", name, "locked_at", math.floor(now))
        redis.call("sadd", KEYS[2] .. ":" .. name, id)
        return {"job", id, data, attempt}
    end
end
return {"empty", "", "", 0}
"#,
    )
});

/// KEYS 1 inflight prefix, 2 active list, 3 meta prefix, 4 done set, 5 dead set, 6 scheduled set.
/// ARGV 1 name, 2 id, 3 attempt, 4 "done" | "retry" | "dead" | "killed", 5 result, 6 retry delay
/// (seconds).
/// Returns 1 when recorded (now or by an earlier call), 0 when another worker runs the job.
static FINISH: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r##"
if redis.replicate_commands then redis.replicate_commands() end
local clock = redis.call("TIME")
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local name, id, attempt, kind = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local meta = KEYS[3] .. ":" .. id
local token = name .. "#" .. attempt

if redis.call("srem", KEYS[1] .. ":" .. name, id) == 0 then
    if redis.call("hget", meta, "finished_by") == token then
        return 1
    end
    -- Taken from this worker (it missed its heartbeats) but not taken again yet: this run
    -- finished, so it decides.
    if redis.call("lrem", KEYS[2], 0, id) == 0 then
        return 0
    end
end

local status = "Failed"
if kind == "done" then
    redis.call("sadd", KEYS[4], id)
    status = "Done"
elseif kind == "retry" then
    redis.call("zadd", KEYS[6], now + tonumber(ARGV[6]), id)
else
    redis.call("sadd", KEYS[5], id)
    if kind == "killed" then
        status = "Killed"
    end
end
redis.call("hset", meta, "status", status, "result", ARGV[5], "done_at", math.floor(now),
    "finished_by", token)
redis.call("hdel", meta, "locked_at", "locked_by")
return 1
"##,
    )
});

/// KEYS 5 signal list. ARGV 1 name. Returns how many jobs went back.
static LEAVE: LazyLock<Script> = LazyLock::new(|| {
    script(
        r#"
local given = give_back_all(KEYS[2] .. ":" .. ARGV[1], nil)
redis.call("zrem", KEYS[1], ARGV[1])
if given > 0 then
    redis.call("del", KEYS[5])
    redis.call("lpush", KEYS[5], 1)
end
return given
"#,
    )
});
