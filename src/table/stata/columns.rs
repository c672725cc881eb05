//! Columns being read: each takes its cells out of chunks of observations
//! (row-major bytes) and becomes an Arrow array at the end.

use std::sync::Arc;

use arrow_array::types::{
    Date32Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, TimestampMillisecondType,
};
use arrow_array::{
    ArrayRef, ArrowPrimitiveType, GenericStringArray, OffsetSizeTrait, PrimitiveArray,
};
use arrow_buffer::{
    BooleanBuffer, Buffer, NullBuffer, NullBufferBuilder, OffsetBuffer, ScalarBuffer,
};

use super::header::Gsos;
use super::types::{
    BYTE_MISSING, DAYS_1960_TO_1970, DOUBLE_MAX, FLOAT_MAX, INT_MISSING, LONG_MISSING,
    MS_1960_TO_1970, Meaning, Numeric, Release, VarType, push_latin1, uint, until_nul,
};

/// Where a variable's cells are in a chunk of observations.
#[derive(Clone, Copy)]
pub struct Place {
    /// Bytes per observation.
    pub width: usize,
    /// Where this variable starts within an observation.
    pub offset: usize,
    /// Whether numbers are stored most significant byte first.
    pub big_endian: bool,
}

/// A variable's values read so far.
pub enum Column {
    /// `byte`.
    Byte(Numbers<i8>),
    /// `int`.
    Int(Numbers<i16>),
    /// `long`.
    Long(Numbers<i32>),
    /// `float`.
    Float(Numbers<f32>),
    /// `double`.
    Double(Numbers<f64>),
    /// `str#`, as UTF-8.
    Str(Text),
    /// `strL`: each observation's (variable, observation) key of its text.
    StrL(Vec<(u64, u64)>),
}

impl Column {
    /// An empty column for a variable stored as `kind`.
    pub fn new(kind: VarType) -> Column {
        match kind {
            VarType::Numeric(Numeric::Byte) => Column::Byte(Numbers::default()),
            VarType::Numeric(Numeric::Int) => Column::Int(Numbers::default()),
            VarType::Numeric(Numeric::Long) => Column::Long(Numbers::default()),
            VarType::Numeric(Numeric::Float) => Column::Float(Numbers::default()),
            VarType::Numeric(Numeric::Double) => Column::Double(Numbers::default()),
            VarType::Str(width) => Column::Str(Text {
                width: usize::from(width),
                ..Text::default()
            }),
            VarType::StrL => Column::StrL(Vec::new()),
        }
    }

    /// Appends this variable's cells from `chunk`, whole observations of
    /// which the first is number `first` (0-based). Fails, saying which
    /// observation, on text that is not UTF-8 where the format requires it.
    pub fn extend(
        &mut self,
        chunk: &[u8],
        place: Place,
        first: u64,
        release: Release,
    ) -> Result<(), String> {
        match self {
            Column::Byte(n) => n.extend(chunk, place),
            Column::Int(n) => n.extend(chunk, place),
            Column::Long(n) => n.extend(chunk, place),
            Column::Float(n) => n.extend(chunk, place),
            Column::Double(n) => n.extend(chunk, place),
            Column::Str(text) => return text.extend(chunk, place, first, release),
            Column::StrL(keys) => {
                let (v_len, o_len) = release.strl_parts();
                keys.extend(chunk.chunks_exact(place.width).map(|row| {
                    let cell = &row[place.offset..place.offset + v_len + o_len];
                    (
                        uint(&cell[..v_len], place.big_endian),
                        uint(&cell[v_len..], place.big_endian),
                    )
                }));
            }
        }
        Ok(())
    }

