//! Finding the field and record separators of CSV text that has no quotes,
//! 64 bytes at a time: each block becomes a bit mask of its `,`, `\n` and
//! `\r` bytes (SSE2 compares on x86-64), and the set bits are walked in
//! order. Cohort files are mostly short fields (empty, `0`, `1`), where this
//! is several times faster than looking at one byte at a time.

/// Bytes looked at per mask.
const BLOCK: usize = 64;

/// The positions of every `,`, `\n` and `\r` in `bytes`, in order.
pub fn separators(bytes: &[u8]) -> Separators<'_> {
    Separators {
        bytes,
        next_block: 0,
        base: 0,
        mask: 0,
    }
}

/// Iterator returned by [`separators`].
pub struct Separators<'a> {
    bytes: &'a [u8],
    /// Start of the next block to scan.
    next_block: usize,
    /// Start of the block `mask` describes.
    base: usize,
    /// Separators of the current block not yet returned.
    mask: u64,
}

impl Iterator for Separators<'_> {
    type Item = usize;

    #[inline]
    fn next(&mut self) -> Option<usize> {
        while self.mask == 0 {
            let start = self.next_block;
            if start >= self.bytes.len() {
                return None;
            }
            self.base = start;
            self.next_block = start + BLOCK;
            self.mask = match self.bytes.get(start..start + BLOCK) {
                Some(block) => block_mask(block.try_into().unwrap()),
                None => tail_mask(&self.bytes[start..]),
            };
        }
        let at = self.base + self.mask.trailing_zeros() as usize;
        self.mask &= self.mask - 1;
        Some(at)
    }
}

fn is_separator(byte: u8) -> bool {
    matches!(byte, b',' | b'\n' | b'\r')
}

/// The separators of a partial last block, one byte at a time.
fn tail_mask(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .enumerate()
        .filter(|(_, b)| is_separator(**b))
        .fold(0, |mask, (i, _)| mask | 1 << i)
}

#[cfg(target_arch = "x86_64")]
#[inline]
fn block_mask(block: &[u8; BLOCK]) -> u64 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };
    // SAFETY: SSE2 is part of the x86-64 baseline, so these intrinsics are
    // always available; each load reads 16 bytes of `block`, unaligned.
    unsafe {
        let comma = _mm_set1_epi8(b',' as i8);
        let newline = _mm_set1_epi8(b'\n' as i8);
        let carriage_return = _mm_set1_epi8(b'\r' as i8);
        let mut mask = 0;
        for (i, lane) in block.chunks_exact(16).enumerate() {
            let v = _mm_loadu_si128(lane.as_ptr().cast::<__m128i>());
            let hits = _mm_or_si128(
                _mm_or_si128(_mm_cmpeq_epi8(v, comma), _mm_cmpeq_epi8(v, newline)),
                _mm_cmpeq_epi8(v, carriage_return),
            );
            mask |= u64::from(_mm_movemask_epi8(hits) as u16) << (16 * i);
        }
        mask
    }
}

#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn block_mask(block: &[u8; BLOCK]) -> u64 {
    tail_mask(block)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn every_separator_is_found_in_order(
            bytes in prop::collection::vec(prop::sample::select(b",\n\rab0\x8c".to_vec()), 0..300)
        ) {
            let expected: Vec<usize> = (0..bytes.len()).filter(|&i| is_separator(bytes[i])).collect();
            prop_assert_eq!(separators(&bytes).collect::<Vec<_>>(), expected);
        }
    }

    #[test]
    fn blocks_and_tails_agree() {
        let mut block = [b'x'; BLOCK];
        for i in [0, 15, 16, 31, 32, 47, 48, 63] {
            block[i] = b",\n\r"[i % 3];
        }
        assert_eq!(block_mask(&block), tail_mask(&block));
        assert_eq!(block_mask(&block).count_ones(), 8);
    }
}
