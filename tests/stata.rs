//! Stata `.dta` files against pandas: pandas reads what we write (every
//! type, nulls, renames as pandas makes them), we read what pandas writes
//! (formats 114, 117, 118, 119, both byte orders, gzip), damaged files fail
//! clearly, and `cohortkit join` joins `.dta` and `.dta.gz` cohorts.

mod common;

use std::path::Path;
use std::sync::Arc;

use arrow_array::types::Int32Type;
use arrow_array::{
    Array, ArrayRef, BooleanArray, Date32Array, DictionaryArray, Float32Array, Float64Array,
    Int8Array, Int16Array, Int32Array, Int64Array, LargeStringArray, RecordBatch, StringArray,
    TimestampMillisecondArray, UInt64Array,
};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use cohortkit::table::Format;
use cohortkit::table::frame::FrameWriter;
use cohortkit::table::render::render_cell;
use cohortkit::table::stata;
use serde_json::Value;

const ROWS: usize = 300;

/// A batch with a column of every type the writer takes, with nulls and
/// edge values, under names Stata accepts and names it does not.
fn every_type() -> RecordBatch {
    let rows = 0..ROWS;
    let null_every = |n: usize, i: usize| i % n == n - 1;
    let long_text = |i: usize| format!("{}{i}", "é long text ".repeat(200));
    let columns: Vec<(&str, ArrayRef)> = vec![
        (
            "patient_id",
            Arc::new(Int64Array::from_iter_values(
                rows.clone().map(|i| 1000 + i as i64),
            )),
        ),
        (
            "flag",
            Arc::new(
                rows.clone()
                    .map(|i| (!null_every(7, i)).then_some(i % 2 == 0))
                    .collect::<BooleanArray>(),
            ),
        ),
        (
            "i8",
            Arc::new(
                rows.clone()
                    .map(|i| {
                        (!null_every(5, i))
                            .then_some(((i % 228) as i16 - 127) as i8)
                            .filter(|v| *v <= 100)
                    })
                    .collect::<Int8Array>(),
            ),
        ),
        (
            "i16 wide",
            Arc::new(
                rows.clone()
                    .map(|i| (!null_every(6, i)).then_some((i as i32 * 200 - 30_000) as i16))
                    .collect::<Int16Array>(),
            ),
        ),
        (
            "i32",
            Arc::new(
                rows.clone()
                    .map(|i| {
                        (!null_every(4, i)).then_some((i as i64 * 7_000_000 - 1_000_000_000) as i32)
                    })
                    .collect::<Int32Array>(),
            ),
        ),
        (
            "1st_dose",
            Arc::new(
                rows.clone()
                    .map(|i| (!null_every(3, i)).then_some(i as i64 * 3 - 100))
                    .collect::<Int64Array>(),
            ),
        ),
        (
            "big_but_exact",
            Arc::new(
                rows.clone()
                    .map(|i| (!null_every(9, i)).then_some((1i64 << 53) - i as i64 * 1_000_003))
                    .collect::<Int64Array>(),
            ),
        ),
        (
            "snomed_code",
            Arc::new(
                rows.clone()
                    .map(|i| (!null_every(8, i)).then_some(u64::MAX - i as u64 * 999_999_999_999))
                    .collect::<UInt64Array>(),
            ),
        ),
        (
            "bmi",
            Arc::new(
                rows.clone()
                    .map(|i| (!null_every(5, i)).then_some(i as f32 / 3.0 - 40.0))
                    .collect::<Float32Array>(),
            ),
        ),
        (
            "huge_f32",
            Arc::new(
                rows.clone()
                    .map(|i| {
                        (!null_every(5, i)).then_some(if i == 3 { f32::MAX } else { i as f32 })
                    })
                    .collect::<Float32Array>(),
            ),
        ),
        (
            "double",
            Arc::new(
                rows.clone()
                    .map(|i| {
                        (!null_every(5, i)).then_some(if i == 0 {
                            -8.9e307
                        } else {
                            27.839046852715178 * i as f64
                        })
                    })
                    .collect::<Float64Array>(),
            ),
        ),
        (
            "index_date",
            Arc::new(
                rows.clone()
                    .map(|i| (!null_every(4, i)).then_some(18_000 + i as i32 * 37 - 11_000))
                    .collect::<Date32Array>(),
            ),
        ),
        (
            "admitted_at",
            Arc::new(
                rows.clone()
                    .map(|i| {
                        (!null_every(4, i)).then_some(1_583_020_800_123 + i as i64 * 86_399_999)
                    })
                    .collect::<TimestampMillisecondArray>(),
            ),
        ),
        (
            "sex",
            Arc::new(
                rows.clone()
                    .map(|i| (!null_every(6, i)).then_some(["F", "M", "héllo wörld", ""][i % 4]))
                    .collect::<StringArray>(),
            ),
        ),
        (
            "region",
            Arc::new(
                rows.clone()
                    .map(|i| (!null_every(5, i)).then_some(["North East", "London"][i % 2]))
                    .collect::<DictionaryArray<Int32Type>>(),
            ),
        ),
        (
            "large text",
            Arc::new(
                rows.clone()
                    .map(|i| Some(format!("row {i}")))
                    .collect::<LargeStringArray>(),
            ),
        ),
        (
            "notes",
            Arc::new(
                rows.clone()
                    .map(|i| (!null_every(3, i)).then(|| long_text(i % 10)))
                    .collect::<StringArray>(),
            ),
        ),
        (
            "if",
            Arc::new(Int8Array::from_iter_values(
                rows.clone().map(|i| (i % 3) as i8),
            )),
        ),
        (
            "flucats_other_covid_antigen_code",
            Arc::new(Int8Array::from_iter_values(rows.clone().map(|_| 1))),
        ),
        (
            "flucats_other_covid_antigen_code_date",
            Arc::new(StringArray::from_iter_values(
                rows.clone().map(|i| format!("2020-03-{:02}", i % 28 + 1)),
            )),
        ),
        (
            "température °C",
            Arc::new(Float64Array::from_iter_values(
                rows.clone().map(|i| 36.0 + i as f64 / 100.0),
            )),
        ),
    ];
    let fields: Vec<Field> = columns
        .iter()
        .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
        .collect();
    let arrays = columns.into_iter().map(|(_, a)| a).collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).unwrap()
}

