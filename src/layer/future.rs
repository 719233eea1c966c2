//! The response future: buffer (within the body's deadline), verify, ready the inner service, call
//! it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use http::request::Parts;
use http::{Request, Response};
use http_body::Body;
use pin_project_lite::pin_project;
use tower_service::Service;

use super::body::{ResponseBody, WebhookBody};
use super::buffer::BodyBuffer;
use super::config::{Config, MinBodyRate};
use super::pipeline::{self, Refusal};
use crate::verify::CheckedHead;
use crate::BoxError;

pin_project! {
    /// The response future of [`ClerkWebhook`](super::ClerkWebhook).
    pub struct ResponseFuture<S, B>
    where
        S: Service<Request<WebhookBody>>,
    {
        #[pin]
        state: State<B, S::Future>,
        // A clone of the inner service, readied only once the delivery has verified.
        service: S,
        config: Arc<Config>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<B, F> {
        Buffering {
            // Before the body: fields drop in order, so its share of the budget is back before
            // the body goes (whose drop may tell the connection, or a test, that it is gone).
            buffer: BodyBuffer,
            #[pin]
            body: B,
            head: Request<()>,
            // The scheme headers, read and checked before the body.
            scheme: CheckedHead,
            // Armed only once the body makes the layer wait.
            deadline: Deadline,
        },
        Readying {
            request: Request<WebhookBody>,
        },
        Calling {
            #[pin]
            future: F,
        },
        Rejected {
            refusal: Refusal,
        },
    }
}

impl<S, B> ResponseFuture<S, B>
where
    S: Service<Request<WebhookBody>>,
{
    pub(crate) fn buffering(
        parts: Parts,
        scheme: CheckedHead,
        body: B,
        buffer: BodyBuffer,
        service: S,
        config: Arc<Config>,
    ) -> Self {
        Self {
            state: State::Buffering {
                buffer,
                body,
                head: Request::from_parts(parts, ()),
                scheme,
                deadline: Deadline::Unarmed,
            },
            service,
            config,
        }
    }

    pub(crate) fn rejected(refusal: Refusal, service: S, config: Arc<Config>) -> Self {
        Self {
            state: State::Rejected { refusal },
            service,
            config,
        }
    }
}

impl<S, B, ResBody> Future for ResponseFuture<S, B>
where
    S: Service<Request<WebhookBody>, Response = Response<ResBody>>,
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Output = Result<Response<ResponseBody<ResBody>>, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            let next = match this.state.as_mut().project() {
                StateProj::Buffering {
                    buffer,
                    body,
                    head,
                    scheme,
                    deadline,
                } => {
                    let headers = head.headers();
                    match body.poll_frame(cx) {
                        // The body makes the layer wait: it must keep the minimum rate. A refusal
                        // drops the body's state, which gives its bytes back to the budget.
                        Poll::Pending => match &this.config.min_body_rate {
                            Some(rate)
                                if deadline.passed(
                                    rate,
                                    buffer.len(),
                                    &this.config.no_timer,
                                    cx,
                                ) =>
                            {
                                State::Rejected {
                                    refusal: pipeline::body_too_slow(rate, headers),
                                }
                            }
                            _ => return Poll::Pending,
                        },
                        Poll::Ready(Some(Ok(frame))) => {
                            match pipeline::buffer_frame(this.config, buffer, frame, headers) {
                                Ok(()) => continue,
                                Err(refusal) => State::Rejected { refusal },
                            }
                        }
                        Poll::Ready(Some(Err(err))) => State::Rejected {
                            refusal: pipeline::body_failed(err.into(), headers),
                        },
                        Poll::Ready(None) => {
                            let bytes = std::mem::take(buffer).into_bytes();
                            let (parts, ()) = std::mem::take(head).into_parts();
                            match pipeline::accept(this.config, parts, scheme, bytes) {
                                Ok(request) => State::Readying { request },
                                Err(refusal) => State::Rejected { refusal },
                            }
                        }
                    }
                }
                StateProj::Readying { request } => {
                    ready!(this.service.poll_ready(cx))?;
                    let future = this.service.call(std::mem::take(request));
                    State::Calling { future }
                }
                StateProj::Calling { future } => {
                    let response = ready!(future.poll(cx))?;
                    return Poll::Ready(Ok(response.map(ResponseBody::inner)));
                }
                StateProj::Rejected { refusal } => {
                    return Poll::Ready(Ok(refusal.respond(this.config)))
                }
            };
            this.state.set(next);
        }
    }
}

/// The deadline of a body not verified yet ([`MinBodyRate`]). Nothing until the body first makes
/// the layer wait: a body that arrives with its headers reads no clock, arms no timer and
/// allocates nothing.
enum Deadline {
    /// The body has not made the layer wait yet.
    Unarmed,
    /// Kept by tokio's timer, which wakes the layer when it passes, so a body that stops sending
    /// is refused too; boxed, so that only a body that makes the layer wait pays for it.
    #[cfg(feature = "tokio")]
    Armed(Pin<Box<Timer>>),
    /// No timer to wake the layer (no `tokio` feature, no tokio runtime, or a runtime without its
    /// timer): the deadline, counted from this instant, is checked each time the body sends more
    /// and makes the layer wait again, so a body that trickles is refused and one that stops
    /// sending is left to the server's own timeouts.
    Clock(std::time::Instant),
}

