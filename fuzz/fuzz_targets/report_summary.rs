//! The whole report on a CSV file: the profile (as the `report` target),
//! then the published summary (`report::summary::build`) and its HTML.
#![no_main]

use cohortkit::report::disclosure::Rule;
use cohortkit::report::{html, summary};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(profile) = cohortkit_fuzz::profile_csv(data) {
        let report = summary::build(&profile, Rule::Current, String::new());
        html::render(&report);
    }
});
