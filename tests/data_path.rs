//! The data path under hostile real-world inputs, through the real binary:
//! each defect class found by trying cohortkit as a hostile user would,
//! with its example as a regression test. Whole type ranges are covered by
//! `tests/render.rs` (Arrow to text) and `tests/join_formats.rs` (every
//! format pair against pandas); the quoting grammar by `table::quotes`.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::Output;

use common::{assert_success, cohortkit, pandas_python, run_python};

fn run(dir: &Path, args: &[&str]) -> Output {
    cohortkit().current_dir(dir).args(args).output().unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Runs and expects a clean failure (exit 1, not a crash), returning stderr.
fn failure(dir: &Path, args: &[&str]) -> String {
    let output = run(dir, args);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    stderr(&output)
}

fn join(dir: &Path, lhs: &str, rhs: &str) -> Output {
    run(
        dir,
        &[
            "join",
            "-q",
            "--lhs",
            lhs,
            "--rhs",
            rhs,
            "--output-dir",
            "out",
        ],
    )
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// Class 1: a `timestamp[us]` 9999-12-31 (an i64 nanosecond overflow gave
/// 1816-03-29), milliseconds and a time zone's offset survive the join of
/// a Parquet or Feather rhs into a CSV lhs, as pandas prints them.
#[test]
fn timestamps_of_columnar_files_are_written_exactly() {
    let Some(python) = pandas_python() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("lhs.csv"), "patient_id,x\n1,a\n2,b\n").unwrap();
    run_python(
        &python,
        r#"
import sys, datetime, pyarrow as pa, pyarrow.parquet as pq, pyarrow.feather as feather
d = sys.argv[1]
t = pa.table({
    "patient_id": [1, 2],
    "far": pa.array([datetime.datetime(9999, 12, 31), datetime.datetime(2020, 1, 1)], pa.timestamp("us")),
    "ms": pa.array([1_500, 86_400_000], pa.timestamp("ms")),
    "zoned": pa.array([0, 1_594_000_000], pa.timestamp("s", tz="Europe/London")),
})
pq.write_table(t, f"{d}/rhs.parquet")
feather.write_feather(t, f"{d}/rhs.feather")
"#,
        &[d],
    );
    for rhs in ["rhs.parquet", "rhs.feather"] {
        assert_success(&join(d, "lhs.csv", rhs));
        let text = std::fs::read_to_string(d.join("out/lhs.csv")).unwrap();
        assert_eq!(
            text,
            "patient_id,x,far,ms,zoned\n\
             1,a,9999-12-31,1970-01-01 00:00:01.500,1970-01-01 01:00:00+01:00\n\
             2,b,2020-01-01,1970-01-02 00:00:00.000,2020-07-06 02:46:40+01:00\n",
            "{rhs}"
        );
    }
}

/// Class 1, the report: date ranges of extreme timestamps are not wrapped.
#[test]
fn report_date_ranges_of_extreme_timestamps_are_right() {
    let Some(python) = pandas_python() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    run_python(
        &python,
        r#"
import sys, datetime, pyarrow as pa, pyarrow.feather as feather
n = 200
t = pa.table({
    "patient_id": list(range(n)),
    "far": pa.array([datetime.datetime(9999, 12, 1 + i % 28) for i in range(n)], pa.timestamp("us")),
})
feather.write_feather(t, f"{sys.argv[1]}/far.feather")
"#,
        &[d],
    );
    let output = run(
        d,
        &[
            "report",
            "--input-files",
            "far.feather",
            "--output-dir",
            "rep",
            "--json",
        ],
    );
    assert_success(&output);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("rep/far.json")).unwrap()).unwrap();
    let far = &json["columns"][1]["summary"];
    assert_eq!(far["kind"], "date", "{far}");
    assert_eq!(
        far["range"][0].as_str().unwrap().get(..4),
        Some("9999"),
        "{far}"
    );
}

