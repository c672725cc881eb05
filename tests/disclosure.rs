//! A self-audit of the report's disclosure control: an attacker that reads
//! nothing but a report's JSON works out, for every redacted count, every
//! value it could have (integer interval reasoning over all the counts the
//! report publishes together: the rows, each table's cells with their
//! rounding, and that every table of a column adds up to the rows), and
//! the property test checks on random small tables that no redacted count
//! of 7 or fewer is left with one possible value, and that every published
//! count obeys the rule. A second property checks that the report's shape
//! (its rows, labels, kinds, types and flags: everything but the numbers)
//! is the same whether a small count is 0 or anything up to 7, so that
//! what is shown cannot tell them apart.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use cohortkit::report::disclosure::Rule;
use cohortkit::report::{profile, summary};
use cohortkit::table::Format;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::Value;

/// What a published count says about the true one.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Range {
    lo: u64,
    hi: u64,
}

impl Range {
    const ANY: Range = Range {
        lo: 0,
        hi: u64::MAX,
    };

    /// The true counts a published one (or a redacted one, `None`) allows.
    fn of(rule: Rule, published: Option<u64>) -> Range {
        match (rule, published) {
            (_, None) => Range::ANY,
            (Rule::Current, Some(c)) => Range {
                lo: c.saturating_sub(2).max(8),
                hi: c + 2,
            },
            (Rule::Midpoint6, Some(0)) => Range { lo: 0, hi: 0 },
            (Rule::Midpoint6, Some(c)) => Range {
                lo: c - 2,
                hi: c + 3,
            },
            (Rule::Legacy, Some(c)) => Range {
                lo: c.saturating_sub(2),
                hi: c + 2,
            },
        }
    }

    fn pinned(self) -> bool {
        self.lo == self.hi
    }
}

/// One table of a column, as the attacker reads it: cells that add up to
/// the rows.
#[derive(Debug)]
struct Table {
    column: String,
    /// The column's kind, and whether its missing count holds the few
    /// values outside that kind too.
    kind: String,
    missing_or_other: bool,
    labels: Vec<String>,
    published: Vec<Option<u64>>,
}

/// The tables of a report's JSON that each partition the rows.
fn tables(report: &Value) -> Vec<Table> {
    let mut tables = Vec::new();
    for column in report["columns"].as_array().unwrap() {
        let name = column["name"].as_str().unwrap().to_string();
        let summary = &column["summary"];
        let values = summary["values"].as_array().unwrap();
        let count = |v: &Value| v.as_u64();
        let label = |v: &Value| v.as_str().unwrap_or("missing").to_string();
        let mut table = Table {
            column: name,
            kind: summary["kind"].as_str().unwrap().to_string(),
            missing_or_other: summary["missing_label"] == "missing or other",
            labels: Vec::new(),
            published: Vec::new(),
        };
        if !values.first().is_some_and(|v| v["value"].is_null()) {
            table.labels.push("missing".into());
            table.published.push(count(&summary["missing"]["count"]));
        }
        for v in values {
            table.labels.push(label(&v["value"]));
            table.published.push(count(&v["count"]));
        }
        if table.published.len() > 1 {
            tables.push(table);
        }
    }
    tables
}

/// Every cell's feasible range given all tables together, and the rows'.
fn feasible(rule: Rule, rows: Option<u64>, tables: &[Table]) -> (Range, Vec<Vec<Range>>) {
    let mut n = Range::of(rule, rows);
    let mut cells: Vec<Vec<Range>> = tables
        .iter()
        .map(|t| t.published.iter().map(|&p| Range::of(rule, p)).collect())
        .collect();
    loop {
        let before = (n, cells.clone());
        for table in &mut cells {
            let lo: u64 = table.iter().map(|r| r.lo).sum();
            let hi = table.iter().fold(0u64, |s, r| s.saturating_add(r.hi));
            n.lo = n.lo.max(lo);
            n.hi = n.hi.min(hi);
            for i in 0..table.len() {
                let others_lo: u64 = lo - table[i].lo;
                let others_hi = table
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .fold(0u64, |s, (_, r)| s.saturating_add(r.hi));
                table[i].lo = table[i].lo.max(n.lo.saturating_sub(others_hi));
                table[i].hi = table[i].hi.min(n.hi.saturating_sub(others_lo));
            }
        }
        if (n, cells.clone()) == before {
            return (n, cells);
        }
    }
}

