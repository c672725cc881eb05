//! A numeric column's distribution past the exact limit: counts in bins of
//! a fixed number of significant decimal digits, in bounded memory, that
//! do not depend on how the values were split between threads.
//!
//! A value's bin is its decade and its leading digits: at level 2i a
//! decade 10^d..10^(d+1) is cut into bins of width 10^(d+1-i), at level
//! 2i+1 into bins of width 5 × 10^(d-i), up to level [`DECIMAL`], 13
//! significant digits. Finer levels halve those bins by the floats they
//! hold, down to one float each ([`FINEST`]), for values crowded closer than
//! 13 digits tell apart (integers near `i64::MAX`, say): a bin's index there
//! is its 13-digit index followed by the leading bits of the float's offset
//! from the bin's first float. Each bin is a sub-interval of the bins one
//! level coarser, so bins coarsen exactly.
//!
//! Each decade (of each sign) has its own level, so that a crowded decade
//! does not coarsen the others: the finest at which its values fill at
//! most [`DECADE_BINS`] bins, and no finer than a cap shared by all, the
//! finest level at which the decades together fill at most [`MAX_BINS`]
//! (a decade coarser than the cap counting as [`DECADE_BINS`], and each
//! decade's first [`FREE_BINS`] not counted, so that values strewn thinly
//! over hundreds of decades, each of which they cannot put far off in
//! rank, do not coarsen the crowded ones). Both are functions of the
//! multiset of values alone: the number of bins filled only grows as
//! values come, so levels only fall, and merging two sketches coarsens
//! both to the coarser levels and then as far as the union needs. So the
//! bins, and every figure drawn from them, are the same whatever the
//! split.
//!
//! Each bin also keeps its lowest and highest values with their counts,
//! exactly (minimum and maximum merge exactly too). A bin of at most two
//! distinct values is therefore known exactly, a heavily repeated round
//! value (the edge of its bin) is an exact atom, and what stays unknown is
//! only the values strictly inside a bin, between its extremes.
//!
//! Decimal bin edges are those of [`super::decimal`]: a histogram bin edge
//! at a round number never falls inside a bin.

use super::bin_store::Store;
use super::decimal::{MAX_DECADE, MIN_DECADE, Multiples, decade, edge, floor_multiple};
use super::distribution::Piece;

/// The most bins of one decade (of one sign).
pub const DECADE_BINS: usize = 2_048;

/// The most bins in all beyond each decade's [`FREE_BINS`], a decade
/// coarser than the cap counting as [`DECADE_BINS`]. At 56 bytes a bin
/// that is about 1 MB per column and thread for values over a dozen
/// decades; values over every decade there is may fill 57,000 bins, and
/// with the empty slots of their arrays ([`super::bin_store`]) take up to
/// 16 MB.
pub const MAX_BINS: usize = 16_384;

/// Bins of each decade that [`MAX_BINS`] does not count: a decade of so
/// few bins holds few enough values not to need the budget.
pub const FREE_BINS: usize = 32;

/// Significant digits of the finest decimal bins.
const DIGITS: i32 = 13;

/// The finest decimal level: bins of 13 significant digits.
pub const DECIMAL: u8 = 2 * DIGITS as u8;

/// Bits of a float's offset from the first float of its 13-digit bin: a
/// bin holds at most 2^53 / 10^12 = 9,007 floats.
const OFFSET_BITS: u8 = 14;

/// The finest level: every float its own bin.
pub const FINEST: u8 = DECIMAL + OFFSET_BITS;

/// Decades of nonzero finite floats.
const DECADES: usize = (MAX_DECADE - MIN_DECADE + 1) as usize;

/// The finest index of 10^d: 10^12.
const LOWEST_INDEX: u64 = 1_000_000_000_000;

