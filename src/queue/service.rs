//! The route's service: store, then answer.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body::Body;
use http_body_util::BodyExt;
use tower_service::Service;

use super::backend::{Enqueued, QueueBackend};
use super::job::QueuedDelivery;
use crate::__private::log::{debug, error, info};
use crate::metrics;
use crate::rejection::{BodyError, InvalidPayload, MissingWebhookLayer, QueueUnavailable};
use crate::response::json_response;
use crate::verify::Delivery;

/// The route's service that stores each verified delivery as a [`QueuedDelivery`] job in its
/// [`QueueBackend`] and answers once the job is stored; place it behind
/// [`ClerkWebhookLayer`](crate::ClerkWebhookLayer) (with
/// [`verify_only`](crate::ClerkWebhookLayer::verify_only), so that a delivery this version's model
/// cannot read is queued too).
///
/// Its answers are JSON: `200 {"queued": true, "status": S, "svix_id": ID}` with `S` one of
/// [`Enqueued`]'s words, or [`QueueUnavailable`] (`503 queue_unavailable`, with `Retry-After`).
#[derive(Debug, Clone)]
pub struct DeliveryQueue<Q> {
    backend: Q,
}

impl<Q: QueueBackend> DeliveryQueue<Q> {
    /// The route's service over `backend`.
    pub fn new(backend: Q) -> Self {
        crate::metrics::describe();
        Self { backend }
    }

    /// The backend the jobs go to.
    pub fn backend(&self) -> &Q {
        &self.backend
    }
}

/// The response future of [`DeliveryQueue`]. Its answers are small JSON texts: `String` is an
/// [`http_body::Body`], so any server sends them as they are.
pub type ResponseFuture =
    Pin<Box<dyn Future<Output = Result<Response<String>, Infallible>> + Send + 'static>>;

impl<Q, B> Service<Request<B>> for DeliveryQueue<Q>
where
    Q: QueueBackend,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: std::fmt::Display,
{
    type Response = Response<String>;
    type Error = Infallible;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let backend = self.backend.clone();
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let Some(delivery) = parts.extensions.get::<Delivery>().cloned() else {
                let rejection = MissingWebhookLayer::queue();
                rejection.log();
                return Ok(rejection.response());
            };
            // The layer hands on the verified bytes in one frame: this does not wait on the client.
            let bytes = match body.collect().await {
                Ok(collected) => collected.to_bytes(),
                Err(err) => return Ok(BodyError::new(&err.to_string()).response()),
            };
            // Takes the buffer over rather than copying it when the bytes are its only owner (the
            // layer's buffer is).
            let Ok(text) = String::from_utf8(Vec::from(bytes)) else {
                return Ok(InvalidPayload::new("the body is not UTF-8").response());
            };
            let job = QueuedDelivery {
                id: delivery.id().to_owned(),
                timestamp: delivery.timestamp(),
                body: text,
                endpoint: delivery.endpoint().to_owned(),
            };
            let keys: Vec<String> = delivery.keys().collect();
            let stored = backend.enqueue(&job, &keys).await;
            match stored {
                Ok(outcome) => {
                    metrics::queue(outcome.as_str());
                    log_queued(delivery.id(), outcome);
                    // `queued`: the delivery is in the queue's hands; `status` says how.
                    let body = serde_json::json!({"queued": true, "status": outcome.as_str(),
                        "svix_id": delivery.id()});
                    Ok(json_response(StatusCode::OK, body.to_string()))
                }
                Err(err) => {
                    metrics::queue("unavailable");
                    log_unavailable(delivery.id(), &err);
                    Ok(QueueUnavailable::new().response())
                }
            }
        })
    }
}

#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
fn log_queued(id: &str, outcome: Enqueued) {
    if outcome == Enqueued::Requeued {
        info!(
            svix_id = id,
            "clerk webhook replayed: its dead job is queued again"
        );
    } else {
        debug!(
            svix_id = id,
            status = outcome.as_str(),
            "clerk webhook queued"
        );
    }
}

#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
fn log_unavailable(id: &str, err: &dyn std::fmt::Display) {
    error!(svix_id = id, error = %err, "clerk webhook queue unavailable; answered 503");
}
