//! Gzip in and out: a streaming multi-member reader ([`open`],
//! [`Members`]), and a writer that compresses blocks in parallel with
//! libdeflate.
//!
//! The writer cuts its output into blocks of [`BLOCK_SIZE`] bytes, compresses
//! them as jobs on the current rayon pool while the caller goes on, and
//! writes each as one gzip member, in order. A file of several members is standard gzip
//! (RFC 1952 §2.2): gzip, zcat, Python, pandas, R and polars read it whole.
//! Headers carry no file name and no time, so the same input always gives
//! the same bytes.

use std::cell::RefCell;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::Path;

use std::collections::VecDeque;
use std::sync::mpsc::{Receiver, TryRecvError, sync_channel};
use std::time::Duration;

use flate2::bufread::GzDecoder;
use libdeflater::{CompressionLvl, Compressor};
use rayon::Yield;

use super::sniff::{self, GZIP_MAGIC, Kind};

/// Uncompressed bytes per gzip member. Large enough that the restart of the
/// compression window at each member costs well under 1 % in size.
pub const BLOCK_SIZE: usize = 1 << 20;

/// The default compression level: libdeflate's level 4 makes files about
/// the size zlib's level 9 makes (what pandas, Python and cohortextractor
/// write; 1.01x on FLUCATS cohorts, where level 6 is 0.96x) in two thirds
/// of level 6's time. `scripts/bench join` measures both.
pub const DEFAULT_LEVEL: u32 = 4;

/// Read buffer size for files and decompressors.
const READ_BUFFER: usize = 1 << 18;

/// Opens a file for buffered reading, decompressing it when `gzip` is set
/// (with libdeflate where it can, see [`super::gzip_members`]).
///
/// The file must be what `gzip` says: gzip data read uncompressed, or a
/// file to decompress that does not start as gzip data does, is an error
/// saying what the file looks like (an empty file is empty either way).
pub fn open(path: &Path, gzip: bool) -> io::Result<Box<dyn BufRead + Send>> {
    if gzip {
        return super::gzip_members::open(path, 1);
    }
    let mut file = BufReader::with_capacity(READ_BUFFER, File::open(path)?);
    check_start(path, file.fill_buf()?, false)?;
    Ok(Box::new(file))
}

/// Checks that a file starting with `start` is gzip data if and only if
/// `gzip` is set (an empty file passes either way).
pub fn check_start(path: &Path, start: &[u8], gzip: bool) -> io::Result<()> {
    let compressed = start.starts_with(&GZIP_MAGIC[..start.len().min(2)]);
    if start.is_empty() || compressed == gzip {
        return Ok(());
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Err(io::Error::other(if gzip {
        format!(
            "not gzip-compressed, although its name ends in .gz: {}",
            Kind::of(&start[..start.len().min(sniff::SNIFF_BYTES)]).looks_like()
        )
    } else {
        format!("the file is gzip-compressed, but its name does not end in .gz: name it {name}.gz")
    }))
}

/// Reads a whole (possibly gzip-compressed) file into memory.
pub fn read_all(path: &Path, gzip: bool) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    open(path, gzip)?.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Gzip data of one or more members, decompressed as one stream, as gzip,
/// zcat and Python read it: zero bytes after a member are padding and are
/// skipped (gzip says "trailing zero bytes ignored"); anything else after
/// a member must be another member. Empty input is empty.
pub struct Members<R: BufRead> {
    state: State<R>,
}

enum State<R: BufRead> {
    /// Before the first member, or after a member.
    Between { input: R, first: bool },
    /// Inside a member.
    Member(Box<GzDecoder<R>>),
    /// At the end; or the input is gone after an error.
    Done,
}

impl<R: BufRead> Members<R> {
    /// Decompresses `input`.
    pub fn new(input: R) -> Self {
        Members {
            state: State::Between { input, first: true },
        }
    }
}

impl<R: BufRead> Read for Members<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            match std::mem::replace(&mut self.state, State::Done) {
                State::Done => return Ok(0),
                State::Member(mut member) => {
                    let n = member.read(buf)?;
                    if n > 0 {
                        self.state = State::Member(member);
                        return Ok(n);
                    }
                    self.state = State::Between {
                        input: member.into_inner(),
                        first: false,
                    };
                }
                State::Between { mut input, first } => {
                    if !first {
                        skip_zeros(&mut input)?;
                    }
                    match input.fill_buf()?.first() {
                        None => return Ok(0),
                        Some(&byte) if byte == GZIP_MAGIC[0] => {
                            self.state = State::Member(Box::new(GzDecoder::new(input)));
                        }
                        Some(_) => {
                            return Err(io::Error::new(
                                io::ErrorKind::InvalidData,
                                "the file goes on after its gzip data with bytes that are \
                                 neither zero padding nor another gzip member",
                            ));
                        }
                    }
                }
            }
        }
    }
}

