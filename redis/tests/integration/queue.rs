//! Answer fast, process later: verified deliveries through the layer into a real Redis queue,
//! consumed by the crate's workers, deployed as apps deploy them: replicas, rolling deploys,
//! graceful and hard restarts of Redis.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::routing::post_service;
use axum::Router;
use clerk_webhooks::queue::{
    DeliveryQueue, Enqueued, QueuedDelivery, RetryPolicy, DEFAULT_RETRIES,
};
use clerk_webhooks::testing::SignedRequest;
use clerk_webhooks::{BoxError, ClerkEvent, ClerkWebhookLayer, SigningSecret, Verifier};
use clerk_webhooks_redis::queue::{
    enqueue, queue_config, sweep_done, ConnectOptions, QueueError, RedisQueue, Worker,
    DEFAULT_CONCURRENCY,
};
use clerk_webhooks_test_support::redis_server;
use http::StatusCode;
use http_body_util::BodyExt;
use redis_server::{free_port, RedisServer};
use serde_json::Value;
use tokio::sync::Notify;
use tower::ServiceExt;

use crate::common::queue_worker::RunningWorker;
use crate::common::{example, Running, OTHER_SECRET, SECRET};

/// The wall clock: Redis and the workers run on it.
fn verifier() -> Verifier {
    Verifier::new(SigningSecret::new(SECRET).unwrap())
}

/// The route, on a throwaway Redis without an append-only file (allowed explicitly).
async fn app(url: &str) -> Router {
    app_for(url, verifier()).await
}

/// The route of the endpoint whose secret `verifier` holds.
async fn app_for(url: &str, verifier: Verifier) -> Router {
    app_with(ConnectOptions::new(url).allow_non_durable(), verifier).await
}

async fn app_with(options: ConnectOptions, verifier: Verifier) -> Router {
    let layer = ClerkWebhookLayer::new(verifier).verify_only();
    let queue = RedisQueue::connect(options, layer.endpoint())
        .await
        .unwrap();
    Router::new().route(
        "/webhooks/clerk",
        post_service(DeliveryQueue::new(queue)).route_layer(layer),
    )
}

fn body(n: usize) -> String {
    // `favorite_color` is not in the model: it must still reach the worker.
    format!(
        r#"{{"type":"user.created","object":"event","timestamp":1716883200000,
            "data":{{"id":"user_{n}","object":"user","favorite_color":"teal"}}}}"#
    )
}

async fn deliver(app: &Router, id: &str, body: &str) -> (StatusCode, Value) {
    deliver_signed(app, &verifier(), id, body).await
}

async fn deliver_signed(
    app: &Router,
    verifier: &Verifier,
    id: &str,
    body: &str,
) -> (StatusCode, Value) {
    // Signed now: the test kit's default, on the verifier's (wall) clock.
    let request = SignedRequest::new(body.to_owned())
        .with_id(id)
        .build(verifier);
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// What the workers did: how often each delivery's effect happened, and a signal on each.
#[derive(Clone, Default)]
struct Effects {
    done: Arc<Mutex<HashMap<String, usize>>>,
    changed: Arc<Notify>,
    /// Ids whose first attempt fails (a transient error), to exercise the retries.
    flaky: Arc<Mutex<HashMap<String, usize>>>,
    /// An id whose job blocks forever, to kill its worker mid-job.
    stuck: Arc<Mutex<Option<String>>>,
    stuck_started: Arc<Notify>,
    /// How long each effect takes.
    effect_time: Arc<Mutex<Duration>>,
    /// Jobs running now, and the most that ever ran at once.
    running: Arc<AtomicUsize>,
    most_at_once: Arc<AtomicUsize>,
}

impl Effects {
    async fn wait_for(&self, distinct: usize) {
        let wait = async {
            loop {
                let notified = self.changed.notified();
                if self.done.lock().unwrap().len() >= distinct {
                    return;
                }
                notified.await;
            }
        };
        tokio::time::timeout(Duration::from_secs(120), wait)
            .await
            .expect("the workers did not process every delivery");
    }

    fn distinct(&self) -> usize {
        self.done.lock().unwrap().len()
    }

    /// The deliveries whose effect happened more than once.
    fn repeated(&self) -> Vec<(String, usize)> {
        let done = self.done.lock().unwrap();
        let mut repeated: Vec<_> = done
            .iter()
            .filter(|(_, count)| **count != 1)
            .map(|(id, count)| (id.clone(), *count))
            .collect();
        repeated.sort();
        repeated
    }
}

/// The handler the tests' workers run.
fn handler(
    effects: &Effects,
) -> impl Fn(
    QueuedDelivery,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), BoxError>> + Send>>
       + Send
       + Sync
       + 'static {
    let effects = effects.clone();
    move |job| {
        let effects = effects.clone();
        Box::pin(async move {
            let now = effects.running.fetch_add(1, Ordering::SeqCst) + 1;
            effects.most_at_once.fetch_max(now, Ordering::SeqCst);
            let outcome = process(job, &effects).await;
            effects.running.fetch_sub(1, Ordering::SeqCst);
            outcome
        })
    }
}