/// Class 2: a CSV rhs column with an integer beyond int64 stays text in a
/// Feather, Parquet or Stata lhs join (it was float64: 9007199254740993
/// became 9007199254740992.0), and so does one a double cannot hold.
#[test]
fn csv_numbers_that_no_type_holds_exactly_stay_text() {
    let Some(python) = pandas_python() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("rhs.csv"),
        "patient_id,big,close,fine\n1,9007199254740993,0.1,1.5\n2,99999999999999999999,0.30000000000000004,2\n",
    )
    .unwrap();
    run_python(
        &python,
        r#"
import sys, pandas as pd
d = sys.argv[1]
lhs = pd.DataFrame({"patient_id": [1, 2]})
lhs.to_feather(f"{d}/lhs.feather"); lhs.to_parquet(f"{d}/lhs.parquet"); lhs.to_stata(f"{d}/lhs.dta", write_index=False)
"#,
        &[d],
    );
    for lhs in ["lhs.feather", "lhs.parquet", "lhs.dta"] {
        assert_success(&join(d, lhs, "rhs.csv"));
        let check = format!(
            r#"
import sys, pandas as pd
path = sys.argv[1] + "/out/{lhs}"
t = pd.read_stata(path) if path.endswith(".dta") else pd.read_feather(path) if path.endswith(".feather") else pd.read_parquet(path)
assert list(t["big"]) == ["9007199254740993", "99999999999999999999"], list(t["big"])
assert list(t["close"]) == [0.1, 0.30000000000000004], list(t["close"])
assert list(t["fine"]) == [1.5, 2.0], list(t["fine"])
print("ok")
"#
        );
        assert_eq!(run_python(&python, &check, &[d]).trim(), "ok", "{lhs}");
    }
}

/// Class 2: Latin-1 bytes are kept byte for byte in CSV, and refused with
/// the file, line and column where Arrow needs UTF-8 (they became U+FFFD);
/// header names likewise, without false `_x`/`_y` clashes.
#[test]
fn bytes_that_are_not_utf8_pass_through_or_fail_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("lhs.csv"), b"patient_id,caf\xe9\n1,x\n2,y\n").unwrap();
    std::fs::write(d.join("rhs.csv"), b"patient_id,caf\xe8,name\n1,z,Jos\xe9\n").unwrap();
    assert_success(&join(d, "lhs.csv", "rhs.csv"));
    assert_eq!(
        std::fs::read(d.join("out/lhs.csv")).unwrap(),
        b"patient_id,caf\xe9,caf\xe8,name\n1,x,z,Jos\xe9\n2,y,,\n"
    );
    // Into Arrow: the value's line and column are named.
    std::fs::write(d.join("rhs2.csv"), b"patient_id,name\n1,ok\n2,Jos\xe9\n").unwrap();
    let lhs = arrow_lhs(d);
    let error = failure(
        d,
        &[
            "join",
            "--lhs",
            &lhs,
            "--rhs",
            "rhs2.csv",
            "--output-dir",
            "out2",
        ],
    );
    assert!(
        error.contains("rhs2.csv, line 3")
            && error.contains("\"name\"")
            && error.contains("Jos\\xE9"),
        "{error}"
    );
    assert!(!d.join("out2").join("lhs.feather").exists());
    let error = failure(
        d,
        &[
            "join",
            "--lhs",
            &lhs,
            "--rhs",
            "rhs.csv",
            "--output-dir",
            "out3",
        ],
    );
    assert!(
        error.contains("caf\\xE8") && error.contains("not UTF-8"),
        "{error}"
    );
}

/// A Feather lhs of ids 1 and 2, written by cohortkit's own Arrow writer.
fn arrow_lhs(dir: &Path) -> String {
    use std::sync::Arc;
    let ids: arrow_array::ArrayRef = Arc::new(arrow_array::Int64Array::from(vec![1, 2]));
    let schema = Arc::new(arrow_schema::Schema::new(vec![arrow_schema::Field::new(
        "patient_id",
        arrow_schema::DataType::Int64,
        false,
    )]));
    let batch = arrow_array::RecordBatch::try_new(schema.clone(), vec![ids]).unwrap();
    let format = cohortkit::table::Format::Feather;
    let mut writer =
        cohortkit::table::frame::FrameWriter::create(&dir.join("lhs.feather"), format, schema, 6)
            .unwrap();
    writer.write(&batch).unwrap();
    writer.finish().unwrap();
    "lhs.feather".into()
}