#[cfg(feature = "tokio")]
pin_project! {
    /// A body's deadline on tokio's clock (which `tokio::time::pause` stops in tests).
    struct Timer {
        // When the body first made the layer wait: within the layer's first poll of it.
        start: tokio::time::Instant,
        // Due at `start + grace + received / rate`, moved forward as bytes arrive.
        #[pin]
        sleep: tokio::time::Sleep,
    }
}

/// A timer started now, or `None` when the runtime has no timer. tokio cannot be asked whether
/// its runtime was built with one (`enable_time`; `#[tokio::main]` and `enable_all` do), and
/// arming a timer without it panics: the first such panic is caught and remembered in
/// `no_timer` (the layer's), so a slow body never turns into a panic of its request (under
/// `panic = "abort"` it still aborts).
#[cfg(feature = "tokio")]
fn arm_timer(no_timer: &std::sync::atomic::AtomicBool) -> Option<Timer> {
    use std::sync::atomic::Ordering;

    use crate::__private::log::error;
    if no_timer.load(Ordering::Relaxed) {
        return None;
    }
    let start = tokio::time::Instant::now();
    match std::panic::catch_unwind(|| tokio::time::sleep_until(start)) {
        Ok(sleep) => Some(Timer { start, sleep }),
        Err(_) => {
            no_timer.store(true, Ordering::Relaxed);
            error!(
                "clerk webhook layer: the tokio runtime has no timer, so bodies that stop sending \
                 are not refused (slow ones are, when they send more); build the runtime with \
                 `enable_time()` (or `enable_all()`), or turn the deadline off with \
                 `without_min_body_rate()`"
            );
            None
        }
    }
}

impl Deadline {
    /// Whether the body, which has sent `received` bytes and makes the layer wait again, is past
    /// its deadline; if not, and a timer keeps it, `cx` is woken when it passes. Arms the deadline
    /// the first time, on tokio's timer when there is one (`no_timer`: the runtime turned out to
    /// have none).
    #[cfg_attr(not(feature = "tokio"), allow(unused_variables))]
    fn passed(
        &mut self,
        rate: &MinBodyRate,
        received: usize,
        no_timer: &std::sync::atomic::AtomicBool,
        cx: &mut Context<'_>,
    ) -> bool {
        if let Self::Unarmed = self {
            *self = Self::arm(no_timer);
        }
        match self {
            Self::Unarmed => false,
            #[cfg(feature = "tokio")]
            Self::Armed(timer) => {
                let mut timer = timer.as_mut().project();
                let Some(due) = timer.start.checked_add(rate.allowance(received)) else {
                    return false; // Beyond the clock's range: no deadline.
                };
                if timer.sleep.deadline() != due {
                    timer.sleep.as_mut().reset(due);
                }
                timer.sleep.poll(cx).is_ready()
            }
            Self::Clock(start) => start
                .checked_add(rate.allowance(received))
                .is_some_and(|due| std::time::Instant::now() >= due),
        }
    }

    /// The deadline of a body that makes the layer wait now.
    #[cfg_attr(not(feature = "tokio"), allow(unused_variables))]
    fn arm(no_timer: &std::sync::atomic::AtomicBool) -> Self {
        // Outside a tokio runtime there is no timer to keep it (and arming one would panic).
        #[cfg(feature = "tokio")]
        if tokio::runtime::Handle::try_current().is_ok() {
            if let Some(timer) = arm_timer(no_timer) {
                return Self::Armed(Box::pin(timer));
            }
        }
        Self::Clock(std::time::Instant::now())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;
    use std::task::{Context, Waker};
    use std::time::{Duration, Instant};

    use super::*;

    /// Without a timer, a body that sends more after its deadline is refused at once, and one
    /// within it is not (issue 31: the default build has no tokio).
    #[test]
    fn without_a_timer_the_deadline_is_checked_when_the_body_sends_more() {
        let rate = MinBodyRate::new(64 * 1024, Duration::from_secs(5)).unwrap();
        let no_timer = AtomicBool::new(false);
        let mut cx = Context::from_waker(Waker::noop());
        let started = |ago: u64| Deadline::Clock(Instant::now() - Duration::from_secs(ago));
        // 64 KiB earns one second past the 5 s of grace: due 6 s after the layer first waited.
        assert!(started(7).passed(&rate, 64 * 1024, &no_timer, &mut cx));
        assert!(!started(5).passed(&rate, 64 * 1024, &no_timer, &mut cx));
        assert!(!started(0).passed(&rate, 0, &no_timer, &mut cx));
    }
}
