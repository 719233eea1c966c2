//! `ClerkWebhookLayer` in a plain hyper 1.x server, without axum.
//!
//! ```text
//! CLERK_WEBHOOK_SIGNING_SECRET=whsec_... cargo run --example hyper
//! ```

use std::convert::Infallible;

use clerk_webhooks::layer::WebhookBody;
use clerk_webhooks::{ClerkEvent, ClerkWebhookLayer, Delivery};
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Bytes;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tower::ServiceBuilder;
use tracing_subscriber::EnvFilter;

async fn on_clerk(request: Request<WebhookBody>) -> Result<Response<Full<Bytes>>, Infallible> {
    // The layer put the verified event and delivery in the extensions.
    let event = request.extensions().get::<ClerkEvent>();
    let delivery = request.extensions().get::<Delivery>();
    if let (Some(event), Some(delivery)) = (event, delivery) {
        println!("[{}] {}", delivery.id(), event.event_type());
    }
    let mut response = Response::new(Full::from("ok"));
    *response.status_mut() = StatusCode::OK;
    Ok(response)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Refused deliveries are logged (warn/error) through `tracing`; set
    // RUST_LOG=clerk_webhooks=debug to also see each accepted one.
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let service = ServiceBuilder::new()
        .layer(ClerkWebhookLayer::from_env()?)
        .service_fn(on_clerk);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    println!("listening on http://{}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        let service = TowerToHyperService::new(service.clone());
        tokio::spawn(async move {
            if let Err(err) = auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                eprintln!("connection error: {err}");
            }
        });
    }
}
