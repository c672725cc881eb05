//! Values as text, the way pandas writes them to CSV, and the test of
//! whether a field's text is a number a double holds exactly.

/// Appends `value` as Python's `repr(float)` writes it, which is what pandas
/// `to_csv` prints: the shortest digits that read back to the same double,
/// positional notation from 1e-4 up to 1e16 (always with a `.`),
/// scientific (`1e-05`, `1.5e+16`) outside. NaN and infinities are written
/// `nan`, `inf`, `-inf`.
pub fn write_python_float(out: &mut Vec<u8>, value: f64) {
    if let Some(text) = non_finite(value) {
        return out.extend_from_slice(text);
    }
    let mut buffer = ryu::Buffer::new();
    let (negative, digits, exponent) = decompose(buffer.format_finite(value));
    write_digits(out, negative, &digits, exponent, positional(value, 1e16));
}

/// Appends a 32-bit float as numpy (and so pandas `to_csv`) writes it: the
/// shortest digits that read back to the same `f32`, positional from 1e-4
/// up to 1e6 and scientific outside (`1e+06`; `1e-04` for `f32(1e-4)`,
/// which is just below 1e-4).
pub fn write_numpy_float32(out: &mut Vec<u8>, value: f32) {
    let wide = f64::from(value);
    if let Some(text) = non_finite(wide) {
        return out.extend_from_slice(text);
    }
    let mut buffer = ryu::Buffer::new();
    let (negative, digits, exponent) = decompose(buffer.format_finite(value));
    write_digits(out, negative, &digits, exponent, positional(wide, 1e6));
}

/// Appends a 16-bit float as numpy writes it: the shortest digits that read
/// back to the same `f16`, positional from 1e-4 up to 1e3 and scientific
/// outside (`1e+03`, `6.55e+04`).
pub fn write_numpy_float16(out: &mut Vec<u8>, value: half::f16) {
    let wide = value.to_f64();
    if let Some(text) = non_finite(wide) {
        return out.extend_from_slice(text);
    }
    let shortest = shortest_f16(value);
    let (negative, digits, exponent) = decompose(&shortest);
    write_digits(out, negative, &digits, exponent, positional(wide, 1e3));
}

/// The shortest digits (as `D.DDDDe±X`) that read back to `value`, the
/// closest to it where several of that length do, as numpy's Dragon4 picks
/// them. For each length the correctly rounded digits and their neighbours
/// one unit either side are tried: near a power of two the rounding
/// interval is lopsided, and a neighbour may read back where the rounded
/// digits do not.
fn shortest_f16(value: half::f16) -> String {
    let wide = value.to_f64();
    let reads_back = |text: &str| {
        text.parse::<f64>()
            .is_ok_and(|v| half::f16::from_f64(v).to_bits() == value.to_bits())
    };
    // Five significant digits always tell f16 values apart.
    for precision in 0..5usize {
        let rounded = format!("{wide:.precision$e}");
        let (mantissa, exponent) = rounded.split_once('e').expect("exponent form");
        let negative = mantissa.starts_with('-');
        let units: i64 = mantissa
            .trim_start_matches('-')
            .replace('.', "")
            .parse()
            .expect("digits");
        let exponent = exponent.parse::<i32>().expect("exponent") - precision as i32;
        // Of equally close digits, the even (Dragon4 rounds half to even).
        let best = [units - 1, units, units + 1]
            .into_iter()
            .filter(|&u| u > 0)
            .map(|u| {
                (
                    u,
                    format!("{}{u}e{exponent}", if negative { "-" } else { "" }),
                )
            })
            .filter(|(_, text)| reads_back(text))
            .min_by(|(a, a_text), (b, b_text)| {
                let distance = |t: &str| (t.parse::<f64>().expect("number") - wide).abs();
                distance(a_text)
                    .total_cmp(&distance(b_text))
                    .then((a % 2).cmp(&(b % 2)))
            })
            .map(|(_, text)| text);
        if let Some(text) = best {
            return text;
        }
    }
    format!("{wide:e}")
}

fn non_finite(value: f64) -> Option<&'static [u8]> {
    if value.is_nan() {
        Some(b"nan")
    } else if value.is_infinite() {
        Some(if value > 0.0 { b"inf" } else { b"-inf" })
    } else {
        None
    }
}

/// numpy's choice of notation: positional for zero and for magnitudes from
/// 1e-4 up to `max_positional` (compared as binary values: no float of any
/// width lies between 1e-4 and `1e-4f64`).
fn positional(value: f64, max_positional: f64) -> bool {
    let magnitude = value.abs();
    magnitude == 0.0 || (1e-4..max_positional).contains(&magnitude)
}

