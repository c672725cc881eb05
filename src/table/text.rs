//! Values as text, the way pandas writes them to CSV.

/// Appends `value` as Python's `repr(float)` writes it, which is what pandas
/// `to_csv` prints: the shortest digits that read back to the same double,
/// positional notation for decimal exponents -4 to 15 (always with a `.`),
/// scientific (`1e-05`, `1.5e+16`) outside. NaN and infinities are written
/// `nan`, `inf`, `-inf`.
pub fn write_python_float(out: &mut Vec<u8>, value: f64) {
    if value.is_nan() {
        out.extend_from_slice(b"nan");
        return;
    }
    if value.is_infinite() {
        out.extend_from_slice(if value > 0.0 { b"inf" } else { b"-inf" });
        return;
    }
    let mut buffer = ryu::Buffer::new();
    write_shortest(out, buffer.format_finite(value));
}

/// Appends a 32-bit float as numpy's `repr(float32)` writes it: the
/// shortest digits that read back to the same `f32`, in Python's layout.
pub fn write_python_float32(out: &mut Vec<u8>, value: f32) {
    if !value.is_finite() {
        write_python_float(out, value as f64);
        return;
    }
    let mut buffer = ryu::Buffer::new();
    write_shortest(out, buffer.format_finite(value));
}

/// Lays out ryu's shortest digits as Python's `repr` does.
fn write_shortest(out: &mut Vec<u8>, shortest: &str) {
    let (negative, digits, exponent) = decompose(shortest);
    if negative {
        out.push(b'-');
    }
    if digits.is_empty() {
        out.extend_from_slice(b"0.0");
        return;
    }
    // value = 0.DIGITS * 10^(exponent + 1) = D.IGITS * 10^exponent
    if (-4..16).contains(&exponent) {
        if exponent < 0 {
            out.extend_from_slice(b"0.");
            out.extend(std::iter::repeat_n(b'0', (-exponent - 1) as usize));
            out.extend_from_slice(&digits);
        } else {
            let int_len = exponent as usize + 1;
            if digits.len() <= int_len {
                out.extend_from_slice(&digits);
                out.extend(std::iter::repeat_n(b'0', int_len - digits.len()));
                out.extend_from_slice(b".0");
            } else {
                out.extend_from_slice(&digits[..int_len]);
                out.push(b'.');
                out.extend_from_slice(&digits[int_len..]);
            }
        }
    } else {
        out.push(digits[0]);
        if digits.len() > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits[1..]);
        }
        out.push(b'e');
        out.push(if exponent < 0 { b'-' } else { b'+' });
        let magnitude = exponent.unsigned_abs();
        if magnitude < 10 {
            out.push(b'0');
        }
        out.extend_from_slice(itoa::Buffer::new().format(magnitude).as_bytes());
    }
}

/// The same as [`write_python_float`], into a new string.
pub fn python_float(value: f64) -> String {
    let mut out = Vec::with_capacity(24);
    write_python_float(&mut out, value);
    String::from_utf8(out).expect("ASCII")
}

/// Splits ryu's shortest rendering into sign, significant digits (no leading
/// or trailing zeros) and the decimal exponent of the first digit.
fn decompose(text: &str) -> (bool, Vec<u8>, i32) {
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exp) = match text.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i32>().expect("ryu exponent")),
        None => (text, 0),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let mut digits: Vec<u8> = int_part.bytes().chain(frac_part.bytes()).collect();
    // Exponent of the first digit of int_part.
    let mut first_exponent = int_part.len() as i32 - 1 + exp;
    let leading = digits.iter().take_while(|&&d| d == b'0').count();
    digits.drain(..leading);
    first_exponent -= leading as i32;
    while digits.last() == Some(&b'0') {
        digits.pop();
    }
    (negative, digits, first_exponent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_as_python_repr() {
        let cases = [
            (25.057193128462792, "25.057193128462792"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.6221105468355675e-06, "1.6221105468355675e-06"),
            (1e-05, "1e-05"),
            (0.0001, "0.0001"),
            (1e16, "1e+16"),
            (1234567890123456.0, "1234567890123456.0"),
            (123.0, "123.0"),
            (1.5e300, "1.5e+300"),
            (-2.5, "-2.5"),
            (100.0, "100.0"),
            (0.1, "0.1"),
            (5e-324, "5e-324"),
        ];
        for (value, expected) in cases {
            assert_eq!(python_float(value), expected, "{value:e}");
        }
        assert_eq!(python_float(f64::NAN), "nan");
        assert_eq!(python_float(f64::NEG_INFINITY), "-inf");
    }
}
