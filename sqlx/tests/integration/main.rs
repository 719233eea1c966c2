//! The integration tests of clerk-webhooks-sqlx, in one test binary (one link instead of one per
//! file), on a throwaway PostgreSQL cluster and SQLite files: a module per area, sharing the
//! helpers of `tests/common`. The binary needs the `postgres`, `sqlite` and `axum` features
//! (`Cargo.toml`), and its `metrics` module the `metrics` feature.

#[path = "../common/mod.rs"]
mod common;

#[cfg(feature = "metrics")]
mod metrics;
mod sync;
mod sync_convergence;
