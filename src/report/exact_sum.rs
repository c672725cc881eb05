//! The exact sum of a column's values, so that the mean is right to the
//! last bit whatever the values (±1.5e308 does not overflow, 1e16 + 1 - 1e16
//! is 1) and the same whatever the order they were added in or how they
//! were split between threads.
//!
//! Floats go into a fixed-point number of 32-bit digits from 2^-1074 (the
//! smallest subnormal) to past 2^1088 (u64::MAX values of `f64::MAX`),
//! each digit an `i64` so that carries can wait: adding a float touches
//! three or four digits, and carries are propagated every 2^30 additions.
//! Whole numbers, the common case, add to an `i128` while it holds them.

/// 32-bit digits: 2^-1074 × 2^(32 × 70) = 2^1166, beyond any sum.
const DIGITS: usize = 70;

/// Additions between carry propagations: each adds less than 2^32 to a
/// digit, so a digit (below 2^32 after propagation) stays below 2^63.
const CARRY_EVERY: u32 = 1 << 30;

/// Bit of 2^0 in the digits.
const ONE: u32 = 1074;

/// An exact sum of floats and whole numbers.
#[derive(Clone, Debug)]
pub struct ExactSum {
    /// Value: sum of digits[i] × 2^(32i - 1074), plus `whole`.
    digits: [i64; DIGITS],
    additions: u32,
    whole: i128,
    pos_inf: bool,
    neg_inf: bool,
}

impl Default for ExactSum {
    fn default() -> ExactSum {
        ExactSum {
            digits: [0; DIGITS],
            additions: 0,
            whole: 0,
            pos_inf: false,
            neg_inf: false,
        }
    }
}

impl ExactSum {
    /// Adds `count` times a float (NaN is ignored).
    #[inline]
    pub fn add_float(&mut self, value: f64, count: u64) {
        let bits = value.to_bits();
        let biased = ((bits >> 52) & 0x7ff) as u32;
        if biased == 0x7ff {
            if value == f64::INFINITY {
                self.pos_inf = true;
            } else if value == f64::NEG_INFINITY {
                self.neg_inf = true;
            }
            return;
        }
        let fraction = bits & ((1 << 52) - 1);
        let (mantissa, bit) = if biased == 0 {
            (fraction, 0)
        } else {
            (fraction | 1 << 52, biased - 1)
        };
        let negative = bits >> 63 == 1;
        self.add_bits(
            u128::from(mantissa) * u128::from(count as u32),
            bit,
            negative,
        );
        let high = count >> 32;
        if high > 0 {
            self.add_bits(u128::from(mantissa) * u128::from(high), bit + 32, negative);
        }
    }

    /// Adds `count` times a whole number.
    #[inline]
    pub fn add_int(&mut self, value: i128, count: u64) {
        if let Some(sum) = value
            .checked_mul(i128::from(count))
            .and_then(|product| self.whole.checked_add(product))
        {
            self.whole = sum;
        } else {
            self.add_wide(value, count);
        }
    }

    /// `value × count` into the digits, 32 bits of each at a time.
    fn add_wide(&mut self, value: i128, count: u64) {
        let magnitude = value.unsigned_abs();
        for i in 0..4 {
            let part = (magnitude >> (32 * i)) as u32;
            for j in 0..2 {
                let factor = (count >> (32 * j)) as u32;
                let product = u128::from(part) * u128::from(factor);
                if product > 0 {
                    self.add_bits(product, ONE + 32 * (i + j), value < 0);
                }
            }
        }
    }

    /// Adds `magnitude × 2^(bit - 1074)` (magnitude below 2^96).
    #[inline]
    fn add_bits(&mut self, magnitude: u128, bit: u32, negative: bool) {
        let first = (bit / 32) as usize;
        let shifted = magnitude << (bit % 32);
        let sign = if negative { -1 } else { 1 };
        for (i, digit) in self.digits[first..first + 4].iter_mut().enumerate() {
            *digit += sign * i64::from((shifted >> (32 * i)) as u32);
        }
        self.additions += 1;
        if self.additions == CARRY_EVERY {
            self.carry();
        }
    }

    /// Propagates carries: every digit but the last into 0..2^32.
    fn carry(&mut self) {
        for i in 0..DIGITS - 1 {
            let carry = self.digits[i] >> 32;
            self.digits[i] -= carry << 32;
            self.digits[i + 1] += carry;
        }
        self.additions = 0;
    }

    /// Adds another sum.
    pub fn merge(&mut self, mut other: ExactSum) {
        self.carry();
        other.carry();
        for (mine, theirs) in self.digits.iter_mut().zip(other.digits) {
            *mine += theirs;
        }
        self.carry();
        self.add_int(other.whole, 1);
        self.pos_inf |= other.pos_inf;
        self.neg_inf |= other.neg_inf;
    }