/// A generated column: its kind and each row's value ("" for missing).
#[derive(Clone, Debug)]
struct Column {
    name: String,
    values: Vec<String>,
}

/// Values of a category with more than the report lists by name.
const CODES: [&str; 25] = [
    "", "c01", "c02", "c03", "c04", "c05", "c06", "c07", "c08", "c09", "c10", "c11", "c12", "c13",
    "c14", "c15", "c16", "c17", "c18", "c19", "c20", "c21", "c22", "c23", "c24",
];

/// Values of a numeric column, summarised in bins.
const AGES: [&str; 12] = [
    "", "3", "17", "18", "25", "40", "41", "65", "80", "95", "101", "0",
];

/// Values of a date column, summarised by period.
const DATES: [&str; 10] = [
    "",
    "2020-01-15",
    "2020-02-01",
    "2020-02-29",
    "2020-06-30",
    "2021-01-01",
    "2021-03-05",
    "2022-12-31",
    "2019-07-04",
    "2020-03-01",
];

/// Columns of one kind each, with 0 to 20 patients per category, and 0 to
/// 3 per stray value that is not of the kind (a `2` among flags, an
/// `unknown` among dates).
fn case() -> impl Strategy<Value = Vec<Column>> {
    let column = |kind: &'static str, labels: &[&'static str], strays: &[&'static str]| {
        let labels = labels.to_vec();
        let strays = strays.to_vec();
        (
            proptest::collection::vec(0usize..=20, labels.len()),
            proptest::collection::vec(0usize..=3, strays.len()),
        )
            .prop_map(move |(counts, stray_counts)| {
                let labels = labels.iter().chain(&strays);
                let counts = counts.into_iter().chain(stray_counts);
                (
                    kind,
                    labels.zip(counts).map(|(l, c)| (*l, c)).collect::<Vec<_>>(),
                )
            })
    };
    let kinds = prop_oneof![
        column("flag", &["", "0", "1"], &["2", "unknown"]),
        column("region", &["", "North", "South", "East", "West"], &[]),
        column("sex", &["", "F", "M", "U"], &[]),
        column("ever", &["", "True", "False"], &["0"]),
        // ehrQL's booleans in CSV.
        column("has", &["", "T", "F"], &["U"]),
        column("code", &CODES, &[]),
        column("age", &AGES, &["x"]),
        column("date", &DATES, &["unknown", "5"]),
    ];
    proptest::collection::vec(kinds, 1..=4).prop_map(|columns| {
        columns
            .into_iter()
            .enumerate()
            .map(|(i, (kind, counts))| Column {
                name: format!("{kind}_{i}"),
                values: counts
                    .iter()
                    .flat_map(|&(l, c): &(&str, usize)| std::iter::repeat_n(l.to_string(), c))
                    .collect(),
            })
            .collect()
    })
}

/// The true count of each label of each column, padded so that every
/// column has as many rows as the longest ("" filling the rest).
fn write_case(columns: &mut [Column], path: &Path) -> Vec<BTreeMap<String, u64>> {
    let rows = columns.iter().map(|c| c.values.len()).max().unwrap_or(0);
    for c in columns.iter_mut() {
        c.values.resize(rows, String::new());
    }
    let mut file = std::fs::File::create(path).unwrap();
    let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
    writeln!(file, "patient_id,{}", names.join(",")).unwrap();
    for row in 0..rows {
        let cells: Vec<&str> = columns.iter().map(|c| c.values[row].as_str()).collect();
        writeln!(file, "{},{}", row + 1, cells.join(",")).unwrap();
    }
    columns
        .iter()
        .map(|c| {
            let mut truth = BTreeMap::new();
            for v in &c.values {
                let label = if v.is_empty() { "missing" } else { v.as_str() };
                *truth.entry(label.to_string()).or_insert(0) += 1;
            }
            truth
        })
        .collect()
}

