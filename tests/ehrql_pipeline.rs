//! ehrQL actions in `cohortkit run`, each of the four ways: an `ehrql` on
//! PATH (a fake one that records what it was given), the action's dummy
//! data file (every input format to every output format, multi-table
//! too, no value changed), the definition's schema (the population from
//! the definition, else ehrQL's 10), and a failure naming the three. And
//! the bundled example, `testdata/ehrql`, end to end with no ehrQL.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// PATH without any directory that holds an `ehrql`, so that the native
/// ways are taken whatever this machine has installed.
fn path_without_ehrql() -> std::ffi::OsString {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs = std::env::split_paths(&path).filter(|dir| !dir.join("ehrql").exists());
    std::env::join_paths(dirs).unwrap()
}

/// `cohortkit ARGS` with no `ehrql` on PATH.
fn cohortkit(args: &[&str]) -> Command {
    let mut command = common::cohortkit();
    command.args(args).env("PATH", path_without_ehrql());
    command
}

fn run(dir: &Path, args: &[&str]) -> Output {
    cohortkit(&[&["run"], args].concat())
        .arg("--project-dir")
        .arg(dir)
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The row of `action` in `run`'s closing status table.
fn status_line<'a>(out: &'a str, action: &str) -> &'a str {
    out.lines()
        .find(|l| l.starts_with(&format!("{action} ")))
        .unwrap_or_else(|| panic!("no status of {action} in:\n{out}"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A CSV file's text, through gzip where its name ends `.gz`.
fn csv_text(path: &Path) -> String {
    let bytes = if path.extension().is_some_and(|e| e == "gz") {
        gunzip(path)
    } else {
        std::fs::read(path).unwrap()
    };
    String::from_utf8(bytes).unwrap()
}

fn gunzip(path: &Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    let file = std::fs::File::open(path).unwrap();
    std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(file), &mut bytes).unwrap();
    bytes
}

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/ehrql")
}

/// A copy of the bundled example in a temporary directory.
fn example_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let status = Command::new("cp")
        .arg("-r")
        .arg(format!("{}/.", example().display()))
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    dir
}

