//! Regression (hardening issue, item 1): a forged request announcing `Content-Length: 1048576`
//! that sends 2 bytes and stalls made the layer reserve the whole MiB before any verification,
//! about 1054 KiB of heap per connection. Measured here as the issue did: hundreds of real
//! loopback connections against a server in this process, with a counting allocator, the layer's
//! route against a control route that collects the body with axum's `Bytes` extractor.

#[path = "common/live_heap.rs"]
mod live_heap;

use std::io::Write;
use std::net::TcpStream;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::Request;
use axum::routing::post;
use axum::Router;
use bytes::Bytes;
use clerk_webhooks::ClerkWebhookLayer;
use clerk_webhooks_test_support::*;
use http_body::Frame;
use live_heap::{live_bytes, LiveHeap};
use tokio::sync::Notify;

#[global_allocator]
static ALLOCATOR: LiveHeap = LiveHeap;

const CONNECTIONS: usize = 300;
const ANNOUNCED: usize = 1024 * 1024;
/// The bound: what one stalled forged connection may cost above the control route.
const ALLOWED_EXTRA_PER_CONNECTION: isize = 64 * 1024;

/// Counts the requests whose consumer took a data frame and came back for more: by then the
/// route has done all it will do with the bytes that arrived.
#[derive(Clone, Default)]
struct Stalled {
    count: Arc<AtomicUsize>,
    changed: Arc<Notify>,
}

struct Watched {
    inner: Body,
    seen_data: bool,
    counted: bool,
    stalled: Stalled,
}

impl http_body::Body for Watched {
    type Data = Bytes;
    type Error = axum::Error;
    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(_))) => self.seen_data = true,
            Poll::Pending if self.seen_data && !self.counted => {
                self.counted = true;
                self.stalled.count.fetch_add(1, Ordering::SeqCst);
                self.stalled.changed.notify_one();
            }
            _ => {}
        }
        polled
    }
}

async fn ok() -> &'static str {
    "ok"
}

fn server(stalled: Stalled) -> Router {
    let watch = move |request: Request| {
        let stalled = stalled.clone();
        async move {
            request.map(|inner| {
                Body::new(Watched {
                    inner,
                    seen_data: false,
                    counted: false,
                    stalled,
                })
            })
        }
    };
    Router::new()
        .route(
            "/hook",
            post(ok)
                .route_layer(ClerkWebhookLayer::new(verifier()).with_body_limit(ANNOUNCED))
                .route_layer(axum::middleware::map_request(watch.clone())),
        )
        .route(
            "/control",
            post(|_body: Bytes| ok()).route_layer(axum::middleware::map_request(watch)),
        )
}

/// Opens `connections` connections that each announce 1 MiB, send 2 bytes and stall, and returns
/// the live heap they added once the server holds all of them.
fn stall_connections(
    runtime: &tokio::runtime::Runtime,
    address: std::net::SocketAddr,
    path: &str,
    stalled: &Stalled,
    count: usize,
) -> (isize, Vec<TcpStream>) {
    let before_count = stalled.count.load(Ordering::SeqCst);
    let before = live_bytes();
    let mut connections = Vec::with_capacity(count);
    for _ in 0..count {
        let mut stream = TcpStream::connect(address).unwrap();
        write!(
            stream,
            "POST {path} HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\n\
             content-length: {ANNOUNCED}\r\nsvix-id: msg_forged\r\nsvix-timestamp: {now}\r\n\
             svix-signature: {FORGED_SIGNATURE}\r\n\r\n{{}}",
            now = NOW,
        )
        .unwrap();
        connections.push(stream);
    }
    runtime.block_on(async {
        while stalled.count.load(Ordering::SeqCst) < before_count + count {
            stalled.changed.notified().await;
        }
    });
    (live_bytes() - before, connections)
}

#[test]
fn a_stalled_forged_connection_costs_about_what_the_control_route_does() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let stalled = Stalled::default();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let address = listener.local_addr().unwrap();
    let app = server(stalled.clone());
    runtime.spawn(async move { axum::serve(listener, app).await });

    // Warm up both routes once, so one-time allocations (thread-locals, pools) are not counted.
    let warm = [
        stall_connections(&runtime, address, "/control", &stalled, 4).1,
        stall_connections(&runtime, address, "/hook", &stalled, 4).1,
    ];

    let (control, control_connections) =
        stall_connections(&runtime, address, "/control", &stalled, CONNECTIONS);
    let (layer, layer_connections) =
        stall_connections(&runtime, address, "/hook", &stalled, CONNECTIONS);
    let per_connection = (layer - control) / CONNECTIONS as isize;
    eprintln!(
        "live heap per stalled connection: layer {} B, control {} B, difference {per_connection} B",
        layer / CONNECTIONS as isize,
        control / CONNECTIONS as isize
    );
    assert!(
        per_connection <= ALLOWED_EXTRA_PER_CONNECTION,
        "a stalled forged connection costs {per_connection} bytes more than the control route"
    );
    drop((warm, control_connections, layer_connections));
}
