//! What the sync did with each delivery, counted through the `metrics` facade (with clerk-webhooks'
//! `metrics` feature, which this package's turns on) and read back with its debugging recorder.

use clerk_webhooks_test_support::recorded_metrics::{counter, with_recorder};
use clerk_webhooks_test_support::NOW;

/// Issue 30, item 9: what the sync did with each delivery is counted (`applied`, `duplicate`,
/// `stale`, ...), the main feature's own numbers.
#[test]
fn sync_outcomes_are_counted() {
    use clerk_webhooks_sqlx::{Mirror, Synced};
    with_recorder(|snapshotter, runtime| {
        runtime.block_on(async {
            let dir =
                std::env::temp_dir().join(format!("clerk-webhooks-metrics-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let options = sqlx::sqlite::SqliteConnectOptions::new()
                .filename(dir.join("app.db"))
                .create_if_missing(true);
            let mirror = Mirror::new(sqlx::SqlitePool::connect_with(options).await.unwrap());
            mirror.inbox().migrate().await.unwrap();
            let newer = r#"{"type":"user.updated","timestamp":1716883200000,
                "data":{"id":"user_1","object":"user","updated_at":2000}}"#;
            let older = r#"{"type":"user.updated","timestamp":1716883200000,
                "data":{"id":"user_1","object":"user","updated_at":1000}}"#;
            let first = clerk_webhooks::testing::delivery("msg_1", NOW);
            let second = clerk_webhooks::testing::delivery("msg_2", NOW);
            assert_eq!(
                mirror.apply(&first, newer.as_bytes()).await.unwrap(),
                Synced::Applied
            );
            assert_eq!(
                mirror.apply(&first, newer.as_bytes()).await.unwrap(),
                Synced::Duplicate
            );
            assert_eq!(
                mirror.apply(&second, older.as_bytes()).await.unwrap(),
                Synced::Stale
            );
            let _ = std::fs::remove_dir_all(&dir);
        });
        let snapshot = snapshotter.snapshot().into_vec();
        let sync = "clerk_webhooks_sync_total";
        for outcome in ["applied", "duplicate", "stale"] {
            assert_eq!(
                counter(&snapshot, sync, &[("outcome", outcome)]),
                1,
                "{outcome}"
            );
        }
    });
}
