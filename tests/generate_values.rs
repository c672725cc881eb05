//! The values follow the schema's expectations: 100,000 rows of each FLUCATS
//! extract (fixed seed and `--today`) are checked column by column against
//! what their schema says: exact missing counts, missing-follows pairs,
//! category ratios, date bounds and formats, int and float moments.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use cohortkit::dummy::dates::{DateFormat, Day};
use cohortkit::dummy::plan::age_probabilities;
use cohortkit::dummy::schema::{
    Column, DateBound, DateRate, DateSpec, IntDistribution, Missing, Schema, Values,
};

const N: usize = 100_000;
const TODAY: &str = "2026-11-24";

/// What one column's cells add up to.
#[derive(Default)]
struct Tally {
    empty: usize,
    zero: usize,
    /// Sum and sum of squares of the numbers.
    sum: f64,
    squares: f64,
    numbers: usize,
    labels: HashMap<String, usize>,
    days: Vec<i32>,
    /// Rows with a value although the `missing_follows` source is empty.
    mismatched: usize,
    /// Rows whose `missing_follows` source is empty.
    source_empty: usize,
}

fn generate(study: &str, dir: &Path) -> PathBuf {
    let schema = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("testdata/flucats/analysis/{study}.schema.yaml"));
    let file = dir.join(format!("{study}.csv"));
    let output = common::cohortkit()
        .args(["generate", "--schema"])
        .arg(&schema)
        .args([
            "--population",
            &N.to_string(),
            "--today",
            TODAY,
            "--seed",
            "11",
        ])
        .arg("--output-file")
        .arg(&file)
        .output()
        .unwrap();
    common::assert_success(&output);
    file
}

fn day(text: &str, format: DateFormat) -> Option<Day> {
    match format {
        DateFormat::Day => Day::parse_iso(text),
        DateFormat::Month => Day::parse_iso(&format!("{text}-01")),
        DateFormat::Year => Day::parse_iso(&format!("{text}-01-01")),
    }
}

fn tally(schema: &Schema, file: &Path) -> Vec<Tally> {
    let columns = &schema.columns;
    let source: Vec<Option<usize>> = columns
        .iter()
        .map(|c| match &c.missing {
            Missing::Follows(s) => columns.iter().position(|o| &o.name == s),
            _ => None,
        })
        .collect();
    let mut tallies: Vec<Tally> = columns.iter().map(|_| Tally::default()).collect();
    let mut reader = csv::Reader::from_path(file).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(header, names);
    let mut rows = 0;
    for record in reader.records() {
        let record = record.unwrap();
        rows += 1;
        for (i, (column, t)) in columns.iter().zip(&mut tallies).enumerate() {
            let cell = &record[i];
            // A missing flag, int or float is written 0 / 0.0.
            let absent = cell.is_empty() || cell == "0" || cell == "0.0";
            if let Some(s) = source[i] {
                let source_empty = record[s].is_empty();
                t.source_empty += usize::from(source_empty);
                t.mismatched += usize::from(source_empty && !absent);
            }
            if cell.is_empty() {
                t.empty += 1;
                continue;
            }
            if absent {
                t.zero += 1;
            }
            match &column.values {
                Values::Date(spec) => {
                    let d = day(cell, spec.format).unwrap_or_else(|| {
                        panic!("{}: {cell:?} is not {:?}", column.name, spec.format)
                    });
                    t.days.push(d.0);
                }
                Values::Text { .. } => *t.labels.entry(cell.to_string()).or_default() += 1,
                Values::Fixed { value, .. } => assert_eq!(cell, value, "{}", column.name),
                _ => {
                    let v: f64 = cell.parse().unwrap();
                    t.numbers += 1;
                    if !absent {
                        t.sum += v;
                        t.squares += v * v;
                    }
                    if matches!(column.values, Values::Flag) {
                        assert!(cell == "0" || cell == "1", "{}: {cell}", column.name);
                    }
                }
            }
        }
    }
    assert_eq!(rows, N);
    tallies
}

/// `count` of `n` is within 4.5 binomial standard deviations of share `p`.
fn close(count: usize, n: usize, p: f64) -> bool {
    let sd = (n as f64 * p * (1.0 - p)).sqrt();
    (count as f64 - n as f64 * p).abs() <= 4.5 * sd + 1.0
}

fn exact_missing(column: &Column) -> Option<usize> {
    match column.missing {
        Missing::Incidence(p) => Some(((1.0 - p) * N as f64) as usize),
        Missing::Never => Some(0),
        Missing::Follows(_) => None,
    }
}