fn check(rule: Rule, mut columns: Vec<Column>) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("input.csv");
    let truths = write_case(&mut columns, &path);
    let profile = profile::profile(&path, Format::Csv, &|_| {}).unwrap();
    let report = summary::build(&profile, rule, String::new());
    let json = serde_json::to_value(&report).unwrap();
    let tables = tables(&json);
    let rows = json["rows"].as_u64();
    let (_, ranges) = feasible(rule, rows, &tables);
    for (table, ranges) in tables.iter().zip(&ranges) {
        let i = columns.iter().position(|c| c.name == table.column);
        let truth = i.map(|i| &truths[i]);
        for ((label, published), range) in table.labels.iter().zip(&table.published).zip(ranges) {
            let truth = truth.and_then(|t| true_count(t, label, table));
            let what = format!(
                "{rule:?} {}: {label} (true {truth:?}) in {json}",
                table.column
            );
            if let Some(truth) = truth {
                prop_assert!(
                    range.lo <= truth && truth <= range.hi,
                    "the attacker's range {range:?} misses the truth: the model is wrong: {what}"
                );
            }
            match (published, truth) {
                (None, _) => prop_assert!(
                    !range.pinned(),
                    "redacted count pinned to {}: {what}",
                    range.lo
                ),
                (Some(c), Some(truth)) => prop_assert!(
                    obeys(rule, *c, truth),
                    "published {c} breaks the rule: {what}"
                ),
                (Some(_), None) => {}
            }
        }
    }
    Ok(())
}

/// The true count of a row of a table: a value's, the missing values' (with
/// the values outside the kind, where they count with them), all present
/// values' or those not listed ("Other values"). `None` for the bins and
/// periods of numbers and dates, which are not values.
fn true_count(truth: &BTreeMap<String, u64>, label: &str, table: &Table) -> Option<u64> {
    let present = || truth.iter().filter(|(l, _)| *l != "missing");
    let unlisted = || {
        present()
            .filter(|(l, _)| !table.labels.contains(l))
            .map(|(_, c)| c)
            .sum::<u64>()
    };
    Some(match label {
        "missing" => {
            let missing = truth.get(label).copied().unwrap_or(0);
            let strays = match table.kind.as_str() {
                _ if !table.missing_or_other => 0,
                "boolean" => unlisted(),
                "numeric" => present()
                    .filter(|(l, _)| l.parse::<f64>().is_err())
                    .map(|(_, c)| c)
                    .sum(),
                "date" => present().filter(|(l, _)| !is_date(l)).map(|(_, c)| c).sum(),
                kind => panic!("{kind} counts no strays"),
            };
            missing + strays
        }
        "All values" => present().map(|(_, c)| c).sum(),
        _ if table.column.starts_with("age") || table.column.starts_with("date") => return None,
        "Other values" => unlisted(),
        _ => truth.get(label).copied().unwrap_or(0),
    })
}

fn is_date(label: &str) -> bool {
    chrono::NaiveDate::parse_from_str(label, "%Y-%m-%d").is_ok()
}

/// Whether `published` is what the rule may publish for `truth`.
fn obeys(rule: Rule, published: u64, truth: u64) -> bool {
    match rule {
        Rule::Current => truth > 7 && published % 5 == 0 && published.abs_diff(truth) <= 2,
        Rule::Midpoint6 => published == Range::midpoint6(truth),
        Rule::Legacy => true,
    }
}

impl Range {
    fn midpoint6(count: u64) -> u64 {
        if count == 0 {
            0
        } else {
            count.div_ceil(6) * 6 - 3
        }
    }
}

/// A report's JSON without its numbers: what it shows, not how many. The
/// bins of numbers and the periods of dates are left out: they are chosen
/// from the data and merged until each holds more than 7 values, so their
/// edges move with any count (the audit above covers their counts), and so
/// are the statistics and date ranges, which are figures, not rows.
fn shape(json: &Value) -> Value {
    match json {
        Value::Number(_) => Value::Null,
        Value::Array(items) => Value::Array(items.iter().map(shape).collect()),
        Value::Object(fields) => {
            let binned = matches!(
                fields.get("kind").and_then(Value::as_str),
                Some("numeric" | "date")
            );
            Value::Object(
                fields
                    .iter()
                    .filter(|(k, _)| !matches!(k.as_str(), "generated" | "file"))
                    .filter(|(k, _)| {
                        !(binned && matches!(k.as_str(), "values" | "statistics" | "range"))
                    })
                    .map(|(k, v)| (k.clone(), shape(v)))
                    .collect(),
            )
        }
        other => other.clone(),
    }
}

