//! The middleware service.

use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use tower_service::Service;

use super::body::{ResponseBody, WebhookBody};
use super::config::Config;
use super::future::ResponseFuture;
use super::pipeline;
use crate::verify::Verifier;
use crate::BoxError;

/// Middleware that verifies Clerk webhook deliveries; see [`ClerkWebhookLayer`](crate::ClerkWebhookLayer).
///
/// Usable without axum: here with a plain `tower::service_fn` handler.
///
/// ```
/// use std::convert::Infallible;
///
/// use clerk_webhooks::layer::{ClerkWebhook, WebhookBody};
/// use clerk_webhooks::{ClerkEvent, SigningSecret, Verifier};
/// use http::{Request, Response};
/// use http_body_util::{BodyExt, Full};
/// use tower::{service_fn, ServiceExt};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let handler = service_fn(|request: Request<WebhookBody>| async move {
///     let event_type = request.extensions().get::<ClerkEvent>().map(|e| e.event_type().to_owned());
///     Ok::<_, Infallible>(Response::new(Full::from(event_type.unwrap_or_default())))
/// });
/// let verifier = Verifier::new(SigningSecret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?);
/// let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs() as i64;
/// let body = r#"{"type":"user.deleted","data":{"id":"user_1","deleted":true}}"#;
/// let headers = verifier.signed_headers("msg_1", now, body.as_bytes())?;
/// let service = ClerkWebhook::new(handler, verifier);
///
/// let mut request = Request::post("/").body(Full::from(body))?;
/// request.headers_mut().extend(headers);
/// let response = service.oneshot(request).await?;
/// assert_eq!(response.status(), 200);
/// assert_eq!(response.into_body().collect().await?.to_bytes(), "user.deleted");
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct ClerkWebhook<S> {
    inner: S,
    config: Arc<Config>,
}

impl<S> ClerkWebhook<S> {
    /// Wraps `inner`, verifying with `verifier` and the default settings; use
    /// [`ClerkWebhookLayer`](crate::ClerkWebhookLayer) to configure more.
    pub fn new(inner: S, verifier: Verifier) -> Self {
        Self::from_config(inner, Arc::new(Config::new(verifier)))
    }

    pub(crate) fn from_config(inner: S, config: Arc<Config>) -> Self {
        Self { inner, config }
    }

    define_inner_service_accessors!();
}

impl<S, B, ResBody> Service<Request<B>> for ClerkWebhook<S>
where
    S: Service<Request<WebhookBody>, Response = Response<ResBody>> + Clone,
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S, B>;

    /// Always ready: the inner service is readied only once a delivery has verified, so an
    /// unauthenticated upload never holds a permit of a concurrency or rate limit inside.
    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let service = self.inner.clone();
        let config = Arc::clone(&self.config);
        let (parts, body) = request.into_parts();
        match pipeline::refuse_from_head(&config, &parts.headers, &body) {
            Ok((buffer, scheme)) => {
                ResponseFuture::buffering(parts, scheme, body, buffer, service, config)
            }
            Err(refusal) => ResponseFuture::rejected(refusal, service, config),
        }
    }
}
