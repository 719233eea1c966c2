//! Issue 18, item 4: a delivery whose job died is processed again when it is replayed, the answer
//! says what happened to a delivery, dead jobs can be listed and re-queued, and finished jobs are
//! swept after a retention. Against a real `redis-server` and the crate's workers.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clerk_webhooks::queue::{Abort, Enqueued, QueuedDelivery, RetryPolicy};
use clerk_webhooks::BoxError;
use clerk_webhooks_redis::queue::{
    dead_jobs, enqueue, queue_config, requeue_all_dead, requeue_dead, sweep_done, Worker,
    DEFAULT_DONE_RETENTION,
};
use clerk_webhooks_test_support::redis_server;
use redis::aio::ConnectionManager;
use redis::AsyncCommands;
use redis_server::RedisServer;
use tokio::sync::Notify;

use crate::common::queue_worker::RunningWorker;

const ENDPOINT: &str = "recovery-test";

fn job(id: &str) -> QueuedDelivery {
    // `QueuedDelivery` is non-exhaustive: built as a job is read back from Redis.
    serde_json::from_value(serde_json::json!({
        "id": id,
        "timestamp": 1_716_883_200,
        "body": r#"{"type":"user.created","data":{"id":"user_1","object":"user"}}"#,
        "endpoint": ENDPOINT,
    }))
    .unwrap()
}

/// The delivery's idempotency key, as the route sets it.
fn key(job: &QueuedDelivery) -> String {
    job.delivery().key()
}

async fn connect(server: &RedisServer) -> ConnectionManager {
    redis::Client::open(server.url())
        .unwrap()
        .get_connection_manager()
        .await
        .unwrap()
}

async fn offer(connection: &mut ConnectionManager, job: &QueuedDelivery) -> Enqueued {
    enqueue(connection, &queue_config(ENDPOINT), job, &key(job))
        .await
        .unwrap()
}

/// Queues a sentinel delivery after everything else and waits until it is done: the queue is
/// first in, first out and a worker takes one job at a time, so whatever was queued before it
/// (a job that should not run again, if it had been re-queued) has run by then. No timer.
async fn drain(connection: &mut ConnectionManager, effects: &Effects, sentinel: &str) {
    assert_eq!(offer(connection, &job(sentinel)).await, Enqueued::Queued);
    effects.wait_done(sentinel).await;
}

/// The task id behind a delivery's idempotency key.
async fn task_id(connection: &mut ConnectionManager, job: &QueuedDelivery) -> String {
    let config = queue_config(ENDPOINT);
    connection
        .get(format!("{}:{}", config.idempotency_key_set(), key(job)))
        .await
        .unwrap()
}