fn report_json(rule: Rule, columns: &[Column]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("input.csv");
    write_case(&mut columns.to_vec(), &path);
    let profile = profile::profile(&path, Format::Csv, &|_| {}).unwrap();
    serde_json::to_value(summary::build(&profile, rule, String::new())).unwrap()
}

/// Sets the count of `label` in column `c` to `n`.
fn with_count(columns: &[Column], c: usize, label: &str, n: usize) -> Vec<Column> {
    let mut columns = columns.to_vec();
    let values = &mut columns[c].values;
    values.retain(|v| v != label);
    values.extend(std::iter::repeat_n(label.to_string(), n));
    columns
}

fn check_shape(rule: Rule, columns: Vec<Column>, pick: usize) -> Result<(), TestCaseError> {
    let c = pick % columns.len();
    let labels: Vec<String> = {
        let mut l: Vec<String> = columns[c].values.clone();
        l.sort();
        l.dedup();
        l
    };
    if labels.is_empty() {
        return Ok(());
    }
    let label = labels[(pick / columns.len()) % labels.len()].clone();
    if columns[c].values.iter().filter(|v| **v == label).count() > 7 {
        return Ok(());
    }
    // The totals a small count adds to may cross the threshold themselves
    // (the rows, the column's present values, the totals its kind is chosen
    // by): compare the reports of counts that leave them on the same side.
    let mut seen: BTreeMap<Vec<bool>, (usize, Value)> = BTreeMap::new();
    for n in 0..=7 {
        let changed = with_count(&columns, c, &label, n);
        let rows = changed.iter().map(|c| c.values.len()).max().unwrap_or(0);
        let mut side = totals(&changed[c].values);
        side.push(rows);
        let side: Vec<bool> = side.into_iter().map(|total| total > 7).collect();
        let got = shape(&report_json(rule, &changed));
        match seen.get(&side) {
            None => {
                seen.insert(side, (n, got));
            }
            Some((m, expected)) => prop_assert_eq!(
                &got,
                expected,
                "{:?}: {} with {} {:?} looks unlike with {}",
                rule,
                columns[c].name,
                n,
                label,
                m
            ),
        }
    }
    Ok(())
}

/// The totals of a column's values that the report compares with the
/// threshold of 7 to choose its kind (`src/report/kinds.rs`): the present
/// values; those that are not dates, not `True`/`False`, not `T`/`F`,
/// not 0 or 1, not numbers; numbers with a fraction; numbers held by 7 patients or fewer;
/// numbers under six digits.
fn totals(values: &[String]) -> Vec<usize> {
    let present: Vec<&str> = values
        .iter()
        .map(String::as_str)
        .filter(|v| !v.is_empty())
        .collect();
    let count = |keep: &dyn Fn(&str) -> bool| present.iter().filter(|v| keep(v)).count();
    let number = |v: &str| v.parse::<f64>().ok();
    let held = |v: &str| present.iter().filter(|p| **p == v).count();
    vec![
        present.len(),
        count(&|v| !is_date(v)),
        count(&|v| !matches!(v, "True" | "False")),
        count(&|v| !matches!(v, "T" | "F")),
        count(&|v| !matches!(v, "0" | "1")),
        count(&|v| number(v).is_none()),
        count(&|v| number(v).is_some_and(|x| x.fract() != 0.0)),
        count(&|v| number(v).is_some() && held(v) <= 7),
        count(&|v| number(v).is_some_and(|x| x.abs() < 1e5)),
    ]
}

