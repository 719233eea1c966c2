//! Answer fast, process later: verified deliveries through the layer into a real Redis queue,
//! consumed by real apalis workers.
#![cfg(feature = "queue")]

mod common;
#[path = "common/redis_server.rs"]
mod redis_server;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use apalis::layers::retry::RetryPolicy;
use apalis::prelude::*;
use axum::routing::post_service;
use axum::Router;
use clerk_webhooks::queue::{
    queue_config, retry_policy_with, supervise, worker_storage, ConnectOptions, DeliveryQueue,
    QueueError, QueuedDelivery, WorkerHealth, DEFAULT_RETRIES,
};
use clerk_webhooks::testing::SignedRequest;
use clerk_webhooks::{ClerkEvent, ClerkWebhookLayer, SigningSecret, Verifier};
use common::{OTHER_SECRET, SECRET};
use http::StatusCode;
use http_body_util::BodyExt;
use redis_server::{free_port, RedisServer};
use serde_json::Value;
use tokio::sync::Notify;
use tower::ServiceExt;

/// The wall clock: apalis-redis and the workers run on it.
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
    let queue = DeliveryQueue::connect(options, layer.endpoint())
        .await
        .unwrap();
    Router::new().route("/webhooks/clerk", post_service(queue).route_layer(layer))
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
}

/// The worker's job: the typed event, and the effect recorded once per success.
async fn process(job: QueuedDelivery, effects: Data<Effects>) -> Result<(), BoxDynError> {
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
    *effects.done.lock().unwrap().entry(job.id).or_default() += 1;
    effects.changed.notify_waiters();
    Ok(())
}

async fn start_worker(
    name: &str,
    url: &str,
    effects: &Effects,
    heartbeat: Duration,
) -> tokio::task::JoinHandle<()> {
    // A worker that misses a few heartbeats on a busy test machine is not dead: with one missed
    // heartbeat, another worker would take its jobs over while it runs them.
    start_worker_for(name, url, verifier().endpoint(), effects, heartbeat, 5).await
}

