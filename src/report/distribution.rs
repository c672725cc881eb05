//! A numeric distribution as sorted pieces, and its quantiles with a bound
//! on their rank error.
//!
//! Each piece is a run of the sorted values whose ends are known exactly:
//! `low_count` copies of `low`, then `inner` values somewhere strictly
//! between `low` and `high`, then `high_count` copies of `high`. Exact
//! counts are pieces without inner values. A quantile whose rank falls on a
//! known value is exact; one whose rank falls among a piece's inner values
//! is estimated by spreading them evenly, and its rank is then off by at
//! most `inner` (the true value and the estimate are both among them).

/// A run of sorted values with exactly known ends.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Piece {
    /// The lowest value.
    pub low: f64,
    /// How many times it occurs.
    pub low_count: u64,
    /// Values strictly between `low` and `high`.
    pub inner: u64,
    /// The highest value (equal to `low` for a single value).
    pub high: f64,
    /// How many times it occurs (0 for a single value).
    pub high_count: u64,
}

impl Piece {
    /// `count` copies of one value.
    pub fn atom(value: f64, count: u64) -> Piece {
        Piece {
            low: value,
            low_count: count,
            inner: 0,
            high: value,
            high_count: 0,
        }
    }

    /// Values in the piece.
    pub fn count(&self) -> u64 {
        self.low_count + self.inner + self.high_count
    }

    /// Where the inner values are taken to be for histograms: halfway
    /// between the ends (strictly between them when there are inner
    /// values).
    pub fn middle(&self) -> f64 {
        self.low / 2.0 + self.high / 2.0
    }
}

/// A quantile's estimate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    /// The value.
    pub value: f64,
    /// How many ranks the estimate may be from the true quantile's: 0 when
    /// exact.
    pub rank_error: u64,
}

/// The `q`-quantile (0..=1) of sorted pieces, interpolating linearly
/// between ranks as `np.percentile` and pandas' `quantile` do.
pub fn quantile(pieces: &[Piece], q: f64) -> Option<Estimate> {
    let total: u64 = pieces.iter().map(Piece::count).sum();
    if total == 0 {
        return None;
    }
    let rank = q * (total - 1) as f64;
    let below = rank.floor();
    let fraction = rank - below;
    let lower = value_at(pieces, below as u64);
    if fraction == 0.0 {
        return Some(lower);
    }
    let upper = value_at(pieces, below as u64 + 1);
    Some(Estimate {
        value: lerp(lower.value, upper.value, fraction),
        rank_error: lower.rank_error.max(upper.rank_error),
    })
}

/// At most how many values lie strictly between `a` and `b` (either
/// order): how far apart their ranks can be.
pub fn values_between(pieces: &[Piece], a: f64, b: f64) -> u64 {
    let (a, b) = if a <= b { (a, b) } else { (b, a) };
    let inside = |x: f64| a < x && x < b;
    pieces
        .iter()
        .map(|p| {
            let mut n = 0;
            if inside(p.low) {
                n += p.low_count;
            }
            if inside(p.high) {
                n += p.high_count;
            }
            if p.inner > 0 && p.low < b && p.high > a {
                n += p.inner;
            }
            n
        })
        .sum()
}

/// `a + (b - a) × t` as numpy computes it (from the nearer end), without
/// overflowing when `b - a` is beyond `f64::MAX`.
fn lerp(a: f64, b: f64, t: f64) -> f64 {
    let difference = b - a;
    let value = if t >= 0.5 {
        b - difference * (1.0 - t)
    } else {
        a + difference * t
    };
    if value.is_finite() || !(a.is_finite() && b.is_finite()) {
        value
    } else {
        a * (1.0 - t) + b * t
    }
}

/// The `rank`-th smallest (0-based) value.
fn value_at(pieces: &[Piece], rank: u64) -> Estimate {
    let exact = |value| Estimate {
        value,
        rank_error: 0,
    };
    let mut seen = 0;
    for piece in pieces {
        let within = rank - seen;
        if within < piece.count() {
            if within < piece.low_count {
                return exact(piece.low);
            }
            let inner = within - piece.low_count;
            if inner >= piece.inner {
                return exact(piece.high);
            }
            // The inner values spread evenly between the ends.
            let t = (inner as f64 + 0.5) / piece.inner as f64;
            return Estimate {
                value: lerp(piece.low, piece.high, t),
                rank_error: piece.inner,
            };
        }
        seen += piece.count();
    }
    exact(pieces.last().map_or(f64::NAN, |p| p.high))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn atoms(values: &[f64]) -> Vec<Piece> {
        values.iter().map(|&v| Piece::atom(v, 1)).collect()
    }

    #[test]
    fn exact_values_interpolate_as_numpy() {
        let pieces = atoms(&[1.0, 2.0, 3.0, 4.0]);
        let value = |q| quantile(&pieces, q).unwrap();
        assert_eq!(
            value(0.5),
            Estimate {
                value: 2.5,
                rank_error: 0
            }
        );
        assert_eq!(value(0.25).value, 1.75);
        assert_eq!(value(0.0).value, 1.0);
        assert_eq!(value(1.0).value, 4.0);
        let wide = atoms(&[-1.5e308, 1.5e308]);
        assert_eq!(quantile(&wide, 0.5).unwrap().value, 0.0);
        assert_eq!(quantile(&wide, 0.25).unwrap().value, -0.75e308);
        assert_eq!(quantile(&[], 0.5), None);
    }

    /// Ten zeros, then a bin from 1.0 (five times) to 2.0 (once) with four
    /// values inside.
    fn ten_zeros_then_a_bin() -> [Piece; 2] {
        [
            Piece::atom(0.0, 10),
            Piece {
                low: 1.0,
                low_count: 5,
                inner: 4,
                high: 2.0,
                high_count: 1,
            },
        ]
    }

    #[test]
    fn values_between_counts_what_may_lie_between() {
        let pieces = ten_zeros_then_a_bin();
        assert_eq!(values_between(&pieces, 0.0, 1.0), 0);
        assert_eq!(values_between(&pieces, 1.0, 0.0), 0);
        assert_eq!(values_between(&pieces, -1.0, 1.0), 10);
        assert_eq!(values_between(&pieces, 1.5, 1.6), 4);
        assert_eq!(values_between(&pieces, 0.5, 3.0), 10);
        assert_eq!(values_between(&pieces, 2.0, 2.0), 0);
    }

    #[test]
    fn inner_values_bound_the_rank_error() {
        let pieces = ten_zeros_then_a_bin();
        // Ranks 0-9 are 0.0, 10-14 are 1.0, 15-18 inner, 19 is 2.0.
        let at = |rank| value_at(&pieces, rank);
        assert_eq!(
            at(9),
            Estimate {
                value: 0.0,
                rank_error: 0
            }
        );
        assert_eq!(
            at(14),
            Estimate {
                value: 1.0,
                rank_error: 0
            }
        );
        assert_eq!(
            at(15),
            Estimate {
                value: 1.125,
                rank_error: 4
            }
        );
        assert_eq!(
            at(18),
            Estimate {
                value: 1.875,
                rank_error: 4
            }
        );
        assert_eq!(
            at(19),
            Estimate {
                value: 2.0,
                rank_error: 0
            }
        );
    }
}
