//! Reading a gzip file made of many members with the members decompressed
//! in parallel: cohortkit's own writer ([`super::gzip::GzipWriter`]) cuts
//! its output into members of [`super::gzip::BLOCK_SIZE`] bytes, so its
//! files need not be inflated on one core.
//!
//! Compressed bytes are read a window at a time. Member starts are found by
//! their magic bytes; each member whole in the window is inflated with
//! libdeflate, its size taken from its trailer and its CRC checked. A false
//! start inside compressed data cannot pass those checks, and then, or for a
//! file with one large member (pandas, Python, gzip), the rest of the file
//! is read with the streaming decoder ([`super::gzip::Members`]) instead:
//! the output is the same. So is zero padding after the last member, which
//! leaves no trailer at the end of the file.
//!
//! A file of one member larger than a window (as pandas, Python and gzip
//! write them) is inflated whole with libdeflate, several times faster
//! than streaming, when its trailer says it inflates to at most
//! [`MAX_MEMBER`] bytes; the trailer is only a claim (its size is modulo
//! 2³²), so a member that does not inflate to exactly that, or is followed
//! by more than another member or zero padding, is streamed instead.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read};
use std::path::Path;

use super::buffers;
use super::gzip::{Members, check_start};
use super::inflate::Inflater;

/// Compressed bytes read per window (four or five times as much text).
const WINDOW: usize = 4 << 20;

/// A member larger than this when decompressed is not trusted to be one.
const MAX_MEMBER: usize = 256 << 20;

/// Deflate turns at most two bits into 258 bytes: no member inflates to
/// more than this many times its own size, whatever its trailer claims.
const MAX_RATIO: usize = 1032;

/// Opens a gzip file for reading, inflating its members on up to `threads`
/// threads. A file that is not gzip data is an error, as for
/// [`super::gzip::open`].
pub fn open(path: &Path, threads: usize) -> io::Result<Box<dyn BufRead + Send>> {
    let mut file = File::open(path)?;
    let length = file.metadata()?.len();
    let mut pending = buffers::take(WINDOW);
    (&mut file)
        .take(super::sniff::SNIFF_BYTES as u64)
        .read_to_end(&mut pending)?;
    check_start(path, &pending, true)?;
    Ok(Box::new(BufReader::with_capacity(
        1 << 18,
        MemberReader {
            file: Some(file),
            unread: length.saturating_sub(pending.len() as u64),
            threads: threads.max(1),
            pending,
            output: VecDeque::new(),
            spare: Vec::new(),
            position: 0,
            streaming: None,
        },
    )))
}

struct MemberReader {
    file: Option<File>,
    /// Compressed bytes of the file not yet read (as its length said).
    unread: u64,
    threads: usize,
    /// Compressed bytes not yet inflated, starting at a member's start.
    pending: Vec<u8>,
    /// Inflated members not yet read, and how far into the first.
    output: VecDeque<Vec<u8>>,
    /// Buffers of members already read, to inflate the next ones into
    /// without allocating and zeroing memory again.
    spare: Vec<Vec<u8>>,
    position: usize,
    streaming: Option<Box<dyn Read + Send>>,
}

impl Read for MemberReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if let Some(member) = self.output.front() {
                let n = buf.len().min(member.len() - self.position);
                buf[..n].copy_from_slice(&member[self.position..self.position + n]);
                self.position += n;
                if self.position == member.len() {
                    self.spare.extend(self.output.pop_front());
                    self.position = 0;
                }
                if n > 0 {
                    return Ok(n);
                }
                continue;
            }
            if let Some(streaming) = &mut self.streaming {
                return streaming.read(buf);
            }
            if !self.refill()? {
                return Ok(0);
            }
        }
    }
}

impl MemberReader {
    /// Inflates the next window's whole members; false at the end.
    fn refill(&mut self) -> io::Result<bool> {
        let mut at_end = true;
        if let Some(file) = &mut self.file {
            let want = WINDOW.saturating_sub(self.pending.len()) as u64;
            let read = file.take(want).read_to_end(&mut self.pending)?;
            self.unread = self.unread.saturating_sub(read as u64);
            at_end = read as u64 != want;
        }
        if at_end {
            self.file = None;
        }
        if self.pending.is_empty() {
            return Ok(false);
        }
        let mut starts = vec![0];
        starts.extend(
            memchr::memmem::find_iter(&self.pending[1..], b"\x1f\x8b\x08")
                .map(|i| i + 1)
                .filter(|&i| is_header(&self.pending[i..])),
        );
        let mut ends: Vec<usize> = starts[1..].to_vec();
        if at_end {
            ends.push(self.pending.len());
        }
        let members: Vec<&[u8]> = starts
            .iter()
            .zip(&ends)
            .map(|(&s, &e)| &self.pending[s..e])
            .collect();
        let inflated = if members.is_empty() {
            None
        } else {
            let keep = self.spare.len().saturating_sub(members.len());
            let mut outputs = self.spare.split_off(keep);
            outputs.resize_with(members.len(), || buffers::take(1 << 20));
            inflate_all(&members, outputs, self.threads)
        };
        match inflated {
            Some(parts) => {
                let used = *ends.last().expect("members were found");
                self.output = parts.into();
                self.position = 0;
                self.pending.drain(..used);
                Ok(true)
            }
            None if !at_end && self.inflate_large()? => Ok(true),
            None => {
                // One member larger than the window, or not members at all.
                let pending = Cursor::new(std::mem::take(&mut self.pending));
                let rest: Box<dyn Read + Send> = match self.file.take() {
                    Some(file) => Box::new(pending.chain(file)),
                    None => Box::new(pending),
                };
                self.streaming = Some(Box::new(Members::new(BufReader::with_capacity(
                    1 << 18,
                    rest,
                ))));
                Ok(true)
            }
        }
    }
}

