//! CSV read into Arrow columns with pandas-like types, for joining a CSV
//! file to columnar files.

use std::path::Path;
use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{Field, Schema};
use csv::ByteRecord;

use super::csv::CsvSource;
use super::{Format, TableError};

/// Reads a whole CSV file into one batch with the column types pandas
/// `read_csv` would give: a column whose non-empty values are all integers
/// (without leading zeros) is `Int64`, all numbers `Float64`, otherwise text.
/// Empty fields are nulls.
pub fn read_csv_typed(path: &Path, format: Format) -> Result<RecordBatch, TableError> {
    let mut source = CsvSource::open(path, format)?;
    let names = source.column_names();
    let mut columns: Vec<Vec<Option<Box<[u8]>>>> = vec![Vec::new(); names.len()];
    let mut record = ByteRecord::new();
    while source.read_record(&mut record)? {
        for (column, field) in columns.iter_mut().zip(record.iter()) {
            column.push((!field.is_empty()).then(|| field.into()));
        }
    }
    let mut fields = Vec::with_capacity(names.len());
    let mut arrays: Vec<ArrayRef> = Vec::with_capacity(names.len());
    for (name, column) in names.into_iter().zip(columns) {
        let array = infer_column(&column);
        fields.push(Field::new(name, array.data_type().clone(), true));
        arrays.push(array);
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
        .map_err(|e| TableError::invalid(path, None, e.to_string()))
}

fn infer_column(values: &[Option<Box<[u8]>>]) -> ArrayRef {
    fn text(v: &[u8]) -> Option<&str> {
        std::str::from_utf8(v).ok()
    }
    let as_int = |v: &[u8]| -> Option<i64> {
        let digits = v.strip_prefix(b"-").unwrap_or(v);
        if digits.len() > 1 && digits[0] == b'0' {
            return None;
        }
        text(v)?.parse().ok()
    };
    let present = || values.iter().flatten();
    if present().next().is_some() && present().all(|v| as_int(v).is_some()) {
        return Arc::new(
            values
                .iter()
                .map(|v| v.as_deref().and_then(as_int))
                .collect::<Int64Array>(),
        );
    }
    // Leading zeros (`007`, `00.5`) would be lost as numbers: keep such columns as text.
    let as_float = |v: &[u8]| {
        let digits = v.strip_prefix(b"-").unwrap_or(v);
        let leading_zero = digits.len() > 1 && digits[0] == b'0' && digits[1].is_ascii_digit();
        if leading_zero {
            return None;
        }
        text(v).and_then(|t| t.parse::<f64>().ok())
    };
    if present().all(|v| as_float(v).is_some()) {
        return Arc::new(
            values
                .iter()
                .map(|v| v.as_deref().and_then(as_float))
                .collect::<Float64Array>(),
        );
    }
    Arc::new(
        values
            .iter()
            .map(|v| v.as_deref().map(String::from_utf8_lossy))
            .collect::<StringArray>(),
    )
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
