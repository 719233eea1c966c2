//! The tower layer's body path: `ClerkWebhookLayer` over requests whose bodies arrive as fuzzed
//! frame sequences, with a fuzzed body limit and budget of unverified bytes, several requests
//! polled in a fuzzed interleaving on one layer (so they share the budget).
//!
//! Oracle, per request, from the documented rules (`src/layer/layer.rs`, `pipeline.rs`,
//! `buffer.rs`, `rejection.rs`), in order:
//! 1. `Content-Length` (or else an exact size hint) above the limit, or a size hint whose lower
//!    bound is above it: `413 payload_too_large` naming the limit, before anything else;
//! 2. stale headers: `400 timestamp_too_old`;
//! 3. frames in order: an outer `http_body_util::Limited` overrun is `413` not naming a limit; a
//!    data frame taking the body past the limit is `413` naming it (the limit is inclusive); a
//!    body error is `400 body_error`; trailers are ignored; a `Content-Length` that lies changes
//!    nothing else;
//! 4. the bytes are not the signed ones: `400 invalid_signature`;
//! 5. not an envelope: `400 invalid_payload`; a known type whose data does not fit:
//!    `422 unsupported_event`, or under `PassAsUnparsed` a `200` with `ClerkEvent::Unparsed`;
//! 6. otherwise `200` from the inner service, which sees exactly the bytes sent, the event
//!    `parse_event` reads from them, its metadata and the delivery.
//!
//! A request may instead get `503 overloaded` (with `Retry-After`) only when the requests not
//! verified yet could together hold more than the budget (`max(budget, limit)`): each holds at
//! most twice what it sent, and at most the limit. With the leak probe on, once every request is
//! done, as many bodies of exactly the limit as the budget holds must all be taken in at once:
//! what finished requests held was given back.
//!
//! Every rejection is JSON `{"error": CODE, "message": ...}`, `Retry-After` only on 503s, and
//! the inner service never sees a refused request. Nothing may panic or hang.
//!
//! Input (little-endian; missing bytes read as zero):
//! - `limit: u16` (% 4096), `budget: u16` (0: the default budget, else % 8192), `flags: u8`
//!   (bit 0 `PassAsUnparsed`, bit 1 the inner service is not ready at its first poll, bit 2 the
//!   leak probe), `schedule: u8` (seed of the interleaving), `requests: u8` (1 + n % 3);
//! - per request: `flags: u8` (bit 0 `Content-Length`, bit 1 exact size hint, bit 2 body error,
//!   bit 3 forged signature, bit 4 trailers, bit 5 outer `Limited`, bit 6 stale timestamp,
//!   bit 7 `Pending` before each frame), `cl_mode: u8`, `cl_value: u32`, `outer_limit: u16`,
//!   `error_at: u8`, `frames: u8` (% 16), one size byte per frame (the rest of the body is one
//!   last frame), then `body_len: u16` and the body, except the last request's body which is
//!   the rest of the input.
#![no_main]

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::LazyLock;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, UNIX_EPOCH};

use bytes::Bytes;
use clerk_webhooks::layer::{
    ResponseBody, UnsupportedEvents, WebhookBody, DEFAULT_UNVERIFIED_BUDGET,
};
use clerk_webhooks::{
    parse_event, ClerkEvent, ClerkWebhookLayer, Delivery, EventError, EventMeta, SigningSecret,
    Verifier,
};
use http::{HeaderMap, HeaderValue, Request, Response};
use http_body::{Body, Frame, SizeHint};
use http_body_util::{BodyExt, Full, Limited};
use libfuzzer_sys::fuzz_target;
use tower::{Layer, Service, ServiceExt};

const NOW: i64 = 1_700_000_000;
const STALE: i64 = NOW - 1_000;
const MAX_POLLS: usize = 100_000;

/// `LAYER_BODY_TRACE=1`: print each request's expected and actual answer (to look at seeds).
static TRACE: LazyLock<bool> = LazyLock::new(|| std::env::var_os("LAYER_BODY_TRACE").is_some());

static VERIFIER: LazyLock<Verifier> = LazyLock::new(|| {
    Verifier::new(SigningSecret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap())
        .with_clock(|| UNIX_EPOCH + Duration::from_secs(NOW as u64))
});

// ---------------------------------------------------------------------------------------------
// Reading the input.

struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, tail) = self.0.split_at(n.min(self.0.len()));
        self.0 = tail;
        head
    }
    fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0; N];
        let head = self.take(N);
        out[..head.len()].copy_from_slice(head);
        out
    }
    fn u8(&mut self) -> u8 {
        self.bytes::<1>()[0]
    }
    fn u16(&mut self) -> u16 {
        u16::from_le_bytes(self.bytes())
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.bytes())
    }
}

// ---------------------------------------------------------------------------------------------
// The request body: a scripted sequence of frames.

#[derive(Clone, Debug)]
enum Step {
    Data(Bytes),
    Trailers,
    Fail,
}

#[derive(Debug)]
struct FuzzBodyError;

impl std::fmt::Display for FuzzBodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection reset by the fuzzer")
    }
}

impl std::error::Error for FuzzBodyError {}

/// What a body has handed out so far, seen from outside the layer.
#[derive(Default)]
struct Track {
    yielded: Cell<usize>,
    ended: Cell<bool>,
}

struct FuzzBody {
    steps: VecDeque<Step>,
    exact_hint: bool,
    /// `Pending` (after waking itself) before every frame.
    pending: bool,
    pended: bool,
    /// Probes: `Pending` for ever once the steps are out.
    stall_at_end: bool,
    track: Rc<Track>,
}

