//! Record batches as every columnar reader hands them on, and arrow-rs
//! errors as the table layer reports them.

use std::path::Path;

use arrow_array::RecordBatch;
use arrow_schema::{ArrowError, SchemaRef};

use super::TableError;

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

/// An error of arrow-rs on `path`.
pub(super) fn arrow_error(path: &Path, error: ArrowError) -> TableError {
    match error {
        ArrowError::IoError(_, io) => TableError::io(path, false, io),
        other => TableError::invalid(path, None, other.to_string()),
    }
}
