//! Decimal grids on floats: which multiple of 10^e a value lies at or above.
//!
//! An edge `k × 10^e` means the float its decimal text (`"{k}e{e}"`)
//! parses to, so a value equal to a printed edge is always counted from
//! that edge up (`0.7` is in `[0.7, 0.8)`, as `np.histogram` would count it
//! given the edges as floats), in every decade from the smallest subnormal
//! to `f64::MAX`. The sketch's bins and the histogram's bins both use these
//! edges, which is what lets histogram bins be exact sums of sketch bins.

use std::sync::LazyLock;

/// The decade (`floor(log10 |x|)`) of the smallest subnormal, 4.9e-324.
pub const MIN_DECADE: i32 = -324;

/// The decade of `f64::MAX`, 1.8e308.
pub const MAX_DECADE: i32 = 308;

/// 10^0 to 10^22: the powers of ten a float holds exactly.
const EXACT_POWERS: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Exponents `e` for which [`scale`] has a factor: wide enough for every
/// decade of a float and the sketch's 13 significant digits either side.
const SCALE_EXPONENTS: std::ops::RangeInclusive<i32> = -360..=340;

/// 10^e as a float, for e in MIN_DECADE..=MAX_DECADE + 1 (the last is
/// infinity): the lower edges of the decades.
static DECADES: LazyLock<Vec<f64>> =
    LazyLock::new(|| (MIN_DECADE..=MAX_DECADE + 1).map(|e| parse(1, e)).collect());

/// For each exponent e, two factors whose product with x approximates
/// x × 10^-e without overflow or underflow in between: a power of two
/// (exact) and the rest.
static SCALES: LazyLock<Vec<(f64, f64)>> = LazyLock::new(|| {
    let two_200 = f64::from_bits((1023 + 200) << 52);
    SCALE_EXPONENTS
        .map(|e| {
            let n = -e;
            if n > 300 {
                (two_200, parse(1, n - 200) * (parse(1, 200) / two_200))
            } else if n < -300 {
                (
                    1.0 / two_200,
                    parse(1, n + 200) * (parse(1, -200) * two_200),
                )
            } else {
                (1.0, parse(1, n))
            }
        })
        .collect()
});

/// `k × 10^e` parsed from its decimal text: the nearest float (infinity
/// beyond `f64::MAX`).
pub fn edge(k: u64, e: i32) -> f64 {
    if k < 1 << 53 && e.unsigned_abs() <= 22 {
        // One correctly rounded operation on exact operands: the nearest
        // float, as parsing would give, without parsing.
        let power = EXACT_POWERS[e.unsigned_abs() as usize];
        return if e >= 0 {
            k as f64 * power
        } else {
            k as f64 / power
        };
    }
    parse(k, e)
}

fn parse(k: u64, e: i32) -> f64 {
    let mut text = [0u8; 40];
    let mut digits = itoa::Buffer::new();
    let mut exponent = itoa::Buffer::new();
    let k = digits.format(k).as_bytes();
    let e = exponent.format(e).as_bytes();
    text[..k.len()].copy_from_slice(k);
    text[k.len()] = b'e';
    text[k.len() + 1..k.len() + 1 + e.len()].copy_from_slice(e);
    fast_float2::parse(&text[..k.len() + 1 + e.len()]).unwrap_or(f64::INFINITY)
}

/// The decade of a finite `a > 0`: the largest d with 10^d (as a float)
/// at most `a`.
pub fn decade(a: f64) -> i32 {
    debug_assert!(a > 0.0 && a.is_finite());
    let bits = a.to_bits();
    let biased = (bits >> 52) as i32;
    let binary = if biased == 0 {
        // Subnormal: the leading one of the fraction sets the exponent.
        -1011 - (bits.leading_zeros() as i32)
    } else {
        biased - 1023
    };
    // floor(binary × log10 2), give or take one.
    let guess = ((binary * 1233) >> 12).clamp(MIN_DECADE, MAX_DECADE);
    let decades = &*DECADES;
    let at = |d: i32| decades[(d - MIN_DECADE) as usize];
    if at(guess + 1) <= a {
        guess + 1
    } else if at(guess) > a {
        guess - 1
    } else {
        guess
    }
}

