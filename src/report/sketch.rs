//! The distribution of a numeric column in bounded memory, built in one pass
//! and mergeable across threads.
//!
//! Up to [`EXACT_LIMIT`] distinct values are counted exactly. Past that the
//! values are counted in bins of width 10^e, aligned on multiples of the
//! width, with e the smallest exponent that keeps the range within
//! [`MAX_BINS`] bins. Because widths are powers of ten, any histogram whose
//! bin edges are multiples of 1, 2 or 5 x 10^k (k >= e) is an exact sum of
//! these bins, and the final state does not depend on how the values were
//! split between threads.

use ahash::AHashMap;

/// Distinct values counted exactly before switching to bins.
pub const EXACT_LIMIT: usize = 2_000;

/// The most bins kept once binned.
pub const MAX_BINS: i64 = 4_096;

/// A value as counted exactly: whole numbers (as read, or floats with no
/// fraction) as integers so that `1` and `1.0` are one value and 18-digit
/// codes stay exact; other floats by their bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Key {
    /// A whole number.
    Int(i128),
    /// Any other value (fractions, infinities), as `f64::to_bits`.
    Float(u64),
}

impl Key {
    /// The key of a float.
    pub fn of_f64(value: f64) -> Key {
        if value.fract() == 0.0 && value.abs() < 9e18 {
            Key::Int(i128::from(value as i64))
        } else if value.fract() == 0.0 && value.abs() < 1e38 {
            Key::Int(value as i128)
        } else {
            Key::Float(value.to_bits())
        }
    }

    /// The value as a float.
    pub fn value(self) -> f64 {
        match self {
            Key::Int(v) => v as f64,
            Key::Float(bits) => f64::from_bits(bits),
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
    sum: f64,
    fractional: bool,
    /// Counts of 0..SMALL, allocated on first use.
    small: Vec<u64>,
    small_distinct: usize,
    /// Other values by their bits as `f64` (whole numbers up to 2^53 too).
    exact: AHashMap<u64, u64>,
    /// Whole numbers beyond 2^53 (long codes), exactly.
    big: AHashMap<i128, u64>,
    bins: Option<Bins>,
}

#[derive(Clone, Debug)]
struct Bins {
    /// The width is 10^exponent.
    exponent: i32,
    /// 10^|exponent|, as `f64::powi` computes it.
    scale: f64,
    /// Index (value / width, rounded down) of `counts[0]`.
    start: i64,
    counts: Vec<u64>,
    neg_inf: u64,
    pos_inf: u64,
}

/// A run of values with one count: a single value (`low == high`) or the
/// values of one bin (`low <= v < high`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Atom {
    /// The lowest value.
    pub low: f64,
    /// The highest value (exact) or the bin's upper edge.
    pub high: f64,
    /// How many values.
    pub count: u64,
}

impl Sketch {
    /// Counts `count` times a whole number.
    pub fn add_int(&mut self, value: i128, count: u64) {
        match i64::try_from(value) {
            Ok(value) => self.add_i64(value, count),
            Err(_) => {
                self.count += count;
                self.sum += value as f64 * count as f64;
                self.insert(Key::Int(value), value as f64, count);
            }
        }
    }

    /// Counts `count` times a whole number that fits an `i64` (the common
    /// case, without 128-bit arithmetic).
    pub fn add_i64(&mut self, value: i64, count: u64) {
        let float = value as f64;
        self.count += count;
        self.sum += float * count as f64;
        match (&mut self.bins, usize::try_from(value)) {
            (None, Ok(small)) if small < SMALL => {
                if self.small.is_empty() {
                    self.small = vec![0; SMALL];
                }
                let slot = &mut self.small[small];
                self.small_distinct += usize::from(*slot == 0);
                *slot += count;
            }
            _ => self.insert(Key::Int(i128::from(value)), float, count),
        }
    }

    /// Counts `count` times a float (never NaN).
    pub fn add_float(&mut self, value: f64, count: u64) {
        self.count += count;
        self.sum += value * count as f64;
        let whole = is_whole(value);
        self.fractional |= !whole && value.is_finite();
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
        self.insert(Key::of_f64(value), value, count);
    }

