//! The report's profiler on a CSV file (plain, or `.csv.gz` when the input
//! starts like gzip): `report::profile`, which reads the file with
//! `report::scan::scan` and finishes every column's statistics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    cohortkit_fuzz::profile_csv(data);
});
