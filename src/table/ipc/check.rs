//! The checks of every size an Arrow IPC file or stream claims, against
//! the file's length, before arrow-ipc allocates anything of that size.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};

use arrow_ipc::{Block, CompressionType, Message};

/// The end of every Arrow IPC file: the footer's length, then `ARROW1`.
const TRAILER: u64 = 10;

/// Why a file fails its checks.
pub enum Problem {
    /// Reading it failed.
    Io(std::io::Error),
    /// A size does not fit: what and where.
    Corrupt(String),
}

impl From<std::io::Error> for Problem {
    fn from(e: std::io::Error) -> Problem {
        Problem::Io(e)
    }
}

fn corrupt<T>(message: impl Into<String>) -> Result<T, Problem> {
    Err(Problem::Corrupt(message.into()))
}

/// The most bytes one compressed byte decompresses to: LZ4 (a match grows
/// by 255 bytes per byte), Zstandard (a 4-byte RLE block holds 128 KiB).
fn max_ratio(codec: CompressionType) -> Option<u64> {
    match codec {
        CompressionType::LZ4_FRAME => Some(256),
        CompressionType::ZSTD => Some(1 << 15),
        _ => None,
    }
}

/// Bytes at `offset`, `len` of them, which must be within the file.
fn bytes_at(file: &mut File, offset: u64, len: u64) -> Result<Vec<u8>, Problem> {
    let mut buf = Vec::new();
    file.seek(SeekFrom::Start(offset))?;
    file.take(len).read_to_end(&mut buf)?;
    if buf.len() as u64 != len {
        return corrupt(format!(
            "truncated: it ends inside bytes {offset} to {}",
            offset + len
        ));
    }
    Ok(buf)
}

/// The file format: the footer, and each block it lists.
pub fn file(file: &mut File) -> Result<(), Problem> {
    let len = file.metadata()?.len();
    if len < 8 + TRAILER {
        return corrupt("truncated: it is too short to hold a footer");
    }
    let trailer = bytes_at(file, len - TRAILER, TRAILER)?;
    if &trailer[4..] != b"ARROW1" {
        return corrupt("truncated: an Arrow IPC file ends with ARROW1, and this one does not");
    }
    let footer_len = i32::from_le_bytes(trailer[..4].try_into().expect("four bytes"));
    let data_end = match u64::try_from(footer_len) {
        Ok(n) if n > 0 && n <= len - 8 - TRAILER => len - TRAILER - n,
        _ => {
            return corrupt(format!(
                "the footer length {footer_len} does not fit the file"
            ));
        }
    };
    let footer_bytes = bytes_at(file, data_end, len - TRAILER - data_end)?;
    let footer = match arrow_ipc::root_as_footer(&footer_bytes) {
        Ok(footer) => footer,
        Err(e) => return corrupt(format!("its footer cannot be read ({e})")),
    };
    let blocks = footer.dictionaries().into_iter().flatten();
    for block in blocks.chain(footer.recordBatches().into_iter().flatten()) {
        check_block(file, block, data_end)?;
    }
    Ok(())
}

/// One block: its metadata and body within the data, and the message
/// there.
fn check_block(file: &mut File, block: &Block, data_end: u64) -> Result<(), Problem> {
    let (offset, meta, body) = (block.offset(), block.metaDataLength(), block.bodyLength());
    let end = u64::try_from(offset)
        .ok()
        .zip(u64::try_from(meta).ok().filter(|&m| m >= 8))
        .zip(u64::try_from(body).ok())
        .and_then(|((o, m), b)| o.checked_add(m)?.checked_add(b));
    if end.is_none_or(|end| end > data_end) {
        return corrupt(format!(
            "a block at byte {offset} ({meta} bytes of metadata, {body} of data) does not fit the file"
        ));
    }
    let (offset, meta) = (offset as u64, meta as u64);
    let metadata = bytes_at(file, offset, meta)?;
    let skip = if metadata[..4] == [0xff; 4] { 8 } else { 4 };
    let message = parse(&metadata[skip..])?;
    check_body(file, &message, offset + meta, body as u64)
}

/// The stream format: each message, in order, up to the end marker or
/// the end of the file.
pub fn stream(file: &mut File) -> Result<(), Problem> {
    let len = file.metadata()?.len();
    let mut at = 0;
    loop {
        let mut word = bytes_at(file, at, 4.min(len - at))?;
        if word.len() < 4 {
            return Ok(()); // the end of the file ends a stream
        }
        at += 4;
        if word == [0xff; 4] {
            word = bytes_at(file, at, 4.min(len - at))?;
            if word.len() < 4 {
                return corrupt("truncated: it ends after a continuation marker");
            }
            at += 4;
        }
        let meta = i32::from_le_bytes(word[..].try_into().expect("four bytes"));
        if meta == 0 {
            return Ok(());
        }
        let meta = match u64::try_from(meta) {
            Ok(m) if m <= len - at => m,
            _ => {
                return corrupt(format!(
                    "the message at byte {at} claims {meta} bytes of metadata, which the file does not hold"
                ));
            }
        };
        let message_bytes = bytes_at(file, at, meta)?;
        let message = parse(&message_bytes)?;
        at += meta;
        let body = match u64::try_from(message.bodyLength()) {
            Ok(b) if b <= len - at => b,
            _ => {
                return corrupt(format!(
                    "the message ending at byte {at} claims {} bytes of data, which the file does not hold",
                    message.bodyLength()
                ));
            }
        };
        check_body(file, &message, at, body)?;
        at += body;
    }
}

fn parse(bytes: &[u8]) -> Result<Message<'_>, Problem> {
    arrow_ipc::root_as_message(bytes)
        .or_else(|e| corrupt(format!("a message cannot be read ({e})")))
}

/// The buffers of a record batch or dictionary message, whose body of
/// `len` bytes starts at byte `start`: each within the body, and each
/// compressed one decompressing to no more than it can hold.
fn check_body(file: &mut File, message: &Message, start: u64, len: u64) -> Result<(), Problem> {
    let batch = message.header_as_record_batch().or_else(|| {
        message
            .header_as_dictionary_batch()
            .and_then(|dictionary| dictionary.data())
    });
    let Some(batch) = batch else {
        return Ok(());
    };
    let ratio = batch.compression().map(|c| max_ratio(c.codec()));
    for buffer in batch.buffers().into_iter().flatten() {
        let (offset, length) = (buffer.offset(), buffer.length());
        let fits = u64::try_from(offset)
            .ok()
            .zip(u64::try_from(length).ok())
            .and_then(|(o, l)| o.checked_add(l))
            .is_some_and(|end| end <= len);
        if !fits {
            return corrupt(format!(
                "a buffer of {length} bytes at byte {offset} of a batch's {len} bytes of data does not fit it"
            ));
        }
        let (Some(Some(ratio)), 8..) = (ratio, length) else {
            continue;
        };
        let prefix = bytes_at(file, start + offset as u64, 8)?;
        let claimed = i64::from_le_bytes(prefix[..].try_into().expect("eight bytes"));
        let most = (length as u64 - 8).saturating_mul(ratio);
        if claimed != -1 && u64::try_from(claimed).is_ok_and(|c| c > most) {
            return corrupt(format!(
                "a compressed buffer of {length} bytes claims to hold {claimed} bytes, more than it can"
            ));
        }
    }
    Ok(())
}
