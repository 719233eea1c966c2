//! Helpers shared by the integration tests (`tests/integration`): the workspace's own
//! (`clerk-webhooks-test-support`: the secret and clock, signed requests, real servers, this
//! package's examples), and the databases the sync runs on.

pub mod sync_db;

pub use clerk_webhooks_test_support::*;
