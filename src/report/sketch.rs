//! The distribution of a numeric column in bounded memory, built in one pass
//! and mergeable across threads, with the same result whatever the split.
//!
//! Up to [`EXACT_LIMIT`] distinct values are counted exactly: quartiles and
//! histogram counts of flags, ages and codes are exact. Past that the
//! values are counted in decimal bins of as many significant digits as fit
//! in bounded memory ([`super::bins`]), each with its extremes exactly, so
//! that every quantile comes with a bound on its rank error
//! ([`super::distribution`]). The sum is exact ([`super::exact_sum`]).

use crate::hashing::Map;

use super::bins::Bins;
use super::distribution::Piece;
use super::exact_sum::ExactSum;
use super::extremes::{Extremes, TAIL};

/// Distinct values counted exactly before switching to bins.
pub const EXACT_LIMIT: usize = 2_000;

/// A value as counted exactly: whole numbers (as read, or floats with no
/// fraction) as integers so that `1` and `1.0` are one value and 18-digit
/// codes stay exact; other floats by their bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ValueKey {
    /// A whole number.
    Int(i128),
    /// Any other value (fractions, infinities), as `f64::to_bits`.
    Float(u64),
}

impl ValueKey {
    /// The key of a float.
    pub fn of_f64(value: f64) -> ValueKey {
        if value.fract() == 0.0 && value.abs() < 9e18 {
            ValueKey::Int(i128::from(value as i64))
        } else if value.fract() == 0.0 && value.abs() < 1e38 {
            ValueKey::Int(value as i128)
        } else {
            ValueKey::Float(value.to_bits())
        }
    }

    /// The value as a float.
    pub fn value(self) -> f64 {
        match self {
            ValueKey::Int(v) => v as f64,
            ValueKey::Float(bits) => f64::from_bits(bits),
        }
    }
}

/// Whole numbers from 0 up to this are counted in an array, not hashed:
/// flags, ages and small codes, the bulk of a cohort file.
const SMALL: usize = 1_024;

/// A numeric column's distribution.
#[derive(Clone, Debug, Default)]
pub struct Sketch {
    count: u64,
    sum: ExactSum,
    /// Values with a fraction.
    fractional: u64,
    /// Counts of 0..SMALL, allocated on first use.
    small: Vec<u64>,
    small_distinct: usize,
    /// Other values by their bits as `f64` (whole numbers up to 2^53 too).
    exact: Map<u64, u64>,
    /// Whole numbers beyond 2^53 (long codes), exactly.
    big: Map<i128, u64>,
    /// Past [`EXACT_LIMIT`] distinct values, every value as a float.
    bins: Option<Box<Bins>>,
    /// The few smallest and largest values, for the winsorized mean.
    extremes: Extremes,
}

impl Sketch {
    /// Counts `count` times a whole number.
    pub fn add_int(&mut self, value: i128, count: u64) {
        match i64::try_from(value) {
            Ok(value) => self.add_i64(value, count),
            Err(_) => {
                self.count += count;
                self.sum.add_int(value, count);
                self.extremes.add(value as f64, count);
                self.insert(ValueKey::Int(value), value as f64, count);
            }
        }
    }

    /// Counts `count` times a whole number that fits an `i64` (the common
    /// case, without 128-bit keys).
    pub fn add_i64(&mut self, value: i64, count: u64) {
        self.count += count;
        self.sum.add_int(i128::from(value), count);
        self.extremes.add(value as f64, count);
        match (&mut self.bins, usize::try_from(value)) {
            (None, Ok(small)) if small < SMALL => {
                if self.small.is_empty() {
                    self.small = vec![0; SMALL];
                }
                let slot = &mut self.small[small];
                self.small_distinct += usize::from(*slot == 0);
                *slot += count;
            }
            _ => self.insert(ValueKey::Int(i128::from(value)), value as f64, count),
        }
    }

    /// Counts `count` times a float; NaN, which is no number, is left out.
    pub fn add_float(&mut self, value: f64, count: u64) {
        if value.is_nan() {
            return;
        }
        self.count += count;
        self.sum.add_float(value, count);
        self.extremes.add(value, count);
        let whole = is_whole(value);
        if !whole && value.is_finite() {
            self.fractional += count;
        }
        if let Some(bins) = &mut self.bins {
            return bins.add(value, count);
        }
        if value.abs() <= (1u64 << 53) as f64 && !(whole && value >= 0.0 && value < SMALL as f64) {
            // Counted by its bits, as count_exact would, without a detour
            // through 128-bit integers; -0.0 is 0.0.
            *self.exact.entry((value + 0.0).to_bits()).or_insert(0) += count;
            if self.distinct() > EXACT_LIMIT {
                self.switch_to_bins();
            }
            return;
        }
        self.insert(ValueKey::of_f64(value), value, count);
    }

    fn insert(&mut self, key: ValueKey, value: f64, count: u64) {
        match &mut self.bins {
            Some(bins) => bins.add(value, count),
            None => {
                self.count_exact(key, count);
                if self.distinct() > EXACT_LIMIT {
                    self.switch_to_bins();
                }
            }
        }
    }

