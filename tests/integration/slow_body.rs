//! Regression (issue 30, item 5): a body not verified yet could be sent as slowly as the client
//! liked, or stall halfway, and hold its bytes of the shared unverified budget all the while: when
//! forged stalled bodies held the budget, genuine deliveries got `503 overloaded` for as long as
//! the attacker kept the connections open. Now a body must keep a minimum rate once the layer has
//! waited for it past a grace, or it is refused `408 body_too_slow` and its bytes go back at once.
//!
//! Time is tokio's paused clock: nothing here sleeps for real, and every deadline is exact.

use std::convert::Infallible;
use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use bytes::Bytes;
use clerk_webhooks::layer::{ResponseBody, WebhookBody, DEFAULT_BODY_GRACE, DEFAULT_MIN_BODY_RATE};
use clerk_webhooks::{ClerkEvent, ClerkWebhookLayer};
use http::{Request, Response, StatusCode};
use http_body::{Body, Frame};
use http_body_util::{BodyExt, Full};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tower::{BoxError, ServiceBuilder, ServiceExt};

use crate::common::*;

const LIMIT: usize = 64 * 1024;

/// A request body fed through a channel: each message is one data frame, and it ends when the
/// sender is dropped. While the sender is kept and sends nothing, the body stalls.
struct Channel(mpsc::UnboundedReceiver<Bytes>);

impl Body for Channel {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0
            .poll_recv(cx)
            .map(|data| data.map(|data| Ok(Frame::data(data))))
    }
}

fn channel() -> (mpsc::UnboundedSender<Bytes>, Channel) {
    let (sender, receiver) = mpsc::unbounded_channel();
    (sender, Channel(receiver))
}

type Answer = Response<ResponseBody<Full<Bytes>>>;

/// The layer in front of a handler that answers with the type of the event it was handed.
fn service<B>(
    layer: ClerkWebhookLayer,
) -> impl tower::Service<Request<B>, Response = Answer, Error = Infallible, Future: Send> + Clone
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    ServiceBuilder::new()
        .layer(layer)
        .service_fn(|request: Request<WebhookBody>| async move {
            let event = request.extensions().get::<ClerkEvent>().expect("verified");
            Ok::<_, Infallible>(Response::new(Full::from(event.event_type().to_owned())))
        })
}

/// The status and the error code (or, for a 200, the event type the handler saw).
async fn outcome(response: Answer) -> (StatusCode, String) {
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let text = match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(json) => json["error"].as_str().unwrap_or_default().to_owned(),
        Err(_) => String::from_utf8_lossy(&bytes).into_owned(),
    };
    (status, text)
}

/// Polls `future` once, as a server's task would when woken.
async fn poll_once<F: Future>(mut future: Pin<&mut F>) -> Option<F::Output> {
    std::future::poll_fn(|cx| match future.as_mut().poll(cx) {
        Poll::Ready(output) => Poll::Ready(Some(output)),
        Poll::Pending => Poll::Ready(None),
    })
    .await
}

/// A genuine delivery, whole with its headers.
async fn genuine<S>(service: &S, id: &str) -> (StatusCode, String)
where
    S: tower::Service<Request<Full<Bytes>>, Response = Answer, Error = Infallible> + Clone,
{
    let body = user_created("user_1");
    let request = signed_request("/", id, NOW, body.as_bytes(), Full::from(body.clone()));
    outcome(service.clone().oneshot(request).await.unwrap()).await
}

/// A budget of one body (which leaves no reserve): one forged body stalled at the limit holds
/// all of it.
fn one_body_budget() -> ClerkWebhookLayer {
    ClerkWebhookLayer::new(verifier())
        .with_body_limit(LIMIT)
        .with_unverified_budget(LIMIT)
}

