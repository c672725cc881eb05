//! `table::gzip_members::open`: the parallel member reader the report
//! uses, read to the end. Where it and the streaming reader
//! (`table::gzip::open`) both succeed, they must give the same bytes.
#![no_main]

use std::io::Read;
use std::path::Path;

use cohortkit::table::{gzip, gzip_members};
use libfuzzer_sys::fuzz_target;

fn read_all(path: &Path, parallel: bool) -> Option<Vec<u8>> {
    let mut reader = match parallel {
        true => gzip_members::open(path, 2),
        false => gzip::open(path, true),
    }
    .ok()?;
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes).ok()?;
    Some(bytes)
}

fuzz_target!(|data: &[u8]| {
    let path = cohortkit_fuzz::file(data, "input.csv.gz");
    if let Some(parallel) = read_all(&path, true)
        && let Some(streamed) = read_all(&path, false)
    {
        assert!(parallel == streamed, "the two gzip readers disagree");
    }
});
