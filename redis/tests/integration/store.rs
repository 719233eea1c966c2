//! RedisStore against a real redis-server: the shared suite of DedupeLayer behaviours
//! (`clerk_webhooks_test_support::dedupe_suite`, which the library runs against MemoryStore too),
//! plus what only Redis has (many instances, Redis going down and coming back).

use std::time::Duration;

use clerk_webhooks_redis::RedisStore;
use clerk_webhooks_test_support::dedupe_suite::*;
use clerk_webhooks_test_support::redis_server::RedisServer;
use http::StatusCode;

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
async fn redis_secret_rotation() {
    let server = RedisServer::start();
    a_secret_rotation_keeps_what_was_processed(store(&server).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_secrets_in_either_order() {
    let server = RedisServer::start();
    instances_with_the_secrets_in_either_order_claim_one_key(store(&server).await).await;
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
async fn redis_late_success_is_recorded() {
    let server = RedisServer::start();
    let expire = expire_all(&server);
    a_success_after_the_lease_ran_out_is_recorded(store(&server).await, expire).await;
}

#[tokio::test]
async fn redis_two_endpoints() {
    let server = RedisServer::start();
    two_endpoints_sharing_a_store_each_process_the_same_svix_id_once(store(&server).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_any_lease_and_retention() {
    let server = RedisServer::start();
    any_lease_and_retention_answers(store(&server).await).await;
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
        .arg(format!("test:{}", key("msg_r")))
        .query(&mut connection)
        .unwrap();
    let ttl: i64 = ::redis::cmd("PTTL")
        .arg(format!("test:{}", key("msg_r")))
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
