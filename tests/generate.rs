//! `cohortkit generate` run as a user would: file names and headers as
//! upstream's, deterministic bytes, joinable ids, formats pandas reads, and
//! clear errors.

mod common;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Output;

use cohortkit::dummy::dates::Day;

fn flucats() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/flucats")
}

fn schema(study: &str) -> PathBuf {
    flucats().join(format!("analysis/{study}.schema.yaml"))
}

/// Runs `cohortkit generate ARGS` and returns its output, asserting success
/// when `ok`.
fn generate(args: &[&str], ok: bool) -> Output {
    let output = common::cohortkit()
        .arg("generate")
        .args(args)
        .output()
        .unwrap();
    if ok {
        assert!(
            output.status.success(),
            "generate {args:?} failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    output
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn first_line(path: &Path) -> Vec<u8> {
    let gzip = path.to_string_lossy().ends_with(".gz");
    let bytes = cohortkit::table::gzip::read_all(path, gzip).unwrap();
    bytes.split(|&b| b == b'\n').next().unwrap().to_vec()
}

/// The patient ids of a CSV extract (the last column, as upstream).
fn ids(path: &Path) -> Vec<u64> {
    let gzip = path.to_string_lossy().ends_with(".gz");
    let bytes = cohortkit::table::gzip::read_all(path, gzip).unwrap();
    let text = String::from_utf8(bytes).unwrap();
    text.lines()
        .skip(1)
        .map(|l| l.rsplit(',').next().unwrap().parse().unwrap())
        .collect()
}

#[test]
fn headers_equal_the_real_extracts() {
    let dir = tempfile::tempdir().unwrap();
    let out = path(dir.path());
    for (study, reference, columns) in [
        ("study_definition", "input_2020-03-01.csv.gz", 124),
        ("study_definition_end", "input_end.csv.gz", 24),
    ] {
        let range: &[&str] = if study == "study_definition" {
            &["--index-date-range", "2020-03-01"]
        } else {
            &[]
        };
        let schema = schema(study);
        let mut args = vec!["--schema", path(&schema), "--population", "10"];
        args.extend_from_slice(range);
        args.extend_from_slice(&["--output-format=csv.gz", "--output-dir", out]);
        generate(&args, true);
        let made = first_line(&dir.path().join(reference));
        let real = first_line(&common::reference().join("output").join(reference));
        assert_eq!(
            String::from_utf8_lossy(&made),
            String::from_utf8_lossy(&real)
        );
        assert_eq!(made.split(|&b| b == b',').count(), columns);
    }
}

#[test]
fn a_weekly_range_gives_upstreams_file_names() {
    let dir = tempfile::tempdir().unwrap();
    let schema = schema("study_definition");
    generate(
        &[
            "--schema",
            path(&schema),
            "--population",
            "3",
            "--index-date-range",
            "2020-03-01 to 2021-03-07 by week",
            "--output-format=csv.gz",
            "--output-dir",
            path(dir.path()),
        ],
        true,
    );
    let mut made: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    made.sort();
    let start = Day::parse_iso("2020-03-01").unwrap();
    let end = Day::parse_iso("2021-03-07").unwrap();
    let expected: Vec<String> = (0..)
        .map(|week| Day(start.0 + 7 * week))
        .take_while(|d| *d <= end)
        .map(|d| format!("input_{d}.csv.gz"))
        .collect();
    assert_eq!(made.len(), 54);
    assert_eq!(made, expected);
    assert_eq!(made.last().unwrap(), "input_2021-03-07.csv.gz");
}

#[test]
fn the_same_arguments_give_the_same_bytes_whatever_the_threads() {
    let dir = tempfile::tempdir().unwrap();
    let schema = schema("study_definition");
    let run = |name: &str, threads: &str, seed: &str| {
        let file = dir.path().join(name);
        generate(
            &[
                "--schema",
                path(&schema),
                "--population",
                "40000",
                "--today",
                "2026-11-24",
                "--seed",
                seed,
                "--threads",
                threads,
                "--output-file",
                path(&file),
            ],
            true,
        );
        std::fs::read(&file).unwrap()
    };
    let one = run("one.csv.gz", "1", "7");
    let three = run("three.csv.gz", "3", "7");
    assert!(one == three, "output depends on the thread count");
    let other_seed = run("other.csv.gz", "2", "8");
    assert!(one != other_seed, "the seed changes nothing");
}

/// Ids depend on the seed, population and index date only, so a schema of
/// ids alone shows them at a population where shares are precise.
const IDS_ONLY: &str = "study_definition: ids\ncolumns:\n- name: patient_id\n  type: patient_id\n";

#[test]
fn weekly_extracts_join_the_end_extract() {
    let dir = tempfile::tempdir().unwrap();
    let schema = dir.path().join("ids.schema.yaml");
    std::fs::write(&schema, IDS_ONLY).unwrap();
    let n = 20_000;
    let population = n.to_string();
    let run = |name: &str, extra: &[&str]| {
        let file = dir.path().join(name);
        let mut args = vec!["--schema", path(&schema), "--population", &population];
        args.extend_from_slice(&["--output-file", path(&file)]);
        args.extend_from_slice(extra);
        generate(&args, true);
    };
    // The project's two weekly ranges, and the end extract.
    run(
        "week.csv",
        &["--index-date-range", "2020-03-01 to 2021-03-07 by week"],
    );
    run(
        "week.csv",
        &["--index-date-range", "2021-03-14 to 2022-03-20 by week"],
    );
    run("end.csv", &[]);
    let end: HashSet<u64> = ids(&dir.path().join("end.csv")).into_iter().collect();
    assert_eq!(end.len(), n);
    let start = Day::parse_iso("2020-03-01").unwrap();
    let mut previous: Option<HashSet<u64>> = None;
    for week in 0..108 {
        let file = dir
            .path()
            .join(format!("week_{}.csv", Day(start.0 + 7 * week)));
        let ids: HashSet<u64> = ids(&file).into_iter().collect();
        assert_eq!(ids.len(), n, "{}", file.display());
        assert!(ids.iter().all(|&id| id < 10 * n as u64));
        let joinable = ids.intersection(&end).count() as f64 / n as f64;
        assert!(joinable >= 0.95, "{}: {joinable}", file.display());
        if let Some(prev) = &previous {
            let shared = ids.intersection(prev).count() as f64 / n as f64;
            assert!(shared >= 0.99, "{}: {shared}", file.display());
        }
        previous = Some(ids);
    }
    // Upstream's independent ids: two files share about 10 %.
    run(
        "independent.csv",
        &[
            "--index-date-range",
            "2020-03-01 to 2020-03-08 by week",
            "--independent-ids",
        ],
    );
    let read = |date: &str| -> HashSet<u64> {
        ids(&dir.path().join(format!("independent_{date}.csv")))
            .into_iter()
            .collect()
    };
    let (a, b) = (read("2020-03-01"), read("2020-03-08"));
    let shared = a.intersection(&b).count() as f64 / n as f64;
    assert!((0.09..0.11).contains(&shared), "{shared}");
    assert!(a.iter().all(|&id| id < 10 * n as u64));
}

#[test]
fn range_errors_use_upstreams_words() {
    let schema = schema("study_definition");
    let dir = tempfile::tempdir().unwrap();
    for (range, words) in [
        (
            "2021-03-07 to 2020-03-01 by week",
            "Invalid date range '2021-03-07 to 2020-03-01 by week': end cannot be earlier than start",
        ),
        (
            "2020-03-01 to 2021-03-07 by fortnight",
            "Unknown time period 'fortnight': must be 'week' or 'month'",
        ),
        (
            "2020-3-1 to 2021-03-07",
            "Dates must be in YYYY-MM-DD format or 'today'",
        ),
        ("2021-01-31 to 2021-06-30 by month", "2021-02 has no day 31"),
    ] {
        let output = generate(
            &[
                "--schema",
                path(&schema),
                "--index-date-range",
                range,
                "--output-dir",
                path(dir.path()),
            ],
            false,
        );
        assert_eq!(output.status.code(), Some(1), "{range}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(words), "{range}: {stderr}");
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn schema_problems_stop_generation_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(schema("study_definition_end"))
        .unwrap()
        .replace("  rate: exponential_increase\n", "  rate: exponential\n");
    let bad = dir.path().join("bad.schema.yaml");
    std::fs::write(&bad, &text).unwrap();
    let line = text
        .lines()
        .position(|l| l == "  rate: exponential")
        .unwrap()
        + 1;
    let output = generate(
        &["--schema", path(&bad), "--output-dir", path(dir.path())],
        false,
    );
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "bad.schema.yaml: line {line}: `rate` must be uniform, exponential_increase or universal"
        )),
        "{stderr}"
    );
    let missing = generate(&["--schema", "no/such.schema.yaml"], false);
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(
        stderr.contains("no/such.schema.yaml") && stderr.contains("schema import"),
        "{stderr}"
    );
}

#[test]
fn output_file_sets_directory_name_and_format() {
    let dir = tempfile::tempdir().unwrap();
    let schema = schema("study_definition");
    let target = dir.path().join("sub/cohort.feather");
    generate(
        &[
            "--schema",
            path(&schema),
            "--population",
            "5",
            "--index-date-range",
            "2020-03-01 to 2020-03-08 by week",
            "--output-file",
            path(&target),
        ],
        true,
    );
    for date in ["2020-03-01", "2020-03-08"] {
        assert!(
            dir.path()
                .join(format!("sub/cohort_{date}.feather"))
                .is_file()
        );
    }
    let bad = generate(
        &[
            "--schema",
            path(&schema),
            "--output-file",
            path(&dir.path().join("cohort.txt")),
        ],
        false,
    );
    assert!(
        String::from_utf8_lossy(&bad.stderr)
            .contains("--output-file must have a supported extension")
    );
}

#[test]
fn skip_existing_leaves_files_alone() {
    let dir = tempfile::tempdir().unwrap();
    let schema = schema("study_definition");
    let existing = dir.path().join("input_2020-03-08.csv");
    std::fs::write(&existing, "keep me\n").unwrap();
    let output = generate(
        &[
            "--schema",
            path(&schema),
            "--population",
            "5",
            "--index-date-range",
            "2020-03-01 to 2020-03-08 by week",
            "--skip-existing",
            "--output-dir",
            path(dir.path()),
        ],
        true,
    );
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "keep me\n");
    assert_eq!(ids(&dir.path().join("input_2020-03-01.csv")).len(), 5);
    assert!(String::from_utf8_lossy(&output.stderr).contains("skipped 1 existing"));
}

#[test]
fn study_definitions_are_found_in_the_project() {
    let dir = tempfile::tempdir().unwrap();
    let out = path(dir.path());
    // Every study, as upstream's default `all`.
    let output = common::cohortkit()
        .current_dir(flucats())
        .args([
            "generate",
            "--expectations-population=7",
            "--output-dir",
            out,
        ])
        .output()
        .unwrap();
    common::assert_success(&output);
    let mut made: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    made.sort();
    assert_eq!(made, ["input.csv", "input_end.csv"]);
    // A dummy data file is copied instead of drawn, if its format fits.
    let dummy = dir.path().join("mine.csv");
    std::fs::write(&dummy, "patient_id\n1\n").unwrap();
    let copy_dir = dir.path().join("copied");
    // -C runs as if started in the project, and only there: the dummy data
    // file and the output directory must lie in it.
    let project = dir.path().join("project");
    std::fs::create_dir_all(project.join("analysis")).unwrap();
    std::fs::copy(
        flucats().join("analysis/study_definition_end.schema.yaml"),
        project.join("analysis/study_definition_end.schema.yaml"),
    )
    .unwrap();
    std::fs::copy(&dummy, project.join("mine.csv")).unwrap();
    let generate_in_project = |dummy: &str, output_dir: &str| {
        common::cohortkit()
            .args(["generate", "-C", path(&project)])
            .args(["--study-definition", "study_definition_end"])
            .args(["--dummy-data-file", dummy, "--output-dir", output_dir])
            .output()
            .unwrap()
    };
    common::assert_success(&generate_in_project("mine.csv", "copied"));
    assert_eq!(
        std::fs::read_to_string(project.join("copied/input_end.csv")).unwrap(),
        "patient_id\n1\n"
    );
    for (dummy, output_dir) in [(path(&dummy), "copied"), ("mine.csv", path(&copy_dir))] {
        let outside = generate_in_project(dummy, output_dir);
        assert!(
            String::from_utf8_lossy(&outside.stderr).contains("leads out of"),
            "{outside:?}"
        );
    }
    assert!(!copy_dir.exists());
    let wrong = common::cohortkit()
        .current_dir(flucats())
        .args(["generate", "--study-definition", "study_definition_end"])
        .args(["--dummy-data-file", path(&dummy), "--output-format=csv.gz"])
        .args(["--output-dir", path(&copy_dir)])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&wrong.stderr)
            .contains("Expected dummy data file with extension .csv.gz"),
        "{}",
        String::from_utf8_lossy(&wrong.stderr)
    );
}

