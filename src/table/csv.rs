//! Streaming CSV records over (de)compression, and CSV field encoding.
//!
//! Fields are read as raw bytes and never parsed, so whatever is written
//! back is byte-identical to what was read.

use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};

use csv::ByteRecord;

use super::error::TableError;
use super::quotes::Scanned;
use super::text::display_text;
use super::{Format, gzip};

/// A CSV file opened for streaming, its header already read.
pub struct CsvSource {
    path: PathBuf,
    gzip: bool,
    reader: csv::Reader<Scanned<Box<dyn BufRead + Send>>>,
    header: ByteRecord,
    crlf: bool,
    line: u64,
}

impl CsvSource {
    /// Opens `path` (plain or gzip per `format`) and reads its header row.
    pub fn open(path: &Path, format: Format) -> Result<CsvSource, TableError> {
        let gzip = format.is_gzip();
        let mut input = gzip::open(path, gzip).map_err(|e| TableError::io(path, false, e))?;
        let start = input
            .fill_buf()
            .map_err(|e| TableError::io(path, gzip, e))?;
        check_encoding(path, start)?;
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .buffer_capacity(1 << 18)
            .from_reader(Scanned::new(input));
        let mut source = CsvSource {
            path: path.to_path_buf(),
            gzip,
            reader,
            header: ByteRecord::new(),
            crlf: false,
            line: 0,
        };
        let mut header = ByteRecord::new();
        if !source.read_raw(&mut header)? {
            return Err(TableError::NoHeader { path: source.path });
        }
        source.header = header;
        // The reader has read past the header's line break, wherever it is.
        source.crlf = source.scanner().first_line_crlf().unwrap_or(false);
        Ok(source)
    }

    fn scanner(&self) -> &super::quotes::QuoteScanner {
        self.reader.get_ref().scanner()
    }

    /// The file being read.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The header row's fields, as bytes.
    pub fn header(&self) -> &ByteRecord {
        &self.header
    }

    /// The header's column names as text; an error names a column whose
    /// name is not UTF-8 (use [`CsvSource::header`] to keep its bytes).
    pub fn utf8_names(&self) -> Result<Vec<String>, TableError> {
        self.header
            .iter()
            .enumerate()
            .map(|(i, name)| {
                String::from_utf8(name.to_vec()).map_err(|_| {
                    TableError::invalid(
                        &self.path,
                        Some(1),
                        format!(
                            "the name of column {} (\"{}\") is not UTF-8 text (Latin-1?); \
                             convert the file to UTF-8 (e.g. iconv -f latin1 -t utf-8)",
                            i + 1,
                            display_text(name)
                        ),
                    )
                })
            })
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
    /// A record whose field count differs from the header's is an error,
    /// and so is a quote never closed before the end of the file.
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
                // At the end the whole input has passed the scanner.
                if self.scanner().in_quotes() && self.reader.is_done() {
                    return Err(self.unclosed_quote());
                }
                Ok(more)
            }
            Err(error) => Err(self.convert_error(error)),
        }
    }

    fn unclosed_quote(&self) -> TableError {
        unclosed_quote(&self.path, self.gzip, self.scanner().opened_at())
    }

    fn convert_error(&self, error: csv::Error) -> TableError {
        let line = error.position().map(|p| p.line());
        match error.into_kind() {
            csv::ErrorKind::Io(io) => TableError::io(&self.path, self.gzip, io),
            other => TableError::invalid(&self.path, line, format!("{other:?}")),
        }
    }
}

/// The error for a quote opened at byte `offset` of the text and never
/// closed, with the line where it opened.
pub fn unclosed_quote(path: &Path, gzip: bool, offset: u64) -> TableError {
    TableError::invalid(
        path,
        line_of_offset(path, gzip, offset).ok(),
        "a quote opens a field here and is never closed, so the rest of the file would be \
         read as one field (pandas: \"EOF inside string\"); close the quote, or double a \
         quote that is part of the text (\"\")",
    )
}

/// Refuses text that is not UTF-8 or ASCII at its start: a UTF-16 or
/// UTF-32 byte-order mark (Excel's "Unicode text", PowerShell output), whose
/// NUL bytes would otherwise garble every name.
pub fn check_encoding(path: &Path, start: &[u8]) -> Result<(), TableError> {
    let encoding = if start.starts_with(b"\xFF\xFE\0\0") || start.starts_with(b"\0\0\xFE\xFF") {
        "UTF-32"
    } else if start.starts_with(b"\xFF\xFE") || start.starts_with(b"\xFE\xFF") {
        "UTF-16"
    } else {
        return Ok(());
    };
    Err(TableError::invalid(
        path,
        Some(1),
        format!(
            "the file is {encoding} text (it starts with a {encoding} byte-order mark); cohort \
             files are UTF-8: convert it (e.g. iconv -f {encoding} -t UTF-8, or save as \"CSV \
             UTF-8\")"
        ),
    ))
}

/// The 1-based line on which byte `offset` of the (uncompressed) text
/// lies: the file is read again, only to word an error.
pub fn line_of_offset(path: &Path, gzip: bool, offset: u64) -> std::io::Result<u64> {
    let mut input = gzip::open(path, gzip)?.take(offset);
    let mut buffer = vec![0; 1 << 16];
    let mut lines = 1;
    loop {
        let n = input.read(&mut buffer)?;
        if n == 0 {
            return Ok(lines);
        }
        lines += memchr::memchr_iter(b'\n', &buffer[..n]).count() as u64;
    }
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