impl MemberReader {
    /// Inflates the member at the start of the pending bytes whole, when
    /// it and the rest of the file are small enough (at most
    /// [`MAX_MEMBER`]): the file's last four bytes say how large its last
    /// member is, so how large this one is when it is the only one. False,
    /// with everything read kept pending, when it is not that member.
    fn inflate_large(&mut self) -> io::Result<bool> {
        let Some(file) = &mut self.file else {
            return Ok(false);
        };
        if self.unread < 4 || self.pending.len() as u64 + self.unread > MAX_MEMBER as u64 {
            return Ok(false);
        }
        let size = last_member_size(file)?;
        if size > MAX_MEMBER || size > (self.pending.len() + self.unread as usize) * MAX_RATIO {
            return Ok(false);
        }
        buffers::reserve_huge(&mut self.pending, self.unread as usize);
        file.read_to_end(&mut self.pending)?;
        self.file = None;
        self.unread = 0;
        let mut out = self.spare.pop().unwrap_or_else(|| buffers::take(size));
        out.clear();
        buffers::reserve_huge(&mut out, size);
        let inflated = Inflater::new().member(&self.pending, &mut out, size);
        let Some(inflated) = inflated.filter(|i| i.written == size) else {
            return Ok(false);
        };
        self.pending.drain(..inflated.consumed);
        if self.pending.iter().all(|&b| b == 0) {
            self.pending.clear();
        }
        self.output.push_back(out);
        self.position = 0;
        Ok(true)
    }
}

/// The size the trailer at the end of `file` gives its last member (the
/// file's last four bytes), read without moving on in the file.
fn last_member_size(file: &mut File) -> io::Result<usize> {
    use std::io::{Seek, SeekFrom};
    let here = file.stream_position()?;
    file.seek(SeekFrom::End(-4))?;
    let mut trailer = [0; 4];
    file.read_exact(&mut trailer)?;
    file.seek(SeekFrom::Start(here))?;
    Ok(u32::from_le_bytes(trailer) as usize)
}

/// The reader's buffers go to the next file's reader.
impl Drop for MemberReader {
    fn drop(&mut self) {
        buffers::give(std::mem::take(&mut self.pending));
        self.output
            .drain(..)
            .chain(self.spare.drain(..))
            .for_each(buffers::give);
    }
}

/// Whether `bytes` start like a gzip member header (RFC 1952): magic,
/// deflate, no reserved flag bits, a known XFL and OS byte. Rarely true by
/// chance inside compressed data, and then inflating fails its checks.
fn is_header(bytes: &[u8]) -> bool {
    bytes.len() >= 10
        && bytes[3] & 0xE0 == 0
        && matches!(bytes[8], 0 | 2 | 4)
        && (bytes[9] <= 13 || bytes[9] == 255)
}

/// Inflates every member on up to `threads` threads, in order, each into
/// one of `buffers` (whatever they hold); `None` if any is not a whole,
/// valid member.
fn inflate_all(members: &[&[u8]], buffers: Vec<Vec<u8>>, threads: usize) -> Option<Vec<Vec<u8>>> {
    let per_thread = members.len().div_ceil(threads);
    let mut buffers = buffers.into_iter();
    std::thread::scope(|scope| {
        let handles: Vec<_> = members
            .chunks(per_thread)
            .map(|group| {
                let outputs: Vec<Vec<u8>> = buffers.by_ref().take(group.len()).collect();
                scope.spawn(move || {
                    let mut inflater = Inflater::new();
                    group
                        .iter()
                        .zip(outputs)
                        .map(|(member, out)| inflate(&mut inflater, member, out))
                        .collect::<Option<Vec<_>>>()
                })
            })
            .collect();
        let mut all = Vec::with_capacity(members.len());
        for handle in handles {
            all.extend(handle.join().ok()??);
        }
        Some(all)
    })
}

