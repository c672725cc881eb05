//! The per-patient (rhs) file, indexed by patient id: as CSV text for
//! joining to CSV files, as Arrow columns for joining to columnar files.

use std::path::{Path, PathBuf};

use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{Schema, SchemaRef};

use super::key::{DuplicateKey, KeyMap, PatientKey};
use super::names::KEY;
use crate::table::batches::BatchSource;
use crate::table::chunks::{
    Chunk, ChunkedCsv, RecordFault, line_at, quoted_records, unquoted_records,
};
use crate::table::csv::write_field;
use crate::table::frame;
use crate::table::render::ColumnText;
use crate::table::text::display_text;
use crate::table::{Format, TableError};

/// The rhs rows already encoded as CSV text, each as `,f1,f2,...`, ready to
/// be appended to an lhs row.
pub struct TextIndex {
    columns: Vec<Vec<u8>>,
    keys: KeyMap,
    arena: Vec<u8>,
    offsets: Vec<usize>,
    empty: Vec<u8>,
}

impl TextIndex {
    /// Reads the rhs file (any format) and indexes its rows.
    pub fn build(path: &Path, format: Format) -> Result<TextIndex, TableError> {
        if format.is_csv() {
            Self::from_csv(path, format)
        } else {
            Self::from_batches(path, frame::read(path, format)?)
        }
    }

    /// Reads a CSV rhs chunk by chunk (see [`ChunkedCsv`]). Rows are
    /// placed by their byte offset in the text, turned into line numbers
    /// only to word a duplicate id.
    fn from_csv(path: &Path, format: Format) -> Result<TextIndex, TableError> {
        let gzip = format.is_gzip();
        let csv = ChunkedCsv::open(path, format, rayon::current_num_threads())?;
        let names: Vec<Vec<u8>> = csv.header.iter().map(<[u8]>::to_vec).collect();
        let key_index = key_position(path, &names)?;
        let width = names.len();
        let mut index = TextIndex::new(without_key(&names, key_index));
        let located = |d: DuplicateKey| DuplicateKey {
            first: line_at(path, gzip, d.first),
            second: line_at(path, gzip, d.second),
            ..d
        };
        csv.for_each_chunk(path, gzip, 4, |chunk| {
            index
                .push_chunk(chunk, width, key_index)
                .map_err(|fault| match fault {
                    RowFault::Duplicate(d) => duplicate_error(path, located(d), "lines"),
                    RowFault::Record(fault) => {
                        fault.into_table_error(path, gzip, chunk.offset, width)
                    }
                })
        })?;
        index.arena.shrink_to_fit();
        Ok(index)
    }

    /// Indexes the rows of one chunk: a chunk without quotes row by row as
    /// its text is, one with quotes parsed and its fields written again.
    fn push_chunk(&mut self, chunk: &Chunk, width: usize, key: usize) -> Result<(), RowFault> {
        if !chunk.quoted {
            let mut duplicate = None;
            let start = chunk.bytes.as_ptr() as usize;
            unquoted_records(&chunk.bytes, width, key, |record, span| {
                if duplicate.is_some() {
                    return;
                }
                let offset = chunk.offset + (record.as_ptr() as usize - start) as u64;
                let before = (span.start > 0).then(|| &record[..span.start - 1]);
                let after = (span.end < record.len()).then(|| &record[span.end + 1..]);
                let id = PatientKey::parse(&record[span]);
                let runs = before.into_iter().chain(after);
                duplicate = self.push(id, offset, runs, as_written).err();
            })
            .map_err(RowFault::Record)?;
            return duplicate.map_or(Ok(()), |d| Err(RowFault::Duplicate(d)));
        }
        let mut duplicate = None;
        quoted_records(&chunk.bytes, width, |record, start| {
            if duplicate.is_some() {
                return;
            }
            let id = PatientKey::parse(&record[key]);
            let fields = record.iter().enumerate().filter(|(i, _)| *i != key);
            let position = chunk.offset + start as u64;
            duplicate = self
                .push(id, position, fields.map(|(_, f)| f), write_field)
                .err();
        })
        .map_err(RowFault::Record)?;
        duplicate.map_or(Ok(()), |d| Err(RowFault::Duplicate(d)))
    }

