//! What a reader learns from all the counts one report publishes together,
//! and the secondary suppression that keeps every redacted count hidden.
//!
//! Every column's table (its missing row and its value rows, bins or
//! periods) partitions the same rows, so each table's counts sum to the
//! file's row count N, which is itself published (rounded). From the
//! published figures a reader knows an interval for every count:
//!
//! | published | true count (`current`) | (`midpoint6`) |
//! |---|---|---|
//! | `p` | `max(8, p-2)..=p+2` | `0` for 0, else `p-2..=p+3` |
//! | redacted | `0..=7` (or, not knowing which were redacted only to protect another, `0..`) | as `current` |
//!
//! and that each table sums to N. Intervals of integers add to intervals,
//! so the tightest range a reader can give a count `x` of table `t` is
//! `[N_lo - Σhi, N_hi - Σlo]` over the other cells of `t`, intersected
//! with `x`'s own interval, where `N_lo..=N_hi` is N's interval narrowed
//! by the published N and by every *other* table's sum. The range is exact:
//! every value in it is consistent with all the figures.
//!
//! A redacted count whose range is a single value is disclosed (a `0`
//! pinned by rounding that all went one way, or a `7`). [`protect`] then
//! redacts the smallest published count of that table as well (secondary
//! suppression) and checks again, under both reader models above, until no
//! redacted count is pinned. Under `midpoint6` the counts published as 3
//! (1 to 6 patients) are held to the same standard.

use super::disclosure::{CURRENT_THRESHOLD, Rule};

/// The range of true counts a published figure allows; `hi` is `None`
/// when unbounded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Range {
    /// The least possible count.
    pub lo: u64,
    /// The greatest possible count, if bounded.
    pub hi: Option<u64>,
}

impl Range {
    fn exactly_one(self) -> bool {
        self.hi == Some(self.lo)
    }
}

/// How a reader models a redacted count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Model {
    /// Every redacted count is one the rule redacts: 0 to 7.
    Primary,
    /// A redacted count may also be a larger one redacted to protect
    /// another: 0 or more.
    Secondary,
}

/// The range a published figure (`None`: redacted) allows under `rule`.
pub fn range(rule: Rule, published: Option<u64>, model: Model) -> Range {
    match (published, rule) {
        (None, _) => Range {
            lo: 0,
            hi: (model == Model::Primary).then_some(CURRENT_THRESHOLD),
        },
        (Some(p), Rule::Current | Rule::Legacy) => Range {
            lo: p.saturating_sub(2).max(CURRENT_THRESHOLD + 1),
            hi: Some(p + 2),
        },
        (Some(0), Rule::Midpoint6) => Range { lo: 0, hi: Some(0) },
        (Some(p), Rule::Midpoint6) => Range {
            lo: p.saturating_sub(2).max(1),
            hi: Some(p + 3),
        },
    }
}

/// Whether a count published as `published` must not be pinned: redacted
/// counts, and under midpoint-6 the counts of 1 to 6 shown as 3.
fn protected(rule: Rule, published: Option<u64>) -> bool {
    match published {
        None => true,
        Some(p) => rule == Rule::Midpoint6 && p == 3,
    }
}

/// Sums two ranges.
fn add(a: Range, b: Range) -> Range {
    Range {
        lo: a.lo + b.lo,
        hi: a.hi.zip(b.hi).map(|(x, y)| x + y),
    }
}

fn sum(ranges: impl Iterator<Item = Range>) -> Range {
    ranges.fold(Range { lo: 0, hi: Some(0) }, add)
}

/// `n` intersected with `other` (an empty intersection keeps `n`'s
/// bounds crossed, which no count satisfies).
fn intersect(n: Range, other: Range) -> Range {
    Range {
        lo: n.lo.max(other.lo),
        hi: match (n.hi, other.hi) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        },
    }
}

/// The tightest range of every protected count (redacted, or midpoint-6's
/// 3): `tables[t][i]` is the published count of cell `i` of table `t`,
/// `rows` the published row count. Unprotected cells get `None`.
pub fn feasible(
    rule: Rule,
    rows: Option<u64>,
    tables: &[Vec<Option<u64>>],
    model: Model,
) -> Vec<Vec<Option<Range>>> {
    let ranges: Vec<Vec<Range>> = tables
        .iter()
        .map(|t| t.iter().map(|&p| range(rule, p, model)).collect())
        .collect();
    let sums: Vec<Range> = ranges.iter().map(|t| sum(t.iter().copied())).collect();
    let published_rows = range(rule, rows, model);
    tables
        .iter()
        .enumerate()
        .map(|(t, table)| {
            // N as every figure but this table's own cells bounds it.
            let n = sums
                .iter()
                .enumerate()
                .filter(|(other, _)| *other != t)
                .fold(published_rows, |n, (_, s)| intersect(n, *s));
            table
                .iter()
                .enumerate()
                .map(|(i, &p)| {
                    protected(rule, p).then(|| {
                        let others = sum(ranges[t]
                            .iter()
                            .enumerate()
                            .filter(|(j, _)| *j != i)
                            .map(|(_, r)| *r));
                        let own = ranges[t][i];
                        let lo = others.hi.map_or(0, |hi| n.lo.saturating_sub(hi));
                        let hi = n.hi.map(|hi| hi.saturating_sub(others.lo));
                        intersect(own, Range { lo, hi })
                    })
                })
                .collect()
        })
        .collect()
}