/// Lays out significant digits (no leading or trailing zeros; none for
/// zero) whose first has decimal exponent `exponent`, as Python's `repr`.
fn write_digits(out: &mut Vec<u8>, negative: bool, digits: &[u8], exponent: i32, positional: bool) {
    if negative {
        out.push(b'-');
    }
    if digits.is_empty() {
        out.extend_from_slice(b"0.0");
        return;
    }
    // value = D.IGITS * 10^exponent
    if positional {
        if exponent < 0 {
            out.extend_from_slice(b"0.");
            out.extend(std::iter::repeat_n(b'0', (-exponent - 1) as usize));
            out.extend_from_slice(digits);
        } else {
            let int_len = exponent as usize + 1;
            if digits.len() <= int_len {
                out.extend_from_slice(digits);
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

/// Text for showing bytes that should be UTF-8: as they are where they
/// are, each byte that is not as `\xNN` (never a silent U+FFFD).
pub fn display_text(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for byte in chunk.invalid() {
            out.push_str(&format!("\\x{byte:02X}"));
        }
    }
    out
}

/// The same as [`write_python_float`], into a new string.
pub fn python_float(value: f64) -> String {
    let mut out = Vec::with_capacity(24);
    write_python_float(&mut out, value);
    String::from_utf8(out).expect("ASCII")
}

/// The number a field holds, when it is written as a plain decimal number
/// (`-12`, `+3`, `1.50`, `.5`, `2e-3`; not `nan`, `inf`, `0x1`, ` 1` or
/// `1_000`) and the nearest double is that very number: printing the double
/// gives back the digits written. Fields with more digits than a double
/// holds (`9007199254740993`, `0.1000000000000000055`) are `None`: as a
/// double they would change.
pub fn exact_f64(field: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(field).ok()?;
    let written = decimal_parts(text)?;
    let value: f64 = fast_float2::parse(text).ok()?;
    if !value.is_finite() {
        return None;
    }
    let mut buffer = ryu::Buffer::new();
    let (_, digits, exponent) = decompose(buffer.format_finite(value));
    // The sign of zero is kept by the double; only the digits must agree.
    (digits == written.1 && (digits.is_empty() || exponent == written.2)).then_some(value)
}

/// Sign, significant digits and decimal exponent of the first digit of a
/// plain decimal number; `None` for any other text.
fn decimal_parts(text: &str) -> Option<(bool, Vec<u8>, i32)> {
    let negative = text.starts_with('-');
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match body.split_once(['e', 'E']) {
        Some((m, e)) => {
            let digits = e.strip_prefix(['-', '+']).unwrap_or(e);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            // Far beyond any double; keeps the arithmetic below in range.
            let exponent = e.parse::<i32>().ok().filter(|e| e.abs() <= 100_000)?;
            (m, exponent)
        }
        None => (body, 0),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int_part.len() + frac_part.len() == 0 || !all_digits(int_part) || !all_digits(frac_part) {
        return None;
    }
    if int_part.len() + frac_part.len() > 100_000 {
        return None;
    }
    let (digits, first) = significant(int_part, frac_part, exponent);
    Some((negative, digits, first))
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
    let (digits, first) = significant(int_part, frac_part, exp);
    (negative, digits, first)
}

/// The significant digits of `INT.FRAC * 10^exp` and the decimal exponent
/// of the first.
fn significant(int_part: &str, frac_part: &str, exp: i32) -> (Vec<u8>, i32) {
    let mut digits: Vec<u8> = int_part.bytes().chain(frac_part.bytes()).collect();
    // Exponent of the first digit of int_part.
    let mut first_exponent = int_part.len() as i32 - 1 + exp;
    let leading = digits.iter().take_while(|&&d| d == b'0').count();
    digits.drain(..leading);
    first_exponent -= leading as i32;
    while digits.last() == Some(&b'0') {
        digits.pop();
    }
    (digits, first_exponent)
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

    #[test]
    fn invalid_utf8_is_shown_escaped_and_valid_text_as_it_is() {
        assert_eq!(display_text(b"caf\xe9 \xc3\xa9"), "caf\\xE9 é");
    }

    #[test]
    fn only_numbers_a_double_holds_to_the_digit_are_exact() {
        for (text, value) in [
            ("0.1", 0.1),
            ("1.50", 1.5),
            ("-0", -0.0),
            ("+3", 3.0),
            (".5", 0.5),
            ("2e-3", 0.002),
            ("1E5", 1e5),
            ("9007199254740992", 9007199254740992.0),
        ] {
            assert_eq!(exact_f64(text.as_bytes()), Some(value), "{text}");
        }
        for text in [
            "9007199254740993",
            "0.1000000000000000055",
            "nan",
            "inf",
            "1e400",
            " 1",
            "1_000",
            "0x10",
            "1e",
            "",
            ".",
            "-",
            "1.2.3",
        ] {
            assert_eq!(exact_f64(text.as_bytes()), None, "{text}");
        }
    }

    #[test]
    fn narrow_floats_follow_numpy_notation() {
        let f32_text = |v: f32| {
            let mut out = Vec::new();
            write_numpy_float32(&mut out, v);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(f32_text(0.1), "0.1");
        assert_eq!(f32_text(99999.0), "99999.0");
        assert_eq!(f32_text(1e6), "1e+06");
        assert_eq!(f32_text(1e-4), "1e-04");
        let f16_text = |v: f32| {
            let mut out = Vec::new();
            write_numpy_float16(&mut out, half::f16::from_f32(v));
            String::from_utf8(out).unwrap()
        };
        assert_eq!(f16_text(999.0), "999.0");
        assert_eq!(f16_text(1000.0), "1e+03");
        assert_eq!(f16_text(65504.0), "6.55e+04");
        assert_eq!(f16_text(0.015625), "0.01563");
    }
}
