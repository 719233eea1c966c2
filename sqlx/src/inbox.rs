//! The transactional inbox: a delivery's id committed with the handler's own writes.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clerk_webhooks::Delivery;

use super::change::{Admission, Change, ObjectKind};
use super::database::{FailedDelivery, SyncDatabase};
use super::synced::Synced;
use super::SyncError;
use clerk_webhooks::__private::log::{error, warn};

/// How long the inbox remembers a delivery: a week, well past Svix's last retry (about 28 hours
/// after the first attempt). A delivery replayed by hand after that is applied again; the order
/// guard still keeps such a replay from overwriting newer data.
pub const DEFAULT_INBOX_RETENTION: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// How long a delivery waits for a database connection by default: 2 seconds, so that a database
/// that is down is answered `503` long before Svix gives up on the attempt (15 s).
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);

/// How often a committing delivery also deletes a batch of expired inbox rows.
const PURGE_EVERY: Duration = Duration::from_secs(60);
/// Rows deleted per batch: a short statement, and 1 440 batches a day outpace any real volume.
const PURGE_BATCH: i64 = 1000;

type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// Processes each verified delivery exactly once in the app's database.
///
/// [`begin`](Self::begin) opens a transaction and records the delivery's key in it; the handler
/// makes its writes through the same transaction; [`commit`](InboxTransaction::commit) makes
/// the record and the writes durable together. A retry or a duplicate of a committed delivery
/// finds the record and gets `None`: answer 2xx without running the handler. A handler that fails
/// drops the transaction (or returns the error with `?`): nothing is kept, the delivery is not
/// recorded, and Svix's retry runs the handler again. Two instances receiving the same delivery at
/// once never both commit: the second waits on the first's record and then sees it.
///
/// ```no_run
/// # #[cfg(feature = "sqlite")]
/// # async fn handler(
/// #     inbox: clerk_webhooks_sqlx::Inbox<sqlx::Sqlite>,
/// #     delivery: clerk_webhooks::Delivery,
/// #     event: clerk_webhooks::ClerkEvent,
/// # ) -> Result<(), clerk_webhooks_sqlx::SyncError> {
/// use clerk_webhooks::ClerkEvent;
///
/// let Some(mut tx) = inbox.begin(&delivery).await? else {
///     return Ok(()); // processed before: answer 200 and do nothing
/// };
/// if let ClerkEvent::UserCreated(user) = &event {
///     sqlx::query("INSERT INTO welcome_emails (user_id) VALUES ($1)")
///         .bind(&user.id)
///         .execute(&mut *tx)
///         .await?;
/// }
/// tx.commit().await?; // the email is queued exactly once
/// # Ok(())
/// # }
/// ```
pub struct Inbox<DB: SyncDatabase> {
    pool: sqlx::Pool<DB>,
    acquire_timeout: Duration,
    retention: Duration,
    clock: Option<Clock>,
    next_purge_ms: Arc<AtomicI64>,
}

impl<DB: SyncDatabase> Inbox<DB> {
    /// An inbox in the database behind `pool`. Create its tables once with
    /// [`migrate`](Self::migrate).
    pub fn new(pool: sqlx::Pool<DB>) -> Self {
        Self {
            pool,
            acquire_timeout: DEFAULT_ACQUIRE_TIMEOUT,
            retention: DEFAULT_INBOX_RETENTION,
            clock: None,
            next_purge_ms: Arc::new(AtomicI64::new(i64::MIN)),
        }
    }

    /// Remembers each delivery for `retention` instead of [`DEFAULT_INBOX_RETENTION`]. Keep it
    /// longer than Svix retries (about 28 hours).
    pub fn with_retention(mut self, retention: Duration) -> Self {
        self.retention = retention;
        self
    }