/// Writes `batch` with the FrameWriter (as the join does); returns its notes.
fn write_frame(batch: &RecordBatch, path: &Path, format: Format) -> Vec<String> {
    let mut writer = FrameWriter::create(path, format, batch.schema(), 6).unwrap();
    writer.write(batch).unwrap();
    writer.finish().unwrap()
}

/// Compares a `.dta` file read by pandas with a Parquet file of the frame
/// it came from (read by pyarrow, so every value is exact): the names are
/// what pandas `to_stata(version=118)` makes of the same names, renamed
/// columns are labelled with their old name, and every value is the same
/// (nulls as missing, or "" in text; big integers as their decimal text).
const COMPARE_WITH_SOURCE: &str = r#"
import sys, io, math, datetime, warnings
import pandas as pd, pyarrow.parquet as pq
dta, parquet = sys.argv[1], sys.argv[2]
source = pq.read_table(parquet)
ours = pd.read_stata(dta, convert_categoricals=False)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    buf = io.BytesIO()
    pd.DataFrame({c: [0] for c in source.column_names}).to_stata(buf, version=118, write_index=False)
    buf.seek(0)
    pandas_names = list(pd.read_stata(buf).columns)
assert list(ours.columns) == pandas_names, (list(ours.columns), pandas_names)
with pd.io.stata.StataReader(dta) as reader:
    labels = reader.variable_labels()
for old, new in zip(source.column_names, ours.columns):
    assert labels[new] == ("" if old == new else old), (old, new, labels[new])

def norm(v):
    if v is None or v is pd.NaT or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, datetime.datetime) or isinstance(v, pd.Timestamp):
        return pd.Timestamp(v).isoformat()
    if isinstance(v, datetime.date):
        return pd.Timestamp(v).isoformat()
    return v

for old, new in zip(source.column_names, ours.columns):
    expected = [norm(v) for v in source.column(old).to_pylist()]
    got = [norm(v) for v in ours[new].tolist()]
    if pd.api.types.is_string_dtype(ours[new]):
        expected = ["" if v is None else str(v) for v in expected]
    for row, (e, g) in enumerate(zip(expected, got)):
        same = e == g or (isinstance(e, (int, float)) and isinstance(g, (int, float)) and float(e) == float(g))
        assert same, f"{old} -> {new}, row {row}: expected {e!r}, got {g!r}"
    assert len(expected) == len(got), (old, len(expected), len(got))