/// Counts of values in bins, and of zeros and infinities.
#[derive(Clone, Debug)]
pub struct Bins {
    /// The finest level of any decade.
    cap: u8,
    /// Each decade's bins by slot: negative decades from the largest
    /// magnitude down, then positive ones from the smallest up.
    decades: Vec<Option<Box<Decade>>>,
    /// The decades' share of [`MAX_BINS`] at the cap.
    load: usize,
    zeros: u64,
    neg_inf: u64,
    pos_inf: u64,
}

/// Where a nonzero finite value falls: its decade, and that decade's slot.
#[derive(Clone, Copy, Debug, Default)]
struct Place {
    value: f64,
    decade: i32,
    slot: usize,
}

/// Where values of one decade fall at a decimal level: a value's index is
/// its 13-digit index divided by the level's bin width. For a normal float
/// that is the multiple of 10^e (`multiples`) its magnitude lies at or above,
/// clamped to its decade, divided by 5 at odd levels: edges nest (`k ×
/// 10^(e+1)` is the edge `10k × 10^e`, the same decimal number and so the
/// same float) and are distinct floats, so the largest multiple at or below
/// the value is found without the 13-digit index, at a scale where it
/// seldom needs an edge to decide. Subnormals, too sparse to tell 13-digit
/// edges apart, divide their 13-digit index.
#[derive(Clone, Copy, Debug)]
struct Grid {
    multiples: Multiples,
    low: u64,
    high: u64,
    fives: bool,
    /// The bin width in 13-digit indices.
    width: u64,
}

impl Grid {
    /// The grid of decade `d` at a level up to [`DECIMAL`]: `i`
    /// significant digits at level 2i, `i + 1` digits in fives at level
    /// 2i + 1.
    fn for_level(level: u8, d: i32) -> Grid {
        let level = level.min(DECIMAL);
        let fives = level % 2 == 1;
        let digits = u32::from(level / 2) + u32::from(fives);
        let width = 10u64.pow(DIGITS as u32 - digits);
        Grid {
            multiples: Multiples::new(d + 1 - digits as i32),
            low: LOWEST_INDEX / width,
            high: (LOWEST_INDEX * 10 - 1) / width,
            fives,
            width: if fives { 5 * width } else { width },
        }
    }

    /// The index of a located value.
    #[inline]
    fn index(&self, place: &Place) -> u64 {
        let magnitude = place.value.abs();
        if magnitude < f64::MIN_POSITIVE {
            return finest_index(place) / self.width;
        }
        let multiple = self.multiples.floor(magnitude).clamp(self.low, self.high);
        if self.fives { multiple / 5 } else { multiple }
    }
}

/// A located value's first 13 significant digits, 10^12 to 10^13 - 1.
fn finest_index(place: &Place) -> u64 {
    floor_multiple(place.value.abs(), place.decade - DIGITS + 1)
        .clamp(LOWEST_INDEX, LOWEST_INDEX * 10 - 1)
}

/// The bins of one decade of one sign.
#[derive(Clone, Debug)]
struct Decade {
    /// Its magnitudes are 10^decade to 10^(decade + 1).
    decade: i32,
    level: u8,
    /// Where values fall at `level` (at [`DECIMAL`] beyond it).
    grid: Grid,
    bins: Store,
}

impl Default for Bins {
    /// No values, at the finest level.
    fn default() -> Bins {
        Bins {
            cap: FINEST,
            decades: vec![None; 2 * DECADES],
            load: 0,
            zeros: 0,
            neg_inf: 0,
            pos_inf: 0,
        }
    }
}

impl Bins {
    /// Counts `count` times a value (not NaN).
    #[inline]
    pub fn add(&mut self, value: f64, count: u64) {
        if let Some(place) = self.locate(value, count) {
            self.put(&place, count);
        }
    }

    /// Where a nonzero finite value falls; zeros and infinities are
    /// counted here.
    #[inline]
    fn locate(&mut self, value: f64, count: u64) -> Option<Place> {
        if value == 0.0 {
            self.zeros += count;
            return None;
        }
        if value.is_infinite() {
            if value > 0.0 {
                self.pos_inf += count;
            } else {
                self.neg_inf += count;
            }
            return None;
        }
        let d = decade(value.abs());
        Some(Place {
            value,
            decade: d,
            slot: slot(value < 0.0, d),
        })
    }

