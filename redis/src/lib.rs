//! Redis for [clerk-webhooks](https://docs.rs/clerk-webhooks): many instances of an app sharing one
//! Redis.
//!
//! - [`RedisStore`]: the [`DedupeStore`](clerk_webhooks::dedupe::DedupeStore) of
//!   [`DedupeLayer`](clerk_webhooks::dedupe::DedupeLayer) across instances: each delivery is
//!   processed once however many instances receive it.
//! - [`queue`]: answer fast, process later: [`RedisQueue`](queue::RedisQueue) is the
//!   [`QueueBackend`](clerk_webhooks::queue::QueueBackend) of the route's
//!   [`DeliveryQueue`](clerk_webhooks::queue::DeliveryQueue), in apalis-redis' key layout, and
//!   [`Worker`](queue::Worker) runs each job once on any number of replicas, through Redis
//!   restarts, with retries and recovery.
//!
//! Redis must keep what it acknowledges: the queue checks at connect that Redis writes an
//! append-only file, and refuses a Redis that would lose jobs on a restart.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[macro_use]
mod macros;

pub mod queue;
mod store;

pub use store::{RedisStore, DEFAULT_KEY_PREFIX};