print(len(ours.columns), len(ours))
"#;

#[test]
fn pandas_reads_every_type_we_write_and_renames_as_pandas_does() {
    let Some(python) = common::pandas_python() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let batch = every_type();
    let dta = dir.path().join("every.dta");
    let parquet = dir.path().join("every.parquet");
    let notes = write_frame(&batch, &dta, Format::Dta);
    write_frame(&batch, &parquet, Format::Parquet);
    let out = common::run_python(&python, COMPARE_WITH_SOURCE, &[&dta, &parquet]);
    assert_eq!(out.trim(), format!("{} {ROWS}", batch.num_columns()));

    // Every rename and the big integers stored as text are reported.
    for expected in [
        "column \"i16 wide\" renamed \"i16_wide\"",
        "column \"1st_dose\" renamed \"_1st_dose\"",
        "column \"if\" renamed \"_if\"",
        "column \"flucats_other_covid_antigen_code_date\" renamed \"_0flucats_other_covid_antigen_co\"",
        "column \"température °C\" renamed \"température__C\"",
        "column \"double\" renamed \"_double\"",
        "column \"large text\" renamed \"large_text\"",
        "column \"snomed_code\" stored as Stata text (str#)",
    ] {
        assert!(
            notes.iter().any(|n| n.contains(expected)),
            "{expected} not in {notes:#?}"
        );
    }
    assert_eq!(notes.len(), 8, "{notes:#?}");

    // And it reads back as written.
    let back = stata::read(&dta, false).unwrap();
    let types: Vec<DataType> = back
        .schema()
        .fields()
        .iter()
        .map(|f| f.data_type().clone())
        .collect();
    assert_eq!(
        types,
        [
            DataType::Int16,   // patient_id 1000..1299
            DataType::Int8,    // flag
            DataType::Int8,    // i8
            DataType::Int16,   // i16 wide
            DataType::Int32,   // i32
            DataType::Int16,   // 1st_dose
            DataType::Float64, // big_but_exact
            DataType::Utf8,    // snomed_code
            DataType::Float32, // bmi
            DataType::Float64, // huge_f32
            DataType::Float64, // double
            DataType::Date32,
            DataType::Timestamp(TimeUnit::Millisecond, None),
            DataType::Utf8,
            DataType::Utf8,
            DataType::Utf8,
            DataType::Utf8,
            DataType::Int8,
            DataType::Int8,
            DataType::Utf8,
            DataType::Float64,
        ]
    );
    for i in [11, 12, 13] {
        let (ours, theirs) = (back.column(i), batch.column(i));
        if i == 13 {
            // Text nulls come back as "".
            for row in 0..ROWS {
                let text = |a: &dyn Array| {
                    let mut out = Vec::new();
                    render_cell(a, row, &mut out).unwrap();
                    out
                };
                assert_eq!(text(ours.as_ref()), text(theirs.as_ref()));
            }
        } else {
            assert_eq!(ours.as_ref(), theirs.as_ref());
        }
    }
}

/// Writes one frame in every format pandas writes, and the values it holds
/// as JSON (exact: floats as the text of their float64 value, dates ISO; a
/// categorical column, which pandas writes with value labels, as its codes).
const PANDAS_WRITES: &str = r#"
import sys, json, math
import numpy as np, pandas as pd
out = sys.argv[1]
n = 50
df = pd.DataFrame({
    "b": np.array([(i % 200) - 99 for i in range(n)], dtype=np.int8).clip(-127, 100),
    "i": np.array([i * 600 - 15000 for i in range(n)], dtype=np.int16),
    "l": np.array([i * 40_000_000 - 1_000_000_000 for i in range(n)], dtype=np.int32),
    "f": np.array([np.nan if i % 4 == 0 else i / 3 for i in range(n)], dtype=np.float32),
    "d": [np.nan if i % 5 == 0 else i * 27.839046852715178 for i in range(n)],
    "s": ["" if i % 6 == 0 else ["a", "héllo", "North East"][i % 3] for i in range(n)],
    "dt": pd.to_datetime([None if i % 7 == 0 else f"20{i % 30 + 10}-0{i % 9 + 1}-1{i % 9}" for i in range(n)]),
    "tc": pd.to_datetime([None if i % 8 == 0 else f"2020-03-01 12:{i % 60:02}:{i % 59:02}.{i:03}" for i in range(n)]),
    "cat": pd.Categorical([["low", "mid", "high"][i % 3] for i in range(n)]),
})
strl = ["" if i % 3 == 0 else "é long " * 400 + str(i) for i in range(n)]
dates = {"dt": "td", "tc": "tc"}
def value(v):
    if isinstance(v, float) and math.isnan(v) or v is pd.NaT:
        return None
    if isinstance(v, pd.Timestamp):
        return v.isoformat(timespec="milliseconds")
    if isinstance(v, (np.floating, float)):
        return repr(float(v))
    if isinstance(v, (np.integer, int)):
        return int(v)
    return v