    /// How long a delivery waits for a connection before it is answered
    /// [`SyncError::Unavailable`] (`503`, Svix retries), instead of
    /// [`DEFAULT_ACQUIRE_TIMEOUT`]. sqlx's own pool waits 30 s by default, twice as long as Svix
    /// waits for an answer.
    pub fn with_acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }

    /// Reads the time from `clock` instead of the system clock (for tests of the retention).
    pub fn with_clock(mut self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// The pool the inbox uses.
    pub fn pool(&self) -> &sqlx::Pool<DB> {
        &self.pool
    }

    /// Creates the sync's tables (inbox, order guard and mirror) where they do not exist yet. Safe
    /// to run at every start, from several instances at once.
    ///
    /// # Errors
    ///
    /// The database's, when it cannot be reached or the user may not create tables.
    pub async fn migrate(&self) -> Result<(), SyncError> {
        Ok(DB::migrate(&self.pool).await?)
    }

    /// Opens a transaction for `delivery` and records it there, or returns `None` when it was
    /// processed before (a retry, a duplicate, a replay within the retention).
    ///
    /// # Errors
    ///
    /// The database's: answer 5xx so that Svix retries.
    pub async fn begin(
        &self,
        delivery: &Delivery,
    ) -> Result<Option<InboxTransaction<DB>>, SyncError> {
        let begun = tokio::time::timeout(self.acquire_timeout, self.pool.begin()).await;
        let Ok(begun) = begun else {
            return Err(SyncError::Unavailable {
                waited: self.acquire_timeout,
            });
        };
        let mut tx = begun?;
        let now = self.now_ms();
        if let Some(recorded_now) = self.claim(&mut tx, delivery, now).await? {
            if recorded_now {
                // Best effort: the answer is `duplicate` whether or not this commit lands.
                let _ = tx.commit().await;
            }
            return Ok(None);
        }
        Ok(Some(InboxTransaction {
            tx,
            inbox: self.clone(),
            delivery: delivery.clone(),
            admitted: Vec::new(),
        }))
    }

    /// Records `delivery` in `tx` under every key it has (one, unless a secret rotation is under
    /// way), so that the record outlives either secret. `None` when it is new; `Some` when any
    /// key was recorded before, by a committed transaction or (after waiting for it) a running
    /// one: a duplicate, with whether keys it lacked were recorded now (commit them, so that the
    /// delivery is still known once the secret it was first recorded under is removed).
    async fn claim(
        &self,
        tx: &mut sqlx::Transaction<'static, DB>,
        delivery: &Delivery,
        now: i64,
    ) -> Result<Option<bool>, SyncError> {
        let (mut recorded_before, mut recorded_now) = (false, false);
        for key in &delivery.sorted_keys() {
            let fresh = DB::claim(tx, key, now).await?;
            recorded_now |= fresh;
            recorded_before |= !fresh;
        }
        Ok(recorded_before.then_some(recorded_now))
    }

    /// [`InboxTransaction::set_aside`], once the delivery's transaction is rolled back.
    pub(crate) async fn set_aside(
        &self,
        delivery: &Delivery,
        body: &[u8],
        error: SyncError,
    ) -> Result<Synced, SyncError> {
        let Some((reason, sqlstate, detail)) = error.set_aside_reason() else {
            return Err(error);
        };
        #[derive(serde::Deserialize)]
        struct Type<'a> {
            #[serde(rename = "type", borrow)]
            event_type: Option<std::borrow::Cow<'a, str>>,
        }
        let event_type = serde_json::from_slice::<Type<'_>>(body)
            .ok()
            .and_then(|parsed| parsed.event_type);
        let Some(mut tx) = self.begin(delivery).await? else {
            return Ok(Synced::Duplicate);
        };
        let failed = FailedDelivery {
            key: &delivery.key(),
            svix_id: delivery.id(),
            event_type: event_type.as_deref(),
            failed_at: self.now_ms(),
            reason,
            sqlstate: sqlstate.as_deref(),
            detail: detail.as_deref(),
            body,
        };
        DB::set_aside(&mut tx, &failed).await?;
        tx.commit().await?;
        error!(
            reason,
            sqlstate = sqlstate.as_deref(),
            event_type = event_type.as_deref(),
            svix_id = delivery.id(),
            "clerk webhook delivery cannot be applied by any retry; recorded in \
             clerk_webhooks_failed_deliveries and answered 200 so that Svix stops retrying"
        );
        Ok(Synced::Unstorable)
    }

    /// Deletes every delivery recorded longer ago than the retention, in batches, and returns how
    /// many. Committing deliveries already do this a batch at a time (at most once a minute per
    /// `Inbox`); call it yourself after a long pause in traffic or from a scheduled task.
    ///
    /// # Errors
    ///
    /// The database's.
    pub async fn purge(&self) -> Result<u64, SyncError> {
        let before = self.expiry_ms();
        let mut total = 0;
        loop {
            let deleted = DB::purge(&self.pool, before, PURGE_BATCH).await?;
            total += deleted;
            if deleted < PURGE_BATCH as u64 {
                return Ok(total);
            }
        }
    }

    /// One batch of [`purge`](Self::purge) when a minute has passed since the last one.
    async fn purge_when_due(&self) {
        let now = self.now_ms();
        let due = self.next_purge_ms.load(Ordering::Relaxed);
        let next = now.saturating_add(PURGE_EVERY.as_millis() as i64);
        if now < due
            || self
                .next_purge_ms
                .compare_exchange(due, next, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        // The delivery is committed; a failed cleanup is retried a minute later and must not
        // turn its answer into an error.
        // `_err`: without the `tracing` feature the log is compiled out.
        if let Err(_err) = DB::purge(&self.pool, self.expiry_ms(), PURGE_BATCH).await {
            warn!(error = %_err, "clerk webhook inbox: deleting expired deliveries failed");
        }
    }

    fn now_ms(&self) -> i64 {
        let now = self
            .clock
            .as_ref()
            .map_or_else(SystemTime::now, |clock| clock());
        now.duration_since(UNIX_EPOCH).map_or(0, |since| {
            i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
        })
    }

    fn expiry_ms(&self) -> i64 {
        let retention = i64::try_from(self.retention.as_millis()).unwrap_or(i64::MAX);
        self.now_ms().saturating_sub(retention)
    }
}

