//! Criterion benchmarks of the pipeline's own overhead around the tools it
//! runs: reading and validating the FLUCATS project.yaml, listing a
//! project's code files, preparing an action's directory with 109 one-MiB
//! extracts (hard links for cohortkit's own tools beside copies for
//! programs) and describing outputs for the manifest (sha256).

use std::path::Path;

use cohortkit::pipeline::metadata;
use cohortkit::pipeline::outputs::{Level, Level4Check};
use cohortkit::pipeline::validate;
use cohortkit::pipeline::workspace::{Inputs, Workspace, code_files};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn flucats_project() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/flucats/project.yaml")
}

/// A project directory with the FLUCATS code and 109 one-MiB extracts.
fn project_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    cohortkit::pipeline::demo::write_study(dir.path()).unwrap();
    std::fs::create_dir(dir.path().join("output")).unwrap();
    let data = vec![b'x'; 1 << 20];
    for week in 0..108 {
        std::fs::write(
            dir.path().join(format!("output/input_20{week:03}.csv.gz")),
            &data,
        )
        .unwrap();
    }
    std::fs::write(dir.path().join("output/input_end.csv.gz"), &data).unwrap();
    dir
}

fn benches(c: &mut Criterion) {
    c.bench_function("check FLUCATS project.yaml", |b| {
        b.iter(|| validate::load(&flucats_project()).unwrap())
    });

    let dir = project_dir();
    let p = dir.path();
    let patterns = ["output/input_*.csv.gz", "output/joined/input_20*.csv.gz"];
    c.bench_function("list code files", |b| {
        b.iter(|| code_files(p, &patterns).unwrap())
    });

    let mut inputs = code_files(p, &[]).unwrap();
    inputs.retain(|f| f.starts_with("output/"));
    assert_eq!(inputs.len(), 109);
    let root = p.join("metadata/.cohortkit/work");
    let mut group = c.benchmark_group("prepare an action directory (109 MiB of inputs)");
    group.throughput(Throughput::Bytes(109 << 20));
    for (name, how) in [("linked", Inputs::Linked), ("copied", Inputs::Copied)] {
        group.bench_function(name, |b| {
            b.iter(|| Workspace::create(&root, "join", p, &inputs, how).unwrap())
        });
    }
    group.finish();

    let mut group = c.benchmark_group("manifest");
    group.throughput(Throughput::Bytes(1 << 20));
    let file = p.join("output/input_end.csv.gz");
    group.bench_function("describe a 1 MiB output (sha256)", |b| {
        b.iter(|| {
            metadata::describe(&file, Level::HighlySensitive, "a", &Level4Check::default()).unwrap()
        })
    });
    group.finish();
}

criterion_group!(pipeline, benches);
criterion_main!(pipeline);
