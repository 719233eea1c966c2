//! What the sync costs: deliveries per second through the inbox (with the order guard and the
//! mirror) on PostgreSQL and SQLite, the latency of the handler's transaction (p50, p99), and the
//! same for a bare insert of one row in its own transaction, the least any database write costs.
//!
//! ```text
//! cargo bench -p clerk-webhooks-sqlx --bench sync --features postgres,sqlite
//! ```
//!
//! PostgreSQL runs in a throwaway cluster on loopback with its default durability (fsync on,
//! synchronous commit); SQLite is a file in WAL mode with sqlx's defaults (`synchronous = FULL`).
//! Under `cargo test` it runs a few deliveries only, as a smoke test.

use clerk_webhooks_test_support::{clerk_history, postgres_server};

use std::sync::Arc;
use std::time::{Duration, Instant};

use clerk_webhooks::{SigningSecret, Verifier};
use clerk_webhooks_sqlx::{Mirror, SyncDatabase, Synced};

/// A delivery as the layer hands it on: verified, with its body.
struct Prepared {
    delivery: clerk_webhooks::Delivery,
    body: String,
}

fn prepare(count: usize) -> Vec<Prepared> {
    let verifier =
        Verifier::new(SigningSecret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap())
            .with_clock(|| std::time::UNIX_EPOCH + Duration::from_secs(1_716_883_200));
    (0..count)
        .map(|n| {
            let id = format!("user_{n:06}");
            let at = 1_716_883_200_000 + n as i64;
            let body =
                clerk_history::envelope("user.updated", at, clerk_history::user(&id, 1, at, at));
            let svix_id = format!("msg_{n:06}");
            let headers = verifier
                .signed_headers(&svix_id, 1_716_883_200, body.as_bytes())
                .unwrap();
            let delivery = verifier.verify(&headers, body.as_bytes()).unwrap();
            Prepared { delivery, body }
        })
        .collect()
}

struct Figures {
    per_second: f64,
    p50: Duration,
    p99: Duration,
}

/// Runs `work` for every item from `tasks` concurrent tasks; returns throughput and latencies.
async fn measure<T, F, Fut>(items: Vec<T>, tasks: usize, work: F) -> Figures
where
    T: Send + Sync + 'static,
    F: Fn(Arc<T>) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let total = items.len();
    let queue = Arc::new(std::sync::Mutex::new(
        items.into_iter().map(Arc::new).collect::<Vec<_>>(),
    ));
    let work = Arc::new(work);
    let start = Instant::now();
    let mut handles = Vec::new();
    for _ in 0..tasks {
        let (queue, work) = (Arc::clone(&queue), Arc::clone(&work));
        handles.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let Some(item) = queue.lock().unwrap().pop() else {
                    return latencies;
                };
                let began = Instant::now();
                work(item).await;
                latencies.push(began.elapsed());
            }
        }));
    }
    let mut latencies = Vec::new();
    for handle in handles {
        latencies.extend(handle.await.unwrap());
    }
    let elapsed = start.elapsed();
    latencies.sort();
    Figures {
        per_second: total as f64 / elapsed.as_secs_f64(),
        p50: latencies[latencies.len() / 2],
        p99: latencies[latencies.len() * 99 / 100],
    }
}

fn report(database: &str, what: &str, tasks: usize, figures: &Figures) {
    println!(
        "| {database} | {what} | {tasks} | {:.0} | {:.2} | {:.2} |",
        figures.per_second,
        figures.p50.as_secs_f64() * 1e3,
        figures.p99.as_secs_f64() * 1e3
    );
}

macro_rules! bench_database {
    ($name:literal, $pool:expr, $count:expr) => {{
        let pool = $pool;
        let mirror = Mirror::new(pool.clone());
        mirror.inbox().migrate().await.unwrap();
        sqlx::query("CREATE TABLE IF NOT EXISTS bench_bare (id TEXT PRIMARY KEY, email TEXT, data TEXT NOT NULL)")
            .execute(&pool)
            .await
            .unwrap();
        for tasks in [1, 8] {
            for table in ["clerk_webhooks_inbox", "clerk_webhooks_versions", "clerk_users", "bench_bare"] {
                sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table}"))).execute(&pool).await.unwrap();
            }
            let figures = measure(prepare($count), tasks, {
                let mirror = mirror.clone();
                move |item: Arc<Prepared>| {
                    let mirror = mirror.clone();
                    async move {
                        let synced = mirror.apply(&item.delivery, item.body.as_bytes()).await.unwrap();
                        assert_eq!(synced, Synced::Applied);
                    }
                }
            })
            .await;
            report($name, "inbox + guard + mirror", tasks, &figures);
            let figures = measure(prepare($count), tasks, {
                let pool = pool.clone();
                move |item: Arc<Prepared>| {
                    let pool = pool.clone();
                    async move {
                        let mut tx = pool.begin().await.unwrap();
                        sqlx::query("INSERT INTO bench_bare (id, email, data) VALUES ($1, $2, $3)")
                            .bind(item.delivery.id())
                            .bind("someone@example.com")
                            .bind(&item.body)
                            .execute(&mut *tx)
                            .await
                            .unwrap();
                        tx.commit().await.unwrap();
                    }
                }
            })
            .await;
            report($name, "bare insert", tasks, &figures);
        }
    }};
}

fn assert_sync_database<DB: SyncDatabase>() {}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    assert_sync_database::<sqlx::Postgres>();
    let benchmarking = std::env::args().any(|arg| arg == "--bench");
    let count = if benchmarking { 4000 } else { 20 };
    println!("| database | transaction | concurrent | per second | p50 ms | p99 ms |");
    println!("|---|---|---|---|---|---|");

    let server = postgres_server::PostgresServer::start();
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(8)
        .connect(&server.url())
        .await
        .unwrap();
    bench_database!("PostgreSQL", pool, count);

    let dir = std::env::temp_dir().join(format!("clerk-webhooks-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(dir.join("bench.db"))
        .create_if_missing(true)
        .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
        .busy_timeout(Duration::from_secs(30));
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await
        .unwrap();
    bench_database!("SQLite", pool, count);
    let _ = std::fs::remove_dir_all(&dir);
}