impl<DB: SyncDatabase> Clone for Inbox<DB> {
    fn clone(&self) -> Self {
        Self {
            pool: self.pool.clone(),
            acquire_timeout: self.acquire_timeout,
            retention: self.retention,
            clock: self.clock.clone(),
            next_purge_ms: Arc::clone(&self.next_purge_ms),
        }
    }
}

// The pool's own `Debug` may show connection options; the inbox shows only its settings.
impl<DB: SyncDatabase> fmt::Debug for Inbox<DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inbox")
            .field("acquire_timeout", &self.acquire_timeout)
            .field("retention", &self.retention)
            .field(
                "clock",
                &if self.clock.is_some() {
                    "custom"
                } else {
                    "system"
                },
            )
            .finish_non_exhaustive()
    }
}

/// A delivery's transaction: the inbox record and the handler's writes, committed together.
///
/// It dereferences to the database connection, so queries run in it with `.execute(&mut *tx)`.
/// Dropped without [`commit`](Self::commit), it rolls back and the delivery stays unprocessed.
pub struct InboxTransaction<DB: SyncDatabase> {
    tx: sqlx::Transaction<'static, DB>,
    inbox: Inbox<DB>,
    /// The delivery it records, to set aside if no retry can apply it.
    delivery: Delivery,
    /// The guard's last answer about each object in this transaction: asking again about that
    /// same change (the mirror asked, then the app's own code) gets the same answer, not `Stale`
    /// for its own admission; any other change of the object asks the database.
    admitted: Vec<(ObjectKind, String, i64, bool, Admission)>,
}