impl Body for FuzzBody {
    type Data = Bytes;
    type Error = FuzzBodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, FuzzBodyError>>> {
        let this = self.get_mut();
        if this.pending && !this.pended {
            this.pended = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        this.pended = false;
        match this.steps.pop_front() {
            None if this.stall_at_end => Poll::Pending,
            None => {
                this.track.ended.set(true);
                Poll::Ready(None)
            }
            Some(Step::Data(data)) => {
                this.track
                    .yielded
                    .set(this.track.yielded.get() + data.len());
                Poll::Ready(Some(Ok(Frame::data(data))))
            }
            Some(Step::Trailers) => Poll::Ready(Some(Ok(Frame::trailers(HeaderMap::new())))),
            Some(Step::Fail) => {
                this.track.ended.set(true);
                Poll::Ready(Some(Err(FuzzBodyError)))
            }
        }
    }

    fn size_hint(&self) -> SizeHint {
        if !self.exact_hint {
            return SizeHint::default();
        }
        let remaining = self.steps.iter().map(|step| match step {
            Step::Data(data) => data.len() as u64,
            _ => 0,
        });
        SizeHint::with_exact(remaining.sum())
    }
}

// ---------------------------------------------------------------------------------------------
// The inner service: records what it was handed.

struct Seen {
    bytes: Bytes,
    event: ClerkEvent,
    meta: EventMeta,
}

#[derive(Clone)]
struct Inner {
    seen: Rc<RefCell<Vec<Option<Seen>>>>,
    ready: bool,
}

impl Service<Request<WebhookBody>> for Inner {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = std::future::Ready<Result<Response<Full<Bytes>>, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        if !self.ready {
            self.ready = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<WebhookBody>) -> Self::Future {
        assert!(self.ready, "called before it was ready");
        let index: usize = request.headers()["x-fuzz-request"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        let delivery = request.extensions().get::<Delivery>().expect("no Delivery");
        assert_eq!(delivery.id(), format!("msg_fuzz_{index}"));
        assert_eq!(delivery.timestamp(), NOW);
        let event = request.extensions().get::<ClerkEvent>().expect("no event");
        let meta = request.extensions().get::<EventMeta>().expect("no meta");
        let seen = Seen {
            event: event.clone(),
            meta: meta.clone(),
            bytes: request.into_body().into_bytes(),
        };
        let slot = &mut self.seen.borrow_mut()[index];
        assert!(slot.is_none(), "request {index} handled twice");
        *slot = Some(seen);
        std::future::ready(Ok(Response::new(Full::new(Bytes::from_static(b"handled")))))
    }
}

// ---------------------------------------------------------------------------------------------
// The model.

#[derive(Debug, PartialEq)]
enum Expected {
    /// 200 from the inner service; `Unparsed` under `PassAsUnparsed`.
    Handled { unparsed: bool },
    /// A rejection: status, code, and for 413 whether the message names the limit.
    Refused {
        status: u16,
        code: &'static str,
        names_limit: Option<bool>,
    },
}

fn refused(status: u16, code: &'static str) -> Expected {
    Expected::Refused {
        status,
        code,
        names_limit: None,
    }
}

fn too_large(names_limit: bool) -> Expected {
    Expected::Refused {
        status: 413,
        code: "payload_too_large",
        names_limit: Some(names_limit),
    }
}

type FuzzRequest = Request<Pin<Box<dyn Body<Data = Bytes, Error = BoxError>>>>;

struct Scripted {
    expected: Expected,
    sent: Bytes,
    track: Rc<Track>,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A body of either kind, boxed so requests with and without `Limited` share one type.
struct Boxed<B>(B);

impl<B> Body for Boxed<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        Pin::new(&mut self.0).poll_frame(cx).map_err(Into::into)
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.0.size_hint()
    }
}

fn script(
    input: &mut Input<'_>,
    index: usize,
    last: bool,
    limit: usize,
    lenient: bool,
) -> (FuzzRequest, Scripted) {
    let flags = input.u8();
    let cl_mode = input.u8();
    let cl_value = input.u32();
    let outer_limit = usize::from(input.u16());
    let error_at = usize::from(input.u8());
    let frames = usize::from(input.u8() % 16);
    let frame_sizes = input.take(frames);
    let body: Bytes = if last {
        Bytes::copy_from_slice(input.take(usize::MAX))
    } else {
        let len = usize::from(input.u16());
        Bytes::copy_from_slice(input.take(len))
    };

    let with_length = flags & 1 != 0;
    let exact_hint = flags & 2 != 0;
    let fails = flags & 4 != 0;
    let forged = flags & 8 != 0;
    let trailers = flags & 16 != 0;
    let outer = flags & 32 != 0;
    let stale = flags & 64 != 0;
    let pending = flags & 128 != 0;

    // The frames: one per size byte (cut to what is left), then the rest in one.
    let mut steps = Vec::new();
    let mut at = 0;
    for &size in frame_sizes {
        let end = (at + usize::from(size)).min(body.len());
        steps.push(Step::Data(body.slice(at..end)));
        at = end;
    }
    if at < body.len() {
        steps.push(Step::Data(body.slice(at..)));
    }
    if trailers {
        steps.push(Step::Trailers);
    }
    if fails {
        steps.truncate(error_at);
        steps.push(Step::Fail);
    }
    let sent: Bytes = steps
        .iter()
        .filter_map(|step| match step {
            Step::Data(data) => Some(data.as_ref()),
            _ => None,
        })
        .collect::<Vec<&[u8]>>()
        .concat()
        .into();

    let timestamp = if stale { STALE } else { NOW };
    let signed = if forged {
        [body.as_ref(), b" "].concat()
    } else {
        body.to_vec()
    };
    let id = format!("msg_fuzz_{index}");
    let mut headers = VERIFIER.signed_headers(&id, timestamp, &signed).unwrap();
    headers.insert("x-fuzz-request", HeaderValue::from(index));
    if with_length {
        let honest = body.len() as u64;
        let value = match cl_mode % 4 {
            0 => HeaderValue::from(honest),
            1 => HeaderValue::from(cl_value),
            // Spelled loosely: padded, or with a sign.
            2 if cl_value.is_multiple_of(2) => {
                HeaderValue::from_str(&format!(" {honest}\t")).unwrap()
            }
            2 => HeaderValue::from_str(&format!("+{honest}")).unwrap(),
            _ => HeaderValue::from_bytes(&cl_value.to_le_bytes())
                .unwrap_or(HeaderValue::from_static("x")),
        };
        headers.insert(http::header::CONTENT_LENGTH, value);
    }

    let track = Rc::new(Track::default());
    let fuzz_body = FuzzBody {
        steps: steps.iter().cloned().collect(),
        exact_hint,
        pending,
        pended: false,
        stall_at_end: false,
        track: Rc::clone(&track),
    };
    let body: Pin<Box<dyn Body<Data = Bytes, Error = BoxError>>> = if outer {
        Box::pin(Boxed(Limited::new(fuzz_body, outer_limit)))
    } else {
        Box::pin(Boxed(fuzz_body))
    };

    // 1. What the head announces.
    let announced = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.trim().parse::<u64>().ok())
        .or_else(|| body.size_hint().exact());
    let expected = if announced.is_some_and(|length| length > limit as u64)
        || body.size_hint().lower() > limit as u64
    {
        too_large(true)
    } else if stale {
        refused(400, "timestamp_too_old")
    } else {
        walk(&steps, limit, outer.then_some(outer_limit))
            .unwrap_or_else(|| verdict(&sent, &signed, lenient))
    };

