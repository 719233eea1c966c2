//! The route's service: store, then answer.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use std::sync::Arc;

use apalis_redis::Config as QueueConfig;
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body::Body;
use http_body_util::BodyExt;
use redis::aio::ConnectionManager;
use tower_service::Service;

use super::connection::{queue_config, ConnectOptions, DurabilityWatch, QueueError};
use super::job::QueuedDelivery;
use super::recovery::{enqueue_under, Enqueued};
use super::rejection::QueueUnavailable;
use crate::layer::rejection::{BodyError, InvalidPayload, MissingWebhookLayer};
use crate::metrics;
use crate::response::json_response;
use crate::verify::Delivery;

/// The route's service that stores each verified delivery as a [`QueuedDelivery`] job; place it
/// behind [`ClerkWebhookLayer`](crate::ClerkWebhookLayer) (with
/// [`verify_only`](crate::ClerkWebhookLayer::verify_only), so that a delivery this version's model
/// cannot read is queued too).
#[derive(Clone)]
pub struct DeliveryQueue {
    connection: ConnectionManager,
    config: Arc<QueueConfig>,
    /// Re-reads Redis' persistence settings now and then: a Redis restarted without them loses
    /// what it acknowledges.
    durability: Arc<DurabilityWatch>,
    /// The longest a delivery waits for Redis before it is answered `503`.
    deadline: Duration,
}

impl std::fmt::Debug for DeliveryQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeliveryQueue")
            .field("active_jobs", &self.config.active_jobs_list())
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

impl DeliveryQueue {
    /// Connects to Redis (`options`, or a URL with the [defaults](ConnectOptions): a delivery is
    /// answered `503` within about 2 seconds while Redis is unreachable), checks that Redis keeps
    /// an append-only file, and stores jobs in the queue named `endpoint`
    /// ([`queue_config`](super::queue_config)): a stable name of this endpoint (app and
    /// environment), which its workers give [`Worker::connect`](super::Worker::connect). Not the
    /// secret's fingerprint ([`ClerkWebhookLayer::endpoint`](crate::ClerkWebhookLayer::endpoint))
    /// if you rotate secrets: it changes with the first secret, and jobs queued under the old
    /// name would wait for a worker that no longer reads them.
    ///
    /// # Errors
    ///
    /// [`QueueError::Redis`] when the URL is malformed or Redis cannot be reached at startup;
    /// [`QueueError::NotDurable`] when Redis runs without `appendonly yes` (see
    /// [`ConnectOptions::allow_non_durable`]).
    pub async fn connect(
        options: impl Into<ConnectOptions>,
        endpoint: &str,
    ) -> Result<Self, QueueError> {
        crate::metrics::describe();
        let options = options.into();
        let mut connection = options.connect().await?;
        options.check_durable(&mut connection).await?;
        Ok(Self {
            connection,
            config: Arc::new(queue_config(endpoint)),
            deadline: options.command_deadline(),
            durability: Arc::new(DurabilityWatch::new(options)),
        })
    }
}

/// The response future of [`DeliveryQueue`]. Its answers are small JSON texts: `String` is an
/// [`http_body::Body`], so any server sends them as they are.
pub type ResponseFuture =
    Pin<Box<dyn Future<Output = Result<Response<String>, Infallible>> + Send + 'static>>;

impl<B> Service<Request<B>> for DeliveryQueue
where
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
        let mut connection = self.connection.clone();
        let config = Arc::clone(&self.config);
        let durability = Arc::clone(&self.durability);
        let deadline = self.deadline;
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
            let enqueued = async {
                durability.ensure(&mut connection).await?;
                enqueue_under(&mut connection, &config, &job, &keys).await
            };
            // The connection's timeouts bound each command; this bounds the whole enqueue (now
            // and then a look at Redis' persistence settings first).
            let stored = match tokio::time::timeout(deadline, enqueued).await {
                Ok(outcome) => outcome.map_err(|err| err.to_string()),
                Err(_) => Err(format!("Redis did not answer within {deadline:?}")),
            };
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
                    Ok(QueueUnavailable.response())
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
