//! What the `.dta` formats have in common: storage types, missing values,
//! the sizes that differ between releases, and Stata's date origin.

/// Stata's numeric storage types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Numeric {
    /// 1-byte integer, -127 to 100.
    Byte,
    /// 2-byte integer, -32,767 to 32,740.
    Int,
    /// 4-byte integer, -2,147,483,647 to 2,147,483,620.
    Long,
    /// 4-byte IEEE float.
    Float,
    /// 8-byte IEEE double.
    Double,
}

impl Numeric {
    /// The integer types, smallest first.
    pub const INTEGERS: [Numeric; 3] = [Numeric::Byte, Numeric::Int, Numeric::Long];

    /// Bytes per value.
    pub fn size(self) -> usize {
        match self {
            Numeric::Byte => 1,
            Numeric::Int => 2,
            Numeric::Long | Numeric::Float => 4,
            Numeric::Double => 8,
        }
    }

    /// The values an integer type can hold; larger ones mean missing.
    pub fn range(self) -> Option<(i64, i64)> {
        match self {
            Numeric::Byte => Some((-127, 100)),
            Numeric::Int => Some((-32_767, 32_740)),
            Numeric::Long => Some((-2_147_483_647, 2_147_483_620)),
            Numeric::Float | Numeric::Double => None,
        }
    }

    /// The type's code in formats 117 and later.
    pub fn code(self) -> u16 {
        match self {
            Numeric::Byte => 65530,
            Numeric::Int => 65529,
            Numeric::Long => 65528,
            Numeric::Float => 65527,
            Numeric::Double => 65526,
        }
    }

    /// The type with a code from formats 117 and later.
    pub fn from_code(code: u16) -> Option<Numeric> {
        [
            Numeric::Byte,
            Numeric::Int,
            Numeric::Long,
            Numeric::Float,
            Numeric::Double,
        ]
        .into_iter()
        .find(|n| n.code() == code)
    }

    /// The type with a code from formats 114 and 115 (251 to 255).
    pub fn from_old_code(code: u8) -> Option<Numeric> {
        code.checked_sub(251)
            .and_then(|i| Numeric::from_code(65530 - u16::from(i)))
    }

    /// The display format pandas gives a column of this type.
    pub fn default_format(self) -> &'static str {
        match self {
            Numeric::Byte | Numeric::Int => "%8.0g",
            Numeric::Long => "%12.0g",
            Numeric::Float => "%9.0g",
            Numeric::Double => "%10.0g",
        }
    }
}

/// How a variable is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VarType {
    /// A number.
    Numeric(Numeric),
    /// Text of at most this many bytes, NUL-padded (`str#`).
    Str(u16),
    /// Long text kept after the data, referred to by (variable, observation).
    StrL,
}

impl VarType {
    /// Bytes the variable takes in each observation.
    pub fn width(self) -> usize {
        match self {
            VarType::Numeric(n) => n.size(),
            VarType::Str(w) => usize::from(w),
            VarType::StrL => 8,
        }
    }
}

/// The code of `strL` in formats 117 and later.
pub const STRL_CODE: u16 = 32768;

/// The widest `str#` in formats 117 and later.
pub const MAX_STR: u16 = 2045;

/// The largest number a `float` holds; larger ones are missing values.
pub const FLOAT_MAX: f32 = f32::from_bits(0x7eff_ffff);

/// The largest number a `double` holds; larger ones are missing values.
pub const DOUBLE_MAX: f64 = f64::from_bits(0x7fdf_ffff_ffff_ffff);

/// System missing (`.`) of each type, as stored.
pub const BYTE_MISSING: i8 = 101;
/// See [`BYTE_MISSING`].
pub const INT_MISSING: i16 = 32_741;
/// See [`BYTE_MISSING`].
pub const LONG_MISSING: i32 = 2_147_483_621;
/// See [`BYTE_MISSING`].
pub const FLOAT_MISSING: f32 = f32::from_bits(0x7f00_0000);
/// See [`BYTE_MISSING`].
pub const DOUBLE_MISSING: f64 = f64::from_bits(0x7fe0_0000_0000_0000);

/// Days from Stata's origin (1960-01-01) to Arrow's (1970-01-01).
pub const DAYS_1960_TO_1970: i64 = 3653;

/// Milliseconds from 1960-01-01 to 1970-01-01.
pub const MS_1960_TO_1970: i64 = DAYS_1960_TO_1970 * 86_400_000;

/// What a numeric variable's display format says its numbers are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Meaning {
    /// Plain numbers.
    Number,
    /// Days since 1960-01-01 (`%td`, and `%d` of old Stata).
    Date,
    /// Milliseconds since 1960-01-01 00:00 (`%tc`).
    Timestamp,
}

impl Meaning {
    /// The meaning of a display format such as `%tdCCYY-NN-DD` or `%-tc`.
    pub fn of_format(format: &str) -> Meaning {
        let bare = format.trim_start_matches('%').trim_start_matches('-');
        if bare.starts_with("td") || bare.starts_with('d') {
            Meaning::Date
        } else if bare.starts_with("tc") {
            Meaning::Timestamp
        } else {
            Meaning::Number
        }
    }
}

/// The release (format number) of a file and the sizes that go with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Release(pub u16);

impl Release {
    /// The releases this module reads.
    pub const READ: [u16; 5] = [114, 115, 117, 118, 119];

    /// Whether the file uses the tagged layout of Stata 13 and later.
    pub fn tagged(self) -> bool {
        self.0 >= 117
    }

