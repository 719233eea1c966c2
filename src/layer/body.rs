//! The buffered request body handed to the inner service, and the response body.

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
/// use clerk_webhooks::layer::WebhookBody;
/// use http::Request;
///
/// // A handler outside axum reads the verified bytes without copying them.
/// fn raw_body(request: Request<WebhookBody>) -> bytes::Bytes {
///     request.into_body().into_bytes()
/// }
/// ```
#[derive(Clone, Default)]
pub struct WebhookBody {
    data: Option<Bytes>,
}

/// The length, never the bytes: a body's values stay out of logs that print requests.
impl std::fmt::Debug for WebhookBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookBody")
            .field("len", &self.as_bytes().len())
            .finish()
    }
}

impl WebhookBody {
    /// A body holding `data`, for calling a service that expects one in tests.
    pub fn new(data: Bytes) -> Self {
        Self {
            data: (!data.is_empty()).then_some(data),
        }
    }

    /// The bytes not yet read.
    pub fn as_bytes(&self) -> &[u8] {
        self.data.as_deref().unwrap_or_default()
    }

    /// The bytes not yet read, without copying.
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
    /// The body of an answer of the middleware's own.
    pub(crate) fn json(json: String) -> Self {
        Self {
            inner: ResponseBodyInner::Json {
                body: Full::new(Bytes::from(json)),
            },
        }
    }

    pub(crate) fn inner(body: B) -> Self {
        Self {
            inner: ResponseBodyInner::Inner { body },
        }
    }
}

/// An empty answer of the inner body's kind, for layers that build their own responses (tower-http's
/// `TimeoutLayer` needs it).
impl<B: Default> Default for ResponseBody<B> {
    fn default() -> Self {
        Self::inner(B::default())
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

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn debug_shows_the_length_not_the_bytes() {
        let body = WebhookBody::new(Bytes::from_static(br#"{"email":"ada@example.com"}"#));
        assert_eq!(format!("{body:?}"), "WebhookBody { len: 27 }");
    }

    struct NoopWaker;

    impl std::task::Wake for NoopWaker {
        fn wake(self: std::sync::Arc<Self>) {}
    }

    /// A tiny executor: a `WebhookBody` is always ready, so one poll completes it.
    fn futures_executor_block_on<F: std::future::Future>(future: F) -> F::Output {
        let waker = std::task::Waker::from(std::sync::Arc::new(NoopWaker));
        let mut context = Context::from_waker(&waker);
        let mut future = std::pin::pin!(future);
        match future.as_mut().poll(&mut context) {
            Poll::Ready(output) => output,
            Poll::Pending => panic!("a buffered body is always ready"),
        }
    }
}
