//! Streaming CSV records over (de)compression, and CSV field encoding.
//!
//! Fields are read as raw bytes and never parsed, so whatever is written
//! back is byte-identical to what was read.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use csv::ByteRecord;

use super::error::TableError;
use super::{Format, gzip};

/// A CSV file opened for streaming, its header already read.
pub struct CsvSource {
    path: PathBuf,
    gzip: bool,
    reader: csv::Reader<Box<dyn BufRead + Send>>,
    header: ByteRecord,
    crlf: bool,
    line: u64,
}

impl CsvSource {
    /// Opens `path` (plain or gzip per `format`) and reads its header row.
    pub fn open(path: &Path, format: Format) -> Result<CsvSource, TableError> {
        let gzip = format.is_gzip();
        let mut input = gzip::open(path, gzip).map_err(|e| TableError::io(path, false, e))?;
        let crlf =
            first_line_ends_in_crlf(&mut input).map_err(|e| TableError::io(path, gzip, e))?;
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .buffer_capacity(1 << 18)
            .from_reader(input);
        let mut source = CsvSource {
            path: path.to_path_buf(),
            gzip,
            reader,
            header: ByteRecord::new(),
            crlf,
            line: 0,
        };
        let mut header = ByteRecord::new();
        if !source.read_raw(&mut header)? {
            return Err(TableError::NoHeader { path: source.path });
        }
        source.header = header;
        Ok(source)
    }

    /// The file being read.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The header row's fields.
    pub fn header(&self) -> &ByteRecord {
        &self.header
    }

    /// The header's column names as text (invalid UTF-8 replaced).
    pub fn column_names(&self) -> Vec<String> {
        self.header
            .iter()
            .map(|f| String::from_utf8_lossy(f).into_owned())
            .collect()
    }

    /// Whether the file's first line ends in `\r\n`.
    pub fn crlf(&self) -> bool {
        self.crlf
    }

    /// The line on which the last record read starts (1-based).
    pub fn line(&self) -> u64 {
        self.line
    }

    /// Reads the next record into `record`; false at the end of the file.
    /// A record whose field count differs from the header's is an error.
    pub fn read_record(&mut self, record: &mut ByteRecord) -> Result<bool, TableError> {
        if !self.read_raw(record)? {
            return Ok(false);
        }
        if record.len() != self.header.len() {
            return Err(TableError::FieldCount {
                path: self.path.clone(),
                line: self.line,
                expected: self.header.len(),
                found: record.len(),
            });
        }
        Ok(true)
    }

    fn read_raw(&mut self, record: &mut ByteRecord) -> Result<bool, TableError> {
        match self.reader.read_byte_record(record) {
            Ok(more) => {
                if let Some(pos) = record.position() {
                    // The csv crate stops a record at the `\r` of `\r\n` and
                    // counts its `\n` only when the next record has started,
                    // so in CRLF files every record after the first is
                    // reported one line early.
                    let late_newline = self.crlf && pos.byte() > 0;
                    self.line = pos.line() + u64::from(late_newline);
                }
                Ok(more)
            }
            Err(error) => Err(self.convert_error(error)),
        }
    }

    fn convert_error(&self, error: csv::Error) -> TableError {
        let line = error.position().map(|p| p.line());
        match error.into_kind() {
            csv::ErrorKind::Io(io) => TableError::io(&self.path, self.gzip, io),
            other => TableError::invalid(&self.path, line, format!("{other:?}")),
        }
    }
}

fn first_line_ends_in_crlf(input: &mut Box<dyn BufRead + Send>) -> std::io::Result<bool> {
    let buffer = input.fill_buf()?;
    Ok(match memchr::memchr(b'\n', buffer) {
        Some(i) => i > 0 && buffer[i - 1] == b'\r',
        None => false,
    })
}

/// The line terminator to write for a file whose lines end in `\r\n` or not.
pub fn terminator(crlf: bool) -> &'static [u8] {
    if crlf { b"\r\n" } else { b"\n" }
}

/// Appends one field, quoted only when it must be (it holds a comma, a
/// quote or a line break), with quotes doubled, as Python's csv module does.
pub fn write_field(out: &mut Vec<u8>, field: &[u8]) {
    let needs_quotes = memchr::memchr3(b',', b'"', b'\n', field).is_some()
        || memchr::memchr(b'\r', field).is_some();
    if !needs_quotes {
        out.extend_from_slice(field);
        return;
    }
    out.push(b'"');
    for &byte in field {
        if byte == b'"' {
            out.push(b'"');
        }
        out.push(byte);
    }
    out.push(b'"');
}

/// Appends a whole record and its terminator. A record of one empty field is
/// written `""` so that it does not read back as a blank line.
pub fn write_record<'a>(out: &mut Vec<u8>, fields: impl IntoIterator<Item = &'a [u8]>, crlf: bool) {
    let start = out.len();
    for (i, field) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_field(out, field);
    }
    if out.len() == start {
        out.extend_from_slice(b"\"\"");
    }
    out.extend_from_slice(terminator(crlf));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_only_when_needed() {
        let mut out = Vec::new();
        write_record(
            &mut out,
            [&b"a"[..], b"b,c", b"say \"hi\"", b"", b"x\ny"],
            false,
        );
        assert_eq!(out, b"a,\"b,c\",\"say \"\"hi\"\"\",,\"x\ny\"\n");
        out.clear();
        write_record(&mut out, [&b""[..]], true);
        assert_eq!(out, b"\"\"\r\n");
    }

    #[test]
    fn records_report_their_line_and_field_count() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.csv");
        std::fs::write(&path, "a,b\r\n1,2\r\n\"x\ny\",3\r\n4\r\n").unwrap();
        let mut source = CsvSource::open(&path, Format::Csv).unwrap();
        assert!(source.crlf());
        let mut record = ByteRecord::new();
        assert!(source.read_record(&mut record).unwrap());
        assert_eq!(source.line(), 2);
        assert!(source.read_record(&mut record).unwrap());
        assert_eq!(&record[0], b"x\ny");
        let error = source.read_record(&mut record).unwrap_err().to_string();
        assert!(
            error.contains("line 5: expected 2 fields (as in the header), found 1"),
            "{error}"
        );
    }

    #[test]
    fn an_empty_file_has_no_header() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.csv");
        std::fs::write(&path, "").unwrap();
        let error = CsvSource::open(&path, Format::Csv)
            .err()
            .unwrap()
            .to_string();
        assert!(error.contains("the file is empty"), "{error}");
    }
}
