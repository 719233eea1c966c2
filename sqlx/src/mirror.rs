//! The ready mirror: users, organizations and memberships, kept in the app's database.

use serde::Deserialize;
use serde_json::value::RawValue;

use clerk_webhooks::{parse_event, ClerkEvent, Delivery};

use super::change::{Admission, Change};
use super::database::{MirrorRow, SyncDatabase, MEMBERSHIPS, ORGANIZATIONS, USERS};
use super::inbox::{Inbox, InboxTransaction};
use super::synced::Synced;
use super::SyncError;

/// A local copy of the app's Clerk users, organizations and memberships, in the tables
/// `clerk_users`, `clerk_organizations` and `clerk_organization_memberships` (a few typed columns
/// and the whole object as JSON), kept right under retries, duplicates, reordering and crashes by
/// the [`Inbox`] and the order guard ([`Change`]).
///
/// A deleted object keeps its row with `deleted_at` set (the deletion's envelope timestamp) and
/// nothing else but what the deletion carried: a user's email and names are gone with it.
///
/// ```no_run
/// use axum::{extract::State, routing::post, Router};
/// use bytes::Bytes;
/// use clerk_webhooks_sqlx::{Mirror, SyncError, Synced};
/// use clerk_webhooks::{ClerkWebhookLayer, Delivery};
/// use sqlx::Sqlite;
///
/// async fn clerk(State(mirror): State<Mirror<Sqlite>>, delivery: Delivery, body: Bytes) -> Result<Synced, SyncError> {
///     mirror.apply(&delivery, &body).await
/// }
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool};
/// // WAL: readers do not block the writer; the busy timeout lets concurrent deliveries queue.
/// let options = SqliteConnectOptions::new()
///     .filename("app.db")
///     .create_if_missing(true)
///     .journal_mode(SqliteJournalMode::Wal)
///     .busy_timeout(std::time::Duration::from_secs(5));
/// let mirror = Mirror::new(SqlitePool::connect_with(options).await?);
/// mirror.inbox().migrate().await?;
/// // Reads CLERK_WEBHOOK_SIGNING_SECRET (or CLERK_WEBHOOK_SECRET).
/// let app: Router = Router::new()
///     .route("/webhooks/clerk", post(clerk))
///     .with_state(mirror)
///     .layer(ClerkWebhookLayer::from_env()?);
/// # Ok(()) }
/// ```
pub struct Mirror<DB: SyncDatabase> {
    inbox: Inbox<DB>,
}

impl<DB: SyncDatabase> Mirror<DB> {
    /// A mirror in the database behind `pool`, with a default [`Inbox`].
    pub fn new(pool: sqlx::Pool<DB>) -> Self {
        Self::with_inbox(Inbox::new(pool))
    }

    /// A mirror whose deliveries go through `inbox` (to set its retention or clock).
    pub fn with_inbox(inbox: Inbox<DB>) -> Self {
        clerk_webhooks::__private::metrics::describe();
        Self { inbox }
    }

    /// The inbox, to [`migrate`](Inbox::migrate) or to [`begin`](Inbox::begin) a delivery whose
    /// transaction also holds the app's own writes (see [`write`](Self::write)).
    pub fn inbox(&self) -> &Inbox<DB> {
        &self.inbox
    }

    /// Applies one verified delivery (`body` exactly as Clerk sent it) to the mirror, exactly once.
    ///
    /// A queue worker (clerk-webhooks-redis's `Worker`) applies its job the same way: the job is
    /// the delivery.
    ///
    /// ```
    /// use clerk_webhooks::queue::QueuedDelivery;
    /// use clerk_webhooks_sqlx::{Mirror, SyncDatabase, SyncError, Synced};
    ///
    /// /// A queue worker's handler: an error fails the job, and the worker retries it.
    /// async fn sync_job<DB: SyncDatabase>(job: QueuedDelivery, mirror: &Mirror<DB>) -> Result<Synced, SyncError> {
    ///     mirror.apply(&job.delivery(), job.body.as_bytes()).await
    /// }
    /// ```
    ///
    /// A delivery that no retry can apply (see [`SyncError::is_permanent`]: a value the database
    /// refuses for good, an event without id or version) is recorded in
    /// `clerk_webhooks_failed_deliveries` instead, logged at `error` and answered
    /// [`Synced::Unstorable`], so that Svix does not retry it for 28 hours.
    ///
    /// # Errors
    ///
    /// [`SyncError`]: nothing was kept; answer 5xx and Svix retries.
    pub async fn apply(&self, delivery: &Delivery, body: &[u8]) -> Result<Synced, SyncError> {
        let applied = self.apply_once(delivery, body).await;
        clerk_webhooks::__private::metrics::sync(
            applied.as_ref().map_or("failed", |synced| synced.as_str()),
        );
        applied
    }

    async fn apply_once(&self, delivery: &Delivery, body: &[u8]) -> Result<Synced, SyncError> {
        let Some(mut tx) = self.inbox.begin(delivery).await? else {
            return Ok(Synced::Duplicate);
        };
        match Self::write(&mut tx, body).await {
            Ok(synced) => {
                tx.commit().await?;
                Ok(synced)
            }
            Err(err) if err.is_permanent() => tx.set_aside(body, err).await,
            Err(err) => Err(err),
        }
    }

