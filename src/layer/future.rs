//! The response future: buffer, verify, ready the inner service, call it.

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
use super::config::Config;
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
            #[pin]
            body: B,
            buffer: BodyBuffer,
            head: Request<()>,
            // The scheme headers, read and checked before the body.
            scheme: CheckedHead,
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
                body,
                buffer,
                head: Request::from_parts(parts, ()),
                scheme,
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
                    body,
                    buffer,
                    head,
                    scheme,
                } => {
                    let headers = head.headers();
                    match ready!(body.poll_frame(cx)) {
                        Some(Ok(frame)) => {
                            match pipeline::buffer_frame(this.config, buffer, frame, headers) {
                                Ok(()) => continue,
                                Err(refusal) => State::Rejected { refusal },
                            }
                        }
                        Some(Err(err)) => State::Rejected {
                            refusal: pipeline::body_failed(err.into(), headers),
                        },
                        None => {
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
