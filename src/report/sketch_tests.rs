//! Tests of [`Sketch`]: exact counts, and on data of many shapes split
//! between sketches at random, quantiles within 1 % of rank of the exact
//! ones (numpy's linear interpolation), the same figures whatever the
//! split, and an exact mean.

use proptest::prelude::*;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, LogNormal, Normal, Pareto};
use rand_pcg::Pcg64;

use super::*;
use crate::report::distribution::{Estimate, quantile};
use crate::report::statistics::{self, MAX_RANK_ERROR};

/// A value as a column feeds it: a typed integer or a float.
#[derive(Clone, Copy, Debug)]
enum Input {
    Int(i128),
    Float(f64),
}

impl Input {
    fn value(self) -> f64 {
        match self {
            Input::Int(v) => v as f64,
            Input::Float(v) => v,
        }
    }
}

fn sketch_of(inputs: &[Input]) -> Sketch {
    let mut s = Sketch::default();
    for &input in inputs {
        match input {
            Input::Int(v) => s.add_int(v, 1),
            Input::Float(v) => s.add_float(v, 1),
        }
    }
    s
}

fn floats(values: impl IntoIterator<Item = f64>) -> Vec<Input> {
    values.into_iter().map(Input::Float).collect()
}

/// The quantiles the report uses: quartiles and the histogram's ends.
const QUANTILES: [f64; 5] = [0.01, 0.25, 0.5, 0.75, 0.99];

/// Shapes whose quantiles may be withheld: a dense cluster of distinct
/// values beside a wide spread, which no bounded binning resolves.
const HOSTILE: usize = 13;

/// The shape of tiny and huge values with a few strewn over every decade.
const STREWN: usize = 3;

/// Data of shape `shape` (0..=HOSTILE), `n` values.
fn data(shape: usize, n: usize, rng: &mut Pcg64) -> Vec<Input> {
    let normal = Normal::new(0.0, 1.0).unwrap();
    let mut out = Vec::with_capacity(n);
    match shape {
        0 => {
            let (a, b) = (rng.random_range(-1e6..1e6), rng.random_range(0.0..1e3));
            out.extend(floats((0..n).map(|_| a + b * rng.random::<f64>())));
        }
        1 => {
            let lognormal = LogNormal::new(0.0, 3.0).unwrap();
            out.extend(floats((0..n).map(|_| lognormal.sample(rng))));
        }
        2 => {
            // Heavy duplicates among a continuous spread.
            let heavy = [0.0, 1.0, 2.7, 100.0];
            out.extend(floats((0..n).map(|i| {
                if i % 2 == 0 {
                    heavy[rng.random_range(0..heavy.len())]
                } else {
                    50.0 + 20.0 * normal.sample(rng)
                }
            })));
        }
        STREWN => {
            // Tiny and huge magnitudes beside a normal core, and a few
            // values anywhere from 1e-300 to 1e300.
            out.extend(floats((0..n).map(|_| {
                let sign = if rng.random_bool(0.5) { -1.0 } else { 1.0 };
                match rng.random_range(0..100) {
                    0..30 => sign * rng.random::<f64>() * 1e-300,
                    30..60 => sign * rng.random::<f64>() * 1e300,
                    60..98 => normal.sample(rng),
                    _ => sign * 10f64.powf(rng.random_range(-300.0..300.0)),
                }
            })));
        }
        4 => {
            // Near ±f64::MAX.
            out.extend(floats((0..n).map(|i| match i % 50 {
                0 => f64::MAX,
                1 => -f64::MAX,
                _ => (2.0 * rng.random::<f64>() - 1.0) * f64::MAX,
            })));
        }
        5 => {
            // Subnormals, and a few of the smallest normals.
            out.extend(floats((0..n).map(|i| {
                let magnitude = if i % 10 == 0 {
                    f64::MIN_POSITIVE * (1.0 + rng.random::<f64>())
                } else {
                    f64::from_bits(rng.random_range(1..1u64 << 52))
                };
                if rng.random_bool(0.3) {
                    -magnitude
                } else {
                    magnitude
                }
            })));
        }
        6 => {
            // Integers near i64::MIN and i64::MAX, as an Int64 column.
            out.extend((0..n).map(|_| {
                let offset = rng.random_range(0..1_000_000i64);
                Input::Int(
                    if rng.random_bool(0.5) {
                        i64::MAX - offset
                    } else {
                        i64::MIN + offset
                    }
                    .into(),
                )
            }));
        }
        7 => {
            // Integers near u64::MAX, as a UInt64 column, and small ones.
            out.extend((0..n).map(|i| {
                Input::Int(if i % 3 == 0 {
                    rng.random_range(0..10_000).into()
                } else {
                    i128::from(u64::MAX - rng.random_range(0..1_000_000u64))
                })
            }));
        }
        8 => {
            // Identifiers and counts: many distinct whole numbers.
            out.extend((0..n).map(|_| Input::Int(rng.random_range(0..(n as i128) * 3))));
        }
        9 => {
            // Past the exact limit, with a 1e19 (the capacity-overflow panic).
            out.extend(floats((0..n).map(|i| (i % 5_000) as f64 * 0.37)));
            out[n / 2] = Input::Float(1e19);
            out[n / 3] = Input::Int(10i128.pow(19));
        }
        10 => {
            let pareto = Pareto::new(1.0, 0.5).unwrap();
            out.extend(floats((0..n).map(|_| pareto.sample(rng))));
        }
        11 => {
            // ±1.5e308 among ordinary values.
            out.extend(floats((0..n).map(|i| match i % 4 {
                0 => 1.5e308,
                1 => -1.5e308,
                _ => 10.0 * normal.sample(rng),
            })));
        }
        12 => {
            // A narrow peak far from zero.
            out.extend(floats((0..n).map(|_| 1e6 + 1e-3 * normal.sample(rng))));
        }
        _ => {
            // Hostile: infinities, NaN, -0.0, a dense cluster of distinct
            // values among a spread over every decade.
            out.extend(floats((0..n).map(|i| match i % 97 {
                0 => f64::INFINITY,
                1 => f64::NEG_INFINITY,
                2 => f64::NAN,
                3 => -0.0,
                4..=40 => 1.0 + 1e-9 * rng.random::<f64>(),
                _ => 10f64.powf(rng.random_range(-320.0..308.0)),
            })));
        }
    }
    out
}

