//! Statistical disclosure control: which counts may be published, and as
//! what. Pure functions of the true counts; everything the report shows
//! about patients passes through here.

use std::ops::Range;

/// A disclosure-control rule (`--sdc`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Rule {
    /// OpenSAFELY's current guidance: counts of 7 or fewer (zero included)
    /// are redacted, the rest rounded to the nearest 5.
    Current,
    /// dataset-report v0.0.24: round to the nearest 5, then redact results
    /// of 5 or less.
    Legacy,
    /// Midpoint-6 rounding: 0 stays 0, any other count x becomes
    /// ceil(x/6)*6 - 3 (1..6 -> 3, 7..12 -> 9, ...). Nothing is redacted.
    Midpoint6,
}

/// Counts at or below this are redacted under [`Rule::Current`].
pub const CURRENT_THRESHOLD: u64 = 7;

/// Counts that round to this or less are redacted under [`Rule::Legacy`].
pub const LEGACY_THRESHOLD: u64 = 5;

/// The fewest patients behind a mean or a quartile before it is shown: each
/// quarter of the distribution then holds at least 25 patients.
pub const MIN_FOR_STATISTICS: u64 = 100;

/// The fewest patients that may fall outside a published range at each end
/// (the earliest and latest dates shown are never a single patient's).
pub const RANGE_TAIL: u64 = CURRENT_THRESHOLD + 1;

impl Rule {
    /// The published form of a count of patients, or `None` when it must be
    /// redacted.
    pub fn publish(self, count: u64) -> Option<u64> {
        match self {
            Rule::Current => (count > CURRENT_THRESHOLD).then(|| nearest_five(count)),
            Rule::Legacy => Some(nearest_five(count)).filter(|&r| r > LEGACY_THRESHOLD),
            Rule::Midpoint6 => Some(midpoint6(count)),
        }
    }

    /// A count rounded as the rule rounds, never redacted: for figures that
    /// are not counts of patients in a cell, such as numbers of distinct
    /// values.
    pub fn round(self, count: u64) -> u64 {
        match self {
            Rule::Current | Rule::Legacy => nearest_five(count),
            Rule::Midpoint6 => midpoint6(count),
        }
    }

    /// A short description for the report's header.
    pub fn describe(self) -> &'static str {
        match self {
            Rule::Current => {
                "current OpenSAFELY rule: counts of 7 or fewer redacted, others rounded to the nearest 5"
            }
            Rule::Legacy => {
                "legacy (dataset-report v0.0.24): counts rounded to the nearest 5, then 5 or fewer redacted"
            }
            Rule::Midpoint6 => "midpoint-6 rounding: 0 stays 0, others become 3, 9, 15, ...",
        }
    }
}

fn nearest_five(count: u64) -> u64 {
    // count / 5 never ends in .5 for a whole count, so there are no ties.
    (count + 2) / 5 * 5
}

fn midpoint6(count: u64) -> u64 {
    if count == 0 {
        0
    } else {
        count.div_ceil(6) * 6 - 3
    }
}

/// One published cell of a table of counts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cell {
    /// The published count; `None` when redacted.
    pub count: Option<u64>,
    /// The count as a percentage of the published total; `None` when the
    /// count is redacted or nothing is published.
    pub percentage: Option<f64>,
}

/// Publishes counts that together describe one population (the values of
/// one column). Percentages are of the total of the published cells only, so
/// that no redacted count can be recovered from them.
pub fn publish_table(rule: Rule, counts: &[u64]) -> Vec<Cell> {
    let published: Vec<Option<u64>> = counts.iter().map(|&c| rule.publish(c)).collect();
    let total: u64 = published.iter().flatten().sum();
    published
        .into_iter()
        .map(|count| Cell {
            count,
            percentage: count
                .filter(|_| total > 0)
                .map(|c| c as f64 / total as f64 * 100.0),
        })
        .collect()
}

