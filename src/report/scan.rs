//! Reading a file once into per-column accumulators, in bounded memory.
//!
//! CSV: one thread decompresses and cuts the text into chunks of whole
//! records (quote-aware); the rayon pool parses chunks in parallel, each
//! worker into its own accumulators, merged at the end. At most a few chunks
//! per thread are in memory at once. Typed files (Arrow, Parquet, Stata) are
//! read batch by batch, columns in parallel.

use std::path::Path;
use std::sync::mpsc::{Receiver, Sender};

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float16Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type,
    UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrowPrimitiveType};
use arrow_schema::{DataType, TimeUnit};
use rayon::prelude::*;

use super::column::ColumnAcc;
use super::dtype::Dtype;
use crate::table::chunks::{
    Chunk, ChunkError, ChunkedCsv, RecordFault, quoted_records, unquoted_fields,
};
use crate::table::render::ColumnText;
use crate::table::text::display_text;
use crate::table::{Format, TableError, frame};

/// Dates are charted by month in an `i32`: years beyond this are refused.
const MAX_YEAR: i32 = 100_000_000;

/// Chunks waiting per parsing thread: enough to keep the workers busy while
/// the reader inflates its next window of gzip members (about 16 MiB).
const QUEUED_PER_THREAD: usize = 4;

/// What one pass over a file gathered.
pub struct Scan {
    /// Column names, in file order.
    pub names: Vec<String>,
    /// Data rows.
    pub rows: u64,
    /// One accumulator per column.
    pub columns: Vec<ColumnAcc>,
    /// The columns' pandas dtypes for typed files; `None` for CSV (inferred).
    pub dtypes: Option<Vec<Dtype>>,
}

/// Reads `path` once. `on_rows` is told how many rows each step read.
pub fn scan(
    path: &Path,
    format: Format,
    on_rows: &(dyn Fn(u64) + Sync),
) -> Result<Scan, TableError> {
    if format.is_csv() {
        scan_csv(path, format, on_rows)
    } else {
        scan_typed(path, format, on_rows)
    }
}

fn scan_csv(
    path: &Path,
    format: Format,
    on_rows: &(dyn Fn(u64) + Sync),
) -> Result<Scan, TableError> {
    let gzip = format.is_gzip();
    let ChunkedCsv {
        chunker,
        header,
        first,
        ..
    } = ChunkedCsv::open(path, format, rayon::current_num_threads())?;
    let names: Vec<String> = header.iter().map(display_text).collect();
    let width = names.len();
    let recycle = chunker.recycler();
    let parts = std::thread::scope(|scope| {
        let depth = QUEUED_PER_THREAD * rayon::current_num_threads() + 2;
        let receiver = chunker.send_from(scope, first, depth);
        parse_chunks(receiver, &recycle, width, on_rows)
    });
    let (rows, columns) = parts.map_err(|e| match e {
        ParseError::Record { offset, fault } => fault.into_table_error(path, gzip, offset, width),
        ParseError::Read(e) => e.into_table_error(path, gzip),
    })?;
    Ok(Scan {
        names,
        rows,
        columns: columns.unwrap_or_else(|| vec![ColumnAcc::default(); width]),
        dtypes: None,
    })
}

#[derive(Debug)]
enum ParseError {
    Read(ChunkError),
    /// A record of the chunk at byte `offset` of the text.
    Record {
        offset: u64,
        fault: RecordFault,
    },
}

type Part = (u64, Option<Vec<ColumnAcc>>);

fn parse_chunks(
    receiver: Receiver<Result<Chunk, ChunkError>>,
    recycle: &Sender<Vec<u8>>,
    width: usize,
    on_rows: &(dyn Fn(u64) + Sync),
) -> Result<Part, ParseError> {
    receiver
        .into_iter()
        .par_bridge()
        .try_fold(
            || (0, None),
            |(rows, columns): Part, chunk| {
                let chunk = chunk.map_err(ParseError::Read)?;
                let mut columns = columns.unwrap_or_else(|| vec![ColumnAcc::default(); width]);
                let read = parse_chunk(&chunk, &mut columns)?;
                // The reader may be gone after an error; then it is dropped.
                let _ = recycle.send(chunk.bytes);
                on_rows(read);
                Ok((rows + read, Some(columns)))
            },
        )
        .try_reduce(
            || (0, None),
            |(rows_a, a), (rows_b, b)| {
                let merged = match (a, b) {
                    (Some(mut a), Some(b)) => {
                        a.iter_mut().zip(b).for_each(|(a, b)| a.merge(b));
                        Some(a)
                    }
                    (a, b) => a.or(b),
                };
                Ok((rows_a + rows_b, merged))
            },
        )
}

