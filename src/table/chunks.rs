//! CSV text as chunks of whole records, for tools that read a file once at
//! the speed of its decompression (the report scans chunks in parallel, the
//! join streams them in order).
//!
//! A [`Chunker`] follows the text's quotes with a [`QuoteScanner`], so a cut
//! never falls inside a quoted field, and a quote never closed is an error.
//! A chunk without a quote (the common case for cohort files) can be walked
//! with [`unquoted_records`], far faster than a CSV parser; a chunk with one
//! is parsed with the csv crate, on its own, since it starts at a record.

use std::cell::Cell;
use std::io::{BufRead, Read};
use std::ops::Range;
use std::path::Path;
use std::sync::mpsc::{Receiver, Sender, channel, sync_channel};
use std::thread::Scope;

use csv::ByteRecord;

use super::csv::{check_encoding, line_of_offset, unclosed_quote};
use super::quotes::QuoteScanner;
use super::separators::separators;
use super::{Format, TableError, buffers, gzip, gzip_members};

/// Uncompressed bytes per chunk.
pub const CHUNK: usize = 2 << 20;

/// A run of whole records and where it starts in the uncompressed text.
#[derive(Debug)]
pub struct Chunk {
    /// The offset of its first byte in the text.
    pub offset: u64,
    /// The records, with their line breaks.
    pub bytes: Vec<u8>,
    /// Whether the text holds a quote (and needs the full CSV parser).
    pub quoted: bool,
}

/// Why the text could not be cut into chunks.
#[derive(Debug)]
pub enum ChunkError {
    /// Reading (or decompressing) failed.
    Io(std::io::Error),
    /// A quote opened at byte `offset` of the text is never closed.
    UnclosedQuote {
        /// Where the quote is.
        offset: u64,
    },
}

/// Cuts a stream of CSV text into chunks that end at record boundaries.
///
/// Chunks' buffers come back through [`Chunker::recycler`] once used and
/// are read into again: their memory is already mapped and initialized,
/// so a chunk costs no allocation, page faults or zeroing.
pub struct Chunker<R> {
    input: R,
    scanner: QuoteScanner,
    /// The start of a record cut off at the end of the last chunk.
    leftover: Vec<u8>,
    offset: u64,
    done: bool,
    spare: Receiver<Vec<u8>>,
    recycle: Sender<Vec<u8>>,
}

impl<R: Read> Chunker<R> {
    /// Cuts the text read from `input`.
    pub fn new(input: R) -> Self {
        let (recycle, spare) = channel();
        Chunker {
            input,
            scanner: QuoteScanner::default(),
            leftover: Vec::new(),
            offset: 0,
            done: false,
            spare,
            recycle,
        }
    }

    /// Where to send a chunk's bytes once they have been used.
    pub fn recycler(&self) -> Sender<Vec<u8>> {
        self.recycle.clone()
    }

    /// The end of the first line (the header), once it has been read.
    pub fn header_end(&self) -> Option<usize> {
        self.scanner.first_line_end().map(|end| end as usize)
    }

    /// Whether the first line ends in `\r\n`, once it has been read.
    pub fn first_line_crlf(&self) -> Option<bool> {
        self.scanner.first_line_crlf()
    }

