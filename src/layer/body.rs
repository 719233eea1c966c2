//! The buffered request body handed to the inner service, the response body, and the buffer.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::Full;
use pin_project_lite::pin_project;

/// The request body the inner service receives: the exact bytes that were verified.
///
/// It implements [`http_body::Body`], so axum's `Bytes`, `String` and `Json` extractors read it as
/// usual; frameworks that want the bytes directly call [`WebhookBody::into_bytes`].
///
/// ```
/// use bytes::Bytes;
/// use clerk_webhooks::layer::WebhookBody;
///
/// let body = WebhookBody::new(Bytes::from_static(b"{}"));
/// assert_eq!(body.as_bytes(), b"{}");
/// assert_eq!(body.into_bytes(), Bytes::from_static(b"{}"));
/// ```
#[derive(Debug, Clone, Default)]
pub struct WebhookBody {
    data: Option<Bytes>,
}

impl WebhookBody {
    /// A body holding `data`.
    ///
    /// ```
    /// use clerk_webhooks::layer::WebhookBody;
    ///
    /// let body = WebhookBody::new(bytes::Bytes::from_static(b"{}"));
    /// assert_eq!(body.as_bytes(), b"{}");
    /// ```
    pub fn new(data: Bytes) -> Self {
        Self {
            data: (!data.is_empty()).then_some(data),
        }
    }

    /// The bytes not yet read.
    ///
    /// ```
    /// use clerk_webhooks::layer::WebhookBody;
    ///
    /// assert_eq!(WebhookBody::default().as_bytes(), b"");
    /// ```
    pub fn as_bytes(&self) -> &[u8] {
        self.data.as_deref().unwrap_or_default()
    }

    /// The bytes not yet read, without copying.
    ///
    /// ```
    /// use clerk_webhooks::layer::WebhookBody;
    ///
    /// let body = WebhookBody::new(bytes::Bytes::from_static(b"raw"));
    /// assert_eq!(body.into_bytes(), "raw");
    /// ```
    pub fn into_bytes(self) -> Bytes {
        self.data.unwrap_or_default()
    }
}

impl Body for WebhookBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.data.take().map(|data| Ok(Frame::data(data))))
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.as_bytes().len() as u64)
    }
}

pin_project! {
    /// The response body of [`ClerkWebhook`](super::ClerkWebhook): the inner service's body, or the
    /// small JSON body of the middleware's own answer (a rejection or a de-duplication reply).
    ///
    /// ```
    /// use clerk_webhooks::layer::ResponseBody;
    /// use http_body::Body;
    ///
    /// // The body type of every response of the layer, whatever the inner service answers with.
    /// fn is_http_body<B: Body>() {}
    /// is_http_body::<ResponseBody<String>>();
    /// ```
    pub struct ResponseBody<B> {
        #[pin]
        inner: ResponseBodyInner<B>,
    }
}

pin_project! {
    #[project = ResponseBodyProj]
    enum ResponseBodyInner<B> {
        // The middleware's own answers: rejections and de-duplication replies.
        Json {
            #[pin]
            body: Full<Bytes>,
        },
        Inner {
            #[pin]
            body: B,
        },
    }
}

impl<B> ResponseBody<B> {
    /// A response of the middleware's own: `status`, `content-type: application/json`, `json`.
    pub(crate) fn json_response(status: http::StatusCode, json: String) -> http::Response<Self> {
        let body = Self {
            inner: ResponseBodyInner::Json {
                body: Full::new(Bytes::from(json)),
            },
        };
        let mut response = http::Response::new(body);
        *response.status_mut() = status;
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        response
    }

    pub(crate) fn inner(body: B) -> Self {
        Self {
            inner: ResponseBodyInner::Inner { body },
        }
    }
}

impl<B: Body<Data = Bytes>> Body for ResponseBody<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        match self.project().inner.project() {
            ResponseBodyProj::Json { body } => body
                .poll_frame(cx)
                .map_err(|never: Infallible| match never {}),
            ResponseBodyProj::Inner { body } => body.poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.inner {
            ResponseBodyInner::Json { body } => body.is_end_stream(),
            ResponseBodyInner::Inner { body } => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.inner {
            ResponseBodyInner::Json { body } => body.size_hint(),
            ResponseBodyInner::Inner { body } => body.size_hint(),
        }
    }
}

