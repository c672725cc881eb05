//! What a file's first bytes say it is, whatever its name says: for
//! choosing between the Arrow IPC file and stream formats, and for errors
//! that tell a user which format a misnamed file is really in.

/// The first bytes of every gzip member.
pub const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Bytes to read from the start of a file to tell what it is.
pub const SNIFF_BYTES: usize = 512;

/// A kind of file, recognised from its first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// No bytes at all.
    Empty,
    /// Gzip-compressed data.
    Gzip,
    /// An Arrow IPC file (Feather version 2): starts with `ARROW1`.
    ArrowFile,
    /// An Arrow IPC stream: starts with a continuation marker (`FF FF FF FF`).
    ArrowStream,
    /// A Feather version 1 file: starts with `FEA1`.
    FeatherV1,
    /// A Parquet file: starts with `PAR1`.
    Parquet,
    /// A Stata `.dta` file (format 114 or later).
    Stata,
    /// Text: UTF-8 without control characters other than tab and line breaks.
    Text,
    /// None of these.
    Unknown,
}

impl Kind {
    /// The kind of a file that starts with `start` (up to [`SNIFF_BYTES`]
    /// of it, fewer if the file is shorter).
    pub fn of(start: &[u8]) -> Kind {
        let old_stata = matches!(start, [114..=119, 1 | 2, 1, 0, ..]);
        if start.is_empty() {
            Kind::Empty
        } else if start.starts_with(&GZIP_MAGIC) {
            Kind::Gzip
        } else if start.starts_with(b"ARROW1") {
            Kind::ArrowFile
        } else if start.starts_with(&[0xff; 4]) {
            Kind::ArrowStream
        } else if start.starts_with(b"FEA1") {
            Kind::FeatherV1
        } else if start.starts_with(b"PAR1") {
            Kind::Parquet
        } else if old_stata || start.starts_with(b"<stata_dta>") {
            Kind::Stata
        } else if is_text(start) {
            Kind::Text
        } else {
            Kind::Unknown
        }
    }

    /// What the file looks like, for an error message ("it looks like ...").
    pub fn describe(self) -> &'static str {
        match self {
            Kind::Empty => "an empty file",
            Kind::Gzip => "gzip-compressed data",
            Kind::ArrowFile => "an Arrow IPC (Feather) file",
            Kind::ArrowStream => "an Arrow IPC stream",
            Kind::FeatherV1 => "a Feather version 1 file",
            Kind::Parquet => "a Parquet file",
            Kind::Stata => "a Stata .dta file",
            Kind::Text => "text (CSV?)",
            Kind::Unknown => "none of the formats cohortkit reads",
        }
    }

    /// The file-name ending a file of this kind should have, where one
    /// names it.
    pub fn extension(self) -> Option<&'static str> {
        match self {
            Kind::Gzip => Some(".csv.gz or .dta.gz"),
            Kind::ArrowFile | Kind::ArrowStream => Some(".arrow or .feather"),
            Kind::Parquet => Some(".parquet"),
            Kind::Stata => Some(".dta"),
            Kind::Text => Some(".csv"),
            Kind::Empty | Kind::FeatherV1 | Kind::Unknown => None,
        }
    }

    /// "it looks like X" and, where X has a name ending cohortkit reads,
    /// the advice to name the file so.
    pub fn looks_like(self) -> String {
        match self.extension() {
            Some(extension) => format!(
                "it looks like {}; if it is, give it a name ending in {extension}",
                self.describe()
            ),
            None => format!("it looks like {}", self.describe()),
        }
    }
}

/// Whether `start` is text: valid UTF-8 (but for a character cut off at
/// the end) with no control characters other than tab, CR and LF.
fn is_text(start: &[u8]) -> bool {
    let valid = match std::str::from_utf8(start) {
        Ok(text) => text,
        // A multi-byte character cut off by the end of the sample.
        Err(e) if e.error_len().is_none() => {
            std::str::from_utf8(&start[..e.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return false,
    };
    valid
        .chars()
        .all(|c| !c.is_control() || matches!(c, '\t' | '\r' | '\n'))
}

/// The first [`SNIFF_BYTES`] of a file (fewer if it is shorter).
pub fn start_of(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut start = Vec::with_capacity(SNIFF_BYTES);
    std::fs::File::open(path)?
        .take(SNIFF_BYTES as u64)
        .read_to_end(&mut start)?;
    Ok(start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_come_from_the_first_bytes() {
        let cases: [(&[u8], Kind); 11] = [
            (b"", Kind::Empty),
            (b"\x1f\x8b\x08\x00", Kind::Gzip),
            (b"ARROW1\0\0\xff\xff", Kind::ArrowFile),
            (b"\xff\xff\xff\xff\x10\x01\0\0", Kind::ArrowStream),
            (b"FEA1\0\0\0\0", Kind::FeatherV1),
            (b"PAR1\x15\x04", Kind::Parquet),
            (b"<stata_dta><header>", Kind::Stata),
            (b"\x72\x02\x01\x00\x05\x00", Kind::Stata),
            (b"patient_id,age\r\n1,\"caf\xc3\xa9\"\n", Kind::Text),
            (b"patient_id,name\n1,\xc3", Kind::Text),
            (b"patient_id\0\x01\x02", Kind::Unknown),
        ];
        for (start, kind) in cases {
            assert_eq!(Kind::of(start), kind, "{start:?}");
        }
        assert!(!is_text(b"a,b\n\xff\xfe"));
    }

    #[test]
    fn advice_names_the_ending_to_use() {
        assert_eq!(
            Kind::Parquet.looks_like(),
            "it looks like a Parquet file; if it is, give it a name ending in .parquet"
        );
        assert_eq!(Kind::Empty.looks_like(), "it looks like an empty file");
    }
}
