//! Sync Clerk users into an SQLite file, exactly once and in order, whatever Svix does.
//!
//! Svix delivers at least once and in best-effort order. This example sends a short history of a
//! user's life through the layer the way Svix might: out of order, some deliveries twice. The
//! mirror ends as if each event had arrived once, in order. No server or account needed:
//!
//! ```text
//! cargo run -p clerk-webhooks-sqlx --example sync --features sqlite,axum
//! ```

use axum::extract::State;
use axum::routing::post;
use axum::Router;
use bytes::Bytes;
use clerk_webhooks::{ClerkWebhookLayer, Delivery, SigningSecret, Verifier};
use clerk_webhooks_sqlx::{Mirror, SyncError, Synced};
use http_body_util::BodyExt;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
use sqlx::{Sqlite, SqlitePool};
use tower::ServiceExt;

/// The whole handler: the mirror applies the delivery exactly once, in order.
async fn clerk(
    State(mirror): State<Mirror<Sqlite>>,
    delivery: Delivery,
    body: Bytes,
) -> Result<Synced, SyncError> {
    mirror.apply(&delivery, &body).await
}

fn user_event(event_type: &str, at: i64, first_name: &str, email: &str) -> String {
    serde_json::json!({
        "type": event_type,
        "object": "event",
        "timestamp": at,
        "data": {
            "id": "user_2ada", "object": "user", "first_name": first_name, "last_name": "Lovelace",
            "primary_email_address_id": "idn_1",
            "email_addresses": [{"id": "idn_1", "object": "email_address", "email_address": email}],
            "created_at": 1_716_883_200_000_i64, "updated_at": at,
        },
    })
    .to_string()
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::temp_dir().join("clerk-webhooks-sync-example.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let options = SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal);
    let pool = SqlitePool::connect_with(options).await?;
    let mirror = Mirror::new(pool.clone());
    mirror.inbox().migrate().await?;

    let verifier = Verifier::new(SigningSecret::new(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    )?);
    let app = Router::new()
        .route("/webhooks/clerk", post(clerk))
        .with_state(mirror)
        .layer(ClerkWebhookLayer::new(verifier.clone()));

    // What happened, in order.
    let history = [
        (
            "msg_1",
            user_event("user.created", 1_716_883_200_000, "Ada", "ada@example.com"),
        ),
        (
            "msg_2",
            user_event(
                "user.updated",
                1_716_883_260_000,
                "Augusta Ada",
                "ada@example.com",
            ),
        ),
        (
            "msg_3",
            user_event(
                "user.updated",
                1_716_883_320_000,
                "Ada",
                "ada@analytical.engine",
            ),
        ),
    ];
    // What Svix delivered: the last update first, the creation late, and two retries.
    let delivered = [2, 0, 2, 1, 0].map(|i| &history[i]);

    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs() as i64;
    for (id, body) in delivered {
        let mut request =
            http::Request::post("/webhooks/clerk").body(axum::body::Body::from(body.clone()))?;
        request
            .headers_mut()
            .extend(verifier.signed_headers(id, now, body.as_bytes())?);
        let response = app.clone().oneshot(request).await?;
        let status = response.status();
        let answer = response.into_body().collect().await?.to_bytes();
        println!("{id} -> {status} {}", String::from_utf8_lossy(&answer));
    }

    let (first_name, email, updated_at): (String, String, i64) = sqlx::query_as(
        "SELECT first_name, email, updated_at FROM clerk_users WHERE id = 'user_2ada'",
    )
    .fetch_one(&pool)
    .await?;
    println!("clerk_users: user_2ada {first_name} <{email}>, updated_at {updated_at}");
    assert_eq!(
        (first_name.as_str(), email.as_str()),
        ("Ada", "ada@analytical.engine"),
        "the newest state"
    );
    println!(
        "the mirror holds the newest state, applied once; the database is {}",
        path.display()
    );
    Ok(())
}