    /// Renders every rhs cell once, as pandas would print it. The whole file
    /// is one batch: pandas chooses some formats per column (timestamps'
    /// fraction digits), so each column is prepared whole.
    fn from_batches(path: &Path, source: BatchSource) -> Result<TextIndex, TableError> {
        let whole = source.concat()?;
        let names = frame::column_names(&whole.schema());
        let key_index = key_position(path, &names)?;
        let bytes: Vec<Vec<u8>> = names.iter().map(|n| n.clone().into_bytes()).collect();
        let mut index = TextIndex::new(without_key(&bytes, key_index));
        let columns = prepare_columns(path, &whole)?;
        let mut cells: Vec<Vec<u8>> = vec![Vec::new(); names.len()];
        for row in 0..whole.num_rows() {
            for (i, (cell, column)) in cells.iter_mut().zip(&columns).enumerate() {
                cell.clear();
                column
                    .write(row, cell)
                    .map_err(|m| cell_error(path, &names[i], row, m))?;
            }
            let key = PatientKey::parse(&cells[key_index]);
            let fields = cells.iter().enumerate().filter(|(i, _)| *i != key_index);
            let fields = fields.map(|(_, f)| f.as_slice());
            index
                .push(key, row as u64 + 1, fields, write_field)
                .map_err(|d| duplicate_error(path, d, "rows"))?;
        }
        Ok(index)
    }

    fn new(columns: Vec<Vec<u8>>) -> TextIndex {
        let empty = vec![b','; columns.len()];
        TextIndex {
            columns,
            keys: KeyMap::with_capacity(1 << 16),
            arena: Vec::with_capacity(1 << 20),
            offsets: vec![0],
            empty,
        }
    }

    /// Adds a row: id `key` at `position` (a line, row or byte offset:
    /// what a duplicate's error reports), then each of `parts` after a
    /// comma, written by `write`: fields as CSV ([`write_field`]), or runs
    /// of fields already written as CSV (`a,b,c`, the text of a record
    /// without quotes) as they are.
    fn push<'a>(
        &mut self,
        key: Option<PatientKey>,
        position: u64,
        parts: impl Iterator<Item = &'a [u8]>,
        write: impl Fn(&mut Vec<u8>, &[u8]),
    ) -> Result<(), DuplicateKey> {
        self.insert_key(key, position)?;
        for part in parts {
            self.arena.push(b',');
            write(&mut self.arena, part);
        }
        self.offsets.push(self.arena.len());
        Ok(())
    }

    fn insert_key(&mut self, key: Option<PatientKey>, position: u64) -> Result<(), DuplicateKey> {
        let row = (self.offsets.len() - 1) as u32;
        match key {
            Some(key) => self.keys.insert(key, row, position),
            None => Ok(()),
        }
    }

    /// The rhs column names, less the key, as bytes.
    pub fn columns(&self) -> &[Vec<u8>] {
        &self.columns
    }

    /// The encoded row (`,f1,f2,...`) for the id written `raw`.
    pub fn row(&self, raw: &[u8]) -> Option<&[u8]> {
        let row = self.keys.find(raw)? as usize;
        Some(&self.arena[self.offsets[row]..self.offsets[row + 1]])
    }

    /// The encoding of a row with every field empty (`,,,`).
    pub fn empty_row(&self) -> &[u8] {
        &self.empty
    }
}

/// Appends text already written as CSV.
fn as_written(arena: &mut Vec<u8>, text: &[u8]) {
    arena.extend_from_slice(text);
}

/// The rhs file as Arrow columns (less the key), with its id index.
pub struct BatchIndex {
    /// The rhs columns without the key, all rows in one batch (with the
    /// file's schema metadata).
    pub batch: RecordBatch,
    keys: KeyMap,
}

impl BatchIndex {
    /// Reads the rhs file (any format; CSV with pandas-like types).
    pub fn build(path: &Path, format: Format) -> Result<BatchIndex, TableError> {
        let whole = frame::read(path, format)?.concat()?;
        let names = frame::column_names(&whole.schema());
        let key_index = key_position(path, &names)?;
        let key_column = ColumnText::new(whole.column(key_index).as_ref())
            .map_err(|m| TableError::invalid(path, None, format!("column {KEY:?}: {m}")))?;
        let mut keys = KeyMap::with_capacity(whole.num_rows());
        let mut cell = Vec::new();
        for row in 0..whole.num_rows() {
            let key =
                key_at(&key_column, row, &mut cell).map_err(|m| cell_error(path, KEY, row, m))?;
            if let Some(key) = key {
                keys.insert(key, row as u32, row as u64 + 1)
                    .map_err(|d| duplicate_error(path, d, "rows"))?;
            }
        }
        let schema = whole.schema();
        let keep: Vec<usize> = (0..names.len()).filter(|&i| i != key_index).collect();
        let fields: Vec<_> = keep.iter().map(|&i| schema.field(i).clone()).collect();
        let columns: Vec<ArrayRef> = keep.iter().map(|&i| whole.column(i).clone()).collect();
        let schema: SchemaRef = Schema::new_with_metadata(fields, schema.metadata().clone()).into();
        let batch = RecordBatch::try_new(schema, columns)
            .map_err(|e| TableError::invalid(path, None, e.to_string()))?;
        Ok(BatchIndex { batch, keys })
    }

