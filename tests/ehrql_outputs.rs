//! dataset-report and cohort-joiner on files made the way ehrQL makes them
//! (`ehrql/file_formats/arrow.py` and `csv.py`, reproduced with pyarrow and
//! Python's csv module): Arrow IPC files with zstd, 64-row batches here
//! (ehrQL's are 64,000), the smallest integer type for a column's range,
//! nullable bools, date32 and ordered string dictionaries with signed keys;
//! CSV with `T`/`F` booleans, empty missing values and `\r\n` lines.

mod common;

use std::path::Path;

use serde_json::Value;

/// Writes `dataset.{arrow,csv.gz}` (500 patients) and
/// `patients.{arrow,csv.gz}` (400 of them and 50 others) into argv[1].
const WRITE: &str = r##"
import csv, datetime, gzip, random, sys
import pyarrow as pa, pyarrow.ipc

out = sys.argv[1]
rng = random.Random(15)
REGIONS = ["East", "London", "North East", "South West"]
SEX = ["female", "male", "intersex", "unknown"]

def maybe(value, share=0.1):
    return None if rng.random() < share else value

def dictionary(values, categories):
    index = pa.int8()
    keys = pa.array([None if v is None else categories.index(v) for v in values], index)
    return pa.DictionaryArray.from_arrays(keys, pa.array(categories, pa.string()), ordered=True)

def write(stem, fields, columns):
    schema = pa.schema(fields)
    options = pa.ipc.IpcWriteOptions(compression="zstd", use_threads=True)
    rows = len(columns[0])
    with pa.OSFile(f"{out}/{stem}.arrow", "wb") as sink:
        with pa.ipc.new_file(sink, schema, options=options) as writer:
            for start in range(0, rows, 64):
                arrays = []
                for field, values in zip(fields, columns):
                    part = values[start:start + 64]
                    if pa.types.is_dictionary(field.type):
                        arrays.append(dictionary(part, SEX))
                    else:
                        arrays.append(pa.array(part, field.type))
                writer.write(pa.record_batch(arrays, schema=schema))
    def text(value):
        if isinstance(value, bool):
            return "T" if value else "F"
        return value
    with gzip.open(f"{out}/{stem}.csv.gz", "wt", newline="", compresslevel=6) as f:
        writer = csv.writer(f)
        writer.writerow([field.name for field in fields])
        for row in zip(*columns):
            writer.writerow([text(v) for v in row])

ids = rng.sample(range(1, 10_000), 550)
dataset = ids[:500]
write("dataset", [
    pa.field("patient_id", pa.int64(), nullable=False),
    pa.field("has_asthma", pa.bool_()),
    pa.field("sex", pa.dictionary(pa.int8(), pa.string(), ordered=True)),
    pa.field("age", pa.uint8()),
    pa.field("bmi", pa.float64()),
    pa.field("first_vaccination", pa.date32()),
    pa.field("region", pa.string()),
], [
    dataset,
    [maybe(rng.random() < 0.3, 0.05) for _ in dataset],
    [maybe(rng.choice(SEX[:2]), 0.02) for _ in dataset],
    [maybe(rng.randrange(18, 110)) for _ in dataset],
    [maybe(round(rng.gauss(27, 5), 1)) for _ in dataset],
    [maybe(datetime.date(2021, 1, 1) + datetime.timedelta(days=rng.randrange(400)), 0.3) for _ in dataset],
    [maybe(rng.choice(REGIONS)) for _ in dataset],
])
patients = ids[100:]
write("patients", [
    pa.field("patient_id", pa.int64(), nullable=False),
    pa.field("died", pa.bool_(), nullable=False),
    pa.field("deaths", pa.int16()),
], [
    patients,
    [rng.random() < 0.2 for _ in patients],
    [maybe(rng.randrange(-300, 300)) for _ in patients],
])
"##;

/// Checks `joined` (argv[2]) against a left join of argv[1]'s `dataset`
/// and `patients` of the same format, value by value and type by type;
/// prints the problems as JSON.
const CHECK: &str = r##"
import csv, gzip, io, json, sys
import pyarrow as pa, pyarrow.ipc

src, joined = sys.argv[1], sys.argv[2]
problems = []
if joined.endswith(".arrow"):
    def table(path):
        return pa.ipc.open_file(path).read_all()
    lhs, rhs, ours = table(f"{src}/dataset.arrow"), table(f"{src}/patients.arrow"), table(joined)
    by_id = {pid: row for row, pid in enumerate(rhs.column("patient_id").to_pylist())}
    rows = [by_id.get(pid) for pid in lhs.column("patient_id").to_pylist()]
    expected = {name: lhs.column(name) for name in lhs.column_names}
    for name in rhs.column_names[1:]:
        values = rhs.column(name).to_pylist()
        expected[name] = pa.chunked_array([pa.array([None if r is None else values[r] for r in rows], rhs.schema.field(name).type)])
    if ours.column_names != list(expected):
        problems.append(f"columns {ours.column_names}")
    for name, column in expected.items():
        if name not in ours.column_names:
            continue
        got = ours.column(name)
        if got.type != column.type:
            problems.append(f"{name}: type {got.type} != {column.type}")
        if got.to_pylist() != column.to_pylist():
            problems.append(f"{name}: values differ")
