//! `table::csv::CsvSource`: the streaming CSV reader (plain, or gzip when
//! the input starts like gzip), every record read.
#![no_main]

use cohortkit::table::csv::CsvSource;
use csv::ByteRecord;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let format = cohortkit_fuzz::csv_format(data);
    let path = cohortkit_fuzz::file(data, &format!("input{}", format.extension()));
    let Ok(mut source) = CsvSource::open(&path, format) else {
        return;
    };
    let mut record = ByteRecord::new();
    while let Ok(true) = source.read_record(&mut record) {}
});