/// (a) A forged body that sends the limit and stalls is refused `408 body_too_slow` at its
/// deadline, by default 5 s + 64 KiB / (64 KiB/s) = 6 s after the layer first waited for it, and
/// not before; its bytes are back in the budget at once, so the genuine delivery refused `503
/// overloaded` while it stalled now gets through. (Before, it waited for as long as the client
/// kept the body open.)
#[tokio::test(start_paused = true)]
async fn a_stalled_body_is_refused_at_its_deadline_and_its_bytes_go_back() {
    let layer = one_body_budget();
    let forged_service = service::<Channel>(layer.clone());
    let genuine_service = service::<Full<Bytes>>(layer);

    let (sender, body) = channel();
    sender.send(Bytes::from(vec![b'x'; LIMIT])).unwrap();
    let mut stalled = pin!(forged_service.oneshot(forged_request("/", "msg_forged", body)));
    assert!(
        poll_once(stalled.as_mut()).await.is_none(),
        "the body took its bytes and waits for more"
    );
    assert_eq!(
        genuine(&genuine_service, "msg_during").await,
        (StatusCode::SERVICE_UNAVAILABLE, "overloaded".to_owned())
    );

    let deadline = DEFAULT_BODY_GRACE + Duration::from_secs(LIMIT as u64 / DEFAULT_MIN_BODY_RATE);
    assert_eq!(deadline, Duration::from_secs(6));
    tokio::time::advance(deadline - Duration::from_millis(1)).await;
    assert!(
        poll_once(stalled.as_mut()).await.is_none(),
        "refused before its deadline"
    );
    assert_eq!(
        genuine(&genuine_service, "msg_before_deadline").await.1,
        "overloaded"
    );

    tokio::time::advance(Duration::from_millis(2)).await;
    let refused = poll_once(stalled.as_mut())
        .await
        .expect("a stalled body past its deadline is refused");
    assert_eq!(
        outcome(refused.unwrap()).await,
        (StatusCode::REQUEST_TIMEOUT, "body_too_slow".to_owned())
    );
    // The client is still there; the layer dropped the body, and its buffer with it, to refuse it.
    assert!(sender.is_closed());
    assert_eq!(
        genuine(&genuine_service, "msg_after").await,
        (StatusCode::OK, "user.created".to_owned())
    );
    drop(sender);
}

/// A genuine delivery of `size` bytes (a `user.created` event padded with a long field), signed.
fn padded_delivery(size: usize) -> Vec<u8> {
    let mut body = br#"{"type":"user.created","data":{"id":"user_1","bio":""#.to_vec();
    body.resize(size - 3, b'a');
    body.extend_from_slice(br#""}}"#);
    body
}

/// Sends a genuine delivery of 20 KiB in frames of `frame` bytes, one every `every`, through a
/// layer that asks for 1 KiB/s after 1 s: its answer, and when it came after the first frame.
async fn send_at(frame: usize, every: Duration) -> ((StatusCode, String), Duration) {
    let layer = ClerkWebhookLayer::new(verifier()).with_min_body_rate(1024, Duration::from_secs(1));
    let delivery = padded_delivery(20 * 1024);
    let (sender, body) = channel();
    let request = signed_request("/", "msg_slow", NOW, &delivery, body);
    let frames: Vec<Bytes> = delivery.chunks(frame).map(Bytes::copy_from_slice).collect();
    let feeding = tokio::spawn(async move {
        for data in frames {
            if sender.send(data).is_err() {
                return; // refused: the layer dropped the body
            }
            tokio::time::sleep(every).await;
        }
    });
    let start = Instant::now();
    let response = service::<Channel>(layer).oneshot(request).await.unwrap();
    let took = start.elapsed();
    feeding.abort();
    (outcome(response).await, took)
}

/// (b) A body slower than the network would send it but faster than the minimum rate (2 KiB/s
/// against 1 KiB/s, for 10 s, long past the grace) is verified and handed on; at 512 B every
/// 1.2 s the same body is refused when it falls behind: with 1 KiB received by then, its deadline
/// `1 s + received / (1 KiB/s)` passes at 2 s, before the third frame.
#[tokio::test(start_paused = true)]
async fn a_slow_body_that_keeps_the_rate_is_accepted_and_one_that_falls_behind_is_not() {
    let (answer, took) = send_at(512, Duration::from_millis(250)).await;
    assert_eq!(answer, (StatusCode::OK, "user.created".to_owned()));
    assert!(took >= Duration::from_millis(9750), "took {took:?}");

    let (answer, took) = send_at(512, Duration::from_millis(1200)).await;
    assert_eq!(
        answer,
        (StatusCode::REQUEST_TIMEOUT, "body_too_slow".to_owned())
    );
    assert!(
        (Duration::from_millis(2000)..=Duration::from_millis(2001)).contains(&took),
        "refused after {took:?}"
    );
}

/// A body that makes the layer wait once (waking it at once), then is whole.
struct WaitsOnce(Option<Bytes>, bool);

impl Body for WaitsOnce {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if !self.1 {
            self.1 = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        Poll::Ready(self.0.take().map(|data| Ok(Frame::data(data))))
    }
}

/// (c) A body complete when the layer first reads it, in one frame or several, never arms a
/// timer: served on a tokio runtime without a timer, where arming one panics inside tokio. A
/// body that makes the layer wait there does try to arm one: the layer catches tokio's panic,
/// answers the request, and arms no timer for its later requests.
#[test]
fn a_body_complete_at_the_first_poll_arms_no_timer() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let delivery = padded_delivery(4096);
    let one_frame = signed_request(
        "/",
        "msg_1",
        NOW,
        &delivery,
        ReadyChunks(vec![Bytes::from(delivery.clone())]),
    );
    let frames: Vec<Bytes> = delivery.chunks(1000).map(Bytes::copy_from_slice).collect();
    let several_frames = signed_request("/", "msg_2", NOW, &delivery, ReadyChunks(frames));
    for request in [one_frame, several_frames] {
        let service = service::<ReadyChunks>(ClerkWebhookLayer::new(verifier()));
        let response = runtime.block_on(service.oneshot(request)).unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }

    // The first finds the runtime has no timer; the second is not tried with one.
    let layer = ClerkWebhookLayer::new(verifier());
    for id in ["msg_3", "msg_4"] {
        let waits = signed_request(
            "/",
            id,
            NOW,
            &delivery,
            WaitsOnce(Some(Bytes::from(delivery.clone())), false),
        );
        let response = runtime
            .block_on(service::<WaitsOnce>(layer.clone()).oneshot(waits))
            .expect("no panic when the runtime has no timer");
        assert_eq!(response.status(), StatusCode::OK, "{id}");
    }
}