/// Inflates `member` into `out`: `None` unless it is exactly one whole,
/// valid member, of the size its trailer says.
fn inflate(inflater: &mut Inflater, member: &[u8], mut out: Vec<u8>) -> Option<Vec<u8>> {
    if member.len() < 18 {
        return None;
    }
    let trailer: [u8; 4] = member[member.len() - 4..].try_into().ok()?;
    let size = u32::from_le_bytes(trailer) as usize;
    if size > MAX_MEMBER || size > member.len().saturating_mul(MAX_RATIO) {
        return None;
    }
    out.clear();
    let inflated = inflater.member(member, &mut out, size)?;
    (inflated.written == size && inflated.consumed == member.len()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn text(n: usize) -> Vec<u8> {
        (0..n)
            .flat_map(|i| format!("{i},{},row {}\n", i % 7, i * 31).into_bytes())
            .collect()
    }

    fn read(path: &Path, threads: usize) -> Vec<u8> {
        let mut out = Vec::new();
        open(path, threads).unwrap().read_to_end(&mut out).unwrap();
        out
    }

    #[test]
    fn many_members_read_back_whole_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.csv.gz");
        let data = text(3_000_000);
        let mut writer = super::super::gzip::GzipWriter::new(File::create(&path).unwrap(), 1);
        writer.write_all(&data).unwrap();
        writer.finish().unwrap();
        assert!(
            std::fs::metadata(&path).unwrap().len() as usize > WINDOW,
            "several windows"
        );
        assert_eq!(read(&path, 3), data);
    }

    #[test]
    fn one_large_member_is_streamed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.csv.gz");
        let data = text(200_000);
        let mut encoder = flate2::write::GzEncoder::new(
            File::create(&path).unwrap(),
            flate2::Compression::new(6),
        );
        encoder.write_all(&data).unwrap();
        encoder.finish().unwrap();
        assert_eq!(read(&path, 2), data);
    }

    /// Bytes that barely compress, so that one member spans windows.
    fn noise(n: usize) -> Vec<u8> {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        (0..n)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                b'0' + (state % 64) as u8
            })
            .collect()
    }

    fn one_member(data: &[u8], level: u32) -> Vec<u8> {
        let mut encoder =
            flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn members_larger_than_a_window_are_read_whole_with_whatever_follows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.csv.gz");
        let data = noise(6 << 20);
        let member = one_member(&data, 9);
        assert!(member.len() > WINDOW, "one member spans windows");
        let small = one_member(b"1,2\n", 9);
        let twice = [data.clone(), data.clone()].concat();
        for (bytes, text) in [
            (member.clone(), data.clone()),
            // Two members of one size: the trailer fits the first as well.
            ([&member[..], &member].concat(), twice),
            (
                [&member[..], &small].concat(),
                [&data[..], b"1,2\n"].concat(),
            ),
            ([&member[..], &[0; 100]].concat(), data.clone()),
        ] {
            std::fs::write(&path, &bytes).unwrap();
            assert!(read(&path, 2) == text, "{} bytes", bytes.len());
        }
        for bytes in [
            [&member[..], b"junk"].concat(),
            member[..member.len() - 1].to_vec(),
            {
                let mut corrupt = member.clone();
                corrupt[member.len() / 2] ^= 0x55;
                corrupt
            },
        ] {
            std::fs::write(&path, &bytes).unwrap();
            let mut out = Vec::new();
            let result = open(&path, 2).unwrap().read_to_end(&mut out);
            assert!(result.is_err(), "{} bytes read back", out.len());
        }
    }

    #[test]
    fn zero_padding_after_the_last_member_is_skipped_and_garbage_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.csv.gz");
        let data = text(300_000);
        let mut writer = super::super::gzip::GzipWriter::new(Vec::new(), 1);
        writer.write_all(&data).unwrap();
        let members = writer.finish().unwrap();
        std::fs::write(&path, [&members[..], &[0; 1000]].concat()).unwrap();
        assert_eq!(read(&path, 2), data);
        std::fs::write(&path, [&members[..], b"\0junk"].concat()).unwrap();
        let error = open(&path, 2)
            .unwrap()
            .read_to_end(&mut Vec::new())
            .unwrap_err();
        assert!(
            error.to_string().contains("neither zero padding"),
            "{error}"
        );
        std::fs::write(&path, &data[..1000]).unwrap();
        let error = open(&path, 2).err().unwrap().to_string();
        assert!(error.contains("not gzip-compressed"), "{error}");
    }

    #[test]
    fn corrupt_data_is_an_error_not_a_short_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.csv.gz");
        let mut writer = super::super::gzip::GzipWriter::new(File::create(&path).unwrap(), 6);
        writer.write_all(&text(400_000)).unwrap();
        writer.finish().unwrap();
        let mut bytes = std::fs::read(&path).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0xff;
        std::fs::write(&path, bytes).unwrap();
        let mut out = Vec::new();
        assert!(open(&path, 2).unwrap().read_to_end(&mut out).is_err());
    }
}