/// Gathers a request body up to a limit, copying as little as possible: a body that arrives as one
/// frame is kept as that frame's `Bytes`; a body in several frames is copied once into a buffer
/// sized from its announced length.
#[derive(Debug)]
pub(crate) struct BodyBuffer {
    limit: usize,
    expected: usize,
    state: Buffered,
}

#[derive(Debug)]
enum Buffered {
    Empty,
    One(Bytes),
    Many(Vec<u8>),
}

/// The body grew past the limit.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct OverLimit;

impl BodyBuffer {
    /// `expected` is the announced length (Content-Length or size hint); it only sizes the buffer,
    /// capped at `limit`, so a lying client cannot make it allocate more.
    pub(crate) fn new(limit: usize, expected: u64) -> Self {
        Self {
            limit,
            expected: usize::try_from(expected).unwrap_or(usize::MAX).min(limit),
            state: Buffered::Empty,
        }
    }

    pub(crate) fn len(&self) -> usize {
        match &self.state {
            Buffered::Empty => 0,
            Buffered::One(bytes) => bytes.len(),
            Buffered::Many(buffer) => buffer.len(),
        }
    }

    pub(crate) fn push(&mut self, data: Bytes) -> Result<(), OverLimit> {
        if data.len() > self.limit - self.len() {
            return Err(OverLimit);
        }
        if data.is_empty() {
            return Ok(());
        }
        self.state = match std::mem::replace(&mut self.state, Buffered::Empty) {
            Buffered::Empty => Buffered::One(data),
            Buffered::One(first) => {
                let mut buffer = Vec::with_capacity(self.expected.max(first.len() + data.len()));
                buffer.extend_from_slice(&first);
                buffer.extend_from_slice(&data);
                Buffered::Many(buffer)
            }
            Buffered::Many(mut buffer) => {
                buffer.extend_from_slice(&data);
                Buffered::Many(buffer)
            }
        };
        Ok(())
    }

    pub(crate) fn into_bytes(self) -> Bytes {
        match self.state {
            Buffered::Empty => Bytes::new(),
            Buffered::One(bytes) => bytes,
            // `Bytes::from(Vec)` takes the allocation over; nothing is copied.
            Buffered::Many(buffer) => Bytes::from(buffer),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_frame_is_kept_without_copy() {
        let frame = Bytes::from_static(b"hello");
        let mut buffer = BodyBuffer::new(10, 5);
        buffer.push(frame.clone()).unwrap();
        let out = buffer.into_bytes();
        assert_eq!(out.as_ptr(), frame.as_ptr());
    }

    #[test]
    fn several_frames_are_joined_in_one_allocation_of_the_expected_size() {
        let mut buffer = BodyBuffer::new(100, 9);
        for part in ["abc", "def", "ghi"] {
            buffer.push(Bytes::from(part)).unwrap();
        }
        let Buffered::Many(inner) = &buffer.state else {
            panic!()
        };
        assert_eq!(inner.capacity(), 9);
        assert_eq!(buffer.into_bytes(), Bytes::from_static(b"abcdefghi"));
    }

    #[test]
    fn the_limit_is_inclusive_and_never_exceeded() {
        let mut buffer = BodyBuffer::new(6, u64::MAX);
        buffer.push(Bytes::from_static(b"abc")).unwrap();
        buffer.push(Bytes::from_static(b"def")).unwrap();
        assert_eq!(buffer.push(Bytes::from_static(b"g")), Err(OverLimit));
        assert_eq!(buffer.len(), 6);
        let Buffered::Many(inner) = &buffer.state else {
            panic!()
        };
        assert!(
            inner.capacity() <= 6,
            "capacity {} over the limit",
            inner.capacity()
        );
    }

    #[test]
    fn webhook_body_yields_its_bytes_once() {
        use http_body_util::BodyExt;
        let body = WebhookBody::new(Bytes::from_static(b"{}"));
        assert_eq!(body.size_hint().exact(), Some(2));
        let collected = futures_executor_block_on(body.collect())
            .unwrap()
            .to_bytes();
        assert_eq!(collected, Bytes::from_static(b"{}"));
        assert!(WebhookBody::default().is_end_stream());
    }

    /// A tiny executor: a `WebhookBody` is always ready, so one poll completes it.
    fn futures_executor_block_on<F: std::future::Future>(future: F) -> F::Output {
        let waker = std::task::Waker::noop();
        let mut context = Context::from_waker(waker);
        let mut future = std::pin::pin!(future);
        match future.as_mut().poll(&mut context) {
            Poll::Ready(output) => output,
            Poll::Pending => panic!("a buffered body is always ready"),
        }
    }
}
