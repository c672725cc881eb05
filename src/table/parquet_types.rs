//! Arrow types with no Parquet column type, both ways.
//!
//! Writing: arrow-rs writes `timestamp[s]` and `date64` as bare 64-bit
//! integers and relies on its own schema hint to read them back; pyarrow
//! and pandas read them as integers (a silent change of every value's
//! meaning). So they are written as `timestamp[ms]` (same time zone) and
//! `date32`, which every Parquet reader knows — or, where a value does not
//! fit, the write fails naming the column and row.
//!
//! Reading: pyarrow does the same the other way and records the Arrow type
//! in the file's `ARROW:schema` hint, which arrow-rs does not apply where
//! the unit differs: a `timestamp[s, tz=Europe/London]` column would read
//! as `timestamp[ms, tz=UTC]`, printing UTC times instead of the local
//! times pandas prints. [`restore`] gives such columns their written type.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Date64Type, TimestampSecondType};
use arrow_array::{ArrayRef, Date32Array, RecordBatch, TimestampMillisecondArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};

const MILLIS_PER_DAY: i64 = 86_400_000;

/// The type a column of `data_type` is written as.
fn stored(data_type: &DataType) -> DataType {
    match data_type {
        DataType::Timestamp(TimeUnit::Second, zone) => {
            DataType::Timestamp(TimeUnit::Millisecond, zone.clone())
        }
        DataType::Date64 => DataType::Date32,
        other => other.clone(),
    }
}

/// The schema as written.
pub fn schema(schema: &Schema) -> SchemaRef {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| f.as_ref().clone().with_data_type(stored(f.data_type())))
        .collect();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

