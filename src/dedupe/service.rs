//! The de-duplication service.

use std::task::{Context, Poll};
use std::time::Duration;

use http::{Request, Response, StatusCode};
use tower_service::Service;

use super::future::ResponseFuture;
use super::store::{Claim, ClaimToken, DedupeStore, StoreError};
use crate::__private::log::{error, info, warn};
use crate::layer::body::ResponseBody;
use crate::metrics;
use crate::rejection::MissingWebhookLayer;
use crate::rejection::{DeliveryInProgress, StoreUnavailable};
use crate::response::json_response;
use crate::verify::Delivery;

/// Middleware that makes each delivery take effect once; see [`DedupeLayer`](super::DedupeLayer).
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

    define_inner_service_accessors!();
}

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
    type Future = ResponseFuture<Self::Response, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let store = self.store.clone();
        let (lease, retention) = (self.lease, self.retention);
        ResponseFuture::new(async move {
            // The store keys on the endpoint and the id: Svix sends one id to every endpoint.
            // During a secret rotation a delivery has a key per secret (`Delivery::keys`): the
            // claim is on the first in sorted order, the same whatever the order of an instance's
            // secrets, so two instances configured in either order never both run the handler.
            let Some((id, keys)) = request
                .extensions()
                .get::<Delivery>()
                .map(|delivery| (delivery.id().to_owned(), delivery.sorted_keys()))
            else {
                let rejection = MissingWebhookLayer::dedupe();
                rejection.log();
                return Ok(rejection.response().map(ResponseBody::json));
            };
            // A verified delivery has at least one key: its own.
            let (key, other_keys) = (&keys[0], &keys[1..]);
            // Processed under another secret's namespace (before the rotation).
            let mut done_before = Ok(false);
            for other in other_keys {
                done_before = store.is_done(other).await;
                if !matches!(done_before, Ok(false)) {
                    break;
                }
            }
            let claimed = match done_before {
                Ok(true) => {
                    // Known under every key from now on, so still known once that secret goes.
                    mark_done(&store, &keys, &ClaimToken::new(), retention, &id).await;
                    Ok(Claim::Done)
                }
                Ok(false) => store.claim(key, lease).await,
                Err(err) => Err(err),
            };
            let token = match claimed {
                Ok(Claim::Claimed(token)) => token,
                Ok(Claim::Done) => {
                    metrics::dedupe("duplicate");
                    info!(svix_id = %id, "clerk webhook: duplicate delivery, already processed");
                    let body = serde_json::json!({"duplicate": true, "svix_id": id,
                        "message": "already processed"});
                    return Ok(json_response(
                        StatusCode::OK,
                        ResponseBody::json(body.to_string()),
                    ));
                }
                Ok(Claim::InProgress { retry_after }) => {
                    metrics::dedupe("in_progress");
                    let rejection = DeliveryInProgress::new(retry_after.unwrap_or(lease));
                    return Ok(rejection.response().map(ResponseBody::json));
                }
                Err(err) => {
                    metrics::dedupe("store_unavailable");
                    log_store_error(&id, &err);
                    return Ok(StoreUnavailable::new().response().map(ResponseBody::json));
                }
            };
            // Releases the claim if the handler panics or this future is dropped mid-way.
            let mut guard = ClaimGuard {
                store: &store,
                key,
                token: Some(token),
            };
            let outcome = inner.call(request).await;
            let token = guard
                .token
                .take()
                .expect("the guard holds the token until here");
            let succeeded = matches!(&outcome, Ok(response) if response.status().is_success());
            metrics::dedupe(if succeeded { "processed" } else { "failed" });
            let recorded = if succeeded {
                let completed = store.complete(key, &token, retention).await;
                // Marked under the other secrets' namespaces too, so that the mark outlives
                // whichever secret is removed when the rotation ends.
                mark_done(&store, other_keys, &token, retention, &id).await;
                completed.map(|held| log_lost_claim(&id, held))
            } else {
                store.release(key, &token).await
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

/// Marks each of `keys` done for `retention` (a delivery's other keys, during a secret rotation).
/// A failure is logged and leaves that key unmarked: the delivery's own answer stands.
async fn mark_done<St: DedupeStore>(
    store: &St,
    keys: &[String],
    token: &ClaimToken,
    retention: Duration,
    id: &str,
) {
    for key in keys {
        if let Err(err) = store.complete(key, token, retention).await {
            log_store_error(id, &err);
        }
    }
}

struct ClaimGuard<'a, St: DedupeStore> {
    store: &'a St,
    key: &'a str,
    token: Option<ClaimToken>,
}

impl<St: DedupeStore> Drop for ClaimGuard<'_, St> {
    fn drop(&mut self) {
        if let Some(token) = self.token.take() {
            self.store.abandon(self.key.to_owned(), token);
        }
    }
}

/// A handler that outlived its lease may have run beside a retry that another instance (or this
/// one) claimed after the lease: the operator should know, and make the lease longer.
#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
fn log_lost_claim(id: &str, held: bool) {
    if !held {
        warn!(
            svix_id = %id,
            "clerk webhook: another attempt claimed or completed this delivery after its lease \
             expired, before the handler finished (the lease is shorter than the handler); it \
             may have run twice"
        );
    }
}

#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
fn log_store_error(id: &str, err: &StoreError) {
    error!(svix_id = id, error = %err, "clerk webhook de-duplication store failed");
}