    fn insert(&mut self, key: Key, value: f64, count: u64) {
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

    fn count_exact(&mut self, key: Key, count: u64) {
        match key {
            Key::Int(v) if (0..SMALL as i128).contains(&v) => {
                if self.small.is_empty() {
                    self.small = vec![0; SMALL];
                }
                let slot = &mut self.small[v as usize];
                self.small_distinct += usize::from(*slot == 0);
                *slot += count;
            }
            // Whole numbers a float holds exactly hash as floats (one u64).
            Key::Int(v) if v.unsigned_abs() <= 1 << 53 => {
                *self.exact.entry((v as f64).to_bits()).or_insert(0) += count;
            }
            Key::Int(v) => *self.big.entry(v).or_insert(0) += count,
            Key::Float(bits) => *self.exact.entry(bits).or_insert(0) += count,
        }
    }

    fn distinct(&self) -> usize {
        self.small_distinct + self.exact.len() + self.big.len()
    }

    /// Takes every exact (value, count) out.
    fn drain_exact(&mut self) -> Vec<(Key, u64)> {
        let all = self.exact_counts();
        self.small = Vec::new();
        self.small_distinct = 0;
        self.exact = AHashMap::new();
        self.big = AHashMap::new();
        all
    }

    fn exact_counts(&self) -> Vec<(Key, u64)> {
        let small = self
            .small
            .iter()
            .enumerate()
            .filter(|(_, c)| **c > 0)
            .map(|(v, &c)| (Key::Int(v as i128), c));
        let floats = self
            .exact
            .iter()
            .map(|(&bits, &c)| (Key::of_f64(f64::from_bits(bits)), c));
        let big = self.big.iter().map(|(&v, &c)| (Key::Int(v), c));
        small.chain(floats).chain(big).collect()
    }

    /// Values counted.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Whether any value has a fraction.
    pub fn fractional(&self) -> bool {
        self.fractional
    }

    /// The mean, when every value is finite.
    pub fn mean(&self) -> Option<f64> {
        let mean = self.sum / self.count as f64;
        (self.count > 0 && mean.is_finite()).then_some(mean)
    }

    /// Exact counts of each distinct value, when there are few enough.
    pub fn exact(&self) -> Option<Vec<(Key, u64)>> {
        self.bins.is_none().then(|| self.exact_counts())
    }

    /// The width of the bins, once binned.
    pub fn bin_width(&self) -> Option<f64> {
        self.bins.as_ref().map(|b| 10f64.powi(b.exponent))
    }

    /// Adds another sketch's values.
    pub fn merge(&mut self, mut other: Sketch) {
        self.count += other.count;
        self.sum += other.sum;
        self.fractional |= other.fractional;
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
            (Some(bins), Some(other)) => bins.absorb(other),
        }
    }

    fn switch_to_bins(&mut self) {
        let exact = self.drain_exact();
        let finite = || {
            exact
                .iter()
                .map(|(k, _)| k.value())
                .filter(|v| v.is_finite())
        };
        let low = finite().fold(f64::INFINITY, f64::min);
        let high = finite().fold(f64::NEG_INFINITY, f64::max);
        let mut bins = Bins::new(Bins::exponent_for(low, high));
        for (key, count) in exact {
            bins.add(key.value(), count);
        }
        self.bins = Some(bins);
    }

    /// The distribution in ascending order of value.
    pub fn atoms(&self) -> Vec<Atom> {
        match &self.bins {
            None => {
                let mut atoms: Vec<Atom> = self
                    .exact_counts()
                    .into_iter()
                    .map(|(key, count)| {
                        let v = key.value();
                        Atom {
                            low: v,
                            high: v,
                            count,
                        }
                    })
                    .collect();
                atoms.sort_by(|a, b| a.low.total_cmp(&b.low));
                atoms
            }
            Some(bins) => bins.atoms(),
        }
    }
}

impl Bins {
    fn new(exponent: i32) -> Bins {
        Bins {
            exponent,
            scale: 10f64.powi(exponent.abs()),
            start: 0,
            counts: Vec::new(),
            neg_inf: 0,
            pos_inf: 0,
        }
    }

    /// The smallest exponent whose bins span low..=high in at most MAX_BINS.
    fn exponent_for(low: f64, high: f64) -> i32 {
        if !(low.is_finite() && high.is_finite()) {
            return 0;
        }
        let span = (high - low).max(f64::MIN_POSITIVE);
        let mut exponent = ((span / MAX_BINS as f64).log10().floor() as i32 - 1).max(-30);
        while index(high, exponent) - index(low, exponent) >= MAX_BINS {
            exponent += 1;
        }
        exponent
    }

