//! A numeric column's histogram: about 20 bins of a round width (1, 2 or
//! 5 × 10^n) between the 1st and 99th percentiles, open-ended bins beyond
//! them, every count exact, and bins merged with their neighbours until
//! each count is publishable.
//!
//! Counts are exact: the width is the smallest round one from the aim up at
//! which no edge falls among a sketch bin's inner values (whose places are
//! unknown). Such a width exists within a few decades, since the sketch's
//! decimal bins have round edges ([`super::decimal`]).

use super::decimal::Step;
use super::disclosure::{Rule, merge_until_publishable};
use super::distribution::Piece;
use super::kinds::STRAYS;
use super::sketch::Sketch;

/// Where values go: the open first bin (0), bins `first..=last` (1..=n),
/// the open last bin (n + 1).
#[derive(Clone, Copy)]
struct Grid {
    step: Step,
    first: i64,
    last: i64,
}

impl Grid {
    /// The bins of `step` between `low` and `high`.
    fn new(step: Step, low: f64, high: f64) -> Grid {
        let first = step.bin_of(low);
        let last = step
            .bin_of(high)
            .clamp(first, first.saturating_add(MAX_BINS));
        Grid { step, first, last }
    }

    /// Bins between the open ones.
    fn len(self) -> usize {
        (self.last - self.first + 1) as usize
    }

    fn slot(self, value: f64) -> usize {
        if value == f64::NEG_INFINITY {
            return 0;
        }
        if value == f64::INFINITY {
            return self.len() + 1;
        }
        let k = self.step.bin_of(value);
        if k < self.first {
            0
        } else if k > self.last {
            self.len() + 1
        } else {
            (k - self.first) as usize + 1
        }
    }

    /// Whether a piece's inner values may fall in more than one bin.
    fn splits(self, piece: &Piece) -> bool {
        piece.inner > 0
            && self.slot(adjacent(piece.low, true)) != self.slot(adjacent(piece.high, false))
    }
}

/// The float next to a finite `value`, up or down.
fn adjacent(value: f64, up: bool) -> f64 {
    if value == 0.0 {
        let tiny = f64::from_bits(1);
        return if up { tiny } else { -tiny };
    }
    let bits = value.to_bits();
    f64::from_bits(if (value > 0.0) == up {
        bits + 1
    } else {
        bits - 1
    })
}

/// Bins aimed at between the 1st and 99th percentiles (before merging).
const BINS: f64 = 20.0;

/// The most bins between the percentiles, whatever the arithmetic: values
/// beyond go to the open last bin.
const MAX_BINS: i64 = 4 * BINS as i64;

/// The histogram's rows, (label, true count), ready to publish under
/// `rule`; `range` is where the open bins start (1st and 99th
/// percentiles).
pub fn rows(
    sketch: &Sketch,
    pieces: &[Piece],
    (low, high): (f64, f64),
    rule: Rule,
) -> Vec<(Option<String>, u64)> {
    // Whole-number labels (`10–14`, from 10 to under 15) unless more than a
    // few values have a fraction: whether any has one is no secret to keep
    // in a label's style.
    let integer = sketch.fractional() <= STRAYS;
    let span = if high > low {
        // Halves first: high - low may be beyond f64::MAX.
        high / BINS - low / BINS
    } else {
        low.abs().max(1.0) / BINS
    };
    let target = span.max(if integer { 1.0 } else { 0.0 });
    let mut step = Step::at_least(target);
    let grid = loop {
        let grid = Grid::new(step, low, high);
        if !pieces.iter().any(|p| grid.splits(p)) {
            break grid;
        }
        step = step.next();
    };
    let (first, n) = (grid.first, grid.len());
    let mut counts = vec![0u64; n + 2];
    for piece in pieces {
        counts[grid.slot(piece.low)] += piece.low_count;
        if piece.inner > 0 {
            counts[grid.slot(piece.middle())] += piece.inner;
        }
        if piece.high_count > 0 {
            counts[grid.slot(piece.high)] += piece.high_count;
        }
    }
    // The open first and last bins stay, empty or not: whether a value lies
    // beyond the 1st or 99th percentile is a count too.
    let label = |group: &std::ops::Range<usize>| -> String {
        let (a, b) = (group.start, group.end);
        let lower = first + a as i64 - 1;
        let upper = first + b as i64 - 1;
        match (a == 0, b == n + 2) {
            (true, true) => "all values".to_string(),
            (true, false) => format!("< {}", step.edge_text(upper)),
            (false, true) => format!("≥ {}", step.edge_text(lower)),
            (false, false) => range_label(step, lower, upper, integer),
        }
    };
    merge_until_publishable(rule, &counts)
        .iter()
        .map(|g| (Some(label(g)), counts[g.clone()].iter().sum()))
        .collect()
}

/// A closed bin's label: `10–14` for whole numbers (a single value alone
/// for bins of width 1), `[0.5, 1)` otherwise.
fn range_label(step: Step, lower: i64, upper: i64, integer: bool) -> String {
    if integer && let (Some(from), Some(to)) = (step.edge_integer(lower), step.edge_integer(upper))
    {
        return if to - from == 1 {
            from.to_string()
        } else {
            format!("{from}–{}", to - 1)
        };
    }
    format!("[{}, {})", step.edge_text(lower), step.edge_text(upper))
}
