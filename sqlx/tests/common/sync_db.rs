//! The two databases the sync runs on, as the tests use them: a fresh one of each, and the
//! queries the tests read the outcome with (the same SQL on both, written once in a macro).

use std::future::Future;
use std::pin::Pin;

use clerk_webhooks_sqlx::{InboxTransaction, SyncDatabase};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One row of a mirror table, as the tests compare it: the typed columns and `data`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MirrorRow {
    pub table: &'static str,
    pub id: String,
    pub columns: Vec<Option<String>>,
    pub data: serde_json::Value,
}

/// A row of `clerk_webhooks_failed_deliveries`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedRow {
    pub key: String,
    pub event_type: Option<String>,
    pub reason: String,
    pub sqlstate: Option<String>,
    pub body: Vec<u8>,
}

pub trait TestDb: SyncDatabase {
    const LABEL: &'static str;
    /// Creates the table the handler counts its effects in.
    fn create_effects(pool: &sqlx::Pool<Self>) -> BoxFuture<'_, ()>;
    /// Adds one to the effect count of `svix_id`, in the delivery's transaction.
    fn count_effect<'c>(
        tx: &'c mut InboxTransaction<Self>,
        svix_id: &'c str,
    ) -> BoxFuture<'c, sqlx::Result<()>>;
    /// Breaks the delivery's transaction mid-way: on PostgreSQL the server drops its connection
    /// (`pg_terminate_backend` of its own backend), on SQLite an injected error.
    fn break_transaction<'c>(tx: &'c mut InboxTransaction<Self>)
        -> BoxFuture<'c, sqlx::Result<()>>;
    /// Every effect count, by svix-id.
    fn effects(pool: &sqlx::Pool<Self>) -> BoxFuture<'_, Vec<(String, i64)>>;
    /// Every row of the three mirror tables, sorted.
    fn mirror_rows(pool: &sqlx::Pool<Self>) -> BoxFuture<'_, Vec<MirrorRow>>;
    /// The `data_exact` of user `id`.
    fn exact_data<'a>(pool: &'a sqlx::Pool<Self>, id: &'a str) -> BoxFuture<'a, Option<String>>;
    /// Every delivery recorded as failed for good: key, reason, SQLSTATE and body, by key.
    fn failed_deliveries(pool: &sqlx::Pool<Self>) -> BoxFuture<'_, Vec<FailedRow>>;
    /// How many deliveries the inbox holds.
    fn inbox_len(pool: &sqlx::Pool<Self>) -> BoxFuture<'_, i64>;
    /// Empties every table, for the next run.
    fn clear(pool: &sqlx::Pool<Self>) -> BoxFuture<'_, ()>;
}

const MIRROR_QUERIES: [(&str, &str); 3] = [
    (
        "clerk_users",
        "SELECT id, email, first_name, last_name, username, image_url, CAST(created_at AS TEXT), \
         CAST(updated_at AS TEXT), CAST(deleted_at AS TEXT), CAST(data AS TEXT) FROM clerk_users",
    ),
    (
        "clerk_organizations",
        "SELECT id, name, slug, image_url, CAST(created_at AS TEXT), CAST(updated_at AS TEXT), \
         CAST(deleted_at AS TEXT), CAST(data AS TEXT) FROM clerk_organizations",
    ),
    (
        "clerk_organization_memberships",
        "SELECT id, organization_id, user_id, role, CAST(created_at AS TEXT), \
         CAST(updated_at AS TEXT), CAST(deleted_at AS TEXT), CAST(data AS TEXT) \
         FROM clerk_organization_memberships",
    ),
];

