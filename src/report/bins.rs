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
use super::decimal::{MAX_DECADE, MIN_DECADE, decade, edge, floor_multiple};
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

/// Where a nonzero finite value falls at the finest decimal level.
#[derive(Clone, Copy, Debug, Default)]
struct Place {
    value: f64,
    decade: i32,
    /// Its first 13 significant digits, 10^12 to 10^13 - 1.
    index: u64,
    slot: usize,
}

/// The bins of one decade of one sign.
#[derive(Clone, Debug)]
struct Decade {
    level: u8,
    /// From a value's 13-digit index to its index at `level`.
    divisor: Divisor,
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
        let magnitude = value.abs();
        let d = decade(magnitude);
        let index =
            floor_multiple(magnitude, d - DIGITS + 1).clamp(LOWEST_INDEX, LOWEST_INDEX * 10 - 1);
        Some(Place {
            value,
            decade: d,
            index,
            slot: slot(value < 0.0, d),
        })
    }

    /// Counts a located value in its bin.
    #[inline]
    fn put(&mut self, place: &Place, count: u64) {
        let cap = self.cap;
        let decade = self.decades[place.slot].get_or_insert_with(|| Box::new(Decade::new(cap)));
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
    fn new(level: u8) -> Decade {
        Decade {
            level,
            divisor: Divisor::for_level(level),
            bins: Store::default(),
        }
    }

    /// The index at this level of a located value.
    #[inline]
    fn index(&self, place: &Place) -> u64 {
        if self.level <= DECIMAL {
            return self.divisor.divide(place.index);
        }
        let first = edge(place.index, place.decade - DIGITS + 1).to_bits();
        let offset = place
            .value
            .abs()
            .to_bits()
            .saturating_sub(first)
            .min((1 << OFFSET_BITS) - 1);
        let finer = self.level - DECIMAL;
        place.index << finer | offset >> (OFFSET_BITS - finer)
    }

    /// Coarsens until the bins fit [`DECADE_BINS`].
    fn fit(&mut self) {
        while self.bins.filled() > DECADE_BINS {
            self.coarsen_to(self.level - 1);
        }
    }

    fn coarsen_to(&mut self, level: u8) {
        if self.level <= level {
            return;
        }
        let from = self.level;
        let bins = std::mem::take(&mut self.bins);
        self.bins = bins.remap(|index| coarsen(index, from, level));
        self.level = level;
        self.divisor = Divisor::for_level(level);
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
            index / Divisor::ratio(level)
        };
    }
    index
}

/// Division of a finest index (below 2^57) by a level's constant, as a
/// multiplication: floor(k / d) = floor(k × m / 2^(64 + s)) with
/// m = floor(2^(64 + s) / d) + 1 and s = floor(log2 d), exact for any
/// k < 2^57 because the error k × (m - 2^(64+s)/d) / 2^(64+s) stays below
/// 2^(-7-s) < 1/d.
#[derive(Clone, Copy, Debug)]
struct Divisor {
    /// 0 for a divisor of 1.
    multiplier: u64,
    shift: u32,
}

impl Divisor {
    /// The divisor from the finest index to the index at `level`:
    /// 10^(13-i) at level 2i, 5 × 10^(12-i) at level 2i + 1 (1 beyond
    /// [`DECIMAL`]).
    fn for_level(level: u8) -> Divisor {
        let level = level.min(DECIMAL);
        let i = u32::from(level / 2);
        let d = if level % 2 == 0 {
            10u64.pow(DIGITS as u32 - i)
        } else {
            5 * 10u64.pow(DIGITS as u32 - 1 - i)
        };
        if d == 1 {
            return Divisor {
                multiplier: 0,
                shift: 0,
            };
        }
        let shift = d.ilog2();
        // d is not a power of two, so the multiplier fits 64 bits.
        let multiplier = ((1u128 << (64 + shift)) / u128::from(d)) as u64 + 1;
        Divisor { multiplier, shift }
    }

    /// How many bins of `level` make one of `level - 1`.
    fn ratio(level: u8) -> u64 {
        if level % 2 == 1 { 2 } else { 5 }
    }

    #[inline]
    fn divide(self, k: u64) -> u64 {
        if self.multiplier == 0 {
            return k;
        }
        ((u128::from(k) * u128::from(self.multiplier)) >> (64 + self.shift)) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn divisors_divide_exactly() {
        for level in 0..=DECIMAL {
            let divisor = Divisor::for_level(level);
            let i = u32::from(level / 2);
            let d = if level % 2 == 0 {
                10u64.pow(13 - i)
            } else {
                5 * 10u64.pow(12 - i)
            };
            let mut k = 1u64;
            for step in 0..4_000u64 {
                for probe in [
                    k,
                    k.wrapping_mul(d) % (1 << 57),
                    (k % (1 << 57)) / d * d,
                    ((k % (1 << 57)) / d * d).saturating_sub(1),
                ] {
                    let probe = probe % (1 << 57);
                    assert_eq!(divisor.divide(probe), probe / d, "{probe} / {d}");
                }
                k = k
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407 + step);
            }
            if level > 0 {
                assert_eq!(
                    Divisor::for_level(level - 1).divide(k % (1 << 57)),
                    divisor.divide(k % (1 << 57)) / Divisor::ratio(level)
                );
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
