//! The response future: buffer, verify, then call the inner service.

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

use super::config::Config;
use super::service::BoxError;
use super::{BodyBuffer, Rejection, ResponseBody, WebhookBody};
use crate::verify::VerifyError;

pin_project! {
    /// The response future of [`ClerkWebhook`](super::ClerkWebhook).
    ///
    /// ```
    /// use clerk_webhooks::layer::{ClerkWebhook, ResponseFuture, WebhookBody};
    /// use std::future::Future;
    ///
    /// // The future `ClerkWebhook<S>::call` returns; it is `Send` whenever the inner service's is.
    /// fn is_send<T: Send>(_: &T) {}
    /// type Inner = tower::util::BoxCloneService<http::Request<WebhookBody>, http::Response<String>, std::convert::Infallible>;
    /// fn check(future: &ResponseFuture<Inner, String>) { is_send(future); }
    /// ```
    pub struct ResponseFuture<S, B>
    where
        S: Service<Request<WebhookBody>>,
    {
        #[pin]
        state: State<S, B>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<S, B>
    where
        S: Service<Request<WebhookBody>>,
    {
        Buffering {
            #[pin]
            body: B,
            buffer: Option<BodyBuffer>,
            parts: Option<Parts>,
            inner: Option<S>,
            config: Arc<Config>,
        },
        Calling {
            #[pin]
            future: S::Future,
        },
        Rejected {
            rejection: Option<Rejection>,
        },
    }
}

impl<S, B> ResponseFuture<S, B>
where
    S: Service<Request<WebhookBody>>,
{
    pub(crate) fn rejected(rejection: Rejection) -> Self {
        Self {
            state: State::Rejected {
                rejection: Some(rejection),
            },
        }
    }

    pub(crate) fn buffering(
        parts: Parts,
        body: B,
        buffer: BodyBuffer,
        inner: S,
        config: Arc<Config>,
    ) -> Self {
        Self {
            state: State::Buffering {
                body,
                buffer: Some(buffer),
                parts: Some(parts),
                inner: Some(inner),
                config,
            },
        }
    }
}

const POLLED_AFTER_COMPLETION: &str = "ResponseFuture polled after completion";

impl<S, B, ResBody> Future for ResponseFuture<S, B>
where
    S: Service<Request<WebhookBody>, Response = Response<ResBody>>,
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Output = Result<Response<ResponseBody<ResBody>>, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.project().state;
        loop {
            let next = match state.as_mut().project() {
                StateProj::Buffering {
                    mut body,
                    buffer,
                    parts,
                    inner,
                    config,
                } => {
                    let Some(buffered) = buffer.as_mut() else {
                        panic!("{POLLED_AFTER_COMPLETION}")
                    };
                    match ready!(body.as_mut().poll_frame(cx)) {
                        Some(Ok(frame)) => {
                            let Ok(data) = frame.into_data() else {
                                continue; // trailers carry nothing that is signed
                            };
                            if buffered.push(data).is_ok() {
                                continue;
                            }
                            let limit = config.body_limit;
                            let headers = &parts.as_ref().expect(POLLED_AFTER_COMPLETION).headers;
                            let err = VerifyError::PayloadTooLarge { limit };
                            State::Rejected {
                                rejection: Some(Rejection::verify(err, headers)),
                            }
                        }
                        Some(Err(err)) => {
                            let reason = err.into().to_string();
                            let headers = &parts.as_ref().expect(POLLED_AFTER_COMPLETION).headers;
                            let err = VerifyError::BodyError { reason };
                            State::Rejected {
                                rejection: Some(Rejection::verify(err, headers)),
                            }
                        }
                        None => {
                            let bytes = buffer.take().expect(POLLED_AFTER_COMPLETION).into_bytes();
                            let parts = parts.take().expect(POLLED_AFTER_COMPLETION);
                            match config.accept(parts, bytes) {
                                Ok(request) => {
                                    let mut inner = inner.take().expect(POLLED_AFTER_COMPLETION);
                                    State::Calling {
                                        future: inner.call(request),
                                    }
                                }
                                Err(rejection) => State::Rejected {
                                    rejection: Some(rejection),
                                },
                            }
                        }
                    }
                }
                StateProj::Calling { future } => {
                    let response = ready!(future.poll(cx))?;
                    return Poll::Ready(Ok(response.map(ResponseBody::inner)));
                }
                StateProj::Rejected { rejection } => {
                    let rejection = rejection.take().expect(POLLED_AFTER_COMPLETION);
                    return Poll::Ready(Ok(rejection.into_response()));
                }
            };
            state.set(next);
        }
    }
}
