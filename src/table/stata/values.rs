//! Arrow column values as the Stata writer takes them: integers of any
//! width (scaled for dates and times), floats, and text of any string
//! layout, each walked row by row in tight per-type loops.

use std::ops::Range;

use arrow_array::cast::AsArray;
use arrow_array::{
    Array, ArrowPrimitiveType, LargeStringArray, PrimitiveArray, StringArray, StringViewArray,
};
use arrow_buffer::{ArrowNativeType, BooleanBuffer, NullBuffer};
use arrow_schema::{DataType, TimeUnit};

use super::types::{DAYS_1960_TO_1970, MS_1960_TO_1970};

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
    pub const ONE: Scale = Scale {
        mul: 1,
        div: 1,
        add: 0,
    };

    /// Days since 1960 from days since 1970.
    pub const DAYS: Scale = Scale {
        mul: 1,
        div: 1,
        add: DAYS_1960_TO_1970 as i128,
    };

    /// Milliseconds since 1960 from time since 1970 in `unit`.
    pub fn millis(unit: TimeUnit) -> Scale {
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

impl<'a> Ints<'a> {
    /// The integers `values` with `nulls`, stored as `scale` says.
    pub fn new(values: IntValues<'a>, nulls: Option<&'a NullBuffer>, scale: Scale) -> Ints<'a> {
        Ints {
            values,
            nulls,
            scale,
        }
    }

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
    pub fn range(&self) -> (i128, i128) {
        let (mut low, mut high) = (0, 0);
        self.each(0..self.len(), |_, v| {
            if let Some(v) = v {
                (low, high) = (low.min(v), high.max(v));
            }
        });
        (low, high)
    }

    /// The first row whose stored value is outside `low..=high`.
    pub fn first_outside(&self, low: i128, high: i128) -> Option<usize> {
        let mut first = None;
        self.each(0..self.len(), |row, v| {
            if first.is_none() && v.is_some_and(|v| v < low || v > high) {
                first = Some(row);
            }
        });
        first
    }

    /// The first row whose value has a part that dividing by the scale
    /// drops (a time finer than a millisecond).
    pub fn first_finer_than_stored(&self) -> Option<usize> {
        let div = self.scale.div;
        let mut first = None;
        if div > 1 {
            let unscaled = Ints {
                scale: Scale::ONE,
                ..*self
            };
            unscaled.each(0..self.len(), |row, v| {
                if first.is_none() && v.is_some_and(|v| v % div != 0) {
                    first = Some(row);
                }
            });
        }
        first
    }
}

/// A float column; NaN is written as missing, as null is.
pub struct Floats<'a, T> {
    values: &'a [T],
    nulls: Option<&'a NullBuffer>,
}

impl<'a, T: ArrowNativeType + Into<f64>> Floats<'a, T> {
    /// The values of a float array.
    pub fn of<P: ArrowPrimitiveType<Native = T>>(array: &'a PrimitiveArray<P>) -> Floats<'a, T> {
        Floats {
            values: array.values(),
            nulls: array.nulls(),
        }
    }

    /// The value of `row` as stored, whether null or not.
    pub fn value(&self, row: usize) -> T {
        self.values[row]
    }

    /// The value of `row`; `None` for null and NaN.
    pub fn get(&self, row: usize) -> Option<T> {
        let v = self.values[row];
        let missing = self.nulls.is_some_and(|n| n.is_null(row)) || v.into().is_nan();
        (!missing).then_some(v)
    }

    /// The first row whose value is larger in size than `max` (or infinite).
    pub fn beyond(&self, max: f64) -> Option<usize> {
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
    pub fn of(array: &'a dyn Array, nulls: Option<NullBuffer>) -> Result<Texts<'a>, String> {
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
                let keys = crate::table::dictionary_keys(dict);
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

    pub fn len(&self) -> usize {
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