    /// The sum divided by `count` (not 0), correctly rounded; infinite or
    /// NaN where infinities were added.
    pub fn mean(&self, count: u64) -> f64 {
        if count == 0 {
            return f64::NAN;
        }
        match (self.pos_inf, self.neg_inf) {
            (true, true) => return f64::NAN,
            (true, false) => return f64::INFINITY,
            (false, true) => return f64::NEG_INFINITY,
            (false, false) => {}
        }
        let mut total = self.clone();
        let whole = std::mem::take(&mut total.whole);
        total.add_wide(whole, 1);
        total.carry();
        let negative = total.digits[DIGITS - 1] < 0;
        if negative {
            for digit in &mut total.digits {
                *digit = -*digit;
            }
            total.carry();
        }
        let Some(top) = total.digits.iter().rposition(|&d| d != 0) else {
            return 0.0;
        };
        // The top 128 bits, normalised, divided in integers; what is left
        // over is kept as a sticky bit far below the 53 that are kept, so
        // that the conversion rounds once, correctly (but for subnormal
        // means).
        let start = top.saturating_sub(3);
        let leading = total.digits[start..=top]
            .iter()
            .rev()
            .fold(0u128, |acc, &d| acc << 32 | d as u128);
        // Below 32: the top digit is not 0.
        let shift = leading.leading_zeros();
        let (below, rest) = match total.digits[..start].split_last() {
            Some((&next, rest)) if shift > 0 => {
                let next = next as u32;
                let dropped = next & (u32::MAX >> shift) != 0;
                (
                    next >> (32 - shift),
                    dropped || rest.iter().any(|&d| d != 0),
                )
            }
            _ => (0, total.digits[..start].iter().any(|&d| d != 0)),
        };
        let leading = leading << shift | u128::from(below);
        let count = u128::from(count);
        let quotient = (leading / count) | u128::from(leading % count != 0 || rest);
        let exponent = 32 * start as i32 - ONE as i32 - shift as i32;
        let mean = times_power_of_two(quotient as f64, exponent);
        if negative { -mean } else { mean }
    }
}

/// `value × 2^exponent`, in steps that neither overflow nor lose bits
/// before the last.
fn times_power_of_two(mut value: f64, mut exponent: i32) -> f64 {
    let step = |e: i32| f64::from_bits(((1023 + e) as u64) << 52);
    while exponent > 1000 {
        value *= step(1000);
        exponent -= 1000;
    }
    while exponent < -1000 {
        value *= step(-1000);
        exponent += 1000;
    }
    value * step(exponent)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mean(values: &[f64]) -> f64 {
        let mut sum = ExactSum::default();
        for &v in values {
            sum.add_float(v, 1);
        }
        sum.mean(values.len() as u64)
    }

    #[test]
    fn sums_are_exact() {
        assert_eq!(mean(&[1e16, 1.0, -1e16]), 1.0 / 3.0);
        assert_eq!(mean(&[1.5e308, 1.5e308]), 1.5e308);
        assert_eq!(mean(&[1.5e308, -1.5e308, 3.0]), 1.0);
        assert_eq!(mean(&[f64::MAX, f64::MAX, f64::MAX]), f64::MAX);
        assert_eq!(mean(&[5e-324, 5e-324]), 5e-324);
        assert_eq!(mean(&[0.1, 0.2, 0.3]), 0.2);
        assert_eq!(mean(&[-2.5]), -2.5);
        assert_eq!(mean(&[0.0, -0.0]), 0.0);
        assert!(mean(&[f64::INFINITY, f64::NEG_INFINITY]).is_nan());
        assert_eq!(mean(&[f64::INFINITY, 1.0]), f64::INFINITY);
    }

    #[test]
    fn whole_numbers_counts_and_merges_are_exact() {
        let mut a = ExactSum::default();
        a.add_int(i128::from(i64::MAX), u64::MAX);
        a.add_int(i128::from(i64::MAX), u64::MAX);
        a.add_int(-i128::from(i64::MAX), u64::MAX);
        a.add_float(0.5, 1 << 40);
        let mut b = ExactSum::default();
        b.add_int(u64::MAX.into(), 3);
        b.add_float(-1e300, 2);
        b.add_float(1e300, 2);
        a.merge(b);
        let expected =
            (i64::MAX as f64 * u64::MAX as f64 + 2f64.powi(39) + 3.0 * u64::MAX as f64) / 7.0;
        let got = a.mean(7);
        assert!(
            (got - expected).abs() <= expected * 1e-15,
            "{got} vs {expected}"
        );
    }

    #[test]
    fn carries_wait_without_overflow() {
        let mut sum = ExactSum {
            additions: CARRY_EVERY - 3,
            ..ExactSum::default()
        };
        for _ in 0..6 {
            sum.add_float(-f64::MAX, (1 << 61) + 1);
        }
        assert_eq!(sum.additions, 9);
        assert_eq!(sum.mean(6 << 61), -f64::MAX);
    }
}
