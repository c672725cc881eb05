//! Errors from reading and writing cohort files, each naming the file.

use std::io;
use std::path::PathBuf;

/// A problem with one cohort file. Every variant names the file, and the
/// line where one is known, and says what to do where that is not obvious.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    /// The operating system refused a read or a write.
    #[error("{}: {error}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong (in the message, not chained as a source, so
        /// that `{:#}` does not print it twice).
        error: io::Error,
    },
    /// The gzip stream could not be decompressed.
    #[error("{}: cannot decompress ({error}): the gzip data is corrupt or truncated; re-create or re-copy the file", path.display())]
    Gzip {
        /// The file.
        path: PathBuf,
        /// What the decompressor said (in the message only).
        error: io::Error,
    },
    /// The file has no header row.
    #[error("{}: the file is empty; a cohort file needs a header row naming its columns", path.display())]
    NoHeader {
        /// The file.
        path: PathBuf,
    },
    /// A row has more or fewer fields than the header.
    #[error("{}, line {line}: expected {expected} fields (as in the header), found {found}", path.display())]
    FieldCount {
        /// The file.
        path: PathBuf,
        /// The 1-based line on which the row starts.
        line: u64,
        /// Fields in the header.
        expected: usize,
        /// Fields in this row.
        found: usize,
    },
    /// The content is not what the format requires.
    #[error("{}{}: {message}", path.display(), line.map(|l| format!(", line {l}")).unwrap_or_default())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The line, where one is known.
        line: Option<u64>,
        /// What is wrong and what to do.
        message: String,
    },
}

impl TableError {
    /// An I/O error on `path`; for gzip files, decoding errors are reported
    /// as corrupt or truncated data.
    pub fn io(path: impl Into<PathBuf>, gzip: bool, error: io::Error) -> TableError {
        let path = path.into();
        let is_decode = matches!(
            error.kind(),
            io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof
        );
        if gzip && is_decode {
            TableError::Gzip { path, error }
        } else {
            TableError::Io { path, error }
        }
    }

    /// A content error on `path`, at `line` where known.
    pub fn invalid(
        path: impl Into<PathBuf>,
        line: Option<u64>,
        message: impl Into<String>,
    ) -> TableError {
        TableError::Invalid {
            path: path.into(),
            line,
            message: message.into(),
        }
    }
}
