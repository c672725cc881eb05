//! The figures a report publishes about a numeric column's values, all
//! computed here from its sketch: the mean and quartiles (with what is
//! withheld, and why) and the percentiles at which its histogram opens.

use std::collections::BTreeMap;

use serde::Serialize;

use super::disclosure::{MIN_FOR_STATISTICS, Rule};
use super::distribution::{Estimate, Piece, quantile, values_between};
use super::sketch::Sketch;

/// The largest rank error of a published quantile, as a share of the
/// values: an estimate that may be further from the true quantile's rank
/// is withheld.
pub const MAX_RANK_ERROR: f64 = 0.01;

/// The percentiles at which a histogram's open first and last bins start.
const HISTOGRAM_TAILS: (f64, f64) = (0.01, 0.99);

/// Summary statistics of a numeric column.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Statistics {
    /// The mean, to four significant digits.
    pub mean: Option<f64>,
    /// The 25th percentile, to four significant digits, or more where
    /// four would move it by more than 1 % of the values' ranks.
    pub q1: Option<f64>,
    /// The median, likewise.
    pub median: Option<f64>,
    /// The 75th percentile, likewise.
    pub q3: Option<f64>,
    /// Why a figure above is withheld (`None`), by figure name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub withheld: BTreeMap<&'static str, &'static str>,
}

impl Statistics {
    /// Each figure with its name and the rule behind it (or why it is
    /// withheld), for the long table ([`super::figures`]).
    pub fn figures(&self) -> Vec<(&'static str, Option<f64>, String)> {
        let of = format!("of {MIN_FOR_STATISTICS} or more values");
        let mean =
            format!("{of}, winsorized at the 8th smallest and largest, to four significant digits");
        let quartile = format!(
            "{of}, to four significant digits or more where four would move it by more than 1 % of the values' ranks"
        );
        [
            ("mean", "mean", self.mean, &mean),
            ("q1", "lower quartile", self.q1, &quartile),
            ("median", "median", self.median, &quartile),
            ("q3", "upper quartile", self.q3, &quartile),
        ]
        .into_iter()
        .map(|(key, name, value, rule)| {
            let why = match self.withheld.get(key) {
                Some(reason) => format!("withheld: {reason}"),
                None => rule.clone(),
            };
            (name, value, why)
        })
        .collect()
    }
}

/// Why the mean of a column with infinite values is withheld.
pub const INFINITE_MEAN: &str = "the column holds infinite values";

/// Why a quantile that is itself infinite is withheld.
pub const INFINITE_QUANTILE: &str = "infinite values lie at its rank";

/// Why a quantile that cannot be placed within [`MAX_RANK_ERROR`] is
/// withheld.
pub const IMPRECISE_QUANTILE: &str =
    "too many distinct values lie close to it to place it within 1 % of their ranks";

/// The statistics published for a column, or `None` when too few values
/// stand behind them ([`MIN_FOR_STATISTICS`]). `pieces` is the sketch's
/// distribution.
///
/// Whether there are enough is decided on the count as `rule` publishes
/// it, so that the statistics' presence tells no more than that count. The
/// mean is of the values winsorized at the 8th from each end
/// ([`Sketch::winsorized_mean`]): one extreme value cannot be worked back
/// out of it beside the quartiles and the rows.
pub fn publish(sketch: &Sketch, pieces: &[Piece], rule: Rule) -> Option<Statistics> {
    let count = sketch.count();
    if rule.publish(count).is_none_or(|c| c < MIN_FOR_STATISTICS) {
        return None;
    }
    let mut withheld = BTreeMap::new();
    let mean = sketch.mean().filter(|m| m.is_finite());
    let mean = mean.and(sketch.winsorized_mean());
    if mean.is_none() {
        withheld.insert("mean", INFINITE_MEAN);
    }
    let mut quartile = |name: &'static str, q: f64| {
        let estimate = quantile(pieces, q)?;
        match published(estimate, pieces, count) {
            Ok(value) => Some(value),
            Err(reason) => {
                withheld.insert(name, reason);
                None
            }
        }
    };
    let (q1, median, q3) = (
        quartile("q1", 0.25),
        quartile("median", 0.5),
        quartile("q3", 0.75),
    );
    Some(Statistics {
        mean: mean.map(significant),
        q1,
        median,
        q3,
        withheld,
    })
}

/// A quantile estimate as published, or why it is not: to the fewest
/// significant digits (at least four) that keep it within
/// [`MAX_RANK_ERROR`] of the true quantile's rank, counting both the
/// estimate's error and the values rounding steps over.
fn published(estimate: Estimate, pieces: &[Piece], count: u64) -> Result<f64, &'static str> {
    let budget = (MAX_RANK_ERROR * count as f64) as u64;
    if !estimate.value.is_finite() {
        return Err(INFINITE_QUANTILE);
    }
    if estimate.rank_error > budget {
        return Err(IMPRECISE_QUANTILE);
    }
    let slack = budget - estimate.rank_error;
    Ok((4..=17)
        .map(|digits| significant_digits(estimate.value, digits))
        .find(|&rounded| values_between(pieces, estimate.value, rounded) <= slack)
        .unwrap_or(estimate.value))
}

