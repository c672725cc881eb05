//! Criterion benchmarks of the report's stages on a FLUCATS joined file
//! (the upstream reference, 1,000 rows x 147 columns, repeated to 20,000
//! rows): profiling a csv.gz end to end, classifying fields, and rendering.
//! Whole-command timings against pandas are in `scripts/bench-report`.

use std::io::Write;
use std::path::{Path, PathBuf};

use cohortkit::report::{column::ColumnAcc, disclosure::Rule, html, profile, summary};
use cohortkit::table::Format;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const COPIES: usize = 20;

fn reference() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/reference/flucats/output/joined/input_2020-03-15.csv.gz")
}

/// The reference rows repeated, as plain CSV text.
fn repeated() -> Vec<u8> {
    let text = cohortkit::table::gzip::read_all(&reference(), true).expect("reference file");
    let header_end = text.iter().position(|&b| b == b'\n').unwrap() + 1;
    let mut out = text[..header_end].to_vec();
    for _ in 0..COPIES {
        out.extend_from_slice(&text[header_end..]);
    }
    out
}

fn benches(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let csv = repeated();
    let gz_path = dir.path().join("joined.csv.gz");
    let mut encoder = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz_path).unwrap(),
        flate2::Compression::new(6),
    );
    encoder.write_all(&csv).unwrap();
    encoder.finish().unwrap();

    let mut group = c.benchmark_group("report");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(csv.len() as u64));
    group.bench_function("profile csv.gz (20,000 x 147)", |b| {
        b.iter(|| profile::profile(&gz_path, Format::CsvGz, &|_| {}).unwrap())
    });

    let fields: Vec<&[u8]> = csv.split(|&b| b == b',' || b == b'\n').collect();
    group.throughput(Throughput::Elements(fields.len() as u64));
    group.bench_function("classify and count fields", |b| {
        b.iter(|| {
            let mut acc = ColumnAcc::default();
            for field in &fields {
                acc.add_field(field);
            }
            acc
        })
    });

    let profiled = profile::profile(&gz_path, Format::CsvGz, &|_| {}).unwrap();
    group.throughput(Throughput::Elements(profiled.columns.len() as u64));
    group.bench_function("summarise and render HTML", |b| {
        b.iter(|| html::render(&summary::build(&profiled, Rule::Current, String::new())))
    });
    group.finish();
}

criterion_group!(report, benches);
criterion_main!(report);