    let mut request = Request::post("/webhooks/clerk").body(body).unwrap();
    *request.headers_mut() = headers;
    let scripted = Scripted {
        expected,
        sent,
        track,
    };
    (request, scripted)
}

/// 3. The frames in order; `None` when the body ends cleanly.
fn walk(steps: &[Step], limit: usize, outer: Option<usize>) -> Option<Expected> {
    let mut outer_left = outer;
    let mut buffered = 0usize;
    for step in steps {
        match step {
            Step::Data(data) => {
                if let Some(left) = &mut outer_left {
                    if data.len() > *left {
                        return Some(too_large(false));
                    }
                    *left -= data.len();
                }
                if data.len() > limit - buffered {
                    return Some(too_large(true));
                }
                buffered += data.len();
            }
            Step::Trailers => {}
            Step::Fail => return Some(refused(400, "body_error")),
        }
    }
    None
}

/// 4 to 6. The bytes that arrived in full.
fn verdict(sent: &[u8], signed: &[u8], lenient: bool) -> Expected {
    if sent != signed {
        return refused(400, "invalid_signature");
    }
    match parse_event(sent) {
        Ok(_) => Expected::Handled { unparsed: false },
        Err(EventError::UnsupportedData { .. }) if lenient => Expected::Handled { unparsed: true },
        Err(err) => {
            let status = if err.code() == "unsupported_event" {
                422
            } else {
                400
            };
            refused(status, err.code())
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Driving the futures.

fn poll_once<F: Future + ?Sized>(future: Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    for _ in 0..MAX_POLLS {
        if let Poll::Ready(output) = poll_once(future.as_mut()) {
            return output;
        }
    }
    panic!("a ready body never completed");
}

type Answer = Response<ResponseBody<Full<Bytes>>>;
type AnswerFuture = Pin<Box<dyn Future<Output = Result<Answer, Infallible>>>>;

fn check(
    index: usize,
    answer: Answer,
    scripted: &Scripted,
    seen: &mut Option<Seen>,
    limit: usize,
    overload_allowed: bool,
) {
    let status = answer.status().as_u16();
    let retry_after = answer.headers().get(http::header::RETRY_AFTER).is_some();
    let content_type = answer.headers().get(http::header::CONTENT_TYPE).cloned();
    let body = block_on(answer.into_body().collect()).unwrap().to_bytes();
    let context = format!(
        "request {index}: expected {:?}, got {status} {:?}",
        scripted.expected,
        String::from_utf8_lossy(&body)
    );
    if *TRACE {
        eprintln!("{context}");
    }

    if status == 200 {
        let Expected::Handled { unparsed } = scripted.expected else {
            panic!("{context}");
        };
        assert_eq!(body.as_ref(), b"handled", "{context}");
        let seen = seen.take().expect("200 without the inner service");
        assert_eq!(
            seen.bytes, scripted.sent,
            "{context}: the inner service got other bytes"
        );
        if unparsed {
            assert!(matches!(seen.event, ClerkEvent::Unparsed(_)), "{context}");
        } else {
            let (event, meta) = parse_event(&scripted.sent).unwrap().into_parts();
            assert_eq!(seen.event, event, "{context}");
            assert_eq!(seen.meta, meta, "{context}");
        }
        return;
    }

    assert!(
        seen.is_none(),
        "{context}: the inner service saw a refused request"
    );
    assert_eq!(
        content_type.as_ref().map(HeaderValue::as_bytes),
        Some(&b"application/json"[..]),
        "{context}"
    );
    let json: serde_json::Value = serde_json::from_slice(&body).expect("a JSON rejection");
    let code = json["error"].as_str().expect("an error code");
    let message = json["message"].as_str().expect("a message");
    assert_eq!(retry_after, status == 503, "{context}: Retry-After");

    if (status, code) == (503, "overloaded") {
        assert!(
            overload_allowed,
            "{context}: overloaded although the requests in flight fit the budget"
        );
        return;
    }
    let Expected::Refused {
        status: want_status,
        code: want_code,
        names_limit,
    } = scripted.expected
    else {
        panic!("{context}");
    };
    assert_eq!((status, code), (want_status, want_code), "{context}");
    if let Some(names_limit) = names_limit {
        assert_eq!(
            message.ends_with(&format!(" of {limit} bytes")),
            names_limit,
            "{context}: {message}"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let limit = usize::from(input.u16() % 4096);
    let budget = match input.u16() {
        0 => None,
        bytes => Some(usize::from(bytes % 8192)),
    };
    let flags = input.u8();
    let lenient = flags & 1 != 0;
    let slow_inner = flags & 2 != 0;
    let leak_probe = flags & 4 != 0;
    let mut schedule = u32::from(input.u8()).wrapping_mul(0x9e37_79b9) | 1;
    let count = 1 + usize::from(input.u8() % 3);

    let mut layer = ClerkWebhookLayer::new(VERIFIER.clone()).with_body_limit(limit);
    if let Some(budget) = budget {
        layer = layer.with_unverified_budget(budget);
    }
    if lenient {
        layer = layer.with_unsupported_events(UnsupportedEvents::PassAsUnparsed);
    }
    // "A budget below the body limit is raised to it."
    let budget = budget.unwrap_or(DEFAULT_UNVERIFIED_BUDGET).max(limit);
    let seen = Rc::new(RefCell::new((0..count).map(|_| None).collect::<Vec<_>>()));
    let service = layer.layer(Inner {
        seen: Rc::clone(&seen),
        ready: !slow_inner,
    });

    let mut scripted = Vec::new();
    let mut futures: Vec<Option<AnswerFuture>> = Vec::new();
    for index in 0..count {
        let (request, one) = script(&mut input, index, index + 1 == count, limit, lenient);
        futures.push(Some(Box::pin(service.clone().oneshot(request))));
        scripted.push(one);
    }

    let mut polls = 0;
    while futures.iter().any(Option::is_some) {
        polls += 1;
        assert!(polls < MAX_POLLS, "the requests never completed");
        // The next request to poll, from the fuzzed schedule.
        schedule ^= schedule << 13;
        schedule ^= schedule >> 17;
        schedule ^= schedule << 5;
        let open: Vec<usize> = (0..count).filter(|&i| futures[i].is_some()).collect();
        let index = open[schedule as usize % open.len()];
        let future = futures[index].as_mut().unwrap();
        let Poll::Ready(answer) = poll_once(future.as_mut()) else {
            continue;
        };
        futures[index] = None;
        let answer = answer.unwrap_or_else(|never| match never {});
        // What the requests still buffering may hold at most, this one included.
        let held: usize = (0..count)
            .filter(|&i| i == index || (futures[i].is_some() && !scripted[i].track.ended.get()))
            .map(|i| scripted[i].track.yielded.get().saturating_mul(2).min(limit))
            .sum();
        let mut slot = seen.borrow_mut()[index].take();
        check(
            index,
            answer,
            &scripted[index],
            &mut slot,
            limit,
            held > budget,
        );
    }
    assert!(
        seen.borrow().iter().all(Option::is_none),
        "the inner service saw a request it did not answer"
    );

    if leak_probe && limit > 0 {
        // Everything is done: the whole budget is free again. Bodies of exactly the limit, each
        // in one frame and then stalled, fit `budget / limit` at once.
        let probes = (budget / limit).min(4);
        let mut stalled = Vec::new();
        for index in 0..probes {
            let body = Bytes::from(vec![b' '; limit]);
            let mut headers = VERIFIER.signed_headers("msg_probe", NOW, &body).unwrap();
            headers.insert("x-fuzz-request", HeaderValue::from(index));
            let probe = FuzzBody {
                steps: VecDeque::from([Step::Data(body)]),
                exact_hint: false,
                pending: false,
                pended: false,
                stall_at_end: true,
                track: Rc::default(),
            };
            let mut request = Request::post("/webhooks/clerk").body(probe).unwrap();
            *request.headers_mut() = headers;
            let mut future = Box::pin(service.clone().oneshot(request));
            if let Poll::Ready(answer) = poll_once(future.as_mut()) {
                let answer = answer.unwrap_or_else(|never| match never {});
                let body = block_on(answer.into_body().collect()).unwrap().to_bytes();
                panic!(
                    "probe {index} of {probes} (limit {limit}, budget {budget}) refused: {:?}; \
                     finished requests did not give their bytes back",
                    String::from_utf8_lossy(&body)
                );
            }
            stalled.push(future);
        }
    }
});
