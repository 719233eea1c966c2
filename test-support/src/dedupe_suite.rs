//! One suite of `DedupeLayer` behaviours, run against every `DedupeStore`: `MemoryStore` in the
//! library's tests, `RedisStore` against a real redis-server in clerk-webhooks-redis's.
#![allow(clippy::new_without_default)] // the tests say `Handler::new()`
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::*;
use axum::extract::State;
use axum::routing::post;
use axum::Router;
use clerk_webhooks::dedupe::{Claim, DedupeLayer, DedupeStore};
use clerk_webhooks::testing::SignedRequest;
use clerk_webhooks::{ClerkWebhookLayer, SigningSecret, Verifier};
use http::StatusCode;
use http_body_util::BodyExt;
use serde_json::Value;
use tokio::sync::Semaphore;
use tower::{ServiceBuilder, ServiceExt};

/// What the handler does, and how often it ran.
#[derive(Clone)]
pub struct Handler {
    calls: Arc<AtomicUsize>,
    /// The status it answers with.
    status: Arc<Mutex<StatusCode>>,
    /// When set, each call waits for a permit first (to hold deliveries in progress).
    gate: Option<Arc<Semaphore>>,
    /// When set, each call runs it (to make time pass inside the handler).
    during: Option<Arc<dyn Fn() + Send + Sync>>,
}

impl Handler {
    pub fn new() -> Self {
        Self {
            calls: Arc::default(),
            status: Arc::new(Mutex::new(StatusCode::OK)),
            gate: None,
            during: None,
        }
    }
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
    pub fn answer(&self, status: StatusCode) {
        *self.status.lock().unwrap() = status;
    }
}

pub async fn handle(State(handler): State<Handler>) -> StatusCode {
    handler.calls.fetch_add(1, Ordering::SeqCst);
    if let Some(gate) = &handler.gate {
        gate.acquire().await.unwrap().forget();
    }
    if let Some(during) = &handler.during {
        during();
    }
    let status = *handler.status.lock().unwrap();
    if status == StatusCode::IM_A_TEAPOT {
        panic!("handler panicked");
    }
    status
}

pub fn app<St: DedupeStore>(store: St, handler: &Handler, lease: Duration) -> Router {
    let retention = Duration::from_secs(3600);
    app_with(store, handler, verifier(), lease, retention)
}

/// The route of the endpoint whose secret `verifier` holds.
pub fn app_with<St: DedupeStore>(
    store: St,
    handler: &Handler,
    verifier: Verifier,
    lease: Duration,
    retention: Duration,
) -> Router {
    Router::new()
        .route(
            "/hook",
            post(handle).route_layer(
                ServiceBuilder::new()
                    .layer(ClerkWebhookLayer::new(verifier))
                    .layer(
                        DedupeLayer::new(store)
                            .with_lease(lease)
                            .with_retention(retention),
                    ),
            ),
        )
        .with_state(handler.clone())
}

/// The store key of delivery `id` to the tests' endpoint: the endpoint's namespace, then the id.
pub fn key(id: &str) -> String {
    format!("{}:{id}", verifier().endpoint())
}

pub async fn deliver(app: &Router, id: &str) -> (StatusCode, http::HeaderMap, Value) {
    deliver_signed(app, &verifier(), id).await
}

