//! The in-process store.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::fmt;
use std::future::{ready, Future};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::store::{Claim, ClaimToken, DedupeStore, StoreError, FOREVER};

/// The default of [`MemoryStore::with_max_entries`].
pub const DEFAULT_MAX_ENTRIES: usize = 100_000;

type Clock = Arc<dyn Fn() -> Instant + Send + Sync>;

/// `now + duration`, never overflowing: past [`FOREVER`] the deadline is a century away, and on a
/// clock that cannot reach a century, a year (never `now`: a lease meant to last would end at once).
fn deadline(now: Instant, duration: Duration) -> Instant {
    let year = Duration::from_secs(365 * 24 * 60 * 60);
    now.checked_add(duration.min(FOREVER))
        .or_else(|| now.checked_add(duration.min(year)))
        .unwrap_or(now)
}

/// Remembers delivery ids in this process: the default store, right for a single instance.
///
/// Memory stays bounded: expired ids are purged as new ones arrive, and beyond
/// [`with_max_entries`](Self::with_max_entries) the processed ids closest to expiry are forgotten first (a
/// very old duplicate may then be processed again; no delivery is ever refused for lack of room).
/// Claims in progress are never forgotten early; they end with their lease.
///
/// ```
/// use clerk_webhooks::dedupe::{Claim, DedupeStore, MemoryStore};
/// use std::time::Duration;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let store = MemoryStore::new();
/// let Claim::Claimed(token) = store.claim("msg_1", Duration::from_secs(60)).await? else { panic!() };
/// assert!(matches!(store.claim("msg_1", Duration::from_secs(60)).await?, Claim::InProgress { .. }));
/// store.complete("msg_1", &token, Duration::from_secs(3600)).await?;
/// assert_eq!(store.claim("msg_1", Duration::from_secs(60)).await?, Claim::Done);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct MemoryStore {
    inner: Arc<Mutex<Entries>>,
    clock: Clock,
}

#[derive(Default)]
struct Entries {
    by_id: HashMap<String, Entry>,
    /// Deadlines, earliest first; stale items (the id moved on) are skipped when popped.
    deadlines: BinaryHeap<Reverse<(Instant, String)>>,
    max_entries: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    state: State,
    deadline: Instant,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Processing(ClaimToken),
    Done,
}

impl MemoryStore {
    /// An empty store holding at most [`DEFAULT_MAX_ENTRIES`] ids.
    ///
    /// ```
    /// use clerk_webhooks::dedupe::MemoryStore;
    ///
    /// assert!(MemoryStore::new().is_empty());
    /// ```
    pub fn new() -> Self {
        Self {
            inner: Arc::new(Mutex::new(Entries {
                max_entries: DEFAULT_MAX_ENTRIES,
                ..Entries::default()
            })),
            clock: Arc::new(Instant::now),
        }
    }

    /// Holds at most `max` ids (at least 1).
    ///
    /// ```
    /// # use clerk_webhooks::dedupe::MemoryStore;
    /// let store = MemoryStore::new().with_max_entries(10_000);
    /// assert_eq!(store.len(), 0);
    /// ```
    #[must_use]
    pub fn with_max_entries(self, max: usize) -> Self {
        self.lock().max_entries = max.max(1);
        self
    }

    /// Reads the time from `clock` instead of `Instant::now`. Meant for tests of leases and
    /// retention.
    ///
    /// ```
    /// # use clerk_webhooks::dedupe::MemoryStore;
    /// use std::time::Instant;
    /// let start = Instant::now();
    /// let store = MemoryStore::new().with_clock(move || start);
    /// ```
    #[must_use]
    pub fn with_clock(mut self, clock: impl Fn() -> Instant + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// How many ids are remembered (done or in progress), expired ones not yet purged included.
    ///
    /// ```
    /// # use clerk_webhooks::dedupe::MemoryStore;
    /// assert!(MemoryStore::new().is_empty());
    /// ```
    pub fn len(&self) -> usize {
        self.lock().by_id.len()
    }

    /// Whether no id is remembered.
    ///
    /// ```
    /// use clerk_webhooks::dedupe::MemoryStore;
    ///
    /// assert!(MemoryStore::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> MutexGuard<'_, Entries> {
        // A panic while holding the lock cannot leave the maps inconsistent (each operation
        // finishes its writes before anything can panic), so a poisoned lock is still usable.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn claim_now(&self, id: &str, lease: Duration) -> Claim {
        let now = (self.clock)();
        let mut entries = self.lock();
        entries.purge(now);
        if let Some(entry) = entries.by_id.get(id) {
            if entry.deadline > now {
                return match entry.state {
                    State::Done => Claim::Done,
                    State::Processing(_) => Claim::InProgress {
                        retry_after: Some(entry.deadline - now),
                    },
                };
            }
        }
        let token = ClaimToken::new();
        entries.set(id, State::Processing(token.clone()), deadline(now, lease));
        Claim::Claimed(token)
    }