/// The worker's job: the typed event, and the effect recorded once per success.
async fn process(job: QueuedDelivery, effects: &Effects) -> Result<(), BoxError> {
    let event = job.event()?.event;
    let ClerkEvent::UserCreated(user) = event else {
        return Err("unexpected event".into());
    };
    assert!(
        job.body.contains(r#""favorite_color":"teal""#),
        "the job lost data"
    );
    if effects.stuck.lock().unwrap().as_deref() == Some(job.id.as_str()) {
        effects.stuck.lock().unwrap().take();
        effects.stuck_started.notify_one();
        std::future::pending::<()>().await;
    }
    if let Some(failures) = effects.flaky.lock().unwrap().get_mut(&job.id) {
        if *failures > 0 {
            *failures -= 1;
            return Err(format!("transient failure for {}", user.id).into());
        }
    }
    let effect_time = *effects.effect_time.lock().unwrap();
    if !effect_time.is_zero() {
        tokio::time::sleep(effect_time).await;
    }
    *effects.done.lock().unwrap().entry(job.id).or_default() += 1;
    effects.changed.notify_waiters();
    Ok(())
}

/// Short pauses between retries, so that a transient failure is retried within the test.
fn quick_retries(retries: u32) -> RetryPolicy {
    RetryPolicy::new(
        retries,
        Duration::from_millis(10),
        Duration::from_millis(50),
    )
    .unwrap()
}

/// A worker of the tests' endpoint, with the defaults but for quick retries.
async fn start_worker(url: &str, effects: &Effects) -> RunningWorker {
    start_worker_with(url, verifier().endpoint(), effects, |worker| worker).await
}

/// A worker of `endpoint`, configured further by `configure`.
async fn start_worker_with(
    url: &str,
    endpoint: &str,
    effects: &Effects,
    configure: impl FnOnce(Worker) -> Worker,
) -> RunningWorker {
    let worker = Worker::connect(url, endpoint)
        .await
        .unwrap()
        .retry(quick_retries(3))
        .poll_interval(Duration::from_millis(20));
    RunningWorker::start(configure(worker), handler(effects))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_deliveries_with_duplicates_and_retries_become_one_effect_each() {
    let server = RedisServer::start();
    let app = app(&server.url()).await;
    let effects = Effects::default();
    for n in (0..1000).step_by(37) {
        effects.flaky.lock().unwrap().insert(format!("msg_{n}"), 1);
    }
    let workers = [
        start_worker(&server.url(), &effects).await,
        start_worker(&server.url(), &effects).await,
    ];

    // 1,000 deliveries, then 200 of them again (20% duplicates: Svix retries, dashboard replays,
    // a second instance), 50 of those a third time; sent concurrently.
    let mut sends = Vec::new();
    for n in 0..1000usize {
        let copies = if n % 5 == 0 {
            if n % 20 == 0 {
                3
            } else {
                2
            }
        } else {
            1
        };
        for _ in 0..copies {
            let app = app.clone();
            sends.push(tokio::spawn(async move {
                deliver(&app, &format!("msg_{n}"), &body(n)).await
            }));
        }
    }
    assert_eq!(sends.len(), 1250);
    for send in sends {
        let (status, answer) = send.await.unwrap();
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(answer["queued"], true);
    }

    // Exactly one job was stored per delivery, whatever the workers have done so far.
    let jobs = redis_query::<usize>(&server.url(), "HLEN", |config| config.job_data_hash()).await;
    assert_eq!(jobs, 1000, "one job per svix-id");

    effects.wait_for(1000).await;
    let done = effects.done.lock().unwrap().clone();
    assert_eq!(done.len(), 1000);
    let repeated: Vec<_> = done.iter().filter(|(_, count)| **count != 1).collect();
    assert!(
        repeated.is_empty(),
        "processed more than once: {repeated:?}"
    );
    assert!(
        effects
            .flaky
            .lock()
            .unwrap()
            .values()
            .all(|left| *left == 0),
        "every failing first attempt was retried"
    );
    for worker in workers {
        worker.stop().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_job_has_its_job_retried_elsewhere() {
    let server = RedisServer::start();
    let app = app(&server.url()).await;
    let effects = Effects::default();
    *effects.stuck.lock().unwrap() = Some("msg_stuck".to_owned());
    // A lease of one second, so the survivor takes the job over quickly.
    let endpoint = verifier().endpoint().to_owned();
    let short_lease = |worker: Worker| worker.lease(Duration::from_secs(1));
    let doomed = start_worker_with(&server.url(), &endpoint, &effects, short_lease).await;

    assert_eq!(deliver(&app, "msg_stuck", &body(1)).await.0, StatusCode::OK);
    effects.stuck_started.notified().await;
    doomed.kill().await;

    let survivor = start_worker_with(&server.url(), &endpoint, &effects, short_lease).await;
    effects.wait_for(1).await;
    assert_eq!(effects.done.lock().unwrap().get("msg_stuck"), Some(&1));
    survivor.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_down_is_503_and_nothing_is_lost_once_it_is_back() {
    let dir = std::env::temp_dir().join(format!("clerk-webhooks-queue-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    let server = RedisServer::start_durable_on(port, &dir);
    let url = server.url();
    // The default options: the durability check passes on a Redis with its append-only file.
    let app = app_with(ConnectOptions::new(&url), verifier()).await;

    // Acknowledged before the outage: stored, not yet processed (no worker runs).
    assert_eq!(
        deliver(&app, "msg_before", &body(1)).await.0,
        StatusCode::OK
    );

    let port = server.stop();
    // Regression (issue 18, item 2): after the first failure, each delivery waited for the
    // client's six reconnection attempts, about 9 s; the route answers within its deadline of
    // about 2 s (the first attempt fails at once, the next ones wait for one reconnection).
    for attempt in 0..3 {
        let started = std::time::Instant::now();
        let (status, answer) = deliver(&app, "msg_during", &body(2)).await;
        let waited = started.elapsed();
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(answer["error"], "queue_unavailable");
        assert!(waited < Duration::from_secs(3), "the 503 took {waited:?}");
        eprintln!("503 number {attempt} during the outage after {waited:?}");
    }

    let _server = RedisServer::start_durable_on(port, &dir);
    // Svix retries the refused delivery; the connection comes back within a few attempts.
    let mut status = StatusCode::SERVICE_UNAVAILABLE;
    for _ in 0..50 {
        status = deliver(&app, "msg_during", &body(2)).await.0;
        if status == StatusCode::OK {
            break;
        }
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    }
    assert_eq!(status, StatusCode::OK);

    let effects = Effects::default();
    let worker = start_worker(&url, &effects).await;
    effects.wait_for(2).await;
    let done = effects.done.lock().unwrap().clone();
    assert_eq!(done.get("msg_before"), Some(&1));
    assert_eq!(done.get("msg_during"), Some(&1));
    worker.stop().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// Regression (issue 17, item 2): Svix sends one `svix-id` to every endpoint subscribed to a
/// message. Two endpoints with their own secrets sharing one Redis used one queue and one
/// idempotency key: the second endpoint's delivery was answered 200 and never stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_endpoints_sharing_one_redis_each_process_the_same_svix_id_once() {
    let server = RedisServer::start();
    let url = server.url();
    let production = verifier();
    let staging = Verifier::new(SigningSecret::new(OTHER_SECRET).unwrap());
    assert_ne!(production.endpoint(), staging.endpoint());
    let production_app = app_for(&url, production.clone()).await;
    let staging_app = app_for(&url, staging.clone()).await;

    for _ in 0..2 {
        for (app, verifier) in [(&production_app, &production), (&staging_app, &staging)] {
            let (status, answer) = deliver_signed(app, verifier, "msg_shared", &body(1)).await;
            assert_eq!(status, StatusCode::OK, "{answer}");
        }
    }
    for verifier in [&production, &staging] {
        let jobs = job_count(&url, verifier.endpoint()).await;
        assert_eq!(jobs, 1, "one job in each endpoint's queue");
    }

    let mut workers = Vec::new();
    let mut effects = Vec::new();
    for verifier in [&production, &staging] {
        let seen = Effects::default();
        // One name in both queues: a worker's name is its queue's business only.
        let named = |worker: Worker| worker.named("w");
        workers.push(start_worker_with(&url, verifier.endpoint(), &seen, named).await);
        effects.push(seen);
    }
    for seen in &effects {
        seen.wait_for(1).await;
        let done = seen.done.lock().unwrap().clone();
        assert_eq!(done, HashMap::from([("msg_shared".to_owned(), 1)]));
    }
    for worker in workers {
        worker.stop().await.unwrap();
    }
}

/// Regression (issue 30, item 4): a delivery's job was keyed by the first secret's fingerprint, so
/// the rotation the README describes (the new secret first, then the old) queued a retry of a
/// delivery queued before it as a second job. Its job is found under any configured secret's
/// namespace and recorded under each, so the record outlives the old secret.
#[tokio::test]
async fn a_secret_rotation_queues_no_delivery_twice() {
    let server = RedisServer::start();
    let url = server.url();
    let old = verifier();
    let new = Verifier::new(SigningSecret::new(OTHER_SECRET).unwrap());
    // The queue has a stable name, as `RedisQueue::connect` asks.
    let route = |verifier: Verifier| {
        let url = url.clone();
        async move {
            let layer = ClerkWebhookLayer::new(verifier).verify_only();
            let options = ConnectOptions::new(url.as_str()).allow_non_durable();
            let queue = RedisQueue::connect(options, "myapp").await.unwrap();
            Router::new().route(
                "/webhooks/clerk",
                post_service(DeliveryQueue::new(queue)).route_layer(layer),
            )
        }
    };
    let status = |(code, answer): (StatusCode, Value)| {
        assert_eq!(code, StatusCode::OK, "{answer}");
        answer["status"].as_str().unwrap().to_owned()
    };
    let before = route(old.clone()).await;
    assert_eq!(
        status(deliver_signed(&before, &old, "msg_before", &body(1)).await),
        "queued"
    );
    let during = route(new.clone().with_secret(SigningSecret::new(SECRET).unwrap())).await;
    let retry = deliver_signed(&during, &old, "msg_before", &body(1)).await;
    assert_eq!(status(retry), "already_queued");
    assert_eq!(
        status(deliver_signed(&during, &new, "msg_during", &body(2)).await),
        "queued"
    );
    let after = route(new.clone()).await;
    for id in ["msg_before", "msg_during"] {
        // msg_before was queued under the old secret's key only: its retry during the rotation
        // made the new key find it too.
        let retry = deliver_signed(&after, &new, id, &body(1)).await;
        assert_eq!(status(retry), "already_queued", "{id}");
    }
    assert_eq!(job_count(&url, "myapp").await, 2, "one job per delivery");

    // Sweeping the finished jobs deletes every key's record of them (none is left behind).
    let effects = Effects::default();
    let worker = start_worker_with(&url, "myapp", &effects, |worker| worker).await;
    effects.wait_for(2).await;
    worker.stop().await.unwrap();
    let mut connection = ConnectOptions::new(url.as_str()).connect().await.unwrap();
    let swept = sweep_done(&mut connection, "myapp", Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(swept, 2);
    let mut redis = redis::Client::open(url.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let records: HashMap<String, String> = redis::cmd("HGETALL")
        .arg("clerk-webhooks:myapp:deliveries")
        .query_async(&mut redis)
        .await
        .unwrap();
    assert!(records.is_empty(), "{records:?}");
}

/// Regression (issue 18, item 6): the queue route typed the event before queueing, so an authentic
/// delivery whose data this version cannot read was answered 422 and never queued. The route now
/// only verifies; the worker parses, and still has every byte.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_the_model_cannot_read_is_still_queued_whole() {
    let server = RedisServer::start();
    let app = app(&server.url()).await;
    let unreadable = r#"{"type":"user.created","data":{"id":"user_1","banned":"maybe"}}"#;
    let (status, answer) = deliver(&app, "msg_unreadable", unreadable).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["queued"], true);
    let jobs =
        redis_query::<Vec<String>>(&server.url(), "HVALS", |config| config.job_data_hash()).await;
    assert_eq!(jobs.len(), 1);
    let job: QueuedDelivery = serde_json::from_str(&jobs[0]).unwrap();
    assert_eq!(job.body, unreadable, "the worker gets the body as sent");
    assert!(job.event().is_err(), "and parses it itself");
}

/// Issue 18, item 5: "durable before 2xx" needs Redis' append-only file. On a Redis without one,
/// the route refuses to start, saying what to set; `allow_non_durable` accepts it explicitly.
#[tokio::test]
async fn a_redis_without_an_append_only_file_is_refused_unless_allowed() {
    let server = RedisServer::start(); // appendonly no
    let err = RedisQueue::connect(server.url().as_str(), "e")
        .await
        .unwrap_err();
    assert!(matches!(&err, QueueError::NotDurable { setting } if setting == "appendonly no"));
    let message = err.to_string();
    assert!(message.contains("appendonly yes"), "{message}");
    let allowed = ConnectOptions::new(&server.url()).allow_non_durable();
    assert!(RedisQueue::connect(allowed, "e").await.is_ok());
}

/// Issue 18, item 2: a Redis that accepts connections but answers nothing (frozen) is answered
/// `503` within the route's deadline of about 2 s, and the route recovers when it thaws.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_redis_is_a_503_within_the_deadline() {
    let server = RedisServer::start();
    let app = app(&server.url()).await;
    server.freeze();
    let started = std::time::Instant::now();
    let (status, answer) = deliver(&app, "msg_frozen", &body(1)).await;
    let waited = started.elapsed();
    server.thaw();
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{answer}");
    assert_eq!(answer["error"], "queue_unavailable");
    assert!(waited < Duration::from_secs(3), "the 503 took {waited:?}");
    eprintln!("503 from a frozen Redis after {waited:?}");
    let mut status = StatusCode::SERVICE_UNAVAILABLE;
    for _ in 0..50 {
        status = deliver(&app, "msg_frozen", &body(1)).await.0;
        if status == StatusCode::OK {
            break;
        }
    }
    assert_eq!(status, StatusCode::OK);
}

/// How many ids the queue of the tests' endpoint has acknowledged as done.
async fn done_count(url: &str) -> usize {
    redis_query(url, "SCARD", |config| config.done_jobs_set()).await
}

/// How many jobs the queue named `queue` holds.
async fn job_count(url: &str, queue: &str) -> usize {
    let mut redis = redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    redis::cmd("HLEN")
        .arg(queue_config(queue).job_data_hash())
        .query_async(&mut redis)
        .await
        .unwrap()
}

/// `command` on one key of the tests' endpoint's queue (`key` picks it from the configuration).
async fn redis_query<T: redis::FromRedisValue>(
    url: &str,
    command: &str,
    key: impl Fn(&apalis_redis::Config) -> String,
) -> T {
    let mut redis = redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    redis::cmd(command)
        .arg(key(&queue_config(verifier().endpoint())))
        .query_async(&mut redis)
        .await
        .unwrap()
}

/// Waits (up to 60 s) until `condition` holds, yielding between looks.
async fn until(what: &str, mut condition: impl FnMut() -> bool) {
    let started = Instant::now();
    while !condition() {
        assert!(started.elapsed() < Duration::from_secs(60), "never: {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Sends `id` until the route answers 200, as Svix retries a 503.
async fn deliver_until_accepted(app: &Router, id: &str, body: &str) {
    for _ in 0..100 {
        let (status, answer) = deliver(app, id, body).await;
        if status == StatusCode::OK {
            return;
        }
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{answer}");
    }
    panic!("{id} was never accepted");
}

/// Regression (issue 18, items 1 and 3): workers stopped for good about a second after Redis went
/// away while the route kept answering 200. The worker rides out a Redis `kill -9` and restart by
/// itself, and each acknowledged delivery takes effect once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_ride_out_a_redis_kill_and_run_each_job_once() {
    let dir = std::env::temp_dir().join(format!("clerk-webhooks-restart-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    let server = RedisServer::start_durable_on(port, &dir);
    let url = server.url();
    let app = app_with(ConnectOptions::new(&url), verifier()).await;
    let effects = Effects::default();
    let worker = start_worker(&url, &effects).await;

    for n in 0..20 {
        let (status, answer) = deliver(&app, &format!("msg_before_{n}"), &body(n)).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    }
    effects.wait_for(20).await;
    // Each job's record follows its effect at once (the last one may still be on its way when
    // the effect is seen): nothing waits for a poll or a heartbeat.
    let recorded = Instant::now();
    while done_count(&url).await < 20 {
        assert!(
            recorded.elapsed() < Duration::from_secs(2),
            "the records did not follow the effects"
        );
        tokio::task::yield_now().await;
    }

    server.stop();
    until("the worker noticed the outage", || {
        worker.health.outages() > 0
    })
    .await;
    let _server = RedisServer::start_durable_on(port, &dir);
    for n in 0..20 {
        deliver_until_accepted(&app, &format!("msg_after_{n}"), &body(n)).await;
    }
    effects.wait_for(40).await;
    assert!(effects.repeated().is_empty(), "{:?}", effects.repeated());
    assert_eq!(effects.distinct(), 40);
    assert!(worker.health.beat_within(Duration::from_secs(5)));
    eprintln!(
        "outages: {}, last error: {:?}",
        worker.health.outages(),
        worker.health.last_error()
    );
    worker.stop().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// How a Redis restart is made in [`a_redis_restart_mid_work_reruns_no_finished_job`].
#[derive(Debug, Clone, Copy)]
enum Restart {
    /// `SIGTERM`: a managed service's maintenance restart.
    Graceful,
    /// `kill -9`.
    Kill,
}

/// Regression (issue 29, item 1): with Redis stopped by SIGTERM within milliseconds of a job's
/// effect, 3 to 6 of 600 jobs ran their effect twice: apalis-redis' worker sent a finished job's
/// acknowledgement on its next poll, and the restart lost it. Now the record is in Redis before
/// the slot takes another job: 600 deliveries (20% twice, 5% three times) through the route, two
/// workers never restarted by the test, Redis restarted after the 200th effect; zero double
/// effects. The same with `kill -9`: a job whose record was in flight keeps retrying it and
/// finds it on the restarted Redis, so nothing runs twice either (counted and reported).
async fn a_redis_restart_mid_work_reruns_no_finished_job(restart: Restart) {
    let dir =
        std::env::temp_dir().join(format!("clerk-webhooks-{restart:?}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    let server = RedisServer::start_durable_on(port, &dir);
    let url = server.url();
    let app = app_with(ConnectOptions::new(&url), verifier()).await;
    for n in 0..600usize {
        let copies = match n % 20 {
            0 => 3,
            5 | 10 | 15 => 2,
            _ => 1,
        };
        for _ in 0..copies {
            deliver_until_accepted(&app, &format!("msg_{n}"), &body(n)).await;
        }
    }
    let effects = Effects::default();
    *effects.effect_time.lock().unwrap() = Duration::from_millis(3);
    let workers = [
        start_worker(&url, &effects).await,
        start_worker(&url, &effects).await,
    ];

    until("200 effects", || effects.distinct() >= 200).await;
    let running_at_stop = effects.running.load(Ordering::SeqCst);
    let done_at_stop = effects.distinct();
    let port = match restart {
        Restart::Graceful => server.terminate(),
        Restart::Kill => server.stop(),
    };
    let _server = RedisServer::start_durable_on(port, &dir);
    effects.wait_for(600).await;
    let repeated = effects.repeated();
    eprintln!(
        "{restart:?}: {done_at_stop} effects before the stop, {running_at_stop} job(s) running at \
         it, {} ran twice: {repeated:?}",
        repeated.len()
    );
    assert!(repeated.is_empty(), "{restart:?}: ran twice: {repeated:?}");
    assert!(done_at_stop < 600, "the restart came mid-work");
    for worker in workers {
        worker.stop().await.unwrap();
    }
    assert_eq!(done_count(&url).await, 600);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graceful_redis_restart_mid_work_reruns_no_finished_job() {
    a_redis_restart_mid_work_reruns_no_finished_job(Restart::Graceful).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_redis_mid_work_reruns_no_finished_job() {
    a_redis_restart_mid_work_reruns_no_finished_job(Restart::Kill).await;
}

/// What each job did in the replica test: runs started and finished, and runs that overlapped.
#[derive(Clone, Default)]
struct Runs {
    started: Arc<Mutex<HashMap<String, usize>>>,
    finished: Arc<Mutex<HashMap<String, usize>>>,
    overlapping: Arc<AtomicUsize>,
}

/// Regression (issue 29, items 2 and 2b): five replicas of the README's worker, started 250 ms
/// apart with the same (then mandatory) name, ran all 20 jobs of 8 s twice or more, overlapping:
/// apalis-redis re-registered a name whose heartbeat was a second old and handed the live worker's
/// jobs to the newcomer. Now five workers with default settings, started 250 ms apart, one of
/// them stopped and replaced mid-run (a rolling deploy): every job runs once, none is dropped
/// part-way, and the stopped worker finishes its jobs before it returns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_and_a_rolling_deploy_run_every_job_once() {
    const JOB_TIME: Duration = Duration::from_secs(8);
    let server = RedisServer::start();
    let url = server.url();
    let endpoint = verifier().endpoint().to_owned();
    let mut connection = ConnectOptions::new(&url).connect().await.unwrap();
    let config = queue_config(&endpoint);
    for n in 0..20usize {
        let job: QueuedDelivery = serde_json::from_value(serde_json::json!({
            "id": format!("msg_{n}"), "timestamp": 1_716_883_200, "body": body(n),
            "endpoint": endpoint,
        }))
        .unwrap();
        let key = job.delivery().key();
        let outcome = enqueue(&mut connection, &config, &job, &key).await.unwrap();
        assert_eq!(outcome, Enqueued::Queued);
    }

    let runs = Runs::default();
    let replica = |runs: Runs| {
        move |job: QueuedDelivery| {
            let runs = runs.clone();
            async move {
                let first = {
                    let mut started = runs.started.lock().unwrap();
                    let count = started.entry(job.id.clone()).or_default();
                    *count += 1;
                    *count == 1
                };
                if !first || runs.finished.lock().unwrap().contains_key(&job.id) {
                    runs.overlapping.fetch_add(1, Ordering::SeqCst);
                }
                tokio::time::sleep(JOB_TIME).await;
                *runs.finished.lock().unwrap().entry(job.id).or_default() += 1;
                Ok::<(), BoxError>(())
            }
        }
    };
    let mut workers = Vec::new();
    for _ in 0..5 {
        let worker = Worker::connect(url.as_str(), &endpoint).await.unwrap();
        workers.push(RunningWorker::start(worker, replica(runs.clone())));
        // Replicas and rolling deploys start processes a little apart.
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let names: std::collections::HashSet<_> = workers.iter().map(|w| w.name.clone()).collect();
    assert_eq!(
        names.len(),
        5,
        "each process has a name of its own: {names:?}"
    );

    until("all 20 jobs started", || {
        runs.started.lock().unwrap().len() == 20
    })
    .await;
    // The rolling deploy: the first replica gets SIGTERM while it runs its jobs, and a new one
    // takes its place.
    let old = workers.remove(0);
    let stopping = tokio::spawn(old.stop());
    let replacement = Worker::connect(url.as_str(), &endpoint).await.unwrap();
    workers.push(RunningWorker::start(replacement, replica(runs.clone())));
    stopping.await.unwrap().unwrap();

    until("all 20 jobs finished", || {
        runs.finished.lock().unwrap().len() == 20
    })
    .await;
    for worker in workers {
        worker.stop().await.unwrap();
    }
    let started = runs.started.lock().unwrap().clone();
    let finished = runs.finished.lock().unwrap().clone();
    assert!(started.values().all(|n| *n == 1), "started: {started:?}");
    assert!(finished.values().all(|n| *n == 1), "finished: {finished:?}");
    assert_eq!(runs.overlapping.load(Ordering::SeqCst), 0);
    assert_eq!(done_count(&url).await, 20);
}

/// Issue 29, item 2: two processes given one name of their own: the second is refused, saying
/// why, while the first is alive.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_held_by_a_live_worker_is_refused() {
    let server = RedisServer::start();
    let effects = Effects::default();
    let named = |worker: Worker| worker.named("clerk-worker-1");
    let first = start_worker_with(&server.url(), verifier().endpoint(), &effects, named).await;
    until("the first registered", || {
        first.health.beat_within(Duration::from_secs(5))
    })
    .await;
    let second = start_worker_with(&server.url(), verifier().endpoint(), &effects, named).await;
    let err = second.returned().await.unwrap_err();
    assert!(
        matches!(&err, QueueError::WorkerNameInUse { name } if name == "clerk-worker-1"),
        "{err}"
    );
    assert!(err.to_string().contains("its own name"), "{err}");
    // Once the first has left, the name is free again.
    first.stop().await.unwrap();
    let third = start_worker_with(&server.url(), verifier().endpoint(), &effects, named).await;
    until("the third registered", || {
        third.health.beat_within(Duration::from_secs(5))
    })
    .await;
    assert!(!third.is_finished());
    third.stop().await.unwrap();
}

/// Regression (issue 29, item 2b): when a duplicate's acknowledgement failed ("task not executed
/// by worker"), the apalis worker's `run` ended and every other job it ran was dropped part-way.
/// Here one job is taken over behind the worker's back (its registration gone, the job finished
/// elsewhere): that job's record is refused, counted, and the worker's other job, and the next
/// one, are recorded as usual.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_lease_on_one_job_leaves_the_others_alone() {
    let server = RedisServer::start();
    let url = server.url();
    let app = app(&url).await;
    let config = queue_config(verifier().endpoint());
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let effects = Effects::default();
    let held = {
        let (gate, effects) = (gate.clone(), effects.clone());
        move |job: QueuedDelivery| {
            let (gate, effects) = (gate.clone(), effects.clone());
            async move {
                effects.running.fetch_add(1, Ordering::SeqCst);
                if job.id != "msg_next" {
                    gate.acquire().await.unwrap().forget();
                }
                *effects.done.lock().unwrap().entry(job.id).or_default() += 1;
                effects.changed.notify_waiters();
                Ok::<(), BoxError>(())
            }
        }
    };
    for id in ["msg_taken_over", "msg_kept"] {
        assert_eq!(deliver(&app, id, &body(1)).await.0, StatusCode::OK);
    }
    let worker = Worker::connect(url.as_str(), verifier().endpoint())
        .await
        .unwrap()
        .concurrency(2)
        .poll_interval(Duration::from_millis(20));
    let name = worker.name().to_owned();
    let worker = RunningWorker::start(worker, held);
    until("both jobs run", || {
        effects.running.load(Ordering::SeqCst) == 2
    })
    .await;

    // Another worker took `msg_taken_over` over and finished it.
    let mut redis = ConnectOptions::new(&url).connect().await.unwrap();
    let taken_over = task_of(&mut redis, "msg_taken_over").await;
    let inflight = format!("{}:{name}", config.inflight_jobs_set());
    let (): () = redis::pipe()
        .cmd("ZREM")
        .arg(config.workers_set())
        .arg(&name)
        .ignore()
        .cmd("SREM")
        .arg(&inflight)
        .arg(&taken_over)
        .ignore()
        .cmd("SADD")
        .arg(config.done_jobs_set())
        .arg(&taken_over)
        .ignore()
        .query_async(&mut redis)
        .await
        .unwrap();
    gate.add_permits(2);
    effects.wait_for(2).await;
    until("the lost lease counted", || {
        worker.health.lost_leases() == 1
    })
    .await;

    assert_eq!(deliver(&app, "msg_next", &body(2)).await.0, StatusCode::OK);
    effects.wait_for(3).await;
    assert!(!worker.is_finished(), "the worker carries on");
    // A stop returns once every running job's record is in.
    worker.stop().await.unwrap();
    let kept = task_of(&mut redis, "msg_kept").await;
    let next = task_of(&mut redis, "msg_next").await;
    for id in [&kept, &next] {
        let done: bool = redis::cmd("SISMEMBER")
            .arg(config.done_jobs_set())
            .arg(id)
            .query_async(&mut redis)
            .await
            .unwrap();
        assert!(done, "{id} recorded");
    }
}

/// The task id of the job of `svix_id` in the tests' endpoint's queue.
async fn task_of(redis: &mut redis::aio::ConnectionManager, svix_id: &str) -> String {
    let config = queue_config(verifier().endpoint());
    let job: QueuedDelivery = serde_json::from_value(serde_json::json!({
        "id": svix_id, "timestamp": 0, "body": "", "endpoint": verifier().endpoint(),
    }))
    .unwrap();
    let key = job.delivery().key();
    redis::cmd("GET")
        .arg(format!("{}:{key}", config.idempotency_key_set()))
        .query_async(redis)
        .await
        .unwrap()
}

/// Regression (issue 29, item 2c): `batch_size(1)` limited the fetch, not the work: one worker
/// took all 20 waiting jobs within 0.1 s and ran them at once. A worker runs at most its
/// concurrency (default 4) at once, and reaches it with a backlog.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_runs_at_most_the_workers_concurrency_at_once() {
    let server = RedisServer::start();
    let app = app(&server.url()).await;
    for n in 0..20 {
        assert_eq!(
            deliver(&app, &format!("msg_{n}"), &body(n)).await.0,
            StatusCode::OK
        );
    }
    let effects = Effects::default();
    *effects.effect_time.lock().unwrap() = Duration::from_millis(50);
    let worker = start_worker(&server.url(), &effects).await;
    effects.wait_for(20).await;
    worker.stop().await.unwrap();
    assert_eq!(
        effects.most_at_once.load(Ordering::SeqCst),
        DEFAULT_CONCURRENCY
    );

    let effects = Effects::default();
    *effects.effect_time.lock().unwrap() = Duration::from_millis(20);
    for n in 20..30 {
        assert_eq!(
            deliver(&app, &format!("msg_{n}"), &body(n)).await.0,
            StatusCode::OK
        );
    }
    let one_at_a_time = |worker: Worker| worker.concurrency(1);
    let worker = start_worker_with(
        &server.url(),
        verifier().endpoint(),
        &effects,
        one_at_a_time,
    )
    .await;
    effects.wait_for(10).await;
    worker.stop().await.unwrap();
    assert_eq!(effects.most_at_once.load(Ordering::SeqCst), 1);
}

/// Regression (issue 29, item 3): after Redis came back, work waited on the supervisor's restart
/// backoff (1 s doubling to 30 s): processing resumed 22 s after a 10 s outage ended. The worker
/// now tries Redis again every poll: a job queued as Redis comes back after a 5-second outage
/// runs within about a second (bounded loosely here; the figure is printed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn work_resumes_about_a_second_after_redis_is_back() {
    let port = free_port();
    let server = RedisServer::start_on(port);
    let url = server.url();
    let effects = Effects::default();
    let worker = start_worker(&url, &effects).await;
    until("registered", || {
        worker.health.beat_within(Duration::from_secs(5))
    })
    .await;
    server.stop();
    until("the outage noticed", || worker.health.outages() > 0).await;
    // The outage lasts a while: long enough for a doubling backoff to have grown.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let _server = RedisServer::start_on(port);
    let back = Instant::now();
    let app = app(&url).await;
    assert_eq!(deliver(&app, "msg_back", &body(1)).await.0, StatusCode::OK);
    effects.wait_for(1).await;
    let resumed = back.elapsed();
    eprintln!("processed {resumed:?} after Redis answered again");
    assert!(
        resumed < Duration::from_secs(3),
        "resumed after {resumed:?}"
    );
    worker.stop().await.unwrap();
}

/// Waits (up to 30 s) until the job of `svix_id` is in the tests' endpoint's dead set.
async fn wait_until_dead(url: &str, svix_id: &str) {
    let mut redis = ConnectOptions::new(url).connect().await.unwrap();
    let task = task_of(&mut redis, svix_id).await;
    let dead_set = queue_config(verifier().endpoint()).dead_jobs_set();
    let started = Instant::now();
    loop {
        let dead: bool = redis::cmd("SISMEMBER")
            .arg(&dead_set)
            .arg(&task)
            .query_async(&mut redis)
            .await
            .unwrap();
        if dead {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{svix_id} never dead"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Regression (issue 29, item 4): `retry_policy_with(2, ...)` still ran a failing job 25 times
/// (apalis-redis' hard-coded limit decided). Two retries are three runs, then the job is dead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_retry_limit_set_is_the_limit_that_applies() {
    let server = RedisServer::start();
    let url = server.url();
    let app = app(&url).await;
    let effects = Effects::default();
    effects
        .flaky
        .lock()
        .unwrap()
        .insert("msg_failing".to_owned(), usize::MAX);
    let attempts = Arc::new(AtomicUsize::new(0));
    let counting = {
        let (effects, attempts) = (effects.clone(), attempts.clone());
        let inner = handler(&effects);
        move |job: QueuedDelivery| {
            attempts.fetch_add(1, Ordering::SeqCst);
            inner(job)
        }
    };
    let worker = Worker::connect(url.as_str(), verifier().endpoint())
        .await
        .unwrap()
        .retry(quick_retries(2))
        .poll_interval(Duration::from_millis(20));
    let worker = RunningWorker::start(worker, counting);
    assert_eq!(
        deliver(&app, "msg_failing", &body(1)).await.0,
        StatusCode::OK
    );
    wait_until_dead(&url, "msg_failing").await;
    // Dead is final: stopping the worker waits for anything it still ran.
    worker.stop().await.unwrap();
    assert_eq!(attempts.load(Ordering::SeqCst), 3);
    assert_eq!(DEFAULT_RETRIES, 22);
}

/// Issue 29: a worker stopped with SIGTERM (a deploy) stops taking jobs, finishes the one it runs,
/// and returns; a job still running when the grace period ends is cancelled and goes back to the
/// queue for another worker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_finishes_running_jobs_within_the_grace_period() {
    let server = RedisServer::start();
    let url = server.url();
    let app = app(&url).await;
    let config = queue_config(verifier().endpoint());

    let effects = Effects::default();
    *effects.effect_time.lock().unwrap() = Duration::from_millis(300);
    assert_eq!(
        deliver(&app, "msg_finishing", &body(1)).await.0,
        StatusCode::OK
    );
    let worker = start_worker(&url, &effects).await;
    until("the job runs", || {
        effects.running.load(Ordering::SeqCst) == 1
    })
    .await;
    worker.stop().await.unwrap();
    assert_eq!(effects.distinct(), 1, "finished before the stop returned");
    assert_eq!(done_count(&url).await, 1);

    *effects.stuck.lock().unwrap() = Some("msg_stuck".to_owned());
    assert_eq!(deliver(&app, "msg_stuck", &body(2)).await.0, StatusCode::OK);
    let short_grace = |worker: Worker| worker.shutdown_grace(Duration::from_millis(200));
    let worker = start_worker_with(&url, verifier().endpoint(), &effects, short_grace).await;
    effects.stuck_started.notified().await;
    worker.stop().await.unwrap();
    let mut redis = ConnectOptions::new(&url).connect().await.unwrap();
    let waiting: Vec<String> = redis::cmd("LRANGE")
        .arg(config.active_jobs_list())
        .arg(0)
        .arg(-1)
        .query_async(&mut redis)
        .await
        .unwrap();
    assert_eq!(waiting, vec![task_of(&mut redis, "msg_stuck").await]);
    let workers: usize = redis::cmd("ZCARD")
        .arg(config.workers_set())
        .query_async(&mut redis)
        .await
        .unwrap();
    assert_eq!(workers, 0, "a stopped worker leaves");
    // Another worker runs it.
    let worker = start_worker(&url, &effects).await;
    effects.wait_for(2).await;
    worker.stop().await.unwrap();
}

/// Issue 18, item 4a: the route's answer says what happened to the delivery: a new job, a job
/// already waiting, or a delivery already processed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_route_answers_queued_already_queued_then_done() {
    let server = RedisServer::start();
    let url = server.url();
    let app = app(&url).await;
    let status_of = |answer: Value| answer["status"].as_str().unwrap_or_default().to_owned();
    let (status, answer) = deliver(&app, "msg_states", &body(1)).await;
    assert_eq!(
        (status, status_of(answer)),
        (StatusCode::OK, "queued".into())
    );
    let (status, answer) = deliver(&app, "msg_states", &body(1)).await;
    assert_eq!(
        (status, status_of(answer)),
        (StatusCode::OK, "already_queued".into())
    );
    let effects = Effects::default();
    let worker = start_worker(&url, &effects).await;
    effects.wait_for(1).await;
    worker.stop().await.unwrap();
    let (status, answer) = deliver(&app, "msg_states", &body(1)).await;
    assert_eq!((status, status_of(answer)), (StatusCode::OK, "done".into()));
    assert_eq!(effects.done.lock().unwrap()["msg_states"], 1);
}

/// Regression (issue 18, item 4d): a database outage longer than apalis-redis' own 25 attempts
/// turned acknowledged deliveries into dead jobs. The default policy spreads 22 retries over about
/// 30 hours; here the same number compressed to milliseconds: a handler failing for 20 attempts
/// still ends with the job done once and nothing dead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_outage_of_the_handler_ends_with_nothing_dead() {
    let server = RedisServer::start();
    let url = server.url();
    let app = app(&url).await;
    let effects = Effects::default();
    effects
        .flaky
        .lock()
        .unwrap()
        .insert("msg_outage".to_owned(), 20);
    let policy = RetryPolicy::new(
        DEFAULT_RETRIES,
        Duration::from_millis(5),
        Duration::from_millis(40),
    )
    .unwrap();
    let patient = |worker: Worker| worker.retry(policy);
    let worker = start_worker_with(&url, verifier().endpoint(), &effects, patient).await;
    assert_eq!(
        deliver(&app, "msg_outage", &body(1)).await.0,
        StatusCode::OK
    );
    effects.wait_for(1).await;
    assert_eq!(effects.done.lock().unwrap().get("msg_outage"), Some(&1));
    assert_eq!(
        effects.flaky.lock().unwrap()["msg_outage"],
        0,
        "20 failed attempts first"
    );
    let dead: usize = redis_query(&url, "SCARD", |config| config.dead_jobs_set()).await;
    assert_eq!(dead, 0);
    worker.stop().await.unwrap();
}

/// Regression (issue 29, item 6): the durability check accepted `appendfsync no` (a host crash
/// loses up to about 30 s of acknowledged jobs) and ran once, at connect. It refuses it unless
/// allowed, and the route reads the settings again: a Redis turned non-durable later is answered
/// 503 until it is durable again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_that_flushes_nothing_is_refused_and_the_check_is_repeated() {
    let dir = std::env::temp_dir().join(format!("clerk-webhooks-fsync-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let careless = RedisServer::start_with_fsync(&dir, "no");
    let err = RedisQueue::connect(careless.url().as_str(), "e")
        .await
        .unwrap_err();
    assert!(matches!(&err, QueueError::NotDurable { setting } if setting == "appendfsync no"));
    assert!(err.to_string().contains("appendfsync everysec"), "{err}");
    let allowed = ConnectOptions::new(&careless.url()).allow_non_durable();
    assert!(RedisQueue::connect(allowed, "e").await.is_ok());
    drop(careless);

    let server = RedisServer::start_with_fsync(&dir, "everysec");
    let options = ConnectOptions::new(&server.url()).recheck_durability_every(Duration::ZERO);
    let app = app_with(options, verifier()).await;
    assert_eq!(
        deliver(&app, "msg_durable", &body(1)).await.0,
        StatusCode::OK
    );
    let mut redis = ConnectOptions::new(&server.url()).connect().await.unwrap();
    let config_set = |value: &'static str| {
        let mut redis = redis.clone();
        async move {
            let (): () = redis::cmd("CONFIG")
                .arg("SET")
                .arg("appendonly")
                .arg(value)
                .query_async(&mut redis)
                .await
                .unwrap();
        }
    };
    config_set("no").await;
    let (status, answer) = deliver(&app, "msg_lossy", &body(2)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{answer}");
    config_set("yes").await;
    assert_eq!(deliver(&app, "msg_lossy", &body(2)).await.0, StatusCode::OK);
    let jobs: usize = redis::cmd("HLEN")
        .arg(queue_config(verifier().endpoint()).job_data_hash())
        .query_async(&mut redis)
        .await
        .unwrap();
    assert_eq!(jobs, 2);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 29, "Done means": five processes of the README's worker (the `queue_worker` example, with
/// default settings) started 250 ms apart against one queue, one of them stopped with SIGTERM and
/// replaced mid-run, as a rolling deploy does: each delivery is processed by exactly one process,
/// once, and the stopped one exits cleanly. (The 8-second jobs of the issue are in
/// `replicas_and_a_rolling_deploy_run_every_job_once`, in one process: the example's jobs are
/// instant.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_processes_of_the_example_worker_process_each_delivery_once() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let executable = example("queue_worker", &[]);
    let dir = std::env::temp_dir().join(format!("clerk-webhooks-replicas-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let server = RedisServer::start_durable_on(free_port(), &dir);
    let queue_name = "replicas";
    let printed = Arc::new(Mutex::new(Vec::<String>::new()));
    let start = |printed: Arc<Mutex<Vec<String>>>| {
        let mut child = Command::new(&executable)
            .env("CLERK_WEBHOOK_SIGNING_SECRET", SECRET)
            .env("REDIS_URL", server.url())
            .env("CLERK_WEBHOOK_QUEUE", queue_name)
            .env("PORT", free_port().to_string())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                printed.lock().unwrap().push(line);
            }
        });
        Running(child)
    };
    let mut processes = Vec::new();
    for _ in 0..5 {
        processes.push(start(printed.clone()));
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let until_listening = |count: usize| {
        let printed = printed.clone();
        move || {
            let lines = printed.lock().unwrap();
            lines
                .iter()
                .filter(|line| line.starts_with("listening"))
                .count()
                >= count
        }
    };
    until("five processes listening", until_listening(5)).await;

    let layer = ClerkWebhookLayer::new(verifier()).verify_only();
    let queue = RedisQueue::connect(server.url().as_str(), queue_name)
        .await
        .unwrap();
    let app = Router::new().route(
        "/webhooks/clerk",
        post_service(DeliveryQueue::new(queue)).route_layer(layer),
    );
    let processed = |printed: &Arc<Mutex<Vec<String>>>, id: &str| {
        let marker = format!("[{id}] upsert user");
        let lines = printed.lock().unwrap();
        lines
            .iter()
            .filter(|line| line.starts_with(&marker))
            .count()
    };
    for n in 0..20 {
        deliver_until_accepted(&app, &format!("msg_first_{n}"), &body(n)).await;
    }
    until("the first 20 processed", || {
        (0..20).all(|n| processed(&printed, &format!("msg_first_{n}")) > 0)
    })
    .await;

    // The rolling deploy: SIGTERM to the first process, which exits cleanly; a new one starts.
    let mut old = processes.remove(0);
    let status = Command::new("kill")
        .args(["-TERM", &old.0.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = old.0.wait().unwrap();
    assert!(exit.success(), "the stopped worker exits cleanly: {exit}");
    processes.push(start(printed.clone()));
    until("the replacement listening", until_listening(6)).await;
    for n in 0..20 {
        deliver_until_accepted(&app, &format!("msg_second_{n}"), &body(n)).await;
    }
    until("the second 20 processed", || {
        (0..20).all(|n| processed(&printed, &format!("msg_second_{n}")) > 0)
    })
    .await;
    drop(processes);
    for round in ["first", "second"] {
        for n in 0..20 {
            let id = format!("msg_{round}_{n}");
            assert_eq!(processed(&printed, &id), 1, "{id}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Regression (review of issue 29's worker): a handler that panicked while building its future
/// (before any `.await`) took the job's whole task down; the job went back as a stray on the next
/// heartbeat and ran forever, its retries never counted. It is a failure like any other: retried,
/// then dead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_that_panics_at_once_is_retried_then_dead() {
    let server = RedisServer::start();
    let url = server.url();
    let app = app(&url).await;
    let calls = Arc::new(AtomicUsize::new(0));
    let panicking = {
        let calls = calls.clone();
        move |_job: QueuedDelivery| -> std::future::Ready<Result<(), BoxError>> {
            calls.fetch_add(1, Ordering::SeqCst);
            panic!("a handler that panics before returning its future");
        }
    };
    let worker = Worker::connect(url.as_str(), verifier().endpoint())
        .await
        .unwrap()
        .retry(quick_retries(1))
        .lease(Duration::from_secs(1))
        .poll_interval(Duration::from_millis(20));
    let worker = RunningWorker::start(worker, panicking);
    assert_eq!(
        deliver(&app, "msg_panics", &body(1)).await.0,
        StatusCode::OK
    );
    wait_until_dead(&url, "msg_panics").await;
    // Heartbeats go on (a lease of 1 s beats every 100 ms): a stray would be given back now.
    worker.stop().await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 2, "one run and one retry");
}

/// Regression (review of issue 29's worker): with Redis frozen (SIGSTOP) for longer than the
/// lease, the first heartbeat to run after the thaw judged every other worker dead, since their
/// own heartbeats were still waiting behind it, and handed their running jobs to others: a job ran
/// on two live workers. Whether a worker has beaten steadily is now judged by Redis' clock, so a
/// freeze everyone shared reclaims nobody; and the takes that waited out the freeze in Redis and
/// came back as strays do not count as attempts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_redis_reclaims_no_live_worker() {
    let server = RedisServer::start();
    let url = server.url();
    let app = app(&url).await;
    let effects = Effects::default();
    *effects.effect_time.lock().unwrap() = Duration::from_secs(4);
    let short_lease = |worker: Worker| worker.lease(Duration::from_secs(2)).concurrency(2);
    let endpoint = verifier().endpoint().to_owned();
    let workers = [
        start_worker_with(&url, &endpoint, &effects, short_lease).await,
        start_worker_with(&url, &endpoint, &effects, short_lease).await,
    ];
    for n in 0..6 {
        assert_eq!(
            deliver(&app, &format!("msg_{n}"), &body(n)).await.0,
            StatusCode::OK
        );
    }
    until("four jobs run", || {
        effects.running.load(Ordering::SeqCst) == 4
    })
    .await;
    server.freeze();
    // Longer than the lease: every heartbeat is stale by the time Redis answers again.
    tokio::time::sleep(Duration::from_secs(4)).await;
    server.thaw();
    effects.wait_for(6).await;
    assert!(effects.repeated().is_empty(), "{:?}", effects.repeated());
    for worker in workers {
        assert_eq!(worker.health.lost_leases(), 0);
        worker.stop().await.unwrap();
    }
    let mut redis = ConnectOptions::new(&url).connect().await.unwrap();
    let config = queue_config(&endpoint);
    for n in 0..6 {
        let task = task_of(&mut redis, &format!("msg_{n}")).await;
        let attempts: u32 = redis::cmd("HGET")
            .arg(format!("{}:{task}", config.job_meta_hash()))
            .arg("attempts")
            .query_async(&mut redis)
            .await
            .unwrap();
        assert_eq!(attempts, 1, "msg_{n}: only the run counts");
    }
}