/// numpy's `percentile` (linear) on sorted values.
fn numpy_quantile(sorted: &[f64], q: f64) -> f64 {
    let rank = q * (sorted.len() - 1) as f64;
    let below = rank.floor() as usize;
    let t = rank - below as f64;
    let (a, b) = (sorted[below], sorted[(below + 1).min(sorted.len() - 1)]);
    // numpy's _lerp: from the nearer end.
    match t {
        0.0 => a,
        t if t >= 0.5 => b - (b - a) * (1.0 - t),
        t => a + (b - a) * t,
    }
}

/// How many ranks `value` is from rank `q × (n - 1)` of sorted values:
/// 0 when the value lies where that rank falls.
fn rank_distance(sorted: &[f64], value: f64, q: f64) -> f64 {
    let target = q * (sorted.len() - 1) as f64;
    let below = sorted.partition_point(|&x| x < value) as f64;
    let up_to = sorted.partition_point(|&x| x <= value) as f64;
    // The ranks the value takes (or the gap it falls in).
    let (from, to) = if up_to > below {
        (below, up_to - 1.0)
    } else {
        (below - 1.0, below)
    };
    (from - target).max(target - to).max(0.0)
}

/// Python's `math.fsum` partials (Shewchuk): an exact sum as
/// non-overlapping floats, barring overflow.
fn fsum_partials(values: impl IntoIterator<Item = f64>) -> Vec<f64> {
    let mut partials: Vec<f64> = Vec::new();
    for mut x in values {
        let mut kept = 0;
        for i in 0..partials.len() {
            let mut y = partials[i];
            if x.abs() < y.abs() {
                std::mem::swap(&mut x, &mut y);
            }
            let high = x + y;
            let low = y - (high - x);
            if low != 0.0 {
                partials[kept] = low;
                kept += 1;
            }
            x = high;
        }
        partials.truncate(kept);
        partials.push(x);
    }
    partials
}

/// The exact mean of finite inputs, by another method: whole inputs summed
/// in an i128, floats by fsum, huge ones scaled down by 2^64 so that no
/// partial overflows.
fn reference_mean(inputs: &[Input]) -> f64 {
    let n = inputs.len() as f64;
    let scale = 2f64.powi(64);
    let whole: i128 = inputs
        .iter()
        .map(|i| if let Input::Int(v) = i { *v } else { 0 })
        .sum();
    let float = |i: &Input| {
        if let Input::Float(v) = i {
            Some(*v)
        } else {
            None
        }
    };
    let huge = fsum_partials(
        inputs
            .iter()
            .filter_map(float)
            .filter(|v| v.abs() >= 1e290)
            .map(|v| v / scale),
    );
    let rest = fsum_partials(inputs.iter().filter_map(float).filter(|v| v.abs() < 1e290));
    huge.iter().rev().map(|p| p / n * scale).sum::<f64>()
        + rest.iter().rev().map(|p| p / n).sum::<f64>()
        + whole as f64 / n
}