    /// The finished Arrow array. Numbers shown as dates (`%td`) become
    /// Date32 and as times (`%tc`) Timestamp(ms), where every value is a
    /// whole day or millisecond; `strL` keys are resolved in `gsos`.
    pub fn finish(
        self,
        meaning: Meaning,
        gsos: &Gsos,
        release: Release,
    ) -> Result<ArrayRef, String> {
        Ok(match self {
            Column::Byte(n) => n.finish(meaning),
            Column::Int(n) => n.finish(meaning),
            Column::Long(n) => n.finish(meaning),
            Column::Float(n) => n.finish(meaning),
            Column::Double(n) => n.finish(meaning),
            Column::Str(text) => text.finish()?,
            Column::StrL(keys) => strls(&keys, gsos, release)?,
        })
    }
}

/// A number type Stata stores.
pub trait Number: Copy + Default + Send + arrow_buffer::ArrowNativeType {
    /// The Arrow type of the same numbers.
    type Arrow: ArrowPrimitiveType<Native = Self>;
    /// Decodes one value of `size_of::<Self>()` bytes.
    fn decode(bytes: &[u8], big_endian: bool) -> Self;
    /// Whether the value is one of Stata's missing values (`.`, `.a`-`.z`).
    fn is_missing(self) -> bool;
    /// The value as a double (exact for every integer type Stata has).
    fn to_f64(self) -> f64;
}

macro_rules! number {
    ($native:ty, $arrow:ty, |$v:ident| $missing:expr) => {
        impl Number for $native {
            type Arrow = $arrow;
            fn decode(bytes: &[u8], big_endian: bool) -> $native {
                let bytes = bytes.try_into().expect("a cell of the type's size");
                if big_endian {
                    <$native>::from_be_bytes(bytes)
                } else {
                    <$native>::from_le_bytes(bytes)
                }
            }
            fn is_missing(self) -> bool {
                let $v = self;
                $missing
            }
            fn to_f64(self) -> f64 {
                f64::from(self)
            }
        }
    };
}

number!(i8, Int8Type, |v| v >= BYTE_MISSING);
number!(i16, Int16Type, |v| v >= INT_MISSING);
number!(i32, Int32Type, |v| v >= LONG_MISSING);
number!(f32, Float32Type, |v| v.is_nan() || v > FLOAT_MAX);
number!(f64, Float64Type, |v| v.is_nan() || v > DOUBLE_MAX);

/// Numbers read so far, missing values as nulls.
#[derive(Default)]
pub struct Numbers<T> {
    values: Vec<T>,
    valid: Option<NullBufferBuilder>,
}

impl<T: Number> Numbers<T> {
    fn extend(&mut self, chunk: &[u8], place: Place) {
        let size = std::mem::size_of::<T>();
        let start = self.values.len();
        self.values.extend(
            chunk
                .chunks_exact(place.width)
                .map(|row| T::decode(&row[place.offset..place.offset + size], place.big_endian)),
        );
        let added = &mut self.values[start..];
        let valid = self.valid.get_or_insert_with(|| NullBufferBuilder::new(0));
        if added.iter().any(|v| v.is_missing()) {
            let present = BooleanBuffer::collect_bool(added.len(), |i| !added[i].is_missing());
            added
                .iter_mut()
                .filter(|v| v.is_missing())
                .for_each(|v| *v = T::default());
            valid.append_buffer(&NullBuffer::new(present));
        } else {
            valid.append_n_non_nulls(added.len());
        }
    }

    fn finish(self, meaning: Meaning) -> ArrayRef {
        let nulls = self.valid.and_then(|mut v| v.finish());
        match meaning {
            Meaning::Date => {
                if let Some(days) = shift(&self.values, nulls.as_ref(), DAYS_1960_TO_1970) {
                    return Arc::new(PrimitiveArray::<Date32Type>::new(days.into(), nulls));
                }
            }
            Meaning::Timestamp => {
                if let Some(ms) = shift(&self.values, nulls.as_ref(), MS_1960_TO_1970) {
                    return Arc::new(PrimitiveArray::<TimestampMillisecondType>::new(
                        ms.into(),
                        nulls,
                    ));
                }
            }
            Meaning::Number => {}
        }
        Arc::new(PrimitiveArray::<T::Arrow>::new(self.values.into(), nulls))
    }
}