/// The tables holding a protected count pinned to a single value, under
/// either reader model.
pub fn pinned_tables(rule: Rule, rows: Option<u64>, tables: &[Vec<Option<u64>>]) -> Vec<usize> {
    let mut pinned = Vec::new();
    for model in [Model::Primary, Model::Secondary] {
        for (t, cells) in feasible(rule, rows, tables, model).iter().enumerate() {
            if cells.iter().any(|r| r.is_some_and(Range::exactly_one)) && !pinned.contains(&t) {
                pinned.push(t);
            }
        }
    }
    pinned
}

/// Redacts further published counts until no protected count is pinned:
/// in a table with a pinned count, the smallest published count (by true
/// count) is redacted too, and the figures are checked again. A table with
/// nothing left to redact stays as it is (then every cell is redacted and
/// only the row count, which is published, bounds them). `published[t][i]`
/// is changed in place; `counts[t][i]` are the true counts.
pub fn protect(
    rule: Rule,
    rows: Option<u64>,
    published: &mut [Vec<Option<u64>>],
    counts: &[Vec<u64>],
) {
    if rule == Rule::Legacy {
        return;
    }
    loop {
        let next = pinned_tables(rule, rows, published)
            .into_iter()
            .find_map(|t| {
                published[t]
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| !protected(rule, **p))
                    .min_by_key(|(i, _)| (counts[t][*i], *i))
                    .map(|(i, _)| (t, i))
            });
        match next {
            Some((t, i)) => published[t][i] = None,
            None => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn publish(rule: Rule, counts: &[Vec<u64>]) -> Vec<Vec<Option<u64>>> {
        counts
            .iter()
            .map(|t| t.iter().map(|&c| rule.publish(c)).collect())
            .collect()
    }

    #[test]
    fn rounding_that_all_goes_one_way_pins_a_zero_until_protected() {
        // Cells of 8, 13, 18, 23 all round up by 2; their total 62 rounds
        // down by 2: the missing cell can only be 0.
        let counts = vec![vec![0, 8, 13, 18, 23]];
        let rows = Rule::Current.publish(62);
        let mut published = publish(Rule::Current, &counts);
        assert_eq!(pinned_tables(Rule::Current, rows, &published), [0]);
        protect(Rule::Current, rows, &mut published, &counts);
        assert!(pinned_tables(Rule::Current, rows, &published).is_empty());
        assert_eq!(published[0], [None, None, Some(15), Some(20), Some(25)]);
    }

    #[test]
    fn the_issues_example_is_not_pinned() {
        // 1,002 rows: 1 missing, 503 zeros, 498 ones.
        let counts = vec![vec![1, 503, 498]];
        let rows = Rule::Current.publish(1_002);
        let published = publish(Rule::Current, &counts);
        let ranges = feasible(Rule::Current, rows, &published, Model::Primary);
        // 998..=1002 rows less 503..=507 zeros and 498..=502 ones: 0 or 1,
        // no longer 1 only (the missing row is listed even when empty).
        assert_eq!(ranges[0][0], Some(Range { lo: 0, hi: Some(1) }));
    }

    proptest! {
        #[test]
        fn protected_reports_pin_no_count(
            tables in proptest::collection::vec(proptest::collection::vec(0u64..20, 1..5), 1..6),
            extra in 0u64..20,
            rule in prop_oneof![Just(Rule::Current), Just(Rule::Midpoint6)],
        ) {
            // Tables of one population: pad each to the largest total.
            let n = tables.iter().map(|t| t.iter().sum::<u64>()).max().unwrap() + extra;
            let counts: Vec<Vec<u64>> = tables
                .into_iter()
                .map(|mut t| {
                    let total: u64 = t.iter().sum();
                    t.push(n - total);
                    t
                })
                .collect();
            let rows = rule.publish(n);
            let mut published = publish(rule, &counts);
            protect(rule, rows, &mut published, &counts);
            for model in [Model::Primary, Model::Secondary] {
                let ranges = feasible(rule, rows, &published, model);
                for (t, cells) in ranges.iter().enumerate() {
                    for (i, range) in cells.iter().enumerate() {
                        if let Some(range) = range {
                            // The truth is always in the range of a reader
                            // who allows for secondary suppression (the
                            // reasoning is sound) ...
                            let truth = counts[t][i];
                            if model == Model::Secondary {
                                prop_assert!(range.lo <= truth && range.hi.is_none_or(|h| truth <= h), "{range:?} {truth}");
                            }
                            // ... and never a single value, unless nothing in
                            // its table is left to redact.
                            if range.exactly_one() {
                                prop_assert!(
                                    published[t].iter().all(|p| protected(rule, *p)),
                                    "{:?} {:?}",
                                    published,
                                    counts
                                );
                            }
                        }
                    }
                }
            }
            // Only redactions were added: published counts obey the rule.
            for (t, cells) in published.iter().enumerate() {
                for (i, p) in cells.iter().enumerate() {
                    if let Some(p) = p {
                        prop_assert_eq!(Some(*p), rule.publish(counts[t][i]));
                    }
                }
            }
        }
    }
}