impl<DB: SyncDatabase> InboxTransaction<DB> {
    /// Asks the order guard whether `change` is newer than what was applied to its object, and
    /// records it when it is; see [`Change`] for the versions and ties. Write the change only when
    /// the answer [`applies`](Admission::applies). The guard's record commits with the
    /// transaction, and holds the object's row until then, so concurrent deliveries about one
    /// object are applied one after the other.
    ///
    /// One admission per change and transaction: asking again about the same change gets the
    /// first answer, so code of your own after [`Mirror::write`](super::Mirror::write) in the same
    /// transaction sees `Apply` where the mirror did, rather than `Stale` for the mirror's own
    /// record.
    ///
    /// # Errors
    ///
    /// The database's.
    pub async fn admit(&mut self, change: &Change<'_>) -> Result<Admission, SyncError> {
        let last = self
            .admitted
            .iter()
            .position(|(kind, id, ..)| *kind == change.kind() && id == change.id());
        if let Some(index) = last {
            let (.., version, deletion, admission) = &self.admitted[index];
            if (*version, *deletion) == (change.version(), change.is_deletion()) {
                return Ok(*admission);
            }
        }
        let admission = DB::admit(&mut self.tx, change).await?;
        let entry = (
            change.kind(),
            change.id().to_owned(),
            change.version(),
            change.is_deletion(),
            admission,
        );
        match last {
            Some(index) => self.admitted[index] = entry,
            None => self.admitted.push(entry),
        }
        Ok(admission)
    }

    /// Ends a delivery that no retry can apply (`error` is
    /// [permanent](SyncError::is_permanent)): rolls the transaction back, records the delivery in
    /// `clerk_webhooks_failed_deliveries` (its body exactly as received, the reason, and the
    /// database's code and message) with its inbox record, so that retries are answered
    /// [`Synced::Duplicate`], logs it at `error` (the reason and code, never the data) and returns
    /// [`Synced::Unstorable`]: answer 2xx, and Svix stops retrying what cannot succeed. Once the
    /// cause is fixed, apply a recorded delivery again from its `body`.
    ///
    /// # Errors
    ///
    /// `error` itself when it is not permanent (answer 5xx: a retry may succeed), or the
    /// database's when the record cannot be written.
    pub async fn set_aside(self, body: &[u8], error: SyncError) -> Result<Synced, SyncError> {
        let Self {
            tx,
            inbox,
            delivery,
            ..
        } = self;
        if !error.is_permanent() {
            return Err(error);
        }
        // Before the record, which claims the same keys: a transaction still open would hold
        // them. A rollback that fails leaves the transaction to the server, which ends it with
        // the connection.
        let _ = tx.rollback().await;
        inbox.set_aside(&delivery, body, error).await
    }

    /// Commits the delivery's record and every write made through the transaction.
    ///
    /// # Errors
    ///
    /// The database's refusal: nothing was kept, so answer 5xx and Svix retries; or
    /// [`SyncError::CommitUnconfirmed`] when the connection failed mid-commit (the retry finds
    /// the delivery's record if it was kept).
    pub async fn commit(self) -> Result<(), SyncError> {
        self.tx.commit().await.map_err(|err| {
            // The connection failed mid-commit (closed, or ended by the server: PostgreSQL's
            // SQLSTATE classes 08 and 57): it may have been kept. Any other refusal by the
            // database rolled the transaction back.
            let refused = err.as_database_error().is_some_and(|refusal| {
                !refusal
                    .code()
                    .is_some_and(|code| code.starts_with("08") || code.starts_with("57"))
            });
            if refused {
                SyncError::Database(err)
            } else {
                SyncError::CommitUnconfirmed(err)
            }
        })?;
        self.inbox.purge_when_due().await;
        Ok(())
    }
}

impl<DB: SyncDatabase> Deref for InboxTransaction<DB> {
    type Target = DB::Connection;

    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl<DB: SyncDatabase> DerefMut for InboxTransaction<DB> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

impl<DB: SyncDatabase> fmt::Debug for InboxTransaction<DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InboxTransaction").finish_non_exhaustive()
    }
}
