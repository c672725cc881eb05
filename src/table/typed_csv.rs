//! CSV read into typed Arrow columns, for joining a CSV file to columnar
//! files — typed only where no value changes.
//!
//! A column becomes `Int64` when every value is an integer that fits
//! (`UInt64` when they only fit that), `Float64` when every value is a
//! decimal number that a double holds to the digit (printing the double
//! gives the number back: `0.1` yes, `9007199254740993` no), and stays text
//! otherwise. Numbers with leading zeros (`007`, `00.5`) are codes and keep
//! the column as text. Empty fields are nulls; a column with only empty
//! fields is `Float64`, as pandas reads it. Arrow text is UTF-8, so a field
//! or column name that is not is an error naming it.
//!
//! Read as ehrQL writes CSV ([`Typing::Ehrql`]), a column of only `T` and
//! `F` is `Boolean` and one of only `YYYY-MM-DD` dates is `Date32` first.

use std::path::Path;
use std::sync::Arc;

use arrow_array::{
    ArrayRef, BooleanArray, Date32Array, Float64Array, Int64Array, RecordBatch, StringArray,
    UInt64Array,
};
use arrow_schema::{Field, Schema};
use csv::ByteRecord;

use super::csv::CsvSource;
use super::text::{display_text, exact_f64};
use super::{Format, TableError};

/// Whose CSV conventions decide a column's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Typing {
    /// pandas' (numbers or text).
    Pandas,
    /// ehrQL's: `T`/`F` booleans and ISO dates too.
    Ehrql,
}

/// Reads a whole CSV file into one batch typed as the module says.
pub fn read_csv_typed(path: &Path, format: Format) -> Result<RecordBatch, TableError> {
    read_csv_typed_as(path, format, Typing::Pandas)
}

/// Reads a whole CSV file into one batch typed by `typing`'s conventions.
pub fn read_csv_typed_as(
    path: &Path,
    format: Format,
    typing: Typing,
) -> Result<RecordBatch, TableError> {
    let mut source = CsvSource::open(path, format)?;
    let names = source.utf8_names()?;
    let mut columns: Vec<Fields> = (0..names.len()).map(|_| Fields::default()).collect();
    let mut record = ByteRecord::new();
    while source.read_record(&mut record)? {
        for ((column, field), name) in columns.iter_mut().zip(record.iter()).zip(&names) {
            if !field.is_ascii() && std::str::from_utf8(field).is_err() {
                return Err(not_utf8(path, source.line(), name, field));
            }
            column.push(field);
        }
    }
    let mut fields = Vec::with_capacity(names.len());
    let mut arrays: Vec<ArrayRef> = Vec::with_capacity(names.len());
    for (name, column) in names.into_iter().zip(columns) {
        let array = column.into_array(typing);
        fields.push(Field::new(name, array.data_type().clone(), true));
        arrays.push(array);
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
        .map_err(|e| TableError::invalid(path, None, e.to_string()))
}

fn not_utf8(path: &Path, line: u64, column: &str, field: &[u8]) -> TableError {
    TableError::invalid(
        path,
        Some(line),
        format!(
            "column {column:?} holds \"{}\", which is not UTF-8 text (Latin-1?); Arrow, Parquet and \
             Stata files hold UTF-8 only, so it cannot be joined into one unchanged: convert the \
             file to UTF-8 (e.g. iconv -f latin1 -t utf-8), or join into a CSV file, which keeps \
             bytes as they are",
            display_text(field)
        ),
    )
}

/// One column's fields, end to end in one buffer.
#[derive(Default)]
struct Fields {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl Fields {
    fn push(&mut self, field: &[u8]) {
        self.bytes.extend_from_slice(field);
        self.ends.push(self.bytes.len());
    }

    /// Every field, `None` where empty.
    fn values(&self) -> impl Iterator<Item = Option<&[u8]>> + Clone + '_ {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts.zip(&self.ends).map(|(start, &end)| {
            let field = &self.bytes[start..end];
            (!field.is_empty()).then_some(field)
        })
    }

    fn into_array(self, typing: Typing) -> ArrayRef {
        let values = self.values();
        let present = values.clone().flatten();
        let any = present.clone().next().is_some();
        if typing == Typing::Ehrql && any {
            if present.clone().all(|v| v == b"T" || v == b"F") {
                return Arc::new(
                    values
                        .map(|v| v.map(|v| v == b"T"))
                        .collect::<BooleanArray>(),
                );
            }
            if present.clone().all(|v| iso_date(v).is_some()) {
                return Arc::new(
                    values
                        .map(|v| v.and_then(iso_date))
                        .collect::<Date32Array>(),
                );
            }
        }
        if present
            .clone()
            .all(|v| plain_integer(v).is_some_and(|i| i64::try_from(i).is_ok()))
            && present.clone().next().is_some()
        {
            return Arc::new(
                values
                    .map(|v| v.and_then(plain_integer).map(|i| i as i64))
                    .collect::<Int64Array>(),
            );
        }
        if present.clone().next().is_some()
            && present
                .clone()
                .all(|v| plain_integer(v).is_some_and(|i| u64::try_from(i).is_ok()))
        {
            return Arc::new(
                values
                    .map(|v| v.and_then(plain_integer).map(|i| i as u64))
                    .collect::<UInt64Array>(),
            );
        }
        if present.clone().all(exact_number) {
            return Arc::new(
                values
                    .map(|v| v.and_then(exact_number_value))
                    .collect::<Float64Array>(),
            );
        }
        Arc::new(
            values
                .map(|v| v.map(|v| std::str::from_utf8(v).expect("checked while reading")))
                .collect::<StringArray>(),
        )
    }
}

