//! The Stata writer and reader on FLUCATS-shaped data: the 2020-03-01
//! reference extract (124 columns, as the join types CSV) repeated to
//! 50,000 rows.

use std::hint::black_box;
use std::path::Path;

use cohortkit::table::Format;
use cohortkit::table::stata;
use cohortkit::table::typed_csv::read_csv_typed;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const COPIES: usize = 50;

fn flucats() -> arrow_array::RecordBatch {
    let csv = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/reference/flucats/output/input_2020-03-01.csv.gz");
    let one = read_csv_typed(&csv, Format::CsvGz).expect("the reference extract");
    arrow_select::concat::concat_batches(&one.schema(), &vec![one.clone(); COPIES]).unwrap()
}

fn bench(c: &mut Criterion) {
    let batch = flucats();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flucats.dta");
    let mut bytes = Vec::new();
    stata::write(&batch, &mut bytes, &path).unwrap();
    std::fs::write(&path, &bytes).unwrap();

    let mut group = c.benchmark_group("stata");
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.sample_size(10);
    group.bench_function("write 50k x 124", |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(bytes.len());
            stata::write(black_box(&batch), &mut out, &path).unwrap();
            out
        })
    });
    group.bench_function("read 50k x 124", |b| {
        b.iter(|| stata::read(black_box(&path), false).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