    /// The next chunk; `None` at the end of the text.
    pub fn next_chunk(&mut self) -> Result<Option<Chunk>, ChunkError> {
        let mut buffer = self
            .spare
            .try_recv()
            .unwrap_or_else(|_| buffers::take(CHUNK));
        let mut want = CHUNK.max(self.leftover.len());
        if buffer.len() < want {
            // Zeroes only what was never initialized.
            buffer.resize(want, 0);
        }
        let mut filled = self.leftover.len();
        buffer[..filled].copy_from_slice(&self.leftover);
        self.leftover.clear();
        loop {
            while !self.done && filled < want {
                match self.input.read(&mut buffer[filled..want]) {
                    Ok(0) => self.done = true,
                    Ok(n) => {
                        self.scanner.feed(&buffer[filled..filled + n]);
                        filled += n;
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(ChunkError::Io(e)),
                }
            }
            if self.done {
                if self.scanner.in_quotes() {
                    return Err(ChunkError::UnclosedQuote {
                        offset: self.scanner.opened_at(),
                    });
                }
                if filled == 0 {
                    return Ok(None);
                }
                buffer.truncate(filled);
                return Ok(Some(self.emit(buffer)));
            }
            let end = self
                .scanner
                .record_end()
                .and_then(|end| end.checked_sub(self.offset))
                .filter(|&end| end > 0);
            if let Some(end) = end {
                let end = end as usize;
                self.leftover.extend_from_slice(&buffer[end..filled]);
                buffer.truncate(end);
                return Ok(Some(self.emit(buffer)));
            }
            // One record longer than a chunk: read more.
            want *= 2;
            buffer.resize(want, 0);
        }
    }

    fn emit(&mut self, bytes: Vec<u8>) -> Chunk {
        let chunk = Chunk {
            offset: self.offset,
            quoted: memchr::memchr(b'"', &bytes).is_some(),
            bytes,
        };
        self.offset += chunk.bytes.len() as u64;
        chunk
    }
}

/// The chunks' buffers go to the next file's reader.
impl<R> Drop for Chunker<R> {
    fn drop(&mut self) {
        buffers::give(std::mem::take(&mut self.leftover));
        self.spare.try_iter().for_each(buffers::give);
    }
}

impl<R: Read + Send> Chunker<R> {
    /// Reads on a thread of `scope`: sends `first`, then each following
    /// chunk in order (or the error that stopped the reading) through a
    /// channel holding up to `depth` chunks. The thread stops when the
    /// receiver is dropped.
    pub fn send_from<'scope>(
        mut self,
        scope: &'scope Scope<'scope, '_>,
        first: Chunk,
        depth: usize,
    ) -> Receiver<Result<Chunk, ChunkError>>
    where
        R: 'scope,
    {
        let (sender, receiver) = sync_channel(depth);
        scope.spawn(move || {
            let mut next = Some(first);
            while let Some(chunk) = next {
                if sender.send(Ok(chunk)).is_err() {
                    return;
                }
                next = match self.next_chunk() {
                    Ok(next) => next,
                    Err(e) => {
                        let _ = sender.send(Err(e));
                        None
                    }
                };
            }
        });
        receiver
    }
}

/// A CSV file opened for reading in chunks, its header read.
pub struct ChunkedCsv {
    /// The rest of the file.
    pub chunker: Chunker<Box<dyn BufRead + Send>>,
    /// The header's fields (a UTF-8 byte-order mark dropped, as pandas does).
    pub header: ByteRecord,
    /// The records in the first chunk after the header (maybe none).
    pub first: Chunk,
    /// Whether the header ends in `\r\n`.
    pub crlf: bool,
}

impl ChunkedCsv {
    /// Opens `path` (plain or gzip per `format`, gzip members inflated on
    /// up to `threads` threads) and reads its header.
    pub fn open(path: &Path, format: Format, threads: usize) -> Result<ChunkedCsv, TableError> {
        let gzip = format.is_gzip();
        let input = if gzip {
            gzip_members::open(path, threads)
        } else {
            gzip::open(path, false)
        };
        let mut chunker = Chunker::new(input.map_err(|e| TableError::io(path, gzip, e))?);
        let mut first = chunker
            .next_chunk()
            .map_err(|e| e.into_table_error(path, gzip))?
            .ok_or_else(|| TableError::NoHeader {
                path: path.to_path_buf(),
            })?;
        check_encoding(path, &first.bytes)?;
        let header_end = chunker.header_end().unwrap_or(first.bytes.len());
        let header = header(&first.bytes[..header_end])
            .map_err(|e| TableError::invalid(path, Some(1), e))?;
        first.bytes.drain(..header_end);
        first.offset += header_end as u64;
        first.quoted = memchr::memchr(b'"', &first.bytes).is_some();
        let crlf = chunker.first_line_crlf().unwrap_or(false);
        Ok(ChunkedCsv {
            chunker,
            header,
            first,
            crlf,
        })
    }

