//! Arrow values as text, the way pandas `to_csv` prints them.

use arrow_array::Array;
use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type,
    UInt32Type, UInt64Type,
};
use arrow_schema::{DataType, TimeUnit};

use super::text::{write_python_float, write_python_float32};

/// Appends one cell as pandas `to_csv` would print it; nothing for a null.
pub fn render_cell(array: &dyn Array, row: usize, out: &mut Vec<u8>) -> Result<(), String> {
    if array.is_null(row) {
        return Ok(());
    }
    let mut int = |v: i128| out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
    match array.data_type() {
        DataType::Int8 => int(array.as_primitive::<Int8Type>().value(row) as i128),
        DataType::Int16 => int(array.as_primitive::<Int16Type>().value(row) as i128),
        DataType::Int32 => int(array.as_primitive::<Int32Type>().value(row) as i128),
        DataType::Int64 => int(array.as_primitive::<Int64Type>().value(row) as i128),
        DataType::UInt8 => int(array.as_primitive::<UInt8Type>().value(row) as i128),
        DataType::UInt16 => int(array.as_primitive::<UInt16Type>().value(row) as i128),
        DataType::UInt32 => int(array.as_primitive::<UInt32Type>().value(row) as i128),
        DataType::UInt64 => int(array.as_primitive::<UInt64Type>().value(row) as i128),
        DataType::Float32 => {
            write_python_float32(out, array.as_primitive::<Float32Type>().value(row))
        }
        DataType::Float64 => {
            write_python_float(out, array.as_primitive::<Float64Type>().value(row))
        }
        DataType::Boolean => out.extend_from_slice(if array.as_boolean().value(row) {
            b"True"
        } else {
            b"False"
        }),
        DataType::Utf8 => out.extend_from_slice(array.as_string::<i32>().value(row).as_bytes()),
        DataType::LargeUtf8 => {
            out.extend_from_slice(array.as_string::<i64>().value(row).as_bytes())
        }
        DataType::Utf8View => out.extend_from_slice(array.as_string_view().value(row).as_bytes()),
        DataType::Date32 => {
            let days = array
                .as_primitive::<arrow_array::types::Date32Type>()
                .value(row);
            let date = chrono::NaiveDate::from_num_days_from_ce_opt(days + 719_163)
                .ok_or_else(|| format!("date {days} days from 1970 is out of range"))?;
            out.extend_from_slice(date.format("%Y-%m-%d").to_string().as_bytes());
        }
        DataType::Timestamp(unit, _) => {
            let value = match unit {
                TimeUnit::Second => {
                    array
                        .as_primitive::<arrow_array::types::TimestampSecondType>()
                        .value(row)
                        * 1_000_000_000
                }
                TimeUnit::Millisecond => {
                    array
                        .as_primitive::<arrow_array::types::TimestampMillisecondType>()
                        .value(row)
                        * 1_000_000
                }
                TimeUnit::Microsecond => {
                    array
                        .as_primitive::<arrow_array::types::TimestampMicrosecondType>()
                        .value(row)
                        * 1_000
                }
                TimeUnit::Nanosecond => array
                    .as_primitive::<arrow_array::types::TimestampNanosecondType>()
                    .value(row),
            };
            let time = chrono::DateTime::from_timestamp_nanos(value).naive_utc();
            let text = if time.time() == chrono::NaiveTime::MIN {
                time.format("%Y-%m-%d").to_string()
            } else {
                time.format("%Y-%m-%d %H:%M:%S").to_string()
            };
            out.extend_from_slice(text.as_bytes());
        }
        DataType::Dictionary(_, _) => {
            let dict = array.as_any_dictionary();
            let key = dict.normalized_keys()[row];
            render_cell(dict.values().as_ref(), key, out)?;
        }
        other => return Err(format!("cannot write a column of type {other} as CSV text")),
    }
    Ok(())
}
