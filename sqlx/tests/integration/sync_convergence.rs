//! The convergence test: a history of 200 users and 20 organizations with their memberships
//! (created, updated several times, some deleted), delivered through a real HTTP server and the
//! layer in many orders, with 20% duplicates, from several concurrent clients, and with the
//! handler's transaction broken mid-way for some deliveries (on PostgreSQL the server drops the
//! connection) and then retried as Svix would. Every ordering must end in the state of applying
//! the history in order, with exactly one effect per svix-id. On PostgreSQL and SQLite.
//!
//! `SYNC_ORDERINGS=N` tries N orderings per database (default 4: the history reversed, and
//! seeded shuffles).

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::routing::post;
use axum::Router;
use bytes::Bytes;
use clerk_webhooks::{ClerkWebhookLayer, Delivery};
use clerk_webhooks_sqlx::{Mirror, SyncError, Synced};
use clerk_webhooks_test_support::postgres_server;
use http::{Request, StatusCode};
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

use crate::common;
use crate::common::sync_db::{self, MirrorRow, TestDb};
use clerk_webhooks_test_support::clerk_history::{history, HistoryEvent, Rng};

const USERS: usize = 200;
const ORGANIZATIONS: usize = 20;
const CLIENTS: usize = 4;

struct App<DB: TestDb> {
    mirror: Mirror<DB>,
    /// Svix-ids whose first attempt is broken mid-transaction, and those already broken once.
    to_break: HashSet<String>,
    broken: Mutex<HashSet<String>>,
}

/// An app's handler built on the inbox: the mirror's write and the app's own effect (a counter),
/// in one transaction; some first attempts are broken after both writes, before the commit.
async fn handle<DB: TestDb>(
    State(app): State<Arc<App<DB>>>,
    delivery: Delivery,
    body: Bytes,
) -> Result<Synced, SyncError> {
    let Some(mut tx) = app.mirror.inbox().begin(&delivery).await? else {
        return Ok(Synced::Duplicate);
    };
    let synced = Mirror::write(&mut tx, &body).await?;
    DB::count_effect(&mut tx, delivery.id()).await?;
    if app.to_break.contains(delivery.id())
        && app.broken.lock().unwrap().insert(delivery.id().to_owned())
    {
        DB::break_transaction(&mut tx).await?;
    }
    tx.commit().await?;
    Ok(synced)
}