/// Counts the fields of one chunk: a chunk without a quote (the common
/// case) walked as its text is ([`unquoted_fields`]), one with quotes
/// parsed by the csv crate.
fn parse_chunk(chunk: &Chunk, columns: &mut [ColumnAcc]) -> Result<u64, ParseError> {
    let bytes = chunk.bytes.as_slice();
    let width = columns.len();
    let walked = if chunk.quoted {
        quoted_records(bytes, width, |record, _| {
            for (column, field) in columns.iter_mut().zip(record.iter()) {
                column.add_field(field);
            }
        })
    } else {
        unquoted_fields(
            bytes,
            width,
            |index, span| {
                // An empty field's "first byte" is the separator after it,
                // or nothing at the end of the text.
                let first = bytes.get(span.start).copied().unwrap_or(0);
                columns[index].add_field_starting(first, &bytes[span]);
            },
            |_| {},
        )
    };
    walked.map_err(|fault| ParseError::Record {
        offset: chunk.offset,
        fault,
    })
}

fn scan_typed(
    path: &Path,
    format: Format,
    on_rows: &(dyn Fn(u64) + Sync),
) -> Result<Scan, TableError> {
    let source = frame::read(path, format)?;
    let schema = source.schema.clone();
    let names = frame::column_names(&schema);
    let mut columns = vec![ColumnAcc::default(); names.len()];
    let mut rows = 0;
    for batch in source.batches {
        let batch = batch?;
        columns
            .par_iter_mut()
            .zip(batch.columns())
            .try_for_each(|(acc, array)| feed(acc, array.as_ref()))
            .map_err(|message| TableError::invalid(path, None, message))?;
        rows += batch.num_rows() as u64;
        on_rows(batch.num_rows() as u64);
    }
    let dtypes = schema
        .fields()
        .iter()
        .zip(&columns)
        .map(|(field, acc)| pandas_dtype(field.data_type(), acc.missing() > 0))
        .collect();
    Ok(Scan {
        names,
        rows,
        columns,
        dtypes: Some(dtypes),
    })
}

/// The dtype pandas gives an Arrow column (`read_feather`), with its
/// shallow bytes per row.
fn pandas_dtype(data_type: &DataType, has_missing: bool) -> Dtype {
    let sized = |name: &str, bytes| {
        if has_missing {
            Dtype::new("float64", 8)
        } else {
            Dtype::new(name, bytes)
        }
    };
    match data_type {
        DataType::Int8 => sized("int8", 1),
        DataType::Int16 => sized("int16", 2),
        DataType::Int32 => sized("int32", 4),
        DataType::Int64 => sized("int64", 8),
        DataType::UInt8 => sized("uint8", 1),
        DataType::UInt16 => sized("uint16", 2),
        DataType::UInt32 => sized("uint32", 4),
        DataType::UInt64 => sized("uint64", 8),
        DataType::Float16 => Dtype::new("float16", 2),
        DataType::Float32 => Dtype::new("float32", 4),
        DataType::Float64 => Dtype::new("float64", 8),
        DataType::Boolean if !has_missing => Dtype::new("bool", 1),
        // pandas 2 and later keep the unit.
        DataType::Timestamp(unit, None) => {
            Dtype::new(&format!("datetime64[{}]", unit_name(*unit)), 8)
        }
        DataType::Timestamp(unit, Some(tz)) => {
            Dtype::new(&format!("datetime64[{}, {tz}]", unit_name(*unit)), 8)
        }
        DataType::Duration(unit) => Dtype::new(&format!("timedelta64[{}]", unit_name(*unit)), 8),
        DataType::Dictionary(_, _) => Dtype::new("category", 1),
        _ => Dtype::new("object", 8),
    }
}

/// numpy's name for a time unit.
fn unit_name(unit: TimeUnit) -> &'static str {
    match unit {
        TimeUnit::Second => "s",
        TimeUnit::Millisecond => "ms",
        TimeUnit::Microsecond => "us",
        TimeUnit::Nanosecond => "ns",
    }
}

