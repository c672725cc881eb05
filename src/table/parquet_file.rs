//! Reading Parquet files as Arrow record batches. The file must start and
//! end as Parquet does; every byte range its metadata points to is checked
//! against the file's length before it is read ([`Bounded`]), so a damaged
//! footer is an error, never an allocation of the size it claims.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use bytes::Bytes;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::errors::ParquetError;
use parquet::file::reader::{ChunkReader, Length};

use super::batches::{BatchSource, arrow_error};
use super::sniff::{self, Kind};
use super::{TableError, contain, parquet_types};

/// Rows per batch.
const BATCH_ROWS: usize = 64 * 1024;

/// What panics are contained as, in errors.
const WHAT: &str = "Parquet file";

/// The first and last bytes of every Parquet file.
const MAGIC: &[u8; 4] = b"PAR1";

/// Reads `path` batch by batch.
pub fn read(path: &Path) -> Result<BatchSource, TableError> {
    let io = |e| TableError::io(path, false, e);
    let invalid = |message: String| TableError::invalid(path, None, message);
    let kind = Kind::of(&sniff::start_of(path).map_err(io)?);
    if kind != Kind::Parquet {
        return Err(invalid(format!(
            "not a Parquet file: {}",
            kind.looks_like()
        )));
    }
    let file = Bounded::open(path).map_err(io)?;
    if !file.ends_with_magic().map_err(io)? {
        return Err(invalid(
            "truncated: a Parquet file ends with PAR1, and this one does not; re-create or re-copy it"
                .into(),
        ));
    }
    let owned = path.to_path_buf();
    contain::decode(path, WHAT, || {
        let parquet = |e: ParquetError| invalid(format!("corrupt Parquet file: {e}"));
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(parquet)?;
        // The builder's schema has the file's metadata (pandas'), which the
        // reader's drops.
        let read_schema = builder.schema().clone();
        let hinted = parquet_types::hinted(
            &read_schema,
            builder.metadata().file_metadata().key_value_metadata(),
        );
        let reader = builder
            .with_batch_size(BATCH_ROWS)
            .build()
            .map_err(parquet)?;
        let schema = hinted.clone().unwrap_or(read_schema.clone());
        let batches = reader.map(move |b| {
            let batch = b.map_err(|e| arrow_error(&owned, e))?;
            let batch = batch
                .with_schema(read_schema.clone())
                .map_err(|e| arrow_error(&owned, e))?;
            match &hinted {
                None => Ok(batch),
                Some(hinted) => parquet_types::restore(batch, hinted)
                    .map_err(|m| TableError::invalid(&owned, None, m)),
            }
        });
        Ok(BatchSource {
            schema,
            batches: Box::new(contain::decode_each(path, WHAT, batches)),
        })
    })
}

/// A file that refuses to read past its end: the parquet crate allocates a
/// buffer of whatever length it is asked for before reading into it.
struct Bounded {
    file: File,
    len: u64,
}

impl Bounded {
    fn open(path: &Path) -> std::io::Result<Bounded> {
        let file = File::open(path)?;
        let len = file.metadata()?.len();
        Ok(Bounded { file, len })
    }

    fn ends_with_magic(&self) -> std::io::Result<bool> {
        if self.len < 2 * MAGIC.len() as u64 {
            return Ok(false);
        }
        let mut end = [0; 4];
        let mut file = &self.file;
        file.seek(SeekFrom::End(-4))?;
        file.read_exact(&mut end)?;
        Ok(&end == MAGIC)
    }

    fn check(&self, start: u64, length: u64) -> parquet::errors::Result<()> {
        match start.checked_add(length) {
            Some(end) if end <= self.len => Ok(()),
            _ => Err(ParquetError::EOF(format!(
                "the metadata points to {length} bytes at byte {start}, past the end of the file ({} bytes)",
                self.len
            ))),
        }
    }
}

impl Length for Bounded {
    fn len(&self) -> u64 {
        self.len
    }
}

impl ChunkReader for Bounded {
    type T = <File as ChunkReader>::T;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        self.check(start, 0)?;
        self.file.get_read(start)
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<Bytes> {
        self.check(start, length as u64)?;
        self.file.get_bytes(start, length)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, Float64Array, RecordBatch};

    use super::*;
    use crate::table::Format;
    use crate::table::frame::FrameWriter;

    #[test]
    fn files_are_read_and_must_end_as_parquet() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.parquet");
        let values: ArrayRef = Arc::new(Float64Array::from(vec![1.5, 2.5]));
        let batch = RecordBatch::try_from_iter([("bmi", values)]).unwrap();
        let mut writer = FrameWriter::create(&path, Format::Parquet, batch.schema(), 6).unwrap();
        writer.write(&batch).unwrap();
        writer.finish().unwrap();
        assert_eq!(read(&path).unwrap().concat().unwrap(), batch);

        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 1]).unwrap();
        let e = read(&path).err().unwrap().to_string();
        assert!(
            e.contains("a.parquet: truncated: a Parquet file ends with PAR1"),
            "{e}"
        );
        std::fs::write(&path, b"patient_id\n1\n").unwrap();
        let e = read(&path).err().unwrap().to_string();
        assert!(e.contains("not a Parquet file: it looks like text"), "{e}");
    }

    #[test]
    fn nothing_past_the_end_of_the_file_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.parquet");
        std::fs::write(&path, [7; 100]).unwrap();
        let file = Bounded::open(&path).unwrap();
        assert_eq!(file.get_bytes(90, 10).unwrap().len(), 10);
        let e = file.get_bytes(90, 1 << 40).unwrap_err().to_string();
        assert!(e.contains("past the end of the file (100 bytes)"), "{e}");
        assert!(file.get_read(101).is_err());
        assert!(file.get_bytes(u64::MAX, 2).is_err());
    }
}
