//! Integer patient ids mapped to row numbers: an open-addressing table of
//! (id, row) pairs, linearly probed, on huge pages.
//!
//! The end file of a large back-end holds millions of patients, and every
//! weekly row looks its id up at random. At 10 million ids the table is
//! 256 MiB: on 4 KiB pages nearly every lookup would miss the TLB as well
//! as the cache, and each doubling of a general-purpose map, rehashing on
//! small pages, cost more than the inserts.

use crate::table::buffers::reserve_huge;

/// The row of a free slot (no row has this number: rows are counted in a
/// `u32` from 0).
const FREE: u32 = u32::MAX;

/// Slots in a table's first allocation.
const FIRST_SLOTS: usize = 1 << 10;

#[derive(Clone, Copy)]
struct Slot {
    id: i64,
    row: u32,
}

/// A map from `i64` ids to `u32` row numbers.
pub struct IdMap {
    /// A power of two of slots, at most three quarters of them used.
    slots: Vec<Slot>,
    /// 64 less the log2 of the number of slots: a hash's top bits index.
    shift: u32,
    len: usize,
}

impl IdMap {
    /// An empty map with room for `ids` ids before it grows.
    pub fn with_capacity(ids: usize) -> IdMap {
        let slots = (ids.saturating_mul(4) / 3 + 1)
            .next_power_of_two()
            .max(FIRST_SLOTS);
        IdMap {
            slots: free_slots(slots),
            shift: 64 - slots.trailing_zeros(),
            len: 0,
        }
    }

    /// The row of `id`, which becomes `row` if `id` has none yet.
    pub fn get_or_insert(&mut self, id: i64, row: u32) -> u32 {
        assert_ne!(row, FREE, "more rows than a u32 counts");
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            self.grow();
        }
        let i = self.find_slot(id);
        let slot = &mut self.slots[i];
        if slot.row == FREE {
            *slot = Slot { id, row };
            self.len += 1;
        }
        slot.row
    }

    /// The row of `id`.
    pub fn get(&self, id: i64) -> Option<u32> {
        let slot = self.slots[self.find_slot(id)];
        (slot.row != FREE).then_some(slot.row)
    }

    /// The slot holding `id`, else the free slot where it would go.
    #[inline]
    fn find_slot(&self, id: i64) -> usize {
        let mask = self.slots.len() - 1;
        let mut i = self.home(id);
        loop {
            let slot = self.slots[i];
            if slot.row == FREE || slot.id == id {
                return i;
            }
            i = (i + 1) & mask;
        }
    }

    /// Where `id`'s probe starts: the top bits of a Fibonacci hash, which
    /// spread consecutive ids (the usual case) evenly.
    fn home(&self, id: i64) -> usize {
        ((id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }

    fn grow(&mut self) {
        let doubled = self.slots.len() * 2;
        let old = std::mem::replace(&mut self.slots, free_slots(doubled));
        self.shift -= 1;
        for slot in old.into_iter().filter(|s| s.row != FREE) {
            let i = self.find_slot(slot.id);
            self.slots[i] = slot;
        }
    }
}

fn free_slots(n: usize) -> Vec<Slot> {
    let mut slots = Vec::new();
    reserve_huge(&mut slots, n);
    slots.resize(n, Slot { id: 0, row: FREE });
    slots
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    proptest! {
        /// The map keeps each id's first row, as a `HashMap` entry does,
        /// across growth, for ids anywhere in the `i64` range and crowded
        /// ones (consecutive, or equal in their low or high bits).
        #[test]
        fn ids_keep_their_first_row(
            ids in prop::collection::vec(prop_oneof![
                any::<i64>(),
                0i64..3_000,
                (0i64..3_000).prop_map(|i| i << 40),
                (0i64..3_000).prop_map(|i| i64::MIN + i),
            ], 0..3_000),
            capacity in 0usize..5_000,
        ) {
            let mut map = IdMap::with_capacity(capacity);
            let mut expected = HashMap::new();
            for (row, &id) in ids.iter().enumerate() {
                let row = row as u32;
                prop_assert_eq!(map.get_or_insert(id, row), *expected.entry(id).or_insert(row));
            }
            for (&id, &row) in &expected {
                prop_assert_eq!(map.get(id), Some(row));
            }
            prop_assert_eq!(map.len, expected.len());
            for id in [i64::MIN, -1, 0, 1, i64::MAX] {
                prop_assert_eq!(map.get(id), expected.get(&id).copied());
            }
        }
    }
}
