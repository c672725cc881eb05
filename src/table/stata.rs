//! Stata `.dta` files: formats 114–119 read, 118 written.
//!
//! PLACEHOLDER: being written by a helper; the signatures below are the contract.

use std::io::Write;
use std::path::Path;

use arrow_array::RecordBatch;

use super::TableError;

/// Reads a whole `.dta` file (formats 114–119), gzip-compressed when `gzip`.
pub fn read(path: &Path, gzip: bool) -> Result<RecordBatch, TableError> {
    let _ = gzip;
    Err(TableError::invalid(
        path,
        None,
        "Stata files are not supported yet",
    ))
}

/// Writes `batch` as a format-118 `.dta` file to `out` (`path` names it in
/// errors). Returns the columns renamed to satisfy Stata, as (old, new).
pub fn write(
    batch: &RecordBatch,
    out: &mut dyn Write,
    path: &Path,
) -> Result<Vec<(String, String)>, TableError> {
    let _ = (batch, out);
    Err(TableError::invalid(
        path,
        None,
        "Stata files are not supported yet",
    ))
}
