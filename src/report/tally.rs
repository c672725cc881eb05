//! Counting a column's raw fields before classifying them.
//!
//! Most columns of a cohort file hold few distinct values (flags, codes,
//! categories, ages), so a field is classified once per distinct text
//! rather than once per row: [`FieldTally`] counts short fields by their
//! bytes in a small open-addressing table, and hands the (text, count)
//! pairs over when drained. A column with many distinct values
//! (measurements, identifiers) overflows the tally within its first few
//! thousand rows; its owner drains it then and classifies the column field
//! by field from then on. One-byte fields (the 0s and 1s of flags, sex
//! codes), the bulk of a cohort file, are counted in an array by their
//! byte, without hashing, and never overflow.

/// Fields longer than this are not tallied.
pub const MAX_LEN: usize = 24;

/// Distinct fields tallied before the tally gives up.
pub const LIMIT: usize = 4_096;

/// Slots allocated on first use (doubled as the table fills).
const FIRST_SLOTS: usize = 16;

/// A field of up to [`MAX_LEN`] bytes as three words: its first eight
/// bytes, eight from its middle and its last eight (overlapping, or packed
/// for short fields), which with the length determine the bytes.
#[derive(Clone, Copy, Debug, Default)]
struct FieldKey {
    words: [u64; 3],
    len: u8,
}

impl PartialEq for FieldKey {
    /// Word by word: the key was just built in registers, and comparing it
    /// as a vector would go through memory.
    #[inline]
    fn eq(&self, other: &FieldKey) -> bool {
        let [a, b, c] = self.words;
        let [x, y, z] = other.words;
        ((a ^ x) | (b ^ y) | (c ^ z)) == 0 && self.len == other.len
    }
}

impl Eq for FieldKey {}

impl FieldKey {
    fn of(field: &[u8]) -> FieldKey {
        let len = field.len();
        let word = |at: usize| u64::from_le_bytes(field[at..at + 8].try_into().unwrap());
        let half = |at: usize| u64::from(u32::from_le_bytes(field[at..at + 4].try_into().unwrap()));
        let words = match len {
            0 => [0; 3],
            1..=3 => [
                u64::from(field[0])
                    | u64::from(field[len / 2]) << 8
                    | u64::from(field[len - 1]) << 16,
                0,
                0,
            ],
            4..=7 => [half(0), half(len - 4), 0],
            8..=16 => [word(0), word(len - 8), 0],
            _ => [word(0), word(8), word(len - 8)],
        };
        FieldKey {
            words,
            len: len as u8,
        }
    }

    /// The field's bytes back, into `out`.
    fn bytes(self, out: &mut [u8; MAX_LEN]) -> &[u8] {
        let len = usize::from(self.len);
        let [a, b, c] = self.words;
        match len {
            0 => {}
            1..=3 => {
                out[0] = a as u8;
                out[len / 2] = (a >> 8) as u8;
                out[len - 1] = (a >> 16) as u8;
            }
            4..=7 => {
                out[..4].copy_from_slice(&(a as u32).to_le_bytes());
                out[len - 4..len].copy_from_slice(&(b as u32).to_le_bytes());
            }
            8..=16 => {
                out[..8].copy_from_slice(&a.to_le_bytes());
                out[len - 8..len].copy_from_slice(&b.to_le_bytes());
            }
            _ => {
                out[..8].copy_from_slice(&a.to_le_bytes());
                out[8..16].copy_from_slice(&b.to_le_bytes());
                out[len - 8..len].copy_from_slice(&c.to_le_bytes());
            }
        }
        &out[..len]
    }

    fn hash(self) -> u64 {
        let [a, b, c] = self.words;
        let mixed = (a ^ b.rotate_left(21) ^ c.rotate_left(42)).wrapping_add(u64::from(self.len));
        let wide = u128::from(mixed) * 0x9E37_79B9_7F4A_7C15;
        (wide >> 64) as u64 ^ wide as u64
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct Slot {
    key: FieldKey,
    /// Zero for a free slot.
    count: u64,
}

/// What [`FieldTally::add`] did with a field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tallied {
    /// Counted it.
    Counted,
    /// Left it to the caller: empty, too long, or the tally is full.
    Declined,
    /// Left it to the caller, and overflowed: drain the tally.
    Full,
}

/// The slot of [`FieldTally::add_short`] that counts empty fields.
const EMPTY: usize = 256;

/// Counts of the distinct short non-empty fields of one column.
#[derive(Clone, Debug)]
pub struct FieldTally {
    /// Counts of one-byte fields by their byte, then of empty fields (see
    /// [`FieldTally::add_short`]).
    bytes: [u64; 257],
    slots: Vec<Slot>,
    used: usize,
    overflowed: bool,
}

impl Default for FieldTally {
    fn default() -> FieldTally {
        FieldTally {
            bytes: [0; 257],
            slots: Vec::new(),
            used: 0,
            overflowed: false,
        }
    }
}

impl FieldTally {
    /// Counts `field` if it is short and non-empty and the tally has room
    /// for it. When it would take the tally past [`LIMIT`] distinct fields
    /// of more than one byte, the tally overflows: it counts nothing more
    /// but one-byte fields, and the caller must [`drain`](Self::drain) what
    /// it holds.
    #[inline]
    pub fn add(&mut self, field: &[u8]) -> Tallied {
        if let [byte] = field {
            self.add_short(*byte, false);
            return Tallied::Counted;
        }
        if self.overflowed || field.is_empty() || field.len() > MAX_LEN {
            return Tallied::Declined;
        }
        let key = FieldKey::of(field);
        if !self.slots.is_empty() {
            let mask = self.slots.len() - 1;
            let mut i = key.hash() as usize & mask;
            loop {
                let slot = &mut self.slots[i];
                if slot.count == 0 {
                    break;
                }
                if slot.key == key {
                    slot.count += 1;
                    return Tallied::Counted;
                }
                i = (i + 1) & mask;
            }
        }
        self.insert(key)
    }

