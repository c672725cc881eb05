//! The few smallest and largest values of a column, kept exactly so that
//! the published mean can be of values winsorized at the edge of the
//! smallest group the rule allows: a single extreme value then adds only
//! that edge to the mean, and cannot be worked back out of it.
//!
//! Bounded (2 × [`TAIL`] values) and mergeable; the result is the same for
//! any split of the values, as each side keeps the `TAIL` extremes of the
//! multiset it saw.

use super::disclosure::RANGE_TAIL;

/// Values kept at each end: the group a published figure may describe.
pub const TAIL: usize = RANGE_TAIL as usize;

/// The [`TAIL`] smallest and largest values seen.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Extremes {
    /// Ascending.
    low: Vec<f64>,
    /// Descending.
    high: Vec<f64>,
}

impl Extremes {
    /// Counts `count` times a value.
    pub fn add(&mut self, value: f64, count: u64) {
        for _ in 0..count.min(TAIL as u64) {
            keep(&mut self.low, value, |a, b| a < b);
            keep(&mut self.high, value, |a, b| a > b);
        }
    }

    /// Adds another's values.
    pub fn merge(&mut self, other: &Extremes) {
        other
            .low
            .iter()
            .for_each(|&v| keep(&mut self.low, v, |a, b| a < b));
        other
            .high
            .iter()
            .for_each(|&v| keep(&mut self.high, v, |a, b| a > b));
    }

    /// The values below the lower edge and above the upper edge, and the
    /// edges, where `count` values were seen: winsorizing replaces the
    /// `TAIL - 1` most extreme values at each end by the `TAIL`-th. `None`
    /// when the two ends overlap (fewer than `2 × TAIL` values).
    pub fn tails(&self, count: u64) -> Option<Tails<'_>> {
        if count < 2 * TAIL as u64 || self.low.len() < TAIL || self.high.len() < TAIL {
            return None;
        }
        Some(Tails {
            low: &self.low[..TAIL - 1],
            low_edge: self.low[TAIL - 1],
            high: &self.high[..TAIL - 1],
            high_edge: self.high[TAIL - 1],
        })
    }
}

/// The values winsorizing replaces, and what it replaces them with.
#[derive(Debug)]
pub struct Tails<'a> {
    /// The smallest values, below `low_edge` or equal to it.
    pub low: &'a [f64],
    /// The `TAIL`-th smallest value.
    pub low_edge: f64,
    /// The largest values, above `high_edge` or equal to it.
    pub high: &'a [f64],
    /// The `TAIL`-th largest value.
    pub high_edge: f64,
}

/// Inserts `value` into `kept` (ordered by `before`), keeping at most
/// [`TAIL`].
fn keep(kept: &mut Vec<f64>, value: f64, before: impl Fn(f64, f64) -> bool) {
    if kept.len() == TAIL && !before(value, kept[TAIL - 1]) {
        return;
    }
    let at = kept.partition_point(|&k| !before(value, k));
    kept.insert(at, value);
    kept.truncate(TAIL);
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn the_extremes_are_the_sorted_ends_whatever_the_split(
            values in proptest::collection::vec(-1e6f64..1e6, 0..200),
            split in 0usize..200,
        ) {
            let split = split.min(values.len());
            let mut whole = Extremes::default();
            values.iter().for_each(|&v| whole.add(v, 1));
            let (mut a, mut b) = (Extremes::default(), Extremes::default());
            values[..split].iter().for_each(|&v| a.add(v, 1));
            values[split..].iter().for_each(|&v| b.add(v, 1));
            a.merge(&b);
            prop_assert_eq!(&a, &whole);
            let mut sorted = values.clone();
            sorted.sort_by(f64::total_cmp);
            match whole.tails(values.len() as u64) {
                None => prop_assert!(values.len() < 2 * TAIL),
                Some(tails) => {
                    prop_assert_eq!(tails.low, &sorted[..TAIL - 1]);
                    prop_assert_eq!(tails.low_edge, sorted[TAIL - 1]);
                    let top: Vec<f64> = sorted.iter().rev().take(TAIL - 1).copied().collect();
                    prop_assert_eq!(tails.high, &top[..]);
                    prop_assert_eq!(tails.high_edge, sorted[sorted.len() - TAIL]);
                }
            }
        }
    }
}
