//! Columnar cohort files as Arrow record batches: Arrow IPC (`.feather`,
//! `.arrow`), Parquet and Stata, plus CSV read with pandas-like column types
//! for joining to columnar files.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type,
    UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_ipc::writer::{FileWriter, IpcWriteOptions};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef, TimeUnit};
use csv::ByteRecord;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use super::atomic::AtomicFile;
use super::csv::CsvSource;
use super::gzip::Sink;
use super::text::{write_python_float, write_python_float32};
use super::{Format, TableError, stata};

/// Rows per batch when reading Parquet.
const BATCH_ROWS: usize = 64 * 1024;

/// Record batches read from a file, one at a time where the format allows.
pub struct BatchSource {
    /// The columns of every batch.
    pub schema: SchemaRef,
    /// The batches, in file order.
    pub batches: Box<dyn Iterator<Item = Result<RecordBatch, TableError>> + Send>,
}

impl BatchSource {
    /// Reads every batch into one.
    pub fn concat(self) -> Result<RecordBatch, TableError> {
        let schema = self.schema;
        let batches: Vec<RecordBatch> = self.batches.collect::<Result<_, _>>()?;
        arrow_select::concat::concat_batches(&schema, &batches)
            .map_err(|e| TableError::invalid("<memory>", None, e.to_string()))
    }
}

fn arrow_error(path: &Path, error: ArrowError) -> TableError {
    match error {
        ArrowError::IoError(_, io) => TableError::io(path, false, io),
        other => TableError::invalid(path, None, other.to_string()),
    }
}

/// Opens a file of any format as record batches. CSV is read whole, with
/// column types inferred as by [`read_csv_typed`].
pub fn read(path: &Path, format: Format) -> Result<BatchSource, TableError> {
    let open = || File::open(path).map_err(|e| TableError::io(path, false, e));
    let owned = path.to_path_buf();
    match format {
        Format::Feather | Format::Arrow => {
            let reader = arrow_ipc::reader::FileReader::try_new(open()?, None)
                .map_err(|e| arrow_error(path, e))?;
            let schema = reader.schema();
            let batches = reader.map(move |b| b.map_err(|e| arrow_error(&owned, e)));
            Ok(BatchSource {
                schema,
                batches: Box::new(batches),
            })
        }
        Format::Parquet => {
            let reader = ParquetRecordBatchReaderBuilder::try_new(open()?)
                .map_err(|e| TableError::invalid(path, None, e.to_string()))?
                .with_batch_size(BATCH_ROWS)
                .build()
                .map_err(|e| TableError::invalid(path, None, e.to_string()))?;
            let schema = arrow_array::RecordBatchReader::schema(&reader);
            let batches = reader.map(move |b| b.map_err(|e| arrow_error(&owned, e)));
            Ok(BatchSource {
                schema,
                batches: Box::new(batches),
            })
        }
        Format::Dta | Format::DtaGz => single(stata::read(path, format.is_gzip())?),
        Format::Csv | Format::CsvGz => single(read_csv_typed(path, format)?),
    }
}

fn single(batch: RecordBatch) -> Result<BatchSource, TableError> {
    Ok(BatchSource {
        schema: batch.schema(),
        batches: Box::new(std::iter::once(Ok(batch))),
    })
}

/// Writes record batches to a columnar file under a temporary name; the
/// file appears at its final name on [`FrameWriter::finish`].
pub struct FrameWriter {
    path: std::path::PathBuf,
    kind: WriterKind,
}

enum WriterKind {
    Ipc(FileWriter<AtomicFile>),
    Parquet(ArrowWriter<AtomicFile>),
    Stata {
        file: AtomicFile,
        gzip: bool,
        level: u32,
        schema: SchemaRef,
        batches: Vec<RecordBatch>,
    },
}

impl FrameWriter {
    /// Starts writing `path` in `format` (any but CSV); `level` is the gzip
    /// level for `.dta.gz`.
    pub fn create(
        path: &Path,
        format: Format,
        schema: SchemaRef,
        level: u32,
    ) -> Result<FrameWriter, TableError> {
        let file = AtomicFile::create(path).map_err(|e| TableError::io(path, false, e))?;
        let kind = match format {
            Format::Feather | Format::Arrow => {
                let options = IpcWriteOptions::default()
                    .try_with_compression(Some(arrow_ipc::CompressionType::LZ4_FRAME))
                    .map_err(|e| arrow_error(path, e))?;
                WriterKind::Ipc(
                    FileWriter::try_new_with_options(file, &schema, options)
                        .map_err(|e| arrow_error(path, e))?,
                )
            }
            Format::Parquet => {
                let props = WriterProperties::builder()
                    .set_compression(Compression::SNAPPY)
                    .build();
                WriterKind::Parquet(
                    ArrowWriter::try_new(file, schema, Some(props))
                        .map_err(|e| TableError::invalid(path, None, e.to_string()))?,
                )
            }
            Format::Dta | Format::DtaGz => WriterKind::Stata {
                file,
                gzip: format.is_gzip(),
                level,
                schema,
                batches: Vec::new(),
            },
            Format::Csv | Format::CsvGz => {
                return Err(TableError::invalid(
                    path,
                    None,
                    "CSV is written as text, not as batches",
                ));
            }
        };
        Ok(FrameWriter {
            path: path.to_path_buf(),
            kind,
        })
    }

    /// Appends a batch.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), TableError> {
        let path = &self.path;
        match &mut self.kind {
            WriterKind::Ipc(w) => w.write(batch).map_err(|e| arrow_error(path, e)),
            WriterKind::Parquet(w) => w
                .write(batch)
                .map_err(|e| TableError::invalid(path, None, e.to_string())),
            WriterKind::Stata { batches, .. } => {
                batches.push(batch.clone());
                Ok(())
            }
        }
    }

    /// Completes the file and renames it into place. Returns any warnings
    /// (Stata: columns renamed or stored otherwise than their type says).
    pub fn finish(self) -> Result<Vec<String>, TableError> {
        let path = &self.path;
        let io = |e| TableError::io(path, false, e);
        match self.kind {
            WriterKind::Ipc(mut w) => {
                w.finish().map_err(|e| arrow_error(path, e))?;
                w.into_inner()
                    .map_err(|e| arrow_error(path, e))?
                    .commit()
                    .map_err(io)?;
                Ok(Vec::new())
            }
            WriterKind::Parquet(w) => {
                let file = w
                    .into_inner()
                    .map_err(|e| TableError::invalid(path, None, e.to_string()))?;
                file.commit().map_err(io)?;
                Ok(Vec::new())
            }
            WriterKind::Stata {
                file,
                gzip,
                level,
                schema,
                batches,
            } => {
                let batch = arrow_select::concat::concat_batches(&schema, &batches)
                    .map_err(|e| arrow_error(path, e))?;
                let mut sink = Sink::new(file, gzip, level);
                let notes = stata::write(&batch, &mut sink, path)?;
                sink.finish().map_err(io)?.commit().map_err(io)?;
                Ok(notes
                    .into_iter()
                    .map(|(column, note)| format!("{}: column {column:?} {note}", path.display()))
                    .collect())
            }
        }
    }
}

/// The column names of a schema, in order.
pub fn column_names(schema: &Schema) -> Vec<String> {
    schema.fields().iter().map(|f| f.name().clone()).collect()
}

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
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).map_err(|e| arrow_error(path, e))
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