/// Prints each column of an Arrow IPC file (argv[1]) as ehrQL's CSV writer
/// prints its values, one JSON list per column, with the types.
const ARROW_AS_EHRQL_CSV: &str = r##"
import json, sys
import pyarrow.ipc
table = pyarrow.ipc.open_file(sys.argv[1]).read_all()
def text(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return "T" if v else "F"
    return v.isoformat() if hasattr(v, "isoformat") else str(v)
print(json.dumps({
    "types": {f.name: str(f.type) for f in table.schema},
    "columns": {name: [text(v) for v in table.column(name).to_pylist()] for name in table.column_names},
}))
"##;

/// An Arrow IPC file's columns as ehrQL prints values, and its types
/// (see [`ARROW_AS_EHRQL_CSV`]).
fn arrow_as_text(python: &Path, path: &Path) -> serde_json::Value {
    serde_json::from_str(&common::run_python(python, ARROW_AS_EHRQL_CSV, &[path])).unwrap()
}

/// The columns of a CSV file (CRLF or LF) as lists of their texts.
fn csv_columns(text: &str) -> Vec<(String, Vec<String>)> {
    let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let names: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let mut columns: Vec<(String, Vec<String>)> =
        names.into_iter().map(|n| (n, Vec::new())).collect();
    for record in reader.records() {
        for (column, field) in columns.iter_mut().zip(record.unwrap().iter()) {
            column.1.push(field.to_string());
        }
    }
    columns
}

#[test]
fn the_bundled_example_runs_end_to_end_without_ehrql_docker_or_network() {
    let Some(()) = common::python3() else { return };
    let dir = example_copy();
    let p = dir.path();
    let output = run(p, &["run_all"]);
    let out = stdout(&output);
    assert!(output.status.success(), "{out}");
    for action in [
        "generate_dataset",
        "generate_patients",
        "generate_vaccinations",
        "join_patients",
        "report_dataset",
    ] {
        let line = status_line(&out, action);
        assert!(
            line.contains("succeeded") && line.ends_with("native"),
            "{line}"
        );
    }
    // The dummy data file is the dataset, every value as written.
    let dummy = read(&p.join("dummy_data/dataset.csv"));
    if let Some(python) = common::pandas_python() {
        let arrow = arrow_as_text(&python, &p.join("output/dataset.arrow"));
        for (name, values) in csv_columns(&dummy) {
            assert_eq!(arrow["columns"][&name], serde_json::json!(values), "{name}");
        }
        assert_eq!(arrow["types"]["has_asthma"], "bool");
        assert_eq!(arrow["types"]["first_covid_vaccination"], "date32[day]");
        // The schema's dataset: configure_dummy_data(population_size=1000).
        let patients = arrow_as_text(&python, &p.join("output/patients.arrow"));
        assert_eq!(
            patients["columns"]["patient_id"].as_array().unwrap().len(),
            1000
        );
        assert_eq!(patients["types"]["in_care_home"], "bool");
        assert_eq!(patients["types"]["date_of_death"], "date32[day]");
        // Both datasets are drawn from one patient universe: all match.
        let joined = arrow_as_text(&python, &p.join("output/joined/dataset.arrow"));
        let care = joined["columns"]["in_care_home"].as_array().unwrap();
        assert_eq!(care.len(), 1000);
        assert!(care.iter().all(|v| v == "T" || v == "F"), "unmatched rows");
        // The python:v2 action read the arrow with pyarrow.
        let description = read(&p.join("output/dataset_description.txt"));
        assert!(description.starts_with("1000 rows\n"), "{description}");
        assert!(description.contains("has_asthma: bool\n"), "{description}");
    }
    // One file per table, each CSV as written.
    for table in ["dataset", "vaccinations"] {
        assert_eq!(
            gunzip(&p.join(format!("output/vaccinations/{table}.csv.gz"))),
            std::fs::read(p.join(format!("dummy_data/vaccinations/{table}.csv"))).unwrap(),
            "{table}"
        );
    }
    // The report, for release, with its long table; ehrQL's booleans are
    // booleans.
    let figures = read(&p.join("output/report/dataset.csv"));
    assert!(figures.contains("has_asthma,type,,boolean,"), "{figures}");
    assert!(figures.contains("in_care_home,type,,boolean,"), "{figures}");
    let log = read(&p.join("metadata/generate_dataset.log"));
    assert!(log.contains("cohortkit: generate-dataset analysis/dataset_definition.py --output output/dataset.arrow --dummy-data-file dummy_data/dataset.csv --quiet"), "{log}");
}

#[test]
fn the_bundled_dummy_data_are_what_their_schemas_make() {
    let dir = tempfile::tempdir().unwrap();
    let data = example().join("dummy_data");
    for (schema, population, file) in [
        ("dataset.schema.yaml", "1000", "dataset.csv"),
        (
            "vaccinations_dataset.schema.yaml",
            "300",
            "vaccinations/dataset.csv",
        ),
        (
            "vaccinations_events.schema.yaml",
            "300",
            "vaccinations/vaccinations.csv",
        ),
    ] {
        let made = dir.path().join("made.csv");
        let output = cohortkit(&["generate", "-q", "--conventions", "ehrql", "--schema"])
            .arg(data.join(schema))
            .args(["--population", population, "--output-file"])
            .arg(&made)
            .output()
            .unwrap();
        common::assert_success(&output);
        assert_eq!(read(&made), read(&data.join(file)), "{file}");
    }
}

/// A version 5.0 project of two ehrQL actions: `dataset`, `generate-dataset
/// analysis/d.py DATASET_ARGS` to `output/d.arrow`, and `measures`,
/// `generate-measures analysis/m.py` to `output/m.csv`.
fn ehrql_project(dataset_args: &str) -> String {
    format!(
        "version: '5.0'
actions:
  dataset:
    run: ehrql:v1 generate-dataset analysis/d.py {dataset_args}
    outputs:
      highly_sensitive:
        d: output/d.arrow
  measures:
    run: ehrql:v1 generate-measures analysis/m.py --output output/m.csv
    outputs:
      moderately_sensitive:
        m: output/m.csv
"
    )
}

/// A fake `ehrql` that writes what it was given (arguments, directory,
/// OPENSAFELY_BACKEND) into the `--output` file.
const FAKE_EHRQL: &str = r#"#!/bin/sh
out=""
prev=""
for a in "$@"; do
  if [ "$prev" = "--output" ]; then out=$a; fi
  prev=$a
done
mkdir -p "$(dirname "$out")"
{
  echo "cwd=$(pwd)"
  echo "backend=$OPENSAFELY_BACKEND"
  for a in "$@"; do echo "arg=$a"; done
} > "$out"
echo "fake ehrql ran in $(pwd)"
"#;

#[test]
fn an_ehrql_on_path_runs_every_ehrql_command_in_the_actions_directory() {
    let bin = tempfile::tempdir().unwrap();
    let ehrql = bin.path().join("ehrql");
    std::fs::write(&ehrql, FAKE_EHRQL).unwrap();
    std::fs::set_permissions(&ehrql, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let yaml = ehrql_project(
        "--output output/d.arrow --dummy-data-file /workspace/dummy.csv -- --weeks 4",
    );
    let dir = common::project(
        &yaml,
        &[
            ("analysis/d.py", "# a dataset definition\n"),
            ("analysis/m.py", "# a measures definition\n"),
            ("dummy.csv", "patient_id\n1\n"),
        ],
    );
    let p = dir.path();
    let mut path = std::ffi::OsString::from(bin.path());
    path.push(":");
    path.push(path_without_ehrql());
    let output = common::cohortkit()
        .args(["run", "run_all", "--project-dir"])
        .arg(p)
        .env("PATH", path)
        .output()
        .unwrap();
    let out = stdout(&output);
    assert!(output.status.success(), "{out}");
    let seen = read(&p.join("output/d.arrow"));
    let cwd = seen.lines().next().unwrap().strip_prefix("cwd=").unwrap();
    assert!(cwd.contains("metadata/.cohortkit/work/dataset-"), "{cwd}");
    let args: Vec<&str> = seen
        .lines()
        .filter_map(|l| l.strip_prefix("arg="))
        .collect();
    let dummy = format!("{cwd}/dummy.csv");
    assert_eq!(
        args,
        [
            "generate-dataset",
            "analysis/d.py",
            "--output",
            "output/d.arrow",
            "--dummy-data-file",
            &dummy,
            "--",
            "--weeks",
            "4"
        ]
    );
    assert!(seen.contains("backend=expectations\n"), "{seen}");
    let measures = read(&p.join("output/m.csv"));
    assert!(measures.contains("arg=generate-measures\n"), "{measures}");
    for action in ["dataset", "measures"] {
        let line = status_line(&out, action);
        assert!(
            line.contains("succeeded") && line.contains("ehrql"),
            "{line}"
        );
        let log = read(&p.join(format!("metadata/{action}.log")));
        assert!(log.contains("fake ehrql ran in /workspace"), "{log}");
    }
}

/// Writes `source.{csv,csv.gz,arrow,feather,parquet}` into argv[1], the
/// same table in each, typed as ehrQL types a dataset; and
/// `tables/{dataset,events}.arrow` for the multi-table form.
const SOURCES: &str = r##"
import datetime, sys
import pyarrow as pa, pyarrow.csv, pyarrow.feather, pyarrow.ipc, pyarrow.parquet
out = sys.argv[1]
n = 300
def nth(values, share=7):
    return [None if i % share == 3 else values[i % len(values)] for i in range(n)]
categories = pa.array(["female", "male", "unknown"])
keys = pa.array([None if i % 11 == 0 else i % 3 for i in range(n)], pa.int8())
table = pa.table({
    "patient_id": pa.array(range(1000, 1000 + n), pa.int64()),
    "sex": pa.DictionaryArray.from_arrays(keys, categories, ordered=True),
    "age": pa.array(nth(list(range(0, 110, 3))), pa.uint8()),
    "has_asthma": pa.array(nth([True, False, False]), pa.bool_()),
    "bmi": pa.array(nth([27.5, 0.1, 1e-7, 31.0, 2.0**60, -0.0]), pa.float64()),
    "first_date": pa.array(nth([datetime.date(2020, 1, 31), datetime.date(1900, 2, 28), datetime.date(9999, 12, 31)]), pa.date32()),
    "region": pa.array(nth(["London", "North, East", 'said "hi"', ""]), pa.string()),
    "count": pa.array(nth([-(2**63), 2**63 - 1, 0]), pa.int64()),
})
with pa.ipc.new_file(f"{out}/source.arrow", table.schema, options=pa.ipc.IpcWriteOptions(compression="zstd")) as w:
    w.write_table(table, max_chunksize=64)
pa.feather.write_feather(table, f"{out}/source.feather")
pa.parquet.write_table(table, f"{out}/source.parquet")
import os
os.makedirs(f"{out}/tables", exist_ok=True)
with pa.ipc.new_file(f"{out}/tables/dataset.arrow", table.schema) as w:
    w.write_table(table)
events = pa.table({"patient_id": pa.array([1000, 1000, 1001], pa.int64()), "date": pa.array([datetime.date(2021, 1, 1)] * 3, pa.date32())})
with pa.ipc.new_file(f"{out}/tables/my events.arrow", events.schema) as w:
    w.write_table(events)
"##;

/// Compares argv[2] (`.arrow`, or CSV as ehrQL prints values) with the
/// table of argv[1] value by value (and type by type for Arrow); prints
/// the problems as JSON.
const SAME: &str = r##"
import csv, gzip, io, json, sys
import pyarrow as pa, pyarrow.ipc, pyarrow.feather, pyarrow.parquet
source, dest = sys.argv[1], sys.argv[2]
def load(path):
    if path.endswith(".parquet"):
        return pa.parquet.read_table(path)
    if path.endswith(".feather"):
        return pa.feather.read_table(path)
    return pa.ipc.open_file(path).read_all()
def text(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return "T" if v else "F"
    return v.isoformat() if hasattr(v, "isoformat") else str(v)
expected = load(source)
problems = []
if dest.endswith(".arrow"):
    ours = load(dest)
    if ours.schema.remove_metadata() != expected.schema.remove_metadata() and not source.endswith(".parquet"):
        problems.append(f"schema {ours.schema} != {expected.schema}")
    for name in expected.column_names:
        if ours.column(name).to_pylist() != expected.column(name).to_pylist():
            problems.append(f"{name} differs")
else:
    data = gzip.open(dest, "rb").read() if dest.endswith(".gz") else open(dest, "rb").read()
    if b"\r\n" not in data:
        problems.append("lines do not end in CRLF")
    rows = list(csv.reader(io.StringIO(data.decode(), newline="")))
    want = [expected.column_names] + [[text(v) for v in row.values()] for row in expected.to_pylist()]
    for i, (a, b) in enumerate(zip(rows, want)):
        if a != b:
            problems.append(f"row {i}: {a} != {b}")
            break
    if len(rows) != len(want):
        problems.append(f"{len(rows)} rows != {len(want)}")
print(json.dumps(problems))
"##;

fn generate_dataset(dir: &Path, args: &[&str]) -> Output {
    cohortkit(&["ehrql", "generate-dataset", "analysis/d.py", "-C"])
        .arg(dir)
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn a_dummy_data_file_of_any_format_is_written_as_the_output_names_no_value_changed() {
    let Some(python) = common::pandas_python() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("analysis")).unwrap();
    std::fs::write(d.join("analysis/d.py"), "# ehrQL\n").unwrap();
    common::run_python(&python, SOURCES, &[d]);
    // CSV as ehrQL writes it, from the Arrow file.
    for ext in ["csv", "csv.gz"] {
        let made = generate_dataset(
            d,
            &[
                "--dummy-data-file",
                "source.arrow",
                "--output",
                &format!("source.{ext}"),
            ],
        );
        common::assert_success(&made);
    }
    for source in ["arrow", "feather", "parquet", "csv", "csv.gz"] {
        for output in ["arrow", "csv", "csv.gz"] {
            let dest = format!("out/{source}.{output}");
            let made = generate_dataset(
                d,
                &[
                    "--dummy-data-file",
                    &format!("source.{source}"),
                    "--output",
                    &dest,
                ],
            );
            common::assert_success(&made);
            let problems: Vec<String> = if source.starts_with("csv") {
                // CSV in: the same texts out, whichever format.
                let written = if output == "arrow" {
                    let back = format!("out/{source}-back.csv");
                    let made =
                        generate_dataset(d, &["--dummy-data-file", &dest, "--output", &back]);
                    common::assert_success(&made);
                    csv_text(&d.join(back))
                } else {
                    csv_text(&d.join(&dest))
                };
                let original = csv_text(&d.join(format!("source.{source}")));
                if csv_columns(&written) == csv_columns(&original) {
                    vec![]
                } else {
                    vec![format!("{source} -> {output}: texts differ")]
                }
            } else {
                serde_json::from_str(&common::run_python(
                    &python,
                    SAME,
                    &[&d.join(format!("source.{source}")), &d.join(&dest)],
                ))
                .unwrap()
            };
            assert!(problems.is_empty(), "{source} -> {output}: {problems:?}");
        }
    }
    // The multi-table form: one file per table, names URL-quoted.
    let made = generate_dataset(
        d,
        &["--dummy-data-file", "tables", "--output", "multi:csv.gz"],
    );
    common::assert_success(&made);
    for (source, dest) in [
        ("tables/dataset.arrow", "multi/dataset.csv.gz"),
        ("tables/my events.arrow", "multi/my%20events.csv.gz"),
    ] {
        let problems: Vec<String> = serde_json::from_str(&common::run_python(
            &python,
            SAME,
            &[&d.join(source), &d.join(dest)],
        ))
        .unwrap();
        assert!(problems.is_empty(), "{dest}: {problems:?}");
    }
    // A dataset with event tables cannot go to one file.
    let one = generate_dataset(d, &["--dummy-data-file", "tables", "--output", "one.arrow"]);
    assert!(!one.status.success());
    // A table without patient_id is refused, naming it.
    std::fs::write(d.join("bad.csv"), "id,x\n1,2\n").unwrap();
    let bad = generate_dataset(d, &["--dummy-data-file", "bad.csv", "--output", "x.arrow"]);
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(!bad.status.success());
    assert!(
        stderr.contains("bad.csv: no patient_id column (it has id, x)"),
        "{stderr}"
    );
    assert!(!d.join("x.arrow").exists());
}

#[test]
fn a_schema_gives_the_definitions_population_else_ehrqls_ten() {
    let schema = "study_definition: d\ncolumns:\n- name: patient_id\n  type: patient_id\n- name: flag\n  type: flag\n  incidence: 0.5\n";
    for (definition, args, rows) in [
        (
            "dataset.configure_dummy_data(population_size=250)\n",
            &[][..],
            250,
        ),
        ("dataset.configure_dummy_data(population_size=N)\n", &[], 10),
        ("# no configuration\n", &[], 10),
        (
            "dataset.configure_dummy_data(population_size=250)\n",
            &["--population", "33"],
            33,
        ),
    ] {
        let dir = common::project(
            "",
            &[
                ("analysis/d.py", definition),
                ("analysis/d.schema.yaml", schema),
            ],
        );
        let made = generate_dataset(
            dir.path(),
            &[&["--output", "output/d.csv.gz"][..], args].concat(),
        );
        common::assert_success(&made);
        let text = csv_text(&dir.path().join("output/d.csv.gz"));
        let lines: Vec<&str> = text.split_terminator("\r\n").collect();
        assert_eq!(lines[0], "patient_id,flag");
        assert_eq!(lines.len(), rows + 1, "{definition} {args:?}");
        assert!(
            lines[1..]
                .iter()
                .all(|l| l.ends_with(",T") || l.ends_with(",F"))
        );
    }
}

#[test]
fn with_no_way_to_make_the_dataset_the_action_is_unavailable_and_says_the_three_ways() {
    let yaml = ehrql_project("--output output/d.arrow");
    let dir = common::project(&yaml, &[("analysis/d.py", "# ehrQL\n")]);
    let p = dir.path();
    let output = run(p, &["dataset"]);
    assert_eq!(output.status.code(), Some(1));
    let out = stdout(&output);
    for way in [
        "put ehrQL on PATH (`pip install opensafely-ehrql`",
        "give the action `--dummy-data-file FILE`",
        "write a schema analysis/d.schema.yaml",
    ] {
        assert!(out.contains(way), "{out}");
    }
    let line = status_line(&out, "dataset");
    assert!(line.contains("unavailable"), "{line}");
    assert!(!p.join("output/d.arrow").exists());
    let output = run(p, &["measures"]);
    assert_eq!(output.status.code(), Some(1));
    let out = stdout(&output);
    assert!(
        out.contains("image ehrql:v1 is not available locally: cohortkit runs only `generate-dataset` natively")
            && out.contains("`pip install opensafely-ehrql`")
            && out.contains("to run `generate-measures`"),
        "{out}"
    );
}

#[test]
fn a_native_dataset_action_notes_in_its_log_what_it_leaves_to_ehrql() {
    let schema = "study_definition: d\ncolumns:\n- name: patient_id\n  type: patient_id\n";
    let dir = common::project(
        &ehrql_project("--output output/d.arrow --test-data-file analysis/t.py -- --region x"),
        &[
            ("analysis/d.py", "# a definition\n"),
            ("analysis/d.schema.yaml", schema),
            ("analysis/t.py", "# assurance tests\n"),
        ],
    );
    let output = run(dir.path(), &["dataset"]);
    let out = stdout(&output);
    assert!(output.status.success(), "{out}");
    let log = read(&dir.path().join("metadata/dataset.log"));
    for note in [
        "note: the assurance tests in analysis/t.py were not run: they need ehrQL",
        "note: parameters --region x do not change dummy data",
    ] {
        assert!(log.contains(note), "{log}");
    }
}
