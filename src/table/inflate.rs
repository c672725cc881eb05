//! One gzip member inflated whole with libdeflate, told how much input it
//! took: `libdeflate_gzip_decompress_ex`, which the libdeflater crate does
//! not expose. Knowing where a member ends is what lets a reader check
//! that a member is whole, and go on with the next one, instead of taking
//! a file of several members for its first.

use std::ptr::NonNull;

use libdeflate_sys::{
    libdeflate_alloc_decompressor, libdeflate_decompressor, libdeflate_free_decompressor,
    libdeflate_gzip_decompress_ex, libdeflate_result_LIBDEFLATE_SUCCESS,
};

/// A libdeflate decompressor (about 10 KB of tables), reused member after
/// member.
pub struct Inflater {
    decompressor: NonNull<libdeflate_decompressor>,
}

// SAFETY: a libdeflate decompressor holds no thread-local state; it is used
// through `&mut self` only, so never by two threads at once.
unsafe impl Send for Inflater {}

/// A member inflated by [`Inflater::member`].
#[derive(Debug, PartialEq, Eq)]
pub struct Inflated {
    /// The member's length in the input (header, data and trailer).
    pub consumed: usize,
    /// The bytes written at the start of the output.
    pub written: usize,
}

impl Inflater {
    /// A new decompressor.
    pub fn new() -> Inflater {
        // SAFETY: no arguments; a null result (out of memory) is refused.
        let decompressor = unsafe { libdeflate_alloc_decompressor() };
        Inflater {
            decompressor: NonNull::new(decompressor)
                .expect("libdeflate could not allocate a decompressor (out of memory)"),
        }
    }

    /// Inflates the gzip member at the start of `input`, its CRC and size
    /// checked, appending it to `out` in room for `room` bytes reserved
    /// there (not zeroed first); `None`, with `out` as it was, if `input`
    /// does not start with a whole, valid member, or the member inflates
    /// to more than `room` bytes.
    pub fn member(&mut self, input: &[u8], out: &mut Vec<u8>, room: usize) -> Option<Inflated> {
        out.reserve(room);
        let spare = &mut out.spare_capacity_mut()[..room];
        let (mut consumed, mut written) = (0, 0);
        // SAFETY: the pointers and lengths are those of live slices (the
        // output one of reserved, uninitialized bytes, which libdeflate
        // only writes); the decompressor is ours alone (`&mut self`).
        let result = unsafe {
            libdeflate_gzip_decompress_ex(
                self.decompressor.as_ptr(),
                input.as_ptr().cast(),
                input.len(),
                spare.as_mut_ptr().cast(),
                spare.len(),
                &mut consumed,
                &mut written,
            )
        };
        if result != libdeflate_result_LIBDEFLATE_SUCCESS {
            return None;
        }
        // SAFETY: on success libdeflate has written the first `written`
        // bytes of the spare room (at most `room`).
        unsafe { out.set_len(out.len() + written) };
        Some(Inflated { consumed, written })
    }
}

impl Default for Inflater {
    fn default() -> Self {
        Inflater::new()
    }
}

impl Drop for Inflater {
    fn drop(&mut self) {
        // SAFETY: allocated by `libdeflate_alloc_decompressor`, freed once.
        unsafe { libdeflate_free_decompressor(self.decompressor.as_ptr()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::gzip::compress_member;

    #[test]
    fn a_member_is_inflated_and_measured_whatever_follows_it() {
        let text = b"patient_id,age\n1,40\n2,51\n".repeat(1000);
        let member = compress_member(9, &text);
        let mut inflater = Inflater::new();
        let mut out = b"kept ".to_vec();
        let followed = [&member[..], &member[..], b"\0\0"].concat();
        assert_eq!(
            inflater.member(&followed, &mut out, text.len()),
            Some(Inflated {
                consumed: member.len(),
                written: text.len()
            })
        );
        assert_eq!(out, [&b"kept "[..], &text].concat());
    }

    #[test]
    fn short_room_truncation_and_corruption_are_refused() {
        let text = b"0123456789".repeat(5000);
        let member = compress_member(6, &text);
        let mut inflater = Inflater::new();
        let mut out = Vec::new();
        let room = text.len();
        assert!(inflater.member(&member, &mut out, room - 1).is_none());
        assert!(
            inflater
                .member(&member[..member.len() - 1], &mut out, room)
                .is_none()
        );
        let mut corrupt = member.clone();
        let last = corrupt.len() - 5;
        corrupt[last] ^= 1; // the CRC
        assert!(inflater.member(&corrupt, &mut out, room).is_none());
        assert!(inflater.member(b"", &mut out, room).is_none());
        assert!(out.is_empty(), "nothing appended on a failure");
        assert!(inflater.member(&member, &mut out, room).is_some());
        assert_eq!(out, text);
    }
}