fn cases() -> u32 {
    std::env::var("COHORTKIT_DISCLOSURE_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(64)
}

#[test]
fn no_redacted_count_can_be_worked_out_from_a_whole_report() {
    for rule in [Rule::Current, Rule::Midpoint6] {
        let mut runner = TestRunner::new(Config {
            cases: cases(),
            ..Config::default()
        });
        runner
            .run(&case(), |columns| check(rule, columns))
            .unwrap_or_else(|e| panic!("{rule:?}: {e}"));
    }
}

#[test]
fn a_small_count_looks_the_same_as_none() {
    for rule in [Rule::Current, Rule::Midpoint6] {
        let mut runner = TestRunner::new(Config {
            cases: cases() / 4,
            ..Config::default()
        });
        runner
            .run(&(case(), any::<usize>()), |(columns, pick)| {
                check_shape(rule, columns, pick)
            })
            .unwrap_or_else(|e| panic!("{rule:?}: {e}"));
    }
}

/// The example: 1,002 rows, 1 missing, 503 zeros, 498 ones. With
/// the missing row shown only where there are missing values, the rows less
/// the cells pinned it at 1.
#[test]
fn the_differencing_example_is_closed() {
    let mut values = vec![String::new()];
    values.extend(std::iter::repeat_n("0".to_string(), 503));
    values.extend(std::iter::repeat_n("1".to_string(), 498));
    let column = Column {
        name: "flag".into(),
        values,
    };
    check(Rule::Current, vec![column]).unwrap();
}

/// The example of a mean that gives one patient's value back: 999
/// values about 5 and one of 1000. The published figures (mean, quartiles,
/// histogram) must be the same whatever that one value is, beyond the
/// others: then nothing in them can tell it.
#[test]
fn one_extreme_value_leaves_no_trace_in_the_statistics() {
    let summary_with = |extreme: &str| {
        let values: Vec<String> = (0..999)
            .map(|i| format!("{}", 4.5 + f64::from(i % 100) / 100.0))
            .chain(std::iter::once(extreme.to_string()))
            .collect();
        let column = Column {
            name: "bmi".into(),
            values,
        };
        let json = report_json(Rule::Current, &[column]);
        let columns = json["columns"].as_array().unwrap();
        let bmi = columns.iter().find(|c| c["name"] == "bmi").unwrap();
        bmi["summary"].clone()
    };
    let summary = summary_with("1000.0");
    assert!(
        summary["statistics"]["mean"].as_f64().is_some(),
        "{summary}"
    );
    for other in ["6.0", "1e6", "123456.789"] {
        assert_eq!(
            summary_with(other),
            summary,
            "with {other} in place of 1000.0"
        );
    }
}

/// One value outside a column's kind (a `2` among flags, an `unknown`
/// among dates, an `x` among numbers) used to turn the column into a
/// category, which said that someone holds it. Now the kind, and every row
/// of the report, is the same with none or a few; the few are counted with
/// the missing values.
#[test]
fn a_few_values_outside_a_kind_leave_the_kind() {
    let column = |name: &str, body: &dyn Fn(usize) -> String, stray: &str, n: usize| Column {
        name: name.into(),
        values: (0..200)
            .map(body)
            .chain(std::iter::repeat_n(stray.to_string(), n))
            .collect(),
    };
    let flags = |i: usize| (i % 2).to_string();
    let dates = |i: usize| format!("2020-{:02}-15", 1 + i % 12);
    let bmis = |i: usize| format!("{}.5", 18 + i % 20);
    for (name, body, stray, kind) in [
        ("flag", &flags as &dyn Fn(usize) -> String, "2", "boolean"),
        ("date", &dates, "unknown", "date"),
        ("bmi", &bmis, "x", "numeric"),
    ] {
        let reports: Vec<Value> = (0..=7)
            .map(|n| report_json(Rule::Current, &[column(name, body, stray, n)]))
            .collect();
        let summary = &reports[0]["columns"][1]["summary"];
        assert_eq!(summary["kind"], kind, "{summary}");
        assert_eq!(summary["missing_label"], "missing or other");
        for (n, report) in reports.iter().enumerate() {
            assert_eq!(shape(report), shape(&reports[0]), "{name} with {n} {stray}");
            let missing = &report["columns"][1]["summary"]["missing"];
            assert!(missing["count"].is_null(), "{name}: {missing}");
        }
        let eight = report_json(Rule::Current, &[column(name, body, stray, 8)]);
        assert_eq!(eight["columns"][1]["summary"]["kind"], "category");
    }
}
