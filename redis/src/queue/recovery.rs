//! What happens to a delivery after its job: the answer a replay gets, dead jobs brought back, and
//! finished jobs swept away.
//!
//! Each delivery's latest job is recorded under the delivery's [`key`](clerk_webhooks::Delivery::key) for as
//! long as the job exists, so a replay is answered from what became of that job (and a dead job
//! comes back), and a dead job a newer job superseded is never queued again. The keys are
//! apalis-redis 1.0's, each change one Lua script so that a worker never sees half of it:
//!
//! - `{queue}:data` (job id → the job's JSON) and `{queue}:meta:{id}` (attempts, status, ...);
//! - `{queue}:active` (a list of ids ready to run), `{queue}:signal`, `{queue}:scheduled`;
//! - `{queue}:done` and `{queue}:dead` (sets of ids), `{queue}:idempotency:{key}` (→ the id,
//!   expiring), and this crate's `{queue}:deliveries` (key → the latest id, until it is swept).

use std::sync::LazyLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use apalis_redis::Config as QueueConfig;
use redis::aio::ConnectionLike;
use redis::Script;

use super::connection::{queue_config, QueueError};
use clerk_webhooks::queue::{Enqueued, QueuedDelivery};

/// How long [`sweep_done`] keeps a finished job by default: 7 days, so a finished job can be looked
/// at for a week and a replay meanwhile is answered "done" from it. (A replay after the sweep is a
/// new job: a delivery replayed by hand weeks later runs again.)
pub const DEFAULT_DONE_RETENTION: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// A job that this crate's workers gave up on, as [`dead_jobs`] lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeadJob {
    /// The task id: what [`requeue_dead`] takes.
    pub task_id: String,
    /// The delivery's `svix-id`, when the job's data is still there and readable.
    pub svix_id: Option<String>,
    /// How many attempts were made.
    pub attempts: Option<u32>,
    /// The last status: `Failed` (out of retries) or `Killed` (the handler's [`Abort`](clerk_webhooks::queue::Abort)).
    pub status: Option<String>,
    /// The last error the handler returned.
    pub error: Option<String>,
    /// When it died, Unix seconds.
    pub died_at: Option<u64>,
}

/// Stores `job` under the idempotency `key` (the delivery's [`key`](clerk_webhooks::Delivery::key)) in the
/// queue of `config`, and says what happened: a new job, one already queued or done, or a dead job
/// queued again. This is what the queue route does with each verified delivery.
///
/// One Lua script looks up the delivery's latest job and, if there is none, stores a new one in
/// apalis-redis' layout; if that job is dead, it goes back on the active list with its attempts
/// reset (and its data replaced by `job` if it was deleted). Atomically: two replays at once
/// queue it once.
///
/// ```no_run
/// use clerk_webhooks::queue::{Enqueued, QueuedDelivery};
/// use clerk_webhooks_redis::queue::{enqueue, queue_config};
///
/// # async fn run(mut connection: redis::aio::ConnectionManager, job: QueuedDelivery) -> Result<(), Box<dyn std::error::Error>> {
/// let key = job.delivery().key();
/// let outcome = enqueue(&mut connection, &queue_config(&job.endpoint), &job, &key).await?;
/// println!("{}: {outcome}", job.id);
/// # Ok(()) }
/// ```
///
/// # Errors
///
/// [`QueueError::Redis`] when Redis cannot be reached or refuses a command.
pub async fn enqueue<C>(
    connection: &mut C,
    config: &QueueConfig,
    job: &QueuedDelivery,
    key: &str,
) -> Result<Enqueued, QueueError>
where
    C: ConnectionLike + Send,
{
    enqueue_under(connection, config, job, &[key]).await
}

/// [`enqueue`] under the first of `keys`, finding the delivery's job under any of them (a
/// delivery's [`keys`](clerk_webhooks::Delivery::keys) while a secret rotation is under way) and recording
/// a new job under each.
pub(crate) async fn enqueue_under<C>(
    connection: &mut C,
    config: &QueueConfig,
    job: &QueuedDelivery,
    keys: &[impl AsRef<str>],
) -> Result<Enqueued, QueueError>
where
    C: ConnectionLike + Send,
{
    let payload = serde_json::to_vec(job).map_err(other_error)?;
    let mut offer = scripted(&OFFER, config);
    let (key, others) = keys.split_first().ok_or_else(|| other_error("no key"))?;
    offer.arg(key.as_ref()).arg(new_task_id()).arg(payload);
    for other in others {
        offer.arg(other.as_ref());
    }
    let (state, _id): (String, String) = offer.invoke_async(connection).await?;
    Ok(match state.as_str() {
        "queued" => Enqueued::Queued,
        "requeued" => Enqueued::Requeued,
        "done" => Enqueued::Done,
        _ => Enqueued::AlreadyQueued,
    })
}

