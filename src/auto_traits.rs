//! Compile-time checks that the public types can cross threads: a server moves services, futures,
//! bodies and errors between worker threads, so losing `Send` or `Sync` on one of them would break
//! users at their call site. Adding a field that is neither fails here, in this crate's build.

#![allow(dead_code)]

fn send_sync<T: Send + Sync>() {}
fn send<T: Send>() {}

const _: fn() = || {
    use crate::layer::{ClerkWebhook, ResponseBody, UnsupportedEvents, WebhookBody};
    use crate::rejection::{
        BodyError, BodyTooSlow, DeliveryInProgress, InvalidPayload, OutOfMemory, Overloaded,
        PayloadTooLarge, StoreUnavailable, UnsupportedEvent, WebhookRejection,
    };

    send_sync::<crate::SigningSecret>();
    send_sync::<crate::Verifier>();
    send_sync::<crate::Delivery>();
    send_sync::<crate::VerifyError>();
    send_sync::<crate::SecretError>();
    send_sync::<crate::ConfigError>();
    send_sync::<crate::ClerkEvent>();
    send_sync::<crate::EventMeta>();
    send_sync::<crate::ParsedEvent>();
    send_sync::<crate::EventError>();
    send_sync::<crate::ClerkWebhookLayer>();
    send_sync::<ClerkWebhook<()>>();
    send_sync::<WebhookBody>();
    send_sync::<ResponseBody<WebhookBody>>();
    send_sync::<UnsupportedEvents>();
    send_sync::<WebhookRejection>();
    send_sync::<PayloadTooLarge>();
    send_sync::<BodyError>();
    send_sync::<OutOfMemory>();
    send_sync::<Overloaded>();
    send_sync::<BodyTooSlow>();
    send_sync::<InvalidPayload>();
    send_sync::<UnsupportedEvent>();
    send::<crate::layer::ResponseFuture<ServiceStub, WebhookBody>>();
    #[cfg(feature = "axum")]
    send_sync::<crate::rejection::MissingWebhookLayer>();

    send_sync::<crate::dedupe::DedupeLayer<crate::dedupe::MemoryStore>>();
    send_sync::<crate::dedupe::Dedupe<(), crate::dedupe::MemoryStore>>();
    send_sync::<crate::dedupe::MemoryStore>();
    send_sync::<crate::dedupe::Claim>();
    send_sync::<crate::dedupe::ClaimToken>();
    send_sync::<crate::dedupe::StoreError>();
    send::<crate::dedupe::ResponseFuture<(), ()>>();

    send_sync::<crate::queue::DeliveryQueue<BackendStub>>();
    send_sync::<crate::queue::QueuedDelivery>();
    send_sync::<crate::queue::Enqueued>();
    send_sync::<crate::queue::WorkerHealth>();
    send_sync::<crate::queue::RetryPolicy>();
    send_sync::<crate::rejection::QueueUnavailable>();
    send_sync::<DeliveryInProgress>();
    send_sync::<StoreUnavailable>();
    send::<crate::queue::ResponseFuture>();

    #[cfg(feature = "test-util")]
    {
        send_sync::<crate::testing::SignedRequest>();
        send_sync::<crate::testing::Sample>();
    }
};

/// A queue backend, to name the queue route.
#[derive(Clone)]
struct BackendStub;

impl crate::queue::QueueBackend for BackendStub {
    async fn enqueue(
        &self,
        _job: &crate::queue::QueuedDelivery,
        _keys: &[String],
    ) -> Result<crate::queue::Enqueued, crate::BoxError> {
        Ok(crate::queue::Enqueued::Queued)
    }
}

/// A `Send` inner service, to name the layer's future.
#[derive(Clone)]
struct ServiceStub;

impl tower_service::Service<http::Request<crate::layer::WebhookBody>> for ServiceStub {
    type Response = http::Response<crate::layer::WebhookBody>;
    type Error = std::convert::Infallible;
    type Future = std::future::Ready<Result<Self::Response, Self::Error>>;

    fn poll_ready(
        &mut self,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, _request: http::Request<crate::layer::WebhookBody>) -> Self::Future {
        std::future::ready(Ok(
            http::Response::new(crate::layer::WebhookBody::default()),
        ))
    }
}