expected = {}
for version in (114, 117, 118, 119):
    for order in ("<", ">"):
        frame = df.copy()
        extra = {}
        if version >= 117:
            frame["strl"] = strl
            extra["convert_strl"] = ["strl"]
        for gz in ("", ".gz"):
            name = f"v{version}{'be' if order == '>' else 'le'}.dta{gz}"
            frame.to_stata(f"{out}/{name}", version=version, byteorder=order,
                           write_index=False, convert_dates=dates, **extra)
            expected[name] = {c: [value(v) for v in frame[c].tolist()] for c in frame.columns}
            # A categorical is stored as labelled codes and read as its labels.
        if version == 114:
            # Format 115 (Stata 12) is 114's layout under another number.
            name = f"v115{'be' if order == '>' else 'le'}.dta"
            data = bytearray(open(f"{out}/v114{name[4:]}", "rb").read())
            data[0] = 115
            open(f"{out}/{name}", "wb").write(data)
            expected[name] = expected[f"v114{name[4:]}"]
json.dump(expected, open(f"{out}/expected.json", "w"))
"#;

/// A cell as JSON, as the script above writes values.
fn json_cell(array: &dyn Array, row: usize) -> Value {
    if array.is_null(row) {
        return Value::Null;
    }
    let mut text = Vec::new();
    render_cell(array, row, &mut text).unwrap();
    let text = String::from_utf8(text).unwrap();
    match array.data_type() {
        DataType::Int8 | DataType::Int16 | DataType::Int32 => {
            Value::from(text.parse::<i64>().unwrap())
        }
        DataType::Float32 => {
            let v = array
                .as_any()
                .downcast_ref::<Float32Array>()
                .unwrap()
                .value(row);
            Value::from(f64::from(v).to_string())
        }
        DataType::Float64 => {
            let v = array
                .as_any()
                .downcast_ref::<Float64Array>()
                .unwrap()
                .value(row);
            Value::from(v.to_string())
        }
        DataType::Date32 => Value::from(format!("{text}T00:00:00.000")),
        DataType::Timestamp(..) => {
            let ms = array
                .as_any()
                .downcast_ref::<TimestampMillisecondArray>()
                .unwrap()
                .value(row);
            let at = chrono::DateTime::from_timestamp_millis(ms)
                .unwrap()
                .naive_utc();
            Value::from(at.format("%Y-%m-%dT%H:%M:%S%.3f").to_string())
        }
        _ => Value::from(text),
    }
}

#[test]
fn we_read_every_format_and_byte_order_pandas_writes() {
    let Some(python) = common::pandas_python() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    common::run_python(&python, PANDAS_WRITES, &[dir.path()]);
    let expected: serde_json::Map<String, Value> =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("expected.json")).unwrap())
            .unwrap();
    assert_eq!(expected.len(), 18);
    for (name, columns) in &expected {
        let path = dir.path().join(name);
        let batch = stata::read(&path, name.ends_with(".gz")).unwrap_or_else(|e| panic!("{e}"));
        let columns = columns.as_object().unwrap();
        let mut names: Vec<&String> = batch
            .schema_ref()
            .fields()
            .iter()
            .map(|f| f.name())
            .collect();
        names.sort();
        assert_eq!(names, columns.keys().collect::<Vec<_>>(), "{name}");
        let types: Vec<DataType> = batch
            .schema()
            .fields()
            .iter()
            .map(|f| f.data_type().clone())
            .collect();
        assert_eq!(
            types[..8],
            [
                DataType::Int8,
                DataType::Int16,
                DataType::Int32,
                DataType::Float32,
                DataType::Float64,
                DataType::Utf8,
                DataType::Date32,
                DataType::Timestamp(TimeUnit::Millisecond, None)
            ],
            "{name}"
        );
        for (field, array) in batch.schema().fields().iter().zip(batch.columns()) {
            let want = columns[field.name()].as_array().unwrap();
            assert_eq!(want.len(), array.len(), "{name} {}", field.name());
            for (row, want) in want.iter().enumerate() {
                let got = json_cell(array.as_ref(), row);
                let number = |v: &Value| v.as_str().and_then(|t| t.parse::<f64>().ok());
                let same = match (want, &got) {
                    (Value::String(_), Value::String(_)) if field.data_type().is_floating() => {
                        number(want) == number(&got)
                    }
                    _ => *want == got,
                };
                assert!(
                    same,
                    "{name} {} row {row}: expected {want}, got {got}",
                    field.name()
                );
            }
        }
    }
}

