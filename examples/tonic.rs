//! A tonic server that serves a gRPC service (the standard health service) and the Clerk webhook
//! route on the same port. Svix delivers over HTTP/1.1, so the server accepts HTTP/1.1 too.
//!
//! ```text
//! CLERK_WEBHOOK_SIGNING_SECRET=whsec_... cargo run --example tonic
//! ```

use axum::http::StatusCode;
use axum::routing::post;
use clerk_webhooks::{ClerkEvent, ClerkWebhookLayer};
use tonic::service::Routes;
use tonic::transport::Server;
use tracing_subscriber::EnvFilter;

async fn on_clerk(event: ClerkEvent) -> StatusCode {
    println!("{}", event.event_type());
    StatusCode::OK
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Refused deliveries are logged (warn/error) through `tracing`; set
    // RUST_LOG=clerk_webhooks=debug to also see each accepted one.
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let (_health_reporter, health_service) = tonic_health::server::health_reporter();
    let routes = Routes::new(health_service).into_axum_router().route(
        "/webhooks/clerk",
        post(on_clerk).route_layer(ClerkWebhookLayer::from_env()?),
    );
    let addr = "127.0.0.1:50051".parse()?;
    println!("gRPC and webhooks on http://{addr}");
    Server::builder()
        .accept_http1(true)
        .add_routes(Routes::from(routes))
        .serve(addr)
        .await?;
    Ok(())
}