/// Days since 1970 of a `YYYY-MM-DD` date, as ehrQL writes dates.
fn iso_date(field: &[u8]) -> Option<i32> {
    let text = std::str::from_utf8(field).ok()?;
    let shaped = text.len() == 10 && text.as_bytes()[4] == b'-' && text.as_bytes()[7] == b'-';
    let date = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1)?;
    shaped
        .then(|| i32::try_from((date - epoch).num_days()).ok())
        .flatten()
}

/// An integer written plainly (`-12`, `+3`, `0`), without leading zeros,
/// within ±2^64.
fn plain_integer(field: &[u8]) -> Option<i128> {
    let digits = field
        .strip_prefix(b"-")
        .or_else(|| field.strip_prefix(b"+"))
        .unwrap_or(field);
    if digits.is_empty()
        || digits.len() > 20
        || !digits.iter().all(u8::is_ascii_digit)
        || (digits.len() > 1 && digits[0] == b'0')
    {
        return None;
    }
    let magnitude: i128 = std::str::from_utf8(digits).ok()?.parse().ok()?;
    Some(if field[0] == b'-' {
        -magnitude
    } else {
        magnitude
    })
}

/// Whether a field is a number a double holds exactly, without leading
/// zeros (`007.5` is a code).
fn exact_number(field: &[u8]) -> bool {
    exact_number_value(field).is_some()
}

fn exact_number_value(field: &[u8]) -> Option<f64> {
    let digits = field
        .strip_prefix(b"-")
        .or_else(|| field.strip_prefix(b"+"))
        .unwrap_or(field);
    let leading_zero = digits.len() > 1 && digits[0] == b'0' && digits[1].is_ascii_digit();
    if leading_zero {
        return None;
    }
    exact_f64(field)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::render::render_cell;
    use arrow_schema::DataType;

    #[test]
    fn csv_columns_get_pandas_like_types() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.csv");
        std::fs::write(&path, "i,f,s,z,e\n1,1.5,a,007,\n,2,b,1,\n3,,c,2,\n").unwrap();
        let batch = read_csv_typed(&path, Format::Csv).unwrap();
        let types: Vec<_> = batch
            .schema()
            .fields()
            .iter()
            .map(|f| f.data_type().clone())
            .collect();
        assert_eq!(
            types,
            [
                DataType::Int64,
                DataType::Float64,
                DataType::Utf8,
                DataType::Utf8,
                DataType::Float64
            ]
        );
        assert_eq!(batch.column(0).null_count(), 1);
        let mut out = Vec::new();
        render_cell(batch.column(3).as_ref(), 0, &mut out).unwrap();
        assert_eq!(out, b"007");
    }
}
