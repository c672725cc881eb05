//! A file's profile: every column's statistics from one pass, before
//! disclosure control.

use std::path::{Path, PathBuf};

use super::column::ColumnProfile;
use super::scan::scan;
use crate::table::{Format, TableError};

/// Everything the report knows about one file.
#[derive(Debug)]
pub struct FileProfile {
    /// The file as matched.
    pub path: PathBuf,
    /// Its format.
    pub format: Format,
    /// Its size on disk in bytes.
    pub bytes: u64,
    /// Data rows.
    pub rows: u64,
    /// Every column, in file order.
    pub columns: Vec<ColumnProfile>,
}

/// Reads `path` once and profiles every column. `on_rows` hears how many
/// rows each step read (for progress).
pub fn profile(
    path: &Path,
    format: Format,
    on_rows: &(dyn Fn(u64) + Sync),
) -> Result<FileProfile, TableError> {
    let bytes = std::fs::metadata(path)
        .map_err(|e| TableError::io(path, false, e))?
        .len();
    let scan = scan(path, format, on_rows)?;
    let rows = scan.rows;
    let dtypes = scan
        .dtypes
        .map(|d| d.into_iter().map(Some).collect())
        .unwrap_or_else(|| vec![None; scan.names.len()]);
    let columns = scan
        .columns
        .into_iter()
        .zip(&scan.names)
        .zip(dtypes)
        .map(|((acc, name), dtype)| acc.finish(name, rows, dtype))
        .collect();
    Ok(FileProfile {
        path: path.to_path_buf(),
        format,
        bytes,
        rows,
        columns,
    })
}