/// The dead jobs of `endpoint`'s queue: jobs this crate's workers gave up on (out of attempts after failing, or
/// killed), which nothing will run again unless they are re-queued ([`requeue_dead`]). A
/// delivery whose job died is also re-queued when Svix or the dashboard sends it again.
///
/// ```no_run
/// use clerk_webhooks_redis::queue::dead_jobs;
///
/// # async fn run(mut connection: redis::aio::ConnectionManager) -> Result<(), Box<dyn std::error::Error>> {
/// for job in dead_jobs(&mut connection, "myapp-production").await? {
///     println!("{} {:?} {:?}", job.task_id, job.svix_id, job.error);
/// }
/// # Ok(()) }
/// ```
///
/// # Errors
///
/// [`QueueError::Redis`] when Redis cannot be reached or refuses a command.
pub async fn dead_jobs<C>(connection: &mut C, endpoint: &str) -> Result<Vec<DeadJob>, QueueError>
where
    C: ConnectionLike + Send,
{
    let config = queue_config(endpoint);
    let ids = members(connection, &config.dead_jobs_set()).await?;
    let mut jobs = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(100) {
        let mut pipe = redis::pipe();
        for id in chunk {
            pipe.cmd("HGET").arg(config.job_data_hash()).arg(id);
            pipe.cmd("HGETALL")
                .arg(format!("{}:{id}", config.job_meta_hash()));
        }
        let replies: Vec<redis::Value> = pipe.query_async(connection).await?;
        for (id, pair) in chunk.iter().zip(replies.chunks(2)) {
            let data: Option<Vec<u8>> = pair
                .first()
                .and_then(|value| redis::from_redis_value_ref(value).ok())
                .flatten();
            let meta: std::collections::HashMap<String, String> = pair
                .get(1)
                .and_then(|value| redis::from_redis_value_ref(value).ok())
                .unwrap_or_default();
            jobs.push(DeadJob {
                task_id: id.clone(),
                svix_id: data
                    .and_then(|data| serde_json::from_slice::<QueuedDelivery>(&data).ok())
                    .map(|job| job.id),
                attempts: meta.get("attempts").and_then(|n| n.parse().ok()),
                status: meta.get("status").cloned(),
                error: meta.get("result").map(|result| last_error(result)),
                died_at: meta.get("done_at").and_then(|at| at.parse().ok()),
            });
        }
    }
    Ok(jobs)
}

/// Queues the dead job `task_id` of `endpoint`'s queue again, with its attempts reset: after the
/// cause of its failures is fixed (a database back, a bug deployed away). Its delivery's
/// idempotency key is renewed, so a replay meanwhile adds no second job.
///
/// ```no_run
/// use clerk_webhooks_redis::queue::requeue_dead;
///
/// # async fn run(mut connection: redis::aio::ConnectionManager) -> Result<(), Box<dyn std::error::Error>> {
/// let requeued = requeue_dead(&mut connection, "myapp-production", "01J0000000000000000000000").await?;
/// # Ok(()) }
/// ```
///
/// # Errors
///
/// [`QueueError::Redis`] when Redis cannot be reached or refuses a command.
///
/// Returns `false`, changing nothing, when `task_id` is not a dead job of this queue, when its
/// data is gone, or when its delivery has since got another job: re-queuing it would process the
/// delivery twice. A job queued by a version before the delivery record (0.1) whose idempotency
/// key has expired is refused too, since whether a newer job processed it cannot be known.
pub async fn requeue_dead<C>(
    connection: &mut C,
    endpoint: &str,
    task_id: &str,
) -> Result<bool, QueueError>
where
    C: ConnectionLike + Send,
{
    let state: String = scripted(&REQUEUE, &queue_config(endpoint))
        .arg(task_id)
        .invoke_async(connection)
        .await?;
    Ok(state == "requeued")
}