    /// The rhs row with id `key`.
    pub fn row(&self, key: &PatientKey) -> Option<u32> {
        self.keys.get(key)
    }
}

/// The id in row `row` of an Arrow key column, read as its CSV text would
/// be (so `123`, `123.0` and ` 123 ` agree across formats); `cell` is
/// scratch space.
pub fn key_at(
    column: &ColumnText,
    row: usize,
    cell: &mut Vec<u8>,
) -> Result<Option<PatientKey>, String> {
    cell.clear();
    column.write(row, cell)?;
    Ok(PatientKey::parse(cell))
}

/// Every column of `batch`, prepared to be written as text.
fn prepare_columns<'a>(
    path: &Path,
    batch: &'a RecordBatch,
) -> Result<Vec<ColumnText<'a>>, TableError> {
    let schema = batch.schema();
    batch
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(array, field)| {
            ColumnText::new(array.as_ref()).map_err(|m| {
                TableError::invalid(path, None, format!("column {:?}: {m}", field.name()))
            })
        })
        .collect()
}

/// A value that cannot be written as text: the file, column and row.
pub fn cell_error(path: &Path, column: &str, row: usize, message: String) -> TableError {
    TableError::invalid(
        path,
        None,
        format!("column {column:?}, row {}: {message}", row + 1),
    )
}

/// Where the key column is, or an error listing the columns there are.
pub fn key_position<N: AsRef<[u8]>>(path: &Path, names: &[N]) -> Result<usize, TableError> {
    names
        .iter()
        .position(|n| n.as_ref() == KEY.as_bytes())
        .ok_or_else(|| {
            let names: Vec<String> = names.iter().map(|n| display_text(n.as_ref())).collect();
            TableError::invalid(
                PathBuf::from(path),
                None,
                format!("no {KEY} column; its columns are: {}", names.join(", ")),
            )
        })
}

/// Why a row of a CSV rhs could not be indexed.
enum RowFault {
    Duplicate(DuplicateKey),
    Record(RecordFault),
}

fn without_key<N: Clone>(names: &[N], key_index: usize) -> Vec<N> {
    names
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != key_index)
        .map(|(_, n)| n.clone())
        .collect()
}

fn duplicate_error(path: &Path, duplicate: DuplicateKey, unit: &str) -> TableError {
    TableError::invalid(
        path,
        None,
        format!(
            "{KEY} {} appears twice, on {unit} {} and {}; a per-patient file must have one row per patient",
            duplicate.key, duplicate.first, duplicate.second
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A CSV rhs of `rows` rows over several chunks, with `\r\n` line
    /// breaks, the key in the middle, and quoted fields in every 1000th
    /// row (so some chunks are parsed and some copied).
    fn rhs_text(rows: usize) -> String {
        let mut text = String::from("age,patient_id,note\r\n");
        for i in 0..rows {
            if i % 1000 == 7 {
                text.push_str(&format!("{},{i},\"a, \"\"quoted\"\"\r\nnote\"\r\n", i % 90));
            } else {
                text.push_str(&format!("{},{i},plain {i}\r\n", i % 90));
            }
        }
        text
    }

    #[test]
    fn rows_are_encoded_alike_from_quoted_and_unquoted_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("end.csv");
        std::fs::write(&path, rhs_text(200_000)).unwrap();
        let index = TextIndex::build(&path, Format::Csv).unwrap();
        assert_eq!(index.columns(), [b"age".to_vec(), b"note".to_vec()]);
        assert_eq!(index.row(b"5").unwrap(), b",5,plain 5");
        assert_eq!(index.row(b"199999").unwrap(), b",19,plain 199999");
        assert_eq!(
            index.row(b"1007").unwrap(),
            b",17,\"a, \"\"quoted\"\"\r\nnote\""
        );
        assert_eq!(index.row(b"200000"), None);
    }

    #[test]
    fn a_duplicate_id_is_reported_on_its_lines_in_any_chunk() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("end.csv");
        // Row i is on line i + 2, and rows 7, 1007, ... take two lines.
        let mut text = rhs_text(150_000);
        text.push_str("1,3,again\r\n");
        text.push_str("1,140007,\"x\"\r\n");
        std::fs::write(&path, &text).unwrap();
        let error = TextIndex::build(&path, Format::Csv)
            .err()
            .unwrap()
            .to_string();
        assert!(
            error.contains("patient_id 3 appears twice, on lines 5 and 150152"),
            "{error}"
        );
    }
}
