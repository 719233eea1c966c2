//! The layer in real servers on loopback, driven by a real HTTP client: plain hyper, and tonic
//! serving gRPC and the webhook route on one port.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use clerk_webhooks::layer::WebhookBody;
use clerk_webhooks::{ClerkEvent, ClerkWebhookLayer, Delivery};
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::Value;

use crate::common::*;

type HttpClient = Client<HttpConnector, Full<Bytes>>;

fn client() -> HttpClient {
    Client::builder(TokioExecutor::new()).build_http()
}

async fn post(
    client: &HttpClient,
    url: &str,
    id: &str,
    signed: &[u8],
    sent: &[u8],
) -> (StatusCode, String) {
    let mut request = Request::post(url)
        .body(Full::new(Bytes::copy_from_slice(sent)))
        .unwrap();
    request
        .headers_mut()
        .extend(signed_headers(id, NOW, signed));
    let response = client.request(request).await.unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn error_code(body: &str) -> String {
    serde_json::from_str::<Value>(body).unwrap()["error"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn hyper_handler(request: Request<WebhookBody>) -> Result<Response<Full<Bytes>>, Infallible> {
    let event = request.extensions().get::<ClerkEvent>().unwrap().clone();
    let delivery = request.extensions().get::<Delivery>().unwrap().clone();
    let raw = request.into_body().into_bytes();
    let summary = format!("{} {} {}", delivery.id(), event.event_type(), raw.len());
    Ok(Response::new(Full::from(summary)))
}

async fn start_hyper() -> SocketAddr {
    use hyper_util::server::conn::auto;
    use hyper_util::service::TowerToHyperService;
    use tower::ServiceBuilder;

    let service = ServiceBuilder::new()
        .layer(ClerkWebhookLayer::new(verifier()).with_body_limit(4096))
        .service_fn(hyper_handler);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let service = TowerToHyperService::new(service.clone());
            tokio::spawn(async move {
                let _ = auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

#[tokio::test]
async fn plain_hyper_server() {
    let addr = start_hyper().await;
    let url = format!("http://{addr}/anything");
    let client = client();
    let body = user_created("user_1");

    let (status, text) = post(&client, &url, "msg_h1", body.as_bytes(), body.as_bytes()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(text, format!("msg_h1 user.created {}", body.len()));

    let tampered = body.replace("user_1", "user_2");
    let (status, text) = post(
        &client,
        &url,
        "msg_h2",
        body.as_bytes(),
        tampered.as_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&text), "invalid_signature");

    let huge = "x".repeat(5000);
    let (status, text) = post(&client, &url, "msg_h3", huge.as_bytes(), huge.as_bytes()).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_code(&text), "payload_too_large");
}

#[tokio::test]
async fn tonic_server_with_grpc_and_the_webhook_route() {
    use axum::routing::post as axum_post;
    use tonic::service::Routes;
    use tonic::transport::server::TcpIncoming;
    use tonic::transport::{Channel, Server};
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::health_client::HealthClient;
    use tonic_health::pb::HealthCheckRequest;

    let (_reporter, health_service) = tonic_health::server::health_reporter();
    let routes = Routes::new(health_service).into_axum_router().route(
        "/webhooks/clerk",
        axum_post(|event: ClerkEvent, delivery: Delivery| async move {
            format!("{} {}", delivery.id(), event.event_type())
        })
        .route_layer(ClerkWebhookLayer::new(verifier())),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(
        Server::builder()
            .accept_http1(true)
            .add_routes(Routes::from(routes))
            .serve_with_incoming(TcpIncoming::from(listener)),
    );

    // gRPC still works beside the webhook route.
    let channel = Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let health = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(health.status, ServingStatus::Serving as i32);

    let url = format!("http://{addr}/webhooks/clerk");
    let client = client();
    let body = user_created("user_9");
    let (status, text) = post(&client, &url, "msg_t1", body.as_bytes(), body.as_bytes()).await;
    assert_eq!(
        (status, text.as_str()),
        (StatusCode::OK, "msg_t1 user.created")
    );
    let (status, text) = post(&client, &url, "msg_t2", b"{}", body.as_bytes()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&text), "invalid_signature");
}
