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

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read};
use std::path::Path;

use super::gzip::{Members, check_start};

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
    let mut pending = Vec::new();
    (&mut file)
        .take(super::sniff::SNIFF_BYTES as u64)
        .read_to_end(&mut pending)?;
    check_start(path, &pending, true)?;
    Ok(Box::new(BufReader::with_capacity(
        1 << 18,
        MemberReader {
            file: Some(file),
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
            let mut buffers = self.spare.split_off(keep);
            buffers.resize_with(members.len(), Vec::new);
            inflate_all(&members, buffers, self.threads)
        };
        match inflated {
            Some(parts) => {
                let used = *ends.last().expect("members were found");
                self.output = parts.into();
                self.position = 0;
                self.pending.drain(..used);
                Ok(true)
            }
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
                    let mut decompressor = libdeflater::Decompressor::new();
                    group
                        .iter()
                        .zip(outputs)
                        .map(|(member, out)| inflate(&mut decompressor, member, out))
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

fn inflate(
    decompressor: &mut libdeflater::Decompressor,
    member: &[u8],
    mut out: Vec<u8>,
) -> Option<Vec<u8>> {
    if member.len() < 18 {
        return None;
    }
    let trailer: [u8; 4] = member[member.len() - 4..].try_into().ok()?;
    let size = u32::from_le_bytes(trailer) as usize;
    if size > MAX_MEMBER || size > member.len().saturating_mul(MAX_RATIO) {
        return None;
    }
    out.resize(size, 0);
    let written = decompressor.gzip_decompress(member, &mut out).ok()?;
    (written == size).then_some(out)
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
