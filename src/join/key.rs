//! Patient ids as join keys: `123`, `123.0` and ` 123 ` are the same key.

use std::collections::HashMap;

use ahash::RandomState;

/// A normalised patient id.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Key {
    /// An id that is an integer (also when written `123.0` or ` 123 `).
    Int(i64),
    /// Any other id, trimmed.
    Text(Box<[u8]>),
}

impl Key {
    /// Normalises an id as written in a file; `None` for an empty id.
    pub fn parse(raw: &[u8]) -> Option<Key> {
        let text = raw.trim_ascii();
        if text.is_empty() {
            return None;
        }
        Some(match parse_integer(text) {
            Some(value) => Key::Int(value),
            None => Key::Text(text.into()),
        })
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Key::Int(v) => write!(f, "{v}"),
            Key::Text(t) => write!(f, "{}", String::from_utf8_lossy(t)),
        }
    }
}

/// `123`, `+123`, `-5`, `123.0`, `123.000`; not `1.5`, not `1e3`.
fn parse_integer(text: &[u8]) -> Option<i64> {
    let (int_part, frac) = match memchr::memchr(b'.', text) {
        Some(i) => (&text[..i], &text[i + 1..]),
        None => (text, &b""[..]),
    };
    if !frac.iter().all(|&b| b == b'0') {
        return None;
    }
    let digits = int_part
        .strip_prefix(b"-")
        .or_else(|| int_part.strip_prefix(b"+"))
        .unwrap_or(int_part);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(int_part)
        .ok()?
        .trim_start_matches('+')
        .parse()
        .ok()
}

/// Two rows of the per-patient file with the same id.
#[derive(Debug)]
pub struct DuplicateKey {
    /// The id.
    pub key: Key,
    /// The line (or row) where it first appeared.
    pub first: u64,
    /// The line (or row) where it appeared again.
    pub second: u64,
}

/// From patient id to row number of the per-patient file. Integer ids (the
/// usual case) are kept apart from text ids, in a map of plain integers.
#[derive(Default)]
pub struct KeyMap {
    ints: HashMap<i64, u32, RandomState>,
    texts: HashMap<Box<[u8]>, u32, RandomState>,
    lines: Vec<u64>,
}

impl KeyMap {
    /// An empty map with room for `rows` ids.
    pub fn with_capacity(rows: usize) -> KeyMap {
        KeyMap {
            ints: HashMap::with_capacity_and_hasher(rows, RandomState::with_seeds(1, 2, 3, 4)),
            texts: HashMap::with_hasher(RandomState::with_seeds(1, 2, 3, 4)),
            lines: Vec::with_capacity(rows),
        }
    }

    /// Records that row `row` (on line `line`) has id `key`.
    pub fn insert(&mut self, key: Key, row: u32, line: u64) -> Result<(), DuplicateKey> {
        let previous = match &key {
            Key::Int(v) => *self.ints.entry(*v).or_insert(row),
            Key::Text(t) => *self.texts.entry(t.clone()).or_insert(row),
        };
        let previous = (previous != row).then_some(previous);
        if let Some(first_row) = previous {
            return Err(DuplicateKey {
                key,
                first: self.lines[first_row as usize],
                second: line,
            });
        }
        if self.lines.len() <= row as usize {
            self.lines.resize(row as usize + 1, 0);
        }
        self.lines[row as usize] = line;
        Ok(())
    }

    /// The row with id `key`.
    pub fn get(&self, key: &Key) -> Option<u32> {
        match key {
            Key::Int(v) => self.ints.get(v),
            Key::Text(t) => self.texts.get(t),
        }
        .copied()
    }

    /// The row whose id is written `raw`.
    pub fn find(&self, raw: &[u8]) -> Option<u32> {
        Key::parse(raw).and_then(|k| self.get(&k))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_ids_match_however_written() {
        for raw in ["123", "123.0", " 123 ", "+123", "123.000"] {
            assert_eq!(Key::parse(raw.as_bytes()), Some(Key::Int(123)), "{raw}");
        }
        assert_eq!(Key::parse(b"1.5"), Some(Key::Text(b"1.5"[..].into())));
        assert_eq!(Key::parse(b" abc "), Some(Key::Text(b"abc"[..].into())));
        assert_eq!(Key::parse(b"  "), None);
    }

    #[test]
    fn duplicates_name_both_lines() {
        let mut map = KeyMap::with_capacity(2);
        map.insert(Key::Int(7), 0, 2).unwrap();
        let dup = map.insert(Key::Int(7), 1, 3).unwrap_err();
        assert_eq!((dup.first, dup.second), (2, 3));
        assert_eq!(map.find(b"7.0"), Some(0));
    }
}
