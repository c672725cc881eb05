//! The join of a columnar lhs file (Arrow IPC, Parquet, Stata): batch by
//! batch, rhs columns gathered with Arrow's `take`, column types kept.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch, UInt32Array};
use arrow_schema::{Field, Schema, SchemaRef};

use super::index::{BatchIndex, cell_error, key_at, key_position};
use super::names::KEY;
use super::names::joined_text_names;
use super::pandas_metadata;
use super::stats::FileStats;
use crate::progress::Rows;
use crate::table::frame::{self, FrameWriter};
use crate::table::render::ColumnText;
use crate::table::{Format, TableError};

/// Joins one columnar lhs file to the rhs columns, writing `dest`
/// atomically in the same format. Returns the statistics and any warnings.
pub fn join_frame(
    lhs: &Path,
    format: Format,
    index: &BatchIndex,
    dest: &Path,
    level: u32,
    progress: &Rows,
) -> Result<(FileStats, Vec<String>), TableError> {
    let source = frame::read(lhs, format)?;
    let lhs_names = frame::column_names(&source.schema);
    let key_index = key_position(lhs, &lhs_names)?;
    let rhs_schema = index.batch.schema();
    let rhs_names = frame::column_names(&rhs_schema);
    let names =
        joined_text_names(&lhs_names, &rhs_names).map_err(|m| TableError::invalid(lhs, None, m))?;
    let fields: Vec<Field> = source
        .schema
        .fields()
        .iter()
        .chain(rhs_schema.fields().iter())
        .zip(&names)
        .enumerate()
        .map(|(i, (field, name))| {
            let nullable = field.is_nullable() || i >= lhs_names.len();
            // Everything of the field but its name and nullability: type,
            // metadata and a dictionary's order.
            field
                .as_ref()
                .clone()
                .with_name(name)
                .with_nullable(nullable)
        })
        .collect();
    // The lhs's own keys, but those the writers make for the file itself
    // (Parquet readers expose the stored `ARROW:schema`, which would no
    // longer describe the joined columns).
    let mut metadata: HashMap<String, String> = source
        .schema
        .metadata()
        .iter()
        .filter(|(key, _)| !key.starts_with("ARROW:"))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    let pandas = pandas_metadata::joined(
        metadata.get(pandas_metadata::KEY).map(String::as_str),
        rhs_schema
            .metadata()
            .get(pandas_metadata::KEY)
            .map(String::as_str),
        &lhs_names,
        &rhs_names,
        &names,
    );
    match pandas {
        Some(pandas) => metadata.insert(pandas_metadata::KEY.to_string(), pandas),
        None => metadata.remove(pandas_metadata::KEY),
    };
    let schema: SchemaRef = Arc::new(Schema::new_with_metadata(fields, metadata));

    let mut writer = FrameWriter::create(dest, format, schema.clone(), level)?;
    let mut stats = FileStats::new(lhs, dest);
    let mut cell = Vec::new();
    for batch in source.batches {
        let batch = batch?;
        let key_column = ColumnText::new(batch.column(key_index).as_ref())
            .map_err(|m| TableError::invalid(lhs, None, format!("column {KEY:?}: {m}")))?;
        let mut rows = Vec::with_capacity(batch.num_rows());
        for row in 0..batch.num_rows() {
            let key = key_at(&key_column, row, &mut cell)
                .map_err(|m| cell_error(lhs, KEY, stats.rows as usize + row, m))?;
            rows.push(key.and_then(|k| index.row(&k)));
        }
        let matched = rows.iter().flatten().count() as u64;
        let take = UInt32Array::from(rows);
        let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
        for column in index.batch.columns() {
            columns.push(
                arrow_select::take::take(column.as_ref(), &take, None)
                    .map_err(|e| TableError::invalid(lhs, None, e.to_string()))?,
            );
        }
        let joined = RecordBatch::try_new(schema.clone(), columns)
            .map_err(|e| TableError::invalid(lhs, None, e.to_string()))?;
        writer.write(&joined)?;
        stats.rows += batch.num_rows() as u64;
        stats.matched += matched;
        progress.advance(
            batch.num_rows() as u64,
            joined.get_array_memory_size() as u64,
        );
    }
    let warnings = writer.finish()?;
    Ok((stats, warnings))
}