/// Makes Stata cohorts with pandas from the FLUCATS reference extracts: the
/// 2020-03-01 weekly file (as `DIR/lhs/`) and the matched end file (`DIR/`),
/// as format 114 `.dta` and as format 118 `.dta.gz`.
const PANDAS_COHORTS: &str = r#"
import sys, os, warnings
import pandas as pd
reference, out = sys.argv[1], sys.argv[2]
warnings.simplefilter("ignore")  # pandas warns of every column it renames
lhs = pd.read_csv(f"{reference}/output/input_2020-03-01.csv.gz")
rhs = pd.read_csv(f"{reference}/output/input_end_matched.csv.gz")
os.makedirs(f"{out}/lhs")
for ext, version in ((".dta", 114), (".dta.gz", 118)):
    lhs.to_stata(f"{out}/lhs/input_2020-03-01{ext}", version=version, write_index=False)
    rhs.to_stata(f"{out}/input_end{ext}", version=version, write_index=False)
"#;

/// Checks joined `.dta` files against pandas' own merge of their inputs:
/// arguments are (lhs, rhs, joined) triples; prints rows, columns and
/// matched rows of each.
const CHECK_JOIN: &str = r#"
import sys
import numpy as np, pandas as pd
args = sys.argv[1:]
for lhs, rhs, joined in zip(args[0::3], args[1::3], args[2::3]):
    ours = pd.read_stata(joined)
    expected = pd.read_stata(lhs).merge(pd.read_stata(rhs), how="left", on="patient_id")
    assert list(ours.columns) == list(expected.columns), (list(ours.columns), list(expected.columns))
    for c in expected.columns:
        a, b = ours[c], expected[c]
        if pd.api.types.is_string_dtype(b):
            same = (a.fillna("") == b.fillna("")).all()   # Stata has no missing text
        else:
            same = np.array_equal(a.astype(float).values, b.astype(float).values, equal_nan=True)
        assert same, (joined, c)
    print(ours.shape[0], ours.shape[1], ours["ethnicity"].notna().sum())
"#;

#[test]
fn join_dta_and_dta_gz_cohorts_as_pandas_merges_them() {
    let Some(python) = common::pandas_python() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    common::run_python(&python, PANDAS_COHORTS, &[&common::reference(), root]);
    let mut triples = Vec::new();
    for ext in [".dta", ".dta.gz"] {
        let out = root.join(format!("joined{ext}"));
        let rhs = root.join(format!("input_end{ext}"));
        let run = common::cohortkit()
            .args(["join", "--lhs"])
            .arg(root.join(format!("lhs/*{ext}")))
            .arg("--rhs")
            .arg(&rhs)
            .arg("--output-dir")
            .arg(&out)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(run.status.success(), "{stderr}");
        assert!(stderr.contains("800 matched"), "{stderr}");
        let name = format!("input_2020-03-01{ext}");
        triples.extend([root.join("lhs").join(&name), rhs, out.join(&name)]);
    }
    let args: Vec<&Path> = triples.iter().map(|p| p.as_path()).collect();
    let checked = common::run_python(&python, CHECK_JOIN, &args);
    // Each: 1,000 rows; 124 + 23 columns; 800 rows matched (ethnicity is set
    // in every row of the end file).
    assert_eq!(checked, "1000 147 800\n1000 147 800\n");
}

