//! Compile-time checks that the public types can cross threads: a server moves services, futures,
//! bodies and errors between worker threads, so losing `Send` or `Sync` on one of them would break
//! users at their call site. Adding a field that is neither fails here, in this crate's build.

#![allow(dead_code)]

fn send_sync<T: Send + Sync>() {}
fn send<T: Send>() {}

const _: fn() = || {
    use crate::layer::{
        BodyError, BodyTooSlow, ClerkWebhook, InvalidPayload, OutOfMemory, Overloaded,
        PayloadTooLarge, ResponseBody, UnsupportedEvent, UnsupportedEvents, WebhookBody,
        WebhookRejection,
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
    send_sync::<crate::MissingWebhookLayer>();

    send_sync::<crate::dedupe::DedupeLayer<crate::dedupe::MemoryStore>>();
    send_sync::<crate::dedupe::Dedupe<(), crate::dedupe::MemoryStore>>();
    send_sync::<crate::dedupe::MemoryStore>();
    send_sync::<crate::dedupe::Claim>();
    send_sync::<crate::dedupe::ClaimToken>();
    send_sync::<crate::dedupe::StoreError>();
    #[cfg(any(feature = "postgres", feature = "sqlite"))]
    send_sync::<crate::sync::SyncError>();
    send::<crate::dedupe::ResponseFuture<(), ()>>();
    #[cfg(feature = "redis")]
    send_sync::<crate::dedupe::RedisStore>();

    #[cfg(feature = "queue")]
    {
        send_sync::<crate::queue::DeliveryQueue>();
        send_sync::<crate::queue::QueuedDelivery>();
        send_sync::<crate::queue::ConnectOptions>();
        send_sync::<crate::queue::QueueError>();
        send_sync::<crate::queue::Enqueued>();
        send_sync::<crate::queue::DeadJob>();
        send_sync::<crate::queue::WorkerHealth>();
        send_sync::<crate::queue::Worker>();
        send_sync::<crate::queue::RetryPolicy>();
        send::<crate::queue::ResponseFuture>();
    }

    #[cfg(feature = "postgres")]
    {
        send_sync::<crate::sync::Inbox<sqlx::Postgres>>();
        send_sync::<crate::sync::Mirror<sqlx::Postgres>>();
        send::<crate::sync::InboxTransaction<sqlx::Postgres>>();
    }
    #[cfg(feature = "sqlite")]
    {
        send_sync::<crate::sync::Inbox<sqlx::Sqlite>>();
        send_sync::<crate::sync::Mirror<sqlx::Sqlite>>();
        send::<crate::sync::InboxTransaction<sqlx::Sqlite>>();
    }
    #[cfg(any(feature = "postgres", feature = "sqlite"))]
    {
        send_sync::<crate::sync::SyncError>();
        send_sync::<crate::sync::Synced>();
        send_sync::<crate::sync::Change<'static>>();
        send_sync::<crate::sync::Admission>();
    }

    #[cfg(feature = "test-util")]
    {
        send_sync::<crate::testing::SignedRequest>();
        send_sync::<crate::testing::Sample>();
    }
};

/// The futures of the sync's entry points are `Send`, so an axum handler or a spawned task can
/// await them on any database.
#[cfg(any(feature = "postgres", feature = "sqlite"))]
fn sync_futures_are_send<DB: crate::sync::SyncDatabase>(
    mirror: &crate::sync::Mirror<DB>,
    tx: &mut crate::sync::InboxTransaction<DB>,
    delivery: &crate::Delivery,
) {
    fn send_value<T: Send>(_: T) {}
    send_value(mirror.apply(delivery, b""));
    send_value(mirror.inbox().begin(delivery));
    send_value(mirror.inbox().purge());
    send_value(crate::sync::Mirror::write(tx, b""));
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
