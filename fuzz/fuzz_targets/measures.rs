//! `measures::extract_from` and `compute::calculate`: CSV text as an
//! extract, and every kind of measure on it (each grouping, a numeric group
//! key, suppression on and off).
#![no_main]

use cohortkit::measures::{compute, extract_from};
use cohortkit::study::Measure;
use libfuzzer_sys::fuzz_target;

fn measure(numerator: &str, denominator: &str, group_by: &[&str], suppress: bool) -> Measure {
    Measure {
        id: "m".into(),
        numerator: numerator.into(),
        denominator: denominator.into(),
        group_by: group_by.iter().map(|g| g.to_string()).collect(),
        small_number_suppression: suppress,
    }
}

fuzz_target!(|data: &[u8]| {
    let measures = [
        measure("a", "population", &[], false),
        measure("a", "population", &["population"], true),
        measure("a", "b", &["g"], true),
        measure("b", "population", &["g", "h"], false),
        measure("a", "population", &["b"], true),
    ];
    if let Ok(extract) = extract_from(data, &measures) {
        for m in &measures {
            let _ = compute::calculate(m, &extract);
        }
    }
});
