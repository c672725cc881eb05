//! `table::gzip::Members`: the streaming multi-member gzip decoder that
//! every gzip reader falls back on, read to the end.
#![no_main]

use std::io::{BufReader, Read};

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = cohortkit::table::gzip::Members::new(BufReader::new(data)).read_to_end(&mut Vec::new());
});
