//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The upstream reference outputs (`../shared/reference/flucats`).
pub fn reference() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/reference/flucats")
}

/// The `cohortkit` binary built for these tests.
pub fn cohortkit() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cohortkit"))
}

/// A Python interpreter that has pandas and pyarrow, for cross-checks.
///
/// `None` (with a note on stderr) when there is none, so that `cargo test`
/// works on a machine without Python; CI sets `COHORTKIT_REQUIRE_PANDAS=1`
/// (after pip-installing them), and then a missing pandas fails the test.
pub fn pandas_python() -> Option<PathBuf> {
    for candidate in ["python3", "python"] {
        let ok = Command::new(candidate)
            .args(["-c", "import pandas, pyarrow"])
            .output()
            .is_ok_and(|o| o.status.success());
        if ok {
            return Some(PathBuf::from(candidate));
        }
    }
    if std::env::var_os("COHORTKIT_REQUIRE_PANDAS").is_some() {
        panic!("COHORTKIT_REQUIRE_PANDAS is set but no python3 with pandas and pyarrow was found");
    }
    eprintln!("note: pandas/pyarrow not installed; skipping the pandas cross-check");
    None
}

/// Runs a Python script with pandas; panics with its stderr if it fails.
/// Returns its stdout.
pub fn run_python(python: &Path, script: &str, args: &[&Path]) -> String {
    let output = Command::new(python)
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python runs");
    assert!(
        output.status.success(),
        "python failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8 output")
}

/// A Python interpreter with opensafely 2.1.5 (its vendored `pipeline`
/// validator), for cross-checks of `cohortkit check`.
///
/// `None` (with a note) when there is none; CI sets
/// `COHORTKIT_REQUIRE_OPENSAFELY=1` after pip-installing it, and then a
/// missing opensafely fails the test.
pub fn opensafely_python() -> Option<PathBuf> {
    for candidate in ["python3", "python"] {
        let ok = Command::new(candidate)
            .args(["-c", "import opensafely._vendor.pipeline"])
            .output()
            .is_ok_and(|o| o.status.success());
        if ok {
            return Some(PathBuf::from(candidate));
        }
    }
    if std::env::var_os("COHORTKIT_REQUIRE_OPENSAFELY").is_some() {
        panic!(
            "COHORTKIT_REQUIRE_OPENSAFELY is set but no python3 with opensafely was found (pip install opensafely==2.1.5)"
        );
    }
    eprintln!("note: opensafely not installed; skipping the cross-check with its validator");
    None
}

/// Asserts that a command exited 0, showing its stderr when it did not.
pub fn assert_success(output: &Output) {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The "billion laughs": under `indent`, nine keys `a` to `i`, each a list
/// of nine aliases of the one before (`a` is nine scalars), so that the
/// last stands for 9^9 (387 million) nodes. Lines 1 to 9 of the text.
pub fn billion_laughs(indent: &str) -> String {
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    let mut text = format!("{indent}a: &a [{}]\n", ["x"; 9].join(","));
    for pair in names.windows(2) {
        let (before, name) = (pair[0], pair[1]);
        let items = vec![format!("*{before}"); 9].join(",");
        text += &format!("{indent}{name}: &{name} [{items}]\n");
    }
    text
}

/// Runs `command` with a generous limit that only a hang exceeds: returns
/// its exit code and stderr.
pub fn run_bounded(mut command: Command) -> (Option<i32>, String) {
    let started = std::time::Instant::now();
    let output = command.output().unwrap();
    let elapsed = started.elapsed();
    assert!(
        elapsed < std::time::Duration::from_secs(10),
        "{command:?} took {elapsed:?}"
    );
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A local Python for `python:` actions, or `None` with a note.
pub fn python3() -> Option<()> {
    let ok = std::process::Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("note: python3 not found; skipping a test that runs python actions");
    }
    ok.then_some(())
}

/// Runs `cohortkit ARGS --project-dir DIR` (`check`, `run`) to the end.
pub fn in_project(dir: &Path, args: &[&str]) -> Output {
    cohortkit()
        .args(args)
        .arg("--project-dir")
        .arg(dir)
        .output()
        .unwrap()
}

/// A property-test runner of as many cases as the environment variable
/// `var` says (`cases` without it; CI runs more), failures not persisted,
/// at most `shrink` shrinking steps (each case runs real programs).
pub fn property_runner(var: &str, cases: u32, shrink: u32) -> proptest::test_runner::TestRunner {
    let cases = std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(cases);
    proptest::test_runner::TestRunner::new(proptest::test_runner::Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: shrink,
        ..proptest::test_runner::Config::default()
    })
}

/// A project directory with `project.yaml` and the given files (their
/// directories made as needed).
pub fn project<T: AsRef<[u8]>>(yaml: &str, files: &[(&str, T)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("project.yaml"), yaml).unwrap();
    for (name, bytes) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    dir
}
