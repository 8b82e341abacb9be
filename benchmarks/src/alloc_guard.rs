//! Keeps a malformed frame from aborting the process.
//!
//! kafka-protocol 0.18 sizes a `Vec` from an array count read off the wire
//! (`Vec::with_capacity(n)`) before it checks that n elements can exist:
//! seven bytes of garbage ask for 137 GB, the system allocator refuses, and
//! Rust aborts the whole process. No legitimate allocation here comes near
//! 1 GiB (frames stop at 100 MiB), so allocations that large are given
//! address space only (`MAP_NORESERVE`, pages are never touched): the
//! decoder then fails on the missing elements, frees the mapping, and the
//! bad frame becomes an ordinary error. Under strict overcommit
//! (vm.overcommit_memory=2) the mapping fails as before.

use std::alloc::{GlobalAlloc, Layout, System};
use std::ptr;

pub struct GuardedAllocator;

/// Allocations of at least this size are mapped, not malloc'ed.
const HUGE: usize = 1 << 30;
const PAGE: usize = 4096;

unsafe fn map_huge(layout: Layout) -> *mut u8 {
    if layout.align() > PAGE {
        return ptr::null_mut();
    }
    // SAFETY: an anonymous private mapping with no address hint has no
    // preconditions; failure is reported as MAP_FAILED.
    let mapped = unsafe {
        libc::mmap(
            ptr::null_mut(),
            layout.size(),
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if mapped == libc::MAP_FAILED {
        ptr::null_mut()
    } else {
        mapped.cast()
    }
}

// SAFETY: every block is freed by the same path that made it, chosen by
// its size, which `dealloc` and `realloc` receive unchanged in `layout`.
unsafe impl GlobalAlloc for GuardedAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.size() >= HUGE {
            unsafe { map_huge(layout) }
        } else {
            unsafe { System.alloc(layout) }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if layout.size() >= HUGE {
            // Anonymous mappings are zero-filled.
            unsafe { map_huge(layout) }
        } else {
            unsafe { System.alloc_zeroed(layout) }
        }
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        if layout.size() >= HUGE {
            unsafe { libc::munmap(block.cast(), layout.size()) };
        } else {
            unsafe { System.dealloc(block, layout) }
        }
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if layout.size() < HUGE && new_size < HUGE {
            return unsafe { System.realloc(block, layout, new_size) };
        }
        // Crossing the threshold (or staying above it): move the block.
        // SAFETY: the caller guarantees new_size rounded to align is valid.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        let moved = unsafe { self.alloc(new_layout) };
        if !moved.is_null() {
            unsafe {
                ptr::copy_nonoverlapping(block, moved, layout.size().min(new_size));
                self.dealloc(block, layout);
            }
        }
        moved
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_huge_capacity_is_address_space_not_an_abort() {
        let mut v: Vec<u64> = Vec::with_capacity(1 << 34);
        v.push(7);
        assert_eq!(v[0], 7);
        v.shrink_to_fit();
        assert_eq!(v, [7]);
    }
}
