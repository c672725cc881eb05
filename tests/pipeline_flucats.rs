//! The seed project end to end: the bundled FLUCATS study (a small dummy
//! population) and `cohortkit demo`, both on a machine without Python or
//! jupyter (an empty PATH), where the notebook action is skipped.

mod common;

use std::path::Path;
use std::process::Output;

/// Rows of each dummy extract in the end-to-end run (kept small for time).
const POPULATION: usize = 40;

fn without_programs(command: &mut std::process::Command, empty: &Path) -> Output {
    command.env("PATH", empty).output().unwrap()
}

fn files(dir: &Path, prefix: &str, suffix: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(prefix) && n.ends_with(suffix))
        .collect();
    names.sort();
    names
}

fn csv_gz(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let file = std::fs::File::open(path).unwrap();
    let mut reader = csv::Reader::from_reader(flate2::read::MultiGzDecoder::new(file));
    let header = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    (header, rows)
}

#[test]
fn run_all_runs_the_flucats_project() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("flucats");
    cohortkit::pipeline::demo::write_study(&p).unwrap();
    let yaml = std::fs::read_to_string(p.join("project.yaml")).unwrap();
    let small = yaml.replace(
        "population_size: 1000",
        &format!("population_size: {POPULATION}"),
    );
    assert_ne!(small, yaml);
    std::fs::write(p.join("project.yaml"), small).unwrap();
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();

    let output = without_programs(
        common::cohortkit()
            .args(["run", "run_all", "--skip-unavailable", "--project-dir"])
            .arg(&p),
        &empty,
    );
    let out = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{out}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );

    // 54 + 54 weekly extracts (test_action's one week among them), the end
    // extract, 108 joined files and the report.
    let weekly = files(&p.join("output"), "input_20", ".csv.gz");
    assert_eq!(weekly.len(), 108);
    assert_eq!(weekly[0], "input_2020-03-01.csv.gz");
    assert_eq!(weekly[107], "input_2022-03-20.csv.gz");
    assert!(p.join("output/input_end.csv.gz").is_file());
    let joined = files(&p.join("output/joined"), "input_20", ".csv.gz");
    assert_eq!(joined, weekly);
    let report = std::fs::read_to_string(p.join("output/joined/input_2022-03-20.html")).unwrap();
    assert!(
        report.contains("nulldate_y"),
        "the report covers the joined columns"
    );
    assert!(
        report.contains("<title>Dataset Report: output/joined/input_2022-03-20.csv.gz</title>"),
        "the report names its input as the study does, not by a work directory"
    );
    assert!(!report.contains(".cohortkit"));

    // The join is a real left join of the generated files.
    let (lhs_header, lhs_rows) = csv_gz(&p.join("output/input_2021-03-07.csv.gz"));
    let (rhs_header, _) = csv_gz(&p.join("output/input_end.csv.gz"));
    let (header, rows) = csv_gz(&p.join("output/joined/input_2021-03-07.csv.gz"));
    assert_eq!(lhs_header.len(), 124);
    assert_eq!(header.len(), 124 + rhs_header.len() - 1);
    assert!(
        header.contains(&"nulldate_x".to_string()) && header.contains(&"nulldate_y".to_string())
    );
    assert_eq!(rows.len(), POPULATION);
    assert_eq!(
        rows.iter().map(|r| r[..124].to_vec()).collect::<Vec<_>>(),
        lhs_rows
    );

    // Logs, manifest and summary.
    for action in [
        "test_action",
        "generate_study_population_1",
        "generate_study_population_2",
        "generate_study_population_end",
        "join_cohorts_weekly",
        "generate_dataset_report",
    ] {
        let log =
            std::fs::read_to_string(p.join("metadata").join(format!("{action}.log"))).unwrap();
        assert!(
            log.contains("status_message: Completed successfully"),
            "{action}:\n{log}"
        );
    }
    assert!(!p.join("metadata/generate_dataset_report_test.log").exists());
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(p.join("metadata/manifest.json")).unwrap()).unwrap();
    let outputs = manifest["outputs"].as_object().unwrap();
    assert_eq!(outputs.len(), 108 + 1 + 108 + 1 + 1);
    let html = &outputs["output/joined/input_2022-03-20.html"];
    assert_eq!(html["level"], "moderately_sensitive");
    assert_eq!(html["excluded"], false);
    // The report to be released comes with the long table of its figures,
    // which passes the checks a released table must.
    let table = &outputs["output/joined/input_2022-03-20.csv"];
    assert_eq!(table["level"], "moderately_sensitive");
    assert_eq!(table["excluded"], false, "{table}");
    let table = std::fs::read_to_string(p.join("output/joined/input_2022-03-20.csv")).unwrap();
    assert!(table.starts_with("column,statistic,category,value,rule\n"));
    assert!(table.contains("nulldate_y,"));
    assert_eq!(
        outputs["output/input_end.csv.gz"]["action"],
        "generate_study_population_end"
    );
    let first = outputs["output/input_2020-03-01.csv.gz"]["action"]
        .as_str()
        .unwrap();
    assert!(
        ["test_action", "generate_study_population_1"].contains(&first),
        "{first}"
    );

    let table: Vec<Vec<&str>> = out
        .lines()
        .skip_while(|l| !l.starts_with("action "))
        .skip(1)
        .map(|l| {
            l.split("  ")
                .map(str::trim)
                .filter(|w| !w.is_empty())
                .collect()
        })
        .collect();
    let expected = [
        ("test_action", "succeeded", "1"),
        ("generate_dataset_report_test", "skipped", "0"),
        ("generate_study_population_1", "succeeded", "54"),
        ("generate_study_population_2", "succeeded", "54"),
        ("generate_study_population_end", "succeeded", "1"),
        ("join_cohorts_weekly", "succeeded", "108"),
        ("generate_dataset_report", "succeeded", "2"),
    ];
    assert_eq!(table.len(), expected.len(), "{out}");
    for (row, (action, status, outputs)) in table.iter().zip(expected) {
        assert_eq!((row[0], row[1], row[3]), (action, status, outputs), "{out}");
    }
    assert!(
        out.contains("Skipped: image jupyter:latest is not available locally"),
        "{out}"
    );
}

