//! Hints to the CPU to start loading cache lines that will soon be needed
//! (the next packet's flow entry, the capture bytes ahead of the reader,
//! state table slots, a record another core wrote), so that the miss
//! overlaps the work in between instead of stalling it. A prefetch is only
//! a hint: it never faults, changes no data and may be dropped, so it is
//! correct for any address.

/// Asks for the cache line holding `value` to be loaded into every cache level.
#[inline]
pub fn prefetch<T>(value: &T) {
    prefetch_address(std::ptr::from_ref(value).cast());
}

/// Asks for every cache line `value` spans to be loaded (a value larger
/// than a line, or one that straddles two).
#[inline]
pub fn prefetch_whole<T>(value: &T) {
    const LINE: usize = 64;
    let start: *const u8 = std::ptr::from_ref(value).cast();
    let size = std::mem::size_of::<T>().max(1);
    // The lines from the one of the first byte to the one of the last.
    let offset = start as usize % LINE;
    let mut line = 0;
    while line < offset + size {
        prefetch_address(start.wrapping_add(line).wrapping_sub(offset));
        line += LINE;
    }
}

/// Asks for the cache line holding `address` to be loaded: any address,
/// for a prefetch never faults.
#[inline]
fn prefetch_address(address: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `_mm_prefetch` needs SSE, which every x86-64 CPU has; it reads
    // nothing the program sees and never faults, whatever the address.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(address.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = address;
}

/// Asks for every cache line of `bytes` (a few kilobytes at most) to be loaded.
#[inline]
pub fn prefetch_lines(bytes: &[u8]) {
    for line in bytes.iter().step_by(64) {
        prefetch(line);
    }
}