/// pandas reads every format, with the column types upstream's files have,
/// and the CSV and binary files of one run hold the same values.
#[test]
fn pandas_reads_every_format_with_upstreams_types() {
    let Some(python) = common::pandas_python() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let schema = schema("study_definition");
    for format in ["csv.gz", "feather", "parquet"] {
        generate(
            &[
                "--schema",
                path(&schema),
                "--population",
                "20000",
                "--today",
                "2026-11-24",
                "--index-date-range",
                "2020-03-01",
                "--output-format",
                format,
                "--output-dir",
                path(dir.path()),
            ],
            true,
        );
    }
    let script = r#"
import sys, pandas as pd
base = sys.argv[1] + "/input_2020-03-01"
text = pd.read_csv(base + ".csv.gz", dtype=str, keep_default_na=False)
for ext in ("feather", "parquet"):
    df = getattr(pd, "read_" + ext)(base + "." + ext)
    assert list(df.columns) == list(text.columns), ext
    assert len(df) == len(text) == 20000, ext
    kinds = {str(t) for t in df.dtypes}
    assert kinds == {"datetime64[ns]", "int64", "bool", "float64", "category"}, (ext, kinds)
    for name in df.columns:
        got, want = df[name], text[name]
        kind = str(got.dtype)
        if kind == "datetime64[ns]":
            same = got.equals(pd.to_datetime(want.replace("", None)).astype(got.dtype))
        elif kind == "bool":
            same = (got.astype(int).astype(str) == want).all()
        elif kind == "category":
            same = (got.astype(object).where(got.notna(), "") == want).all()
        elif kind == "float64":
            same = (got == want.map(float)).all()
        else:
            same = (got.astype(str) == want).all()
        assert same, (ext, name)
print("ok")
"#;
    assert_eq!(
        common::run_python(&python, script, &[dir.path()]).trim(),
        "ok"
    );
}

