//! The join against pandas on random typed tables in every format.
//!
//! Each case is a random lhs and rhs table: patient ids that match, repeat
//! (lhs) or not, and columns of random Arrow types over their ranges with
//! nulls, dictionary encoding and clashing names. pyarrow and pandas write
//! both tables in every format; `cohortkit join` joins every lhs/rhs format
//! pair; pandas checks that every value of every output equals
//! `lhs.merge(rhs, how="left", on="patient_id")` (numbers as numbers,
//! missing as missing, times as times), and that no join failed.
//! `COHORTKIT_JOIN_CASES` sets the number of cases (CI runs a few dozen).

mod common;

use std::path::Path;

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde::Serialize;
use serde_json::{Value, json};

/// The formats pyarrow and pandas write here. pandas writes a table to
/// Stata only where its types allow (then `lhs.dta`/`rhs.dta` exist), and
/// a join into `.dta` may refuse an rhs column Stata cannot hold, naming it.
const FORMATS: [&str; 7] = [
    "csv", "csv.gz", "feather", "arrow", "parquet", "dta", "dta.gz",
];

/// A column: its name, Arrow type (as the Python script reads it) and
/// values (`null` for missing).
#[derive(Clone, Debug, Serialize)]
struct Column {
    name: String,
    kind: &'static str,
    values: Vec<Value>,
}

#[derive(Clone, Debug, Serialize)]
struct Case {
    lhs_ids: Vec<i64>,
    rhs_ids: Vec<i64>,
    lhs: Vec<Column>,
    rhs: Vec<Column>,
}

/// Days of years 1 to 9999 (as dates) and seconds from 1900 to 2100.
const DAYS: std::ops::RangeInclusive<i64> = -719_162..=2_932_896;
const MODERN_SECONDS: std::ops::Range<i64> = -2_208_988_800..4_102_444_800;

/// A value of `kind` as JSON (big numbers and floats as text, read exactly
/// by the Python side).
fn value(kind: &'static str) -> BoxedStrategy<Value> {
    let text = |s: BoxedStrategy<String>| s.prop_map(Value::String).boxed();
    match kind {
        "int8" => any::<i8>().prop_map(|v| json!(v)).boxed(),
        "int16" => any::<i16>().prop_map(|v| json!(v)).boxed(),
        "int32" => any::<i32>().prop_map(|v| json!(v)).boxed(),
        "int64" => prop_oneof![any::<i64>(), Just(i64::MAX), Just(i64::MIN), -5i64..5]
            .prop_map(|v| json!(v.to_string()))
            .boxed(),
        "uint64" => prop_oneof![any::<u64>(), Just(u64::MAX), 0u64..5]
            .prop_map(|v| json!(v.to_string()))
            .boxed(),
        "float64" => text(
            prop_oneof![
                any::<f64>().prop_filter("finite", |v| v.is_finite()),
                -1e3f64..1e3,
                Just(f64::INFINITY),
                Just(0.1),
                Just(1e16),
            ]
            .prop_map(|v| format!("{v:e}"))
            .boxed(),
        ),
        "float32" => text(
            any::<f32>()
                .prop_filter("finite", |v| v.is_finite())
                .prop_map(|v| format!("{v:e}"))
                .boxed(),
        ),
        "bool" => any::<bool>().prop_map(|v| json!(v)).boxed(),
        "utf8" | "large_utf8" | "dictionary" => text("[a-zé,\"\n ]{0,6}".boxed()),
        "date32" => DAYS.prop_map(|v| json!(v)).boxed(),
        "timestamp_s" | "timestamp_ms" | "timestamp_us" => DAYS
            .prop_flat_map(|day| (Just(day), 0i64..86_400_000))
            .prop_map(move |(day, ms)| {
                let ms = day * 86_400_000 + ms;
                json!(
                    match kind {
                        "timestamp_s" => ms.div_euclid(1_000),
                        "timestamp_ms" => ms,
                        _ => ms * 1_000 + 7,
                    }
                    .to_string()
                )
            })
            .boxed(),
        "timestamp_ns" => any::<i64>()
            .prop_filter("pandas' NaT", |v| *v != i64::MIN)
            .prop_map(|v| json!(v.to_string()))
            .boxed(),
        "timestamp_utc" | "timestamp_london" => {
            MODERN_SECONDS.prop_map(|v| json!(v.to_string())).boxed()
        }
        // Hundredths, as the Python side scales them.
        "decimal" => any::<i64>().prop_map(|v| json!(v.to_string())).boxed(),
        "duration_ns" => (-86_400_000_000_000_000i64..86_400_000_000_000_000)
            .prop_map(|v| json!(v.to_string()))
            .boxed(),
        other => unreachable!("{other}"),
    }
}

