//! Helpers shared by the integration tests (`tests/integration`): the workspace's own
//! (`clerk-webhooks-test-support`: the secret and clock, signed requests, real servers), this
//! package's examples and the databases the sync runs on.

pub mod sync_db;

pub use clerk_webhooks_test_support::*;

/// This package's examples, built and run as a user runs them.
pub mod examples {
    /// Builds this package's example `name` with `features` and returns its executable.
    pub fn example(name: &str, features: &[&str]) -> std::path::PathBuf {
        clerk_webhooks_test_support::example(env!("CARGO_MANIFEST_DIR"), name, features)
    }
}
