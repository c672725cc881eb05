//! `table::stata::read`: a whole `.dta` file into one batch; gzip when the
//! input starts like gzip (as for a `.dta.gz`), as it is otherwise.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = cohortkit_fuzz::file(data, "input.dta.gz");
    let _ = cohortkit_fuzz::pool().install(|| cohortkit::table::stata::read(&path, true));
});