/// Class 3: a quote never closed is an error naming the line where it
/// opened, in the join and in the report (both took the rest of the file
/// as one field, exit 0).
#[test]
fn an_unclosed_quote_is_an_error_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let text = b"patient_id,b\n1,\"abc\n2,d\n";
    std::fs::write(d.join("bad.csv"), text).unwrap();
    std::fs::write(d.join("bad.csv.gz"), gzip(text)).unwrap();
    std::fs::write(d.join("rhs.csv"), "patient_id,c\n1,x\n").unwrap();
    for file in ["bad.csv", "bad.csv.gz"] {
        for args in [
            vec![
                "join",
                "--lhs",
                file,
                "--rhs",
                "rhs.csv",
                "--output-dir",
                "out",
            ],
            vec![
                "join",
                "--lhs",
                "rhs.csv",
                "--rhs",
                file,
                "--output-dir",
                "out",
            ],
            vec!["report", "--input-files", file, "--output-dir", "rep"],
        ] {
            let error = failure(d, &args);
            assert!(
                error.contains(&format!("{file}, line 2")) && error.contains("never closed"),
                "{args:?}: {error}"
            );
        }
    }
    // A quote inside an unquoted field is text, as pandas reads it.
    std::fs::write(d.join("inch.csv"), "patient_id,size\n1,5\"\n2,6\n").unwrap();
    assert_success(&join(d, "inch.csv", "rhs.csv"));
    assert_eq!(
        std::fs::read_to_string(d.join("out/inch.csv")).unwrap(),
        "patient_id,size,c\n1,\"5\"\"\",x\n2,6,\n"
    );
    let output = run(
        d,
        &[
            "report",
            "--input-files",
            "inch.csv",
            "--output-dir",
            "rep",
            "--json",
        ],
    );
    assert_success(&output);
}

/// Class 7: CRLF survives a header over 256 KiB and a quoted line break in
/// the header (both became LF).
#[test]
fn crlf_is_kept_whatever_the_header() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("rhs.csv"), "patient_id,c\r\n1,x\r\n").unwrap();
    let wide: Vec<String> = (0..30_000).map(|i| format!("column_{i}")).collect();
    let header = format!("patient_id,{}", wide.join(","));
    let row = format!("1,{}", vec!["0"; wide.len()].join(","));
    std::fs::write(d.join("wide.csv"), format!("{header}\r\n{row}\r\n")).unwrap();
    std::fs::write(d.join("quoted.csv"), "patient_id,\"two\nlines\"\r\n1,a\r\n").unwrap();
    for lhs in ["wide.csv", "quoted.csv"] {
        assert_success(&join(d, lhs, "rhs.csv"));
        let out = std::fs::read(d.join("out").join(lhs)).unwrap();
        let crlf = out.windows(2).filter(|w| w == b"\r\n").count();
        assert_eq!(crlf, 2, "{lhs}");
    }
}

/// Class 7: a patient id written `7e0` matches `7`, as pandas matches
/// numeric ids.
#[test]
fn numeric_ids_match_by_value() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("lhs.csv"), "patient_id\n7e0\n7.0\n0007\n8\n").unwrap();
    std::fs::write(d.join("rhs.csv"), "patient_id,c\n7,seven\n").unwrap();
    assert_success(&join(d, "lhs.csv", "rhs.csv"));
    assert_eq!(
        std::fs::read_to_string(d.join("out/lhs.csv")).unwrap(),
        "patient_id,c\n7e0,seven\n7.0,seven\n0007,seven\n8,\n"
    );
}