/// Consumes the zero bytes at the start of `input`.
fn skip_zeros(input: &mut impl BufRead) -> io::Result<()> {
    loop {
        let buffer = input.fill_buf()?;
        let zeros = buffer.iter().take_while(|&&b| b == 0).count();
        let more = zeros > 0 && zeros == buffer.len();
        input.consume(zeros);
        if !more {
            return Ok(());
        }
    }
}

/// Parses a `--compression-level` value for clap (every command that
/// writes gzip takes one).
pub fn parse_level(text: &str) -> Result<u32, String> {
    let level: u32 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number"))?;
    check_level(level)
}

/// Checks a compression level: libdeflate accepts 0 (stored) to 12 (smallest).
pub fn check_level(level: u32) -> Result<u32, String> {
    if level <= 12 {
        Ok(level)
    } else {
        Err(format!(
            "compression level {level} is out of range: use 0 (none) to 12 (smallest); 4 is the default"
        ))
    }
}

thread_local! {
    /// One compressor per thread, kept with the level it was made for.
    static COMPRESSOR: RefCell<Option<(u32, Compressor)>> = const { RefCell::new(None) };
}

/// Compresses one block into a complete gzip member.
pub fn compress_member(level: u32, block: &[u8]) -> Vec<u8> {
    COMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.as_ref().is_none_or(|(l, _)| *l != level) {
            let lvl = CompressionLvl::new(level as i32).expect("level checked by check_level");
            *slot = Some((level, Compressor::new(lvl)));
        }
        let compressor = &mut slot.as_mut().expect("just set").1;
        let mut out = vec![0; compressor.gzip_compress_bound(block.len())];
        let n = compressor
            .gzip_compress(block, &mut out)
            .expect("output sized by gzip_compress_bound");
        out.truncate(n);
        out
    })
}

/// A writer that gzip-compresses what it is given, blocks in parallel.
///
/// Full blocks are compressed by jobs on the current rayon pool while the
/// caller goes on producing; members are written in order as they complete,
/// with at most `in_flight` blocks outstanding, so memory stays bounded.
/// A caller inside the pool that must wait for a block helps run the pool's
/// jobs meanwhile, so waiting never starves the pool.
pub struct GzipWriter<W: Write> {
    inner: W,
    level: u32,
    block: Vec<u8>,
    pending: VecDeque<Receiver<Vec<u8>>>,
    in_flight: usize,
    members: usize,
}

impl<W: Write> GzipWriter<W> {
    /// Compresses into `inner` at `level` (0–12).
    pub fn new(inner: W, level: u32) -> Self {
        GzipWriter {
            inner,
            level,
            block: Vec::with_capacity(BLOCK_SIZE + (BLOCK_SIZE >> 3)),
            pending: VecDeque::new(),
            in_flight: 2 * rayon::current_num_threads().clamp(1, 8),
            members: 0,
        }
    }

    fn seal_block(&mut self) -> io::Result<()> {
        let next = Vec::with_capacity(BLOCK_SIZE + (BLOCK_SIZE >> 3));
        let block = std::mem::replace(&mut self.block, next);
        let (sender, receiver) = sync_channel(1);
        let level = self.level;
        rayon::spawn_fifo(move || {
            // The receiver only goes away when the writer is dropped on error.
            let _ = sender.send(compress_member(level, &block));
        });
        self.pending.push_back(receiver);
        while self.pending.len() > self.in_flight {
            self.write_oldest()?;
        }
        Ok(())
    }

    fn write_oldest(&mut self) -> io::Result<()> {
        if let Some(receiver) = self.pending.pop_front() {
            let member = wait_for(&receiver);
            self.inner.write_all(&member)?;
            self.members += 1;
        }
        Ok(())
    }

    /// Compresses what is left and returns the inner writer. An empty input
    /// still gives one (empty) gzip member, so the file is valid gzip.
    pub fn finish(mut self) -> io::Result<W> {
        if !self.block.is_empty() || (self.members == 0 && self.pending.is_empty()) {
            self.seal_block()?;
        }
        while !self.pending.is_empty() {
            self.write_oldest()?;
        }
        self.inner.flush()?;
        Ok(self.inner)
    }
}

/// Waits for a compressed block. On a pool thread, runs other pool jobs
/// while waiting (the block's own job may be queued behind this thread).
fn wait_for(receiver: &Receiver<Vec<u8>>) -> Vec<u8> {
    const NAP: Duration = Duration::from_micros(200);
    loop {
        match receiver.try_recv() {
            Ok(member) => return member,
            Err(TryRecvError::Disconnected) => panic!("a gzip compression job panicked"),
            Err(TryRecvError::Empty) => {}
        }
        match rayon::yield_now() {
            Some(Yield::Executed) => {}
            Some(Yield::Idle) => {
                if let Ok(member) = receiver.recv_timeout(NAP) {
                    return member;
                }
            }
            None => return receiver.recv().expect("a gzip compression job panicked"),
        }
    }
}

