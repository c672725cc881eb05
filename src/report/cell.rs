//! One CSV field as pandas `read_csv` would see it: missing, an integer, a
//! float, a boolean or text. Column types follow from the classes of their
//! fields (see [`crate::report::column`]).

/// The text pandas reads as a missing value (its default `na_values`, plus
/// the empty field).
const NA_TOKENS: [&[u8]; 18] = [
    b"#N/A",
    b"#N/A N/A",
    b"#NA",
    b"-1.#IND",
    b"-1.#QNAN",
    b"-NaN",
    b"-nan",
    b"1.#IND",
    b"1.#QNAN",
    b"<NA>",
    b"N/A",
    b"NA",
    b"NULL",
    b"NaN",
    b"None",
    b"n/a",
    b"nan",
    b"null",
];

/// What one field holds, for type inference and counting.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Cell<'a> {
    /// Empty, or one of pandas' missing-value markers.
    Missing,
    /// A whole number that fits an `i64`.
    Int(i64),
    /// A whole number above `i64::MAX` that fits a `u64`.
    UInt(u64),
    /// Any other number pandas parses (`1.5`, `1e5`, `inf`).
    Float(f64),
    /// `True`/`TRUE`/`true` or `False`/`FALSE`/`false`.
    Bool(bool),
    /// Anything else, as read.
    Text(&'a [u8]),
}

/// Classifies one field.
pub fn classify(field: &[u8]) -> Cell<'_> {
    if field.is_empty() {
        return Cell::Missing;
    }
    let trimmed = field.trim_ascii();
    if let Some(cell) = integer(trimmed) {
        return cell;
    }
    if starts_like_a_number(trimmed) {
        // Whole numbers pandas printed as floats (`161925006.0`): common,
        // and cheaper to read as integers.
        if let Some(Cell::Int(v)) = trimmed.strip_suffix(b".0").and_then(integer)
            && v.unsigned_abs() <= 1 << 53
        {
            return Cell::Float(v as f64);
        }
        // No missing-value marker or boolean starts like a number except
        // `1.#IND`, `1.#QNAN` and their negatives, which do not parse.
        if let Ok(value) = fast_float2::parse::<f64, _>(trimmed) {
            return Cell::Float(value);
        }
    }
    if is_na(field) {
        return Cell::Missing;
    }
    if let Some(value) = boolean(field) {
        return Cell::Bool(value);
    }
    if looks_numeric(trimmed)
        && let Ok(value) = fast_float2::parse::<f64, _>(trimmed)
        && !value.is_nan()
    {
        return Cell::Float(value);
    }
    Cell::Text(field)
}

/// Whether `text` starts with a digit, or a sign or point and a digit.
fn starts_like_a_number(text: &[u8]) -> bool {
    matches!(
        text,
        [b'0'..=b'9', ..]
            | [b'-' | b'+' | b'.', b'0'..=b'9', ..]
            | [b'-' | b'+', b'.', b'0'..=b'9', ..]
    )
}

/// Whether pandas reads the field as missing.
pub fn is_missing(field: &[u8]) -> bool {
    field.is_empty() || is_na(field)
}

fn is_na(field: &[u8]) -> bool {
    field.len() <= 8
        && matches!(field[0], b'#' | b'-' | b'1' | b'<' | b'N' | b'n')
        && NA_TOKENS.contains(&field)
}

fn boolean(field: &[u8]) -> Option<bool> {
    match field {
        b"True" | b"TRUE" | b"true" => Some(true),
        b"False" | b"FALSE" | b"false" => Some(false),
        _ => None,
    }
}

/// An optionally signed run of digits, as `i64` or (above its range, and not
/// negative) `u64`. Whole numbers beyond `u64` are text to pandas.
fn integer(text: &[u8]) -> Option<Cell<'_>> {
    let (negative, digits) = match text.split_first()? {
        (b'-', rest) => (true, rest),
        (b'+', rest) => (false, rest),
        _ => (false, text),
    };
    if digits.is_empty() {
        return None;
    }
    let mut value: u64 = 0;
    let mut overflow = false;
    for &d in digits {
        let digit = d.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        match value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(digit)))
        {
            Some(v) => value = v,
            None => overflow = true,
        }
    }
    if overflow {
        return Some(Cell::Text(text));
    }
    Some(if negative {
        match 0i64.checked_sub_unsigned(value) {
            Some(v) => Cell::Int(v),
            None => Cell::Text(text),
        }
    } else {
        match i64::try_from(value) {
            Ok(v) => Cell::Int(v),
            Err(_) => Cell::UInt(value),
        }
    })
}