const KINDS: [&str; 20] = [
    "int8",
    "int16",
    "int32",
    "int64",
    "uint64",
    "float64",
    "float32",
    "bool",
    "utf8",
    "large_utf8",
    "dictionary",
    "date32",
    "timestamp_s",
    "timestamp_ms",
    "timestamp_us",
    "timestamp_ns",
    "timestamp_utc",
    "timestamp_london",
    "decimal",
    "duration_ns",
];

fn columns(rows: usize) -> impl Strategy<Value = Vec<Column>> {
    let names = proptest::sample::subsequence(vec!["a", "b", "value", "d"], 1..=3);
    names.prop_flat_map(move |names| {
        let columns: Vec<_> = names
            .into_iter()
            .map(|name| {
                proptest::sample::select(KINDS.to_vec()).prop_flat_map(move |kind| {
                    proptest::collection::vec(
                        prop_oneof![1 => Just(Value::Null), 5 => value(kind)],
                        rows,
                    )
                    .prop_map(move |values| Column {
                        name: name.to_string(),
                        kind,
                        values,
                    })
                })
            })
            .collect();
        columns
    })
}

fn case() -> impl Strategy<Value = Case> {
    let rhs_ids =
        proptest::sample::subsequence((1..=30).collect::<Vec<i64>>(), 0..12).prop_shuffle();
    let lhs_ids = proptest::collection::vec(1i64..=40, 0..16);
    (lhs_ids, rhs_ids).prop_flat_map(|(lhs_ids, rhs_ids)| {
        let (l, r) = (lhs_ids.len(), rhs_ids.len());
        (columns(l), columns(r)).prop_map(move |(lhs, rhs)| Case {
            lhs_ids: lhs_ids.clone(),
            rhs_ids: rhs_ids.clone(),
            lhs,
            rhs,
        })
    })
}

/// Writes `lhs.FORMAT` and `rhs.FORMAT` for every format.
const WRITE: &str = r#"
import json, sys, decimal
import pyarrow as pa, pyarrow.feather as feather, pyarrow.parquet as pq
case = json.load(open(sys.argv[1]))
out = sys.argv[2]
TYPES = {
    "int8": pa.int8(), "int16": pa.int16(), "int32": pa.int32(), "int64": pa.int64(),
    "uint64": pa.uint64(), "float64": pa.float64(), "float32": pa.float32(), "bool": pa.bool_(),
    "utf8": pa.string(), "large_utf8": pa.large_string(), "date32": pa.date32(),
    "timestamp_s": pa.timestamp("s"), "timestamp_ms": pa.timestamp("ms"),
    "timestamp_us": pa.timestamp("us"), "timestamp_ns": pa.timestamp("ns"),
    "timestamp_utc": pa.timestamp("s", tz="UTC"), "timestamp_london": pa.timestamp("s", tz="Europe/London"),
    "decimal": pa.decimal128(22, 2), "duration_ns": pa.duration("ns"),
}
def array(column):
    kind, values = column["kind"], column["values"]
    if kind == "dictionary":
        return pa.array(values, pa.string()).dictionary_encode()
    if kind in ("float64", "float32"):
        values = [None if v is None else float(v) for v in values]
    elif kind == "decimal":
        values = [None if v is None else decimal.Decimal(v).scaleb(-2) for v in values]
    elif kind == "date32" or kind.startswith(("timestamp", "duration", "int", "uint")):
        values = [None if v is None else int(v) for v in values]
        if kind == "date32" or kind.startswith(("timestamp", "duration")):
            storage = pa.int32() if kind == "date32" else pa.int64()
            return pa.array(values, storage).view(TYPES[kind])
    return pa.array(values, TYPES[kind])
for side in ("lhs", "rhs"):
    table = pa.table({"patient_id": pa.array(case[side + "_ids"], pa.int64()),
                      **{c["name"]: array(c) for c in case[side]}})
    frame = table.to_pandas()
    frame.to_csv(f"{out}/{side}.csv", index=False)
    frame.to_csv(f"{out}/{side}.csv.gz", index=False)
    feather.write_feather(table, f"{out}/{side}.feather")
    with pa.ipc.new_file(f"{out}/{side}.arrow", table.schema) as writer:
        writer.write_table(table)
    pq.write_table(table, f"{out}/{side}.parquet")
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            frame.to_stata(f"{out}/{side}.dta", write_index=False, version=118)
            frame.to_stata(f"{out}/{side}.dta.gz", write_index=False, version=118)
        except Exception:
            pass
"#;