    /// Counts a located value in its bin.
    #[inline]
    fn put(&mut self, place: &Place, count: u64) {
        let cap = self.cap;
        let decade = self.decades[place.slot]
            .get_or_insert_with(|| Box::new(Decade::new(cap, place.decade)));
        let index = decade.index(place);
        if decade.bins.add(index, place.value, count) {
            self.grown(place.slot);
        }
    }

    /// Refits after a decade gained a bin.
    fn grown(&mut self, slot: usize) {
        let cap = self.cap;
        let Some(decade) = self.decades[slot].as_mut() else {
            return;
        };
        let before = share_of(decade.level, decade.bins.filled() - 1, cap);
        decade.fit();
        self.load = self.load - before + share(decade, cap);
        if self.load > MAX_BINS {
            self.lower_cap();
        }
    }

    /// Lowers the cap until the decades fit [`MAX_BINS`].
    fn lower_cap(&mut self) {
        while self.load > MAX_BINS {
            self.cap -= 1;
            for decade in self.decades.iter_mut().flatten() {
                decade.coarsen_to(self.cap);
            }
            self.load = self
                .decades
                .iter()
                .flatten()
                .map(|d| share(d, self.cap))
                .sum();
        }
    }

    /// Adds another's counts.
    pub fn absorb(&mut self, mut other: Bins) {
        let cap = self.cap.min(other.cap);
        for decade in self
            .decades
            .iter_mut()
            .chain(other.decades.iter_mut())
            .flatten()
        {
            decade.coarsen_to(cap);
        }
        self.cap = cap;
        for (mine, theirs) in self.decades.iter_mut().zip(other.decades) {
            match (mine.as_mut(), theirs) {
                (_, None) => {}
                (None, theirs) => *mine = theirs,
                (Some(mine), Some(theirs)) => mine.absorb(*theirs),
            }
        }
        self.zeros += other.zeros;
        self.neg_inf += other.neg_inf;
        self.pos_inf += other.pos_inf;
        self.load = self.decades.iter().flatten().map(|d| share(d, cap)).sum();
        self.lower_cap();
    }

    /// The bins in ascending order of value, infinities first and last.
    pub fn pieces(&self) -> Vec<Piece> {
        let atom = |value: f64, count: u64| (count > 0).then(|| Piece::atom(value, count));
        let (negative, positive) = self.decades.split_at(DECADES);
        let mut pieces: Vec<Piece> = atom(f64::NEG_INFINITY, self.neg_inf).into_iter().collect();
        for decade in negative.iter().flatten() {
            pieces.extend(decade.bins.pieces().into_iter().rev());
        }
        pieces.extend(atom(0.0, self.zeros));
        for decade in positive.iter().flatten() {
            pieces.extend(decade.bins.pieces());
        }
        pieces.extend(atom(f64::INFINITY, self.pos_inf));
        pieces
    }
}

/// A decade's share of [`MAX_BINS`] at `cap`: [`share_of`] its level and
/// bins.
fn share(decade: &Decade, cap: u8) -> usize {
    share_of(decade.level, decade.bins.filled(), cap)
}

/// The share of [`MAX_BINS`] of a decade at `level` with `filled` bins:
/// its bins at `cap` (at least [`DECADE_BINS`] if it is coarser) beyond
/// its [`FREE_BINS`].
fn share_of(level: u8, filled: usize, cap: u8) -> usize {
    let bins = if level < cap { DECADE_BINS } else { filled };
    bins.saturating_sub(FREE_BINS)
}

/// The slot of a decade: negative ones from the largest magnitude down,
/// then positive ones from the smallest up, so that slots are in the order
/// of the values.
fn slot(negative: bool, d: i32) -> usize {
    if negative {
        (MAX_DECADE - d) as usize
    } else {
        DECADES + (d - MIN_DECADE) as usize
    }
}