    fn count_exact(&mut self, key: ValueKey, count: u64) {
        match key {
            ValueKey::Int(v) if (0..SMALL as i128).contains(&v) => {
                if self.small.is_empty() {
                    self.small = vec![0; SMALL];
                }
                let slot = &mut self.small[v as usize];
                self.small_distinct += usize::from(*slot == 0);
                *slot += count;
            }
            // Whole numbers a float holds exactly hash as floats (one u64).
            ValueKey::Int(v) if v.unsigned_abs() <= 1 << 53 => {
                *self.exact.entry((v as f64).to_bits()).or_insert(0) += count;
            }
            ValueKey::Int(v) => *self.big.entry(v).or_insert(0) += count,
            ValueKey::Float(bits) => *self.exact.entry(bits).or_insert(0) += count,
        }
    }

    fn distinct(&self) -> usize {
        self.small_distinct + self.exact.len() + self.big.len()
    }

    /// Takes every exact (value, count) out.
    fn drain_exact(&mut self) -> Vec<(ValueKey, u64)> {
        let all = self.exact_counts();
        self.small = Vec::new();
        self.small_distinct = 0;
        self.exact = Map::default();
        self.big = Map::default();
        all
    }

    fn exact_counts(&self) -> Vec<(ValueKey, u64)> {
        let small = self
            .small
            .iter()
            .enumerate()
            .filter(|(_, c)| **c > 0)
            .map(|(v, &c)| (ValueKey::Int(v as i128), c));
        let floats = self
            .exact
            .iter()
            .map(|(&bits, &c)| (ValueKey::of_f64(f64::from_bits(bits)), c));
        let big = self.big.iter().map(|(&v, &c)| (ValueKey::Int(v), c));
        small.chain(floats).chain(big).collect()
    }

    fn switch_to_bins(&mut self) {
        let mut bins = Box::new(Bins::default());
        for (key, count) in self.drain_exact() {
            bins.add(key.value(), count);
        }
        self.bins = Some(bins);
    }

    /// Values counted.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// How many values have a fraction.
    pub fn fractional(&self) -> u64 {
        self.fractional
    }

    /// The mean, correctly rounded from the exact sum (infinite or NaN
    /// where there are infinities); `None` without values.
    pub fn mean(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum.mean(self.count))
    }

    /// The mean of the values winsorized at the [`TAIL`]-th from each end
    /// (the `TAIL - 1` smallest raised to the `TAIL`-th smallest, the
    /// largest lowered likewise), so that no value of a group smaller than
    /// the rule allows is in it; `None` with fewer than `2 × TAIL` values.
    pub fn winsorized_mean(&self) -> Option<f64> {
        let tails = self.extremes.tails(self.count)?;
        let mut sum = self.sum.clone();
        for &value in tails.low.iter().chain(tails.high) {
            sum.add_float(-value, 1);
        }
        let replaced = (TAIL - 1) as u64;
        sum.add_float(tails.low_edge, replaced);
        sum.add_float(tails.high_edge, replaced);
        Some(sum.mean(self.count))
    }

    /// Exact counts of each distinct value, when there are few enough.
    pub fn exact(&self) -> Option<Vec<(ValueKey, u64)>> {
        self.bins.is_none().then(|| self.exact_counts())
    }

    /// Adds another sketch's values.
    pub fn merge(&mut self, mut other: Sketch) {
        self.count += other.count;
        self.sum.merge(std::mem::take(&mut other.sum));
        self.extremes.merge(&other.extremes);
        self.fractional += other.fractional;
        match (&mut self.bins, other.bins.take()) {
            (None, None) => {
                for (key, count) in other.drain_exact() {
                    self.count_exact(key, count);
                }
                if self.distinct() > EXACT_LIMIT {
                    self.switch_to_bins();
                }
            }
            (Some(bins), None) => {
                for (key, count) in other.drain_exact() {
                    bins.add(key.value(), count);
                }
            }
            (None, Some(mut bins)) => {
                for (key, count) in self.drain_exact() {
                    bins.add(key.value(), count);
                }
                self.bins = Some(bins);
            }
            (Some(bins), Some(other)) => bins.absorb(*other),
        }
    }

    /// The distribution in ascending order of value.
    pub fn pieces(&self) -> Vec<Piece> {
        match &self.bins {
            None => {
                let mut values: Vec<(f64, u64)> = self
                    .exact_counts()
                    .into_iter()
                    .map(|(key, count)| (key.value(), count))
                    .collect();
                values.sort_by(|a, b| a.0.total_cmp(&b.0));
                // Whole numbers beyond 2^53 can share a float.
                let mut atoms: Vec<Piece> = Vec::with_capacity(values.len());
                for (value, count) in values {
                    match atoms.last_mut() {
                        Some(last) if last.low == value => last.low_count += count,
                        _ => atoms.push(Piece::atom(value, count)),
                    }
                }
                atoms
            }
            Some(bins) => bins.pieces(),
        }
    }
}

/// `value.fract() == 0.0` for finite values, without a call to `trunc`;
/// infinities count as whole.
fn is_whole(value: f64) -> bool {
    value.abs() >= (1u64 << 52) as f64 || (value as i64) as f64 == value
}

#[cfg(test)]
#[path = "sketch_tests.rs"]
mod tests;