/// The published figures of a sketch: statistics and histogram rows.
fn figures(sketch: &Sketch) -> impl PartialEq + std::fmt::Debug {
    let pieces = sketch.pieces();
    let histogram = statistics::histogram_range(&pieces).map(|range| {
        crate::report::histogram::rows(
            sketch,
            &pieces,
            range,
            crate::report::disclosure::Rule::Current,
        )
    });
    (
        statistics::publish(sketch, &pieces, crate::report::disclosure::Rule::Current),
        histogram,
        sketch.mean().map(f64::to_bits),
    )
}

fn check(shape: usize, n: usize, seed: u64, parts: usize) -> Result<(), TestCaseError> {
    let mut rng = Pcg64::seed_from_u64(seed);
    let inputs = data(shape, n, &mut rng);
    let whole = sketch_of(&inputs);
    let numbers: Vec<f64> = inputs
        .iter()
        .map(|i| i.value())
        .filter(|v| !v.is_nan())
        .collect();
    prop_assert_eq!(whole.count(), numbers.len() as u64);
    let pieces = whole.pieces();
    prop_assert_eq!(
        pieces.iter().map(|p| p.count()).sum::<u64>(),
        numbers.len() as u64
    );

    // Split at random into parts, merged in a random order.
    let mut split: Vec<Vec<Input>> = vec![Vec::new(); parts];
    for &input in &inputs {
        split[rng.random_range(0..parts)].push(input);
    }
    let mut sketches: Vec<Sketch> = split.iter().map(|part| sketch_of(part)).collect();
    while sketches.len() > 1 {
        let a = sketches.swap_remove(rng.random_range(0..sketches.len()));
        let b = rng.random_range(0..sketches.len());
        sketches[b].merge(a);
    }
    let merged = sketches.pop().unwrap();
    prop_assert_eq!(merged.count(), whole.count());
    prop_assert_eq!(
        merged.pieces(),
        pieces.clone(),
        "the split changes the distribution"
    );
    prop_assert_eq!(
        figures(&merged),
        figures(&whole),
        "the split changes a figure"
    );

    let finite = numbers.iter().all(|v| v.is_finite());
    if !finite {
        return Ok(());
    }
    let mut sorted = numbers.clone();
    sorted.sort_by(f64::total_cmp);
    for q in QUANTILES {
        let Estimate { value, rank_error } = quantile(&pieces, q).unwrap();
        let distance = rank_distance(&sorted, value, q);
        prop_assert!(
            distance <= rank_error as f64 + 1.0,
            "shape {shape}, q{q}: {value:e} is {distance} ranks off, beyond its bound {rank_error} (numpy: {:e})",
            numpy_quantile(&sorted, q)
        );
        let certified = rank_error as f64 <= MAX_RANK_ERROR * n as f64;
        prop_assert!(
            certified || shape == HOSTILE,
            "shape {shape}, q{q} not placed within 1 %: bound {rank_error} of {n}"
        );
        if certified {
            prop_assert!(
                distance <= MAX_RANK_ERROR * n as f64,
                "shape {shape}, q{q}: {distance} ranks off"
            );
        }
        if whole.exact().is_some() {
            prop_assert_eq!(
                value,
                numpy_quantile(&sorted, q),
                "exact counts give numpy's quantile"
            );
        }
    }
    let mean = whole.mean().unwrap();
    let expected = reference_mean(&inputs);
    prop_assert!(mean.is_finite(), "mean {mean}");
    prop_assert!(
        (mean - expected).abs() <= 1e-9 * expected.abs(),
        "mean {mean:e}, exactly {expected:e}"
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Every shape, past the exact limit and below it, split at random.
    #[test]
    fn quantiles_are_within_one_percent_of_rank_whatever_the_split(
        shape in 0..=HOSTILE,
        n in prop_oneof![1 => 1usize..2_500, 3 => 2_500usize..25_000],
        seed in any::<u64>(),
        parts in 1usize..6,
    ) {
        check(shape, n, seed, parts)?;
    }
}

/// Every shape at the size of a cohort; values strewn over every decade
/// at the size of a large one, where they reach most decades.
#[test]
fn every_shape_at_size() {
    for shape in 0..=HOSTILE {
        let n = if shape == STREWN { 1_000_000 } else { 100_000 };
        check(shape, n, shape as u64, 4).unwrap();
    }
}

#[test]
fn few_values_are_counted_exactly() {
    let mut s = sketch_of(&floats([1.0, 2.5, 1.0]));
    s.add_int(1, 1);
    s.add_int(123_456_789_012_345_678, 1);
    let exact = s.exact().unwrap();
    assert!(exact.contains(&(ValueKey::Int(1), 3)));
    assert!(exact.contains(&(ValueKey::Int(123_456_789_012_345_678), 1)));
    assert_eq!(exact.len(), 3);
    assert_eq!(s.fractional(), 1);
    let pieces = sketch_of(&floats([3.0, 1.0, 2.0, 4.0])).pieces();
    assert_eq!(quantile(&pieces, 0.5).unwrap().value, 2.5);
    assert_eq!(quantile(&pieces, 0.25).unwrap().value, 1.75);
}

#[test]
fn whole_numbers_tell_their_extremes() {
    assert!(is_whole(f64::INFINITY));
    for v in [
        0.0,
        -0.0,
        0.5,
        -0.5,
        2.999,
        1e15 + 0.5,
        4.6e18,
        -4.6e18,
        1e300,
    ] {
        assert_eq!(is_whole(v), v.fract() == 0.0, "{v}");
    }
}

/// The defect: a column of more than 2,000 distinct values and one of 1e19
/// panicked (capacity overflow in the linear bins).
#[test]
fn a_1e19_past_the_exact_limit_is_counted() {
    let mut inputs = floats((0..3_000).map(|i| f64::from(i) * 0.37));
    inputs.push(Input::Float(1e19));
    inputs.push(Input::Int(u64::MAX.into()));
    inputs.push(Input::Float(-1e19));
    let s = sketch_of(&inputs);
    assert!(s.exact().is_none());
    assert_eq!(s.count(), 3_003);
    let pieces = s.pieces();
    assert_eq!(pieces.last().unwrap().high, u64::MAX as f64);
    assert_eq!(pieces.first().unwrap().low, -1e19);
    let median = quantile(&pieces, 0.5).unwrap();
    assert_eq!(median.rank_error, 0);
    // Rank 1,501 of 3,003: -1e19 and then 0.37 × 0..=1,500.
    assert_eq!(median.value, 1_500.0 * 0.37);
}

/// The defect: lognormal(0, 3) data gave a median of 53.5 (true: 1.04),
/// everything in one linear bin.
#[test]
fn skewed_data_gets_its_median() {
    let mut rng = Pcg64::seed_from_u64(7);
    let lognormal = LogNormal::new(0.0, 3.0).unwrap();
    let values: Vec<f64> = (0..100_000).map(|_| lognormal.sample(&mut rng)).collect();
    let s = sketch_of(&floats(values.iter().copied()));
    let mut sorted = values;
    sorted.sort_by(f64::total_cmp);
    let median = quantile(&s.pieces(), 0.5).unwrap();
    assert!(median.rank_error <= 1_000, "{median:?}");
    assert!(rank_distance(&sorted, median.value, 0.5) <= 1_000.0);
    assert!(
        (median.value / numpy_quantile(&sorted, 0.5) - 1.0).abs() < 0.01,
        "{median:?}"
    );
}

/// The defect: a column spanning ±1.5e308 had an infinite span and sum, and
/// no section.
#[test]
fn the_whole_float_range_has_a_mean_and_quartiles() {
    let inputs = floats((0..5_000).map(|i| match i % 3 {
        0 => 1.5e308,
        1 => -1.5e308,
        _ => f64::from(i),
    }));
    let s = sketch_of(&inputs);
    assert_eq!(s.mean(), Some(reference_mean(&inputs)));
    let stats =
        statistics::publish(&s, &s.pieces(), crate::report::disclosure::Rule::Current).unwrap();
    assert_eq!((stats.q1, stats.q3), (Some(-1.5e308), Some(1.5e308)));
    assert!(stats.withheld.is_empty(), "{stats:?}");
    assert!(statistics::histogram_range(&s.pieces()).is_some());
}

#[test]
fn many_values_are_binned_and_the_bins_do_not_depend_on_the_split() {
    let values: Vec<f64> = (0..20_000)
        .map(|i| (f64::from(i) * 0.37).sin() * 50.0 + 25.0)
        .collect();
    let whole = sketch_of(&floats(values.iter().copied()));
    assert!(whole.exact().is_none());
    let mut parts = sketch_of(&floats(values[..7_000].iter().copied()));
    parts.merge(sketch_of(&floats(values[7_000..7_500].iter().copied())));
    parts.merge(sketch_of(&floats(values[7_500..].iter().copied())));
    assert_eq!(whole.pieces(), parts.pieces());
    assert_eq!(
        whole.pieces().iter().map(|p| p.count()).sum::<u64>(),
        20_000
    );
}
