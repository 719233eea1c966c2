//! The middleware service.

use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::CONTENT_LENGTH;
use http::{Request, Response};
use http_body::Body;
use tower_service::Service;

use super::config::Config;
use super::future::ResponseFuture;
use super::{BodyBuffer, ClerkWebhookLayer, Rejection, ResponseBody, WebhookBody};
use crate::verify::{Verifier, VerifyError};

/// The boxed error type request bodies may fail with.
///
/// ```
/// use clerk_webhooks::layer::BoxError;
///
/// let err: BoxError = "connection reset".into();
/// assert_eq!(err.to_string(), "connection reset");
/// ```
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Middleware that verifies Clerk webhook deliveries; see [`ClerkWebhookLayer`].
///
/// Usable without axum: here with a plain `tower::service_fn` handler.
///
/// ```
/// use std::convert::Infallible;
///
/// use clerk_webhooks::layer::WebhookBody;
/// use clerk_webhooks::{ClerkEvent, ClerkWebhookLayer, SigningSecret, Verifier};
/// use http::{Request, Response};
/// use http_body_util::{BodyExt, Full};
/// use tower::{service_fn, ServiceBuilder, ServiceExt};
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
/// let service = ServiceBuilder::new().layer(ClerkWebhookLayer::new(verifier)).service(handler);
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
    /// Wraps `inner`, verifying with `verifier` and the default settings.
    ///
    /// ```
    /// # use clerk_webhooks::{layer::ClerkWebhook, SigningSecret, Verifier};
    /// let verifier = Verifier::new(SigningSecret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?);
    /// let service = ClerkWebhook::new(tower::service_fn(|_: http::Request<clerk_webhooks::layer::WebhookBody>| async {
    ///     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
    /// }), verifier);
    /// # Ok::<(), clerk_webhooks::SecretError>(())
    /// ```
    pub fn new(inner: S, verifier: Verifier) -> Self {
        tower_layer::Layer::layer(&ClerkWebhookLayer::new(verifier), inner)
    }

    pub(crate) fn from_config(inner: S, config: Arc<Config>) -> Self {
        Self { inner, config }
    }

    /// A [`ClerkWebhookLayer`] verifying with `verifier`, to configure further.
    ///
    /// ```
    /// # use clerk_webhooks::{layer::ClerkWebhook, SigningSecret, Verifier};
    /// let verifier = Verifier::new(SigningSecret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?);
    /// let layer = ClerkWebhook::<()>::layer(verifier).body_limit(4096);
    /// # Ok::<(), clerk_webhooks::SecretError>(())
    /// ```
    pub fn layer(verifier: Verifier) -> ClerkWebhookLayer {
        ClerkWebhookLayer::new(verifier)
    }

    /// The inner service.
    ///
    /// ```
    /// use clerk_webhooks::{ClerkWebhookLayer, SigningSecret, Verifier};
    /// use tower::Layer;
    ///
    /// let verifier = Verifier::new(SigningSecret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?);
    /// let service = ClerkWebhookLayer::new(verifier).layer("inner");
    /// assert_eq!(*service.get_ref(), "inner");
    /// # Ok::<(), clerk_webhooks::SecretError>(())
    /// ```
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    ///
    /// ```
    /// use clerk_webhooks::{ClerkWebhookLayer, SigningSecret, Verifier};
    /// use tower::Layer;
    ///
    /// let verifier = Verifier::new(SigningSecret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?);
    /// let mut service = ClerkWebhookLayer::new(verifier).layer(1);
    /// *service.get_mut() += 1;
    /// assert_eq!(*service.get_ref(), 2);
    /// # Ok::<(), clerk_webhooks::SecretError>(())
    /// ```
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service.
    ///
    /// ```
    /// use clerk_webhooks::{ClerkWebhookLayer, SigningSecret, Verifier};
    /// use tower::Layer;
    ///
    /// let verifier = Verifier::new(SigningSecret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?);
    /// let service = ClerkWebhookLayer::new(verifier).layer("inner");
    /// assert_eq!(service.into_inner(), "inner");
    /// # Ok::<(), clerk_webhooks::SecretError>(())
    /// ```
    pub fn into_inner(self) -> S {
        self.inner
    }
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

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let (parts, body) = request.into_parts();
        let length = content_length(&parts.headers);
        if let Err(rejection) = refuse_early(&self.config, &parts.headers, length, &body) {
            return ResponseFuture::rejected(rejection);
        }
        let announced = length.or_else(|| body.size_hint().exact()).unwrap_or(0);
        let buffer = BodyBuffer::new(self.config.body_limit, announced);
        // Call the service that `poll_ready` readied and leave a fresh clone in its place.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        ResponseFuture::buffering(parts, body, buffer, inner, Arc::clone(&self.config))
    }
}

/// What can be refused from the head alone: a body announced larger than the limit (413), and
/// headers or a timestamp that no body could make valid (400).
fn refuse_early<B: Body>(
    config: &Config,
    headers: &http::HeaderMap,
    content_length: Option<u64>,
    body: &B,
) -> Result<(), Rejection> {
    let limit = config.body_limit as u64;
    let announced_too_large =
        content_length.is_some_and(|length| length > limit) || body.size_hint().lower() > limit;
    if announced_too_large {
        let err = VerifyError::PayloadTooLarge {
            limit: config.body_limit,
        };
        return Err(Rejection::verify(err, headers));
    }
    config
        .verifier
        .check_headers(headers)
        .map_err(|err| Rejection::verify(err, headers))
}

fn content_length(headers: &http::HeaderMap) -> Option<u64> {
    headers
        .get(CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}
