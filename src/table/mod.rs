//! Reading and writing cohort files in every format the tools exchange.
//!
//! The format of a file is decided by the end of its name (see [`Format`]);
//! its bytes must agree, or the error says what they look like ([`sniff`]).
//! CSV files are streamed record by record ([`csv`]); columnar formats are
//! read and written as Arrow record batches ([`frame`], [`ipc`],
//! [`parquet_file`], [`stata`]). Third-party decoders run under
//! [`contain`], so that a malformed file is an error, never a crash.

pub mod atomic;
pub mod batches;
pub mod buffers;
pub mod chunks;
pub mod civil;
pub mod contain;
pub mod csv;
pub mod error;
pub mod frame;
pub mod gzip;
pub mod gzip_members;
pub mod inflate;
pub mod inputs;
pub mod ipc;
pub mod parquet_file;
pub mod parquet_types;
pub mod quotes;
pub mod render;
pub mod separators;
pub mod sniff;
pub mod stata;
pub mod text;
pub mod typed_csv;

use std::path::Path;

pub use error::TableError;

/// A cohort file format, recognised from the end of the file name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// Comma-separated text.
    Csv,
    /// Gzip-compressed comma-separated text.
    CsvGz,
    /// Arrow IPC file as pandas `to_feather` writes it.
    Feather,
    /// Arrow IPC file.
    Arrow,
    /// Apache Parquet.
    Parquet,
    /// Stata `.dta`.
    Dta,
    /// Gzip-compressed Stata `.dta`.
    DtaGz,
}

impl Format {
    /// Every format, longest extension first so that `.csv.gz` wins over `.gz`.
    pub const ALL: [Format; 7] = [
        Format::CsvGz,
        Format::DtaGz,
        Format::Feather,
        Format::Parquet,
        Format::Arrow,
        Format::Csv,
        Format::Dta,
    ];

    /// The file-name ending of this format, with its leading dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => ".csv",
            Format::CsvGz => ".csv.gz",
            Format::Feather => ".feather",
            Format::Arrow => ".arrow",
            Format::Parquet => ".parquet",
            Format::Dta => ".dta",
            Format::DtaGz => ".dta.gz",
        }
    }

    /// The format named by a file name's ending, if it is one we know.
    pub fn from_path(path: &Path) -> Option<Format> {
        let name = path.file_name()?.to_str()?;
        Format::ALL
            .into_iter()
            .find(|f| name.len() > f.extension().len() && name.ends_with(f.extension()))
    }

    /// The format named by an extension without its leading dot (`csv.gz`).
    pub fn from_extension(ext: &str) -> Option<Format> {
        Format::ALL
            .into_iter()
            .find(|f| &f.extension()[1..] == ext.trim_start_matches('.'))
    }

    /// Whether the file is comma-separated text (plain or gzip).
    pub fn is_csv(self) -> bool {
        matches!(self, Format::Csv | Format::CsvGz)
    }

    /// Whether the file is gzip-compressed.
    pub fn is_gzip(self) -> bool {
        matches!(self, Format::CsvGz | Format::DtaGz)
    }
}

/// Each row's index into a dictionary column's values, clamped as Arrow
/// clamps them. A dictionary of no values (an empty or all-missing column
/// as pyarrow writes it) has only missing rows, each given index 0, which
/// is never read: Arrow's own `normalized_keys` panics there.
pub fn dictionary_keys(dictionary: &dyn arrow_array::AnyDictionaryArray) -> Vec<usize> {
    if dictionary.values().is_empty() {
        vec![0; dictionary.len()]
    } else {
        dictionary.normalized_keys()
    }
}

/// What is left of a file name once its format's extension is removed
/// (`input_2020-03-01.csv.gz` -> `input_2020-03-01`).
pub fn stem(path: &Path, format: Format) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    name[..name.len() - format.extension().len()].to_string()
}

/// The extension a name would have under upstream's rule (every suffix after
/// the first dot), used to word "Cannot read" errors as upstream does.
pub fn upstream_extension(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    match name.find('.') {
        Some(i) => name[i..].to_string(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_come_from_the_end_of_the_name() {
        let f = |n: &str| Format::from_path(Path::new(n));
        assert_eq!(f("out/input_2020-03-01.csv.gz"), Some(Format::CsvGz));
        assert_eq!(f("input_v1.2.csv"), Some(Format::Csv));
        assert_eq!(f("a.dta.gz"), Some(Format::DtaGz));
        assert_eq!(f("a.feather"), Some(Format::Feather));
        assert_eq!(f("a.parquet"), Some(Format::Parquet));
        assert_eq!(f("a.arrow"), Some(Format::Arrow));
        assert_eq!(f("a.txt"), None);
        assert_eq!(f(".csv"), None);
        assert_eq!(f("a.gz"), None);
    }

    #[test]
    fn stems_drop_the_whole_extension() {
        assert_eq!(
            stem(Path::new("x/input_end.csv.gz"), Format::CsvGz),
            "input_end"
        );
        assert_eq!(stem(Path::new("input_v1.2.csv"), Format::Csv), "input_v1.2");
        assert_eq!(upstream_extension(Path::new("input_v1.2.csv")), ".2.csv");
    }
}
