//! Regression (issue 17, item 1): unverified bytes had a bound per request but none in total.
//! Over HTTP/2 one TCP connection opened 150 streams, each sending just under 1 MiB of a forged
//! delivery and then stalling, and the server's heap grew by about 151 MiB. Now every body not
//! verified yet draws from one budget: the same attack, over real hyper HTTP/2 on loopback, holds
//! at most the budget plus a small constant, and the budget comes back when the streams go.

#[path = "common/live_heap.rs"]
mod live_heap;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use clerk_webhooks::layer::DEFAULT_UNVERIFIED_BUDGET;
use clerk_webhooks::ClerkWebhookLayer;
use clerk_webhooks_test_support::*;
use http::{Request, Response, StatusCode};
use http_body::{Body, Frame};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http2::SendRequest;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use live_heap::{live_bytes, LiveHeap};
use tokio::sync::Notify;
use tower::ServiceBuilder;

#[global_allocator]
static ALLOCATOR: LiveHeap = LiveHeap;

/// The live heap is the whole process's: the tests of this file run one at a time.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const STREAMS: usize = 150;
const BODY_LIMIT: usize = 1024 * 1024;
/// What each forged stream sends before it stalls: just under the body limit.
const SENT: usize = BODY_LIMIT - 1024;
const CHUNK: &[u8] = &[b'x'; 16 * 1024];
/// What the server may hold beyond the budget for 150 streams: hyper's and h2's own state per
/// stream and connection (a few KiB each).
const SLACK: isize = 4 * 1024 * 1024;

/// Counts the streams whose body the layer took in full and came back for more (it then holds
/// all it will hold for them), and the request bodies still alive (a body is dropped with the
/// buffer beside it, when the layer has answered).
#[derive(Clone, Default)]
struct Settled {
    count: Arc<AtomicUsize>,
    alive: Arc<AtomicUsize>,
    changed: Arc<Notify>,
}

impl Settled {
    fn add(&self) {
        self.count.fetch_add(1, Ordering::SeqCst);
        self.changed.notify_waiters();
    }

    async fn until_no_body_is_alive(&self) {
        loop {
            let changed = self.changed.notified();
            if self.alive.load(Ordering::SeqCst) == 0 {
                return;
            }
            changed.await;
        }
    }
}

/// The server's request body, watched.
struct Watched {
    inner: Incoming,
    /// What the client sends before it stalls (its `x-test-sent` header; `SENT` without one).
    sent: usize,
    taken: usize,
    counted: bool,
    settled: Settled,
}

impl Body for Watched {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                self.taken += frame.data_ref().map_or(0, Bytes::len);
            }
            Poll::Pending if self.taken == self.sent && !self.counted => {
                self.counted = true;
                self.settled.add();
            }
            _ => {}
        }
        polled
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        self.settled.alive.fetch_sub(1, Ordering::SeqCst);
        self.settled.changed.notify_waiters();
    }
}

/// The client's forged body: `SENT` bytes, then nothing, forever.
struct Stalling {
    left: usize,
}

impl Body for Stalling {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.left == 0 {
            return Poll::Pending;
        }
        let size = self.left.min(CHUNK.len());
        self.left -= size;
        Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(&CHUNK[..size])))))
    }
}

struct Server {
    address: SocketAddr,
    settled: Settled,
}