/// Class 7: pandas' schema metadata is kept, so a pandas `Int64` column and
/// a `category` read back as they were written (`Int64` read as float64).
#[test]
fn pandas_dtypes_survive_a_columnar_join() {
    let Some(python) = pandas_python() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let script = r#"
import sys, pandas as pd
d = sys.argv[1]
lhs = pd.DataFrame({"patient_id": [1, 2, 3], "n": pd.array([1, None, 3], dtype="Int64")})
rhs = pd.DataFrame({"patient_id": [1, 2], "m": pd.array([5, None], dtype="Int64"),
                    "c": pd.Categorical(["a", "b"]), "n": pd.array([True, False], dtype="boolean")})
lhs.to_feather(f"{d}/lhs.feather"); rhs.to_feather(f"{d}/rhs.feather")
lhs.to_parquet(f"{d}/lhs.parquet"); rhs.to_parquet(f"{d}/rhs.parquet")
"#;
    run_python(&python, script, &[d]);
    for (lhs, rhs) in [
        ("lhs.feather", "rhs.parquet"),
        ("lhs.parquet", "rhs.feather"),
    ] {
        assert_success(&join(d, lhs, rhs));
        let check = format!(
            r#"
import sys, pandas as pd
d = sys.argv[1]
read = pd.read_feather if "{lhs}".endswith("feather") else pd.read_parquet
t = read(f"{{d}}/out/{lhs}")
assert dict(t.dtypes.astype(str)) == {{"patient_id": "int64", "n_x": "Int64", "m": "Int64", "c": "category", "n_y": "boolean"}}, dict(t.dtypes.astype(str))
expected = read(f"{{d}}/{lhs}").merge((pd.read_parquet if "{rhs}".endswith("parquet") else pd.read_feather)(f"{{d}}/{rhs}"), how="left", on="patient_id")
pd.testing.assert_frame_equal(t, expected)
print("ok")
"#
        );
        assert_eq!(
            run_python(&python, &check, &[d]).trim(),
            "ok",
            "{lhs} {rhs}"
        );
    }
}

/// Class 7: UTF-16 input is named as such (it gave "no patient_id column"
/// with NUL bytes in the message).
#[test]
fn utf16_files_are_named_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let text: Vec<u8> = b"\xFF\xFE"
        .iter()
        .copied()
        .chain(
            "patient_id,x\r\n1,2\r\n"
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        )
        .collect();
    std::fs::write(d.join("wide.csv"), &text).unwrap();
    std::fs::write(d.join("rhs.csv"), "patient_id,c\n1,x\n").unwrap();
    for args in [
        vec![
            "join",
            "--lhs",
            "wide.csv",
            "--rhs",
            "rhs.csv",
            "--output-dir",
            "out",
        ],
        vec![
            "join",
            "--lhs",
            "rhs.csv",
            "--rhs",
            "wide.csv",
            "--output-dir",
            "out",
        ],
        vec!["report", "--input-files", "wide.csv", "--output-dir", "rep"],
    ] {
        let error = failure(d, &args);
        assert!(
            error.contains("UTF-16") && !error.contains('\0'),
            "{args:?}: {error}"
        );
    }
}

/// Class 7: an output whose name is taken by a directory fails, and no
/// temporary file is left (one was, though the message said none was).
#[test]
fn a_failed_rename_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("lhs.csv"), "patient_id\n1\n").unwrap();
    std::fs::write(d.join("rhs.csv"), "patient_id,c\n1,x\n").unwrap();
    std::fs::create_dir_all(d.join("out/lhs.csv/inside")).unwrap();
    let error = failure(
        d,
        &[
            "join",
            "--lhs",
            "lhs.csv",
            "--rhs",
            "rhs.csv",
            "--output-dir",
            "out",
        ],
    );
    assert!(error.contains("a directory has its name"), "{error}");
    let names: Vec<_> = std::fs::read_dir(d.join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, ["lhs.csv"]);
}