/// The FLUCATS weekly extract as `.dta`, which upstream cannot write at all:
/// pandas reads back what we write.
#[test]
fn dta_output_is_read_back_by_pandas() {
    let Some(python) = common::pandas_python() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let schema = schema("study_definition");
    for format in ["dta", "dta.gz", "csv"] {
        generate(
            &[
                "--schema",
                path(&schema),
                "--population",
                "2000",
                "--index-date-range",
                "2020-03-01",
                "--output-format",
                format,
                "--output-dir",
                path(dir.path()),
            ],
            true,
        );
    }
    let script = r#"
import sys, pandas as pd
base = sys.argv[1] + "/input_2020-03-01"
csv = pd.read_csv(base + ".csv")
for ext in ("dta", "dta.gz"):
    df = pd.read_stata(base + "." + ext, compression="gzip" if ext.endswith("gz") else None)
    assert len(df) == 2000 and df.shape[1] == 124, (ext, df.shape)
    assert (df["patient_id"].to_numpy() == csv["patient_id"].to_numpy()).all()
    assert (df["practice"].to_numpy() == csv["practice"].to_numpy()).all()
print("ok")
"#;
    assert_eq!(
        common::run_python(&python, script, &[dir.path()]).trim(),
        "ok"
    );
}

#[test]
fn populations_that_cannot_be_generated_fail_before_any_work() {
    let schema = schema("study_definition_end");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    // Ids are distinct numbers below 10 N in 64-bit integers: N <= 922337203685477580.
    for population in ["2000000000000000000", "922337203685477581"] {
        let mut command = common::cohortkit();
        command.args([
            "generate",
            "--schema",
            path(&schema),
            "--population",
            population,
        ]);
        command.args(["--output-dir", path(&out)]);
        let (code, stderr) = common::run_bounded(command);
        assert_eq!(code, Some(1), "{stderr}");
        assert!(
            stderr.contains(&format!(
                "a population of {population} is more than can be generated: at most 922337203685477580 rows per file"
            )),
            "{stderr}"
        );
        assert!(!out.exists(), "no output directory before the error");
    }
    // No rows is a header alone.
    generate(
        &[
            "--schema",
            path(&schema),
            "--population",
            "0",
            "--output-dir",
            path(&out),
        ],
        true,
    );
    let text = std::fs::read_to_string(out.join("input_end.csv")).unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.starts_with("covid_vacc_date,"), "{text}");
}

#[test]
fn too_many_threads_is_refused_at_once() {
    let schema = schema("study_definition_end");
    let dir = tempfile::tempdir().unwrap();
    let mut command = common::cohortkit();
    command.args(["generate", "--schema", path(&schema), "--threads", "100000"]);
    command.args(["--output-dir", path(dir.path())]);
    let (code, stderr) = common::run_bounded(command);
    assert_eq!(code, Some(2), "a usage error: {stderr}");
    assert!(
        stderr.contains("\"100000\" is not a number of threads from 1 to 1024 (0: all cores)"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}