    /// Writes a delivery's change to the mirror inside a transaction the caller commits, so the
    /// app's own writes for the same delivery commit (or roll back) with it.
    ///
    /// ```no_run
    /// # #[cfg(feature = "postgres")]
    /// # async fn clerk(
    /// #     mirror: &clerk_webhooks_sqlx::Mirror<sqlx::Postgres>,
    /// #     delivery: &clerk_webhooks::Delivery,
    /// #     body: &[u8],
    /// # ) -> Result<clerk_webhooks_sqlx::Synced, clerk_webhooks_sqlx::SyncError> {
    /// use clerk_webhooks_sqlx::{Mirror, Synced};
    ///
    /// let Some(mut tx) = mirror.inbox().begin(delivery).await? else {
    ///     return Ok(Synced::Duplicate);
    /// };
    /// let synced = match Mirror::write(&mut tx, body).await {
    ///     Ok(synced) => synced,
    ///     // A value the database refuses for good: recorded, and Svix stops retrying.
    ///     Err(err) if err.is_permanent() => return tx.set_aside(body, err).await,
    ///     Err(err) => return Err(err),
    /// };
    /// if synced == Synced::Applied {
    ///     sqlx::query("INSERT INTO audit (what) VALUES ('a user changed')")
    ///         .execute(&mut *tx)
    ///         .await?;
    /// }
    /// tx.commit().await?;
    /// Ok(synced)
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// [`SyncError`]: drop the transaction and answer 5xx, or, when it
    /// [`is_permanent`](SyncError::is_permanent), end the transaction with
    /// [`InboxTransaction::set_aside`].
    pub async fn write(tx: &mut InboxTransaction<DB>, body: &[u8]) -> Result<Synced, SyncError> {
        use ClerkEvent::*;
        let (event, meta) = parse_event(body)?.into_parts();
        let Some(change) = Change::of(&event, &meta)? else {
            return Ok(Synced::Ignored);
        };
        // A membership and its user's or organization's deletion are decided one after the other.
        let owners: Vec<String> = match &event {
            UserDeleted(_) => vec![format!("user:{}", change.id())],
            OrganizationDeleted(_) => vec![format!("organization:{}", change.id())],
            OrganizationMembershipCreated(membership)
            | OrganizationMembershipUpdated(membership)
            | OrganizationMembershipDeleted(membership) => {
                let mut owners = vec![format!("organization:{}", membership.organization.id)];
                owners.extend(membership.user_id().map(|user| format!("user:{user}")));
                // One order for every transaction: no two wait on each other.
                owners.sort();
                owners
            }
            _ => Vec::new(),
        };
        DB::lock_owners(tx, &owners).await?;
        match tx.admit(&change).await? {
            Admission::Apply => {}
            Admission::Stale => return Ok(Synced::Stale),
            Admission::Deleted => return Ok(Synced::Deleted),
        }
        #[derive(Deserialize)]
        struct Data<'a> {
            #[serde(borrow)]
            data: &'a RawValue,
        }
        let Data { data } = serde_json::from_slice(body)
            .map_err(|err| clerk_webhooks::__private::invalid_envelope(&err))?;
        let deleted_at = change.is_deletion().then_some(change.version());
        let gone = [None; 5];
        let (table, texts, created_at, updated_at) = match &event {
            UserCreated(user) | UserUpdated(user) => (
                &USERS,
                [
                    user.primary_email(),
                    user.first_name.as_deref(),
                    user.last_name.as_deref(),
                    user.username.as_deref(),
                    user.image_url.as_deref(),
                ],
                user.created_at,
                user.updated_at,
            ),
            // What a deletion carries of a user or an organization is its id.
            UserDeleted(_) => (&USERS, gone, None, None),
            OrganizationCreated(org) | OrganizationUpdated(org) => (
                &ORGANIZATIONS,
                [
                    org.name.as_deref(),
                    org.slug.as_deref(),
                    org.image_url.as_deref(),
                    None,
                    None,
                ],
                org.created_at,
                org.updated_at,
            ),
            // An organization's deletion carries its slug too.
            OrganizationDeleted(deleted) => (
                &ORGANIZATIONS,
                [None, deleted.slug.as_deref(), None, None, None],
                None,
                None,
            ),
            // A deleted membership is sent whole, so its row keeps whom it joined to what.
            OrganizationMembershipCreated(membership)
            | OrganizationMembershipUpdated(membership)
            | OrganizationMembershipDeleted(membership) => (
                &MEMBERSHIPS,
                [
                    Some(membership.organization.id.as_str()),
                    membership.user_id(),
                    membership.role.as_deref(),
                    None,
                    None,
                ],
                membership.created_at,
                membership.updated_at,
            ),
            // `Change::of` gives a change for the kinds above only.
            _ => return Ok(Synced::Ignored),
        };
        let row = MirrorRow {
            table,
            id: change.id(),
            texts,
            created_at,
            updated_at,
            deleted_at,
            data,
        };
        DB::write(tx, &row).await?;
        // A membership cannot outlive its user or its organization.
        match &event {
            UserDeleted(_) | OrganizationDeleted(_) => {
                DB::end_memberships(tx, change.kind(), change.id(), change.version()).await?;
            }
            OrganizationMembershipCreated(_) | OrganizationMembershipUpdated(_) => {
                DB::inherit_deletion(tx, change.id()).await?;
            }
            _ => {}
        }
        Ok(Synced::Applied)
    }
}

impl<DB: SyncDatabase> Clone for Mirror<DB> {
    fn clone(&self) -> Self {
        Self {
            inbox: self.inbox.clone(),
        }
    }
}

impl<DB: SyncDatabase> std::fmt::Debug for Mirror<DB> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mirror")
            .field("inbox", &self.inbox)
            .finish()
    }
}
