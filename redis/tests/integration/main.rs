//! The integration tests of clerk-webhooks-redis, in one test binary (one link instead of one per
//! file), against real `redis-server`s: a module per area, sharing the helpers of `tests/common`.

#[path = "../common/mod.rs"]
mod common;

mod queue;
mod queue_recovery;
mod store;