    /// Hands every chunk of the file `path` (as opened, `gzip` or not) to
    /// `each`, in order, while a thread reads up to `depth` chunks ahead;
    /// each chunk's buffer is then read into again. Stops at the first
    /// error, reading's or `each`'s.
    pub fn for_each_chunk(
        self,
        path: &Path,
        gzip: bool,
        depth: usize,
        mut each: impl FnMut(&Chunk) -> Result<(), TableError>,
    ) -> Result<(), TableError> {
        let recycle = self.chunker.recycler();
        std::thread::scope(|scope| {
            for chunk in self.chunker.send_from(scope, self.first, depth) {
                let chunk = chunk.map_err(|e| e.into_table_error(path, gzip))?;
                each(&chunk)?;
                // The reader may have stopped on an error; then it is dropped.
                let _ = recycle.send(chunk.bytes);
            }
            Ok(())
        })
    }
}

/// The header's fields; a UTF-8 byte-order mark is dropped.
fn header(bytes: &[u8]) -> Result<ByteRecord, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut record = ByteRecord::new();
    reader
        .read_byte_record(&mut record)
        .map_err(|e| e.to_string())?;
    Ok(record)
}

impl ChunkError {
    /// The error for file `path`, with the line of a quote left open.
    pub fn into_table_error(self, path: &Path, gzip: bool) -> TableError {
        match self {
            ChunkError::Io(e) => TableError::io(path, gzip, e),
            ChunkError::UnclosedQuote { offset } => unclosed_quote(path, gzip, offset),
        }
    }
}

/// The line on which the record at byte `offset` of the text of `path`
/// starts (0 if the file cannot be read again): the file is read again,
/// only to word an error. The csv crate places a record that follows
/// `\r\n` on that `\n`, so a line break at `offset` itself counts as
/// before the record.
pub fn line_at(path: &Path, gzip: bool, offset: u64) -> u64 {
    line_of_offset(path, gzip, offset + 1).unwrap_or(0)
}

/// The error for a record at byte `offset` of the text of `path` with
/// `found` fields where the header has `expected`, with its line.
fn field_count_error(
    path: &Path,
    gzip: bool,
    offset: u64,
    expected: usize,
    found: usize,
) -> TableError {
    TableError::FieldCount {
        path: path.to_path_buf(),
        line: line_at(path, gzip, offset),
        expected,
        found,
    }
}

/// Why the records of a chunk could not be walked.
#[derive(Debug, PartialEq, Eq)]
pub enum RecordFault {
    /// A record with the wrong number of fields.
    Fields(FieldCount),
    /// The csv crate refused the text.
    Csv(String),
}

impl RecordFault {
    /// The error for a chunk starting at byte `offset` of the text of
    /// `path`, whose header has `width` fields.
    pub fn into_table_error(
        self,
        path: &Path,
        gzip: bool,
        offset: u64,
        width: usize,
    ) -> TableError {
        match self {
            RecordFault::Fields(FieldCount { start, found }) => {
                field_count_error(path, gzip, offset + start as u64, width, found)
            }
            RecordFault::Csv(message) => TableError::invalid(path, None, message),
        }
    }
}

/// Walks the records of a chunk with quotes, parsed by the csv crate: for
/// each record of `width` fields, `each` gets it and where it starts in
/// the chunk; a record of another width stops the walk. Returns how many
/// records there were.
pub fn quoted_records(
    bytes: &[u8],
    width: usize,
    mut each: impl FnMut(&ByteRecord, usize),
) -> Result<u64, RecordFault> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut record = ByteRecord::new();
    let mut rows = 0;
    while reader
        .read_byte_record(&mut record)
        .map_err(|e| RecordFault::Csv(e.to_string()))?
    {
        let start = record.position().map_or(0, |p| p.byte() as usize);
        if record.len() != width {
            return Err(RecordFault::Fields(FieldCount {
                start,
                found: record.len(),
            }));
        }
        each(&record, start);
        rows += 1;
    }
    Ok(rows)
}

