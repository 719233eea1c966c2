//! Helpers shared by the integration tests (`tests/integration`): the workspace's own
//! (`clerk-webhooks-test-support`: the secret and clock, signed requests, real servers, this
//! package's examples).

pub use clerk_webhooks_test_support::*;
