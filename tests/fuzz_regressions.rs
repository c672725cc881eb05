//! Inputs with which a fuzz target (fuzz/, see fuzz/README.md) once
//! crashed a reader, kept in `testdata/fuzz-regressions/<target>/`. Under
//! plain `cargo test`, each is given to the real binary, as the file kind
//! its target reads, with its address space limited: every command that
//! reads it must succeed, or fail with exit 1 and an error naming the file.
//! A panic (exit 101), an abort (a signal: also what an allocation beyond
//! the limit does), or a hang (killed after a minute) fails the test.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::reference;

/// Virtual memory the binary may use, in KiB: far more than any of these
/// small files needs, far less than the sizes their bytes claim.
const MEMORY_KIB: u64 = 1 << 20;

/// The inputs kept for a fuzz target.
fn inputs(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/fuzz-regressions")
        .join(target);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no inputs in {}", dir.display());
    paths
}

/// The commands that read a file as `input`: joining it to the reference
/// end file, and reporting on it.
fn commands(input: &Path, out: &Path) -> [Vec<String>; 2] {
    let end = reference().join("output/input_end.csv.gz");
    let [input, out, end] = [input, out, &end].map(|p| p.to_str().unwrap());
    [
        vec!["join", "--lhs", input, "--rhs", end, "--output-dir", out],
        vec!["report", "--input-files", input, "--output-dir", out],
    ]
    .map(|args| {
        let args = args.into_iter().chain(["--threads", "2"]);
        args.map(str::to_string).collect()
    })
}

/// Runs every command on each input of `target`, copied to a file named
/// with the extension `extension(bytes)` gives.
fn check(target: &str, extension: impl Fn(&[u8]) -> &'static str) {
    for input in inputs(target) {
        let bytes = std::fs::read(&input).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(format!("input{}", extension(&bytes)));
        std::fs::write(&file, &bytes).unwrap();
        for args in commands(&file, &dir.path().join("out")) {
            let output = Command::new("sh")
                .arg("-c")
                .arg(format!(
                    "ulimit -v {MEMORY_KIB} && exec timeout 60 \"$0\" \"$@\""
                ))
                .arg(env!("CARGO_BIN_EXE_cohortkit"))
                .args(&args)
                .env("MALLOC_ARENA_MAX", "2")
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            let what = format!("{} on {}:\n{stderr}", args.join(" "), input.display());
            match output.status.code() {
                Some(0) => {}
                Some(1) => assert!(stderr.contains(file.to_str().unwrap()), "{what}"),
                other => panic!("exit {other:?}: {what}"),
            }
        }
    }
}

/// `gz` for gzip data, `plain` otherwise, as the fuzz targets choose.
fn gzip_or(bytes: &[u8], plain: &'static str, gz: &'static str) -> &'static str {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        gz
    } else {
        plain
    }
}

#[test]
fn stata() {
    check("stata", |bytes| gzip_or(bytes, ".dta", ".dta.gz"));
}

/// Found by `report_summary`: a float column holding 1e308 made the
/// histogram's bin edges overflow (`10i128.pow(exponent)` past 10^38): a
/// panic where overflow is checked (tests, the fuzz build), wrong labels
/// in a release build. Bin edges are now decimal text
/// (`report::decimal::Step`).
#[test]
fn report_summary() {
    check("report_summary", |bytes| gzip_or(bytes, ".csv", ".csv.gz"));
}