    /// Completes (`done_for`) or releases the claim. Completing succeeds while `token` holds the
    /// claim or nobody does (an expired entry is as good as absent, as in Redis, where the key is
    /// gone); releasing removes only `token`'s own claim. Whether it acted.
    fn finish(&self, id: &str, token: &ClaimToken, done_for: Option<Duration>) -> bool {
        let now = (self.clock)();
        let mut entries = self.lock();
        let (ours, taken_over) = match entries.by_id.get(id) {
            Some(Entry {
                state: State::Processing(held),
                ..
            }) if held == token => (true, false),
            Some(entry) => (false, entry.deadline > now),
            None => (false, false),
        };
        match done_for {
            Some(_) if taken_over => false,
            Some(retention) => {
                entries.set(id, State::Done, deadline(now, retention));
                true
            }
            None if ours => {
                entries.by_id.remove(id);
                true
            }
            None => false,
        }
    }
}

impl Entries {
    fn set(&mut self, id: &str, state: State, deadline: Instant) {
        self.by_id.insert(id.to_owned(), Entry { state, deadline });
        self.deadlines.push(Reverse((deadline, id.to_owned())));
        while self.by_id.len() > self.max_entries {
            if !self.pop_earliest() {
                break;
            }
        }
    }

    fn purge(&mut self, now: Instant) {
        while matches!(self.deadlines.peek(), Some(Reverse((deadline, _))) if *deadline <= now) {
            if let Some(Reverse((deadline, id))) = self.deadlines.pop() {
                self.remove_if_due(&id, deadline);
            }
        }
        // Stale heap items pile up when ids are claimed and completed; rebuild when they dominate.
        if self.deadlines.len() > 2 * self.by_id.len() + 1024 {
            self.deadlines = self
                .by_id
                .iter()
                .map(|(id, entry)| Reverse((entry.deadline, id.clone())))
                .collect();
        }
    }

    /// Forgets the done id closest to expiry; false when there is none. Claims in progress are
    /// never evicted: that would let a concurrent duplicate through.
    fn pop_earliest(&mut self) -> bool {
        let mut in_progress = Vec::new();
        let mut evicted = false;
        while let Some(Reverse((deadline, id))) = self.deadlines.pop() {
            match self.by_id.get(&id) {
                Some(entry) if entry.deadline == deadline => {
                    if entry.state == State::Done {
                        self.by_id.remove(&id);
                        evicted = true;
                        break;
                    }
                    in_progress.push(Reverse((deadline, id)));
                }
                _ => {} // stale
            }
        }
        self.deadlines.extend(in_progress);
        evicted
    }

    /// Removes `id` if `deadline` is still its deadline: a heap item is stale once its id was
    /// claimed, completed or released again.
    fn remove_if_due(&mut self, id: &str, deadline: Instant) -> bool {
        let due = self
            .by_id
            .get(id)
            .is_some_and(|entry| entry.deadline == deadline);
        if due {
            self.by_id.remove(id);
        }
        due
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let entries = self.lock();
        f.debug_struct("MemoryStore")
            .field("entries", &entries.by_id.len())
            .field("max_entries", &entries.max_entries)
            .finish()
    }
}

impl DedupeStore for MemoryStore {
    fn claim(
        &self,
        id: &str,
        lease: Duration,
    ) -> impl Future<Output = Result<Claim, StoreError>> + Send {
        ready(Ok(self.claim_now(id, lease)))
    }

    fn complete(
        &self,
        id: &str,
        token: &ClaimToken,
        retention: Duration,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        ready(Ok(self.finish(id, token, Some(retention))))
    }

    fn release(
        &self,
        id: &str,
        token: &ClaimToken,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.finish(id, token, None);
        ready(Ok(()))
    }

    fn abandon(&self, id: String, token: ClaimToken) {
        self.finish(&id, &token, None);
    }

