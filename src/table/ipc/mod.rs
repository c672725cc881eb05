//! Reading Arrow IPC data (`.arrow`, `.feather`) in either of its two
//! layouts, told apart by the bytes, not the name: the file format (starts
//! with `ARROW1`, as pandas `to_feather` writes it) and the stream format
//! (`pyarrow.ipc.new_stream`). Feather version 1 files are recognised and
//! refused with how to convert them.
//!
//! Before arrow-ipc reads anything, every size the file claims is checked
//! against the file ([`check`]): the blocks its footer lists, the messages
//! of a stream, the buffers of each batch, and what each compressed buffer
//! says it decompresses to. So a damaged file is an error, never an
//! allocation of whatever size its bytes say.

mod check;

use std::fs::File;
use std::io::{BufReader, Seek};
use std::path::Path;

use arrow_ipc::reader::{FileReader, StreamReader};

use super::sniff::{self, Kind};
use super::{TableError, contain};
use crate::table::batches::{BatchSource, arrow_error};

/// What panics are contained as, in errors.
const WHAT: &str = "Arrow IPC file";

/// Reads `path`, in the file or the stream format, batch by batch.
pub fn read(path: &Path) -> Result<BatchSource, TableError> {
    let io = |e| TableError::io(path, false, e);
    let start = sniff::start_of(path).map_err(io)?;
    let kind = Kind::of(&start);
    let layout = match kind {
        Kind::ArrowFile => Layout::File,
        Kind::ArrowStream => Layout::Stream,
        // Streams written before Arrow 0.15 start with the metadata length.
        Kind::Unknown if legacy_stream_start(&start) => Layout::Stream,
        Kind::FeatherV1 => return Err(TableError::invalid(path, None, FEATHER_V1)),
        other => {
            return Err(TableError::invalid(
                path,
                None,
                format!("not an Arrow IPC (Feather) file: {}", other.looks_like()),
            ));
        }
    };
    let mut file = File::open(path).map_err(io)?;
    let checked = match layout {
        Layout::File => check::file(&mut file),
        Layout::Stream => check::stream(&mut file),
    };
    checked.map_err(|e| match e {
        check::Problem::Io(e) => io(e),
        check::Problem::Corrupt(message) => TableError::invalid(
            path,
            None,
            format!(
                "corrupt Arrow IPC {}: {message}; re-create or re-copy it",
                layout.name()
            ),
        ),
    })?;
    file.rewind().map_err(io)?;
    let owned = path.to_path_buf();
    contain::decode(path, WHAT, || {
        let (schema, batches): (_, Box<dyn Iterator<Item = _> + Send>) = match layout {
            Layout::Stream => {
                let input = BufReader::with_capacity(1 << 16, file);
                let reader =
                    StreamReader::try_new(input, None).map_err(|e| arrow_error(path, e))?;
                (reader.schema(), Box::new(reader))
            }
            Layout::File => {
                let reader = FileReader::try_new(file, None).map_err(|e| arrow_error(path, e))?;
                (reader.schema(), Box::new(reader))
            }
        };
        let batches = batches.map(move |b| b.map_err(|e| arrow_error(&owned, e)));
        Ok(BatchSource {
            schema,
            batches: Box::new(contain::decode_each(path, WHAT, batches)),
        })
    })
}

/// The two layouts of Arrow IPC data.
#[derive(Clone, Copy)]
enum Layout {
    /// `ARROW1`, the stream, a footer listing its blocks, `ARROW1`.
    File,
    /// Messages one after the other: the schema, dictionaries, batches.
    Stream,
}

impl Layout {
    fn name(self) -> &'static str {
        match self {
            Layout::File => "file",
            Layout::Stream => "stream",
        }
    }
}

/// Whether `start` could be a stream written before Arrow 0.15: a positive
/// metadata length, then a flatbuffer (whose first word is an offset).
fn legacy_stream_start(start: &[u8]) -> bool {
    let word = |at: usize| {
        start
            .get(at..at + 4)
            .map(|b| i32::from_le_bytes(b.try_into().expect("four bytes")))
    };
    matches!((word(0), word(4)), (Some(len), Some(root)) if len > 0 && root > 0 && root < len)
}