/// A record of a chunk with the wrong number of fields.
#[derive(Debug, PartialEq, Eq)]
pub struct FieldCount {
    /// Where the record starts in the chunk.
    pub start: usize,
    /// How many fields it has.
    pub found: usize,
}

/// Walks the fields of text without quotes, as the csv crate and pandas
/// read it: fields end at commas, records at `\n`, `\r\n` or `\r`, blank
/// lines are skipped, and the text ends as if with a line break. `field`
/// gets each of a record's first `width` fields (its index in the record
/// and its span in `bytes`), and `record` then gets the record's span
/// (without the line break) if it has `width` fields; a record of another
/// width stops the walk. Returns how many records there were.
#[inline]
pub fn unquoted_fields(
    bytes: &[u8],
    width: usize,
    mut field: impl FnMut(usize, Range<usize>),
    mut record: impl FnMut(Range<usize>),
) -> Result<u64, RecordFault> {
    let mut rows = 0;
    let mut index = 0;
    let mut start = 0;
    let mut from = 0;
    for i in separators(bytes).chain([bytes.len()]) {
        let comma = bytes.get(i) == Some(&b',');
        // One branch, on what is nearly always true: a field ends here
        // unless this is a blank line. Whether the field is empty is no
        // branch at all (which, in columns of random flags, would be
        // mispredicted half the time).
        if comma | (index > 0) | (i > from) {
            if index < width {
                field(index, from..i);
            }
            if comma {
                index += 1;
            } else {
                if index + 1 != width {
                    return Err(RecordFault::Fields(FieldCount {
                        start,
                        found: index + 1,
                    }));
                }
                record(start..i);
                rows += 1;
                index = 0;
            }
        }
        if !comma {
            start = i + 1;
        }
        from = i + 1;
    }
    Ok(rows)
}

