//! `dummy::schema::Schema::parse`: schema YAML (invalid UTF-8 replaced, as
//! the text would never reach the parser otherwise).
#![no_main]

use cohortkit::dummy::schema::Schema;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = Schema::parse(&String::from_utf8_lossy(data));
});