fn check(schema: &Schema, tallies: &[Tally]) {
    let today = Day::parse_iso(TODAY).unwrap();
    let resolve = |b: DateBound| match b {
        DateBound::Day(d) => d,
        DateBound::Today => today,
        DateBound::IndexDate => schema.index_date.unwrap(),
    };
    for (column, t) in schema.columns.iter().zip(tallies) {
        let name = &column.name;
        let missing = exact_missing(column);
        assert_eq!(t.mismatched, 0, "{name}: missing where its date is not");
        match &column.values {
            Values::PatientId => assert_eq!(t.numbers, N, "{name}"),
            Values::Flag => {
                // Exactly the missing rows are 0: by incidence, or where the date is empty.
                assert_eq!(t.zero, missing.unwrap_or(t.source_empty), "{name}: zeros");
            }
            Values::Float { mean: mu, stddev } => {
                let m = missing.unwrap_or(t.source_empty);
                // A drawn float is never exactly 0.0.
                assert_eq!(t.zero, m, "{name}: zeros");
                let (mean, sd) = moments(t, N - m);
                assert!(
                    (mean - mu).abs() < 4.0 * stddev / ((N - m) as f64).sqrt(),
                    "{name}: mean {mean}"
                );
                assert!((sd / stddev - 1.0).abs() < 0.03, "{name}: sd {sd}");
            }
            Values::Int(IntDistribution::Normal { mean: mu, stddev }) => {
                let m = missing.unwrap_or(t.source_empty);
                assert!(
                    t.zero >= m && t.zero <= m + 2,
                    "{name}: {} zeros, {m} missing",
                    t.zero
                );
                let (mean, sd) = moments(t, N - t.zero);
                // Truncation towards zero lowers a positive mean by about 1/2.
                assert!((mean - (mu - 0.5)).abs() < 0.1, "{name}: mean {mean}");
                assert!((sd / stddev - 1.0).abs() < 0.03, "{name}: sd {sd}");
            }
            Values::Int(IntDistribution::Poisson { mean: mu }) => {
                let m = missing.unwrap_or(t.source_empty);
                let p0 = (-mu).exp();
                assert!(close(t.zero - m, N - m, p0), "{name}: {} zeros", t.zero);
                let (mean, _) = moments(t, N - m);
                assert!((mean - mu).abs() < 0.05, "{name}: mean {mean}");
            }
            Values::Int(IntDistribution::PopulationAges) => {
                let p = age_probabilities();
                let expected: f64 = p.iter().enumerate().map(|(age, p)| age as f64 * p).sum();
                // Age 0 is a value here, not a missing one.
                let (mean, _) = moments(t, N);
                assert!(
                    (mean - expected).abs() < 0.3,
                    "{name}: mean age {mean}, expected {expected}"
                );
                assert!(close(t.zero, N, p[0]), "{name}: {} aged 0", t.zero);
            }
            Values::Date(spec) => check_dates(
                name,
                spec,
                t,
                missing,
                resolve(spec.earliest),
                resolve(spec.latest),
            ),
            Values::Text { ratios, .. } => {
                let none: f64 = ratios
                    .iter()
                    .filter(|(l, _)| l.is_none())
                    .map(|(_, p)| p)
                    .sum();
                match missing {
                    Some(m) if none == 0.0 => assert_eq!(t.empty, m, "{name}: empty"),
                    Some(m) => {
                        assert!(close(t.empty - m, N - m, none), "{name}: {} empty", t.empty)
                    }
                    None => {}
                }
                let drawn: usize = t.labels.values().sum::<usize>()
                    + if none > 0.0 {
                        t.empty - missing.unwrap_or(t.empty)
                    } else {
                        0
                    };
                for (label, p) in ratios.iter().filter(|(l, _)| l.is_some()) {
                    let count = t
                        .labels
                        .get(label.as_deref().unwrap())
                        .copied()
                        .unwrap_or(0);
                    if missing.is_some() {
                        assert!(
                            close(count, drawn, *p),
                            "{name}: {label:?} {count} of {drawn}"
                        );
                    }
                }
                let known: Vec<&str> = ratios.iter().filter_map(|(l, _)| l.as_deref()).collect();
                assert!(
                    t.labels.keys().all(|l| known.contains(&l.as_str())),
                    "{name}"
                );
            }
            Values::Fixed { .. } => assert_eq!(t.empty, 0, "{name}"),
        }
    }
}

/// Mean and standard deviation of the non-zero numbers over `n` values.
fn moments(t: &Tally, n: usize) -> (f64, f64) {
    let mean = t.sum / n as f64;
    (mean, (t.squares / n as f64 - mean * mean).sqrt())
}

