//! The bins of one decade by index: a count and exact extremes each.
//!
//! While the indices lie close together (the common case) the bins are two
//! parallel arrays: what every value touches, 16 bytes a bin (the count,
//! and the leading bits of the extremes' magnitudes, which tell most values
//! they are no new extreme), and the exact extremes, touched only by
//! values that may be one. So a column's hot bins stay in cache. Bins
//! spread far apart, or few across a wide span, are kept in a hash map, so
//! that empty slots never outnumber the bins by much ([`dense_fits`]).

use crate::hashing::Map;

use super::distribution::Piece;

/// The widest span of indices kept in arrays, in bins.
const DENSE_SPAN: u64 = 4_096;

/// Arrays may span this many slots more than [`SLOTS_PER_BIN`] per bin.
const DENSE_SLACK: u64 = 16;

/// Array slots allowed per bin with values, beyond [`DENSE_SLACK`].
const SLOTS_PER_BIN: u64 = 4;

/// Whether `filled` bins spanning `span` indices are kept in arrays: the
/// span is at most [`DENSE_SPAN`], and few enough slots would be empty
/// that a sketch's arrays stay within a few times its bins, however the
/// values are spread over its decades.
fn dense_fits(span: u64, filled: usize) -> bool {
    span <= DENSE_SPAN && span <= DENSE_SLACK + SLOTS_PER_BIN * filled as u64
}

/// What every value added to a bin reads and writes.
#[derive(Clone, Copy, Debug, Default)]
struct Hot {
    count: u64,
    /// The leading 32 bits of the magnitudes of the bin's extremes: a
    /// value whose leading bits lie strictly between them is neither.
    least: u32,
    most: u32,
}

/// A bin's extreme values, with their counts.
#[derive(Clone, Copy, Debug, Default)]
struct Extremes {
    low: Extreme,
    high: Extreme,
}

/// A bin's lowest or highest value and how many times it occurs.
#[derive(Clone, Copy, Debug, Default)]
struct Extreme {
    value: f64,
    count: u64,
}

/// A bin whole: its count and extremes.
#[derive(Clone, Copy, Debug)]
struct Bin {
    count: u64,
    extremes: Extremes,
}

/// The leading 32 bits of a value's magnitude, in the order of magnitudes.
fn leading(value: f64) -> u32 {
    (value.abs().to_bits() >> 32) as u32
}

impl Extremes {
    fn of(value: f64, count: u64) -> Extremes {
        let extreme = Extreme { value, count };
        Extremes {
            low: extreme,
            high: extreme,
        }
    }

    /// Counts `count` times a value of the bin.
    fn add(&mut self, value: f64, count: u64) {
        self.absorb(Extremes::of(value, count));
    }

    fn absorb(&mut self, other: Extremes) {
        for (mine, theirs, lower) in [
            (&mut self.low, other.low, true),
            (&mut self.high, other.high, false),
        ] {
            if theirs.value == mine.value {
                mine.count += theirs.count;
            } else if (theirs.value < mine.value) == lower {
                *mine = theirs;
            }
        }
    }

    /// The filter of [`Hot`] for these extremes.
    fn leading(&self) -> (u32, u32) {
        let (a, b) = (leading(self.low.value), leading(self.high.value));
        (a.min(b), a.max(b))
    }
}

impl Bin {
    fn absorb(&mut self, other: Bin) {
        self.count += other.count;
        self.extremes.absorb(other.extremes);
    }

    fn piece(&self) -> Piece {
        let Extremes { low, high } = self.extremes;
        if low.value == high.value {
            return Piece::atom(low.value, self.count);
        }
        Piece {
            low: low.value,
            low_count: low.count,
            inner: self.count - low.count - high.count,
            high: high.value,
            high_count: high.count,
        }
    }
}

/// Bins by index.
#[derive(Clone, Debug, Default)]
pub struct Store(Layout);

/// How a [`Store`] keeps its bins.
#[derive(Clone, Debug)]
enum Layout {
    /// The bins of indices `start..start + hot.len()` (empty where the
    /// count is 0), `filled` of them with values.
    Dense {
        start: u64,
        hot: Vec<Hot>,
        extremes: Vec<Extremes>,
        filled: usize,
    },
    /// Bins by index, with the lowest and highest index.
    Sparse {
        bins: Map<u64, Bin>,
        low: u64,
        high: u64,
    },
}

impl Default for Layout {
    fn default() -> Layout {
        Layout::Dense {
            start: 0,
            hot: Vec::new(),
            extremes: Vec::new(),
            filled: 0,
        }
    }
}

