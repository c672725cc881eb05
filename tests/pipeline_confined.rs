//! Native data actions stay inside their project, as in a container whose
//! only volume is the action's directory: a path a project gives
//! cohort-joiner, dataset-report or generate_cohort that leads out of it
//! (absolute, through `..` or `/workspace/..`, or through a symbolic link)
//! fails the action, and nothing outside the project is read or written.

mod common;

use std::path::Path;

const LHS: &str = "patient_id,a\n1,x\n2,y\n";
const RHS: &str = "patient_id,b\n1,p\n";
const SCHEMA: &str = "study_definition: study_definition
columns:
- name: age
  type: int
  rate: universal
  distribution: normal
  mean: 50
  stddev: 10
- name: patient_id
  type: patient_id
";

/// Everything under `dir`, path and bytes, to compare before and after.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                files.push((path.display().to_string(), bytes));
            }
        }
    }
    files.sort();
    files
}

/// Runs one action given by `run` in a fresh project beside a victim
/// directory; returns the exit code, the action's log and whether the
/// victim is untouched.
fn run_action(run: &str) -> (Option<i32>, String, bool) {
    let root = tempfile::tempdir().unwrap();
    let victim = root.path().join("victim");
    std::fs::create_dir_all(&victim).unwrap();
    std::fs::write(victim.join("input_1.csv"), LHS).unwrap();
    std::fs::write(victim.join("secret.csv"), RHS).unwrap();
    let project = root.path().join("project");
    for (name, text) in [
        ("data/input_1.csv", LHS),
        ("data/rhs.csv", RHS),
        ("analysis/study_definition.schema.yaml", SCHEMA),
    ] {
        let path = project.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    std::os::unix::fs::symlink(&victim, project.join("data/link")).unwrap();
    let run = run.replace("VICTIM", &victim.display().to_string());
    let yaml = format!(
        "version: '3.0'\nexpectations:\n  population_size: 10\nactions:\n  act:\n    run: {run}\n    outputs:\n      highly_sensitive:\n        out: output/*/*.csv\n"
    );
    std::fs::write(project.join("project.yaml"), yaml).unwrap();
    let before = snapshot(&victim);
    let output = common::cohortkit()
        .args(["run", "act", "--project-dir"])
        .arg(&project)
        .output()
        .unwrap();
    let log = std::fs::read_to_string(project.join("metadata/act.log")).unwrap_or_default();
    (output.status.code(), log, snapshot(&victim) == before)
}

#[test]
fn native_tools_never_write_outside_the_project() {
    for run in [
        "cohort-joiner:v0.0.44 --lhs data/input_*.csv --rhs data/rhs.csv --output-dir VICTIM",
        "cohort-joiner:v0.0.44 --lhs data/input_*.csv --rhs data/rhs.csv --output-dir ../../../../../victim",
        "cohort-joiner:v0.0.44 --lhs data/input_*.csv --rhs data/rhs.csv --output-dir /workspace/../../../../../victim",
        "cohort-joiner:v0.0.44 --lhs data/input_*.csv --rhs data/rhs.csv --output-dir output/joined --stats VICTIM/input_1.csv",
        "dataset-report:v0.0.24 --input-files data/input_*.csv --output-dir VICTIM",
        "cohortextractor:latest generate_cohort --study-definition study_definition --output-file VICTIM/input_1.csv",
    ] {
        let (code, log, untouched) = run_action(run);
        assert!(untouched, "{run}: wrote outside the project\n{log}");
        assert_eq!(code, Some(1), "{run}: {log}");
        assert!(log.contains("leads out of"), "{run}: {log}");
    }
}

#[test]
fn native_tools_never_read_outside_the_project() {
    for run in [
        "cohort-joiner:v0.0.44 --lhs VICTIM/input_*.csv --rhs data/rhs.csv --output-dir output/joined",
        "cohort-joiner:v0.0.44 --lhs data/input_*.csv --rhs VICTIM/secret.csv --output-dir output/joined",
        "dataset-report:v0.0.24 --input-files ../../../../../victim/*.csv --output-dir output/r",
    ] {
        let (code, log, untouched) = run_action(run);
        assert!(untouched, "{run}\n{log}");
        assert_eq!(code, Some(1), "{run}: {log}");
        assert!(
            log.contains("leads out of") && !log.contains(",p"),
            "{run}: {log}"
        );
    }
}

/// A project's symbolic link out of it never reaches an action's directory
/// (`workspace.rs`), and one made inside it is refused by `-C`
/// (`directory.rs`'s unit tests): through either, nothing outside is
/// touched.
#[test]
fn symbolic_links_lead_nowhere_outside() {
    for run in [
        "cohort-joiner:v0.0.44 --lhs data/input_*.csv --rhs data/rhs.csv --output-dir data/link",
        "cohort-joiner:v0.0.44 --lhs data/link/input_*.csv --rhs data/rhs.csv --output-dir output/joined",
        "dataset-report:v0.0.24 --input-files data/input_*.csv --output-dir data/link",
        "cohortextractor:latest generate_cohort --study-definition study_definition --output-file data/link/input.csv",
    ] {
        let (_, log, untouched) = run_action(run);
        assert!(untouched, "{run}: wrote outside the project\n{log}");
        assert!(
            !log.contains(",p"),
            "{run}: read outside the project\n{log}"
        );
    }
}

#[test]
fn paths_inside_the_project_still_work() {
    let (code, log, _) = run_action(
        "cohort-joiner:v0.0.44 --lhs /workspace/data/input_*.csv --rhs data/rhs.csv --output-dir output/joined",
    );
    assert_eq!(code, Some(0), "{log}");
}