impl Decade {
    fn new(level: u8, decade: i32) -> Decade {
        Decade {
            decade,
            level,
            grid: Grid::for_level(level, decade),
            bins: Store::default(),
        }
    }

    /// The index at this level of a located value.
    #[inline]
    fn index(&self, place: &Place) -> u64 {
        let index = self.grid.index(place);
        if self.level <= DECIMAL {
            return index;
        }
        let first = edge(index, place.decade - DIGITS + 1).to_bits();
        let offset = place
            .value
            .abs()
            .to_bits()
            .saturating_sub(first)
            .min((1 << OFFSET_BITS) - 1);
        let finer = self.level - DECIMAL;
        index << finer | offset >> (OFFSET_BITS - finer)
    }

    /// Coarsens until the bins fit [`DECADE_BINS`].
    fn fit(&mut self) {
        if self.bins.filled() <= DECADE_BINS {
            return;
        }
        // Find the level on the indices alone (coarsening keeps them in
        // order, so equal ones stay together), then remap the bins once.
        let mut indices = self.bins.indices();
        indices.sort_unstable();
        let mut level = self.level;
        while indices.len() > DECADE_BINS {
            indices
                .iter_mut()
                .for_each(|i| *i = coarsen(*i, level, level - 1));
            indices.dedup();
            level -= 1;
        }
        self.coarsen_to(level);
    }

    fn coarsen_to(&mut self, level: u8) {
        if self.level <= level {
            return;
        }
        let from = self.level;
        let bins = std::mem::take(&mut self.bins);
        self.bins = bins.remap(|index| coarsen(index, from, level));
        self.level = level;
        self.grid = Grid::for_level(level, self.decade);
    }

    fn absorb(&mut self, mut other: Decade) {
        let level = self.level.min(other.level);
        self.coarsen_to(level);
        other.coarsen_to(level);
        self.bins.absorb(other.bins);
        self.fit();
    }
}

/// An index at level `from` at the coarser level `to`: halved once per
/// level finer than [`DECIMAL`], then divided by the ratio of each pair of
/// decimal levels' widths.
fn coarsen(mut index: u64, from: u8, to: u8) -> u64 {
    for level in (to + 1..=from).rev() {
        index = if level > DECIMAL {
            index >> 1
        } else {
            index / ratio(level)
        };
    }
    index
}

