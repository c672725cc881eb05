//! `cohortkit check` against the real validator: the `pipeline` package
//! vendored in opensafely 2.1.5 (which accepts only version 5) must reach
//! the same verdict on every version-5 project in testdata/pipeline/v5.
//! File names say the expected verdict (`valid_*`, `invalid_*`).

mod common;

use std::path::{Path, PathBuf};

/// Upstream's verdict on each file: any exception means it refuses it
/// (it crashes on some invalid files, such as unbalanced quotes).
const VERDICT: &str = r#"
import sys, warnings
warnings.simplefilter("ignore")
from opensafely._vendor.pipeline import load_pipeline
for path in sys.argv[1:]:
    try:
        load_pipeline(open(path).read())
        print("valid")
    except Exception:
        print("invalid")
"#;

fn projects() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/pipeline/v5");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

fn cohortkit_verdict(project: &Path) -> &'static str {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(project, dir.path().join("project.yaml")).unwrap();
    let status = common::cohortkit()
        .args(["check", "--project-dir"])
        .arg(dir.path())
        .output()
        .unwrap()
        .status;
    match status.code() {
        Some(0) => "valid",
        Some(1) => "invalid",
        other => panic!("{}: check exited with {other:?}", project.display()),
    }
}

fn expected(project: &Path) -> &'static str {
    let name = project.file_name().unwrap().to_string_lossy();
    if name.starts_with("valid_") {
        "valid"
    } else {
        assert!(
            name.starts_with("invalid_"),
            "{name}: name it valid_* or invalid_*"
        );
        "invalid"
    }
}

#[test]
fn check_gives_the_verdicts_the_file_names_promise() {
    let files = projects();
    assert!(files.len() >= 20);
    for file in &files {
        assert_eq!(
            cohortkit_verdict(file),
            expected(file),
            "{}",
            file.display()
        );
    }
}

#[test]
fn check_agrees_with_opensafely_2_1_5_on_version_5_projects() {
    let Some(python) = common::opensafely_python() else {
        return;
    };
    let files = projects();
    let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let upstream = common::run_python(&python, VERDICT, &paths);
    let upstream: Vec<&str> = upstream.lines().collect();
    assert_eq!(upstream.len(), files.len());
    for (file, theirs) in files.iter().zip(upstream) {
        assert_eq!(cohortkit_verdict(file), theirs, "{}", file.display());
    }
}

/// A version-5 project that writes scalars plain, quoted and folded, with
/// comments and a flow sequence: a tab put anywhere in it lands in one of
/// the places where Python's YAML readers take it as text or refuse it.
const TABLESS: &str = r#"version: "5.0"
# the study
actions:
  prepare:
    run: python:v2 analysis/prepare.py --weeks 52  # weekly
    outputs:
      moderately_sensitive:
        table: "output/table.csv"
        note: 'output/note.txt'
  describe:
    run: >
      r:v2 analysis/describe.R
    needs: [prepare]
    outputs:
      moderately_sensitive:
        figure: output/figure.png
"#;

#[test]
fn check_agrees_with_opensafely_2_1_5_wherever_a_tab_is_put() {
    let Some(python) = common::opensafely_python() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (at, _) in TABLESS.char_indices() {
        let path = dir.path().join(format!("tab_at_{at}.yaml"));
        std::fs::write(&path, format!("{}\t{}", &TABLESS[..at], &TABLESS[at..])).unwrap();
        files.push(path);
    }
    let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let upstream = common::run_python(&python, VERDICT, &paths);
    let upstream: Vec<&str> = upstream.lines().collect();
    assert_eq!(upstream.len(), files.len());
    assert!(upstream.contains(&"valid") && upstream.contains(&"invalid"));
    for (file, theirs) in files.iter().zip(upstream) {
        let text = std::fs::read_to_string(file).unwrap();
        assert_eq!(cohortkit_verdict(file), theirs, "{text}");
    }
}
