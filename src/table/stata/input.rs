//! The bytes of a `.dta` file being read front to back: plain or gzip, with
//! the position kept so that errors can say where the file went wrong.

use std::fs::File;
use std::io::{self, BufRead, Read};
use std::path::Path;

use super::types::uint;
use crate::table::sniff::GZIP_MAGIC;
use crate::table::{TableError, gzip};

/// The most [`DtaReader::bytes`] allocates before the bytes have arrived.
const PREALLOCATE: usize = 1 << 16;

/// A `.dta` file open for reading.
pub struct DtaReader<'a> {
    reader: Box<dyn BufRead + Send>,
    path: &'a Path,
    gzip: bool,
    /// Whether numbers are stored most significant byte first.
    pub big_endian: bool,
    offset: u64,
}

impl<'a> DtaReader<'a> {
    /// Opens `path`, decompressing it when `gzip` is set and the file is
    /// gzip data: some cohortextractor versions wrote `.dta.gz` files
    /// uncompressed, and those are read as they are. A `.dta` that is gzip
    /// data is an error saying so.
    pub fn open(path: &'a Path, gzip: bool) -> Result<DtaReader<'a>, TableError> {
        let io = |e| TableError::io(path, false, e);
        let mut magic = [0; 2];
        let got = File::open(path)
            .and_then(|f| f.take(2).read(&mut magic))
            .map_err(io)?;
        let gzip = gzip && got == 2 && magic == GZIP_MAGIC;
        Ok(DtaReader {
            reader: gzip::open(path, gzip).map_err(io)?,
            path,
            gzip,
            big_endian: false,
            offset: 0,
        })
    }

    /// Whether the file is being decompressed.
    pub fn is_gzip(&self) -> bool {
        self.gzip
    }

    /// An error about this file's content.
    pub fn error(&self, message: impl Into<String>) -> TableError {
        TableError::invalid(self.path, None, message)
    }

    /// The error for a read that failed; `within` names the part of the
    /// file being read, for when it ended early.
    fn read_error(&self, error: io::Error, within: &str) -> TableError {
        if error.kind() == io::ErrorKind::UnexpectedEof {
            self.truncated(within)
        } else {
            TableError::io(self.path, self.gzip, error)
        }
    }

    /// The error for a file that ends inside `within`.
    pub fn truncated(&self, within: &str) -> TableError {
        self.error(format!(
            "truncated: the file ends inside {within} (after {} bytes{}); re-create or re-copy it",
            self.offset,
            if self.gzip { " uncompressed" } else { "" },
        ))
    }

    /// Reads as many bytes as `buf` holds. Returns how many it got, which
    /// is fewer only at the end of the file.
    pub fn read_up_to(&mut self, buf: &mut [u8], within: &str) -> Result<usize, TableError> {
        let mut got = 0;
        while got < buf.len() {
            match self.reader.read(&mut buf[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.offset += got as u64;
                    return Err(self.read_error(e, within));
                }
            }
        }
        self.offset += got as u64;
        Ok(got)
    }

    /// Fills `buf`, or fails naming `within` when the file ends first.
    pub fn fill(&mut self, buf: &mut [u8], within: &str) -> Result<(), TableError> {
        self.reader
            .read_exact(buf)
            .map_err(|e| self.read_error(e, within))?;
        self.offset += buf.len() as u64;
        Ok(())
    }

    /// The next `n` bytes. The buffer grows as they arrive: a length the
    /// file does not hold is a truncated file, not an allocation of
    /// whatever size the file claims.
    pub fn bytes(&mut self, n: usize, within: &str) -> Result<Vec<u8>, TableError> {
        let mut buf = Vec::with_capacity(n.min(PREALLOCATE));
        let read = (&mut self.reader).take(n as u64).read_to_end(&mut buf);
        self.offset += buf.len() as u64;
        match read {
            Err(e) => Err(self.read_error(e, within)),
            Ok(got) if got < n => Err(self.truncated(within)),
            Ok(_) => Ok(buf),
        }
    }

    /// An unsigned integer of `n` bytes (at most 8) in the file's byte order.
    pub fn uint(&mut self, n: usize, within: &str) -> Result<u64, TableError> {
        let mut buf = [0; 8];
        self.fill(&mut buf[..n], within)?;
        Ok(uint(&buf[..n], self.big_endian))
    }

    /// Skips `n` bytes.
    pub fn skip(&mut self, n: u64, within: &str) -> Result<(), TableError> {
        let copied = io::copy(&mut (&mut self.reader).take(n), &mut io::sink())
            .map_err(|e| self.read_error(e, within))?;
        self.offset += copied;
        if copied < n {
            return Err(self.truncated(within));
        }
        Ok(())
    }

    /// Reads `tag`, failing when the file holds anything else there.
    pub fn expect(&mut self, tag: &str) -> Result<(), TableError> {
        let at = self.offset;
        let found = self.bytes(tag.len(), &format!("the tag {tag}"))?;
        if found != tag.as_bytes() {
            return Err(self.error(format!(
                "corrupt: expected {tag} at byte {at}, found {:?}",
                String::from_utf8_lossy(&found)
            )));
        }
        Ok(())
    }

    /// Whether the file has no more bytes.
    pub fn at_end(&mut self) -> Result<bool, TableError> {
        match self.reader.fill_buf() {
            Ok(buf) => Ok(buf.is_empty()),
            Err(e) => Err(self.read_error(e, "the end of the file")),
        }
    }

    /// Reads the rest of the file, so that a gzip file's checksum is checked.
    pub fn drain(&mut self) -> Result<(), TableError> {
        io::copy(&mut self.reader, &mut io::sink())
            .map(drop)
            .map_err(|e| self.read_error(e, "the end of the file"))
    }
}