    /// Counts an empty field, or a one-byte field of `byte`, without a
    /// branch on which: in a column of one-digit codes and blanks that
    /// branch would be mispredicted at every other row.
    #[inline(always)]
    pub fn add_short(&mut self, byte: u8, empty: bool) {
        let slot = if empty { EMPTY } else { usize::from(byte) };
        self.bytes[slot] += 1;
    }

    /// Adds a key not in the table (rare: once per distinct field).
    #[cold]
    #[inline(never)]
    fn insert(&mut self, key: FieldKey) -> Tallied {
        if self.used == LIMIT {
            self.overflowed = true;
            return Tallied::Full;
        }
        if self.slots.is_empty() {
            self.slots = vec![Slot::default(); FIRST_SLOTS];
        }
        self.used += 1;
        if self.used * 2 > self.slots.len() {
            self.grow();
        }
        self.place(Slot { key, count: 1 });
        Tallied::Counted
    }

    /// Puts a slot whose key is not in the table into a free slot.
    fn place(&mut self, slot: Slot) {
        let mask = self.slots.len() - 1;
        let mut i = slot.key.hash() as usize & mask;
        while self.slots[i].count > 0 {
            i = (i + 1) & mask;
        }
        self.slots[i] = slot;
    }

    /// Hands every (field, count) to `take`, empty fields counted by
    /// [`add_short`](Self::add_short) too, and empties the tally
    /// (which stays usable, for one-byte fields only once it has
    /// overflowed).
    pub fn drain(&mut self, mut take: impl FnMut(&[u8], u64)) {
        let bytes = std::mem::replace(&mut self.bytes, [0; 257]);
        for (byte, &count) in (0..=u8::MAX).zip(&bytes) {
            if count > 0 {
                take(&[byte], count);
            }
        }
        if bytes[EMPTY] > 0 {
            take(&[], bytes[EMPTY]);
        }
        let mut buffer = [0; MAX_LEN];
        for slot in std::mem::take(&mut self.slots) {
            if slot.count > 0 {
                take(slot.key.bytes(&mut buffer), slot.count);
            }
        }
        self.used = 0;
    }

    fn grow(&mut self) {
        let doubled = vec![Slot::default(); self.slots.len() * 2];
        let old = std::mem::replace(&mut self.slots, doubled);
        for slot in old.into_iter().filter(|s| s.count > 0) {
            self.place(slot);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    fn counts(tally: &mut FieldTally) -> HashMap<Vec<u8>, u64> {
        let mut out = HashMap::new();
        tally.drain(|field, n| *out.entry(field.to_vec()).or_insert(0) += n);
        out
    }

    #[test]
    fn keys_give_back_every_length_of_field() {
        let text = b"abcdefghijklmnopqrstuvwx";
        let mut buffer = [0; MAX_LEN];
        for len in 1..=MAX_LEN {
            let field = &text[..len];
            assert_eq!(FieldKey::of(field).bytes(&mut buffer), field);
        }
        assert_ne!(FieldKey::of(b"ab"), FieldKey::of(b"ba"));
        assert_ne!(FieldKey::of(b"1"), FieldKey::of(b"1\0"));
    }

    #[test]
    fn too_many_distinct_fields_overflow_the_tally_for_good() {
        let mut tally = FieldTally::default();
        for i in 10..LIMIT + 10 {
            assert_eq!(tally.add(i.to_string().as_bytes()), Tallied::Counted);
        }
        assert_eq!(tally.add(b"10"), Tallied::Counted);
        assert_eq!(tally.add(b"new"), Tallied::Full);
        let held = counts(&mut tally);
        assert_eq!(held.len(), LIMIT);
        assert_eq!(held[&b"10".to_vec()], 2);
        assert_eq!(tally.add(b"10"), Tallied::Declined);
        assert_eq!(
            tally.add(b"1"),
            Tallied::Counted,
            "one-byte fields never overflow"
        );
        assert_eq!(counts(&mut tally), HashMap::from([(b"1".to_vec(), 1)]));
    }

    proptest! {
        #[test]
        fn the_tally_counts_what_it_accepts(
            fields in prop::collection::vec(prop::collection::vec(prop::sample::select(b"01.-aZ\xff".to_vec()), 0..30), 0..400)
        ) {
            let mut tally = FieldTally::default();
            let mut expected: HashMap<Vec<u8>, u64> = HashMap::new();
            for field in &fields {
                let counted = tally.add(field) == Tallied::Counted;
                prop_assert_eq!(counted, !field.is_empty() && field.len() <= MAX_LEN);
                if counted {
                    *expected.entry(field.clone()).or_insert(0) += 1;
                }
            }
            prop_assert_eq!(counts(&mut tally), expected);
        }
    }
}
