//! The de-duplication service.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use http::header::RETRY_AFTER;
use http::{HeaderValue, Request, Response, StatusCode};
use tower_service::Service;

use super::store::{Claim, ClaimToken, DedupeStore};
use crate::layer::ResponseBody;
use crate::verify::{error_json, Delivery};

/// How long Svix is asked to wait when the store is down.
const STORE_DOWN_RETRY_AFTER: Duration = Duration::from_secs(30);

/// Middleware that makes each delivery take effect once; see [`DedupeLayer`](super::DedupeLayer).
///
/// ```
/// use clerk_webhooks::dedupe::{DedupeLayer, MemoryStore};
/// use tower::ServiceBuilder;
///
/// let service = ServiceBuilder::new()
///     .layer(DedupeLayer::new(MemoryStore::new()))
///     .service(tower::service_fn(|_: http::Request<String>| async {
///         Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
///     }));
/// let _inner = service.into_inner();
/// ```
#[derive(Debug, Clone)]
pub struct Dedupe<S, St> {
    inner: S,
    store: St,
    lease: Duration,
    retention: Duration,
}

impl<S, St> Dedupe<S, St> {
    pub(crate) fn new(inner: S, store: St, lease: Duration, retention: Duration) -> Self {
        Self {
            inner,
            store,
            lease,
            retention,
        }
    }

    /// The inner service.
    ///
    /// ```
    /// use clerk_webhooks::dedupe::{DedupeLayer, MemoryStore};
    /// use tower::Layer;
    ///
    /// let service = DedupeLayer::new(MemoryStore::new()).layer("inner");
    /// assert_eq!(*service.get_ref(), "inner");
    /// ```
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    ///
    /// ```
    /// use clerk_webhooks::dedupe::{DedupeLayer, MemoryStore};
    /// use tower::Layer;
    ///
    /// let mut service = DedupeLayer::new(MemoryStore::new()).layer(1);
    /// *service.get_mut() += 1;
    /// assert_eq!(*service.get_ref(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service.
    ///
    /// ```
    /// use clerk_webhooks::dedupe::{DedupeLayer, MemoryStore};
    /// use tower::Layer;
    ///
    /// let service = DedupeLayer::new(MemoryStore::new()).layer("inner");
    /// assert_eq!(service.into_inner(), "inner");
    /// ```
    pub fn into_inner(self) -> S {
        self.inner
    }
}

/// The response future of [`Dedupe`].
///
/// ```
/// use clerk_webhooks::dedupe::DedupeFuture;
///
/// let future: DedupeFuture<u8, ()> = Box::pin(async { Ok(1) });
/// # drop(future);
/// ```
pub type DedupeFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

impl<S, St, B, ResBody> Service<Request<B>> for Dedupe<S, St>
where
    S: Service<Request<B>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: Send,
    St: DedupeStore,
    B: Send + 'static,
    ResBody: Send + 'static,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = DedupeFuture<Self::Response, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let store = self.store.clone();
        let (lease, retention) = (self.lease, self.retention);
        Box::pin(async move {
            let Some(id) = request
                .extensions()
                .get::<Delivery>()
                .map(|d| d.id().to_owned())
            else {
                return Ok(reply(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    error_json(
                        "missing_webhook_layer",
                        "DedupeLayer needs ClerkWebhookLayer outside it, to verify the delivery id",
                    ),
                    None,
                ));
            };
            let token = match store.claim(&id, lease).await {
                Ok(Claim::Claimed(token)) => token,
                Ok(Claim::Done) => {
                    let body = serde_json::json!({"duplicate": true, "svix_id": id,
                        "message": "already processed"});
                    return Ok(reply(StatusCode::OK, body.to_string(), None));
                }
                Ok(Claim::InProgress { retry_after }) => {
                    let body =
                        error_json("delivery_in_progress", "this delivery is being processed");
                    let wait = retry_after.unwrap_or(lease);
                    return Ok(reply(StatusCode::CONFLICT, body, Some(wait)));
                }
                Err(err) => {
                    log_store_error(&id, &err);
                    let body = error_json(
                        "dedupe_unavailable",
                        "the de-duplication store is unavailable",
                    );
                    return Ok(reply(
                        StatusCode::SERVICE_UNAVAILABLE,
                        body,
                        Some(STORE_DOWN_RETRY_AFTER),
                    ));
                }
            };
            // Releases the claim if the handler panics or this future is dropped mid-way.
            let mut guard = ClaimGuard {
                store: &store,
                id: &id,
                token: Some(token),
            };
            let outcome = inner.call(request).await;
            let token = guard
                .token
                .take()
                .expect("the guard holds the token until here");
            let succeeded = matches!(&outcome, Ok(response) if response.status().is_success());
            let recorded = if succeeded {
                store.complete(&id, &token, retention).await
            } else {
                store.release(&id, &token).await
            };
            if let Err(err) = recorded {
                // The handler's answer stands: a failed `complete` leaves the id claimable after
                // the lease, so a later replay is processed again rather than lost.
                log_store_error(&id, &err);
            }
            outcome.map(|response| response.map(ResponseBody::inner))
        })
    }
}

struct ClaimGuard<'a, St: DedupeStore> {
    store: &'a St,
    id: &'a str,
    token: Option<ClaimToken>,
}

impl<St: DedupeStore> Drop for ClaimGuard<'_, St> {
    fn drop(&mut self) {
        if let Some(token) = self.token.take() {
            self.store.abandon(self.id.to_owned(), token);
        }
    }
}

fn reply<B>(
    status: StatusCode,
    json: String,
    retry_after: Option<Duration>,
) -> Response<ResponseBody<B>> {
    let mut response = ResponseBody::json_response(status, json);
    if let Some(wait) = retry_after {
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(seconds.max(1)));
    }
    response
}

#[cfg(feature = "tracing")]
fn log_store_error(id: &str, err: &super::StoreError) {
    tracing::error!(svix_id = id, error = %err, "clerk webhook de-duplication store failed");
}

#[cfg(not(feature = "tracing"))]
fn log_store_error(_id: &str, _err: &super::StoreError) {}
