//! `cohortkit join` and `report` on inputs in forms other tools take or
//! that are easy to get wrong: gzip with zero padding after its data, Arrow
//! IPC streams, Feather version 1 files, and files whose bytes are in
//! another format than their names say.

mod common;

use std::path::Path;
use std::process::Output;
use std::sync::Arc;

use arrow_array::RecordBatch;
use cohortkit::table::{Format, frame, gzip, typed_csv};
use common::{assert_success, cohortkit, pandas_python, reference, run_python};
use serde_json::Value;

/// Runs cohortkit in `dir`.
fn run(dir: &Path, args: &[&str]) -> Output {
    cohortkit().current_dir(dir).args(args).output().unwrap()
}

/// Asserts that a command exited 1 with every one of `says` in its stderr.
fn fails(output: &Output, says: &[&str]) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    for part in says {
        assert!(stderr.contains(part), "{part:?} not in:\n{stderr}");
    }
}

/// Joins `lhs` (relative to `dir`) to the reference end file into `out`.
fn join(dir: &Path, lhs: &str, out: &str) -> Output {
    let rhs = reference().join("output/input_end.csv.gz");
    let rhs = rhs.to_str().unwrap();
    run(
        dir,
        &["join", "--lhs", lhs, "--rhs", rhs, "--output-dir", out],
    )
}

/// Reports on `input` (relative to `dir`) into `out`, with the JSON.
fn report(dir: &Path, input: &str, out: &str) -> Output {
    run(
        dir,
        &[
            "report",
            "--input-files",
            input,
            "--output-dir",
            out,
            "--json",
        ],
    )
}

/// The figures of a JSON report, without what names or dates the file.
fn figures(path: &Path) -> (Value, Value) {
    let json: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    (json["rows"].clone(), json["columns"].clone())
}

fn reference_week() -> Vec<u8> {
    std::fs::read(reference().join("output/input_2020-03-01.csv.gz")).unwrap()
}

#[test]
fn gzip_padded_with_zero_bytes_is_read_as_gzip_reads_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("in")).unwrap();
    // pandas' file: one member; then zero padding, as tape and some
    // transfer tools leave it (gzip: "trailing zero bytes ignored").
    let week = reference_week();
    std::fs::write(d.join("in/week.csv.gz"), [&week[..], &[0; 4096]].concat()).unwrap();
    assert_success(&join(d, "in/week.csv.gz", "out"));
    let joined = gzip::read_all(&d.join("out/week.csv.gz"), true).unwrap();
    std::fs::write(d.join("in/week.csv.gz"), &week).unwrap();
    assert_success(&join(d, "in/week.csv.gz", "unpadded"));
    let unpadded = gzip::read_all(&d.join("unpadded/week.csv.gz"), true).unwrap();
    assert_eq!(joined, unpadded);

    // The report reads gzip members in parallel: our own output has several.
    let ours = std::fs::read(d.join("out/week.csv.gz")).unwrap();
    std::fs::write(d.join("in/ours.csv.gz"), [&ours[..], &[0; 100]].concat()).unwrap();
    assert_success(&report(d, "in/ours.csv.gz", "report"));
    assert_success(&report(d, "out/week.csv.gz", "report_unpadded"));
    assert_eq!(
        figures(&d.join("report/ours.json")),
        figures(&d.join("report_unpadded/week.json"))
    );

    // Anything but zeros after the data, and a file cut short, still fail.
    let garbage = [&ours[..], b"\0\0\0not gzip"].concat();
    std::fs::write(d.join("in/bad.csv.gz"), garbage).unwrap();
    let says = ["in/bad.csv.gz: cannot decompress", "neither zero padding"];
    fails(&join(d, "in/bad.csv.gz", "bad"), &says);
    fails(&report(d, "in/bad.csv.gz", "bad"), &says);
    std::fs::write(d.join("in/cut.csv.gz"), &ours[..ours.len() - 9]).unwrap();
    let says = ["in/cut.csv.gz: cannot decompress", "corrupt or truncated"];
    fails(&join(d, "in/cut.csv.gz", "cut"), &says);
    fails(&report(d, "in/cut.csv.gz", "cut"), &says);
}

/// The reference week as one record batch, typed as the join types CSV.
fn week_batch() -> RecordBatch {
    let path = reference().join("output/input_2020-03-01.csv.gz");
    typed_csv::read_csv_typed(&path, Format::CsvGz).unwrap()
}

fn write_stream(path: &Path, batch: &RecordBatch) {
    let file = std::fs::File::create(path).unwrap();
    let mut writer = arrow_ipc::writer::StreamWriter::try_new(file, &batch.schema()).unwrap();
    // Several batches, as a stream usually has.
    for start in (0..batch.num_rows()).step_by(300) {
        let rows = 300.min(batch.num_rows() - start);
        writer.write(&batch.slice(start, rows)).unwrap();
    }
    writer.finish().unwrap();
}