/// Walks the records of text without quotes as [`unquoted_fields`] does:
/// for each record of `width` fields, `each` gets its bytes (without the
/// line break) and the span of field `key` in them.
pub fn unquoted_records(
    bytes: &[u8],
    width: usize,
    key: usize,
    mut each: impl FnMut(&[u8], Range<usize>),
) -> Result<u64, RecordFault> {
    let key_span = Cell::new((0, 0));
    unquoted_fields(
        bytes,
        width,
        |index, span| {
            if index == key {
                key_span.set((span.start, span.end));
            }
        },
        |record| {
            let (from, to) = key_span.get();
            each(
                &bytes[record.clone()],
                from - record.start..to - record.start,
            );
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_end_at_record_boundaries_outside_quotes() {
        let text = b"a,b\n1,\"x\ny\"\n2,3\n4,5";
        let mut chunker = Chunker::new(&text[..]);
        let chunk = chunker.next_chunk().unwrap().unwrap();
        assert_eq!(chunk.bytes, text);
        assert!(chunk.quoted);
        assert_eq!(chunker.header_end(), Some(4));
        assert!(chunker.next_chunk().unwrap().is_none());
        let unclosed = b"a,b\n1,\"x\n2,3\n";
        let error = Chunker::new(&unclosed[..]).next_chunk().unwrap_err();
        assert!(
            matches!(error, ChunkError::UnclosedQuote { offset: 6 }),
            "{error:?}"
        );
    }

    #[test]
    fn long_texts_are_cut_at_line_breaks_and_lose_nothing() {
        let text: Vec<u8> = (0..400_000)
            .flat_map(|i| format!("{i},{}\n", i * 7).into_bytes())
            .collect();
        let mut chunker = Chunker::new(&text[..]);
        let mut whole = Vec::new();
        let mut chunks = 0;
        while let Some(chunk) = chunker.next_chunk().unwrap() {
            assert_eq!(chunk.offset as usize, whole.len());
            assert!(chunk.bytes.ends_with(b"\n"));
            assert!(!chunk.quoted);
            whole.extend_from_slice(&chunk.bytes);
            chunks += 1;
        }
        assert_eq!(whole, text);
        assert!(chunks > 1, "{chunks}");
    }

    fn records(
        text: &[u8],
        width: usize,
        key: usize,
    ) -> Result<Vec<(String, String)>, RecordFault> {
        let mut seen = Vec::new();
        unquoted_records(text, width, key, |record, key| {
            seen.push((
                String::from_utf8_lossy(record).into_owned(),
                String::from_utf8_lossy(&record[key]).into_owned(),
            ))
        })?;
        Ok(seen)
    }

    #[test]
    fn unquoted_records_end_at_any_line_break_and_skip_blank_lines() {
        let text = b"1,a,x\r\n\n2,,y\r3,c,\n\n4,d,z";
        assert_eq!(
            records(text, 3, 1).unwrap(),
            [
                ("1,a,x".into(), "a".into()),
                ("2,,y".into(), "".into()),
                ("3,c,".into(), "c".into()),
                ("4,d,z".into(), "d".into()),
            ]
        );
        let keys: Vec<_> = records(text, 3, 2)
            .unwrap()
            .into_iter()
            .map(|r| r.1)
            .collect();
        assert_eq!(keys, ["x", "y", "", "z"]);
        assert_eq!(records(b"7\n", 1, 0).unwrap(), [("7".into(), "7".into())]);
    }

    #[test]
    fn an_unquoted_record_of_another_width_is_where_it_starts() {
        let text = b"1,a\n2,b\n3\n4,d\n";
        assert_eq!(
            records(text, 2, 0).unwrap_err(),
            RecordFault::Fields(FieldCount { start: 8, found: 1 })
        );
        assert_eq!(
            records(b"1,a,b\n", 2, 0).unwrap_err(),
            RecordFault::Fields(FieldCount { start: 0, found: 3 })
        );
    }

    #[test]
    fn unquoted_records_agree_with_the_csv_crate() {
        use proptest::prelude::*;
        let field = "[a-z0-9 ]{0,3}";
        let line = prop::collection::vec(field, 3..=3).prop_map(|f| f.join(","));
        let breaks = prop::sample::select(vec!["\n", "\r\n", "\r", "\n\n"]);
        let text = prop::collection::vec((line, breaks), 0..30).prop_map(|lines| {
            lines
                .into_iter()
                .map(|(line, end)| line + end)
                .collect::<String>()
        });
        proptest!(|(text in text, key in 0usize..3)| {
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .from_reader(text.as_bytes());
            let expected: Vec<(String, String)> = reader
                .byte_records()
                .map(|r| {
                    let r = r.unwrap();
                    let fields: Vec<&[u8]> = r.iter().collect();
                    (
                        String::from_utf8_lossy(&fields.join(&b","[..])).into_owned(),
                        String::from_utf8_lossy(fields[key]).into_owned(),
                    )
                })
                .collect();
            prop_assert_eq!(records(text.as_bytes(), 3, key).unwrap(), expected);
            // Field by field, as the report reads them.
            let mut fields = Vec::new();
            unquoted_fields(text.as_bytes(), 3, |i, span| fields.push((i, text[span].to_owned())), |_| {}).unwrap();
            let expected: Vec<(usize, String)> = csv::ReaderBuilder::new()
                .has_headers(false)
                .from_reader(text.as_bytes())
                .records()
                .flat_map(|r| r.unwrap().iter().map(str::to_owned).enumerate().collect::<Vec<_>>())
                .collect();
            prop_assert_eq!(fields, expected);
        });
    }
}
