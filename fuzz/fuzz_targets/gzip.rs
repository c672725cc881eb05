//! `table::gzip::open`: the streaming multi-member gzip reader, read to
//! the end.
#![no_main]

use std::io::Read;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = cohortkit_fuzz::file(data, "input.csv.gz");
    if let Ok(mut reader) = cohortkit::table::gzip::open(&path, true) {
        let _ = reader.read_to_end(&mut Vec::new());
    }
});
