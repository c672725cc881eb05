//! `table::gzip_members::open`: the reader behind every gzip input
//! (members found in windows and inflated in parallel, one large member
//! inflated whole), read to the end. Where it and the streaming decoder
//! (`table::gzip::Members`) both succeed, they must give the same bytes.
#![no_main]

use std::io::{BufReader, Read};

use cohortkit::table::{gzip, gzip_members};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = cohortkit_fuzz::file(data, "input.csv.gz");
    let mut parallel = Vec::new();
    let Ok(mut reader) = gzip_members::open(&path, 2) else {
        return;
    };
    if reader.read_to_end(&mut parallel).is_err() {
        return;
    }
    let mut streamed = Vec::new();
    if gzip::Members::new(BufReader::new(data))
        .read_to_end(&mut streamed)
        .is_ok()
    {
        assert!(parallel == streamed, "the two gzip readers disagree");
    }
});