else:
    def rows(path):
        with gzip.open(path, "rt", newline="") as f:
            return list(csv.reader(f))
    lhs, rhs, ours = rows(f"{src}/dataset.csv.gz"), rows(f"{src}/patients.csv.gz"), rows(joined)
    by_id = {row[0]: row[1:] for row in rhs[1:]}
    blank = [""] * (len(rhs[0]) - 1)
    expected = [lhs[0] + rhs[0][1:]] + [row + by_id.get(row[0], blank) for row in lhs[1:]]
    if ours != expected:
        bad = next(i for i, (a, b) in enumerate(zip(ours + [[]] * len(expected), expected)) if a != b)
        problems.append(f"row {bad}: {ours[bad] if bad < len(ours) else None} != {expected[bad]}")
print(json.dumps(problems))
"##;

fn made_as_ehrql_makes_them(python: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    common::run_python(python, WRITE, &[dir.path()]);
    dir
}

/// The `--json` report of `input` under the current rule.
fn report(input: &Path) -> Value {
    let out = tempfile::tempdir().unwrap();
    let output = common::cohortkit()
        .args(["report", "--json", "--input-files"])
        .arg(input)
        .arg("--output-dir")
        .arg(out.path())
        .output()
        .unwrap();
    common::assert_success(&output);
    let name = input.file_name().unwrap().to_string_lossy();
    let stem = name.split('.').next().unwrap();
    serde_json::from_slice(&std::fs::read(out.path().join(format!("{stem}.json"))).unwrap())
        .unwrap()
}

fn summary<'a>(report: &'a Value, name: &str) -> &'a Value {
    let columns = report["columns"].as_array().unwrap();
    &columns
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no column {name}"))["summary"]
}

/// The published values of a column's table, missing first, as
/// `(label, count)`.
fn values(summary: &Value) -> Vec<(Option<String>, Option<u64>)> {
    summary["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["value"].as_str().map(str::to_string), v["count"].as_u64()))
        .collect()
}

#[test]
fn the_report_reads_ehrql_booleans_categories_and_dates_in_both_formats() {
    let Some(python) = common::pandas_python() else {
        return;
    };
    let dir = made_as_ehrql_makes_them(&python);
    let arrow = report(&dir.path().join("dataset.arrow"));
    let csv = report(&dir.path().join("dataset.csv.gz"));
    for (name, kind) in [
        ("has_asthma", "boolean"),
        ("sex", "category"),
        ("age", "numeric"),
        ("bmi", "numeric"),
        ("first_vaccination", "date"),
        ("region", "category"),
    ] {
        for (format, report) in [("arrow", &arrow), ("csv.gz", &csv)] {
            assert_eq!(summary(report, name)["kind"], kind, "{name} in {format}");
        }
    }
    // A boolean's table names both values, as the file writes them.
    let labels = |report: &Value| -> Vec<Option<String>> {
        values(summary(report, "has_asthma"))
            .into_iter()
            .map(|(label, _)| label)
            .collect()
    };
    assert_eq!(
        labels(&arrow),
        [None, Some("False".into()), Some("True".into())]
    );
    assert_eq!(labels(&csv), [None, Some("F".into()), Some("T".into())]);
    let counts = |report: &Value| -> Vec<Option<u64>> {
        values(summary(report, "has_asthma"))
            .into_iter()
            .map(|(_, count)| count)
            .collect()
    };
    assert_eq!(counts(&arrow), counts(&csv));
    assert!(counts(&arrow).iter().all(|c| c.is_some_and(|c| c > 0)));
    for name in ["sex", "region", "first_vaccination"] {
        assert_eq!(
            values(summary(&arrow, name)),
            values(summary(&csv, name)),
            "{name}"
        );
    }
    let sexes: Vec<_> = values(summary(&arrow, "sex"))
        .into_iter()
        .filter_map(|(label, _)| label)
        .collect();
    assert!(
        sexes.contains(&"female".to_string()) && sexes.contains(&"male".to_string()),
        "{sexes:?}"
    );
}

#[test]
fn the_joiner_joins_ehrql_outputs_with_no_value_or_type_changed() {
    let Some(python) = common::pandas_python() else {
        return;
    };
    let dir = made_as_ehrql_makes_them(&python);
    for ext in ["arrow", "csv.gz"] {
        let out = dir.path().join(format!("joined-{ext}"));
        let output = common::cohortkit()
            .args(["join", "-q", "--lhs"])
            .arg(dir.path().join(format!("dataset.{ext}")))
            .arg("--rhs")
            .arg(dir.path().join(format!("patients.{ext}")))
            .arg("--output-dir")
            .arg(&out)
            .output()
            .unwrap();
        common::assert_success(&output);
        let joined = out.join(format!("dataset.{ext}"));
        let problems: Vec<String> =
            serde_json::from_str(&common::run_python(&python, CHECK, &[dir.path(), &joined]))
                .unwrap();
        assert!(problems.is_empty(), "{ext}: {}", problems.join("\n"));
    }
}