/// The 1st and 99th percentiles of the finite values, where the
/// histogram's open first and last bins start (so that neither the
/// minimum nor the maximum shows); `None` without finite values.
pub fn histogram_range(pieces: &[Piece]) -> Option<(f64, f64)> {
    let finite: Vec<Piece> = pieces
        .iter()
        .filter(|p| p.low.is_finite())
        .copied()
        .collect();
    let (low, high) = HISTOGRAM_TAILS;
    Some((
        quantile(&finite, low)?.value,
        quantile(&finite, high)?.value,
    ))
}

/// `value` to four significant digits.
pub fn significant(value: f64) -> f64 {
    significant_digits(value, 4)
}

/// `value` to `digits` significant digits (the nearest float to the
/// decimal, rounded half to even; towards zero where rounding up would
/// overflow).
fn significant_digits(value: f64, digits: usize) -> f64 {
    if value == 0.0 || !value.is_finite() {
        return value;
    }
    let rounded: f64 = format!("{value:.*e}", digits - 1).parse().unwrap_or(value);
    if rounded.is_finite() {
        return rounded;
    }
    // Only f64::MAX's neighbours round up past it: truncate instead.
    let text = format!("{value:.*e}", digits + 2);
    let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
    let kept = digits + 1 + usize::from(value < 0.0);
    format!("{}e{exponent}", &mantissa[..kept])
        .parse()
        .unwrap_or(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn significant_digits() {
        assert_eq!(significant(27.839046852715178), 27.84);
        assert_eq!(significant(161925006.0), 161900000.0);
        assert_eq!(significant(-0.00012345678), -0.0001235);
        assert_eq!(significant(f64::MAX), 1.797e308);
        assert_eq!(significant(-f64::MAX), -1.797e308);
        assert_eq!(significant(f64::from_bits(1)), 5e-324);
        assert_eq!(significant(1.2346e-310), 1.235e-310);
        assert_eq!(significant(f64::INFINITY), f64::INFINITY);
    }

    fn sketch(values: impl IntoIterator<Item = f64>) -> Sketch {
        let mut s = Sketch::default();
        for v in values {
            s.add_float(v, 1);
        }
        s
    }

    #[test]
    fn infinities_withhold_the_mean_and_infinite_quartiles() {
        let s = sketch((0..200).map(|i| if i < 60 { f64::INFINITY } else { f64::from(i) }));
        let stats = publish(&s, &s.pieces(), Rule::Current).unwrap();
        assert_eq!(stats.mean, None);
        assert_eq!(stats.withheld["mean"], INFINITE_MEAN);
        assert_eq!(stats.q1, Some(109.8));
        assert_eq!(stats.median, Some(159.5));
        assert_eq!(stats.q3, None);
        assert_eq!(stats.withheld["q3"], INFINITE_QUANTILE);
        let (low, high) = histogram_range(&s.pieces()).unwrap();
        assert!(
            (low - 61.39).abs() < 1e-12 && (high - 197.61).abs() < 1e-12,
            "{low} {high}"
        );
    }

    #[test]
    fn quartiles_keep_the_digits_their_ranks_need() {
        // Near i64::MAX, four digits (9.223e18) would be below every value.
        let mut s = Sketch::default();
        for i in 0..1_000 {
            s.add_int(i128::from(i64::MAX - i * 1_000), 1);
        }
        let stats = publish(&s, &s.pieces(), Rule::Current).unwrap();
        let median = stats.median.unwrap();
        assert!(
            (median - (i64::MAX - 499_500) as f64).abs() < 2e4,
            "{median}"
        );
        assert_eq!(stats.mean, Some(9.223e18));
        let ordinary = sketch((0..1_000).map(f64::from));
        assert_eq!(
            publish(&ordinary, &ordinary.pieces(), Rule::Current)
                .unwrap()
                .median,
            Some(499.5)
        );
    }

    #[test]
    fn a_quartile_its_bins_cannot_place_is_withheld() {
        // Half the values distinct within 1e-9 of 1, the rest strewn over
        // 600 decades: the bins, coarse for want of room, hold the crowd
        // in one bin.
        let s = sketch((0..100_000).map(|i| {
            if i % 2 == 0 {
                1.0 + 1e-9 * f64::from(i) / 1e5
            } else {
                10f64.powf(f64::from(i) * 6e-3 - 300.0)
            }
        }));
        let stats = publish(&s, &s.pieces(), Rule::Current).unwrap();
        assert_eq!(stats.median, None);
        assert_eq!(stats.withheld["median"], IMPRECISE_QUANTILE);
        assert!(stats.mean.is_some());
    }

    #[test]
    fn few_values_publish_nothing() {
        // Decided on the count as published: 97 is published as 95, 98 as
        // 100.
        let s = sketch((0..97).map(f64::from));
        assert_eq!(publish(&s, &s.pieces(), Rule::Current), None);
        let s = sketch((0..98).map(f64::from));
        assert!(publish(&s, &s.pieces(), Rule::Current).is_some());
    }
}