/// The error for a Feather version 1 file.
const FEATHER_V1: &str = "this is a Feather version 1 file, which cohortkit does not read; \
    convert it to Feather version 2 (the default since pyarrow 0.17) with pyarrow: \
    python3 -c \"import sys, pyarrow.feather as f; f.write_feather(f.read_table(sys.argv[1]), sys.argv[2])\" \
    OLD.feather NEW.feather";

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};

    use super::*;
    use crate::table::Format;
    use crate::table::frame::FrameWriter;

    fn batch() -> RecordBatch {
        let ids: ArrayRef = Arc::new(Int64Array::from_iter_values(0..2000));
        let names: ArrayRef = Arc::new(StringArray::from_iter_values(
            (0..2000).map(|i| format!("name {}", i % 7)),
        ));
        RecordBatch::try_from_iter([("patient_id", ids), ("name", names)]).unwrap()
    }

    /// Our own file: the IPC file layout, LZ4-compressed.
    fn lz4_file(dir: &Path) -> (std::path::PathBuf, Vec<u8>) {
        let path = dir.join("a.arrow");
        let batch = batch();
        let mut writer = FrameWriter::create(&path, Format::Arrow, batch.schema(), 6).unwrap();
        writer.write(&batch).unwrap();
        writer.finish().unwrap();
        let bytes = std::fs::read(&path).unwrap();
        (path, bytes)
    }

    fn error(path: &Path, bytes: &[u8]) -> String {
        std::fs::write(path, bytes).unwrap();
        let result = read(path).and_then(BatchSource::concat);
        result.unwrap_err().to_string()
    }

    /// Where the first compressed buffer's decompressed length is.
    fn first_length_prefix(bytes: &[u8]) -> usize {
        let footer_len = i32::from_le_bytes(bytes[bytes.len() - 10..][..4].try_into().unwrap());
        let footer = &bytes[bytes.len() - 10 - footer_len as usize..bytes.len() - 10];
        let footer = arrow_ipc::root_as_footer(footer).unwrap();
        let block = footer.recordBatches().unwrap().get(0);
        let (offset, meta) = (block.offset() as usize, block.metaDataLength() as usize);
        let message = arrow_ipc::root_as_message(&bytes[offset + 8..offset + meta]).unwrap();
        let buffers = message.header_as_record_batch().unwrap().buffers().unwrap();
        let buffer = buffers.iter().find(|b| b.length() >= 8).unwrap();
        offset + meta + buffer.offset() as usize
    }

    #[test]
    fn sizes_the_file_cannot_hold_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let (path, bytes) = lz4_file(dir.path());
        assert_eq!(read(&path).unwrap().concat().unwrap(), batch());

        let at = first_length_prefix(&bytes);
        let mut huge = bytes.clone();
        huge[at..at + 8].copy_from_slice(&(1i64 << 40).to_le_bytes());
        let e = error(&path, &huge);
        assert!(e.contains("a.arrow: corrupt Arrow IPC file") && e.contains("claims to hold"));

        let e = error(&path, &bytes[..bytes.len() - 3]);
        assert!(
            e.contains("truncated: an Arrow IPC file ends with ARROW1"),
            "{e}"
        );

        // The footer claims more than the file holds.
        let mut long = bytes.clone();
        let n = long.len();
        long[n - 10..n - 6].copy_from_slice(&i32::MAX.to_le_bytes());
        assert!(error(&path, &long).contains("footer length"));
    }

    #[test]
    fn streams_are_read_and_their_sizes_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.feather");
        let mut bytes = Vec::new();
        let mut writer =
            arrow_ipc::writer::StreamWriter::try_new(&mut bytes, &batch().schema()).unwrap();
        writer.write(&batch()).unwrap();
        writer.finish().unwrap();
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(read(&path).unwrap().concat().unwrap(), batch());

        let e = error(&path, &bytes[..bytes.len() / 2]);
        assert!(
            e.contains("corrupt Arrow IPC stream") && e.contains("does not hold"),
            "{e}"
        );
    }

    #[test]
    fn feather_v1_and_other_formats_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.feather");
        assert!(error(&path, b"FEA1\0\0\0\0FEA1").contains("Feather version 1"));
        let e = error(&path, b"PAR1\x15\x04PAR1");
        assert!(
            e.contains("not an Arrow IPC (Feather) file: it looks like a Parquet file"),
            "{e}"
        );
        let e = error(&path, b"\x01\x02\x03");
        assert!(e.contains("it looks like none of the formats"), "{e}");
    }
}