fn write_frame(path: &Path, format: Format, batch: &RecordBatch) {
    let mut writer = frame::FrameWriter::create(path, format, batch.schema(), 6).unwrap();
    writer.write(batch).unwrap();
    writer.finish().unwrap();
}

fn read_frame(path: &Path) -> RecordBatch {
    frame::read(path, Format::from_path(path).unwrap())
        .unwrap()
        .concat()
        .unwrap()
}

#[test]
fn arrow_streams_are_read_whatever_their_extension() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("in")).unwrap();
    let week = week_batch();
    write_stream(&d.join("in/stream.arrow"), &week);
    write_stream(&d.join("in/stream.feather"), &week);
    write_frame(&d.join("in/file.arrow"), Format::Arrow, &week);
    for name in ["stream.arrow", "stream.feather", "file.arrow"] {
        assert_success(&join(d, &format!("in/{name}"), "out"));
        assert_success(&report(d, &format!("in/{name}"), name));
    }
    let expected = read_frame(&d.join("out/file.arrow"));
    assert_eq!(expected.num_rows(), 1000);
    assert_eq!(expected.num_columns(), 147);
    for name in ["stream.arrow", "stream.feather"] {
        assert_eq!(read_frame(&d.join("out").join(name)), expected, "{name}");
        let stem = name.split('.').next().unwrap();
        assert_eq!(
            figures(&d.join(name).join(format!("{stem}.json"))),
            figures(&d.join("file.arrow/file.json")),
            "{name}"
        );
    }
}

#[test]
fn feather_version_1_is_refused_with_how_to_convert_it() {
    let Some(python) = pandas_python() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let v1 = d.join("v1.feather");
    let script = r#"
import sys, warnings, pyarrow as pa, pyarrow.feather as feather
warnings.simplefilter("ignore")
table = pa.table({"patient_id": [1, 2, 3], "age": [40, None, 71]})
feather.write_feather(table, sys.argv[1], version=1)
"#;
    run_python(&python, script, &[&v1]);
    let says = [
        "v1.feather: this is a Feather version 1 file",
        "write_feather",
    ];
    let output = join(d, "v1.feather", "out");
    fails(&output, &says);
    fails(&report(d, "v1.feather", "out"), &says);

    // The advice works: run the command the error gives.
    let stderr = String::from_utf8_lossy(&output.stderr);
    let code = stderr
        .split_once("python3 -c \"")
        .and_then(|(_, rest)| rest.split_once('"'))
        .map(|(code, _)| code)
        .expect("the error gives a python3 -c command");
    let v2 = d.join("v2.feather");
    run_python(&python, code, &[&v1, &v2]);
    assert_success(&join(d, "v2.feather", "out"));
    assert_eq!(read_frame(&d.join("out/v2.feather")).num_rows(), 3);
}

#[test]
fn files_in_another_format_than_their_name_say_what_they_look_like() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("in")).unwrap();
    let csv = gzip::read_all(&reference().join("output/input_2020-03-01.csv.gz"), true).unwrap();
    let parquet = d.join("week.parquet");
    let batch = week_batch();
    let small = RecordBatch::try_new(
        Arc::clone(&batch.schema()),
        batch.slice(0, 5).columns().to_vec(),
    );
    write_frame(&parquet, Format::Parquet, &small.unwrap());
    let parquet = std::fs::read(parquet).unwrap();
    let cases: [(&str, &[u8], &str); 7] = [
        (
            "text.parquet",
            &csv,
            "not a Parquet file: it looks like text (CSV?); if it is, give it a name ending in .csv",
        ),
        (
            "gzip.csv",
            &reference_week(),
            "the file is gzip-compressed, but its name does not end in .gz: name it gzip.csv.gz",
        ),
        (
            "text.csv.gz",
            &csv,
            "not gzip-compressed, although its name ends in .gz: it looks like text (CSV?)",
        ),
        (
            "parquet.feather",
            &parquet,
            "not an Arrow IPC (Feather) file: it looks like a Parquet file; if it is, give it a name ending in .parquet",
        ),
        (
            "parquet.dta",
            &parquet,
            "not a Stata file: it does not start as a .dta file does; it looks like a Parquet file",
        ),
        ("empty.parquet", b"", "it looks like an empty file"),
        ("empty.arrow", b"", "it looks like an empty file"),
    ];
    for (name, bytes, says) in cases {
        std::fs::write(d.join("in").join(name), bytes).unwrap();
        let input = format!("in/{name}");
        let named = format!("{input}: ");
        let says = [named.as_str(), says];
        fails(&join(d, &input, "out"), &says);
        fails(&report(d, &input, "out"), &says);
    }
}