/// Whether `text` may be a float in pandas' syntax: digits, sign, point,
/// exponent, or an infinity.
fn looks_numeric(text: &[u8]) -> bool {
    let body = text
        .strip_prefix(b"-")
        .or_else(|| text.strip_prefix(b"+"))
        .unwrap_or(text);
    match body.first() {
        Some(b'0'..=b'9' | b'.') => body
            .iter()
            .all(|b| matches!(b, b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-')),
        Some(b'i' | b'I') => {
            body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity")
        }
        _ => false,
    }
}

/// A date in one of the forms cohort files use (`YYYY-MM-DD`, `YYYY-MM`),
/// as (year, month). Days are checked against the month's length.
pub fn date_month(text: &[u8]) -> Option<(i32, u32)> {
    match text.len() {
        10 => plain_date(text),
        7 if text[4] == b'-' => {
            let year = digits(&text[..4])?;
            let month = digits(&text[5..])?;
            (1..=12).contains(&month).then_some((year as i32, month))
        }
        _ => None,
    }
}

/// A `YYYY-MM-DD` date that exists, as (year, month).
#[inline]
pub fn plain_date(text: &[u8]) -> Option<(i32, u32)> {
    let [y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1] = *text else {
        return None;
    };
    let year = digits(&[y0, y1, y2, y3])?;
    let month = digits(&[m0, m1])?;
    let day = digits(&[d0, d1])?;
    ((1..=12).contains(&month) && (1..=days_in_month(year, month)).contains(&day))
        .then_some((year as i32, month))
}

/// The value of a run of ASCII digits.
fn digits(text: &[u8]) -> Option<u32> {
    text.iter().try_fold(0u32, |value, &d| {
        let digit = d.wrapping_sub(b'0');
        (digit <= 9).then(|| value * 10 + u32::from(digit))
    })
}

/// Days in `month` (1–12) of the proleptic Gregorian `year`.
fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_classified_as_pandas_reads_them() {
        assert_eq!(classify(b""), Cell::Missing);
        assert_eq!(classify(b"NA"), Cell::Missing);
        assert_eq!(classify(b"-nan"), Cell::Missing);
        assert_eq!(classify(b"Nan"), Cell::Text(b"Nan"));
        assert_eq!(classify(b"007"), Cell::Int(7));
        assert_eq!(classify(b" +5 "), Cell::Int(5));
        assert_eq!(classify(b"-0"), Cell::Int(0));
        assert_eq!(classify(b"-9223372036854775808"), Cell::Int(i64::MIN));
        assert_eq!(classify(b"18446744073709551615"), Cell::UInt(u64::MAX));
        assert!(matches!(classify(b"18446744073709551616"), Cell::Text(_)));
        assert!(matches!(classify(b"-9223372036854775809"), Cell::Text(_)));
        assert_eq!(classify(b"1.5"), Cell::Float(1.5));
        assert_eq!(classify(b"1."), Cell::Float(1.0));
        assert_eq!(classify(b".5"), Cell::Float(0.5));
        assert_eq!(classify(b"1E5"), Cell::Float(1e5));
        assert_eq!(classify(b"-.5e-1"), Cell::Float(-0.05));
        assert_eq!(classify(b"161925006.0"), Cell::Float(161_925_006.0));
        assert_eq!(classify(b"1.#IND"), Cell::Missing);
        assert_eq!(classify(b"-1.#QNAN"), Cell::Missing);
        assert!(matches!(classify(b"1e"), Cell::Text(_)));
        assert!(matches!(classify(b"1.5.5"), Cell::Text(_)));
        assert_eq!(classify(b"-Infinity"), Cell::Float(f64::NEG_INFINITY));
        assert_eq!(classify(b"1e400"), Cell::Float(f64::INFINITY));
        assert_eq!(classify(b"TRUE"), Cell::Bool(true));
        assert_eq!(classify(b"false"), Cell::Bool(false));
        for text in [
            &b"yes"[..],
            b"t",
            b" ",
            b"0x10",
            b"1_000",
            b"1d5",
            b"2020-01-01",
        ] {
            assert_eq!(classify(text), Cell::Text(text), "{:?}", text);
        }
    }

    #[test]
    fn dates_are_recognised_to_the_month() {
        assert_eq!(date_month(b"2020-02-29"), Some((2020, 2)));
        assert_eq!(date_month(b"2021-02-29"), None);
        assert_eq!(date_month(b"1900-02-29"), None);
        assert_eq!(date_month(b"2000-02-29"), Some((2000, 2)));
        assert_eq!(date_month(b"2020-04-31"), None);
        assert_eq!(date_month(b"2020-04-00"), None);
        assert_eq!(date_month(b"0000-01-01"), Some((0, 1)));
        assert_eq!(date_month(b"1900-12"), Some((1900, 12)));
        assert_eq!(date_month(b"2020-13-01"), None);
        assert_eq!(date_month(b"2020/01/01"), None);
        assert_eq!(date_month(b"code1"), None);
        assert_eq!(plain_date(b"2020-12-31"), Some((2020, 12)));
        assert_eq!(plain_date(b"2020-1-045"), None);
        assert_eq!(plain_date(b"+020-01-01"), None);
        assert_eq!(plain_date(b"2020-12"), None);
        // Whatever its digits, a date's shape is text to pandas.
        for text in [&b"2020-01-01"[..], b"0000-00-00", b"9999-99-99"] {
            assert_eq!(classify(text), Cell::Text(text));
        }
    }
}
