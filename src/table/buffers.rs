//! Large byte buffers kept from one file for the next.
//!
//! A buffer of fresh memory costs a page fault, and the kernel's zeroing,
//! for every page first written: for a file inflated whole (tens of
//! megabytes) that is a tenth of the time the file takes. Readers give
//! their buffers back here when they are done, up to [`KEEP`] bytes in
//! all, and the next file's reader takes them.

use std::sync::Mutex;

/// At most this many bytes of buffers are kept.
pub const KEEP: usize = 256 << 20;

/// Buffers smaller than this are not worth keeping.
const SMALLEST: usize = 1 << 20;

static POOL: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

/// An empty buffer with room for at least `capacity` bytes: the smallest
/// kept one that is large enough, else the largest kept one (grown), else
/// a new one.
pub fn take(capacity: usize) -> Vec<u8> {
    let kept = {
        let mut pool = POOL.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let fitting = (0..pool.len())
            .filter(|&i| pool[i].capacity() >= capacity)
            .min_by_key(|&i| pool[i].capacity());
        let chosen = fitting.or_else(|| (0..pool.len()).max_by_key(|&i| pool[i].capacity()));
        chosen.map(|i| pool.swap_remove(i))
    };
    let mut buffer = kept.unwrap_or_default();
    buffer.clear();
    buffer.reserve(capacity);
    buffer
}

/// Keeps `buffer` for a later [`take`], if it is large enough to be worth
/// it and the pool has room.
pub fn give(buffer: Vec<u8>) {
    if buffer.capacity() < SMALLEST {
        return;
    }
    let mut pool = POOL.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let kept: usize = pool.iter().map(Vec::capacity).sum();
    if kept + buffer.capacity() <= KEEP {
        pool.push(buffer);
    }
}

/// Reserves room for `more` items in `buffer`, asking the kernel to back
/// it with huge pages (where it backs them on request, as Linux does by
/// default): a buffer of tens of megabytes (a whole gzip member, a table of
/// millions of ids) would otherwise cost a page fault for each 4 KiB page
/// as it is first written, and a TLB miss for each page read at random.
pub fn reserve_huge<T>(buffer: &mut Vec<T>, more: usize) {
    buffer.reserve_exact(more);
    #[cfg(target_os = "linux")]
    {
        const HUGE: usize = 2 << 20;
        let start = buffer.as_ptr() as usize;
        let end = start + buffer.capacity() * size_of::<T>();
        let first = start.next_multiple_of(HUGE);
        if first + HUGE <= end {
            let length = (end - first) / HUGE * HUGE;
            // SAFETY: the range lies inside the buffer's own allocation;
            // MADV_HUGEPAGE is advice, changing no byte of it.
            unsafe { libc::madvise(first as *mut libc::c_void, length, libc::MADV_HUGEPAGE) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_buffer_given_back_is_taken_again_empty_and_large_enough() {
        let mut buffer = Vec::with_capacity(3 << 20);
        buffer.extend_from_slice(b"old bytes");
        let address = buffer.as_ptr();
        give(buffer);
        // Other tests share the pool: look for ours among what comes back.
        let taken: Vec<Vec<u8>> = (0..8).map(|_| take(2 << 20)).collect();
        assert!(
            taken
                .iter()
                .all(|b| b.is_empty() && b.capacity() >= 2 << 20)
        );
        assert!(taken.iter().any(|b| b.as_ptr() == address));
        taken.into_iter().for_each(give);
        give(Vec::with_capacity(1000)); // too small to keep: no effect
        let kept: usize = POOL.lock().unwrap().iter().map(Vec::capacity).sum();
        assert!(kept <= KEEP);
    }

    #[test]
    fn reserving_huge_room_keeps_the_bytes_and_makes_the_room() {
        let mut buffer = b"kept".to_vec();
        reserve_huge(&mut buffer, 5 << 20);
        assert!(buffer.capacity() >= 4 + (5 << 20));
        assert_eq!(buffer, b"kept");
        buffer.resize(5 << 20, 7);
        assert_eq!(buffer[..4], *b"kept");
    }
}
