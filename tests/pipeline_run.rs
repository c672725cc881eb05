//! `cohortkit run` end to end on projects made in temporary directories:
//! python actions (run with the local python3) feeding the native join on
//! the upstream reference extracts; isolation, failures, reuse, logs,
//! manifest and summary.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

fn run(dir: &Path, args: &[&str]) -> Output {
    common::in_project(dir, &[&["run"], args].concat())
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn read(path: PathBuf) -> String {
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn manifest(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&read(dir.join("metadata/manifest.json"))).unwrap()
}

const COPY: &str = "import os, shutil, sys
os.makedirs('output', exist_ok=True)
for name in sys.argv[1:]:
    shutil.copy('data/' + name, 'output/' + name)
    print('copied', name)
";

const COUNT: &str = "import glob, gzip, os
os.makedirs('output/summary', exist_ok=True)
with open('output/summary/counts.csv', 'w') as f:
    f.write('file,rows\\n')
    for path in sorted(glob.glob('output/joined/*.csv.gz')):
        with gzip.open(path, 'rt') as g:
            f.write('%s,%d\\n' % (os.path.basename(path), sum(1 for _ in g) - 1))
with open('output/summary/patients.csv', 'w') as f:
    f.write('patient_id,n\\n')
    for i in range(6000):
        f.write('%d,1\\n' % i)
";

const JOIN_PROJECT: &str = "version: '3.0'
expectations:
  population_size: 1000
actions:
  weekly:
    run: python:latest analysis/copy.py input_2020-03-01.csv.gz input_2020-03-08.csv.gz
    outputs:
      highly_sensitive:
        cohort: output/input_20*.csv.gz
  end:
    run: python:latest analysis/copy.py input_end_matched.csv.gz
    outputs:
      highly_sensitive:
        cohort: output/input_end*.csv.gz
  join:
    run: >
      cohort-joiner:v0.0.44
        --lhs output/input_20*.csv.gz
        --rhs output/input_end_matched.csv.gz
        --output-dir output/joined
    needs: [weekly, end]
    outputs:
      highly_sensitive:
        cohort: output/joined/input_20*.csv.gz
  count:
    run: python:latest analysis/count.py
    needs: [join]
    outputs:
      moderately_sensitive:
        counts: output/summary/counts.csv
        patients: output/summary/patients.csv
";

/// The join project with the reference extracts as its data.
fn join_project() -> tempfile::TempDir {
    let dir = common::project(
        JOIN_PROJECT,
        &[("analysis/copy.py", COPY), ("analysis/count.py", COUNT)],
    );
    std::fs::create_dir(dir.path().join("data")).unwrap();
    for name in [
        "input_2020-03-01.csv.gz",
        "input_2020-03-08.csv.gz",
        "input_end_matched.csv.gz",
    ] {
        std::fs::copy(
            common::reference().join("output").join(name),
            dir.path().join("data").join(name),
        )
        .unwrap();
    }
    dir
}

fn sha256(path: &Path) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(std::fs::read(path).unwrap());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn run_all_joins_in_process_and_records_logs_manifest_and_summary() {
    let Some(()) = common::python3() else { return };
    let dir = join_project();
    let p = dir.path();
    let output = run(p, &["run_all"]);
    let out = stdout(&output);
    assert!(output.status.success(), "{out}\n{}", stderr(&output));
    assert!(
        out.contains("Running actions: weekly, end, join, count"),
        "{out}"
    );
    assert!(out.contains("join: Completed successfully"), "{out}");

    // The joined files are exactly what `cohortkit join` writes.
    let direct = tempfile::tempdir().unwrap();
    let status = common::cohortkit()
        .arg("join")
        .arg("--lhs")
        .arg(p.join("data/input_20*.csv.gz"))
        .arg("--rhs")
        .arg(p.join("data/input_end_matched.csv.gz"))
        .arg("--output-dir")
        .arg(direct.path())
        .arg("--quiet")
        .status()
        .unwrap();
    assert!(status.success());
    for name in ["input_2020-03-01.csv.gz", "input_2020-03-08.csv.gz"] {
        assert_eq!(
            std::fs::read(p.join("output/joined").join(name)).unwrap(),
            std::fs::read(direct.path().join(name)).unwrap(),
            "{name}"
        );
    }
    assert_eq!(
        read(p.join("output/summary/counts.csv")),
        "file,rows\ninput_2020-03-01.csv.gz,1000\ninput_2020-03-08.csv.gz,1000\n"
    );

    // Logs: output lines, then the trailer with the outputs.
    let log = read(p.join("metadata/weekly.log"));
    assert!(
        log.lines()
            .next()
            .unwrap()
            .ends_with("Z copied input_2020-03-01.csv.gz"),
        "{log}"
    );
    assert!(log.contains("exit_code: 0\n"), "{log}");
    assert!(
        log.contains("status_message: Completed successfully\n"),
        "{log}"
    );
    assert!(
        log.contains("  output/input_2020-03-08.csv.gz  - highly_sensitive"),
        "{log}"
    );
    let join_log = read(p.join("metadata/join.log"));
    assert!(
        join_log.contains("command: cohort-joiner --lhs 'output/input_20*.csv.gz' --rhs output/input_end_matched.csv.gz --output-dir output/joined --quiet"),
        "{join_log}"
    );

    // The manifest describes every output as it is on disk.
    let manifest = manifest(p);
    let outputs = manifest["outputs"].as_object().unwrap();
    assert_eq!(outputs.len(), 2 + 1 + 2 + 2);
    assert_eq!(manifest["repo"], serde_json::Value::Null);
    for (file, record) in outputs {
        let path = p.join(file);
        assert_eq!(
            record["size"],
            std::fs::metadata(&path).unwrap().len(),
            "{file}"
        );
        assert_eq!(record["content_hash"], sha256(&path), "{file}");
    }
    let joined = &outputs["output/joined/input_2020-03-01.csv.gz"];
    assert_eq!(joined["action"], "join");
    assert_eq!(joined["level"], "highly_sensitive");
    assert_eq!(joined["excluded"], false);
    let counts = &outputs["output/summary/counts.csv"];
    assert_eq!(
        (
            &counts["excluded"],
            &counts["row_count"],
            &counts["col_count"]
        ),
        (&false.into(), &2.into(), &2.into())
    );
    let patients = &outputs["output/summary/patients.csv"];
    assert_eq!(patients["excluded"], true);
    assert_eq!(
        patients["message"],
        "File has patient_id column,File row count (6000) exceeds maximum allowed rows (5000)"
    );

    // The summary: a block per action, the invalid outputs, the table.
    assert!(
        out.contains("=> count\n   Completed successfully\n"),
        "{out}"
    );
    assert!(out.contains("   log file: metadata/count.log\n"), "{out}");
    assert!(out.contains("   invalid moderately_sensitive outputs:\n     output/summary/patients.csv  - File has patient_id column,"), "{out}");
    let table: Vec<&str> = out
        .lines()
        .skip_while(|l| !l.starts_with("action "))
        .collect();
    assert_eq!(table.len(), 5, "{out}");
    for (line, (action, outputs)) in
        table[1..]
            .iter()
            .zip([("weekly", 2), ("end", 1), ("join", 2), ("count", 2)])
    {
        let words: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(
            (words[0], words[1], words[3]),
            (action, "succeeded", outputs.to_string().as_str()),
            "{line}"
        );
    }

    // Nothing to do, then only what lost a file.
    let again = run(p, &["run_all"]);
    assert!(again.status.success());
    assert!(stdout(&again).contains("=> All actions already completed successfully\n   Use -f option to force everything to re-run"));
    std::fs::remove_file(p.join("output/joined/input_2020-03-08.csv.gz")).unwrap();
    let rerun = run(p, &["run_all"]);
    assert!(rerun.status.success());
    assert!(
        stdout(&rerun).contains("Running actions: join\n"),
        "{}",
        stdout(&rerun)
    );
    assert!(p.join("output/joined/input_2020-03-08.csv.gz").is_file());
    // A requested action always runs; -f runs its needs too.
    assert!(stdout(&run(p, &["join"])).contains("Running actions: join\n"));
    assert!(stdout(&run(p, &["join", "-f"])).contains("Running actions: weekly, end, join\n"));
}

const READ_B: &str = "print(open('output/b.txt').read())\nopen('output/c.txt', 'w').write('c')\n";
const WRITE: &str = "import os, sys\nos.makedirs('output', exist_ok=True)\nopen(sys.argv[1], 'w').write('x')\nsys.exit(int(sys.argv[2]) if len(sys.argv) > 2 else 0)\n";

fn failing_project(needs_b: bool) -> tempfile::TempDir {
    let needs = if needs_b { "    needs: [b]\n" } else { "" };
    let yaml = format!(
        "version: 5
actions:
  a:
    run: python:v2 analysis/write.py output/a.txt 3
    outputs:
      moderately_sensitive:
        a: output/a.txt
  b:
    run: python:v2 analysis/write.py output/b.txt
    outputs:
      moderately_sensitive:
        b: output/b.txt
  c:
    run: python:v2 analysis/read_b.py
{needs}    outputs:
      moderately_sensitive:
        c: output/c.txt
  d:
    run: python:v2 analysis/write.py output/d.txt
    needs: [a]
    outputs:
      moderately_sensitive:
        d: output/d.txt
"
    );
    common::project(
        &yaml,
        &[("analysis/write.py", WRITE), ("analysis/read_b.py", READ_B)],
    )
}

#[test]
fn isolation_catches_a_missing_needs() {
    let Some(()) = common::python3() else { return };
    let dir = failing_project(false);
    let p = dir.path();
    assert!(run(p, &["b"]).status.success());
    // c reads b's output without needing b: it fails as on the server.
    let output = run(p, &["c"]);
    assert_eq!(output.status.code(), Some(1));
    let out = stdout(&output);
    assert!(out.contains("=> c\n   Job exited with an error\n"), "{out}");
    assert!(out.contains("   logs:\n"), "{out}");
    assert!(out.contains("FileNotFoundError"), "{out}");
    assert!(
        stderr(&output).contains("error: 1 of 1 actions failed: c"),
        "{}",
        stderr(&output)
    );
    assert!(read(p.join("metadata/c.log")).contains("exit_code: 1\n"));

    let fixed = failing_project(true);
    let p = fixed.path();
    let output = run(p, &["c"]);
    assert!(output.status.success(), "{}", stdout(&output));
    assert!(stdout(&output).contains("Running actions: b, c"));
}

#[test]
fn a_failure_stops_new_actions_unless_told_to_continue() {
    let Some(()) = common::python3() else { return };
    let dir = failing_project(true);
    let p = dir.path();
    let output = run(p, &["run_all", "--concurrency", "1"]);
    assert_eq!(output.status.code(), Some(1));
    let out = stdout(&output);
    let table: Vec<String> = out
        .lines()
        .skip_while(|l| !l.starts_with("action "))
        .skip(1)
        .map(|l| {
            l.split("  ")
                .map(str::trim)
                .filter(|w| !w.is_empty())
                .take(2)
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect();
    assert_eq!(
        table,
        [
            "a|failed",
            "b|not started",
            "c|not started",
            "d|not started"
        ],
        "{out}"
    );
    // The failed action's outputs are still copied back.
    assert!(p.join("output/a.txt").is_file());

    let output = run(p, &["run_all", "--continue-on-error"]);
    assert_eq!(output.status.code(), Some(1));
    let out = stdout(&output);
    assert!(
        !out.contains("=> d"),
        "dependants of a failure get no block:\n{out}"
    );
    for (action, status) in [
        ("a", "failed"),
        ("b", "succeeded"),
        ("c", "succeeded"),
        ("d", "dependency failed"),
    ] {
        assert!(
            out.lines()
                .any(|l| l.starts_with(&format!("{action}  ")) && l.contains(status)),
            "{action} {status}:\n{out}"
        );
    }
}

#[test]
fn unmatched_patterns_and_unavailable_images_fail_clearly() {
    let Some(()) = common::python3() else { return };
    let yaml = "version: 5
actions:
  wrong:
    run: python:v2 analysis/write.py output/x.txt
    outputs:
      moderately_sensitive:
        y: output/y.txt
  sql:
    run: sqlrunner:v1 analysis/query.sql --output output/q.csv
    outputs:
      highly_sensitive:
        q: output/q.csv
  after:
    run: python:v2 analysis/write.py output/after.txt
    needs: [sql]
    outputs:
      moderately_sensitive:
        a: output/after.txt
";
    let dir = common::project(yaml, &[("analysis/write.py", WRITE)]);
    let p = dir.path();
    let output = run(p, &["wrong"]);
    assert_eq!(output.status.code(), Some(1));
    let out = stdout(&output);
    assert!(
        out.contains("   No outputs found matching patterns:\n    - output/y.txt\n\n   Did you mean to match one of these files instead?\n    - output/x.txt\n"),
        "{out}"
    );
    assert!(read(p.join("metadata/wrong.log")).contains("hint: Did you mean to match"));

    let output = run(p, &["after"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stdout(&output).contains("=> sql\n   image sqlrunner:v1 is not available locally:"),
        "{}",
        stdout(&output)
    );
    let output = run(p, &["after", "--skip-unavailable"]);
    assert!(output.status.success(), "{}", stdout(&output));
    let out = stdout(&output);
    assert!(
        out.contains("sql: Skipped: image sqlrunner:v1 is not available locally"),
        "{out}"
    );
    assert!(
        out.contains("=> after\n   Skipped: it needs sql, which was skipped"),
        "{out}"
    );
}

#[test]
fn workspace_paths_and_config_reach_the_program() {
    let Some(()) = common::python3() else { return };
    let yaml = "version: 5
actions:
  args:
    run: python:v2 analysis/args.py /workspace/output/args.json --flag=/workspace/x
    config:
      weeks: [1, 2]
      name: it's
    outputs:
      moderately_sensitive:
        args: output/args.json
";
    let script = "import json, os, sys\nos.makedirs('output', exist_ok=True)\njson.dump({'argv': sys.argv[1:], 'cwd': os.getcwd(), 'backend': os.environ.get('OPENSAFELY_BACKEND')}, open(sys.argv[1], 'w'))\nprint('working in', os.getcwd())\n";
    let dir = common::project(yaml, &[("analysis/args.py", script)]);
    let output = run(dir.path(), &["args"]);
    assert!(output.status.success(), "{}", stdout(&output));
    let seen: serde_json::Value =
        serde_json::from_str(&read(dir.path().join("output/args.json"))).unwrap();
    let cwd = seen["cwd"].as_str().unwrap();
    assert!(cwd.contains("metadata/.cohortkit/work/args-"), "{cwd}");
    assert_eq!(
        seen["argv"],
        serde_json::json!([
            format!("{cwd}/output/args.json"),
            format!("--flag={cwd}/x"),
            "--config",
            r#"{"weeks": [1, 2], "name": "it\u0027s"}"#
        ])
    );
    assert_eq!(seen["backend"], "expectations");
    // The action's directory is gone.
    assert!(!Path::new(cwd).exists());
    // The log speaks of /workspace, as the program would see it upstream.
    let log = read(dir.path().join("metadata/args.log"));
    assert!(log.contains("working in /workspace\n"), "{log}");
    assert!(
        log.contains("analysis/args.py /workspace/output/args.json --flag=/workspace/x"),
        "{log}"
    );
    assert!(!log.contains(".cohortkit/work"), "{log}");
}

#[test]
fn bad_requests_and_interrupted_runs_are_explained() {
    let dir = common::project::<&str>(
        "version: 5\nactions:\n  a:\n    run: python:v2 a.py\n    outputs:\n      highly_sensitive:\n        x: output/a.csv\n",
        &[],
    );
    let p = dir.path();
    let none = run(p, &[]);
    assert_eq!(none.status.code(), Some(1));
    assert!(stderr(&none).contains("At least one action must be supplied\nValid action names are:\n  run_all (runs all actions in project)\n  a"), "{}", stderr(&none));
    let unknown = run(p, &["b"]);
    assert!(stderr(&unknown).contains("Action 'b' not found in project.yaml"));

    let state = p.join("metadata/.cohortkit/state.json");
    std::fs::create_dir_all(state.parent().unwrap()).unwrap();
    std::fs::write(&state, r#"{"actions": {"a": {"status": "running", "started_at": "x", "completed_at": null, "outputs": {}}}}"#).unwrap();
    // What a killed run left half-written goes; other files stay.
    let left = [
        p.join("metadata/.a.log.tmp-999999999-Xy12"),
        p.join("metadata/.cohortkit/.state.json.tmp-999999999-Ab34"),
    ];
    for file in &left {
        std::fs::write(file, "half").unwrap();
    }
    std::fs::write(p.join("metadata/.keep"), "").unwrap();
    let output = run(p, &["a", "--skip-unavailable"]);
    assert!(
        stderr(&output).contains("note: the last run of a was interrupted; it is marked cancelled"),
        "{}",
        stderr(&output)
    );
    for file in &left {
        assert!(!file.exists(), "{} was left", file.display());
    }
    assert!(p.join("metadata/.keep").exists());

    let invalid = common::project::<&str>("version: 5\nactions: []\n", &[]);
    let output = run(invalid.path(), &["run_all"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("Errors in project file"));
}

#[test]
fn generate_cohort_without_a_schema_names_both_fixes() {
    let yaml = "version: 3
expectations:
  population_size: 10
actions:
  cohort:
    run: cohortextractor:latest generate_cohort --study-definition study_definition
    outputs:
      highly_sensitive:
        cohort: output/input.csv
";
    let dir = common::project::<&str>(yaml, &[]);
    let empty = tempfile::tempdir().unwrap();
    let output = common::cohortkit()
        .args(["run", "cohort", "--project-dir"])
        .arg(dir.path())
        .env("PATH", empty.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let log = read(dir.path().join("metadata/cohort.log"));
    assert!(
        log.contains("no dummy-data schema analysis/study_definition.schema.yaml")
            && log.contains("`cohortkit schema import`")
            && log.contains("install cohortextractor"),
        "{log}"
    );
    // The summary says why, not only that the job failed.
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("no dummy-data schema analysis/study_definition.schema.yaml")
            && stdout.contains("no cohortextractor on PATH either"),
        "{stdout}"
    );
    // Nothing here can run it: --skip-unavailable skips it, as it skips
    // an action whose program is missing.
    let skipped = common::cohortkit()
        .args(["run", "cohort", "--skip-unavailable", "--project-dir"])
        .arg(dir.path())
        .env("PATH", empty.path())
        .output()
        .unwrap();
    common::assert_success(&skipped);
    let stdout = String::from_utf8_lossy(&skipped.stdout);
    assert!(stdout.contains("Skipped: no dummy-data schema"), "{stdout}");
    let row = stdout.lines().find(|l| l.starts_with("cohort ")).unwrap();
    assert!(row.contains("skipped"), "{stdout}");
}

/// Outputs a rerun no longer makes are deleted, as upstream deletes
/// obsolete outputs, and leave the manifest.
#[test]
fn obsolete_outputs_are_deleted_on_a_successful_rerun() {
    let Some(()) = common::python3() else { return };
    let yaml = "version: '3.0'\nexpectations:\n  population_size: 10\nactions:\n  act:\n    run: python:latest analysis/act.py\n    outputs:\n      moderately_sensitive:\n        tables: output/table_*.csv\n";
    let script = "import os\nn = open('analysis/n.txt').read().strip()\nos.makedirs('output', exist_ok=True)\nopen(f'output/table_{n}.csv', 'w').write('a\\n1\\n')\n";
    let dir = common::project(
        yaml,
        &[("analysis/act.py", script), ("analysis/n.txt", "1")],
    );
    let p = dir.path();
    common::assert_success(&run(p, &["act"]));
    assert!(p.join("output/table_1.csv").is_file());
    std::fs::write(p.join("analysis/n.txt"), "2").unwrap();
    common::assert_success(&run(p, &["act"]));
    assert!(p.join("output/table_2.csv").is_file());
    assert!(
        !p.join("output/table_1.csv").exists(),
        "the obsolete output stayed"
    );
    let outputs = &manifest(p)["outputs"];
    assert!(outputs.get("output/table_1.csv").is_none(), "{outputs}");
    assert!(outputs.get("output/table_2.csv").is_some(), "{outputs}");
}