/// Compares every joined file with pandas' merge of the same inputs.
const CHECK: &str = r##"
import io, json, math, sys
import pandas as pd
out = sys.argv[1]
pairs = json.load(open(f"{out}/pairs.json"))
CSV = (".csv", ".csv.gz")
# What pandas reads as missing in a CSV file.
NA = {"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND",
      "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"}
def read(path):
    if path.endswith(CSV):
        return pd.read_csv(path)
    if path.endswith((".dta", ".dta.gz")):
        return pd.read_stata(path)
    if path.endswith(".parquet"):
        return pd.read_parquet(path)
    return pd.read_feather(path)
def text(source):
    # A CSV file as its texts, so that numbers pandas cannot hold (uint64
    # with gaps) are compared as written.
    return pd.read_csv(source, dtype=str, keep_default_na=False)
def missing(value):
    return (isinstance(value, str) and value in NA) or (not isinstance(value, str) and pd.isna(value))
def as_time(value, parse):
    try:
        return parse(value)
    except Exception:
        return None
def same(a, b):
    if missing(a) or missing(b):
        return missing(a) and missing(b)
    if a == b or str(a) == str(b):
        return True
    try:
        fa, fb = float(a), float(b)
        if fa == fb or (math.isnan(fa) and math.isnan(fb)):
            return True
    except (TypeError, ValueError, OverflowError):
        pass
    for parse in (pd.Timestamp, pd.Timedelta):
        ta, tb = as_time(a, parse), as_time(b, parse)
        if ta is not None and tb is not None and ta == tb:
            return True
    return False
problems = []
for lhs, rhs, output in pairs:
    expected = read(lhs).merge(read(rhs), how="left", on="patient_id")
    if output.endswith(CSV):
        expected = text(io.StringIO(expected.to_csv(index=False)))
        ours = text(output)
    else:
        ours = read(output)
    where = f"{lhs} + {rhs}"
    if list(ours.columns) != list(expected.columns):
        problems.append(f"{where}: columns {list(ours.columns)} != {list(expected.columns)}")
        continue
    if len(ours) != len(expected):
        problems.append(f"{where}: {len(ours)} rows != {len(expected)}")
        continue
    for column in expected.columns:
        for row, (a, b) in enumerate(zip(ours[column], expected[column])):
            if not same(a, b):
                problems.append(f"{where}: {column} row {row}: ours {a!r} ({ours[column].dtype}), pandas {b!r} ({expected[column].dtype})")
                break
print(json.dumps(problems))
"##;

fn check(python: &Path, case: &Case) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let spec = d.join("case.json");
    std::fs::write(&spec, serde_json::to_string(case).unwrap()).unwrap();
    common::run_python(python, WRITE, &[&spec, d]);
    let mut pairs = Vec::new();
    for lhs in FORMATS {
        for rhs in FORMATS {
            let out = d.join(format!("out-{lhs}-{rhs}"));
            let (lhs_file, rhs_file) = (d.join(format!("lhs.{lhs}")), d.join(format!("rhs.{rhs}")));
            if !lhs_file.exists() || !rhs_file.exists() {
                continue;
            }
            let output = common::cohortkit()
                .args(["join", "-q", "--lhs"])
                .arg(&lhs_file)
                .arg("--rhs")
                .arg(&rhs_file)
                .arg("--output-dir")
                .arg(&out)
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            if !output.status.success() && lhs.starts_with("dta") {
                // Stata cannot hold every type: the error names the column.
                let named = case
                    .rhs
                    .iter()
                    .any(|c| stderr.contains(&format!("\"{}", c.name)));
                prop_assert!(named, "lhs.{lhs} + rhs.{rhs}: {stderr}");
                continue;
            }
            prop_assert!(output.status.success(), "lhs.{lhs} + rhs.{rhs}: {stderr}");
            pairs.push([lhs_file.clone(), rhs_file, out.join(format!("lhs.{lhs}"))]);
        }
    }
    std::fs::write(d.join("pairs.json"), serde_json::to_string(&pairs).unwrap()).unwrap();
    let problems: Vec<String> =
        serde_json::from_str(&common::run_python(python, CHECK, &[d])).unwrap();
    if !problems.is_empty() && std::env::var_os("COHORTKIT_KEEP_FAILED").is_some() {
        eprintln!("kept {}", dir.keep().display());
    }
    prop_assert!(problems.is_empty(), "{}", problems.join("\n"));
    Ok(())
}

#[test]
fn every_format_pair_joins_as_pandas_merges() {
    let Some(python) = common::pandas_python() else {
        return;
    };
    let mut runner = common::property_runner("COHORTKIT_JOIN_CASES", 8, 32);
    if let Err(error) = runner.run(&case(), |case| check(&python, &case)) {
        panic!("{error}");
    }
}
