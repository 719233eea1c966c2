#![doc = include_str!("../README.md")]
//!
//! # Where things are
//!
//! Three pieces, each usable alone:
//! - the [`Inbox`]: each delivery's id is recorded in the same transaction as the handler's
//!   writes, so everything the handler does in it happens exactly once;
//! - the order guard ([`InboxTransaction::admit`] with a [`Change`]): a created or updated event
//!   applies only if it is newer than what was applied to its object, and a deletion leaves a
//!   tombstone that no late event gets past;
//! - the [`Mirror`]: tables of users, organizations and memberships kept by the two.
//!
//! Svix delivers at least once and in best-effort order, retries for about 28 hours, and the
//! dashboard replays any message at any time; Clerk's own guides call webhook sync eventually
//! consistent. A de-duplication store beside the database cannot make a database write happen
//! once (two systems, no shared transaction), and it cannot see a late event about the same
//! object under another id. The inbox and the guard live in the transaction itself.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![deny(unreachable_pub)]
#![cfg_attr(docsrs, feature(doc_cfg))]
// Without a database feature only the database-independent parts (the change, its admission, the
// error) are built: the SQL machinery waits unused for `postgres` or `sqlite`.
#![cfg_attr(not(any(feature = "postgres", feature = "sqlite")), allow(unused))]

mod change;
mod database;
mod error;
mod inbox;
mod mirror;
mod synced;

pub use change::{Admission, Change, ObjectKind};
pub use database::SyncDatabase;
pub use error::SyncError;
pub use inbox::{Inbox, InboxTransaction, DEFAULT_ACQUIRE_TIMEOUT, DEFAULT_INBOX_RETENTION};
pub use mirror::Mirror;
pub use synced::Synced;
