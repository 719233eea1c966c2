//! A global allocator that counts the live heap, for tests of what a request makes the server
//! hold. Declare it in the test binary: `#[global_allocator] static A: LiveHeap = LiveHeap;`. Its
//! count is the whole process's, so each test that reads it is a binary of its own
//! (`stalled_memory.rs`, `unverified_budget.rs`), outside the shared `tests/integration`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

pub struct LiveHeap;

static LIVE: AtomicIsize = AtomicIsize::new(0);

/// The bytes allocated and not yet freed, in the whole process.
pub fn live_bytes() -> isize {
    LIVE.load(Ordering::SeqCst)
}

unsafe impl GlobalAlloc for LiveHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::SeqCst);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::SeqCst);
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size as isize - layout.size() as isize, Ordering::SeqCst);
        System.realloc(ptr, layout, new_size)
    }
}
