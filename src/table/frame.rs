//! Columnar cohort files as Arrow record batches: Arrow IPC (`.feather`,
//! `.arrow`, read by [`super::ipc`]), Parquet (read by
//! [`super::parquet_file`]) and Stata (and CSV, typed by
//! [`super::typed_csv`]).

use std::path::Path;

use arrow_array::RecordBatch;
use arrow_ipc::writer::{FileWriter, IpcWriteOptions};
use arrow_schema::{Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use super::atomic::AtomicFile;
use super::batches::{BatchSource, arrow_error};
use super::gzip::Sink;
use super::{Format, TableError, ipc, parquet_file, parquet_types, stata};

/// Opens a file of any format as record batches. CSV is read whole, with
/// column types inferred as by [`super::typed_csv::read_csv_typed`].
///
/// Arrow IPC and Parquet files are checked against their own length before
/// they are decoded, and a panic of the decoder on a malformed file is an
/// error (see [`super::contain`]).
pub fn read(path: &Path, format: Format) -> Result<BatchSource, TableError> {
    match format {
        Format::Feather | Format::Arrow => ipc::read(path),
        Format::Parquet => parquet_file::read(path),
        Format::Dta | Format::DtaGz => single(stata::read(path, format.is_gzip())?),
        Format::Csv | Format::CsvGz => single(super::typed_csv::read_csv_typed(path, format)?),
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
    Parquet {
        writer: ArrowWriter<AtomicFile>,
        /// The schema with the types Parquet stores (see [`parquet_types`]).
        stored: SchemaRef,
        /// Rows written so far.
        rows: u64,
    },
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
                // pandas' `to_feather` compresses with LZ4; ehrQL's `.arrow`
                // files with zstd.
                let compression = match format {
                    Format::Arrow => arrow_ipc::CompressionType::ZSTD,
                    _ => arrow_ipc::CompressionType::LZ4_FRAME,
                };
                let options = IpcWriteOptions::default()
                    .try_with_compression(Some(compression))
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
                let stored = parquet_types::schema(&schema);
                WriterKind::Parquet {
                    writer: ArrowWriter::try_new(file, stored.clone(), Some(props))
                        .map_err(|e| TableError::invalid(path, None, e.to_string()))?,
                    stored,
                    rows: 0,
                }
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
            WriterKind::Parquet {
                writer,
                stored,
                rows,
            } => {
                let batch = parquet_types::batch(batch, stored, *rows)
                    .map_err(|m| TableError::invalid(path, None, m))?;
                *rows += batch.num_rows() as u64;
                writer
                    .write(&batch)
                    .map_err(|e| TableError::invalid(path, None, e.to_string()))
            }
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
            WriterKind::Parquet { writer, .. } => {
                let file = writer
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