/// `batch` with its columns converted to `stored` types; `first_row` is
/// the 0-based row of the file the batch starts at, for errors.
pub fn batch(
    batch: &RecordBatch,
    stored: &SchemaRef,
    first_row: u64,
) -> Result<RecordBatch, String> {
    let columns = batch
        .columns()
        .iter()
        .zip(batch.schema().fields())
        .map(|(array, field)| {
            convert(array, first_row).map_err(|(row, message)| {
                format!("column {:?}, row {}: {message}", field.name(), row + 1)
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    RecordBatch::try_new(stored.clone(), columns).map_err(|e| e.to_string())
}

/// One column as stored, or the (file) row and reason it cannot be.
fn convert(array: &ArrayRef, first_row: u64) -> Result<ArrayRef, (u64, String)> {
    let at = |row: usize| first_row + row as u64;
    Ok(match array.data_type() {
        DataType::Timestamp(TimeUnit::Second, zone) => {
            let seconds = array.as_primitive::<TimestampSecondType>();
            let millis = seconds
                .iter()
                .enumerate()
                .map(|(row, v)| {
                    v.map(|s| {
                        s.checked_mul(1_000).ok_or_else(|| {
                            (at(row), format!("timestamp {s} s is beyond what Parquet can store (milliseconds in 64 bits)"))
                        })
                    })
                    .transpose()
                })
                .collect::<Result<TimestampMillisecondArray, _>>()?;
            Arc::new(millis.with_timezone_opt(zone.clone()))
        }
        DataType::Date64 => {
            let dates = array.as_primitive::<Date64Type>();
            let days = dates
                .iter()
                .enumerate()
                .map(|(row, v)| {
                    v.map(|ms| {
                        let days = (ms % MILLIS_PER_DAY == 0)
                            .then(|| i32::try_from(ms / MILLIS_PER_DAY).ok())
                            .flatten();
                        days.ok_or_else(|| {
                            (at(row), format!("date64 value {ms} is not a whole day within Parquet's date range"))
                        })
                    })
                    .transpose()
                })
                .collect::<Result<Date32Array, _>>()?;
            Arc::new(days)
        }
        _ => array.clone(),
    })
}

/// The key of the Arrow schema pyarrow stores in Parquet files.
const ARROW_SCHEMA: &str = "ARROW:schema";

/// The types an `ARROW:schema` hint (base64 of an IPC schema message) gives
/// columns of `schema` where arrow-rs read them otherwise: timestamps of
/// another unit or zone, and date64 stored as date32. `None` when nothing
/// needs restoring.
pub fn hinted(
    schema: &Schema,
    key_value: Option<&Vec<parquet::file::metadata::KeyValue>>,
) -> Option<SchemaRef> {
    use base64::Engine;
    let encoded = key_value?
        .iter()
        .find(|kv| kv.key == ARROW_SCHEMA)?
        .value
        .as_deref()?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let hint = arrow_ipc::convert::try_schema_from_ipc_buffer(&bytes).ok()?;
    if hint.fields().len() != schema.fields().len() {
        return None;
    }
    let mut changed = false;
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .zip(hint.fields())
        .map(|(read, written)| {
            let restorable = matches!(
                (read.data_type(), written.data_type()),
                (DataType::Timestamp(_, _), DataType::Timestamp(_, _))
                    | (DataType::Date32, DataType::Date64)
            );
            if restorable && read.data_type() != written.data_type() {
                changed = true;
                read.as_ref()
                    .clone()
                    .with_data_type(written.data_type().clone())
            } else {
                read.as_ref().clone()
            }
        })
        .collect();
    changed.then(|| Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone())))
}

/// `batch` with the column types of `hinted` (from [`hinted`]), values
/// rescaled exactly (a stored millisecond count of whole seconds back to
/// seconds); a value that does not convert exactly is an error.
pub fn restore(batch: RecordBatch, hinted: &SchemaRef) -> Result<RecordBatch, String> {
    let columns = batch
        .columns()
        .iter()
        .zip(hinted.fields())
        .map(|(array, field)| {
            retype(array, field.data_type())
                .map_err(|message| format!("column {:?}: {message}", field.name()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    RecordBatch::try_new(hinted.clone(), columns).map_err(|e| e.to_string())
}

fn retype(array: &ArrayRef, to: &DataType) -> Result<ArrayRef, String> {
    use arrow_array::types::{
        Date32Type, TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    };
    use arrow_array::{Array, Date64Array, Int64Array, PrimitiveArray};
    if array.data_type() == to {
        return Ok(array.clone());
    }
    let per_second = |unit: &TimeUnit| match unit {
        TimeUnit::Second => 1i64,
        TimeUnit::Millisecond => 1_000,
        TimeUnit::Microsecond => 1_000_000,
        TimeUnit::Nanosecond => 1_000_000_000,
    };
    match (array.data_type(), to) {
        (DataType::Timestamp(from_unit, _), DataType::Timestamp(to_unit, _)) => {
            let raw: Int64Array = match from_unit {
                TimeUnit::Second => array
                    .as_primitive::<TimestampSecondType>()
                    .reinterpret_cast(),
                TimeUnit::Millisecond => array
                    .as_primitive::<TimestampMillisecondType>()
                    .reinterpret_cast(),
                TimeUnit::Microsecond => array
                    .as_primitive::<TimestampMicrosecondType>()
                    .reinterpret_cast(),
                TimeUnit::Nanosecond => array
                    .as_primitive::<TimestampNanosecondType>()
                    .reinterpret_cast(),
            };
            let (from, to_scale) = (per_second(from_unit), per_second(to_unit));
            let values = raw
                .iter()
                .map(|v| {
                    v.map(|v| {
                        if from >= to_scale {
                            let factor = from / to_scale;
                            (v % factor == 0).then_some(v / factor)
                        } else {
                            v.checked_mul(to_scale / from)
                        }
                        .ok_or_else(|| {
                            format!("timestamp {v} does not convert exactly to the type written")
                        })
                    })
                    .transpose()
                })
                .collect::<Result<Int64Array, _>>()?;
            let data = values.into_data().into_builder().data_type(to.clone());
            let data = data.build().map_err(|e| e.to_string())?;
            Ok(arrow_array::make_array(data))
        }
        (DataType::Date32, DataType::Date64) => {
            let days: &PrimitiveArray<Date32Type> = array.as_primitive();
            Ok(Arc::new(
                days.iter()
                    .map(|d| d.map(|d| i64::from(d) * MILLIS_PER_DAY))
                    .collect::<Date64Array>(),
            ))
        }
        _ => Ok(array.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Array, Date64Array, TimestampSecondArray};

    fn one(array: ArrayRef) -> RecordBatch {
        let schema = Schema::new(vec![Field::new("x", array.data_type().clone(), true)]);
        RecordBatch::try_new(Arc::new(schema), vec![array]).unwrap()
    }

    #[test]
    fn seconds_become_milliseconds_and_dates_days() {
        let input = one(Arc::new(
            TimestampSecondArray::from(vec![Some(-5), None]).with_timezone("UTC"),
        ));
        let stored = schema(&input.schema());
        let out = batch(&input, &stored, 0).unwrap();
        let millis = out
            .column(0)
            .as_primitive::<arrow_array::types::TimestampMillisecondType>();
        assert_eq!(millis.value(0), -5_000);
        assert!(millis.is_null(1));
        assert_eq!(
            out.schema().field(0).data_type(),
            &DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()))
        );
        let dates = one(Arc::new(Date64Array::from(vec![MILLIS_PER_DAY * -3])));
        let out = batch(&dates, &schema(&dates.schema()), 0).unwrap();
        assert_eq!(
            out.column(0)
                .as_primitive::<arrow_array::types::Date32Type>()
                .value(0),
            -3
        );
    }

    #[test]
    fn values_that_do_not_fit_name_their_row() {
        let input = one(Arc::new(TimestampSecondArray::from(vec![0, i64::MAX])));
        let error = batch(&input, &schema(&input.schema()), 10).unwrap_err();
        assert!(
            error.starts_with("column \"x\", row 12: timestamp"),
            "{error}"
        );
        let dates = one(Arc::new(Date64Array::from(vec![1])));
        assert!(
            batch(&dates, &schema(&dates.schema()), 0)
                .unwrap_err()
                .contains("not a whole day")
        );
    }
}
