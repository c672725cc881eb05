//! How each Arrow column is stored in Stata: the type that holds every
//! value unchanged, found in one pass over the column before anything is
//! written, and the encoding of its cells.

use std::collections::HashMap;
use std::ops::Range;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{Array, LargeStringArray, StringArray, StringViewArray};
use arrow_buffer::{BooleanBuffer, NullBuffer};
use arrow_schema::{DataType, TimeUnit};

use super::types::{
    BYTE_MISSING, DAYS_1960_TO_1970, DOUBLE_MAX, DOUBLE_MISSING, FLOAT_MAX, FLOAT_MISSING,
    INT_MISSING, LONG_MISSING, MAX_STR, MS_1960_TO_1970, Numeric, VarType,
};

/// The largest integer a double holds exactly, and every one below it.
const EXACT_IN_DOUBLE: i128 = 1 << 53;

/// How one column is stored, with a note when that is not what its type
/// would suggest.
pub struct Plan<'a> {
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
pub fn plan<'a>(array: &'a dyn Array) -> Result<Plan<'a>, String> {
    let nulls = array.logical_nulls();
    let ints = |values: IntValues<'a>, scale: Scale| Ints {
        values,
        nulls: array.nulls(),
        scale,
    };
    let plain = |storage: Storage<'a>| Plan {
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
            Plan {
                storage: Storage::Integer(Numeric::Long, days),
                format: "%td".into(),
                note: None,
            }
        }
        DataType::Timestamp(unit, _) => {
            let values = match unit {
                TimeUnit::Second => array.as_primitive::<TimestampSecondType>().values(),
                TimeUnit::Millisecond => array.as_primitive::<TimestampMillisecondType>().values(),
                TimeUnit::Microsecond => array.as_primitive::<TimestampMicrosecondType>().values(),
                TimeUnit::Nanosecond => array.as_primitive::<TimestampNanosecondType>().values(),
            };
            let times = ints(IntValues::I64(values), Scale::millis(*unit));
            let cut = times.finer_than_stored();
            Plan {
                storage: Storage::Integer(Numeric::Double, times),
                format: "%tc".into(),
                note: cut.then(|| {
                    "cut to whole milliseconds for Stata (%tc): it holds times finer than that"
                        .into()
                }),
            }
        }
        DataType::Float32 => {
            let floats = Floats {
                values: array.as_primitive::<Float32Type>().values(),
                nulls: array.nulls(),
            };
            if let Some(row) = floats.beyond(f64::from(FLOAT_MAX)) {
                if floats.beyond(DOUBLE_MAX).is_some() {
                    return Err(out_of_range(row, floats.values[row].into()));
                }
                plain(Storage::WideFloat(floats))
            } else {
                plain(Storage::Float(floats))
            }
        }
        DataType::Float64 => {
            let floats = Floats {
                values: array.as_primitive::<Float64Type>().values(),
                nulls: array.nulls(),
            };
            if let Some(row) = floats.beyond(DOUBLE_MAX) {
                return Err(out_of_range(row, floats.values[row]));
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
fn integers(ints: Ints) -> Plan {
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
    Plan {
        format: default_format(&storage),
        storage,
        note,
    }
}

/// Text as `str#` when every value fits in 2045 bytes, else as `strL`.
fn text(texts: Texts) -> Result<Plan, String> {
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
    Ok(Plan {
        format: default_format(&storage),
        storage,
        note: None,
    })
}

/// Integer values of any Arrow integer type (and booleans as 0 and 1).
#[derive(Clone, Copy)]
pub enum IntValues<'a> {
    /// A column of this many nulls (Arrow's Null type).
    Null(usize),
    /// Booleans.
    Bool(&'a BooleanBuffer),
    /// Int8.
    I8(&'a [i8]),
    /// Int16.
    I16(&'a [i16]),
    /// Int32 (and Date32).
    I32(&'a [i32]),
    /// Int64 (and timestamps).
    I64(&'a [i64]),
    /// UInt8.
    U8(&'a [u8]),
    /// UInt16.
    U16(&'a [u16]),
    /// UInt32.
    U32(&'a [u32]),
    /// UInt64.
    U64(&'a [u64]),
}

/// How the stored integers come from the Arrow values: `value * mul / div
/// + add` (the division rounding down).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Scale {
    mul: i128,
    div: i128,
    add: i128,
}

impl Scale {
    /// The values themselves.
    const ONE: Scale = Scale {
        mul: 1,
        div: 1,
        add: 0,
    };

    /// Days since 1960 from days since 1970.
    const DAYS: Scale = Scale {
        mul: 1,
        div: 1,
        add: DAYS_1960_TO_1970 as i128,
    };

    /// Milliseconds since 1960 from time since 1970 in `unit`.
    fn millis(unit: TimeUnit) -> Scale {
        let (mul, div) = match unit {
            TimeUnit::Second => (1000, 1),
            TimeUnit::Millisecond => (1, 1),
            TimeUnit::Microsecond => (1, 1000),
            TimeUnit::Nanosecond => (1, 1_000_000),
        };
        Scale {
            mul,
            div,
            add: MS_1960_TO_1970 as i128,
        }
    }
}

/// An integer column as Stata will hold it.
pub struct Ints<'a> {
    values: IntValues<'a>,
    nulls: Option<&'a NullBuffer>,
    scale: Scale,
}

impl Ints<'_> {
    /// Calls `f` with each row of `rows`, in order, and the value Stata
    /// stores for it (`None` for null).
    pub fn each(&self, rows: Range<usize>, mut f: impl FnMut(usize, Option<i128>)) {
        match self.values {
            IntValues::Null(_) => rows.for_each(|row| f(row, None)),
            IntValues::Bool(b) => self.each_of(rows, |row| b.value(row).into(), f),
            IntValues::I8(v) => self.each_of(rows, |row| v[row].into(), f),
            IntValues::I16(v) => self.each_of(rows, |row| v[row].into(), f),
            IntValues::I32(v) => self.each_of(rows, |row| v[row].into(), f),
            IntValues::I64(v) => self.each_of(rows, |row| v[row].into(), f),
            IntValues::U8(v) => self.each_of(rows, |row| v[row].into(), f),
            IntValues::U16(v) => self.each_of(rows, |row| v[row].into(), f),
            IntValues::U32(v) => self.each_of(rows, |row| v[row].into(), f),
            IntValues::U64(v) => self.each_of(rows, |row| v[row].into(), f),
        }
    }

    /// [`Ints::each`] for one kind of values, with the scale and the nulls
    /// resolved outside the loop so that each case compiles to a tight loop.
    #[inline(always)]
    fn each_of(
        &self,
        rows: Range<usize>,
        raw: impl Fn(usize) -> i128,
        f: impl FnMut(usize, Option<i128>),
    ) {
        match self.scale {
            Scale::ONE => self.each_value(rows, raw, f),
            Scale { div: 1, mul, add } => self.each_value(rows, |r| raw(r) * mul + add, f),
            Scale { div, add, .. } => self.each_value(rows, |r| raw(r).div_euclid(div) + add, f),
        }
    }

    #[inline(always)]
    fn each_value(
        &self,
        rows: Range<usize>,
        value: impl Fn(usize) -> i128,
        mut f: impl FnMut(usize, Option<i128>),
    ) {
        match self.nulls {
            None => rows.for_each(|r| f(r, Some(value(r)))),
            Some(nulls) => rows.for_each(|r| f(r, (!nulls.is_null(r)).then(|| value(r)))),
        }
    }

    fn len(&self) -> usize {
        match self.values {
            IntValues::Null(len) => len,
            IntValues::Bool(b) => b.len(),
            IntValues::I8(v) => v.len(),
            IntValues::I16(v) => v.len(),
            IntValues::I32(v) => v.len(),
            IntValues::I64(v) => v.len(),
            IntValues::U8(v) => v.len(),
            IntValues::U16(v) => v.len(),
            IntValues::U32(v) => v.len(),
            IntValues::U64(v) => v.len(),
        }
    }

    /// The smallest and largest stored value (0 and 0 with no values).
    fn range(&self) -> (i128, i128) {
        let (mut low, mut high) = (0, 0);
        self.each(0..self.len(), |_, v| {
            if let Some(v) = v {
                (low, high) = (low.min(v), high.max(v));
            }
        });
        (low, high)
    }

    /// The first row whose stored value is outside `low..=high`.
    fn first_outside(&self, low: i128, high: i128) -> Option<usize> {
        let mut first = None;
        self.each(0..self.len(), |row, v| {
            if first.is_none() && v.is_some_and(|v| v < low || v > high) {
                first = Some(row);
            }
        });
        first
    }

    /// Whether a value has a part that dividing by the scale drops (times
    /// finer than a millisecond).
    fn finer_than_stored(&self) -> bool {
        let div = self.scale.div;
        let mut finer = false;
        if div > 1 {
            let unscaled = Ints {
                scale: Scale::ONE,
                ..*self
            };
            unscaled.each(0..self.len(), |_, v| {
                finer |= v.is_some_and(|v| v % div != 0)
            });
        }
        finer
    }
}

/// A float column; NaN is written as missing, as null is.
pub struct Floats<'a, T> {
    values: &'a [T],
    nulls: Option<&'a NullBuffer>,
}

impl<T: Copy + Into<f64>> Floats<'_, T> {
    /// The value of `row`; `None` for null and NaN.
    pub fn get(&self, row: usize) -> Option<T> {
        let v = self.values[row];
        let missing = self.nulls.is_some_and(|n| n.is_null(row)) || v.into().is_nan();
        (!missing).then_some(v)
    }

    /// The first row whose value is larger in size than `max` (or infinite).
    fn beyond(&self, max: f64) -> Option<usize> {
        (0..self.values.len()).find(|&row| self.get(row).is_some_and(|v| v.into().abs() > max))
    }
}

/// Text values of any Arrow string type, nulls as "".
pub enum Texts<'a> {
    /// Utf8.
    Utf8(&'a StringArray),
    /// LargeUtf8.
    Large(&'a LargeStringArray),
    /// Utf8View.
    View(&'a StringViewArray),
    /// A dictionary of text: each row's value index, the rows that are
    /// null, and the values.
    Dict(Vec<usize>, Option<NullBuffer>, Box<Texts<'a>>),
}

impl<'a> Texts<'a> {
    /// The text values of `array`, or why it is not text Stata can hold.
    fn of(array: &'a dyn Array, nulls: Option<NullBuffer>) -> Result<Texts<'a>, String> {
        Ok(match array.data_type() {
            DataType::Utf8 => Texts::Utf8(array.as_string()),
            DataType::LargeUtf8 => Texts::Large(array.as_string()),
            DataType::Utf8View => Texts::View(array.as_string_view()),
            DataType::Dictionary(_, values)
                if matches!(
                    **values,
                    DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
                ) =>
            {
                let dict = array.as_any_dictionary();
                let keys = if dict.values().is_empty() {
                    vec![0; array.len()]
                } else {
                    dict.normalized_keys()
                };
                Texts::Dict(
                    keys,
                    nulls,
                    Box::new(Texts::of(dict.values().as_ref(), None)?),
                )
            }
            other => {
                return Err(format!(
                    "has type {other}, which Stata cannot hold; write .parquet or .feather instead"
                ));
            }
        })
    }

    fn len(&self) -> usize {
        match self {
            Texts::Utf8(a) => a.len(),
            Texts::Large(a) => a.len(),
            Texts::View(a) => a.len(),
            Texts::Dict(keys, ..) => keys.len(),
        }
    }

    /// Calls `f` with each row of `rows`, in order, and its text.
    pub fn each<'t>(&'t self, rows: Range<usize>, mut f: impl FnMut(usize, &'t str)) {
        match self {
            Texts::Utf8(a) => rows.for_each(|r| f(r, if a.is_valid(r) { a.value(r) } else { "" })),
            Texts::Large(a) => rows.for_each(|r| f(r, if a.is_valid(r) { a.value(r) } else { "" })),
            Texts::View(a) => rows.for_each(|r| f(r, if a.is_valid(r) { a.value(r) } else { "" })),
            Texts::Dict(..) => rows.for_each(|r| f(r, self.get(r))),
        }
    }

    /// The text of `row`; "" for null.
    pub fn get(&self, row: usize) -> &str {
        match self {
            Texts::Utf8(a) if a.is_valid(row) => a.value(row),
            Texts::Large(a) if a.is_valid(row) => a.value(row),
            Texts::View(a) if a.is_valid(row) => a.value(row),
            Texts::Dict(keys, nulls, values) if !nulls.as_ref().is_some_and(|n| n.is_null(row)) => {
                values.get(keys[row])
            }
            _ => "",
        }
    }
}
