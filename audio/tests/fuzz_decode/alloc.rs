//! Memory accounting: per-thread live bytes and peak, for threads that run a
//! case. Installed as the global allocator of the harness.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use crate::HARD_ALLOCATION_LIMIT;

struct Tracking;

thread_local! {
    pub(crate) static TRACKED: Cell<bool> = const { Cell::new(false) };
    pub(crate) static LIVE: Cell<isize> = const { Cell::new(0) };
    pub(crate) static PEAK: Cell<isize> = const { Cell::new(0) };
    pub(crate) static LARGEST: Cell<usize> = const { Cell::new(0) };
}

fn note(delta: isize, request: usize) -> bool {
    TRACKED
        .try_with(|t| {
            if !t.get() {
                return true;
            }
            if request > HARD_ALLOCATION_LIMIT {
                return false;
            }
            let live = LIVE.get() + delta;
            LIVE.set(live);
            PEAK.set(PEAK.get().max(live));
            LARGEST.set(LARGEST.get().max(request));
            true
        })
        .unwrap_or(true)
}

// SAFETY: every call is forwarded to the system allocator; the bookkeeping
// only touches const-initialised thread-locals, which never allocate.
unsafe impl GlobalAlloc for Tracking {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if !note(layout.size() as isize, layout.size()) {
            return std::ptr::null_mut();
        }
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if !note(layout.size() as isize, layout.size()) {
            return std::ptr::null_mut();
        }
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note(-(layout.size() as isize), 0);
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if !note(new_size as isize - layout.size() as isize, new_size) {
            return std::ptr::null_mut();
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Tracking = Tracking;