    fn is_done(&self, id: &str) -> impl Future<Output = Result<bool, StoreError>> + Send {
        let now = (self.clock)();
        let done = self
            .lock()
            .by_id
            .get(id)
            .is_some_and(|entry| entry.state == State::Done && entry.deadline > now);
        ready(Ok(done))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expired_entries_are_purged_and_the_size_is_capped() {
        let start = Instant::now();
        let now = Arc::new(Mutex::new(start));
        let clock = now.clone();
        let store = MemoryStore::new()
            .with_max_entries(3)
            .with_clock(move || *clock.lock().unwrap());
        for n in 0..5 {
            let Claim::Claimed(token) =
                store.claim_now(&format!("msg_{n}"), Duration::from_secs(10))
            else {
                panic!()
            };
            store.finish(
                &format!("msg_{n}"),
                &token,
                Some(Duration::from_secs(100 + n)),
            );
        }
        assert_eq!(store.len(), 3, "capped at max_entries");
        // The ids closest to expiry went first.
        assert_eq!(
            store.claim_now("msg_4", Duration::from_secs(1)),
            Claim::Done
        );
        assert!(matches!(
            store.claim_now("msg_0", Duration::from_secs(1)),
            Claim::Claimed(_)
        ));

        *now.lock().unwrap() = start + Duration::from_secs(1000);
        store.claim_now("msg_new", Duration::from_secs(1));
        assert_eq!(store.len(), 1, "everything else expired and was purged");
    }

    #[test]
    fn stale_heap_items_do_not_grow_without_bound() {
        let store = MemoryStore::new();
        for n in 0..10_000 {
            let id = format!("msg_{}", n % 10);
            if let Claim::Claimed(token) = store.claim_now(&id, Duration::from_secs(60)) {
                store.finish(&id, &token, None);
            }
        }
        assert!(store.lock().deadlines.len() <= 2 * 10 + 1024 + 1);
    }

    #[test]
    fn tokens_are_unique() {
        let tokens: std::collections::HashSet<String> = (0..1000)
            .map(|_| ClaimToken::new().as_str().to_owned())
            .collect();
        assert_eq!(tokens.len(), 1000);
    }

    fn stopped_clock() -> (Arc<Mutex<Instant>>, MemoryStore) {
        let now = Arc::new(Mutex::new(Instant::now()));
        let clock = now.clone();
        let store = MemoryStore::new().with_clock(move || *clock.lock().unwrap());
        (now, store)
    }

    #[test]
    fn a_success_after_the_lease_ran_out_is_recorded_when_nobody_else_claimed_the_id() {
        let (now, store) = stopped_clock();
        let Claim::Claimed(token) = store.claim_now("msg_1", Duration::from_millis(300)) else {
            panic!()
        };
        *now.lock().unwrap() += Duration::from_millis(700);
        assert!(store.finish("msg_1", &token, Some(Duration::from_secs(60))));
        assert_eq!(
            store.claim_now("msg_1", Duration::from_secs(1)),
            Claim::Done
        );
    }

    #[test]
    fn a_success_after_another_attempt_took_the_id_over_is_a_lost_claim() {
        let (now, store) = stopped_clock();
        let Claim::Claimed(late) = store.claim_now("msg_1", Duration::from_millis(300)) else {
            panic!()
        };
        *now.lock().unwrap() += Duration::from_millis(400);
        let Claim::Claimed(retry) = store.claim_now("msg_1", Duration::from_secs(10)) else {
            panic!()
        };
        assert!(!store.finish("msg_1", &late, Some(Duration::from_secs(60))));
        // The retry's claim is untouched, and it completes.
        assert!(matches!(
            store.claim_now("msg_1", Duration::from_secs(1)),
            Claim::InProgress { .. }
        ));
        assert!(store.finish("msg_1", &retry, Some(Duration::from_secs(60))));
        // Done by the retry: the late attempt cannot complete or release it either.
        assert!(!store.finish("msg_1", &late, Some(Duration::from_secs(60))));
        assert!(!store.finish("msg_1", &late, None));
        assert_eq!(
            store.claim_now("msg_1", Duration::from_secs(1)),
            Claim::Done
        );
    }

    #[test]
    fn durations_too_long_for_an_instant_hold_for_a_century_without_panicking() {
        let (now, store) = stopped_clock();
        let Claim::Claimed(token) = store.claim_now("msg_1", Duration::MAX) else {
            panic!()
        };
        *now.lock().unwrap() += Duration::from_secs(50 * 365 * 24 * 60 * 60);
        assert!(matches!(
            store.claim_now("msg_1", Duration::MAX),
            Claim::InProgress { .. }
        ));
        assert!(store.finish("msg_1", &token, Some(Duration::MAX)));
        assert_eq!(store.claim_now("msg_1", Duration::MAX), Claim::Done);
    }
}
