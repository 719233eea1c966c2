#![doc = include_str!("../README.md")]
//!
//! # Where things are
//!
//! - [`RedisStore`]: the [`DedupeStore`](clerk_webhooks::dedupe::DedupeStore) of
//!   [`DedupeLayer`](clerk_webhooks::dedupe::DedupeLayer) across instances: each delivery is
//!   processed once however many instances receive it.
//! - [`queue`]: answer fast, process later: [`RedisQueue`](queue::RedisQueue) is the
//!   [`QueueBackend`](clerk_webhooks::queue::QueueBackend) of the route's
//!   [`DeliveryQueue`](clerk_webhooks::queue::DeliveryQueue), in apalis-redis' key layout, and
//!   [`Worker`](queue::Worker) runs each job once on any number of replicas, through Redis
//!   restarts, with retries and recovery.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![deny(unreachable_pub)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod queue;
mod store;

pub use store::{RedisStore, DEFAULT_KEY_PREFIX};
