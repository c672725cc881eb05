//! The per-patient (rhs) file, indexed by patient id: as CSV text for
//! joining to CSV files, as Arrow columns for joining to columnar files.

use std::path::{Path, PathBuf};

use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{Schema, SchemaRef};
use csv::ByteRecord;

use super::key::{DuplicateKey, KeyMap, PatientKey};
use super::names::KEY;
use crate::table::batches::BatchSource;
use crate::table::csv::{CsvSource, write_field};
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

    fn from_csv(path: &Path, format: Format) -> Result<TextIndex, TableError> {
        let mut source = CsvSource::open(path, format)?;
        let names: Vec<Vec<u8>> = source.header().iter().map(<[u8]>::to_vec).collect();
        let key_index = key_position(path, &names)?;
        let mut index = TextIndex::new(without_key(&names, key_index));
        let mut record = ByteRecord::new();
        while source.read_record(&mut record)? {
            let fields = record.iter().enumerate().filter(|(i, _)| *i != key_index);
            let key = PatientKey::parse(&record[key_index]);
            index.push(key, source.line(), fields.map(|(_, f)| f), path, "lines")?;
        }
        index.arena.shrink_to_fit();
        Ok(index)
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
            index.push(
                key,
                row as u64 + 1,
                fields.map(|(_, f)| f.as_slice()),
                path,
                "rows",
            )?;
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

    fn push<'a>(
        &mut self,
        key: Option<PatientKey>,
        line: u64,
        fields: impl Iterator<Item = &'a [u8]>,
        path: &Path,
        unit: &str,
    ) -> Result<(), TableError> {
        let row = (self.offsets.len() - 1) as u32;
        if let Some(key) = key {
            self.keys
                .insert(key, row, line)
                .map_err(|d| duplicate_error(path, d, unit))?;
        }
        for field in fields {
            self.arena.push(b',');
            write_field(&mut self.arena, field);
        }
        self.offsets.push(self.arena.len());
        Ok(())
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