    /// Whether text is UTF-8 (else Latin-1).
    pub fn utf8(self) -> bool {
        self.0 >= 118
    }

    /// Bytes of a variable or value-label name, with its terminating NUL.
    pub fn name_len(self) -> usize {
        if self.utf8() { 129 } else { 33 }
    }

    /// Bytes of a display format.
    pub fn format_len(self) -> usize {
        if self.utf8() { 57 } else { 49 }
    }

    /// Bytes of a variable label.
    pub fn label_len(self) -> usize {
        if self.utf8() { 321 } else { 81 }
    }

    /// Bytes of (variable, observation) in a `strL` cell of the data.
    pub fn strl_parts(self) -> (usize, usize) {
        match self.0 {
            117 => (4, 4),
            118 => (2, 6),
            _ => (3, 5),
        }
    }
}

/// Reads an unsigned integer of `bytes.len()` (at most 8) bytes.
pub fn uint(bytes: &[u8], big_endian: bool) -> u64 {
    let fold = |acc: u64, &b: &u8| (acc << 8) | u64::from(b);
    if big_endian {
        bytes.iter().fold(0, fold)
    } else {
        bytes.iter().rev().fold(0, fold)
    }
}

/// The bytes of a NUL-terminated text field, up to its first NUL.
pub fn until_nul(field: &[u8]) -> &[u8] {
    // A plain loop beats memchr's set-up on the short fields most are.
    let end = if field.len() <= 32 {
        field.iter().position(|&b| b == 0)
    } else {
        memchr::memchr(0, field)
    };
    end.map_or(field, |end| &field[..end])
}

/// Appends Latin-1 text (formats before 118) as UTF-8.
pub fn push_latin1(text: &[u8], out: &mut Vec<u8>) {
    if text.is_ascii() {
        out.extend_from_slice(text);
    } else {
        let mut utf8 = [0; 2];
        for &b in text {
            out.extend_from_slice(char::from(b).encode_utf8(&mut utf8).as_bytes());
        }
    }
}

/// A name, format or label field as text: UTF-8 from release 118 (an
/// error naming the field where it is not), Latin-1 before.
pub fn field_text(field: &[u8], release: Release) -> Result<String, String> {
    release_text(until_nul(field), release, "name")
}

/// Text as the release stores it: UTF-8 from release 118 (an error naming
/// `what` it is where it is not), Latin-1 before.
pub fn release_text(text: &[u8], release: Release, what: &str) -> Result<String, String> {
    if release.utf8() {
        String::from_utf8(text.to_vec()).map_err(|_| {
            format!(
                "the {what} {:?} is not valid UTF-8 text, as format 118 and later require",
                String::from_utf8_lossy(text)
            )
        })
    } else {
        let mut out = Vec::with_capacity(text.len());
        push_latin1(text, &mut out);
        Ok(String::from_utf8(out).expect("Latin-1 decodes to valid UTF-8"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_of_both_layouts_name_the_same_types() {
        assert_eq!(Numeric::from_old_code(251), Some(Numeric::Byte));
        assert_eq!(Numeric::from_old_code(255), Some(Numeric::Double));
        assert_eq!(Numeric::from_old_code(250), None);
        assert_eq!(Numeric::from_code(65528), Some(Numeric::Long));
        assert_eq!(Numeric::from_code(STRL_CODE), None);
    }

    #[test]
    fn missing_values_lie_just_above_the_valid_range() {
        assert_eq!(Numeric::Byte.range().unwrap().1 + 1, BYTE_MISSING as i64);
        assert_eq!(Numeric::Int.range().unwrap().1 + 1, INT_MISSING as i64);
        assert_eq!(Numeric::Long.range().unwrap().1 + 1, LONG_MISSING as i64);
        assert!(FLOAT_MISSING > FLOAT_MAX && FLOAT_MISSING.is_finite());
        assert!(DOUBLE_MISSING > DOUBLE_MAX && DOUBLE_MISSING.is_finite());
        assert_eq!(FLOAT_MAX, 1.701_411_7e38);
    }

    #[test]
    fn date_formats_are_recognised() {
        assert_eq!(Meaning::of_format("%td"), Meaning::Date);
        assert_eq!(Meaning::of_format("%tdCCYY-NN-DD"), Meaning::Date);
        assert_eq!(Meaning::of_format("%-tc"), Meaning::Timestamp);
        assert_eq!(Meaning::of_format("%tC"), Meaning::Number);
        assert_eq!(Meaning::of_format("%9.0g"), Meaning::Number);
        assert_eq!(Meaning::of_format("%12s"), Meaning::Number);
    }

    #[test]
    fn text_fields_stop_at_nul_and_latin1_becomes_utf8() {
        assert_eq!(field_text(b"ab\0cd", Release(118)).unwrap(), "ab");
        assert_eq!(field_text(b"h\xe9\0", Release(117)).unwrap(), "hé");
        assert_eq!(field_text("hé".as_bytes(), Release(119)).unwrap(), "hé");
        let e = field_text(b"caf\xe9\0", Release(118)).unwrap_err();
        assert!(e.contains("\"caf\u{fffd}\" is not valid UTF-8"), "{e}");
    }

    #[test]
    fn unsigned_integers_in_either_byte_order() {
        assert_eq!(uint(&[1, 2, 3], false), 0x030201);
        assert_eq!(uint(&[1, 2, 3], true), 0x010203);
    }
}
