//! DedupeLayer with MemoryStore: the shared suite of behaviours (`clerk_webhooks_test_support::
//! dedupe_suite`, which clerk-webhooks-redis runs against a real redis-server too), plus what only
//! MemoryStore has.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::routing::post;
use axum::Router;
use clerk_webhooks::dedupe::{DedupeLayer, MemoryStore};
use clerk_webhooks_test_support::dedupe_suite::*;
use http::StatusCode;
use tower::ServiceExt;

// ---- MemoryStore --------------------------------------------------------------------------------

/// A MemoryStore whose clock the test moves.
fn memory_store() -> (MemoryStore, impl Fn(Duration)) {
    let now = Arc::new(Mutex::new(Instant::now()));
    let clock = now.clone();
    let store = MemoryStore::new().with_clock(move || *clock.lock().unwrap());
    (store, move |by: Duration| *now.lock().unwrap() += by)
}

#[tokio::test]
async fn memory_late_success_is_recorded() {
    let (store, advance) = memory_store();
    a_success_after_the_lease_ran_out_is_recorded(store, move || {
        advance(Duration::from_millis(700))
    })
    .await;
}

#[tokio::test]
async fn memory_secret_rotation() {
    a_secret_rotation_keeps_what_was_processed(MemoryStore::new()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_secrets_in_either_order() {
    instances_with_the_secrets_in_either_order_claim_one_key(MemoryStore::new()).await;
}

#[tokio::test]
async fn memory_two_endpoints() {
    two_endpoints_sharing_a_store_each_process_the_same_svix_id_once(MemoryStore::new()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_any_lease_and_retention() {
    any_lease_and_retention_answers(MemoryStore::new()).await;
    any_lease_and_retention_answers(MemoryStore::new().with_max_entries(0)).await;
    any_lease_and_retention_answers(MemoryStore::new().with_max_entries(usize::MAX)).await;
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