/// How many bins of `level` make one of `level - 1`.
fn ratio(level: u8) -> u64 {
    if level % 2 == 1 { 2 } else { 5 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]

        /// A value's index at each level is its 13-digit index divided by
        /// the level's width, and coarsens to its index one level coarser:
        /// for any nonzero finite float, subnormals and extremes included.
        #[test]
        fn every_level_divides_the_13_digit_index(
            value in prop_oneof![
                any::<u64>().prop_map(f64::from_bits),
                // Bin edges of every level and the floats next to them.
                (1u64..10_000_000_000_000, MIN_DECADE..=MAX_DECADE, -2i64..=2)
                    .prop_map(|(k, e, ulps)| {
                        let bits = edge(k, e - 12).to_bits();
                        f64::from_bits(bits.saturating_add_signed(ulps))
                    }),
            ]
        ) {
            prop_assume!(value.is_finite() && value != 0.0);
            let d = decade(value.abs());
            let place = Place { value, decade: d, slot: slot(value < 0.0, d) };
            let finest = Grid::for_level(DECIMAL, d).index(&place);
            prop_assert!((LOWEST_INDEX..LOWEST_INDEX * 10).contains(&finest));
            prop_assert!(edge(finest, d - DIGITS + 1) <= value.abs());
            for level in 0..=DECIMAL {
                let i = u32::from(level / 2);
                let width = if level % 2 == 0 {
                    10u64.pow(13 - i)
                } else {
                    5 * 10u64.pow(12 - i)
                };
                let index = Grid::for_level(level, d).index(&place);
                prop_assert_eq!(index, finest / width, "level {}", level);
                if level > 0 {
                    prop_assert_eq!(
                        coarsen(index, level, level - 1),
                        Grid::for_level(level - 1, d).index(&place)
                    );
                }
            }
        }
    }

    #[test]
    fn crowded_values_get_bins_of_their_own() {
        // 13 digits cannot tell these apart; their floats can.
        let mut bins = Bins::default();
        for i in 0..1_500 {
            let v = (i64::MAX - i * 4_096) as f64;
            bins.add(v, 2);
            bins.add(-v, 1);
        }
        let pieces = bins.pieces();
        assert_eq!(pieces.len(), 3_000);
        assert!(pieces.iter().all(|p| p.inner == 0 && p.high_count == 0));
        assert!(pieces.windows(2).all(|w| w[0].low < w[1].low));
    }

    #[test]
    fn a_crowded_decade_leaves_the_others_fine() {
        let mut bins = Bins::default();
        for i in 0..100_000 {
            bins.add(1.0 + f64::from(i) * 1e-5, 1);
        }
        for i in 0..1_000 {
            bins.add(u64::MAX as f64 - f64::from(i) * 4_096.0, 1);
        }
        let pieces = bins.pieces();
        let crowded = pieces.iter().filter(|p| p.high < 10.0);
        assert!(crowded.clone().count() <= DECADE_BINS);
        assert!(crowded.clone().all(|p| p.count() < 100));
        let huge: Vec<&Piece> = pieces.iter().filter(|p| p.low > 1e19).collect();
        assert_eq!(huge.len(), 1_000);
        assert_eq!(pieces.iter().map(Piece::count).sum::<u64>(), 101_000);
    }

    #[test]
    fn thinly_strewn_decades_leave_the_crowded_ones_fine() {
        // 20 values in every decade of both signs, and 100,000 in each of
        // three: counting every bin would lower the cap for all.
        let mut bins = Bins::default();
        for d in MIN_DECADE + 1..=MAX_DECADE - 1 {
            for i in 0..20 {
                let value = edge(10 + i, d - 1);
                bins.add(value, 1);
                bins.add(-value, 1);
            }
        }
        for start in [1.0, 1e-300, 1e300] {
            for i in 0..100_000 {
                bins.add(start * (1.0 + f64::from(i) * 8e-5), 1);
            }
        }
        let pieces = bins.pieces();
        let most = pieces.iter().map(|p| p.inner).max().unwrap();
        assert!(most < 200, "{most} values in one bin's inner values");
    }

    #[test]
    fn pieces_are_in_the_order_of_the_values() {
        let values = [
            f64::MIN,
            -1e300,
            -5.0,
            -4.999,
            -1e-320,
            0.0,
            -0.0,
            5e-324,
            1e-300,
            0.7,
            1.0,
            9.99,
            1e19,
            f64::MAX,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        let mut bins = Bins::default();
        for v in values {
            bins.add(v, 1);
        }
        let lows: Vec<f64> = bins.pieces().iter().map(|p| p.low).collect();
        let mut sorted: Vec<f64> = values.iter().map(|v| v + 0.0).collect();
        sorted.sort_by(f64::total_cmp);
        sorted.dedup();
        assert_eq!(lows, sorted);
    }

    #[test]
    fn extremes_are_exact_and_the_rest_is_inner() {
        // Level 2: one bin per unit in each decade.
        let mut bins = Bins {
            cap: 2,
            ..Bins::default()
        };
        for (value, count) in [(2.0, 5), (2.5, 1), (2.25, 2), (2.75, 3), (2.0, 1)] {
            bins.add(value, count);
        }
        assert_eq!(
            bins.pieces(),
            [Piece {
                low: 2.0,
                low_count: 6,
                inner: 3,
                high: 2.75,
                high_count: 3
            }]
        );
    }
}
