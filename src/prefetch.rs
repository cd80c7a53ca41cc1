//! Hints to the CPU to start loading cache lines that will soon be needed
//! (the next packet's flow entry, the capture bytes ahead of the reader), so
//! that the miss overlaps the work in between instead of stalling it. A
//! prefetch is only a hint: it never faults, changes no data and may be
//! dropped, so it is correct for any address.

/// Asks for the cache line holding `value` to be loaded into every cache level.
#[inline]
pub fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `_mm_prefetch` needs SSE, which every x86-64 CPU has; it reads
    // nothing the program sees and never faults, and `value` is a valid reference.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(value).cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}

/// Asks for every cache line of `bytes` (a few kilobytes at most) to be loaded.
#[inline]
pub fn prefetch_lines(bytes: &[u8]) {
    for line in bytes.iter().step_by(64) {
        prefetch(line);
    }
}

/// Asks for every cache line of `value` to be loaded (a record a few
/// hundred bytes long that another core wrote).
#[inline]
pub fn prefetch_all<T>(value: &T) {
    let start = std::ptr::from_ref(value).cast::<u8>();
    for offset in (0..std::mem::size_of::<T>()).step_by(64) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as in `prefetch`; the address is inside `value`, and a
        // prefetch never dereferences it for the program.
        unsafe {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            _mm_prefetch::<_MM_HINT_T0>(start.wrapping_add(offset).cast());
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = (start, offset);
    }
}