fn check_dates(
    name: &str,
    spec: &DateSpec,
    t: &Tally,
    missing: Option<usize>,
    earliest: Day,
    latest: Day,
) {
    let (low, high) = spec.keep_between;
    let first = if latest > earliest {
        earliest.0 + 1
    } else {
        latest.0
    };
    for &d in &t.days {
        let d = Day(d);
        assert!(
            spec.format.truncate(Day(first)) <= d && d <= latest,
            "{name}: {d} outside ({earliest}, {latest}]"
        );
        assert!(
            low.is_none_or(|l| d >= l) && high.is_none_or(|h| d <= h),
            "{name}: {d} outside keep_between"
        );
    }
    let span = f64::from(latest.0 - earliest.0);
    // Share of drawn dates inside keep_between.
    let kept = |lo: f64, hi: f64| -> f64 {
        // Days back from latest, as a share of the span, kept in [lo, hi].
        match spec.rate {
            DateRate::Uniform => (hi - lo).max(0.0),
            DateRate::ExponentialIncrease => {
                let cdf = |x: f64| (1.0 - (-10.0 * x).exp()) / (1.0 - (-10.0f64).exp());
                (cdf(hi) - cdf(lo)).max(0.0)
            }
        }
    };
    let back = |d: Option<Day>, default: f64| {
        d.map_or(default, |d| {
            ((latest.0 - d.0) as f64 / span.max(1.0)).clamp(0.0, 1.0)
        })
    };
    let share = if span == 0.0 {
        let inside = low.is_none_or(|l| latest >= l) && high.is_none_or(|h| latest <= h);
        f64::from(u8::from(inside))
    } else {
        kept(back(high, 0.0), back(low, 1.0))
    };
    if let Some(m) = missing {
        let drawn = N - m;
        let present = t.days.len();
        if share == 1.0 {
            assert_eq!(present, drawn, "{name}: present");
        } else {
            assert!(
                close(present, drawn, share),
                "{name}: {present} of {drawn}, share {share}"
            );
        }
    }
    if spec.keep_between == (None, None) && span > 1000.0 {
        let mean_back =
            t.days.iter().map(|&d| f64::from(latest.0 - d)).sum::<f64>() / t.days.len() as f64;
        // Writing a month or a year moves dates back to its first day.
        let truncation = match spec.format {
            DateFormat::Day => 0.0,
            DateFormat::Month => 14.7,
            DateFormat::Year => 182.1,
        };
        let expected = truncation
            + match spec.rate {
                DateRate::Uniform => span / 2.0,
                DateRate::ExponentialIncrease => span / 10.0,
            };
        assert!(
            (mean_back / expected - 1.0).abs() < 0.02,
            "{name}: mean {mean_back} days back, expected {expected}"
        );
    }
}

#[test]
fn weekly_values_follow_their_expectations() {
    let dir = tempfile::tempdir().unwrap();
    let schema = Schema::load(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("testdata/flucats/analysis/study_definition.schema.yaml"),
    )
    .unwrap();
    let file = generate("study_definition", dir.path());
    check(&schema, &tally(&schema, &file));
}

#[test]
fn end_values_follow_their_expectations() {
    let dir = tempfile::tempdir().unwrap();
    let schema = Schema::load(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("testdata/flucats/analysis/study_definition_end.schema.yaml"),
    )
    .unwrap();
    let file = generate("study_definition_end", dir.path());
    check(&schema, &tally(&schema, &file));
}

#[test]
fn other_types_formats_and_rates_follow_their_expectations() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.schema.yaml");
    std::fs::write(
        &path,
        "\
study_definition: study_definition_other
index_date: 2021-06-15
defaults:
  incidence: 0.3
columns:
- name: year
  type: date
  earliest: 1990-01-01
  latest: 2020-12-31
- name: month
  type: date
  earliest: 2000-01-01
  latest: index_date
  format: YYYY-MM
  rate: exponential_increase
- name: visits
  type: int
  incidence: 0.9
  distribution: poisson
  mean: 3.5
- name: note
  type: string
  rate: universal
  ratios: {'a, b': 0.25, 'say \"hi\"': 0.25, plain: 0.5}
- name: weight
  type: float
  value: 1.5
- name: patient_id
  type: patient_id
",
    )
    .unwrap();
    let schema = Schema::load(&path).unwrap();
    let file = dir.path().join("other.csv");
    let output = common::cohortkit()
        .args(["generate", "--schema"])
        .arg(&path)
        .args([
            "--population",
            &N.to_string(),
            "--today",
            TODAY,
            "--output-file",
        ])
        .arg(&file)
        .output()
        .unwrap();
    common::assert_success(&output);
    let text = std::fs::read_to_string(&file).unwrap();
    let first = text.lines().nth(1).unwrap();
    assert!(first.contains(",1.5,"), "{first}");
    check(&schema, &tally(&schema, &file));
}
