//! Reading a whole `.dta` file into one record batch.
//!
//! The data is read in chunks of whole observations; while one chunk is
//! being read (and decompressed), the columns take their cells out of the
//! previous one in parallel. `strL` texts come after the data in the file,
//! so `strL` columns keep keys until the end.

use std::path::Path;
use std::sync::Arc;

use arrow_array::{RecordBatch, RecordBatchOptions};
use arrow_schema::{Field, Schema};
use rayon::prelude::*;

use super::columns::{Column, Place};
use super::header::{Header, read_header, read_trailer};
use super::input::DtaReader;
use super::labels;
use super::types::Meaning;
use crate::table::TableError;

/// Bytes of observations read at a time.
const CHUNK_BYTES: usize = 8 << 20;

/// Reads a whole `.dta` file (formats 114, 115, 117, 118 and 119, either
/// byte order), gzip-compressed when `gzip` (a `.dta.gz` that is not gzip
/// data is read as it is).
///
/// Types: `byte`, `int`, `long`, `float`, `double` become Int8, Int16,
/// Int32, Float32, Float64, with Stata's missing values (`.`, `.a`-`.z`) as
/// nulls; `str#` and `strL` become Utf8. Numbers with a `%td` format become
/// Date32 and with `%tc` Timestamp(ms), when all are whole. A variable with
/// value labels reads as its labels, as pandas reads it ([`labels::apply`]).
pub fn read(path: &Path, gzip: bool) -> Result<RecordBatch, TableError> {
    let mut input = DtaReader::open(path, gzip)?;
    read_file(&mut input).map_err(|error| {
        // Damaged gzip data decodes to damaged content: if the checksum at
        // the end says so, report that instead.
        match input.is_gzip().then(|| input.drain()) {
            Some(Err(corrupt @ TableError::Gzip { .. })) => corrupt,
            _ => error,
        }
    })
}

fn read_file(input: &mut DtaReader) -> Result<RecordBatch, TableError> {
    let header = read_header(input)?;
    let mut columns: Vec<Column> = header.vars.iter().map(|v| Column::new(v.kind)).collect();
    read_data(input, &header, &mut columns)?;
    let trailer = read_trailer(input, header.release)?;

    let arrays = columns
        .into_par_iter()
        .zip(&header.vars)
        .map(|(column, var)| {
            let array = column.finish(
                Meaning::of_format(&var.format),
                &trailer.gsos,
                header.release,
            );
            array
                .and_then(|array| match trailer.labels.get(&var.labels) {
                    Some(labels) => labels::apply(array, labels),
                    None => Ok(array),
                })
                .map_err(|m| format!("variable {:?}: {m}", var.name))
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|m| input.error(m))?;
    let fields: Vec<Field> = header
        .vars
        .iter()
        .zip(&arrays)
        .map(|(var, array)| Field::new(&var.name, array.data_type().clone(), true))
        .collect();
    let options = RecordBatchOptions::new().with_row_count(Some(header.rows as usize));
    RecordBatch::try_new_with_options(Arc::new(Schema::new(fields)), arrays, &options)
        .map_err(|e| input.error(e.to_string()))
}

/// Reads every observation into `columns`.
fn read_data(
    input: &mut DtaReader,
    header: &Header,
    columns: &mut [Column],
) -> Result<(), TableError> {
    let width: usize = header.vars.iter().map(|v| v.kind.width()).sum();
    if width == 0 {
        return Ok(());
    }
    let places: Vec<Place> = header
        .vars
        .iter()
        .scan(0, |offset, var| {
            let place = Place {
                width,
                offset: *offset,
                big_endian: input.big_endian,
            };
            *offset += var.kind.width();
            Some(place)
        })
        .collect();
    let chunk_rows = (CHUNK_BYTES / width).max(1) as u64;
    let rows = header.rows;
    let read_chunk = |input: &mut DtaReader, first: u64, buf: &mut Vec<u8>| {
        let n = chunk_rows.min(rows - first);
        buf.resize(n as usize * width, 0);
        let got = input.read_up_to(buf, "the data")?;
        if got < buf.len() {
            let observation = first + (got / width) as u64 + 1;
            return Err(
                input.truncated(&format!("the data, in observation {observation} of {rows}"))
            );
        }
        Ok(())
    };

    let (mut current, mut next) = (Vec::new(), Vec::new());
    read_chunk(input, 0, &mut current)?;
    let mut first = 0;
    while first < rows {
        let after = first + (current.len() / width) as u64;
        let (read, decoded) = rayon::join(
            || match after < rows {
                true => read_chunk(input, after, &mut next),
                false => Ok(()),
            },
            || {
                columns
                    .par_iter_mut()
                    .zip(&places)
                    .zip(&header.vars)
                    .try_for_each(|((column, &place), var)| {
                        column
                            .extend(&current, place, first, header.release)
                            .map_err(|m| format!("variable {:?}: {m}", var.name))
                    })
            },
        );
        decoded.map_err(|m| input.error(m))?;
        read?;
        std::mem::swap(&mut current, &mut next);
        first = after;
    }
    Ok(())
}
