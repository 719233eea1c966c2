//! DedupeLayer with both stores: one shared suite of behaviours, run against MemoryStore and a
//! real redis-server, plus what only Redis has (many instances, Redis going down and coming back).

mod common;
#[cfg(feature = "redis")]
#[path = "common/redis_server.rs"]
mod redis_server;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::State;
use axum::routing::post;
use axum::Router;
use clerk_webhooks::dedupe::{Claim, DedupeLayer, DedupeStore, MemoryStore};
use clerk_webhooks::ClerkWebhookLayer;
use common::*;
use http::StatusCode;
use http_body_util::BodyExt;
use serde_json::Value;
use tokio::sync::Semaphore;
use tower::{ServiceBuilder, ServiceExt};

/// What the handler does, and how often it ran.
#[derive(Clone)]
struct Handler {
    calls: Arc<AtomicUsize>,
    /// The status it answers with.
    status: Arc<Mutex<StatusCode>>,
    /// When set, each call waits for a permit first (to hold deliveries in progress).
    gate: Option<Arc<Semaphore>>,
}

impl Handler {
    fn new() -> Self {
        Self {
            calls: Arc::default(),
            status: Arc::new(Mutex::new(StatusCode::OK)),
            gate: None,
        }
    }
    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
    fn answer(&self, status: StatusCode) {
        *self.status.lock().unwrap() = status;
    }
}

async fn handle(State(handler): State<Handler>) -> StatusCode {
    handler.calls.fetch_add(1, Ordering::SeqCst);
    if let Some(gate) = &handler.gate {
        gate.acquire().await.unwrap().forget();
    }
    let status = *handler.status.lock().unwrap();
    if status == StatusCode::IM_A_TEAPOT {
        panic!("handler panicked");
    }
    status
}

fn app<St: DedupeStore>(store: St, handler: &Handler, lease: Duration) -> Router {
    Router::new()
        .route(
            "/hook",
            post(handle).route_layer(
                ServiceBuilder::new()
                    .layer(ClerkWebhookLayer::new(verifier()))
                    .layer(
                        DedupeLayer::new(store)
                            .with_lease(lease)
                            .with_retention(Duration::from_secs(3600)),
                    ),
            ),
        )
        .with_state(handler.clone())
}

