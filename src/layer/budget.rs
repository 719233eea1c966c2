//! The bytes that requests not verified yet may hold, all together.
//!
//! A body limit bounds one request; HTTP/2 lets one connection open hundreds of streams, and a
//! server accepts thousands of connections, so the limit alone multiplies. Every buffer the layer
//! (and each of its clones) fills before verification draws from one shared budget, and gives its
//! share back when the body is verified or dropped.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// The default of [`with_unverified_budget`](crate::ClerkWebhookLayer::with_unverified_budget):
/// 32 MiB, room for about 23 bodies at the default body limit (1 MiB) or thousands of real
/// deliveries (a few KiB each) in flight at once, and a bound far below what a server process can
/// spare. A quarter of it (8 MiB) is kept for bodies of at most 64 KiB: forged near-limit bodies
/// cannot take it, so genuine deliveries keep getting through while they fill the rest.
pub const DEFAULT_UNVERIFIED_BUDGET: usize = 32 * 1024 * 1024;

/// What a body may hold and still draw on the [reserve](UnverifiedBudget::new): 64 KiB, more
/// than a genuine Clerk delivery holds in all but the rarest cases (a user or organization
/// carrying Clerk's maximum metadata).
pub(crate) const SMALL_BODY: usize = 64 * 1024;

/// A shared count of the bytes still free for unverified bodies, and the part of it kept for
/// small bodies.
#[derive(Debug, Clone)]
pub(crate) struct UnverifiedBudget {
    free: Arc<AtomicUsize>,
    reserve: usize,
}

/// The budget has no room for what a body needs next.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Exhausted;

impl UnverifiedBudget {
    /// `bytes` in all, of which bodies larger than [`SMALL_BODY`] may not take the last
    /// `reserve`: forged near-limit bodies can fill the rest, and genuine deliveries (a few KiB)
    /// still get through.
    pub(crate) fn new(bytes: usize, reserve: usize) -> Self {
        Self {
            free: Arc::new(AtomicUsize::new(bytes)),
            reserve: reserve.min(bytes),
        }
    }

    /// A share of nothing yet, for one body.
    pub(crate) fn share(&self) -> Share {
        Share {
            free: Some(Arc::clone(&self.free)),
            reserve: self.reserve,
            held: 0,
        }
    }

    #[cfg(test)]
    pub(crate) fn free(&self) -> usize {
        self.free.load(Ordering::Acquire)
    }
}

/// The part of the budget one body holds; given back when dropped.
#[derive(Debug, Default)]
pub(crate) struct Share {
    /// `None` only for the placeholder left behind by `mem::take`, which holds nothing.
    free: Option<Arc<AtomicUsize>>,
    reserve: usize,
    held: usize,
}

impl Share {
    /// Holds `total` bytes in all, taking the difference from the budget (never giving back: a
    /// buffer only grows until it is handed on).
    pub(crate) fn grow_to(&mut self, total: usize) -> Result<(), Exhausted> {
        let Some(extra) = total.checked_sub(self.held).filter(|&extra| extra > 0) else {
            return Ok(());
        };
        let Some(free) = &self.free else {
            return Err(Exhausted);
        };
        // A large body leaves the reserve to small ones.
        let floor = if total > SMALL_BODY { self.reserve } else { 0 };
        free.fetch_update(Ordering::AcqRel, Ordering::Acquire, |free| {
            free.checked_sub(extra).filter(|&left| left >= floor)
        })
        .map_err(|_| Exhausted)?;
        self.held = total;
        Ok(())
    }
}

impl Drop for Share {
    fn drop(&mut self) {
        if let Some(free) = &self.free {
            free.fetch_add(self.held, Ordering::AcqRel);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 30, item 5: near-limit forged bodies can fill the budget but its reserve, so genuine
    /// deliveries, a few KiB each, still get through.
    #[test]
    fn large_bodies_leave_the_reserve_to_small_ones() {
        let budget = UnverifiedBudget::new(4 * SMALL_BODY, SMALL_BODY);
        let mut large = budget.share();
        assert_eq!(large.grow_to(3 * SMALL_BODY + 1), Err(Exhausted));
        large.grow_to(3 * SMALL_BODY).unwrap();
        let mut small = budget.share();
        small.grow_to(SMALL_BODY).unwrap();
        assert_eq!(budget.free(), 0);
        drop(small);
        drop(large);
        // The reserve is for bodies that stay small: with room left above the reserve, a body
        // may grow past SMALL_BODY only as far as the reserve's edge.
        let mut growing = budget.share();
        growing.grow_to(SMALL_BODY).unwrap();
        growing.grow_to(3 * SMALL_BODY).unwrap();
        assert_eq!(budget.free(), SMALL_BODY);
        assert_eq!(growing.grow_to(3 * SMALL_BODY + 1), Err(Exhausted));
        // A small body may still take the reserve.
        budget.share().grow_to(SMALL_BODY).unwrap();
    }

    #[test]
    fn shares_draw_from_one_budget_and_give_back_when_dropped() {
        let budget = UnverifiedBudget::new(100, 0);
        let mut first = budget.share();
        let mut second = budget.clone().share();
        first.grow_to(60).unwrap();
        assert_eq!(second.grow_to(41), Err(Exhausted));
        second.grow_to(40).unwrap();
        assert_eq!(budget.free(), 0);
        first.grow_to(50).unwrap(); // already held: nothing taken
        drop(first);
        assert_eq!(budget.free(), 60);
        drop(second);
        assert_eq!(budget.free(), 100);
    }

    #[test]
    fn a_refused_growth_keeps_what_was_held() {
        let budget = UnverifiedBudget::new(10, 0);
        let mut share = budget.share();
        share.grow_to(8).unwrap();
        assert_eq!(share.grow_to(usize::MAX), Err(Exhausted));
        assert_eq!(budget.free(), 2);
        drop(share);
        assert_eq!(budget.free(), 10);
    }
}
