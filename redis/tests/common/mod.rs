//! Helpers shared by the integration tests (`tests/integration`): the workspace's own
//! (`clerk-webhooks-test-support`: the secret and clock, signed requests, real servers, this
//! package's examples), and a worker run in the background.

pub mod queue_worker;

pub use clerk_webhooks_test_support::*;