#[test]
fn damaged_dta_files_fail_naming_the_file_and_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let batch = every_type();
    write_frame(&batch, &root.join("end.dta"), Format::Dta);
    write_frame(&batch, &root.join("whole.dta.gz"), Format::DtaGz);
    let whole = std::fs::read(root.join("end.dta")).unwrap();
    let gz = std::fs::read(root.join("whole.dta.gz")).unwrap();
    let mut flipped = gz.clone();
    flipped[gz.len() / 2] ^= 0x55;
    let cases: [(&str, &[u8], &str); 6] = [
        (
            "cut.dta",
            &whole[..whole.len() / 2],
            "truncated: the file ends inside the data, in observation",
        ),
        ("cut.dta.gz", &gz[..gz.len() / 2], "truncated"),
        ("flipped.dta.gz", &flipped, "cannot decompress"),
        (
            "gzip.dta",
            &gz,
            "the file is gzip-compressed, but its name does not end in .gz: name it gzip.dta.gz",
        ),
        ("csv.dta", b"patient_id,age\n1,40\n", "not a Stata file"),
        (
            "old.dta",
            &[113, 2, 1, 0, 1, 0],
            "unsupported Stata format 113",
        ),
    ];
    for (name, bytes, says) in cases {
        let lhs = root.join("lhs");
        std::fs::create_dir_all(&lhs).unwrap();
        std::fs::write(lhs.join(name), bytes).unwrap();
        let run = common::cohortkit()
            .args(["join", "--lhs"])
            .arg(lhs.join(name))
            .arg("--rhs")
            .arg(root.join("end.dta"))
            .arg("--output-dir")
            .arg(root.join("out"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(1), "{name}: {stderr}");
        assert!(
            stderr.contains(name) && stderr.contains(says),
            "{name}: {stderr}"
        );
        std::fs::remove_file(lhs.join(name)).unwrap();
        let left: Vec<_> = std::fs::read_dir(root.join("out")).unwrap().collect();
        assert!(left.is_empty(), "{name}: output left behind: {left:?}");
    }
}

/// Writes labelled variables with pandas (categoricals, and value labels
/// that leave some values unlabelled or give two values one text) in every
/// format pandas writes, and what `read_stata` reads from each as CSV text.
const PANDAS_LABELS: &str = r#"
import json, sys, warnings
import pandas as pd
out = sys.argv[1]
warnings.simplefilter("ignore")
frame = pd.DataFrame({
    "patient_id": [1, 2, 3, 4, 5],
    "sex": pd.Categorical(["F", "M", None, "", "F"]),
    "region": pd.Categorical(["Londön", None, None, "East", "East"]),
    "score": [1, 2, 3, 1, None],
})
expected = {}
for version in (114, 117, 118, 119):
    name = f"labels-{version}.dta"
    frame.to_stata(f"{out}/{name}", version=version, write_index=False,
                   value_labels={"score": {1: "low", 2: "high"}})
    expected[name] = pd.read_stata(f"{out}/{name}").to_csv(index=False)
frame.to_stata(f"{out}/same.dta", version=118, write_index=False,
               value_labels={"score": {1: "same", 2: "same"}})
try:
    pd.read_stata(f"{out}/same.dta")
    expected["same.dta"] = "read"
except ValueError as e:
    expected["same.dta"] = "refused"
json.dump(expected, open(f"{out}/expected.json", "w"))
"#;

#[test]
fn labelled_variables_read_as_their_labels_as_pandas_reads_them() {
    let Some(python) = common::pandas_python() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    common::run_python(&python, PANDAS_LABELS, &[dir.path()]);
    let expected: serde_json::Map<String, Value> =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("expected.json")).unwrap())
            .unwrap();
    for (name, csv) in &expected {
        let result = stata::read(&dir.path().join(name), false);
        if name == "same.dta" {
            assert_eq!(csv, "refused");
            let e = result.err().unwrap().to_string();
            assert!(
                e.contains("\"score\"") && e.contains("both read as the value label \"same\""),
                "{e}"
            );
            continue;
        }
        let batch = result.unwrap_or_else(|e| panic!("{e}"));
        let mut ours = String::new();
        let names: Vec<&str> = batch
            .schema_ref()
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        ours.push_str(&names.join(","));
        ours.push('\n');
        for row in 0..batch.num_rows() {
            let cells: Vec<String> = batch
                .columns()
                .iter()
                .map(|c| {
                    let mut out = Vec::new();
                    render_cell(c.as_ref(), row, &mut out).unwrap();
                    String::from_utf8(out).unwrap()
                })
                .collect();
            ours.push_str(&cells.join(","));
            ours.push('\n');
        }
        assert_eq!(&ours, csv.as_str().unwrap(), "{name}");
    }
}
