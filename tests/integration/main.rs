//! The integration tests of clerk-webhooks, in one test binary (one link instead of one per file):
//! a module per area, sharing the helpers of `tests/common`. The tests that must own their process
//! are binaries of their own: `tests/allocations.rs` (a counting global allocator),
//! `tests/stalled_memory.rs` and `tests/unverified_budget.rs` (the live heap of the whole process).

#[path = "../common/mod.rs"]
mod common;

mod dedupe;
mod event_props;
mod events;
mod example_logs;
#[cfg(feature = "metrics")]
mod example_metrics;
mod hostile;
mod layer_axum;
#[cfg(feature = "metrics")]
mod metrics;
mod servers;
mod settings;
mod slow_body;
#[cfg(feature = "tracing")]
mod tracing;
mod verify;
mod verify_props;