/// (d) With the deadline off, the layer waits for a stalled body as long as the client keeps it
/// open, as it did before: the genuine delivery stays refused `503 overloaded` an hour later, and
/// gets through once the client ends the body (which then fails verification). A rate of zero is
/// no minimum either.
#[tokio::test(start_paused = true)]
async fn without_a_minimum_rate_a_stalled_body_waits_as_long_as_the_client() {
    for layer in [
        one_body_budget().without_min_body_rate(),
        one_body_budget().with_min_body_rate(0, Duration::from_secs(1)),
    ] {
        let forged_service = service::<Channel>(layer.clone());
        let genuine_service = service::<Full<Bytes>>(layer);
        let (sender, body) = channel();
        sender.send(Bytes::from(vec![b'x'; LIMIT])).unwrap();
        let mut stalled = pin!(forged_service.oneshot(forged_request("/", "msg_forged", body)));
        assert!(poll_once(stalled.as_mut()).await.is_none());

        tokio::time::advance(Duration::from_secs(3600)).await;
        assert!(poll_once(stalled.as_mut()).await.is_none());
        assert_eq!(
            genuine(&genuine_service, "msg_during").await.1,
            "overloaded"
        );

        drop(sender);
        let ended = poll_once(stalled.as_mut()).await.expect("the body ended");
        assert_eq!(
            outcome(ended.unwrap()).await,
            (StatusCode::BAD_REQUEST, "invalid_signature".to_owned())
        );
        assert_eq!(
            genuine(&genuine_service, "msg_after").await.0,
            StatusCode::OK
        );
    }
}

/// Runs `future` to completion on this thread, outside any tokio runtime.
fn block_on<F: Future>(future: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut context = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        match future.as_mut().poll(&mut context) {
            Poll::Ready(output) => break output,
            Poll::Pending => std::thread::park(),
        }
    }
}

/// `layer`'s answer, outside any tokio runtime, to a genuine delivery that makes it wait once.
fn answer_outside_a_runtime(layer: ClerkWebhookLayer) -> Answer {
    let delivery = padded_delivery(4096);
    let request = signed_request(
        "/",
        "msg_1",
        NOW,
        &delivery,
        WaitsOnce(Some(Bytes::from(delivery.clone())), false),
    );
    block_on(service::<WaitsOnce>(layer).oneshot(request)).unwrap()
}

/// Outside a tokio runtime there is no timer to wake the layer: the deadline is checked each time
/// the body makes the layer wait, so a body within it is served, and the layer does not panic.
#[test]
fn outside_a_tokio_runtime_a_body_within_its_deadline_is_served_without_a_panic() {
    let response = answer_outside_a_runtime(ClerkWebhookLayer::new(verifier()));
    assert_eq!(response.status(), StatusCode::OK);
}

/// Issue 31 (no tokio in a default build): without a timer, a body past its deadline when it makes
/// the layer wait is refused all the same. With no grace, a body that has sent nothing is past it
/// the moment it first makes the layer wait.
#[test]
fn outside_a_tokio_runtime_a_body_past_its_deadline_is_refused_when_it_waits() {
    let layer = ClerkWebhookLayer::new(verifier()).with_min_body_rate(64 * 1024, Duration::ZERO);
    let response = answer_outside_a_runtime(layer);
    assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
    let body = block_on(response.into_body().collect()).unwrap().to_bytes();
    assert!(
        String::from_utf8_lossy(&body).contains("\"body_too_slow\""),
        "{body:?}"
    );
}