/// The multiples of 10^e, for finding which one a value lies at or above
/// many times over: the factors that scale a value to them are looked up
/// once.
#[derive(Clone, Copy, Debug)]
pub struct Multiples {
    e: i32,
    /// Factors whose product with a value approximates it × 10^-e (see
    /// `SCALES`).
    power_of_two: f64,
    rest: f64,
}

impl Multiples {
    /// The multiples of 10^e.
    pub fn new(e: i32) -> Multiples {
        let at = e.clamp(*SCALE_EXPONENTS.start(), *SCALE_EXPONENTS.end());
        let (power_of_two, rest) = SCALES[(at - SCALE_EXPONENTS.start()) as usize];
        Multiples {
            e,
            power_of_two,
            rest,
        }
    }

    /// `a × 10^-e`, within a few units in the last place.
    #[inline]
    fn scale(&self, a: f64) -> f64 {
        a * self.power_of_two * self.rest
    }

    /// The largest k with `edge(k, e) <= a`, for a finite `a >= 0`; past
    /// 2^52 (where floats no longer tell neighbouring multiples apart) the
    /// scaled value rounded down, saturating.
    #[inline]
    pub fn floor(&self, a: f64) -> u64 {
        let scaled = self.scale(a);
        if scaled >= (1u64 << 52) as f64 {
            return scaled as u64;
        }
        // Below 2^52 the conversions through i64 are exact, and one
        // instruction each.
        let below = scaled as i64;
        let fraction = scaled - below as f64;
        // The scaled value is within a few ulps of a × 10^-e, and an edge
        // can round onto `a` from within half an ulp of `a` (scaled): away
        // from whole numbers by more than that, rounding down is the
        // answer.
        let mut margin = scaled * f64::EPSILON * 16.0;
        if a < f64::MIN_POSITIVE {
            // A subnormal's ulp is not relative to it.
            margin += 2.0 * self.scale(f64::from_bits(1));
        }
        if fraction > margin && fraction < 1.0 - margin {
            return below as u64;
        }
        self.nearest_edge_at_most(scaled, a)
    }

    /// The largest k with `edge(k, e) <= a` when `a` scaled is close to a
    /// whole number: that number if its edge is at most `a`, else the one
    /// below.
    #[cold]
    fn nearest_edge_at_most(&self, scaled: f64, a: f64) -> u64 {
        let nearest = scaled.round() as u64;
        if edge(nearest, self.e) <= a {
            nearest
        } else {
            nearest - 1
        }
    }
}

/// The largest k with `edge(k, e) <= a`, for a finite `a >= 0`; past
/// 2^52 (where floats no longer tell neighbouring multiples apart) the
/// scaled value rounded down, saturating.
pub fn floor_multiple(a: f64, e: i32) -> u64 {
    Multiples::new(e).floor(a)
}

/// The largest k with `k × 10^e <= x` in the sense of [`edge`] (negative
/// multiples mirror the positive ones), for a finite `x`; saturating.
pub fn floor_index(x: f64, e: i32) -> i64 {
    let a = x.abs();
    let below = floor_multiple(a, e);
    if x >= 0.0 {
        return i64::try_from(below).unwrap_or(i64::MAX);
    }
    let above = if edge(below, e) == a {
        below
    } else {
        below.saturating_add(1)
    };
    -i64::try_from(above).unwrap_or(i64::MAX)
}

/// A width `mantissa × 10^exponent` with a mantissa of 1, 2 or 5: a
/// histogram's bin width, or a sketch bin's (1 or 5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    /// 1, 2 or 5.
    pub mantissa: u8,
    /// The power of ten.
    pub exponent: i32,
}

