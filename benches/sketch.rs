//! Criterion benchmarks of a numeric column's sketch
//! (`report::sketch::Sketch`) on 1,000,000 values: uniform and
//! lognormal(0, 3) floats counted, eight sketches of them merged, and the
//! published figures drawn from one.

use cohortkit::report::disclosure::Rule;
use cohortkit::report::sketch::Sketch;
use cohortkit::report::{histogram, statistics};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, LogNormal};
use rand_pcg::Pcg64;

const VALUES: usize = 1_000_000;

/// Threads a report might split a column between.
const PARTS: usize = 8;

fn sketch(values: &[f64]) -> Sketch {
    let mut sketch = Sketch::default();
    for &v in values {
        sketch.add_float(v, 1);
    }
    sketch
}

fn benches(c: &mut Criterion) {
    let mut rng = Pcg64::seed_from_u64(1);
    let lognormal = LogNormal::new(0.0, 3.0).unwrap();
    let shapes: [(&str, Vec<f64>); 2] = [
        (
            "uniform",
            (0..VALUES)
                .map(|_| rng.random_range(0.0..1_000.0))
                .collect(),
        ),
        (
            "lognormal(0, 3)",
            (0..VALUES).map(|_| lognormal.sample(&mut rng)).collect(),
        ),
    ];
    let mut group = c.benchmark_group("sketch");
    group.sample_size(10);
    for (name, values) in &shapes {
        group.throughput(Throughput::Elements(VALUES as u64));
        group.bench_function(format!("add 1,000,000 {name}"), |b| {
            b.iter(|| sketch(values))
        });
        let parts: Vec<Sketch> = values.chunks(VALUES / PARTS).map(sketch).collect();
        group.throughput(Throughput::Elements(PARTS as u64));
        group.bench_function(format!("merge {PARTS} sketches of {name}"), |b| {
            b.iter_batched(
                || parts.clone(),
                |parts| {
                    parts.into_iter().reduce(|mut a, b| {
                        a.merge(b);
                        a
                    })
                },
                BatchSize::LargeInput,
            )
        });
        let whole = sketch(values);
        group.throughput(Throughput::Elements(1));
        group.bench_function(format!("statistics and histogram of {name}"), |b| {
            b.iter(|| {
                let pieces = whole.pieces();
                let range = statistics::histogram_range(&pieces).unwrap();
                (
                    statistics::publish(
                        &whole,
                        &pieces,
                        cohortkit::report::disclosure::Rule::Current,
                    ),
                    histogram::rows(&whole, &pieces, range, Rule::Current),
                )
            })
        });
    }
    group.finish();
}

criterion_group!(sketch_benches, benches);
criterion_main!(sketch_benches);