impl<W: Write> Write for GzipWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_all(buf)?;
        Ok(buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.block.extend_from_slice(buf);
        if self.block.len() >= BLOCK_SIZE {
            self.seal_block()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Where encoded output goes: straight through, or through gzip.
pub enum Sink<W: Write> {
    /// Uncompressed.
    Plain(W),
    /// Gzip-compressed in parallel blocks.
    Gzip(GzipWriter<W>),
}

impl<W: Write> Sink<W> {
    /// A sink that compresses when `gzip` is set.
    pub fn new(inner: W, gzip: bool, level: u32) -> Self {
        if gzip {
            Sink::Gzip(GzipWriter::new(inner, level))
        } else {
            Sink::Plain(inner)
        }
    }

    /// Writes out everything buffered and returns the inner writer.
    pub fn finish(self) -> io::Result<W> {
        match self {
            Sink::Plain(mut w) => {
                w.flush()?;
                Ok(w)
            }
            Sink::Gzip(g) => g.finish(),
        }
    }
}

impl<W: Write> Write for Sink<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sink::Plain(w) => w.write(buf),
            Sink::Gzip(g) => g.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Sink::Plain(w) => w.write_all(buf),
            Sink::Gzip(g) => g.write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::Plain(w) => w.flush(),
            Sink::Gzip(_) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gunzip(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        Members::new(bytes).read_to_end(&mut out).unwrap();
        out
    }

    fn try_gunzip(bytes: &[u8]) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        Members::new(bytes).read_to_end(&mut out).map(|_| out)
    }

    #[test]
    fn zero_padding_after_members_is_skipped() {
        let member = |text: &[u8]| compress_member(6, text);
        let padded = [member(b"a,b\n"), vec![0; 3], member(b"1,2\n"), vec![0; 700]].concat();
        assert_eq!(gunzip(&padded), b"a,b\n1,2\n");
        assert_eq!(gunzip(b""), b"");
    }

    #[test]
    fn garbage_after_a_member_and_truncation_are_errors() {
        let member = compress_member(6, b"a,b\n1,2\n");
        for (bytes, says) in [
            ([&member[..], b"\0\0junk"].concat(), "neither zero padding"),
            (
                [&member[..], b"\x1f\x00 not a gzip header"].concat(),
                "header",
            ),
            (member[..member.len() - 3].to_vec(), ""),
            ([&b"\0"[..], &member].concat(), "neither zero padding"),
        ] {
            let error = try_gunzip(&bytes).unwrap_err().to_string();
            assert!(error.contains(says), "{error}");
        }
    }

    #[test]
    fn files_must_be_compressed_as_their_names_say() {
        let path = Path::new("x/week.csv");
        let error = check_start(path, b"\x1f\x8b\x08", false).unwrap_err();
        assert!(error.to_string().contains("name it week.csv.gz"), "{error}");
        let error = check_start(Path::new("week.csv.gz"), b"patient_id\n1\n", true).unwrap_err();
        assert!(
            error.to_string().contains("not gzip-compressed")
                && error.to_string().contains("looks like text"),
            "{error}"
        );
        assert!(check_start(path, b"", true).is_ok());
        assert!(check_start(path, b"\x1f", true).is_ok());
        assert!(check_start(path, b"a", false).is_ok());
    }

    #[test]
    fn many_members_decompress_to_the_input() {
        let input: Vec<u8> = (0..3 * BLOCK_SIZE + 12345)
            .map(|i| (i % 251) as u8)
            .collect();
        let mut writer = GzipWriter::new(Vec::new(), 6);
        for chunk in input.chunks(70_000) {
            writer.write_all(chunk).unwrap();
        }
        let gz = writer.finish().unwrap();
        assert_eq!(gunzip(&gz), input);
    }

    #[test]
    fn empty_input_is_valid_gzip() {
        let gz = GzipWriter::new(Vec::new(), 6).finish().unwrap();
        assert!(!gz.is_empty());
        assert!(gunzip(&gz).is_empty());
    }

    #[test]
    fn output_is_deterministic() {
        let input = b"patient_id,x\n1,2\n".repeat(100_000);
        let run = || {
            let mut w = GzipWriter::new(Vec::new(), 6);
            w.write_all(&input).unwrap();
            w.finish().unwrap()
        };
        assert_eq!(run(), run());
    }

    #[test]
    fn levels_outside_libdeflate_range_are_refused() {
        assert!(check_level(12).is_ok());
        assert!(check_level(13).unwrap_err().contains("0 (none) to 12"));
    }
}