fn feed(acc: &mut ColumnAcc, array: &dyn Array) -> Result<(), String> {
    fn ints<T: ArrowPrimitiveType>(acc: &mut ColumnAcc, array: &dyn Array)
    where
        T::Native: Into<i128>,
    {
        array.as_primitive::<T>().iter().for_each(|v| match v {
            Some(v) => acc.add_int(v.into()),
            None => acc.add_missing(1),
        });
    }
    fn floats<T: ArrowPrimitiveType>(acc: &mut ColumnAcc, array: &dyn Array)
    where
        T::Native: Into<f64>,
    {
        array.as_primitive::<T>().iter().for_each(|v| match v {
            Some(v) => acc.add_float(v.into()),
            None => acc.add_missing(1),
        });
    }
    match array.data_type() {
        DataType::Int8 => ints::<Int8Type>(acc, array),
        DataType::Int16 => ints::<Int16Type>(acc, array),
        DataType::Int32 => ints::<Int32Type>(acc, array),
        DataType::Int64 => ints::<Int64Type>(acc, array),
        DataType::UInt8 => ints::<UInt8Type>(acc, array),
        DataType::UInt16 => ints::<UInt16Type>(acc, array),
        DataType::UInt32 => ints::<UInt32Type>(acc, array),
        DataType::UInt64 => ints::<UInt64Type>(acc, array),
        DataType::Float16 => array
            .as_primitive::<Float16Type>()
            .iter()
            .for_each(|v| match v {
                Some(v) => acc.add_float(v.to_f64()),
                None => acc.add_missing(1),
            }),
        DataType::Float32 => floats::<Float32Type>(acc, array),
        DataType::Float64 => floats::<Float64Type>(acc, array),
        DataType::Boolean => array.as_boolean().iter().for_each(|v| match v {
            Some(v) => acc.add_bool(v),
            None => acc.add_missing(1),
        }),
        DataType::Date32 | DataType::Date64 | DataType::Timestamp(_, _) => {
            let column = ColumnText::new(array)?;
            for row in 0..array.len() {
                match column.calendar_date(row)? {
                    Some(date) => {
                        let year = i32::try_from(date.year)
                            .ok()
                            .filter(|y| y.abs() < MAX_YEAR)
                            .ok_or_else(|| {
                                format!(
                                    "row {}: the year {} is beyond the ±{MAX_YEAR} years a report can chart",
                                    row + 1,
                                    date.year
                                )
                            })?;
                        acc.add_date(year, date.month);
                    }
                    None => acc.add_missing(1),
                }
            }
        }
        DataType::Dictionary(_, _) => {
            // Each value of the dictionary is written once, with how many
            // rows hold it: linear in rows whatever the dictionary's size.
            let dictionary = array.as_any_dictionary();
            let values = ColumnText::new(dictionary.values().as_ref())?;
            let mut counts = vec![0u64; dictionary.values().len()];
            for (row, key) in crate::table::dictionary_keys(dictionary)
                .into_iter()
                .enumerate()
            {
                if array.is_valid(row) {
                    counts[key] += 1;
                } else {
                    acc.add_missing(1);
                }
            }
            let mut text = Vec::new();
            for (key, count) in counts.into_iter().enumerate().filter(|(_, c)| *c > 0) {
                if values.is_null(key) {
                    acc.add_missing(count);
                    continue;
                }
                text.clear();
                values.write(key, &mut text)?;
                acc.add_text(&text, count);
            }
        }
        _ => {
            // Text, times, durations, decimals, binary: as pandas would print them.
            let column = ColumnText::new(array)?;
            let mut text = Vec::new();
            for row in 0..array.len() {
                if column.is_null(row) {
                    acc.add_missing(1);
                    continue;
                }
                text.clear();
                column.write(row, &mut text)?;
                acc.add_text(&text, 1);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_csv_file_is_read_whole_whatever_its_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.csv");
        let mut text = String::from("\u{feff}id,v,\"na,me\"\n");
        for i in 0..200_000 {
            text.push_str(&format!("{i},{},\"q\"\"{}\n\"\n", i % 2, i % 3));
        }
        std::fs::write(&path, &text).unwrap();
        let scan = scan(&path, Format::Csv, &|_| {}).unwrap();
        assert_eq!(scan.names, ["id", "v", "na,me"]);
        assert_eq!(scan.rows, 200_000);
        let profile = scan.columns[1].clone().finish("v", scan.rows, None);
        assert_eq!(
            profile.legacy.unwrap(),
            [("0".into(), 100_000), ("1".into(), 100_000)]
        );
        let names = scan.columns[2].clone().finish("n", scan.rows, None);
        assert_eq!(names.distinct, Some(3));
    }

    #[test]
    fn a_short_row_is_reported_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.csv");
        let mut text = String::from("a,b\r\n");
        for i in 0..300_000 {
            text.push_str(&format!("{i},\"x\r\ny\"\r\n"));
        }
        text.push_str("7\r\n");
        std::fs::write(&path, &text).unwrap();
        let error = scan(&path, Format::Csv, &|_| {}).err().unwrap().to_string();
        assert!(
            error.contains("line 600002: expected 2 fields (as in the header), found 1"),
            "{error}"
        );
    }
}