impl Step {
    /// The smallest step of at least `width`, allowing for float noise of
    /// one part in 10^12 (the smallest step for a width that is not
    /// positive, the largest for an infinite one).
    pub fn at_least(width: f64) -> Step {
        if width.is_nan() || width <= 0.0 {
            return Step {
                mantissa: 1,
                exponent: MIN_DECADE,
            };
        }
        if width.is_infinite() {
            return Step {
                mantissa: 1,
                exponent: MAX_DECADE + 1,
            };
        }
        let mut exponent = decade(width);
        loop {
            for mantissa in [1, 2, 5] {
                let step = Step { mantissa, exponent };
                if step.width() >= width * (1.0 - 1e-12) {
                    return step;
                }
            }
            exponent += 1;
        }
    }

    /// The width as a float (infinity beyond `f64::MAX`).
    pub fn width(self) -> f64 {
        edge(u64::from(self.mantissa), self.exponent)
    }

    /// The next larger step: 1, 2, 5, 10, 20, ...
    pub fn next(self) -> Step {
        match self.mantissa {
            1 => Step {
                mantissa: 2,
                ..self
            },
            2 => Step {
                mantissa: 5,
                ..self
            },
            _ => Step {
                mantissa: 1,
                exponent: self.exponent + 1,
            },
        }
    }

    /// The bin `k` with `k × step <= x < (k + 1) × step` (finite `x`).
    pub fn bin_of(self, x: f64) -> i64 {
        floor_index(x, self.exponent).div_euclid(i64::from(self.mantissa))
    }

    /// The edge `k × step` as decimal text, without float noise.
    pub fn edge_text(self, k: i64) -> String {
        decimal_text(i128::from(k) * i128::from(self.mantissa), self.exponent)
    }

    /// The edge `k × step` as a whole number, where it is one that an
    /// `i128` holds.
    pub fn edge_integer(self, k: i64) -> Option<i128> {
        let power = 10i128.checked_pow(u32::try_from(self.exponent).ok()?)?;
        (i128::from(k) * i128::from(self.mantissa)).checked_mul(power)
    }
}

