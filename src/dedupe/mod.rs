//! Process each Clerk delivery once: [`DedupeLayer`] with a [`DedupeStore`].
//!
//! Svix retries a delivery until it gets a 2xx, for days, with the same `svix-id`, and the Clerk
//! dashboard can replay any message. Behind [`ClerkWebhookLayer`](crate::ClerkWebhookLayer), the
//! de-duplication layer claims each verified id before the handler runs and remembers it once the
//! handler succeeded. Only verified ids reach the store, so forged ids cannot fill or poison it.
//!
//! - [`MemoryStore`]: one process; bounded memory.
//! - `RedisStore` ([clerk-webhooks-redis](https://docs.rs/clerk-webhooks-redis)): many instances
//!   behind a load balancer, sharing one Redis.
//!
//! Svix sends the same `svix-id` to every endpoint subscribed to a message. The layer therefore
//! keys on the endpoint as well as the id ([`Delivery::key`](crate::Delivery::key)): two
//! endpoints (two routes, or two apps, each with its own signing secret) sharing one store keep
//! their deliveries apart with no configuration.

mod future;
mod layer;
mod memory;
mod service;
pub(crate) mod store;

pub use self::future::ResponseFuture;
pub use self::layer::{DedupeLayer, DEFAULT_LEASE, DEFAULT_RETENTION};
pub use self::memory::{MemoryStore, DEFAULT_MAX_ENTRIES};
pub use self::service::Dedupe;
pub use self::store::{Claim, ClaimToken, DedupeStore, StoreError};
