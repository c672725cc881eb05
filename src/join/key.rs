//! Patient ids as join keys. pandas matches ids by value when it reads them
//! as numbers, so `123`, `123.0`, `+123`, `1.23e2` and ` 123 ` are one key
//! here too; other ids match as text (trimmed).

use std::collections::HashMap;

use super::id_map::IdMap;
use crate::hashing::FixedState;

/// A normalised patient id.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PatientKey {
    /// An id whose value is an integer that fits an `i64`, however written.
    Int(i64),
    /// Any other id: a number in one canonical form (`1.5` for `1.50`,
    /// `1e20` for `100000000000000000000`), else the text, trimmed.
    Text(Box<[u8]>),
}

impl PatientKey {
    /// Normalises an id as written in a file; `None` for an empty id.
    pub fn parse(raw: &[u8]) -> Option<PatientKey> {
        let text = raw.trim_ascii();
        if text.is_empty() {
            return None;
        }
        if let Some(value) = plain_integer(text) {
            return Some(PatientKey::Int(value));
        }
        Some(match Decimal::parse(text) {
            Some(number) => match number.to_i64() {
                Some(value) => PatientKey::Int(value),
                None => PatientKey::Text(number.canonical().into_bytes().into()),
            },
            None => PatientKey::Text(text.into()),
        })
    }
}

/// The value of an id written as at most 18 digits, maybe signed (every
/// such value fits an `i64`): the usual id, read without the general
/// parser's allocation.
fn plain_integer(text: &[u8]) -> Option<i64> {
    let (negative, digits) = match text.first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() || digits.len() > 18 {
        return None;
    }
    let mut value: i64 = 0;
    for &byte in digits {
        if !byte.is_ascii_digit() {
            return None;
        }
        value = value * 10 + i64::from(byte - b'0');
    }
    Some(if negative { -value } else { value })
}

impl std::fmt::Display for PatientKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PatientKey::Int(v) => write!(f, "{v}"),
            PatientKey::Text(t) => write!(f, "{}", crate::table::text::display_text(t)),
        }
    }
}

/// A decimal number as written: sign, significant digits (no leading or
/// trailing zeros) and the power of ten of the last digit.
struct Decimal {
    negative: bool,
    digits: Vec<u8>,
    exponent: i64,
}

impl Decimal {
    /// `123`, `+5`, `-0.50`, `1.23e2`, `.5`; not `0x1f`, `nan`, `1_000`.
    fn parse(text: &[u8]) -> Option<Decimal> {
        let (negative, body) = match text.first()? {
            b'-' => (true, &text[1..]),
            b'+' => (false, &text[1..]),
            _ => (false, text),
        };
        let (mantissa, exponent) = match memchr::memchr2(b'e', b'E', body) {
            Some(i) => {
                let exponent = std::str::from_utf8(&body[i + 1..]).ok()?;
                let digits = exponent.strip_prefix(['-', '+']).unwrap_or(exponent);
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                // Exponents this large are no patient id; keep them as text.
                (
                    &body[..i],
                    exponent.parse::<i64>().ok().filter(|e| e.abs() < 1 << 20)?,
                )
            }
            None => (body, 0),
        };
        let (int_part, frac_part) = match memchr::memchr(b'.', mantissa) {
            Some(i) => (&mantissa[..i], &mantissa[i + 1..]),
            None => (mantissa, &b""[..]),
        };
        let digits_only = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
        if int_part.len() + frac_part.len() == 0
            || !digits_only(int_part)
            || !digits_only(frac_part)
        {
            return None;
        }
        let mut digits: Vec<u8> = int_part.iter().chain(frac_part).copied().collect();
        let mut exponent = exponent - frac_part.len() as i64;
        let leading = digits.iter().take_while(|&&d| d == b'0').count();
        digits.drain(..leading);
        while digits.last() == Some(&b'0') {
            digits.pop();
            exponent += 1;
        }
        Some(Decimal {
            negative: negative && !digits.is_empty(),
            digits,
            exponent,
        })
    }

    /// The value, when it is an integer that fits an `i64`.
    fn to_i64(&self) -> Option<i64> {
        if self.digits.is_empty() {
            return Some(0);
        }
        if self.exponent < 0 || self.digits.len() as i64 + self.exponent > 19 {
            return None;
        }
        let mut value: i128 = 0;
        for &d in &self.digits {
            value = value * 10 + i128::from(d - b'0');
        }
        value *= 10i128.pow(self.exponent as u32);
        if self.negative {
            value = -value;
        }
        i64::try_from(value).ok()
    }

    /// One spelling for every way of writing the same number.
    fn canonical(&self) -> String {
        let sign = if self.negative { "-" } else { "" };
        let digits = std::str::from_utf8(&self.digits).expect("ASCII digits");
        format!("{sign}{digits}e{}", self.exponent)
    }
}