async fn deliver(app: &Router, id: &str) -> (StatusCode, http::HeaderMap, Value) {
    let body = user_created("user_1");
    let request = signed_request("/hook", id, NOW, body.as_bytes(), Body::from(body.clone()));
    let response = app.clone().oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    (
        parts.status,
        parts.headers,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

// ---- the shared suite -------------------------------------------------------------------------

async fn first_then_duplicate<St: DedupeStore>(store: St) {
    let handler = Handler::new();
    let app = app(store, &handler, Duration::from_secs(60));
    assert_eq!(deliver(&app, "msg_a").await.0, StatusCode::OK);
    let (status, headers, body) = deliver(&app, "msg_a").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(body["duplicate"], true);
    assert_eq!(body["svix_id"], "msg_a");
    assert_eq!(handler.calls(), 1);
    assert_eq!(
        deliver(&app, "msg_b").await.0,
        StatusCode::OK,
        "another id is processed"
    );
    assert_eq!(handler.calls(), 2);
}

async fn retry_after_failure<St: DedupeStore>(store: St) {
    let handler = Handler::new();
    let app = app(store, &handler, Duration::from_secs(60));
    handler.answer(StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        deliver(&app, "msg_f").await.0,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    handler.answer(StatusCode::OK);
    assert_eq!(
        deliver(&app, "msg_f").await.0,
        StatusCode::OK,
        "the retry is processed"
    );
    assert_eq!(deliver(&app, "msg_f").await.2["duplicate"], true);
    assert_eq!(handler.calls(), 2);
}

async fn concurrent_duplicates_run_the_handler_once<St: DedupeStore>(store: St) {
    let gate = Arc::new(Semaphore::new(0));
    let handler = Handler {
        gate: Some(gate.clone()),
        ..Handler::new()
    };
    let app = app(store, &handler, Duration::from_secs(60));
    let first = tokio::spawn({
        let app = app.clone();
        async move { deliver(&app, "msg_c").await.0 }
    });
    // Wait until the first delivery is inside the handler (it holds the claim there).
    while handler.calls() == 0 {
        tokio::task::yield_now().await;
    }
    let mut others = Vec::new();
    for _ in 0..20 {
        let app = app.clone();
        others.push(tokio::spawn(async move { deliver(&app, "msg_c").await }));
    }
    for other in others {
        let (status, headers, body) = other.await.unwrap();
        assert_eq!(status, StatusCode::CONFLICT);
        assert!(
            headers["retry-after"]
                .to_str()
                .unwrap()
                .parse::<u64>()
                .unwrap()
                >= 1
        );
        assert_eq!(body["error"], "delivery_in_progress");
    }
    gate.add_permits(1);
    assert_eq!(first.await.unwrap(), StatusCode::OK);
    assert_eq!(deliver(&app, "msg_c").await.2["duplicate"], true);
    assert_eq!(handler.calls(), 1);
}

/// A process that claimed an id and crashed: after the lease, the delivery is processed again.
async fn expired_lease_is_processed_again<St: DedupeStore>(store: St, expire: impl Fn()) {
    let handler = Handler::new();
    let app = app(store.clone(), &handler, Duration::from_secs(60));
    let Claim::Claimed(_crashed) = store.claim("msg_l", Duration::from_secs(60)).await.unwrap()
    else {
        panic!()
    };
    assert_eq!(deliver(&app, "msg_l").await.0, StatusCode::CONFLICT);
    assert_eq!(handler.calls(), 0);
    expire();
    assert_eq!(deliver(&app, "msg_l").await.0, StatusCode::OK);
    assert_eq!(handler.calls(), 1);
}

/// Only the holder of a claim can complete or release it; `complete` says whether it still held it.
async fn stale_tokens_change_nothing<St: DedupeStore>(store: St, expire: impl Fn()) {
    let Claim::Claimed(old) = store.claim("msg_t", Duration::from_secs(60)).await.unwrap() else {
        panic!()
    };
    expire();
    let Claim::Claimed(new) = store.claim("msg_t", Duration::from_secs(60)).await.unwrap() else {
        panic!()
    };
    store.release("msg_t", &old).await.unwrap();
    let completed = store
        .complete("msg_t", &old, Duration::from_secs(60))
        .await
        .unwrap();
    assert!(!completed, "a lost claim was reported as completed");
    assert!(matches!(
        store.claim("msg_t", Duration::from_secs(60)).await.unwrap(),
        Claim::InProgress { .. }
    ));
    let completed = store
        .complete("msg_t", &new, Duration::from_secs(60))
        .await
        .unwrap();
    assert!(completed);
    assert_eq!(
        store.claim("msg_t", Duration::from_secs(60)).await.unwrap(),
        Claim::Done
    );
}

// ---- MemoryStore --------------------------------------------------------------------------------

/// A MemoryStore whose clock the test moves.
fn memory_store() -> (MemoryStore, impl Fn(Duration)) {
    let now = Arc::new(Mutex::new(Instant::now()));
    let clock = now.clone();
    let store = MemoryStore::new().with_clock(move || *clock.lock().unwrap());
    (store, move |by: Duration| *now.lock().unwrap() += by)
}

#[tokio::test]
async fn memory_first_then_duplicate() {
    first_then_duplicate(MemoryStore::new()).await;
}

#[tokio::test]
async fn memory_retry_after_failure() {
    retry_after_failure(MemoryStore::new()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_concurrent_duplicates() {
    concurrent_duplicates_run_the_handler_once(MemoryStore::new()).await;
}

#[tokio::test]
async fn memory_expired_lease() {
    let (store, advance) = memory_store();
    expired_lease_is_processed_again(store, || advance(Duration::from_secs(61))).await;
}

#[tokio::test]
async fn memory_stale_tokens() {
    let (store, advance) = memory_store();
    stale_tokens_change_nothing(store, || advance(Duration::from_secs(61))).await;
}

#[tokio::test]
async fn memory_retention_ends() {
    let (store, advance) = memory_store();
    let handler = Handler::new();
    let app = app(store, &handler, Duration::from_secs(60));
    assert_eq!(deliver(&app, "msg_r").await.0, StatusCode::OK);
    advance(Duration::from_secs(3599));
    let (status, _, body) = deliver(&app, "msg_r").await;
    assert_eq!(body["duplicate"], true, "{status} {body}");
    advance(Duration::from_secs(2));
    assert_eq!(deliver(&app, "msg_r").await.0, StatusCode::OK);
    assert_eq!(
        handler.calls(),
        2,
        "remembered for the retention, then forgotten"
    );
}

#[tokio::test]
async fn memory_a_panicking_handler_releases_the_claim() {
    let store = MemoryStore::new();
    let handler = Handler::new();
    let app = app(store.clone(), &handler, Duration::from_secs(60));
    handler.answer(StatusCode::IM_A_TEAPOT);
    let panicked = tokio::spawn({
        let app = app.clone();
        async move { deliver(&app, "msg_p").await }
    })
    .await;
    assert!(panicked.unwrap_err().is_panic());
    handler.answer(StatusCode::OK);
    assert_eq!(
        deliver(&app, "msg_p").await.0,
        StatusCode::OK,
        "not 409: the claim was released"
    );
    assert_eq!(handler.calls(), 2);
}

#[tokio::test]
async fn without_the_webhook_layer_the_dedupe_layer_answers_500() {
    let app: Router = Router::new().route(
        "/hook",
        post(|| async { "ok" }).route_layer(DedupeLayer::new(MemoryStore::new())),
    );
    let request = http::Request::post("/hook").body(Body::empty()).unwrap();
    let response = app.oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
}

// ---- RedisStore ---------------------------------------------------------------------------------

#[cfg(feature = "redis")]
mod redis {
    use super::redis_server::RedisServer;
    use super::*;
    use clerk_webhooks::dedupe::RedisStore;

    async fn store(server: &RedisServer) -> RedisStore {
        RedisStore::connect(&server.url())
            .await
            .unwrap()
            .with_key_prefix("test:")
    }

    /// Ends every lease now, as their expiry would: Redis deletes a key whose TTL is set to zero.
    fn expire_all(server: &RedisServer) -> impl Fn() {
        let url = server.url();
        move || {
            let client = ::redis::Client::open(url.as_str()).unwrap();
            let mut connection = client.get_connection().unwrap();
            let keys: Vec<String> = ::redis::cmd("KEYS")
                .arg("test:*")
                .query(&mut connection)
                .unwrap();
            for key in keys {
                let ttl: i64 = ::redis::cmd("PTTL")
                    .arg(&key)
                    .query(&mut connection)
                    .unwrap();
                assert!(
                    ttl > 0,
                    "{key} has no expiry: a crashed claim would block it forever"
                );
                let _: i64 = ::redis::cmd("PEXPIRE")
                    .arg(&key)
                    .arg(0)
                    .query(&mut connection)
                    .unwrap();
            }
        }
    }

    #[tokio::test]
    async fn redis_first_then_duplicate() {
        let server = RedisServer::start();
        first_then_duplicate(store(&server).await).await;
    }

    #[tokio::test]
    async fn redis_retry_after_failure() {
        let server = RedisServer::start();
        retry_after_failure(store(&server).await).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn redis_concurrent_duplicates() {
        let server = RedisServer::start();
        concurrent_duplicates_run_the_handler_once(store(&server).await).await;
    }

    #[tokio::test]
    async fn redis_expired_lease() {
        let server = RedisServer::start();
        expired_lease_is_processed_again(store(&server).await, expire_all(&server)).await;
    }

    #[tokio::test]
    async fn redis_stale_tokens() {
        let server = RedisServer::start();
        stale_tokens_change_nothing(store(&server).await, expire_all(&server)).await;
    }

    #[tokio::test]
    async fn redis_retention_and_key_prefix() {
        let server = RedisServer::start();
        let handler = Handler::new();
        let app = app(store(&server).await, &handler, Duration::from_secs(60));
        assert_eq!(deliver(&app, "msg_r").await.0, StatusCode::OK);
        let client = ::redis::Client::open(server.url()).unwrap();
        let mut connection = client.get_connection().unwrap();
        let value: String = ::redis::cmd("GET")
            .arg("test:msg_r")
            .query(&mut connection)
            .unwrap();
        let ttl: i64 = ::redis::cmd("PTTL")
            .arg("test:msg_r")
            .query(&mut connection)
            .unwrap();
        assert_eq!(value, "done");
        assert!(
            (3_590_000..=3_600_000).contains(&ttl),
            "retention is the configured hour: {ttl}"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_instances_sharing_redis_process_each_id_once() {
        let server = RedisServer::start();
        let handler = Handler::new();
        // Two independent apps, each with its own connection, like two processes.
        let instances = [
            app(store(&server).await, &handler, Duration::from_secs(60)),
            app(store(&server).await, &handler, Duration::from_secs(60)),
        ];
        let mut tasks = Vec::new();
        for round in 0..10 {
            for copy in 0..8 {
                let app = instances[copy % 2].clone();
                tasks.push(tokio::spawn(async move {
                    deliver(&app, &format!("msg_{round}")).await.0
                }));
            }
        }
        let mut statuses = Vec::new();
        for task in tasks {
            statuses.push(task.await.unwrap());
        }
        assert!(
            statuses
                .iter()
                .all(|s| [StatusCode::OK, StatusCode::CONFLICT].contains(s)),
            "{statuses:?}"
        );
        assert_eq!(
            handler.calls(),
            10,
            "each of the 10 ids processed exactly once"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn redis_down_is_503_and_the_delivery_succeeds_once_it_is_back() {
        let server = RedisServer::start();
        let handler = Handler::new();
        let app = app(store(&server).await, &handler, Duration::from_secs(60));
        assert_eq!(deliver(&app, "msg_before").await.0, StatusCode::OK);

        let port = server.stop();
        let (status, headers, body) = deliver(&app, "msg_down").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(headers.contains_key("retry-after"));
        assert_eq!(body["error"], "dedupe_unavailable");
        assert_eq!(
            handler.calls(),
            1,
            "nothing processed while the store is down"
        );

        let _server = RedisServer::start_on(port);
        // Svix retries; the connection manager reconnects on its own within a few attempts.
        let mut status = StatusCode::SERVICE_UNAVAILABLE;
        for _ in 0..50 {
            status = deliver(&app, "msg_down").await.0;
            if status == StatusCode::OK {
                break;
            }
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        }
        assert_eq!(status, StatusCode::OK);
        assert_eq!(handler.calls(), 2);
    }
}
