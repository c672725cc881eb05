//! How each Arrow column is stored in Stata: the type that holds every
//! value unchanged, found in one pass over the column before anything is
//! written, and the encoding of its cells.

use std::collections::HashMap;
use std::ops::Range;

use arrow_array::Array;
use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_schema::{DataType, TimeUnit};

use super::types::{
    BYTE_MISSING, DOUBLE_MAX, DOUBLE_MISSING, FLOAT_MAX, FLOAT_MISSING, INT_MISSING, LONG_MISSING,
    MAX_STR, Numeric, VarType,
};
use super::values::{Floats, IntValues, Ints, Scale, Texts};

/// The largest integer a double holds exactly, and every one below it.
const EXACT_IN_DOUBLE: i128 = 1 << 53;

/// How one column is stored, with a note when that is not what its type
/// would suggest.
pub struct StoragePlan<'a> {
    /// The storage and where its values come from.
    pub storage: Storage<'a>,
    /// The display format (`%td` for dates, `%tc` for times).
    pub format: String,
    /// What the user should know about how the column was stored.
    pub note: Option<String>,
}

/// A Stata storage type and the Arrow values it is filled from.
pub enum Storage<'a> {
    /// Whole numbers as `byte`, `int`, `long` or `double` (never `float`).
    Integer(Numeric, Ints<'a>),
    /// Float32 values as `float`.
    Float(Floats<'a, f32>),
    /// Float32 values beyond `float`'s range, as `double`.
    WideFloat(Floats<'a, f32>),
    /// Float64 values as `double`.
    Double(Floats<'a, f64>),
    /// Text as `str#` of this width; nulls as "".
    Text(u16, Texts<'a>),
    /// Whole numbers as their decimal text, in `str#` of this width.
    Decimal(u16, Ints<'a>),
    /// Text as `strL`: for each observation, the 1-based observation whose
    /// text is the same and stored (itself when first), 0 for "".
    StrL(Texts<'a>, Vec<u64>),
}

impl Storage<'_> {
    /// The Stata type of the variable.
    pub fn var_type(&self) -> VarType {
        match self {
            Storage::Integer(n, _) => VarType::Numeric(*n),
            Storage::Float(_) => VarType::Numeric(Numeric::Float),
            Storage::WideFloat(_) | Storage::Double(_) => VarType::Numeric(Numeric::Double),
            Storage::Text(w, _) | Storage::Decimal(w, _) => VarType::Str(*w),
            Storage::StrL(..) => VarType::StrL,
        }
    }

    /// Writes the cells of `rows` into `buf`, which holds those
    /// observations, `width` bytes each; this variable starts at `offset`
    /// and is variable number `var` (1-based, for `strL` keys).
    pub fn encode(
        &self,
        rows: Range<usize>,
        buf: &mut [u8],
        width: usize,
        offset: usize,
        var: u16,
    ) {
        let start = rows.start;
        let at = |row: usize| (row - start) * width + offset;
        match self {
            Storage::Integer(kind, ints) => match kind {
                Numeric::Byte => ints.each(rows, |r, v| {
                    put(buf, at(r), &[v.map_or(BYTE_MISSING, |v| v as i8) as u8])
                }),
                Numeric::Int => ints.each(rows, |r, v| {
                    put(
                        buf,
                        at(r),
                        &v.map_or(INT_MISSING, |v| v as i16).to_le_bytes(),
                    )
                }),
                Numeric::Long => ints.each(rows, |r, v| {
                    put(
                        buf,
                        at(r),
                        &v.map_or(LONG_MISSING, |v| v as i32).to_le_bytes(),
                    )
                }),
                Numeric::Double => ints.each(rows, |r, v| {
                    put(buf, at(r), &v.map_or(DOUBLE_MISSING, to_f64).to_le_bytes())
                }),
                Numeric::Float => unreachable!("integers are never planned as float"),
            },
            Storage::Float(f) => {
                rows.for_each(|r| put(buf, at(r), &f.get(r).unwrap_or(FLOAT_MISSING).to_le_bytes()))
            }
            Storage::WideFloat(f) => rows.for_each(|r| {
                put(
                    buf,
                    at(r),
                    &f.get(r).map_or(DOUBLE_MISSING, f64::from).to_le_bytes(),
                )
            }),
            Storage::Double(f) => rows.for_each(|r| {
                put(
                    buf,
                    at(r),
                    &f.get(r).unwrap_or(DOUBLE_MISSING).to_le_bytes(),
                )
            }),
            Storage::Text(_, texts) => texts.each(rows, |r, text| put(buf, at(r), text.as_bytes())),
            Storage::Decimal(_, ints) => ints.each(rows, |r, v| {
                if let Some(v) = v {
                    put(buf, at(r), itoa::Buffer::new().format(v).as_bytes());
                }
            }),
            Storage::StrL(_, refs) => rows.for_each(|r| {
                let mut key = [0; 8];
                if refs[r] != 0 {
                    key[..2].copy_from_slice(&var.to_le_bytes());
                    key[2..].copy_from_slice(&refs[r].to_le_bytes()[..6]);
                }
                put(buf, at(r), &key)
            }),
        }
    }
}

/// Copies `bytes` into `buf` at `at`.
fn put(buf: &mut [u8], at: usize, bytes: &[u8]) {
    buf[at..at + bytes.len()].copy_from_slice(bytes);
}

/// The double nearest an integer (exact within ±2^53).
fn to_f64(v: i128) -> f64 {
    i64::try_from(v).map_or(v as f64, |v| v as f64)
}

/// Decides how `array` is stored, or says why Stata cannot hold it.
pub fn plan<'a>(array: &'a dyn Array) -> Result<StoragePlan<'a>, String> {
    let nulls = array.logical_nulls();
    let ints = |values: IntValues<'a>, scale: Scale| Ints::new(values, array.nulls(), scale);
    let plain = |storage: Storage<'a>| StoragePlan {
        format: default_format(&storage),
        storage,
        note: None,
    };
    Ok(match array.data_type() {
        DataType::Null => integers(ints(IntValues::Null(array.len()), Scale::ONE)),
        DataType::Boolean => integers(ints(
            IntValues::Bool(array.as_boolean().values()),
            Scale::ONE,
        )),
        DataType::Int8 => integers(ints(
            IntValues::I8(array.as_primitive::<Int8Type>().values()),
            Scale::ONE,
        )),
        DataType::Int16 => integers(ints(
            IntValues::I16(array.as_primitive::<Int16Type>().values()),
            Scale::ONE,
        )),
        DataType::Int32 => integers(ints(
            IntValues::I32(array.as_primitive::<Int32Type>().values()),
            Scale::ONE,
        )),
        DataType::Int64 => integers(ints(
            IntValues::I64(array.as_primitive::<Int64Type>().values()),
            Scale::ONE,
        )),
        DataType::UInt8 => integers(ints(
            IntValues::U8(array.as_primitive::<UInt8Type>().values()),
            Scale::ONE,
        )),
        DataType::UInt16 => integers(ints(
            IntValues::U16(array.as_primitive::<UInt16Type>().values()),
            Scale::ONE,
        )),
        DataType::UInt32 => integers(ints(
            IntValues::U32(array.as_primitive::<UInt32Type>().values()),
            Scale::ONE,
        )),
        DataType::UInt64 => integers(ints(
            IntValues::U64(array.as_primitive::<UInt64Type>().values()),
            Scale::ONE,
        )),
        DataType::Date32 => {
            let days = ints(
                IntValues::I32(array.as_primitive::<Date32Type>().values()),
                Scale::DAYS,
            );
            let (low, high) = Numeric::Long.range().expect("an integer type");
            if let Some(row) = days.first_outside(low.into(), high.into()) {
                return Err(format!(
                    "holds a date in row {} beyond the range of Stata's %td dates",
                    row + 1
                ));
            }
            StoragePlan {
                storage: Storage::Integer(Numeric::Long, days),
                format: "%td".into(),
                note: None,
            }
        }
        DataType::Timestamp(unit, zone) => {
            // Even UTC: %tc is clock time with no zone, so the zone would be
            // lost (pandas' to_stata refuses zoned times too).
            if let Some(zone) = zone {
                return Err(format!(
                    "holds times in time zone {zone}, which Stata's %tc (clock time with no \
                     zone) cannot keep; drop the zone first (pandas: .dt.tz_localize(None)) \
                     or write .parquet or .feather"
                ));
            }
            let values = match unit {
                TimeUnit::Second => array.as_primitive::<TimestampSecondType>().values(),
                TimeUnit::Millisecond => array.as_primitive::<TimestampMillisecondType>().values(),
                TimeUnit::Microsecond => array.as_primitive::<TimestampMicrosecondType>().values(),
                TimeUnit::Nanosecond => array.as_primitive::<TimestampNanosecondType>().values(),
            };
            let times = ints(IntValues::I64(values), Scale::millis(*unit));
            if let Some(row) = times.first_finer_than_stored() {
                return Err(format!(
                    "holds a time finer than a millisecond in row {}, which Stata's %tc cannot \
                     keep; write .parquet or .feather",
                    row + 1
                ));
            }
            // %tc is a double: milliseconds are exact within ±2^53.
            if let Some(row) = times.first_outside(-(1 << 53), 1 << 53) {
                return Err(format!(
                    "holds a time in row {} beyond the range of Stata's %tc times",
                    row + 1
                ));
            }
            StoragePlan {
                storage: Storage::Integer(Numeric::Double, times),
                format: "%tc".into(),
                note: None,
            }
        }
        DataType::Float32 => {
            let floats = Floats::of(array.as_primitive::<Float32Type>());
            if let Some(row) = floats.beyond(DOUBLE_MAX) {
                return Err(out_of_range(row, floats.value(row).into()));
            }
            if floats.beyond(f64::from(FLOAT_MAX)).is_some() {
                plain(Storage::WideFloat(floats))
            } else {
                plain(Storage::Float(floats))
            }
        }
        DataType::Float64 => {
            let floats = Floats::of(array.as_primitive::<Float64Type>());
            if let Some(row) = floats.beyond(DOUBLE_MAX) {
                return Err(out_of_range(row, floats.value(row)));
            }
            plain(Storage::Double(floats))
        }
        _ => text(Texts::of(array, nulls)?)?,
    })
}

fn out_of_range(row: usize, value: f64) -> String {
    format!(
        "holds {value} in row {}, beyond the largest number Stata holds (±8.988e307, no \
         infinities); write .parquet or .feather to keep it",
        row + 1
    )
}

fn default_format(storage: &Storage) -> String {
    match storage.var_type() {
        VarType::Numeric(n) => n.default_format().into(),
        VarType::Str(w) => format!("%{w}s"),
        VarType::StrL => "%9s".into(),
    }
}

/// Whole numbers in the smallest integer type that holds them all; else in
/// a double where all are exact there; else as decimal text.
fn integers(ints: Ints) -> StoragePlan {
    let (low, high) = ints.range();
    let fits = |n: &Numeric| {
        let (min, max) = n.range().expect("an integer type");
        i128::from(min) <= low && high <= i128::from(max)
    };
    let (storage, note) = if let Some(n) = Numeric::INTEGERS.iter().find(|n| fits(n)) {
        (Storage::Integer(*n, ints), None)
    } else if -EXACT_IN_DOUBLE <= low && high <= EXACT_IN_DOUBLE {
        (Storage::Integer(Numeric::Double, ints), None)
    } else {
        let digits = |v: i128| itoa::Buffer::new().format(v).len();
        let width = digits(low).max(digits(high)) as u16;
        let note = "stored as Stata text (str#): it holds integers beyond ±2^53, which Stata \
                    numbers do not hold exactly";
        (Storage::Decimal(width, ints), Some(note.to_string()))
    };
    StoragePlan {
        format: default_format(&storage),
        storage,
        note,
    }
}

/// Text as `str#` when every value fits in 2045 bytes, else as `strL`.
fn text(texts: Texts) -> Result<StoragePlan, String> {
    let len = texts.len();
    let mut width = 1;
    let mut nul = None;
    texts.each(0..len, |row, text| {
        width = width.max(text.len());
        if nul.is_none() && memchr::memchr(0, text.as_bytes()).is_some() {
            nul = Some(row);
        }
    });
    if let Some(row) = nul {
        return Err(format!(
            "holds a NUL character in row {}, which Stata text cannot hold",
            row + 1
        ));
    }
    if width > u32::MAX as usize - 1 {
        return Err("holds text longer than Stata's 4 GB".into());
    }
    let storage = if width <= usize::from(MAX_STR) {
        Storage::Text(width as u16, texts)
    } else {
        let mut first: HashMap<&str, u64> = HashMap::new();
        let mut refs = Vec::with_capacity(len);
        texts.each(0..len, |row, text| {
            refs.push(match text {
                "" => 0,
                _ => *first.entry(text).or_insert(row as u64 + 1),
            })
        });
        Storage::StrL(texts, refs)
    };
    Ok(StoragePlan {
        format: default_format(&storage),
        storage,
        note: None,
    })
}