    fn add(&mut self, value: f64, count: u64) {
        if value == f64::INFINITY {
            self.pos_inf += count;
            return;
        }
        if value == f64::NEG_INFINITY {
            self.neg_inf += count;
            return;
        }
        let mut i = self.index(value);
        if let Some(bin) = self.counts.get_mut(i.wrapping_sub(self.start) as usize) {
            // The common case: a bin already in range.
            *bin += count;
            return;
        }
        if self.counts.is_empty() {
            self.start = i;
            self.counts.push(0);
        }
        let end = self.start + self.counts.len() as i64;
        let (low, high) = (self.start.min(i), end.max(i + 1));
        if high - low > MAX_BINS {
            let mut factor = 10;
            while (high - 1).div_euclid(factor) - low.div_euclid(factor) >= MAX_BINS {
                factor *= 10;
            }
            self.coarsen_to(self.exponent + factor.ilog10() as i32);
            return self.add(value, count);
        }
        if i < self.start {
            let grow = (self.start - i) as usize;
            self.counts.splice(0..0, std::iter::repeat_n(0, grow));
            self.start = i;
        } else if i >= end {
            self.counts.resize((i - self.start + 1) as usize, 0);
        }
        i -= self.start;
        self.counts[i as usize] += count;
    }

    fn width(&self) -> f64 {
        10f64.powi(self.exponent)
    }

    /// [`index`] at this width, without recomputing the power of ten.
    fn index(&self, value: f64) -> i64 {
        scaled_index(value, self.exponent, self.scale)
    }

    fn coarsen_to(&mut self, exponent: i32) {
        if exponent <= self.exponent {
            return;
        }
        let factor = 10i64.pow((exponent - self.exponent) as u32);
        let mut coarse: Vec<u64> = Vec::new();
        let start = self.start.div_euclid(factor);
        for (offset, &count) in self.counts.iter().enumerate() {
            let i = (self.start + offset as i64).div_euclid(factor) - start;
            if coarse.len() <= i as usize {
                coarse.resize(i as usize + 1, 0);
            }
            coarse[i as usize] += count;
        }
        self.exponent = exponent;
        self.scale = 10f64.powi(exponent.abs());
        self.start = start;
        self.counts = coarse;
    }

    fn absorb(&mut self, mut other: Bins) {
        let exponent = self.exponent.max(other.exponent);
        self.coarsen_to(exponent);
        other.coarsen_to(exponent);
        self.neg_inf += other.neg_inf;
        self.pos_inf += other.pos_inf;
        let width = self.width();
        for (offset, &count) in other.counts.iter().enumerate() {
            if count > 0 {
                // The bin's middle lands in the same bin at this width.
                let middle = ((other.start + offset as i64) as f64 + 0.5) * width;
                self.add(middle, count);
            }
        }
    }