/// A worker whose jobs others take over once it missed `missed` heartbeats.
async fn start_worker_for(
    name: &str,
    url: &str,
    endpoint: &str,
    effects: &Effects,
    heartbeat: Duration,
    missed: usize,
) -> tokio::task::JoinHandle<()> {
    let storage = worker_storage(url, endpoint).await.unwrap().with_config(
        queue_config(endpoint)
            .heartbeat_interval(heartbeat)
            .missed_heartbeats(missed),
    );
    let worker = WorkerBuilder::new(name)
        .backend(storage)
        .data(effects.clone())
        .retry(RetryPolicy::retries(3))
        .build(process);
    tokio::spawn(async move {
        let _ = worker.run().await;
    })
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
        start_worker("worker-a", &server.url(), &effects, Duration::from_secs(1)).await,
        start_worker("worker-b", &server.url(), &effects, Duration::from_secs(1)).await,
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
    workers.iter().for_each(|worker| worker.abort());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_job_has_its_job_retried_elsewhere() {
    let server = RedisServer::start();
    let app = app(&server.url()).await;
    let effects = Effects::default();
    *effects.stuck.lock().unwrap() = Some("msg_stuck".to_owned());
    let heartbeat = Duration::from_secs(1);
    // Declared dead after one missed heartbeat, so the survivor takes its job over quickly.
    let endpoint = verifier().endpoint().to_owned();
    let doomed = start_worker_for("doomed", &server.url(), &endpoint, &effects, heartbeat, 1).await;

    assert_eq!(deliver(&app, "msg_stuck", &body(1)).await.0, StatusCode::OK);
    effects.stuck_started.notified().await;
    doomed.abort();
    let _ = doomed.await;

    let survivor =
        start_worker_for("survivor", &server.url(), &endpoint, &effects, heartbeat, 1).await;
    effects.wait_for(1).await;
    assert_eq!(effects.done.lock().unwrap().get("msg_stuck"), Some(&1));
    survivor.abort();
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
    let worker = start_worker("after", &url, &effects, Duration::from_secs(1)).await;
    effects.wait_for(2).await;
    let done = effects.done.lock().unwrap().clone();
    assert_eq!(done.get("msg_before"), Some(&1));
    assert_eq!(done.get("msg_during"), Some(&1));
    worker.abort();
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
        let mut redis = redis::Client::open(url.as_str())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        let jobs: usize = redis::cmd("HLEN")
            .arg(queue_config(verifier.endpoint()).job_data_hash())
            .query_async(&mut redis)
            .await
            .unwrap();
        assert_eq!(jobs, 1, "one job in each endpoint's queue");
    }

    let mut workers = Vec::new();
    let mut effects = Vec::new();
    for verifier in [&production, &staging] {
        let seen = Effects::default();
        let heartbeat = Duration::from_secs(1);
        let endpoint = verifier.endpoint();
        workers.push(start_worker_for("w", &url, endpoint, &seen, heartbeat, 5).await);
        effects.push(seen);
    }
    for seen in &effects {
        seen.wait_for(1).await;
        let done = seen.done.lock().unwrap().clone();
        assert_eq!(done, HashMap::from([("msg_shared".to_owned(), 1)]));
    }
    workers.iter().for_each(|worker| worker.abort());
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
    let err = DeliveryQueue::connect(server.url().as_str(), "e")
        .await
        .unwrap_err();
    assert!(matches!(&err, QueueError::NotDurable { appendonly } if appendonly == "no"));
    let message = err.to_string();
    assert!(message.contains("appendonly yes"), "{message}");
    let allowed = ConnectOptions::new(&server.url()).allow_non_durable();
    assert!(DeliveryQueue::connect(allowed, "e").await.is_ok());
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

/// Regression (issue 18, items 1 and 3): workers stopped for good about a second after Redis went
/// away (`Failed to poll backend: broken pipe`) while the route kept answering 200, and jobs that
/// had finished just before a Redis restart ran again. Supervised workers come back by themselves,
/// each acknowledged delivery takes effect once, and the acknowledgements reach Redis within the
/// documented window (one heartbeat) before it is killed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn supervised_workers_survive_a_redis_restart_and_run_each_job_once() {
    let dir = std::env::temp_dir().join(format!("clerk-webhooks-restart-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    let server = RedisServer::start_durable_on(port, &dir);
    let url = server.url();
    let app = app_with(ConnectOptions::new(&url), verifier()).await;
    let effects = Effects::default();
    let health = WorkerHealth::new();
    let storage = worker_storage(url.as_str(), verifier().endpoint())
        .await
        .unwrap();
    let supervisor = tokio::spawn({
        let (effects, health) = (effects.clone(), health.clone());
        async move {
            supervise(&health, || {
                WorkerBuilder::new("supervised")
                    .backend(storage.clone())
                    .data(effects.clone())
                    .on_event(health.listener())
                    .retry(RetryPolicy::retries(3))
                    .build(process)
                    .run()
            })
            .await
        }
    });

    for n in 0..20 {
        let (status, answer) = deliver(&app, &format!("msg_before_{n}"), &body(n)).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    }
    effects.wait_for(20).await;
    let finished = std::time::Instant::now();
    while done_count(&url).await < 20 {
        assert!(
            finished.elapsed() < Duration::from_secs(5),
            "the acknowledgements did not reach Redis within a few heartbeats"
        );
        tokio::task::yield_now().await;
    }
    eprintln!(
        "all 20 acknowledged {:?} after the last effect",
        finished.elapsed()
    );

    // kill -9, then the same data directory on the same port.
    server.stop();
    while health.restarts() == 0 {
        tokio::task::yield_now().await;
    }
    let _server = RedisServer::start_durable_on(port, &dir);
    for n in 0..20 {
        let id = format!("msg_after_{n}");
        let mut status = StatusCode::SERVICE_UNAVAILABLE;
        for _ in 0..50 {
            status = deliver(&app, &id, &body(n)).await.0;
            if status == StatusCode::OK {
                break;
            }
        }
        assert_eq!(status, StatusCode::OK);
    }
    effects.wait_for(40).await;
    let done = effects.done.lock().unwrap().clone();
    let repeated: Vec<_> = done.iter().filter(|(_, count)| **count != 1).collect();
    assert!(
        repeated.is_empty(),
        "processed more than once: {repeated:?}"
    );
    assert_eq!(done.len(), 40);
    assert!(health.beat_within(Duration::from_secs(5)), "{health:?}");
    eprintln!(
        "worker restarts: {}, last error: {:?}",
        health.restarts(),
        health.last_error()
    );
    supervisor.abort();
    let _ = std::fs::remove_dir_all(&dir);
}

/// Regression (issue 18, item 4d): apalis-redis gives up on a job after 25 attempts, about 5
/// minutes of its own rescheduling, so a database outage longer than that turned acknowledged
/// deliveries into dead jobs. `retry_policy` spreads 22 retries over about 30 hours; here the same
/// schedule compressed to milliseconds: a handler failing for 20 attempts (an outage longer than
/// the old schedule lasted) still ends with the job done once and nothing dead.
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
    let policy = retry_policy_with(
        DEFAULT_RETRIES,
        Duration::from_millis(5),
        Duration::from_millis(40),
    )
    .unwrap();
    let storage = worker_storage(url.as_str(), verifier().endpoint())
        .await
        .unwrap();
    let worker = WorkerBuilder::new("patient")
        .backend(storage)
        .data(effects.clone())
        .retry(policy)
        .build(process);
    let worker = tokio::spawn(async move {
        let _ = worker.run().await;
    });
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
    worker.abort();
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
    let worker = start_worker("states", &url, &effects, Duration::from_secs(1)).await;
    effects.wait_for(1).await;
    let finished = std::time::Instant::now();
    while done_count(&url).await < 1 {
        assert!(
            finished.elapsed() < Duration::from_secs(5),
            "never acknowledged"
        );
        tokio::task::yield_now().await;
    }
    let (status, answer) = deliver(&app, "msg_states", &body(1)).await;
    assert_eq!((status, status_of(answer)), (StatusCode::OK, "done".into()));
    assert_eq!(effects.done.lock().unwrap()["msg_states"], 1);
    worker.abort();
}
