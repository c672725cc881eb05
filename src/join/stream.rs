//! The join of a CSV lhs file: streamed record by record, every field
//! written back exactly as read, the rhs row appended from the text index.

use std::io::Write;
use std::path::Path;

use csv::ByteRecord;

use super::index::{TextIndex, key_position};
use super::names::joined_names;
use super::stats::FileStats;
use crate::progress::Rows;
use crate::table::atomic::AtomicFile;
use crate::table::csv::{CsvSource, terminator, write_field, write_record};
use crate::table::gzip::Sink;
use crate::table::{Format, TableError};

/// Bytes of joined text gathered before handing them to the (compressing) sink.
const CHUNK: usize = 1 << 20;

/// Rows between progress updates.
const PROGRESS_ROWS: u64 = 1 << 16;

/// Joins one CSV lhs file to the rhs index, writing `dest` atomically.
pub fn join_csv(
    lhs: &Path,
    format: Format,
    index: &TextIndex,
    dest: &Path,
    level: u32,
    progress: &Rows,
) -> Result<FileStats, TableError> {
    let mut source = CsvSource::open(lhs, format)?;
    let names: Vec<Vec<u8>> = source.header().iter().map(<[u8]>::to_vec).collect();
    let key_index = key_position(lhs, &names)?;
    let header =
        joined_names(&names, index.columns()).map_err(|m| TableError::invalid(lhs, None, m))?;
    let crlf = source.crlf();
    let end = terminator(crlf);

    let write_error = |e| TableError::io(dest, false, e);
    let file = AtomicFile::create(dest).map_err(write_error)?;
    let mut sink = Sink::new(file, format.is_gzip(), level);
    let mut chunk = Vec::with_capacity(CHUNK + (CHUNK >> 2));
    write_record(&mut chunk, header.iter().map(Vec::as_slice), crlf);

    let mut stats = FileStats::new(lhs, dest);
    let mut record = ByteRecord::new();
    let mut unreported = (0, 0);
    while source.read_record(&mut record)? {
        for (i, field) in record.iter().enumerate() {
            if i > 0 {
                chunk.push(b',');
            }
            write_field(&mut chunk, field);
        }
        match index.row(&record[key_index]) {
            Some(row) => {
                chunk.extend_from_slice(row);
                stats.matched += 1;
            }
            None => chunk.extend_from_slice(index.empty_row()),
        }
        chunk.extend_from_slice(end);
        stats.rows += 1;
        unreported.0 += 1;
        if chunk.len() >= CHUNK {
            sink.write_all(&chunk).map_err(write_error)?;
            unreported.1 += chunk.len() as u64;
            chunk.clear();
            if unreported.0 >= PROGRESS_ROWS {
                progress.advance(unreported.0, unreported.1);
                unreported = (0, 0);
            }
        }
    }
    sink.write_all(&chunk).map_err(write_error)?;
    progress.advance(unreported.0, unreported.1 + chunk.len() as u64);
    sink.finish()
        .map_err(write_error)?
        .commit()
        .map_err(write_error)?;
    Ok(stats)
}