/// Every present value less `origin`, when all are whole numbers that fit
/// `I`; `None` otherwise.
fn shift<T: Number, I: TryFrom<i64> + Default>(
    values: &[T],
    nulls: Option<&NullBuffer>,
    origin: i64,
) -> Option<Vec<I>> {
    values
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            if nulls.is_some_and(|n| n.is_null(i)) {
                return Some(I::default());
            }
            let x = v.to_f64() - origin as f64;
            let whole = x.fract() == 0.0 && x.abs() < 9.0e18;
            whole.then(|| I::try_from(x as i64).ok()).flatten()
        })
        .collect()
}

/// `str#` text read so far, as UTF-8.
#[derive(Default)]
pub struct Text {
    width: usize,
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl Text {
    fn extend(
        &mut self,
        chunk: &[u8],
        place: Place,
        first: u64,
        release: Release,
    ) -> Result<(), String> {
        for (i, row) in chunk.chunks_exact(place.width).enumerate() {
            let cell = until_nul(&row[place.offset..place.offset + self.width]);
            if release.utf8() {
                if std::str::from_utf8(cell).is_err() {
                    return Err(not_utf8(first + i as u64));
                }
                self.bytes.extend_from_slice(cell);
            } else {
                push_latin1(cell, &mut self.bytes);
            }
            self.ends.push(self.bytes.len());
        }
        Ok(())
    }

    fn finish(self) -> Result<ArrayRef, String> {
        string_array(self.bytes, &self.ends)
    }
}

fn not_utf8(observation: u64) -> String {
    format!(
        "observation {} is not valid UTF-8 text, as format 118 and later require",
        observation + 1
    )
}

/// The texts of a `strL` variable: "" for key (0, 0), else the text stored
/// under the key. Binary texts must be UTF-8; text ones of format 117 are
/// read as UTF-8 where they are valid UTF-8 (pandas writes them so) and as
/// Latin-1 otherwise.
fn strls(keys: &[(u64, u64)], gsos: &Gsos, release: Release) -> Result<ArrayRef, String> {
    let mut bytes = Vec::new();
    let mut ends = Vec::with_capacity(keys.len());
    for (row, key) in keys.iter().enumerate() {
        if *key != (0, 0) {
            let gso = gsos.get(key).ok_or_else(|| {
                format!(
                    "corrupt: the long string of observation {} (key {key:?}) is missing from the file",
                    row + 1
                )
            })?;
            let utf8 = std::str::from_utf8(&gso.bytes).is_ok();
            if utf8 {
                bytes.extend_from_slice(&gso.bytes);
            } else if gso.binary {
                return Err(format!(
                    "observation {} holds binary data, not UTF-8 text, which cohortkit cannot \
                     keep unchanged as text",
                    row + 1
                ));
            } else if release.utf8() {
                return Err(not_utf8(row as u64));
            } else {
                push_latin1(&gso.bytes, &mut bytes);
            }
        }
        ends.push(bytes.len());
    }
    string_array(bytes, &ends)
}

/// A Utf8 array of the texts ending at `ends` in `bytes`; LargeUtf8 when
/// they hold more than 2 GiB.
fn string_array(bytes: Vec<u8>, ends: &[usize]) -> Result<ArrayRef, String> {
    fn build<O: OffsetSizeTrait>(bytes: Vec<u8>, ends: &[usize]) -> Result<ArrayRef, String> {
        let offsets: Vec<O> = std::iter::once(0)
            .chain(ends.iter().copied())
            .map(|end| O::from_usize(end).expect("checked to fit"))
            .collect();
        let offsets = OffsetBuffer::new(ScalarBuffer::from(offsets));
        GenericStringArray::<O>::try_new(offsets, Buffer::from_vec(bytes), None)
            .map(|a| Arc::new(a) as ArrayRef)
            .map_err(|e| e.to_string())
    }
    if bytes.len() <= i32::MAX as usize {
        build::<i32>(bytes, ends)
    } else {
        build::<i64>(bytes, ends)
    }
}
