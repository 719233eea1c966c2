//! Guides: how to fit the crate into an app, one topic per page, with code that compiles.
//!
//! The [crate's front page](crate) has the quick start, the cargo features and the error codes.
//! The guides, in reading order:
//!
//! 1. [`fitting_in`]: fitting it into an existing app (auth, body limits, timeouts, what the
//!    handler receives, the secret and its rotation).
//! 2. [`idempotency`]: process each delivery once, with `DedupeLayer`.
//! 3. [`process_later`]: answer fast, process later: the `queue` module's `DeliveryQueue` and
//!    `QueueBackend`, and the Redis backend and its workers (clerk-webhooks-redis).
//! 4. [`syncing_users`]: syncing users, organizations and memberships to your database
//!    (clerk-webhooks-sqlx).
//! 5. [`testing_your_handler`]: testing your handler with the test kit (`test-util`).
//! 6. [`operations`]: what it logs, its metrics, the alarms "refused in a row" and "unknown
//!    signer", and what an unauthenticated request can cost.
//! 7. [`without_tower`]: the verifier alone, and the diagnosis of a refusal.

#[doc = include_str!("fitting_in.md")]
pub mod fitting_in {}

#[doc = include_str!("idempotency.md")]
pub mod idempotency {}

#[doc = include_str!("process_later.md")]
pub mod process_later {}

#[doc = include_str!("syncing_users.md")]
pub mod syncing_users {}

#[doc = include_str!("testing_your_handler.md")]
pub mod testing_your_handler {}

#[doc = include_str!("operations.md")]
pub mod operations {}

#[doc = include_str!("without_tower.md")]
pub mod without_tower {}
