//! `table::frame::read` of a Parquet file, every batch read.
#![no_main]

use cohortkit::table::{Format, frame};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = cohortkit_fuzz::file(data, "input.parquet");
    if let Ok(source) = frame::read(&path, Format::Parquet) {
        cohortkit_fuzz::drain(source);
    }
});