async fn serve<DB: TestDb>(app: Arc<App<DB>>) -> SocketAddr {
    let router = Router::new()
        .route("/webhooks/clerk", post(handle::<DB>))
        .with_state(app)
        .layer(ClerkWebhookLayer::new(common::verifier()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

/// Delivers `queue` from `CLIENTS` concurrent clients; a 5xx puts the delivery back at a random
/// later place, as a Svix retry (same id, signed anew). Returns how many answers were 5xx.
async fn deliver(addr: SocketAddr, queue: Vec<HistoryEvent>, seed: u64) -> usize {
    let queue = Arc::new(Mutex::new(VecDeque::from(queue)));
    let retries = Arc::new(Mutex::new((Rng::new(seed), 0usize)));
    let url = format!("http://{addr}/webhooks/clerk");
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        let (queue, retries, url) = (Arc::clone(&queue), Arc::clone(&retries), url.clone());
        clients.push(tokio::spawn(async move {
            let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
            loop {
                let Some(event) = queue.lock().unwrap().pop_front() else {
                    return;
                };
                let mut request = Request::post(&url)
                    .body(Full::from(event.body.clone()))
                    .unwrap();
                let headers =
                    common::signed_headers(&event.svix_id, common::NOW, event.body.as_bytes());
                request.headers_mut().extend(headers);
                let status = client.request(request).await.unwrap().status();
                if status.is_server_error() {
                    let mut retries = retries.lock().unwrap();
                    retries.1 += 1;
                    let mut queue = queue.lock().unwrap();
                    let at = retries.0.below(queue.len() as u64 + 1) as usize;
                    queue.insert(at, event);
                } else {
                    assert_eq!(status, StatusCode::OK, "{}", event.body);
                }
            }
        }));
    }
    for client in clients {
        client.await.unwrap();
    }
    let retried = retries.lock().unwrap().1;
    retried
}

/// The deliveries of one run: every event, 20% of them twice, in the order `ordering` picks.
fn deliveries(events: &[HistoryEvent], ordering: u64) -> Vec<HistoryEvent> {
    let mut rng = Rng::new(0xC0FFEE + ordering);
    let mut all = events.to_vec();
    all.extend(events.iter().filter(|_| rng.chance(20)).cloned());
    if ordering == 0 {
        // The history backwards: every deletion before its object's creation.
        all.sort_by(|a, b| b.svix_id.cmp(&a.svix_id));
    } else {
        rng.shuffle(&mut all);
    }
    all
}

/// The mirror's rows after applying `events` in order, worked out from the JSON alone. A
/// membership whose own deletion never came is deleted at the earliest deletion of its user or
/// organization, if either was deleted.
fn expected_rows(events: &[HistoryEvent]) -> Vec<MirrorRow> {
    let mut rows: HashMap<(&'static str, String), MirrorRow> = HashMap::new();
    let mut owner_deleted: HashMap<String, i64> = HashMap::new();
    let text = |value: &Value| match value {
        Value::Null => None,
        Value::String(text) => Some(text.clone()),
        other => Some(other.to_string()),
    };
    for event in events {
        let body: Value = serde_json::from_str(&event.body).unwrap();
        let (event_type, data) = (body["type"].as_str().unwrap(), body["data"].clone());
        let deleted_at = event_type
            .ends_with(".deleted")
            .then(|| body["timestamp"].to_string());
        let (table, columns) = match event_type {
            "user.created" | "user.updated" => (
                "clerk_users",
                vec![
                    text(&data["email_addresses"][0]["email_address"]),
                    text(&data["first_name"]),
                    text(&data["last_name"]),
                    text(&data["username"]),
                    text(&data["image_url"]),
                    text(&data["created_at"]),
                    text(&data["updated_at"]),
                    None,
                ],
            ),
            "user.deleted" => (
                "clerk_users",
                vec![None, None, None, None, None, None, None, deleted_at],
            ),
            "organization.created" | "organization.updated" => (
                "clerk_organizations",
                vec![
                    text(&data["name"]),
                    text(&data["slug"]),
                    text(&data["image_url"]),
                    text(&data["created_at"]),
                    text(&data["updated_at"]),
                    None,
                ],
            ),
            "organization.deleted" => (
                "clerk_organizations",
                vec![None, None, None, None, None, deleted_at],
            ),
            _ => (
                "clerk_organization_memberships",
                vec![
                    text(&data["organization"]["id"]),
                    text(&data["public_user_data"]["user_id"]),
                    text(&data["role"]),
                    text(&data["created_at"]),
                    text(&data["updated_at"]),
                    deleted_at,
                ],
            ),
        };
        let id = data["id"].as_str().unwrap().to_owned();
        if let Some(at) = body["timestamp"]
            .as_i64()
            .filter(|_| matches!(event_type, "user.deleted" | "organization.deleted"))
        {
            owner_deleted.entry(id.clone()).or_insert(at);
        }
        let key = (table, id.clone());
        let already_deleted = rows
            .get(&key)
            .is_some_and(|row| row.columns.last().unwrap().is_some());
        if !already_deleted {
            rows.insert(
                key,
                MirrorRow {
                    table,
                    id,
                    columns,
                    data,
                },
            );
        }
    }
    let mut rows: Vec<MirrorRow> = rows.into_values().collect();
    for row in rows
        .iter_mut()
        .filter(|row| row.table == "clerk_organization_memberships")
    {
        let owners = [&row.columns[0], &row.columns[1]];
        let inherited = owners
            .into_iter()
            .flatten()
            .filter_map(|owner| owner_deleted.get(owner))
            .min();
        let deleted_at = row.columns.last_mut().unwrap();
        if deleted_at.is_none() {
            *deleted_at = inherited.map(|at| at.to_string());
        }
    }
    rows.sort_by(|a, b| (a.table, &a.id).cmp(&(b.table, &b.id)));
    rows
}

async fn converges<DB: TestDb>(pool: sqlx::Pool<DB>) {
    let events = history(20261130, USERS, ORGANIZATIONS);
    let expected = expected_rows(&events);
    assert!(
        expected
            .iter()
            .any(|row| row.columns.last().unwrap().is_some()),
        "the history deletes"
    );
    let mut rng = Rng::new(7);
    let to_break: HashSet<String> = events
        .iter()
        .filter(|_| rng.chance(10))
        .map(|e| e.svix_id.clone())
        .collect();
    let mirror = Mirror::new(pool.clone());
    mirror.inbox().migrate().await.unwrap();
    DB::create_effects(&pool).await;

    let orderings: u64 = std::env::var("SYNC_ORDERINGS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(4);
    for ordering in 0..orderings {
        DB::clear(&pool).await;
        let app = Arc::new(App {
            mirror: mirror.clone(),
            to_break: to_break.clone(),
            broken: Mutex::default(),
        });
        let addr = serve(Arc::clone(&app)).await;
        let queue = deliveries(&events, ordering);
        let sent = queue.len();
        let retried = deliver(addr, queue, ordering).await;

        let label = format!("{} ordering {ordering}", DB::LABEL);
        assert_eq!(
            retried,
            to_break.len(),
            "{label}: each broken delivery answered 5xx once"
        );
        let rows = DB::mirror_rows(&pool).await;
        assert_eq!(rows.len(), expected.len(), "{label}");
        for (row, want) in rows.iter().zip(&expected) {
            assert_eq!(row, want, "{label}");
        }
        let effects = DB::effects(&pool).await;
        assert_eq!(
            effects.len(),
            events.len(),
            "{label}: one effect per svix-id"
        );
        assert!(effects.iter().all(|(_, n)| *n == 1), "{label}: {effects:?}");
        eprintln!(
            "{label}: {sent} deliveries, {retried} retried after a broken transaction, converged"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn converges_on_postgres() {
    let server = postgres_server::PostgresServer::start();
    converges(sync_db::postgres(&server).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn converges_on_sqlite() {
    let (pool, _dir) = sync_db::sqlite().await;
    converges(pool).await;
}
