//! The whole flow on one machine, no account and no network: an axum server with
//! `ClerkWebhookLayer` on a loopback port, and a client that sends it a valid `user.created`, a
//! tampered copy, a stale one, an oversized one and an event type the crate does not know.
//!
//! Run with `cargo run --example demo`. The receiver logs each refusal (and, with
//! `RUST_LOG=clerk_webhooks=debug`, each accepted delivery) through `tracing`.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use bytes::Bytes;
use clerk_webhooks::{ClerkEvent, ClerkWebhookLayer, Delivery, SigningSecret, Verifier};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tracing_subscriber::EnvFilter;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// What the handler saw, printed after each request.
type Seen = Arc<Mutex<Vec<String>>>;

async fn on_clerk(State(seen): State<Seen>, delivery: Delivery, event: ClerkEvent) -> StatusCode {
    let line = match &event {
        ClerkEvent::UserCreated(user) => format!(
            "user.created {} {:?} <{}>",
            user.id,
            user.full_name().unwrap_or_default(),
            user.primary_email().unwrap_or("no email")
        ),
        ClerkEvent::Unknown(unknown) => format!(
            "unknown type {:?}, data kept: {}",
            unknown.event_type, unknown.data
        ),
        other => other.event_type().to_owned(),
    };
    seen.lock()
        .unwrap()
        .push(format!("{line} (svix-id {})", delivery.id()));
    StatusCode::OK // every event gets a 2xx, so Clerk does not retry
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();

    let verifier = Verifier::new(SigningSecret::new(SECRET)?);
    let seen = Seen::default();
    let app = Router::new()
        .route(
            "/webhooks/clerk",
            post(on_clerk)
                .route_layer(ClerkWebhookLayer::new(verifier.clone()).with_body_limit(16 * 1024)),
        )
        .with_state(seen.clone());

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    println!("clerk-webhooks demo: receiver on http://{addr}/webhooks/clerk\n");

    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs() as i64;
    let user_created = br#"{"type":"user.created","object":"event","timestamp":1716883200000,"instance_id":"ins_demo",
        "data":{"id":"user_29w83sxmDNGwOuEthce5gg56FcC","object":"user","first_name":"Ada","last_name":"Lovelace",
        "primary_email_address_id":"idn_1","email_addresses":[{"id":"idn_1","object":"email_address",
        "email_address":"ada@example.com","verification":{"status":"verified","strategy":"email_code"}}]}}"#;
    let tampered = String::from_utf8_lossy(user_created).replace("Ada", "Eve");
    let oversized = format!(
        r#"{{"type":"user.created","data":{{"id":"user_1","bio":"{}"}}}}"#,
        "x".repeat(32 * 1024)
    );
    let unknown =
        br#"{"type":"agent.created","object":"event","data":{"id":"agent_1","name":"Scout"}}"#;

    let deliveries: [(&str, &[u8], &[u8], i64); 5] = [
        ("valid user.created", user_created, user_created, now),
        ("tampered body", user_created, tampered.as_bytes(), now),
        (
            "stale (signed 10 minutes ago)",
            user_created,
            user_created,
            now - 600,
        ),
        (
            "oversized (32 KiB, limit 16 KiB)",
            oversized.as_bytes(),
            oversized.as_bytes(),
            now,
        ),
        ("unknown event type", unknown, unknown, now),
    ];
    // A new connection per delivery: a server that refuses a body from its Content-Length answers
    // without reading it and closes the connection, which a pooled client might try to reuse.
    let client = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(0)
        .build_http::<Full<Bytes>>();
    let mut unexpected = 0;
    let expected_statuses = [200, 400, 400, 413, 200];
    for (n, ((label, signed_body, sent_body, timestamp), expected)) in
        deliveries.into_iter().zip(expected_statuses).enumerate()
    {
        println!("{label}");
        let (status, body) = send(
            &client,
            addr,
            &verifier,
            &format!("msg_demo_{n}"),
            timestamp,
            signed_body,
            sent_body,
        )
        .await?;
        println!("  client got: {status} {body}");
        let handler_saw = seen.lock().unwrap().drain(..).collect::<Vec<_>>();
        match handler_saw.as_slice() {
            [] => println!("  handler:    not called"),
            lines => lines
                .iter()
                .for_each(|line| println!("  handler:    {line}")),
        }
        if status != expected {
            unexpected += 1;
            println!("  UNEXPECTED: wanted {expected}");
        }
    }
    if unexpected > 0 {
        return Err(format!("{unexpected} unexpected responses").into());
    }
    println!("\nall 5 deliveries got the expected answer");
    Ok(())
}

/// Signs `signed_body` the way Svix does and sends `sent_body` (different when tampering).
async fn send(
    client: &Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>,
    addr: SocketAddr,
    verifier: &Verifier,
    id: &str,
    timestamp: i64,
    signed_body: &[u8],
    sent_body: &[u8],
) -> Result<(u16, String), Box<dyn std::error::Error>> {
    let mut request = http::Request::post(format!("http://{addr}/webhooks/clerk"))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::copy_from_slice(sent_body)))?;
    request
        .headers_mut()
        .extend(verifier.signed_headers(id, timestamp, signed_body)?);
    let response = client.request(request).await?;
    let status = response.status().as_u16();
    let body = response.into_body().collect().await?.to_bytes();
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}