macro_rules! impl_test_db {
    ($db:ty, $name:literal, break_with = $break_sql:literal) => {
        impl TestDb for $db {
            const LABEL: &'static str = $name;

            fn create_effects(pool: &sqlx::Pool<Self>) -> BoxFuture<'_, ()> {
                Box::pin(async move {
                    sqlx::query("CREATE TABLE IF NOT EXISTS test_effects (svix_id TEXT PRIMARY KEY, n BIGINT NOT NULL)")
                        .execute(pool)
                        .await
                        .unwrap();
                })
            }

            fn count_effect<'c>(tx: &'c mut InboxTransaction<Self>, svix_id: &'c str) -> BoxFuture<'c, sqlx::Result<()>> {
                Box::pin(async move {
                    sqlx::query(
                        "INSERT INTO test_effects (svix_id, n) VALUES ($1, 1) \
                         ON CONFLICT (svix_id) DO UPDATE SET n = test_effects.n + 1",
                    )
                    .bind(svix_id)
                    .execute(&mut **tx)
                    .await
                    .map(drop)
                })
            }

            fn break_transaction<'c>(tx: &'c mut InboxTransaction<Self>) -> BoxFuture<'c, sqlx::Result<()>> {
                Box::pin(async move {
                    sqlx::query($break_sql).execute(&mut **tx).await?;
                    Err(sqlx::Error::Protocol("injected failure".into()))
                })
            }

            fn effects(pool: &sqlx::Pool<Self>) -> BoxFuture<'_, Vec<(String, i64)>> {
                Box::pin(async move {
                    sqlx::query_as("SELECT svix_id, n FROM test_effects ORDER BY svix_id")
                        .fetch_all(pool)
                        .await
                        .unwrap()
                })
            }

            fn mirror_rows(pool: &sqlx::Pool<Self>) -> BoxFuture<'_, Vec<MirrorRow>> {
                Box::pin(async move {
                    use sqlx::Row;
                    let mut rows = Vec::new();
                    for (table, query) in MIRROR_QUERIES {
                        for row in sqlx::query(query).fetch_all(pool).await.unwrap() {
                            let last = row.len() - 1;
                            let data: String = row.get(last);
                            rows.push(MirrorRow {
                                table,
                                id: row.get(0),
                                columns: (1..last).map(|i| row.get::<Option<String>, _>(i)).collect(),
                                data: serde_json::from_str(&data).unwrap(),
                            });
                        }
                    }
                    rows.sort_by(|a, b| (a.table, &a.id).cmp(&(b.table, &b.id)));
                    rows
                })
            }

            fn exact_data<'a>(pool: &'a sqlx::Pool<Self>, id: &'a str) -> BoxFuture<'a, Option<String>> {
                Box::pin(async move {
                    sqlx::query_scalar("SELECT data_exact FROM clerk_users WHERE id = $1")
                        .bind(id)
                        .fetch_one(pool)
                        .await
                        .unwrap()
                })
            }

            fn failed_deliveries(pool: &sqlx::Pool<Self>) -> BoxFuture<'_, Vec<FailedRow>> {
                Box::pin(async move {
                    let rows: Vec<(String, Option<String>, String, Option<String>, Vec<u8>)> = sqlx::query_as(
                        "SELECT delivery_key, event_type, reason, sqlstate, body \
                         FROM clerk_webhooks_failed_deliveries ORDER BY delivery_key",
                    )
                    .fetch_all(pool)
                    .await
                    .unwrap();
                    rows.into_iter()
                        .map(|(key, event_type, reason, sqlstate, body)| FailedRow { key, event_type, reason, sqlstate, body })
                        .collect()
                })
            }

            fn inbox_len(pool: &sqlx::Pool<Self>) -> BoxFuture<'_, i64> {
                Box::pin(async move {
                    sqlx::query_scalar("SELECT COUNT(*) FROM clerk_webhooks_inbox")
                        .fetch_one(pool)
                        .await
                        .unwrap()
                })
            }

            fn clear(pool: &sqlx::Pool<Self>) -> BoxFuture<'_, ()> {
                Box::pin(async move {
                    for table in [
                        "clerk_webhooks_inbox",
                        "clerk_webhooks_versions",
                        "clerk_users",
                        "clerk_organizations",
                        "clerk_organization_memberships",
                        "clerk_webhooks_failed_deliveries",
                        "test_effects",
                    ] {
                        sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table}"))).execute(pool).await.unwrap();
                    }
                })
            }
        }
    };
}

impl_test_db!(
    sqlx::Postgres,
    "PostgreSQL",
    break_with = "SELECT pg_terminate_backend(pg_backend_pid())"
);
impl_test_db!(sqlx::Sqlite, "SQLite", break_with = "SELECT 1");

/// A fresh SQLite database in a file of its own (WAL, as an app would run it), and the file's
/// directory, deleted when dropped.
pub async fn sqlite() -> (sqlx::SqlitePool, TempDir) {
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
    let dir = TempDir::new("sqlite");
    let options = SqliteConnectOptions::new()
        .filename(dir.0.join("app.db"))
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .busy_timeout(std::time::Duration::from_secs(30));
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await
        .unwrap();
    (pool, dir)
}

/// A fresh PostgreSQL pool on `server`.
pub async fn postgres(server: &super::postgres_server::PostgresServer) -> sqlx::PgPool {
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(8)
        .connect(&server.url())
        .await
        .unwrap()
}

pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new(label: &str) -> Self {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("clerk-webhooks-{label}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