impl Store {
    /// Counts `count` times `value` in the bin of `index`; whether the bin
    /// is new.
    #[inline]
    pub fn add(&mut self, index: u64, value: f64, count: u64) -> bool {
        match &mut self.0 {
            Layout::Dense {
                start,
                hot,
                extremes,
                filled,
            } => {
                let i = index.wrapping_sub(*start) as usize;
                let Some(bin) = hot.get_mut(i) else {
                    return self.add_outside(index, value, count);
                };
                let new = bin.count == 0;
                let magnitude = leading(value);
                if new || magnitude <= bin.least || magnitude >= bin.most {
                    // Perhaps a new extreme: the exact ones decide.
                    let exact = &mut extremes[i];
                    if new {
                        *exact = Extremes::of(value, count);
                    } else {
                        exact.add(value, count);
                    }
                    (bin.least, bin.most) = exact.leading();
                }
                bin.count += count;
                *filled += usize::from(new);
                new
            }
            Layout::Sparse { bins, low, high } => {
                if let Some(bin) = bins.get_mut(&index) {
                    bin.count += count;
                    bin.extremes.add(value, count);
                    return false;
                }
                let bin = Bin {
                    count,
                    extremes: Extremes::of(value, count),
                };
                bins.insert(index, bin);
                (*low, *high) = ((*low).min(index), (*high).max(index));
                // Back to arrays once they would be twice dense enough,
                // so that a store on the edge does not switch back and forth.
                if dense_fits(2 * (*high - *low + 1), bins.len()) {
                    *self = Store::from_bins(std::mem::take(self).into_bins().collect());
                }
                true
            }
        }
    }

    /// [`Store::add`] to an index beyond the arrays: widens them, or turns
    /// them into a map when they would span too many empty slots.
    #[inline(never)]
    fn add_outside(&mut self, index: u64, value: f64, count: u64) -> bool {
        let Layout::Dense {
            start,
            hot,
            extremes,
            filled,
        } = &mut self.0
        else {
            unreachable!("only arrays have an outside");
        };
        if hot.is_empty() {
            *start = index;
        }
        let end = *start + hot.len() as u64;
        if !dense_fits(end.max(index + 1) - (*start).min(index), *filled + 1) {
            let bins: Vec<(u64, Bin)> = std::mem::take(self).into_bins().collect();
            *self = Store::sparse(bins.into_iter().collect());
            return self.add(index, value, count);
        }
        if index < *start {
            let grow = (*start - index) as usize;
            hot.splice(0..0, std::iter::repeat_n(Hot::default(), grow));
            extremes.splice(0..0, std::iter::repeat_n(Extremes::default(), grow));
            *start = index;
        } else {
            let len = (index - *start + 1) as usize;
            hot.resize(len, Hot::default());
            extremes.resize(len, Extremes::default());
        }
        self.add(index, value, count)
    }

    /// The bins with their indices, in no particular order.
    fn into_bins(self) -> Box<dyn Iterator<Item = (u64, Bin)>> {
        match self.0 {
            Layout::Dense {
                start,
                hot,
                extremes,
                ..
            } => Box::new(
                hot.into_iter()
                    .zip(extremes)
                    .enumerate()
                    .filter(|(_, (hot, _))| hot.count > 0)
                    .map(move |(i, (hot, extremes))| {
                        let bin = Bin {
                            count: hot.count,
                            extremes,
                        };
                        (start + i as u64, bin)
                    }),
            ),
            Layout::Sparse { bins, .. } => Box::new(bins.into_iter()),
        }
    }

    /// The same bins with each index mapped by `to` (an order-keeping map
    /// that may merge neighbours), in the form that suits their span.
    pub fn remap(self, to: impl Fn(u64) -> u64) -> Store {
        Store::from_bins(self.into_bins().map(|(i, b)| (to(i), b)).collect())
    }

    /// Adds another store's bins.
    pub fn absorb(&mut self, other: Store) {
        let mut bins: Vec<(u64, Bin)> = std::mem::take(self).into_bins().collect();
        bins.extend(other.into_bins());
        *self = Store::from_bins(bins);
    }

    /// Bins (an index may come more than once) in arrays or a map, as
    /// their span and number suit.
    fn from_bins(bins: Vec<(u64, Bin)>) -> Store {
        let mut merged: Map<u64, Bin> =
            Map::with_capacity_and_hasher(bins.len(), Default::default());
        for (i, bin) in bins {
            merged.entry(i).and_modify(|b| b.absorb(bin)).or_insert(bin);
        }
        let (Some(&low), Some(&high)) = (merged.keys().min(), merged.keys().max()) else {
            return Store::default();
        };
        if !dense_fits(high - low + 1, merged.len()) {
            return Store::sparse(merged);
        }
        let len = (high - low + 1) as usize;
        let (mut hot, mut extremes) = (vec![Hot::default(); len], vec![Extremes::default(); len]);
        let filled = merged.len();
        for (i, bin) in merged {
            let at = (i - low) as usize;
            let (least, most) = bin.extremes.leading();
            hot[at] = Hot {
                count: bin.count,
                least,
                most,
            };
            extremes[at] = bin.extremes;
        }
        Store(Layout::Dense {
            start: low,
            hot,
            extremes,
            filled,
        })
    }