pub async fn deliver_signed(
    app: &Router,
    verifier: &Verifier,
    id: &str,
) -> (StatusCode, http::HeaderMap, Value) {
    let request = SignedRequest::new(user_created("user_1"))
        .with_id(id)
        .with_timestamp(NOW)
        .with_uri("/hook")
        .build(verifier);
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

pub async fn first_then_duplicate<St: DedupeStore>(store: St) {
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

pub async fn retry_after_failure<St: DedupeStore>(store: St) {
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

pub async fn concurrent_duplicates_run_the_handler_once<St: DedupeStore>(store: St) {
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
pub async fn expired_lease_is_processed_again<St: DedupeStore>(store: St, expire: impl Fn()) {
    let handler = Handler::new();
    let app = app(store.clone(), &handler, Duration::from_secs(60));
    let Claim::Claimed(_crashed) = store
        .claim(&key("msg_l"), Duration::from_secs(60))
        .await
        .unwrap()
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
pub async fn stale_tokens_change_nothing<St: DedupeStore>(store: St, expire: impl Fn()) {
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

/// Regression (issue 17, item 3): a handler that outlived its lease while nobody claimed the id
/// succeeded, but its success was not recorded, so the replay ran the handler again (lease 300 ms,
/// handler 700 ms: 2 calls). `expire` runs inside the handler and ends the lease.
pub async fn a_success_after_the_lease_ran_out_is_recorded<St: DedupeStore>(
    store: St,
    expire: impl Fn() + Send + Sync + 'static,
) {
    let handler = Handler {
        during: Some(Arc::new(expire)),
        ..Handler::new()
    };
    let app = app(store, &handler, Duration::from_millis(300));
    assert_eq!(deliver(&app, "msg_late").await.0, StatusCode::OK);
    let (status, _, body) = deliver(&app, "msg_late").await;
    assert_eq!((status, &body["duplicate"]), (StatusCode::OK, &true.into()));
    assert_eq!(handler.calls(), 1, "the replay ran the handler again");
}

/// Regression (issue 17, item 2): Svix sends one `svix-id` to every endpoint subscribed to a
/// message. Two endpoints with their own secrets sharing one store took each other's deliveries
/// for duplicates.
pub async fn two_endpoints_sharing_a_store_each_process_the_same_svix_id_once<St: DedupeStore>(
    store: St,
) {
    let handler = Handler::new();
    let production = verifier();
    let staging = Verifier::new(SigningSecret::new(OTHER_SECRET).unwrap()).with_clock(|| at(NOW));
    let hour = Duration::from_secs(3600);
    let endpoints = [production, staging].map(|verifier| {
        let app = app_with(store.clone(), &handler, verifier.clone(), hour, hour);
        (app, verifier)
    });
    for round in 0..2 {
        for (app, verifier) in &endpoints {
            let (status, _, body) = deliver_signed(app, verifier, "msg_shared").await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(
                body["duplicate"] == true,
                round == 1,
                "round {round}: {body}"
            );
        }
    }
    assert_eq!(handler.calls(), 2, "once per endpoint");
}

/// Regression (issue 30, item 4): the default namespace of the store's keys is the first secret's
/// fingerprint, so the rotation the README describes (the new secret first, then the old) made a
/// retry of a delivery processed before it run the handler again. A delivery is looked up under
/// every configured secret's namespace and marked under each, whichever order the secrets are
/// configured in; an endpoint with other secrets still never collides (the suite above).
pub async fn a_secret_rotation_keeps_what_was_processed<St: DedupeStore>(store: St) {
    let handler = Handler::new();
    let old = verifier();
    let new = Verifier::new(SigningSecret::new(OTHER_SECRET).unwrap()).with_clock(|| at(NOW));
    let hour = Duration::from_secs(3600);
    let route = |verifier: Verifier| app_with(store.clone(), &handler, verifier, hour, hour);
    let duplicate = |(status, _, body): (StatusCode, http::HeaderMap, Value)| {
        assert_eq!(status, StatusCode::OK, "{body}");
        body["duplicate"] == true
    };
    let before = route(old.clone());
    assert!(!duplicate(
        deliver_signed(&before, &old, "msg_before").await
    ));
    // The rotation, in either order: Svix signs with both secrets for a day.
    for (during, signer, id) in [
        (
            new.clone().with_secret(SigningSecret::new(SECRET).unwrap()),
            &old,
            "msg_new_first",
        ),
        (
            old.clone()
                .with_secret(SigningSecret::new(OTHER_SECRET).unwrap()),
            &new,
            "msg_old_first",
        ),
    ] {
        let during = route(during);
        assert!(
            duplicate(deliver_signed(&during, &old, "msg_before").await),
            "{id}"
        );
        assert!(
            !duplicate(deliver_signed(&during, signer, id).await),
            "{id}"
        );
    }
    // The old secret removed: what was processed during the rotation is still known.
    let after = route(new.clone());
    // msg_before was marked under the old secret's key only: its retry during the rotation marked
    // the new one too.
    for id in ["msg_before", "msg_new_first", "msg_old_first"] {
        assert!(duplicate(deliver_signed(&after, &new, id).await), "{id}");
    }
    assert_eq!(handler.calls(), 3, "once per delivery");
}

/// Found in review (issue 30, item 4): during a rolling deploy, instances may hold the two secrets
/// in opposite orders. Each claimed its own first key, so a retry reaching one while the first
/// attempt ran on the other ran the handler again. Both claim the same key now.
pub async fn instances_with_the_secrets_in_either_order_claim_one_key<St: DedupeStore>(store: St) {
    let gate = Arc::new(Semaphore::new(0));
    let handler = Handler {
        gate: Some(gate.clone()),
        ..Handler::new()
    };
    let old = verifier();
    let new = Verifier::new(SigningSecret::new(OTHER_SECRET).unwrap()).with_clock(|| at(NOW));
    let hour = Duration::from_secs(3600);
    let old_first = old
        .clone()
        .with_secret(SigningSecret::new(OTHER_SECRET).unwrap());
    let new_first = new.clone().with_secret(SigningSecret::new(SECRET).unwrap());
    let one = app_with(store.clone(), &handler, old_first, hour, hour);
    let other = app_with(store, &handler, new_first, hour, hour);
    let first = tokio::spawn({
        let (one, old) = (one.clone(), old.clone());
        async move { deliver_signed(&one, &old, "msg_both").await.0 }
    });
    while handler.calls() == 0 {
        tokio::task::yield_now().await;
    }
    // Before the fix the other instance ran the handler too, and waited in it.
    let second = deliver_signed(&other, &new, "msg_both");
    let (status, _, body) = tokio::time::timeout(Duration::from_secs(30), second)
        .await
        .expect("the other instance ran the handler too");
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    gate.add_permits(1);
    assert_eq!(first.await.unwrap(), StatusCode::OK);
    assert_eq!(
        deliver_signed(&other, &new, "msg_both").await.2["duplicate"],
        true
    );
    assert_eq!(handler.calls(), 1);
}

/// Regression (issue 17, item 4): `with_lease(Duration::MAX)` or `with_retention(Duration::MAX)`
/// panicked inside the request (`Instant + Duration`), leaving the claim held. Every lease and
/// retention, from zero to `Duration::MAX`, answers.
pub async fn any_lease_and_retention_answers<St: DedupeStore>(store: St) {
    let extremes = [
        Duration::ZERO,
        Duration::from_nanos(1),
        Duration::from_secs(60),
        Duration::MAX,
    ];
    for (n, lease) in extremes.into_iter().enumerate() {
        for (m, retention) in [Duration::ZERO, Duration::MAX].into_iter().enumerate() {
            let handler = Handler::new();
            let app = app_with(store.clone(), &handler, verifier(), lease, retention);
            let id = format!("msg_{n}_{m}");
            assert_eq!(deliver(&app, &id).await.0, StatusCode::OK);
            let (status, _, body) = deliver(&app, &id).await;
            assert_eq!(
                status,
                StatusCode::OK,
                "lease {lease:?}, retention {retention:?}"
            );
            if retention == Duration::MAX {
                assert_eq!(body["duplicate"], true);
                assert_eq!(handler.calls(), 1);
            }
        }
    }
    // A delivery in progress under an endless lease: 409 with the longest Retry-After.
    let gate = Arc::new(Semaphore::new(0));
    let handler = Handler {
        gate: Some(gate.clone()),
        ..Handler::new()
    };
    let app = app_with(store, &handler, verifier(), Duration::MAX, Duration::MAX);
    let first = tokio::spawn({
        let app = app.clone();
        async move { deliver(&app, "msg_endless").await.0 }
    });
    while handler.calls() == 0 {
        tokio::task::yield_now().await;
    }
    let (status, headers, _) = deliver(&app, "msg_endless").await;
    assert_eq!(status, StatusCode::CONFLICT);
    let retry_after: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry_after > 365 * 24 * 3600, "{retry_after}");
    gate.add_permits(1);
    assert_eq!(first.await.unwrap(), StatusCode::OK);
}