/// Queues every dead job of `endpoint`'s queue again ([`requeue_dead`] each) and says how many
/// were.
///
/// ```no_run
/// use clerk_webhooks_redis::queue::requeue_all_dead;
///
/// # async fn run(mut connection: redis::aio::ConnectionManager) -> Result<(), Box<dyn std::error::Error>> {
/// let count = requeue_all_dead(&mut connection, "myapp-production").await?;
/// # Ok(()) }
/// ```
///
/// # Errors
///
/// [`QueueError::Redis`] when Redis cannot be reached or refuses a command; the jobs re-queued
/// before it stay queued.
pub async fn requeue_all_dead<C>(connection: &mut C, endpoint: &str) -> Result<usize, QueueError>
where
    C: ConnectionLike + Send,
{
    let config = queue_config(endpoint);
    let ids = members(connection, &config.dead_jobs_set()).await?;
    let mut requeued = 0;
    for id in ids {
        if requeue_dead(connection, endpoint, &id).await? {
            requeued += 1;
        }
    }
    Ok(requeued)
}

/// Deletes the jobs of `endpoint`'s queue that finished successfully more than `older_than` ago
/// (their data, their metadata and their place in the done set) and says how many. apalis-redis
/// never expires finished jobs, so without a sweep every delivery's body stays in Redis. Run it
/// now and then (once an hour, say) with [`DEFAULT_DONE_RETENTION`] or your own retention.
///
/// Jobs waiting, running, retrying or dead are never touched (unlike apalis-redis' `vacuum`,
/// which also deletes jobs waiting for a retry). The idempotency key is left to expire: a replay
/// of a swept delivery within its life is answered [`Enqueued::Done`].
///
/// ```no_run
/// use clerk_webhooks_redis::queue::{sweep_done, DEFAULT_DONE_RETENTION};
///
/// # async fn run(mut connection: redis::aio::ConnectionManager) -> Result<(), Box<dyn std::error::Error>> {
/// let swept = sweep_done(&mut connection, "myapp-production", DEFAULT_DONE_RETENTION).await?;
/// # Ok(()) }
/// ```
///
/// # Errors
///
/// [`QueueError::Redis`] when Redis cannot be reached or refuses a command; the jobs swept before
/// it stay swept.
pub async fn sweep_done<C>(
    connection: &mut C,
    endpoint: &str,
    older_than: Duration,
) -> Result<usize, QueueError>
where
    C: ConnectionLike + Send,
{
    let config = queue_config(endpoint);
    let done = config.done_jobs_set();
    // One SSCAN page at a time, so a large done set is never held in memory; SSCAN still returns
    // every member present throughout, whatever the script removes meanwhile.
    let mut swept = 0;
    let mut cursor: u64 = 0;
    loop {
        let (next, ids) = scan_page(connection, &done, cursor).await?;
        if !ids.is_empty() {
            let mut invocation = SWEEP.prepare_invoke();
            invocation
                .key(&done)
                .key(config.job_data_hash())
                .key(config.job_meta_hash())
                .key(deliveries_hash(&config))
                .arg(older_than.as_secs());
            for id in &ids {
                invocation.arg(id);
            }
            let count: usize = invocation.invoke_async(connection).await?;
            swept += count;
        }
        if next == 0 {
            break;
        }
        cursor = next;
    }
    Ok(swept)
}

/// Every member of a set, read with `SSCAN` so that a large set does not block Redis.
async fn members<C>(connection: &mut C, set: &str) -> Result<Vec<String>, QueueError>
where
    C: ConnectionLike + Send,
{
    let mut all = Vec::new();
    let mut cursor: u64 = 0;
    loop {
        let (next, batch) = scan_page(connection, set, cursor).await?;
        all.extend(batch);
        if next == 0 {
            break;
        }
        cursor = next;
    }
    // SSCAN may return a member twice.
    all.sort_unstable();
    all.dedup();
    Ok(all)
}

/// One `SSCAN` page of a set from `cursor`: the next cursor (0 at the end) and the members.
async fn scan_page<C>(
    connection: &mut C,
    set: &str,
    cursor: u64,
) -> Result<(u64, Vec<String>), QueueError>
where
    C: ConnectionLike + Send,
{
    Ok(redis::cmd("SSCAN")
        .arg(set)
        .arg(cursor)
        .arg("COUNT")
        .arg(500)
        .query_async(connection)
        .await?)
}

