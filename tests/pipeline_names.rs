//! `cohortkit run` with action names that `check` accepts (as upstream does)
//! but that are no file names as written: `../../x`, absolute paths, `a/b`,
//! `a\b`, 300 characters, control bytes and NUL, `%`, the empty name. Every one runs; its log and
//! its directory stay directly in the project's `metadata/`; the summary and
//! the manifest name it as written.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

/// Writes the file named by its argument, holding the directory it ran in.
const WRITE: &str = "import os, sys
os.makedirs('output', exist_ok=True)
open(sys.argv[1], 'w').write(os.getcwd())
print('wrote', sys.argv[1])
";

/// A version-5 project in `dir` with one action per name, action `i`
/// writing `output/i.txt`.
fn write_project(dir: &Path, names: &[&str]) {
    let mut yaml = String::from("version: 5\nactions:\n");
    for (i, name) in names.iter().enumerate() {
        // A JSON string is a YAML double-quoted scalar, escapes and all.
        let key = serde_json::to_string(name).unwrap();
        yaml += &format!(
            "  {key}:\n    run: python:v2 analysis/write.py output/{i}.txt\n    outputs:\n      moderately_sensitive:\n        out: output/{i}.txt\n"
        );
    }
    std::fs::create_dir_all(dir.join("analysis")).unwrap();
    std::fs::write(dir.join("project.yaml"), yaml).unwrap();
    std::fs::write(dir.join("analysis/write.py"), WRITE).unwrap();
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Every file under `dir` whose name ends in `.log`.
fn logs_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.to_string_lossy().ends_with(".log") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// Checks, runs `run_all` and asserts what every name must get: success,
/// one log per action directly in `metadata/` (the one the summary shows),
/// each action run in its own directory directly under the work root, and
/// the names as written in the summary and the manifest. `project` is
/// canonical, as the actions see their directories. Returns stdout.
fn run_all_and_check(project: &Path, names: &[&str]) -> String {
    common::assert_success(&common::in_project(project, &["check"]));
    let output = common::in_project(project, &["run", "run_all"]);
    common::assert_success(&output);
    let out = stdout(&output);
    let metadata = project.join("metadata");

    let logs = logs_under(project);
    assert_eq!(logs.len(), names.len(), "{logs:?}");
    for log in &logs {
        assert_eq!(log.parent().unwrap(), metadata, "{}", log.display());
        let file = log.file_name().unwrap().to_str().unwrap();
        assert!(file.len() <= 255, "{file}");
        assert!(!file.starts_with('.'), "{file}");
        assert!(!file.bytes().any(|b| b.is_ascii_control()), "{file:?}");
    }
    let shown: Vec<PathBuf> = out
        .lines()
        .filter_map(|l| l.strip_prefix("   log file: "))
        .map(|f| project.join(f))
        .collect();
    let mut sorted = shown.clone();
    sorted.sort();
    assert_eq!(sorted, logs, "{out}");

    let work = project.join("metadata/.cohortkit/work");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(metadata.join("manifest.json")).unwrap())
            .unwrap();
    for (i, name) in names.iter().enumerate() {
        // As written, control characters escaped for the terminal.
        let shown = cohortkit::pipeline::metadata::printable(name);
        assert!(out.contains(&format!("=> {shown}\n")), "{name:?}: {out}");
        let output = format!("output/{i}.txt");
        assert_eq!(manifest["outputs"][&output]["action"], *name);
        let ran_in = PathBuf::from(std::fs::read_to_string(project.join(&output)).unwrap());
        assert_eq!(ran_in.parent().unwrap(), work, "{name:?}");
    }
    // The work directories are gone, and nothing else appeared in metadata/.
    let mut left: Vec<String> = std::fs::read_dir(&metadata)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|f| !f.ends_with(".log"))
        .collect();
    left.sort();
    assert_eq!(left, [".cohortkit", "manifest.json"]);
    out
}

#[test]
fn names_reaching_outside_the_project_leave_it_untouched() {
    let Some(()) = common::python3() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let tmp_dir = tmp.path().canonicalize().unwrap();
    let project = tmp_dir.join("project");
    let victim = tmp_dir.join("victim.log");
    let absolute_victim = tmp_dir.join("absolute.log");
    let precious = b"precious \x00 bytes\n";
    std::fs::write(&victim, precious).unwrap();
    std::fs::write(&absolute_victim, precious).unwrap();
    // From metadata/, `../../victim.log` is the victim beside the project.
    let absolute = tmp_dir.join("absolute");
    let absolute = absolute.to_str().unwrap();
    let names = ["../../victim", absolute, "../victim", "..", "."];
    write_project(&project, &names);

    run_all_and_check(&project, &names);
    assert_eq!(std::fs::read(&victim).unwrap(), precious);
    assert_eq!(std::fs::read(&absolute_victim).unwrap(), precious);
    let mut beside: Vec<String> = std::fs::read_dir(&tmp_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    beside.sort();
    assert_eq!(beside, ["absolute.log", "project", "victim.log"]);
}

#[test]
fn names_with_separators_control_bytes_or_300_characters_run() {
    let Some(()) = common::python3() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path().canonicalize().unwrap().join("project");
    let long = "n".repeat(300);
    let long_too = format!("{}m", "n".repeat(299));
    let names = [
        "generate_cohort",
        "a/b",
        "a%2Fb",
        "a\\b",
        "a\tb",
        "nul\0byte",
        "café ☕",
        ".hidden",
        "",
        &long,
        &long_too,
    ];
    write_project(&project, &names);

    let out = run_all_and_check(&project, &names);
    // Ordinary names keep upstream's layout.
    assert!(
        out.contains("   log file: metadata/generate_cohort.log\n"),
        "{out}"
    );
    assert!(out.contains("   log file: metadata/a%2Fb.log\n"), "{out}");
    assert!(out.contains("   log file: metadata/a%252Fb.log\n"), "{out}");
    // The state recorded under the names as written: all is reused.
    let again = common::in_project(&project, &["run", "run_all"]);
    common::assert_success(&again);
    assert!(
        stdout(&again).contains("All actions already completed successfully"),
        "{}",
        stdout(&again)
    );
}