    fn atoms(&self) -> Vec<Atom> {
        let width = self.width();
        let mut atoms = Vec::new();
        if self.neg_inf > 0 {
            atoms.push(Atom {
                low: f64::NEG_INFINITY,
                high: f64::NEG_INFINITY,
                count: self.neg_inf,
            });
        }
        for (offset, &count) in self.counts.iter().enumerate() {
            if count > 0 {
                let i = self.start + offset as i64;
                atoms.push(Atom {
                    low: edge(i, self.exponent),
                    high: edge(i + 1, self.exponent).max((i + 1) as f64 * width),
                    count,
                });
            }
        }
        if self.pos_inf > 0 {
            atoms.push(Atom {
                low: f64::INFINITY,
                high: f64::INFINITY,
                count: self.pos_inf,
            });
        }
        atoms
    }
}

/// The bin of `value` at width 10^exponent. Scaling by an exact power of
/// ten (multiplying for negative exponents) keeps values such as 0.3 in
/// the bin their decimal text names.
fn index(value: f64, exponent: i32) -> i64 {
    scaled_index(value, exponent, 10f64.powi(exponent.abs()))
}

/// [`index`], given `scale` = 10^|exponent|.
fn scaled_index(value: f64, exponent: i32, scale: f64) -> i64 {
    let scaled = if exponent < 0 {
        value * scale
    } else {
        value / scale
    };
    floor_to_i64(scaled)
}

/// `value.floor() as i64`, without a call to `floor` (not an instruction
/// on baseline x86-64).
fn floor_to_i64(value: f64) -> i64 {
    let truncated = value as i64;
    truncated.saturating_sub(i64::from(truncated as f64 > value))
}

/// `value.fract() == 0.0` for finite values, without a call to `trunc`;
/// infinities count as whole.
fn is_whole(value: f64) -> bool {
    value.abs() >= (1u64 << 52) as f64 || (value as i64) as f64 == value
}

/// The lower edge of bin `i` at width 10^exponent.
fn edge(i: i64, exponent: i32) -> f64 {
    if exponent < 0 {
        i as f64 / 10f64.powi(-exponent)
    } else {
        i as f64 * 10f64.powi(exponent)
    }
}

/// The `q`-quantile (0..=1) of a distribution, interpolating linearly
/// between ranks as pandas' `quantile` does; within a bin, values are taken
/// as spread evenly.
pub fn quantile(atoms: &[Atom], q: f64) -> Option<f64> {
    let total: u64 = atoms.iter().map(|a| a.count).sum();
    if total == 0 {
        return None;
    }
    let rank = q * (total - 1) as f64;
    let below = rank.floor();
    let fraction = rank - below;
    let lower = value_at(atoms, below as u64);
    if fraction == 0.0 {
        return Some(lower);
    }
    let upper = value_at(atoms, below as u64 + 1);
    Some(lower + (upper - lower) * fraction)
}

/// The value of the `rank`-th smallest (0-based) value.
fn value_at(atoms: &[Atom], rank: u64) -> f64 {
    let mut seen = 0;
    for atom in atoms {
        if rank < seen + atom.count {
            if atom.low == atom.high {
                return atom.low;
            }
            let within = (rank - seen) as f64 + 0.5;
            return atom.low + (atom.high - atom.low) * within / atom.count as f64;
        }
        seen += atom.count;
    }
    atoms.last().map_or(f64::NAN, |a| a.high)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sketch(values: impl IntoIterator<Item = f64>) -> Sketch {
        let mut s = Sketch::default();
        for v in values {
            s.add_float(v, 1);
        }
        s
    }

    #[test]
    fn few_values_are_counted_exactly() {
        let mut s = sketch([1.0, 2.5, 1.0]);
        s.add_int(1, 1);
        s.add_int(123_456_789_012_345_678, 1);
        let exact = s.exact().unwrap();
        assert!(exact.contains(&(Key::Int(1), 3)));
        assert!(exact.contains(&(Key::Int(123_456_789_012_345_678), 1)));
        assert_eq!(exact.len(), 3);
        assert!(s.fractional());
        let atoms = sketch([3.0, 1.0, 2.0, 4.0]).atoms();
        assert_eq!(quantile(&atoms, 0.5), Some(2.5));
        assert_eq!(quantile(&atoms, 0.25), Some(1.75));
    }

    #[test]
    fn many_values_are_binned_and_the_bins_do_not_depend_on_the_split() {
        let values: Vec<f64> = (0..20_000)
            .map(|i| (i as f64 * 0.37).sin() * 50.0 + 25.0)
            .collect();
        let whole = sketch(values.iter().copied());
        assert!(whole.exact().is_none());
        let mut parts = sketch(values[..7_000].iter().copied());
        parts.merge(sketch(values[7_000..7_500].iter().copied()));
        parts.merge(sketch(values[7_500..].iter().copied()));
        assert_eq!(whole.atoms(), parts.atoms());
        assert_eq!(whole.bin_width(), Some(0.1));
        let total: u64 = whole.atoms().iter().map(|a| a.count).sum();
        assert_eq!(total, 20_000);
        // The median of the binned data is within one bin of the true one.
        let mut sorted = values.clone();
        sorted.sort_by(f64::total_cmp);
        let true_median = (sorted[9_999] + sorted[10_000]) / 2.0;
        let median = quantile(&whole.atoms(), 0.5).unwrap();
        assert!(
            (median - true_median).abs() <= 0.1,
            "{median} vs {true_median}"
        );
    }

    #[test]
    fn floors_and_whole_numbers_match_the_library_functions() {
        for v in [
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.0,
            -1.0,
            2.999,
            -2.999,
            1e15 + 0.5,
            4.6e18,
            -4.6e18,
            1e300,
            -1e300,
        ] {
            assert_eq!(floor_to_i64(v), v.floor() as i64, "{v}");
            assert_eq!(is_whole(v), v.fract() == 0.0, "{v}");
        }
        assert!(is_whole(f64::INFINITY));
    }

    #[test]
    fn a_wide_new_value_coarsens_the_bins() {
        let mut s = sketch((0..3_000).map(|i| i as f64 / 7.0));
        let before = s.bin_width().unwrap();
        s.add_float(1e9, 1);
        s.add_float(f64::INFINITY, 1);
        assert!(s.bin_width().unwrap() > before);
        let atoms = s.atoms();
        assert_eq!(atoms.iter().map(|a| a.count).sum::<u64>(), 3_002);
        assert_eq!(atoms.last().unwrap().low, f64::INFINITY);
        assert_eq!(s.mean(), None);
    }
}