/// Waits (up to 60 s) until `id` is a member of `set`.
async fn wait_member(connection: &mut ConnectionManager, set: &str, id: &str) {
    let wait = async {
        loop {
            let member: bool = connection.sismember(set, id).await.unwrap();
            if member {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(60), wait)
        .await
        .unwrap_or_else(|_| panic!("{id} never reached {set}"));
}

/// What the workers did with each delivery.
#[derive(Clone, Default)]
struct Effects {
    /// Every attempt, failed or not.
    attempts: Arc<Mutex<HashMap<String, usize>>>,
    /// Successes: the effect that must happen once.
    done: Arc<Mutex<HashMap<String, usize>>>,
    changed: Arc<Notify>,
    /// Ids whose handler fails (a database that is down).
    failing: Arc<Mutex<HashSet<String>>>,
    /// Ids whose handler aborts, so the job is killed at once.
    aborting: Arc<Mutex<HashSet<String>>>,
}

impl Effects {
    fn done(&self, id: &str) -> usize {
        self.done.lock().unwrap().get(id).copied().unwrap_or(0)
    }

    fn attempts(&self, id: &str) -> usize {
        self.attempts.lock().unwrap().get(id).copied().unwrap_or(0)
    }

    async fn wait_done(&self, id: &str) {
        let wait = async {
            loop {
                let notified = self.changed.notified();
                if self.done(id) > 0 {
                    return;
                }
                notified.await;
            }
        };
        tokio::time::timeout(Duration::from_secs(60), wait)
            .await
            .unwrap_or_else(|_| panic!("{id} was never processed"));
    }
}

async fn process(job: QueuedDelivery, effects: Effects) -> Result<(), BoxError> {
    *effects
        .attempts
        .lock()
        .unwrap()
        .entry(job.id.clone())
        .or_default() += 1;
    if effects.aborting.lock().unwrap().contains(&job.id) {
        return Err(Abort::new(format!("cannot ever process {}", job.id)).into());
    }
    if effects.failing.lock().unwrap().contains(&job.id) {
        return Err(format!("the database is down for {}", job.id).into());
    }
    *effects.done.lock().unwrap().entry(job.id).or_default() += 1;
    effects.changed.notify_waiters();
    Ok(())
}

/// A worker without retries: a failure makes the job dead at once, as the last of a long
/// schedule's retries does.
async fn start_worker(server: &RedisServer, effects: &Effects) -> RunningWorker {
    let worker = Worker::connect(server.url().as_str(), ENDPOINT)
        .await
        .unwrap()
        .retry(RetryPolicy::never())
        .poll_interval(Duration::from_millis(20));
    let effects = effects.clone();
    RunningWorker::start(worker, move |job| process(job, effects.clone()))
}

async fn stop(worker: RunningWorker) {
    worker.stop().await.unwrap();
}

/// Kills the job of `job` as a long outage does: the handler fails on its last attempt.
async fn kill_by_failures(
    connection: &mut ConnectionManager,
    server: &RedisServer,
    effects: &Effects,
    job: &QueuedDelivery,
) -> String {
    assert_eq!(offer(connection, job).await, Enqueued::Queued);
    let id = task_id(connection, job).await;
    let config = queue_config(ENDPOINT);
    effects.failing.lock().unwrap().insert(job.id.clone());
    let worker = start_worker(server, effects).await;
    wait_member(connection, &config.dead_jobs_set(), &id).await;
    stop(worker).await;
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_job_replayed_is_requeued_and_processed_once() {
    let server = RedisServer::start();
    let mut connection = connect(&server).await;
    let effects = Effects::default();
    let delivery = job("msg_dead");
    let id = kill_by_failures(&mut connection, &server, &effects, &delivery).await;
    assert_eq!(effects.attempts("msg_dead"), 1);
    assert_eq!(effects.done("msg_dead"), 0);

    // The old behaviour: the key still names the dead job, so a replay was answered "queued" and
    // ran nothing. Ten replays at once (Svix and the dashboard) re-queue it exactly once.
    let mut replays = Vec::new();
    for _ in 0..10 {
        let mut connection = connection.clone();
        let delivery = delivery.clone();
        replays.push(tokio::spawn(async move {
            offer(&mut connection, &delivery).await
        }));
    }
    let mut answers = Vec::new();
    for replay in replays {
        answers.push(replay.await.unwrap());
    }
    let requeued = answers
        .iter()
        .filter(|answer| **answer == Enqueued::Requeued)
        .count();
    assert_eq!(requeued, 1, "{answers:?}");
    assert!(answers
        .iter()
        .all(|answer| matches!(answer, Enqueued::Requeued | Enqueued::AlreadyQueued)));
    assert_eq!(Enqueued::Requeued.as_str(), "requeued");

    // The same job, not a second one, with its attempts reset.
    let config = queue_config(ENDPOINT);
    let jobs: usize = connection.hlen(config.job_data_hash()).await.unwrap();
    assert_eq!(jobs, 1);
    assert_eq!(task_id(&mut connection, &delivery).await, id);
    let meta: HashMap<String, String> = connection
        .hgetall(format!("{}:{id}", config.job_meta_hash()))
        .await
        .unwrap();
    assert_eq!(meta.get("attempts").map(String::as_str), Some("0"));
    assert_eq!(meta.get("status").map(String::as_str), Some("Pending"));
    assert!(dead_jobs(&mut connection, ENDPOINT)
        .await
        .unwrap()
        .is_empty());

    // The database is back: the replayed delivery is processed, once.
    effects.failing.lock().unwrap().clear();
    let worker = start_worker(&server, &effects).await;
    effects.wait_done("msg_dead").await;
    wait_member(&mut connection, &config.done_jobs_set(), &id).await;
    assert_eq!(offer(&mut connection, &delivery).await, Enqueued::Done);
    drain(&mut connection, &effects, "msg_after_dead").await;
    assert_eq!(effects.done("msg_dead"), 1);
    assert_eq!(effects.attempts("msg_dead"), 2);
    stop(worker).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_answer_says_queued_already_queued_or_done() {
    let server = RedisServer::start();
    let mut connection = connect(&server).await;
    let delivery = job("msg_once");
    assert_eq!(offer(&mut connection, &delivery).await, Enqueued::Queued);
    assert_eq!(Enqueued::Queued.as_str(), "queued");
    // No worker yet: a retry of the delivery finds its job waiting.
    assert_eq!(
        offer(&mut connection, &delivery).await,
        Enqueued::AlreadyQueued
    );
    assert_eq!(Enqueued::AlreadyQueued.as_str(), "already_queued");

    let effects = Effects::default();
    let worker = start_worker(&server, &effects).await;
    effects.wait_done("msg_once").await;
    let id = task_id(&mut connection, &delivery).await;
    wait_member(
        &mut connection,
        &queue_config(ENDPOINT).done_jobs_set(),
        &id,
    )
    .await;
    assert_eq!(offer(&mut connection, &delivery).await, Enqueued::Done);
    assert_eq!(Enqueued::Done.as_str(), "done");
    // Nothing runs again.
    drain(&mut connection, &effects, "msg_after_once").await;
    assert_eq!(effects.attempts("msg_once"), 1);
    assert_eq!(effects.done("msg_once"), 1);
    stop(worker).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_jobs_are_listed_and_requeued_by_an_operator() {
    let server = RedisServer::start();
    let mut connection = connect(&server).await;
    let config = queue_config(ENDPOINT);
    let effects = Effects::default();
    // Killed at once: the handler returns `Abort` (a job it can never process, until the code is
    // fixed), which goes straight to the dead set.
    let deliveries: Vec<_> = ["msg_a", "msg_b", "msg_c"].map(job).into();
    for delivery in &deliveries {
        effects.aborting.lock().unwrap().insert(delivery.id.clone());
        assert_eq!(offer(&mut connection, delivery).await, Enqueued::Queued);
    }
    let worker = start_worker(&server, &effects).await;
    let mut ids = Vec::new();
    for delivery in &deliveries {
        let id = task_id(&mut connection, delivery).await;
        wait_member(&mut connection, &config.dead_jobs_set(), &id).await;
        ids.push(id);
    }
    stop(worker).await;

    let mut dead = dead_jobs(&mut connection, ENDPOINT).await.unwrap();
    dead.sort_by(|a, b| a.svix_id.cmp(&b.svix_id));
    assert_eq!(dead.len(), 3);
    let first = &dead[0];
    assert_eq!(first.svix_id.as_deref(), Some("msg_a"));
    assert_eq!(first.task_id, ids[0]);
    assert_eq!(first.status.as_deref(), Some("Killed"));
    assert_eq!(first.attempts, Some(1));
    assert!(
        first
            .error
            .as_deref()
            .is_some_and(|error| error.contains("cannot ever process msg_a")),
        "{first:?}"
    );
    assert!(first.died_at.is_some());

    // The fix is deployed. One job re-queued by id; unknown or live ids change nothing.
    effects.aborting.lock().unwrap().clear();
    assert!(!requeue_dead(&mut connection, ENDPOINT, "01NOTAJOB")
        .await
        .unwrap());
    assert!(requeue_dead(&mut connection, ENDPOINT, &ids[0])
        .await
        .unwrap());
    assert!(!requeue_dead(&mut connection, ENDPOINT, &ids[0])
        .await
        .unwrap());
    assert_eq!(dead_jobs(&mut connection, ENDPOINT).await.unwrap().len(), 2);
    // Meanwhile a replay of it finds it queued.
    assert_eq!(
        offer(&mut connection, &deliveries[0]).await,
        Enqueued::AlreadyQueued
    );
    // The rest at once.
    assert_eq!(
        requeue_all_dead(&mut connection, ENDPOINT).await.unwrap(),
        2
    );
    assert!(dead_jobs(&mut connection, ENDPOINT)
        .await
        .unwrap()
        .is_empty());

    let worker = start_worker(&server, &effects).await;
    for (delivery, id) in deliveries.iter().zip(&ids) {
        effects.wait_done(&delivery.id).await;
        wait_member(&mut connection, &config.done_jobs_set(), id).await;
    }
    drain(&mut connection, &effects, "msg_after_requeue").await;
    for delivery in &deliveries {
        assert_eq!(effects.done(&delivery.id), 1, "{}", delivery.id);
        assert_eq!(effects.attempts(&delivery.id), 2, "{}", delivery.id);
    }
    stop(worker).await;
}

/// Regression (issue 29, item 5): once a delivery's 3-day idempotency key had expired, a replay
/// got a second job and the dead first one could still be re-queued (`requeue_dead`, `--all`):
/// the delivery ran twice. The delivery's record of its latest job outlives the key: a replay
/// weeks later brings the same dead job back, and there is never a second one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_after_the_key_expired_brings_the_dead_job_back_not_a_second_one() {
    let server = RedisServer::start();
    let mut connection = connect(&server).await;
    let config = queue_config(ENDPOINT);
    let effects = Effects::default();
    let delivery = job("msg_expired");
    let old = kill_by_failures(&mut connection, &server, &effects, &delivery).await;

    // The key expires (3 days later); the delivery comes again.
    let idempotency_key = format!("{}:{}", config.idempotency_key_set(), key(&delivery));
    let () = connection.del(&idempotency_key).await.unwrap();
    assert_eq!(offer(&mut connection, &delivery).await, Enqueued::Requeued);
    assert_eq!(task_id(&mut connection, &delivery).await, old);
    let jobs: usize = connection.hlen(config.job_data_hash()).await.unwrap();
    assert_eq!(jobs, 1, "no second job");
    assert_eq!(
        requeue_all_dead(&mut connection, ENDPOINT).await.unwrap(),
        0
    );
    effects.failing.lock().unwrap().clear();
    let worker = start_worker(&server, &effects).await;
    effects.wait_done("msg_expired").await;
    drain(&mut connection, &effects, "msg_after_expired").await;
    assert_eq!(effects.done("msg_expired"), 1);
    stop(worker).await;
}

/// A dead job queued by a version that kept no record of the delivery's latest job: once its key
/// names another job, or has expired, whether another job processed the delivery is unknown, so
/// it is not re-queued.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_job_without_a_record_is_not_requeued_once_its_key_is_gone() {
    let server = RedisServer::start();
    let mut connection = connect(&server).await;
    let config = queue_config(ENDPOINT);
    let effects = Effects::default();
    let delivery = job("msg_legacy");
    let old = kill_by_failures(&mut connection, &server, &effects, &delivery).await;
    // As an older version left it: no record; then the key expires.
    let deliveries = format!(
        "{}:deliveries",
        config.active_jobs_list().strip_suffix(":active").unwrap()
    );
    let () = connection.hdel(&deliveries, key(&delivery)).await.unwrap();
    let idempotency_key = format!("{}:{}", config.idempotency_key_set(), key(&delivery));
    let () = connection.del(&idempotency_key).await.unwrap();
    assert!(!requeue_dead(&mut connection, ENDPOINT, &old).await.unwrap());
    // The delivery comes again: a job of its own; the old one stays dead.
    assert_eq!(offer(&mut connection, &delivery).await, Enqueued::Queued);
    assert_ne!(task_id(&mut connection, &delivery).await, old);
    assert!(!requeue_dead(&mut connection, ENDPOINT, &old).await.unwrap());
    assert_eq!(
        requeue_all_dead(&mut connection, ENDPOINT).await.unwrap(),
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sweep_done_deletes_old_finished_jobs_only() {
    let server = RedisServer::start();
    let mut connection = connect(&server).await;
    let config = queue_config(ENDPOINT);
    let effects = Effects::default();
    let old = job("msg_old");
    let recent = job("msg_recent");
    let dead = job("msg_dead");
    effects.aborting.lock().unwrap().insert(dead.id.clone());
    for delivery in [&old, &recent, &dead] {
        assert_eq!(offer(&mut connection, delivery).await, Enqueued::Queued);
    }
    let worker = start_worker(&server, &effects).await;
    let old_id = task_id(&mut connection, &old).await;
    let recent_id = task_id(&mut connection, &recent).await;
    let dead_id = task_id(&mut connection, &dead).await;
    wait_member(&mut connection, &config.done_jobs_set(), &old_id).await;
    wait_member(&mut connection, &config.done_jobs_set(), &recent_id).await;
    wait_member(&mut connection, &config.dead_jobs_set(), &dead_id).await;
    stop(worker).await;
    // Waiting for a worker: never swept.
    let pending = job("msg_pending");
    assert_eq!(offer(&mut connection, &pending).await, Enqueued::Queued);
    let pending_id = task_id(&mut connection, &pending).await;

    // `old` finished eight days ago.
    let eight_days_ago = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 8 * 24 * 60 * 60;
    let () = connection
        .hset(
            format!("{}:{old_id}", config.job_meta_hash()),
            "done_at",
            eight_days_ago,
        )
        .await
        .unwrap();

    let data = |connection: &mut ConnectionManager, id: &str| {
        let mut connection = connection.clone();
        let (hash, id) = (config.job_data_hash(), id.to_owned());
        async move { connection.hexists::<_, _, bool>(hash, id).await.unwrap() }
    };
    assert_eq!(
        sweep_done(&mut connection, ENDPOINT, DEFAULT_DONE_RETENTION)
            .await
            .unwrap(),
        1
    );
    assert!(!data(&mut connection, &old_id).await);
    let meta: usize = connection
        .exists(format!("{}:{old_id}", config.job_meta_hash()))
        .await
        .unwrap();
    assert_eq!(meta, 0);
    let in_done: bool = connection
        .sismember(config.done_jobs_set(), &old_id)
        .await
        .unwrap();
    assert!(!in_done);
    assert!(data(&mut connection, &recent_id).await);
    // A replay of the swept delivery, within its key's life, is still answered done.
    assert_eq!(offer(&mut connection, &old).await, Enqueued::Done);

    // A retention of zero sweeps every finished job, and nothing else.
    assert_eq!(
        sweep_done(&mut connection, ENDPOINT, Duration::ZERO)
            .await
            .unwrap(),
        1
    );
    assert!(!data(&mut connection, &recent_id).await);
    assert!(data(&mut connection, &pending_id).await);
    assert!(data(&mut connection, &dead_id).await);
    assert_eq!(dead_jobs(&mut connection, ENDPOINT).await.unwrap().len(), 1);

    // The pending job still runs.
    let worker = start_worker(&server, &effects).await;
    effects.wait_done("msg_pending").await;
    stop(worker).await;
    assert_eq!(effects.done("msg_old"), 1);
    assert_eq!(effects.done("msg_recent"), 1);
}