/// Two rows of the per-patient file with the same id.
#[derive(Debug)]
pub struct DuplicateKey {
    /// The id.
    pub key: PatientKey,
    /// Where it first appeared (a line, a row, or a byte offset until the
    /// error is worded).
    pub first: u64,
    /// Where it appeared again.
    pub second: u64,
}

/// From patient id to row number of the per-patient file. Integer ids (the
/// usual case) are kept apart from text ids, in a map of plain integers.
pub struct KeyMap {
    ints: IdMap,
    texts: HashMap<Box<[u8]>, u32, FixedState>,
    /// Each row's position (see [`KeyMap::insert`]).
    positions: Vec<u64>,
}

impl KeyMap {
    /// An empty map with room for `rows` ids.
    pub fn with_capacity(rows: usize) -> KeyMap {
        KeyMap {
            ints: IdMap::with_capacity(rows),
            texts: HashMap::with_hasher(FixedState),
            positions: Vec::with_capacity(rows),
        }
    }

    /// Records that row `row` (at `position`: its line, row or byte offset,
    /// which a duplicate's error gives back) has id `key`.
    pub fn insert(&mut self, key: PatientKey, row: u32, position: u64) -> Result<(), DuplicateKey> {
        let previous = match &key {
            PatientKey::Int(v) => self.ints.get_or_insert(*v, row),
            PatientKey::Text(t) => *self.texts.entry(t.clone()).or_insert(row),
        };
        let previous = (previous != row).then_some(previous);
        if let Some(first_row) = previous {
            return Err(DuplicateKey {
                key,
                first: self.positions[first_row as usize],
                second: position,
            });
        }
        if self.positions.len() <= row as usize {
            self.positions.resize(row as usize + 1, 0);
        }
        self.positions[row as usize] = position;
        Ok(())
    }

    /// The row with id `key`.
    pub fn get(&self, key: &PatientKey) -> Option<u32> {
        match key {
            PatientKey::Int(v) => self.ints.get(*v),
            PatientKey::Text(t) => self.texts.get(t).copied(),
        }
    }

    /// The row whose id is written `raw`.
    pub fn find(&self, raw: &[u8]) -> Option<u32> {
        PatientKey::parse(raw).and_then(|k| self.get(&k))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_integers_read_as_the_general_parser_reads_them() {
        use proptest::prelude::*;
        let general = |text: &[u8]| {
            Decimal::parse(text).map(|d| match d.to_i64() {
                Some(v) => PatientKey::Int(v),
                None => PatientKey::Text(d.canonical().into_bytes().into()),
            })
        };
        proptest!(|(text in "[+-]?[0-9]{1,20}")| {
            if let Some(value) = plain_integer(text.as_bytes()) {
                prop_assert_eq!(Some(PatientKey::Int(value)), general(text.as_bytes()));
            }
            prop_assert_eq!(PatientKey::parse(text.as_bytes()), general(text.as_bytes()));
        });
        for text in [
            "-",
            "+",
            "",
            "1.0",
            "1e2",
            "0x1",
            "1_0",
            "1234567890123456789",
        ] {
            assert_eq!(plain_integer(text.as_bytes()), None, "{text}");
        }
    }

    #[test]
    fn integer_ids_match_however_written() {
        for raw in [
            "123", "123.0", " 123 ", "+123", "123.000", "1.23e2", "12300E-2", "0123",
        ] {
            assert_eq!(
                PatientKey::parse(raw.as_bytes()),
                Some(PatientKey::Int(123)),
                "{raw}"
            );
        }
        assert_eq!(PatientKey::parse(b"7e0"), PatientKey::parse(b"7"));
        assert_eq!(PatientKey::parse(b"-0.0"), Some(PatientKey::Int(0)));
        assert_eq!(PatientKey::parse(b"1.5"), PatientKey::parse(b"1.50"));
        assert_eq!(
            PatientKey::parse(b"100000000000000000000"),
            PatientKey::parse(b"1e+20")
        );
        assert_ne!(PatientKey::parse(b"1.5"), PatientKey::parse(b"15"));
        assert_eq!(
            PatientKey::parse(b" abc "),
            Some(PatientKey::Text(b"abc"[..].into()))
        );
        for text in [
            "0x1f",
            "nan",
            "inf",
            "1_000",
            "1e",
            "e5",
            ".",
            "-",
            "1e99999999",
        ] {
            assert_eq!(
                PatientKey::parse(text.as_bytes()),
                Some(PatientKey::Text(text.as_bytes().into())),
                "{text}"
            );
        }
        assert_eq!(PatientKey::parse(b"  "), None);
    }

    #[test]
    fn duplicates_name_both_lines() {
        let mut map = KeyMap::with_capacity(2);
        map.insert(PatientKey::Int(7), 0, 2).unwrap();
        let dup = map.insert(PatientKey::Int(7), 1, 3).unwrap_err();
        assert_eq!((dup.first, dup.second), (2, 3));
        assert_eq!(map.find(b"7.0"), Some(0));
    }
}