async fn start(budget: usize) -> Server {
    let settled = Settled::default();
    let watch = {
        let settled = settled.clone();
        move |request: Request<Incoming>| {
            settled.alive.fetch_add(1, Ordering::SeqCst);
            let sent = request
                .headers()
                .get("x-test-sent")
                .and_then(|value| value.to_str().ok()?.parse().ok())
                .unwrap_or(SENT);
            request.map(|inner| Watched {
                inner,
                sent,
                taken: 0,
                counted: false,
                settled: settled.clone(),
            })
        }
    };
    let service = ServiceBuilder::new()
        .map_request(watch)
        .layer(
            ClerkWebhookLayer::new(verifier())
                .with_body_limit(BODY_LIMIT)
                .with_unverified_budget(budget)
                // The forged streams here stall for as long as a measurement takes, on real time:
                // the budget alone bounds them. The minimum rate, which ends such streams after
                // 21 s, is `integration/slow_body.rs`'s (on tokio's paused clock).
                .without_min_body_rate(),
        )
        .service_fn(|_request| async { Ok::<_, Infallible>(Response::new(Full::from("ok"))) });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let service = TowerToHyperService::new(service.clone());
            tokio::spawn(async move {
                let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                    .max_concurrent_streams(256)
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Server { address, settled }
}

/// An HTTP/2 connection to `address`, and a handle to its socket to cut it (hyper's client runs
/// the connection in tasks of its own, which the stalled streams keep alive).
async fn connect<B>(address: SocketAddr) -> (SendRequest<B>, std::net::TcpStream)
where
    B: Body<Data = Bytes> + Send + Unpin + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let socket = tokio::net::TcpStream::connect(address).await.unwrap();
    let cut = socket.into_std().unwrap();
    let handle = cut.try_clone().unwrap();
    let socket = tokio::net::TcpStream::from_std(cut).unwrap();
    let (sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(socket))
            .await
            .unwrap();
    tokio::spawn(async move {
        let _ = connection.await;
    });
    (sender, handle)
}

/// One genuine delivery on a connection of its own: its status and error code.
async fn genuine(address: SocketAddr, id: &str) -> (StatusCode, String) {
    let (mut sender, socket) = connect(address).await;
    let body = user_created("user_1");
    let mut request = signed_request("/", id, NOW, body.as_bytes(), Full::from(body.clone()));
    *request.uri_mut() = format!("http://{address}/").parse().unwrap();
    let response = sender.send_request(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let answer: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    let _ = socket.shutdown(std::net::Shutdown::Both);
    (
        status,
        answer["error"].as_str().unwrap_or_default().to_owned(),
    )
}

struct Attack {
    /// Live heap the attack added once every stream was buffered or refused.
    growth: isize,
    refused: usize,
    socket: std::net::TcpStream,
}

/// Opens one HTTP/2 connection with `streams` forged streams that each send `SENT` bytes and
/// stall, and waits until the server buffered each in full or refused it.
async fn attack(server: &Server, streams: usize) -> Attack {
    attack_with(server, streams, SENT).await
}

/// [`attack`] with streams that each send `sent` bytes.
async fn attack_with(server: &Server, streams: usize, sent: usize) -> Attack {
    let before = live_bytes();
    let (sender, socket) = connect::<Stalling>(server.address).await;
    let refused = Settled::default();
    for n in 0..streams {
        let mut sender = sender.clone();
        let refused = refused.clone();
        let mut request = forged_request(
            &format!("http://{}/", server.address),
            &format!("msg_forged_{sent}_{n}"),
            Stalling { left: sent },
        );
        request
            .headers_mut()
            .insert("x-test-sent", http::HeaderValue::from(sent));
        tokio::spawn(async move {
            sender.ready().await.unwrap();
            if let Ok(response) = sender.send_request(request).await {
                assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
                assert!(response.headers().contains_key("retry-after"));
                refused.add();
            }
        });
    }
    let settled_before = server.settled.count.load(Ordering::SeqCst);
    loop {
        let changed = [
            server.settled.changed.notified(),
            refused.changed.notified(),
        ];
        let buffered = server.settled.count.load(Ordering::SeqCst) - settled_before;
        if buffered + refused.count.load(Ordering::SeqCst) == streams {
            break;
        }
        let [server_changed, client_changed] = changed;
        tokio::select! {
            () = server_changed => {}
            () = client_changed => {}
        }
    }
    Attack {
        growth: live_bytes() - before,
        refused: refused.count.load(Ordering::SeqCst),
        socket,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_and_fifty_stalled_http2_streams_hold_at_most_the_budget() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let server = start(DEFAULT_UNVERIFIED_BUDGET).await;
    // Warm up, so one-time allocations (thread-locals, pools) are not counted.
    assert_eq!(genuine(server.address, "msg_warm").await.0, StatusCode::OK);

    let attack_with_budget = attack(&server, STREAMS).await;
    eprintln!(
        "{STREAMS} forged HTTP/2 streams of {SENT} bytes, budget {DEFAULT_UNVERIFIED_BUDGET}: \
         heap grew by {} bytes, {} streams refused with 503",
        attack_with_budget.growth, attack_with_budget.refused
    );
    assert!(
        attack_with_budget.growth <= DEFAULT_UNVERIFIED_BUDGET as isize + SLACK,
        "the heap grew by {} bytes, over the budget of {DEFAULT_UNVERIFIED_BUDGET}",
        attack_with_budget.growth
    );
    assert!(attack_with_budget.refused > 0);

    // The attacker goes away: once the server has dropped its streams, the budget is free again.
    attack_with_budget
        .socket
        .shutdown(std::net::Shutdown::Both)
        .unwrap();
    server.settled.until_no_body_is_alive().await;
    assert_eq!(genuine(server.address, "msg_after").await.0, StatusCode::OK);

    // The same attack with no budget to speak of (what the layer did before): it holds about
    // every byte sent, so the bound above is the budget's doing.
    let unbounded = start(usize::MAX).await;
    assert_eq!(
        genuine(unbounded.address, "msg_warm").await.0,
        StatusCode::OK
    );
    let attack_without_budget = attack(&unbounded, STREAMS).await;
    eprintln!(
        "the same attack with an unlimited budget: heap grew by {} bytes, {} refused",
        attack_without_budget.growth, attack_without_budget.refused
    );
    assert_eq!(attack_without_budget.refused, 0);
    assert!(attack_without_budget.growth > (STREAMS * SENT) as isize * 9 / 10);
}

/// Regression (issue 30, item 5): near-limit forged bodies filled the whole budget and every
/// genuine delivery got 503 for as long as the attacker held them. A quarter of the budget is kept
/// for small bodies: four stalled streams of just under the limit against a budget of four limits
/// get at most three places, and a genuine delivery still gets through. (That the reserve itself
/// is bounded is `budget.rs`'s unit test: an attack of 200 small stalled streams on one HTTP/2
/// connection here hung now and then in the client's flow control, so it is not part of this
/// test.) A budget of one body has no reserve: one stalled body makes it `503 overloaded`, and it
/// is free again when the stream goes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_forged_bodies_leave_room_for_genuine_deliveries() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let server = start(4 * BODY_LIMIT).await;
    let large = attack(&server, 4).await;
    // At least the fourth would take the reserve (streams growing at once may leave two out).
    assert!(
        (1..=2).contains(&large.refused),
        "{} refused",
        large.refused
    );
    assert_eq!(
        genuine(server.address, "msg_during").await.0,
        StatusCode::OK,
        "the reserve lets a genuine delivery through"
    );
    large.socket.shutdown(std::net::Shutdown::Both).unwrap();
    server.settled.until_no_body_is_alive().await;
    assert_eq!(genuine(server.address, "msg_after").await.0, StatusCode::OK);

    // A budget of one body has no reserve: one stalled forged body leaves nothing, and a genuine
    // delivery is answered `503 overloaded` with `Retry-After` until it goes.
    let tight = start(BODY_LIMIT).await;
    let held = attack(&tight, 1).await;
    assert_eq!(held.refused, 0);
    assert_eq!(
        genuine(tight.address, "msg_tight").await,
        (StatusCode::SERVICE_UNAVAILABLE, "overloaded".to_owned())
    );
    held.socket.shutdown(std::net::Shutdown::Both).unwrap();
    tight.settled.until_no_body_is_alive().await;
    assert_eq!(genuine(tight.address, "msg_free").await.0, StatusCode::OK);
}
