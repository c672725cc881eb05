//! Dummy-data generation: drawing a chunk of the FLUCATS weekly extract,
//! rendering it as CSV, and a whole 100,000-row csv.gz file.

use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

use cohortkit::dummy::chunk::{self, FileKey};
use cohortkit::dummy::dates::Day;
use cohortkit::dummy::generate::{self, CHUNK_ROWS, OutputFile, Settings};
use cohortkit::dummy::ids::Ids;
use cohortkit::dummy::plan::DrawPlan;
use cohortkit::dummy::render;
use cohortkit::dummy::schema::Schema;
use cohortkit::table::Format;

fn weekly_plan(population: u64) -> DrawPlan {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/flucats/analysis/study_definition.schema.yaml");
    let schema = Schema::load(&path).expect("bundled schema");
    DrawPlan::new(&schema, population, Day::parse_iso("2026-11-24").unwrap()).unwrap()
}

fn chunks(c: &mut Criterion) {
    let plan = weekly_plan(100_000);
    let ids = Ids::shared(1, plan.population, Some(18_322));
    let key = FileKey { seed: 1, file: 2 };
    let rows = CHUNK_ROWS as usize;
    let mut group = c.benchmark_group("weekly_chunk");
    group.throughput(Throughput::Elements((rows * plan.columns.len()) as u64));
    group.bench_function("draw", |b| {
        b.iter(|| chunk::draw(&plan, &ids, key, 3, 3 * CHUNK_ROWS, rows))
    });
    let drawn = chunk::draw(&plan, &ids, key, 3, 3 * CHUNK_ROWS, rows);
    let mut out = Vec::new();
    group.bench_function("render_csv", |b| {
        b.iter(|| {
            out.clear();
            render::csv(&plan, &drawn, &mut out);
            out.len()
        })
    });
    let schema = render::arrow_schema(&plan);
    let dictionaries = render::dictionaries(&plan);
    group.bench_function("render_arrow", |b| {
        b.iter(|| render::batch(&plan, &drawn, &schema, &dictionaries))
    });
    group.finish();
}

fn whole_file(c: &mut Criterion) {
    let plan = weekly_plan(100_000);
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings {
        seed: 1,
        independent_ids: false,
        level: 6,
    };
    let progress = cohortkit::progress::Rows::hidden();
    let mut group = c.benchmark_group("weekly_file_100k");
    group.sample_size(10);
    for format in [Format::CsvGz, Format::Csv, Format::Feather] {
        let job = OutputFile {
            path: dir.path().join(format!("input{}", format.extension())),
            format,
            date: Day::parse_iso("2020-03-01"),
        };
        group.bench_function(&format.extension()[1..], |b| {
            b.iter(|| {
                generate::write(&plan, "study_definition", &job, settings, &progress).unwrap()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, chunks, whole_file);
criterion_main!(benches);