/// The error message of a stored result (`{"Err":"..."}`), or the result as stored.
fn last_error(result: &str) -> String {
    serde_json::from_str::<serde_json::Value>(result)
        .ok()
        .and_then(|value| {
            value
                .get("Err")
                .and_then(|err| err.as_str())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| result.to_owned())
}

/// `script` with the keys of `config`'s queue and its idempotency settings (see [`RECOVERY`]);
/// the caller adds the script's own arguments.
fn scripted(script: &'static Script, config: &QueueConfig) -> redis::ScriptInvocation<'static> {
    let mut invocation = script.prepare_invoke();
    invocation
        .key(config.job_data_hash())
        .key(config.job_meta_hash())
        .key(config.active_jobs_list())
        .key(config.signal_list())
        .key(config.dead_jobs_set())
        .key(config.done_jobs_set())
        .key(config.idempotency_key_set())
        .key(deliveries_hash(config))
        .arg(config.idempotency_ttl.map_or(0, |ttl| ttl.as_secs()))
        .arg(config.emit_events);
    invocation
}

/// The hash from each delivery's key to its latest job: the record that outlives the idempotency
/// key, so that a dead job a newer job superseded is never queued again. A record goes when its
/// job is swept ([`sweep_done`]), not before.
fn deliveries_hash(config: &QueueConfig) -> String {
    let active = config.active_jobs_list();
    let queue = active.strip_suffix(":active").unwrap_or(&active);
    format!("{queue}:deliveries")
}

/// A new task id: a ULID (48 bits of milliseconds, 80 random bits, Crockford base32), as
/// apalis-redis draws them, so ids sort by when they were queued.
fn new_task_id() -> String {
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_millis());
    let random = (u128::from(super::random_u64()) << 64 | u128::from(super::random_u64()))
        & ((1u128 << 80) - 1);
    let value = (millis & ((1u128 << 48) - 1)) << 80 | random;
    (0..26)
        .rev()
        .map(|digit| char::from(ALPHABET[((value >> (digit * 5)) & 31) as usize]))
        .collect()
}

/// What the recovery scripts share. KEYS: 1 data hash, 2 meta prefix, 3 active list, 4 signal
/// list, 5 dead set, 6 done set, 7 idempotency prefix, 8 deliveries hash. ARGV: 1 idempotency
/// ttl (seconds, 0 = none), 2 emit events ("1").
///
/// `latest(key)` is the delivery's latest job (its record, or, for a job queued by a version that
/// kept none, its idempotency key); `requeue(id, key)` puts a dead job back on the active list the
/// way apalis-redis re-enqueues one (`release_leases.lua`), attempts from 0 again.
const RECOVERY: &str = include_str!("lua/recovery_prelude.lua");

/// A delivery offered to the queue. ARGV 3 its key, 4 a new task id, 5 the job's data, 6... its
/// other keys (a secret rotation: looked up after the first; every key is made to find the
/// delivery's job, new or found, and the sweep deletes them with it).
/// Returns
/// {state, id}: `queued` (a new job), `already_queued`, `done` (finished, or swept after it
/// finished), `requeued` (its job was dead: back on the list, its data restored if deleted).
static OFFER: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        "{RECOVERY}{}",
        include_str!("lua/recovery_offer.lua")
    ))
});

/// A dead job queued again by its task id. ARGV 3 the id. Returns `requeued`, or why not:
/// `not_dead`, `no_data`, `superseded` (the delivery's latest job is another), `unrecorded` (a
/// job queued by a version that kept no record, whose idempotency key has expired: whether a newer
/// job processed its delivery cannot be known).
static REQUEUE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        "{RECOVERY}{}",
        include_str!("lua/recovery_requeue.lua")
    ))
});

/// Deletes the given finished jobs that finished a retention ago or more, by Redis' clock: only
/// members of the done set whose status is still `Done`, checked in the script so that a job
/// re-queued meanwhile stays.
static SWEEP: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/recovery_sweep.lua")));

/// An error that is not Redis' own, in the queue's error type (the job could not be encoded).
fn other_error(err: impl std::fmt::Display) -> QueueError {
    QueueError::Redis(redis::RedisError::from(std::io::Error::other(
        err.to_string(),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_queues_never_share_a_record_of_deliveries() {
        let plain = deliveries_hash(&queue_config("x"));
        let suffixed = deliveries_hash(&queue_config("x:active"));
        assert_eq!(plain, "clerk-webhooks:x:deliveries");
        assert_ne!(plain, suffixed);
    }

    #[test]
    fn task_ids_are_ulids_that_sort_by_time() {
        let (first, second) = (new_task_id(), new_task_id());
        assert_eq!(first.len(), 26);
        assert_ne!(first, second);
        assert!(first[..10] <= second[..10], "{first} {second}");
        assert!(first
            .bytes()
            .all(|b| b"0123456789ABCDEFGHJKMNPQRSTVWXYZ".contains(&b)));
    }
}