/// `units × 10^exponent` as text: positional while the exponent is
/// moderate (`150`, `0.25`), otherwise in scientific notation as Python
/// prints floats (`1.5e+308`, `2e-320`).
pub fn decimal_text(units: i128, exponent: i32) -> String {
    if units == 0 {
        return "0".to_string();
    }
    let sign = if units < 0 { "-" } else { "" };
    let digits = units.unsigned_abs().to_string();
    let (digits, exponent) = {
        let kept = digits.trim_end_matches('0');
        (kept, exponent + (digits.len() - kept.len()) as i32)
    };
    let places = -exponent;
    if (0..=15).contains(&exponent) {
        format!("{sign}{digits}{}", "0".repeat(exponent as usize))
    } else if (1..=15).contains(&places) {
        let places = places as usize;
        if digits.len() > places {
            let (whole, fraction) = digits.split_at(digits.len() - places);
            format!("{sign}{whole}.{fraction}")
        } else {
            format!("{sign}0.{}{digits}", "0".repeat(places - digits.len()))
        }
    } else {
        let power = exponent + digits.len() as i32 - 1;
        let (first, rest) = digits.split_at(1);
        let point = if rest.is_empty() { "" } else { "." };
        let power_sign = if power < 0 { '-' } else { '+' };
        format!(
            "{sign}{first}{point}{rest}e{power_sign}{:02}",
            power.unsigned_abs()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn decades_cover_every_float() {
        assert_eq!(decade(f64::MAX), 308);
        assert_eq!(decade(1e308), 308);
        assert_eq!(decade(9.999e307), 307);
        assert_eq!(decade(1.0), 0);
        assert_eq!(decade(0.999_999_999_999_999_9), -1);
        assert_eq!(decade(f64::MIN_POSITIVE), -308);
        assert_eq!(decade(5e-324), -324);
        assert_eq!(decade(1e-323), -323);
        for e in -300..300 {
            let power: f64 = format!("1e{e}").parse().unwrap();
            assert_eq!(decade(power), e);
            assert_eq!(decade(f64::from_bits(power.to_bits() - 1)), e - 1);
        }
    }

    #[test]
    fn a_printed_edge_counts_from_itself_up() {
        assert_eq!(floor_multiple(0.7, -1), 7);
        assert_eq!(floor_multiple(f64::from_bits(0.7f64.to_bits() - 1), -1), 6);
        assert_eq!(floor_multiple(0.3, -1), 3);
        assert_eq!(floor_multiple(0.1 + 0.2, -1), 3);
        assert_eq!(floor_multiple(5.0, 0), 5);
        assert_eq!(floor_multiple(4.999_999_999_999_999, 0), 4);
        assert_eq!(floor_multiple(1e300, 299), 10);
        assert_eq!(floor_multiple(2.5e-320, -321), 25);
        assert_eq!(floor_multiple(f64::MAX, 305), 1797);
        assert_eq!(floor_index(-0.7, -1), -7);
        assert_eq!(floor_index(-0.75, -1), -8);
        assert_eq!(floor_index(-5.0, 0), -5);
        assert_eq!(floor_index(1e300, -10), i64::MAX);
        assert_eq!(floor_index(-1e300, -10), -i64::MAX);
    }

    proptest! {
        /// floor_multiple is exactly the edge test, for values anywhere in
        /// the float range and grids of 13 significant digits.
        #[test]
        fn floor_multiple_is_the_largest_edge_at_or_below(bits in 1u64..0x7ff0_0000_0000_0000, short in 0u64..100_000, digits in 1i32..14) {
            for a in [f64::from_bits(bits), edge(short.max(1), decade(f64::from_bits(bits)) - 4)] {
                if !(a > 0.0 && a.is_finite()) {
                    continue;
                }
                let e = decade(a) - digits + 1;
                let k = floor_multiple(a, e);
                prop_assert!(edge(k, e) <= a, "{a:e} {e} {k}");
                prop_assert!(edge(k + 1, e) > a, "{a:e} {e} {k}");
            }
        }
    }

    #[test]
    fn steps_and_their_text() {
        assert_eq!(
            Step::at_least(3.2),
            Step {
                mantissa: 5,
                exponent: 0
            }
        );
        assert_eq!(
            Step::at_least(0.011),
            Step {
                mantissa: 2,
                exponent: -2
            }
        );
        assert_eq!(
            Step::at_least(10.0),
            Step {
                mantissa: 1,
                exponent: 1
            }
        );
        assert_eq!(
            Step::at_least(1.5e307),
            Step {
                mantissa: 2,
                exponent: 307
            }
        );
        assert_eq!(
            Step::at_least(3e-321),
            Step {
                mantissa: 5,
                exponent: -321
            }
        );
        let tenth = Step {
            mantissa: 1,
            exponent: -1,
        };
        assert_eq!(tenth.bin_of(0.3), 3);
        assert_eq!(tenth.edge_text(3), "0.3");
        let fifty = Step {
            mantissa: 5,
            exponent: 1,
        };
        assert_eq!(fifty.edge_text(-3), "-150");
        assert_eq!(fifty.edge_integer(-3), Some(-150));
        assert_eq!(
            fifty.next(),
            Step {
                mantissa: 1,
                exponent: 2
            }
        );
        assert_eq!(
            tenth.next().next(),
            Step {
                mantissa: 5,
                exponent: -1
            }
        );
        assert_eq!(
            Step::at_least(f64::NAN),
            Step {
                mantissa: 1,
                exponent: MIN_DECADE
            }
        );
        assert_eq!(decimal_text(15, 307), "1.5e+308");
        assert_eq!(decimal_text(-2, -320), "-2e-320");
        assert_eq!(decimal_text(25, -17), "2.5e-16");
        assert_eq!(decimal_text(1, -5), "0.00001");
        assert_eq!(decimal_text(120, -2), "1.2");
        assert_eq!(decimal_text(7, 15), "7000000000000000");
        assert_eq!(decimal_text(7, 16), "7e+16");
    }
}
