//! A dummy data table written in the format ehrQL's `--output` names, no
//! value changed: CSV to CSV byte for byte (through gzip where one side
//! has it), anything to `.arrow` as the same Arrow arrays (CSV typed as
//! ehrQL writes it: `T`/`F` booleans, ISO dates, numbers only where exact),
//! and columnar files to CSV as ehrQL prints values (`T`/`F`, ISO dates,
//! Python's float text, `\r\n` line ends).

use std::io::{Read, Write};
use std::path::Path;

use anyhow::{Context, bail};
use arrow_array::cast::AsArray;
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;

use super::output::Table;
use crate::table::atomic::AtomicFile;
use crate::table::csv::{CsvSource, write_field};
use crate::table::frame::{self, FrameWriter};
use crate::table::gzip::{self, Sink};
use crate::table::render::ColumnText;
use crate::table::typed_csv::{Typing, read_csv_typed_as};
use crate::table::{Format, TableError};

/// The gzip level ehrQL writes `.csv.gz` with.
const EHRQL_GZIP_LEVEL: u32 = 6;

/// Writes `table` to `dest` in `format`, after checking it has a
/// `patient_id` column.
pub fn write(table: &Table, dest: &Path, format: Format) -> anyhow::Result<()> {
    let source = &table.path;
    let names = column_names(table)?;
    if !names.iter().any(|n| n == "patient_id") {
        bail!(
            "{}: no patient_id column (it has {}): every table of an ehrQL dataset has one; add it to the dummy data",
            source.display(),
            shown_names(&names)
        );
    }
    if let Some(parent) = dest.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    match (table.format.is_csv(), format.is_csv()) {
        (true, true) => copy_text(source, table.format, dest, format),
        (_, false) => {
            let batches = if table.format.is_csv() {
                let batch = read_csv_typed_as(source, table.format, Typing::Ehrql)?;
                vec![batch]
            } else {
                read_batches(source, table.format)?
            };
            let schema = match batches.first() {
                Some(b) => b.schema(),
                None => frame::read(source, table.format)?.schema,
            };
            let mut writer = FrameWriter::create(dest, format, schema, EHRQL_GZIP_LEVEL)?;
            for batch in &batches {
                writer.write(batch)?;
            }
            writer.finish()?;
            Ok(())
        }
        (false, true) => write_text(source, &read_batches(source, table.format)?, dest, format),
    }
}

/// The table's column names.
fn column_names(table: &Table) -> anyhow::Result<Vec<String>> {
    if table.format.is_csv() {
        let csv = CsvSource::open(&table.path, table.format)?;
        let header = csv.header();
        return Ok(header
            .iter()
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .collect());
    }
    let source = frame::read(&table.path, table.format)?;
    Ok(frame::column_names(&source.schema))
}

fn shown_names(names: &[String]) -> String {
    match names.len() {
        0 => "no columns".into(),
        n if n <= 8 => names.join(", "),
        n => format!("{}, … ({n} columns)", names[..8].join(", ")),
    }
}

fn read_batches(path: &Path, format: Format) -> Result<Vec<RecordBatch>, TableError> {
    frame::read(path, format)?.batches.collect()
}

/// CSV bytes as they are, decompressed or compressed on the way.
fn copy_text(source: &Path, from: Format, dest: &Path, to: Format) -> anyhow::Result<()> {
    let io = |e| anyhow::Error::new(e).context(format!("cannot write {}", dest.display()));
    let mut output = AtomicFile::create(dest).map_err(io)?;
    if from == to {
        let mut input = std::fs::File::open(source)
            .with_context(|| format!("cannot read {}", source.display()))?;
        std::io::copy(&mut input, &mut output).map_err(io)?;
        return output.commit().map_err(io);
    }
    let mut input =
        gzip::open(source, from.is_gzip()).map_err(|e| TableError::io(source, false, e))?;
    let mut sink = Sink::new(output, to.is_gzip(), EHRQL_GZIP_LEVEL);
    let mut buffer = vec![0; 1 << 20];
    loop {
        let n = input
            .read(&mut buffer)
            .map_err(|e| TableError::io(source, from.is_gzip(), e))?;
        if n == 0 {
            break;
        }
        sink.write_all(&buffer[..n]).map_err(io)?;
    }
    sink.finish().map_err(io)?.commit().map_err(io)
}

/// Arrow batches as ehrQL's CSV writer prints them.
fn write_text(
    source: &Path,
    batches: &[RecordBatch],
    dest: &Path,
    format: Format,
) -> anyhow::Result<()> {
    let io = |e| anyhow::Error::new(e).context(format!("cannot write {}", dest.display()));
    let mut sink = Sink::new(
        AtomicFile::create(dest).map_err(io)?,
        format.is_gzip(),
        EHRQL_GZIP_LEVEL,
    );
    let schema = match batches.first() {
        Some(batch) => batch.schema(),
        None => frame::read(source, Format::from_path(source).unwrap_or(Format::Arrow))?.schema,
    };
    let mut out = Vec::new();
    for (i, field) in schema.fields().iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_field(&mut out, field.name().as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    let mut row_base = 0;
    for batch in batches {
        let columns = batch
            .columns()
            .iter()
            .zip(schema.fields())
            .map(|(array, field)| {
                ColumnText::new(array.as_ref()).map_err(|e| {
                    anyhow::anyhow!("{}: column {:?}: {e}", source.display(), field.name())
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let mut field = Vec::new();
        for row in 0..batch.num_rows() {
            for (c, (text, array)) in columns.iter().zip(batch.columns()).enumerate() {
                if c > 0 {
                    out.push(b',');
                }
                field.clear();
                write_cell(text, array.as_ref(), row, &mut field).map_err(|e| {
                    anyhow::anyhow!(
                        "{}: column {:?}, row {}: {e}",
                        source.display(),
                        schema.field(c).name(),
                        row_base + row + 1
                    )
                })?;
                write_field(&mut out, &field);
            }
            out.extend_from_slice(b"\r\n");
            if out.len() > 1 << 20 {
                sink.write_all(&out).map_err(io)?;
                out.clear();
            }
        }
        row_base += batch.num_rows();
    }
    sink.write_all(&out).map_err(io)?;
    sink.finish().map_err(io)?.commit().map_err(io)
}

/// One value as ehrQL prints it: booleans `T`/`F`, everything else as
/// Python prints it (which [`ColumnText`] does, as pandas does).
fn write_cell(
    text: &ColumnText,
    array: &dyn Array,
    row: usize,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    if *array.data_type() == DataType::Boolean && !array.is_null(row) {
        out.push(if array.as_boolean().value(row) {
            b'T'
        } else {
            b'F'
        });
        return Ok(());
    }
    text.write(row, out)
}