/// Groups adjacent bins (of a histogram or a time line) until every group's
/// count is publishable, merging the smallest unpublishable group with its
/// smaller neighbour first. Returns the groups as ranges of bin indices,
/// in order, covering every bin. A single group that is still not
/// publishable is returned as it is: the caller redacts it.
pub fn merge_until_publishable(rule: Rule, counts: &[u64]) -> Vec<Range<usize>> {
    let mut groups: Vec<(Range<usize>, u64)> = counts
        .iter()
        .enumerate()
        .map(|(i, &c)| (i..i + 1, c))
        .collect();
    while groups.len() > 1 {
        let worst = groups
            .iter()
            .enumerate()
            .filter(|(_, (_, count))| rule.publish(*count).is_none())
            .min_by_key(|(i, (_, count))| (*count, *i))
            .map(|(i, _)| i);
        let Some(i) = worst else { break };
        let neighbour = match (i.checked_sub(1), groups.get(i + 1)) {
            (Some(left), Some((_, right))) if groups[left].1 <= *right => left,
            (Some(left), None) => left,
            _ => i + 1,
        };
        let (a, b) = (i.min(neighbour), i.max(neighbour));
        let (range_b, count_b) = groups.remove(b);
        let group = &mut groups[a];
        group.0.end = range_b.end;
        group.1 += count_b;
    }
    groups.into_iter().map(|(range, _)| range).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// dataset-report v0.0.24 as written in Python:
    /// `base * round(x / base)`, then `x <= threshold -> NaN`.
    fn legacy_python(count: u64) -> Option<u64> {
        let quotient = count as f64 / 5.0;
        // Python's round: half to even.
        let rounded = quotient.round_ties_even() * 5.0;
        (rounded > 5.0).then_some(rounded as u64)
    }

    #[test]
    fn small_counts_follow_each_rule() {
        let current: Vec<_> = (0..=13).map(|c| Rule::Current.publish(c)).collect();
        let mut expected = vec![None; 8];
        expected.extend([Some(10), Some(10), Some(10), Some(10), Some(10), Some(15)]);
        assert_eq!(current, expected);
        let legacy: Vec<_> = (0..=13).map(|c| Rule::Legacy.publish(c)).collect();
        let mut expected = vec![None; 8];
        expected.extend([Some(10), Some(10), Some(10), Some(10), Some(10), Some(15)]);
        assert_eq!(legacy, expected);
        let mid: Vec<_> = (0..=13).map(|c| Rule::Midpoint6.publish(c)).collect();
        let expected = [0, 3, 3, 3, 3, 3, 3, 9, 9, 9, 9, 9, 9, 15];
        assert_eq!(mid, expected.map(Some));
    }

    #[test]
    fn percentages_come_from_published_cells() {
        // The reference report: NaN 893 -> 895, 0.0 22 -> 20, 1.0 85 -> 85.
        let cells = publish_table(Rule::Legacy, &[893, 22, 85]);
        let counts: Vec<_> = cells.iter().map(|c| c.count).collect();
        assert_eq!(counts, [Some(895), Some(20), Some(85)]);
        assert_eq!(cells[0].percentage, Some(895.0 / 1000.0 * 100.0));
        let cells = publish_table(Rule::Current, &[3, 100]);
        assert_eq!(
            cells[0],
            Cell {
                count: None,
                percentage: None
            }
        );
        assert_eq!(cells[1].percentage, Some(100.0));
        let cells = publish_table(Rule::Current, &[3, 4]);
        assert!(
            cells
                .iter()
                .all(|c| c.count.is_none() && c.percentage.is_none())
        );
    }

    #[test]
    fn bins_merge_into_their_smaller_neighbour() {
        let groups = merge_until_publishable(Rule::Current, &[3, 50, 2, 40, 1]);
        assert_eq!(groups, [0..2, 2..5]);
    }

    proptest! {
        #[test]
        fn current_publishes_only_multiples_of_five_above_seven(count in 0u64..1_000_000) {
            match Rule::Current.publish(count) {
                None => prop_assert!(count <= CURRENT_THRESHOLD),
                Some(p) => {
                    prop_assert!(p > CURRENT_THRESHOLD);
                    prop_assert_eq!(p % 5, 0);
                    prop_assert!(p.abs_diff(count) <= 2);
                }
            }
        }

        #[test]
        fn midpoint6_publishes_only_zero_or_six_k_minus_three(count in 0u64..1_000_000) {
            let p = Rule::Midpoint6.publish(count).unwrap();
            prop_assert!(p == 0 || p % 6 == 3);
            prop_assert_eq!(p == 0, count == 0);
            // The count lies in the published value's band of six.
            prop_assert!(count == 0 || (p - 2 <= count && count <= p + 3));
        }

        #[test]
        fn legacy_is_upstreams_formula(count in 0u64..10_000_000) {
            prop_assert_eq!(Rule::Legacy.publish(count), legacy_python(count));
        }

        #[test]
        fn tables_total_their_published_cells(
            counts in proptest::collection::vec(0u64..200, 1..12),
            rule in prop_oneof![Just(Rule::Current), Just(Rule::Legacy), Just(Rule::Midpoint6)],
        ) {
            let cells = publish_table(rule, &counts);
            let total: u64 = cells.iter().filter_map(|c| c.count).sum();
            let sum: f64 = cells.iter().filter_map(|c| c.percentage).sum();
            if total > 0 {
                prop_assert!((sum - 100.0).abs() < 1e-9);
            } else {
                prop_assert!(cells.iter().all(|c| c.percentage.is_none()));
            }
            for (cell, &count) in cells.iter().zip(&counts) {
                prop_assert_eq!(cell.count, rule.publish(count));
                prop_assert_eq!(cell.percentage.is_some(), cell.count.is_some() && total > 0);
            }
        }

        #[test]
        fn merged_groups_cover_every_bin_and_are_publishable(
            counts in proptest::collection::vec(0u64..40, 1..30),
            rule in prop_oneof![Just(Rule::Current), Just(Rule::Legacy), Just(Rule::Midpoint6)],
        ) {
            let groups = merge_until_publishable(rule, &counts);
            prop_assert_eq!(groups.first().unwrap().start, 0);
            prop_assert_eq!(groups.last().unwrap().end, counts.len());
            for pair in groups.windows(2) {
                prop_assert_eq!(pair[0].end, pair[1].start);
            }
            let sums: Vec<u64> = groups.iter().map(|g| counts[g.clone()].iter().sum()).collect();
            if groups.len() > 1 {
                prop_assert!(sums.iter().all(|&s| rule.publish(s).is_some()));
            }
            let total: u64 = counts.iter().sum();
            prop_assert_eq!(sums.iter().sum::<u64>(), total);
            if rule.publish(total).is_some() {
                prop_assert!(sums.iter().all(|&s| rule.publish(s).is_some()));
            }
        }
    }
}