#[test]
fn demo_runs_the_bundled_study_without_python() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let demo = dir.path().join("demo");
    let output = without_programs(
        common::cohortkit()
            .arg("demo")
            .arg("--output-dir")
            .arg(&demo),
        &empty,
    );
    let out = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{out}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        files(&demo.join("output"), "input_20", ".csv.gz").len(),
        108
    );
    assert_eq!(
        files(&demo.join("output/joined"), "input_20", ".csv.gz").len(),
        108
    );
    let (_, rows) = csv_gz(&demo.join("output/joined/input_2020-03-08.csv.gz"));
    assert_eq!(rows.len(), 1000);
    assert!(out.contains("(108 files)"), "{out}");
    assert!(out.contains("output/joined/input_2022-03-20.html"), "{out}");
    assert!(demo.join("output/joined/input_2022-03-20.html").is_file());
    assert!(demo.join("metadata/manifest.json").is_file());

    // Again: everything is reused; only the notebook is tried (and skipped).
    let again = without_programs(
        common::cohortkit()
            .arg("demo")
            .arg("--output-dir")
            .arg(&demo),
        &empty,
    );
    let out = String::from_utf8_lossy(&again.stdout);
    assert!(again.status.success(), "{out}");
    assert!(
        out.contains("Running actions: generate_dataset_report_test\n"),
        "{out}"
    );
}

/// The demo writes a project: into a directory holding something else (a
/// study of one's own) it refuses, touching nothing; into its own earlier
/// run it goes on.
#[test]
fn demo_never_overwrites_another_study() {
    let dir = tempfile::tempdir().unwrap();
    let study = dir.path().join("study");
    std::fs::create_dir_all(study.join("analysis")).unwrap();
    std::fs::write(study.join("project.yaml"), "version: '4.0'\nactions: {}\n").unwrap();
    let output = common::cohortkit()
        .args(["demo", "--output-dir"])
        .arg(&study)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("holds no earlier demo"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(study.join("project.yaml")).unwrap(),
        "version: '4.0'\nactions: {}\n"
    );
    assert!(!study.join("analysis/study_definition.schema.yaml").exists());
}