    /// A map of these bins.
    fn sparse(bins: Map<u64, Bin>) -> Store {
        let low = bins.keys().copied().min().unwrap_or(u64::MAX);
        let high = bins.keys().copied().max().unwrap_or(0);
        Store(Layout::Sparse { bins, low, high })
    }

    /// The indices of the bins with values, in no particular order.
    pub fn indices(&self) -> Vec<u64> {
        match &self.0 {
            Layout::Dense { start, hot, .. } => (*start..)
                .zip(hot)
                .filter(|(_, hot)| hot.count > 0)
                .map(|(i, _)| i)
                .collect(),
            Layout::Sparse { bins, .. } => bins.keys().copied().collect(),
        }
    }

    /// Bins with values.
    pub fn filled(&self) -> usize {
        match &self.0 {
            Layout::Dense { filled, .. } => *filled,
            Layout::Sparse { bins, .. } => bins.len(),
        }
    }

    /// The bins as pieces, in ascending order of index.
    pub fn pieces(&self) -> Vec<Piece> {
        let mut bins: Vec<(u64, Bin)> = self.clone().into_bins().collect();
        bins.sort_unstable_by_key(|&(i, _)| i);
        bins.iter().map(|(_, bin)| bin.piece()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_dense(store: &Store) -> bool {
        matches!(store.0, Layout::Dense { .. })
    }

    #[test]
    fn arrays_and_maps_hold_the_same_bins() {
        let far = 10 + 3 * DENSE_SPAN;
        let near = [
            (10, 1.0),
            (12, 1.2),
            (10, 1.05),
            (11, 1.1),
            (10, 1.0),
            (10, 1.02),
        ];
        let mut dense = Store::default();
        for (index, value) in near {
            dense.add(index, value, 1);
        }
        assert!(is_dense(&dense));
        assert_eq!(dense.filled(), 3);
        assert_eq!(
            dense.pieces()[0],
            Piece {
                low: 1.0,
                low_count: 2,
                inner: 1,
                high: 1.05,
                high_count: 1
            }
        );
        // The far bin first: a map from the second bin on.
        let mut sparse = Store::default();
        assert!(sparse.add(far, 2.0, 1));
        for (index, value) in near {
            sparse.add(index, value, 1);
        }
        assert!(!is_dense(&sparse));
        assert!(dense.add(far, 2.0, 1));
        assert!(!is_dense(&dense));
        assert_eq!(dense.filled(), 4);
        assert_eq!(dense.pieces(), sparse.pieces());
        let halved = dense.remap(|i| i / 2);
        assert!(!is_dense(&halved));
        assert_eq!(halved.filled(), 3);
        let close = halved.remap(|i| i / DENSE_SPAN);
        assert!(is_dense(&close));
        assert_eq!(close.pieces().iter().map(Piece::count).sum::<u64>(), 7);
    }

    #[test]
    fn arrays_hold_few_empty_slots() {
        // Two bins 1,000 apart: a map, until the bins between fill in.
        let mut store = Store::default();
        store.add(0, 1.0, 1);
        store.add(1_000, 2.0, 1);
        assert!(!is_dense(&store));
        for index in 1..1_000 {
            store.add(index, 1.5, 1);
        }
        assert!(is_dense(&store));
        assert_eq!(store.filled(), 1_001);
        assert_eq!(store.pieces().len(), 1_001);
    }

    #[test]
    fn the_filter_never_hides_an_extreme() {
        // Values whose leading bits match the extremes' go to the exact ones.
        let mut store = Store::default();
        let base = 1.5f64;
        let nudge = |k: u64| f64::from_bits(base.to_bits() + k);
        for k in [5, 3, 9, 3, 1, 9, 7] {
            store.add(0, nudge(k), 1);
            store.add(1, -nudge(k), 1);
        }
        let pieces = store.pieces();
        // 1 once, 9 twice, and 3, 3, 5, 7 between.
        assert_eq!(
            pieces[0],
            Piece {
                low: nudge(1),
                low_count: 1,
                inner: 4,
                high: nudge(9),
                high_count: 2
            }
        );
        assert_eq!((pieces[1].low, pieces[1].high), (-nudge(9), -nudge(1)));
        assert_eq!((pieces[1].low_count, pieces[1].high_count), (2, 1));
    }
}
