//! The join of a CSV lhs file: streamed chunk by chunk, every field written
//! back exactly as read, the rhs row appended from the text index.
//!
//! A reader thread inflates the file and cuts it into chunks of whole
//! records ([`ChunkedCsv`]); this thread joins the chunks in order. A chunk
//! without quotes is copied record by record as it is: fields without
//! quotes hold no comma, quote or line break, so their bytes are what
//! writing the fields again would give. A chunk with quotes is parsed, and
//! its fields written again, quoted only where they must be.

use std::io::Write;
use std::path::Path;

use super::index::{TextIndex, key_position};
use super::names::joined_names;
use super::stats::FileStats;
use crate::progress::Rows;
use crate::table::atomic::AtomicFile;
use crate::table::chunks::{Chunk, ChunkedCsv, RecordFault, quoted_records, unquoted_records};
use crate::table::csv::{terminator, write_field, write_record};
use crate::table::gzip::Sink;
use crate::table::{Format, TableError};

/// Chunks read ahead of the join.
const READ_AHEAD: usize = 4;

/// Joins one CSV lhs file to the rhs index, writing `dest` atomically.
pub fn join_csv(
    lhs: &Path,
    format: Format,
    index: &TextIndex,
    dest: &Path,
    level: u32,
    progress: &Rows,
) -> Result<FileStats, TableError> {
    let gzip = format.is_gzip();
    let csv = ChunkedCsv::open(lhs, format, rayon::current_num_threads())?;
    let names: Vec<Vec<u8>> = csv.header.iter().map(<[u8]>::to_vec).collect();
    let mut joiner = Joiner {
        width: names.len(),
        key: key_position(lhs, &names)?,
        index,
        end: terminator(csv.crlf),
        out: Vec::with_capacity(crate::table::chunks::CHUNK * 2),
        stats: FileStats::new(lhs, dest),
    };
    let header =
        joined_names(&names, index.columns()).map_err(|m| TableError::invalid(lhs, None, m))?;
    write_record(&mut joiner.out, header.iter().map(Vec::as_slice), csv.crlf);

    let write_error = |e| TableError::io(dest, false, e);
    let file = AtomicFile::create(dest).map_err(write_error)?;
    let mut sink = Sink::new(file, gzip, level);
    let width = joiner.width;
    csv.for_each_chunk(lhs, gzip, READ_AHEAD, |chunk| {
        let rows = joiner
            .join(chunk)
            .map_err(|fault| fault.into_table_error(lhs, gzip, chunk.offset, width))?;
        sink.write_all(&joiner.out).map_err(write_error)?;
        progress.advance(rows, joiner.out.len() as u64);
        joiner.out.clear();
        Ok(())
    })?;
    sink.write_all(&joiner.out).map_err(write_error)?;
    sink.finish()
        .map_err(write_error)?
        .commit()
        .map_err(write_error)?;
    Ok(joiner.stats)
}

/// Joins chunks of one lhs file into `out`.
struct Joiner<'a> {
    width: usize,
    key: usize,
    index: &'a TextIndex,
    end: &'static [u8],
    out: Vec<u8>,
    stats: FileStats,
}

impl Joiner<'_> {
    /// Appends the joined records of `chunk` to `out`; returns how many.
    fn join(&mut self, chunk: &Chunk) -> Result<u64, RecordFault> {
        if !chunk.quoted {
            return unquoted_records(&chunk.bytes, self.width, self.key, |record, key| {
                self.out.extend_from_slice(record);
                self.append_rhs(&record[key]);
            });
        }
        let key = self.key;
        quoted_records(&chunk.bytes, self.width, |record, _| {
            for (i, field) in record.iter().enumerate() {
                if i > 0 {
                    self.out.push(b',');
                }
                write_field(&mut self.out, field);
            }
            self.append_rhs(&record[key]);
        })
    }

    /// Appends the rhs row for the id written `key` (empty fields where
    /// there is none) and the line break.
    fn append_rhs(&mut self, key: &[u8]) {
        match self.index.row(key) {
            Some(row) => {
                self.out.extend_from_slice(row);
                self.stats.matched += 1;
            }
            None => self.out.extend_from_slice(self.index.empty_row()),
        }
        self.out.extend_from_slice(self.end);
        self.stats.rows += 1;
    }
}
