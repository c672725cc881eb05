//! `table::frame::read` of an Arrow IPC file (`.arrow`, `.feather`), every
//! batch read.
#![no_main]

use cohortkit::table::{Format, frame};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = cohortkit_fuzz::file(data, "input.arrow");
    if let Ok(source) = frame::read(&path, Format::Arrow) {
        cohortkit_fuzz::drain(source);
    }
});
