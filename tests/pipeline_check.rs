//! `cohortkit check`: one failing project.yaml per rule, each checked for
//! its message and line; valid projects (the seed among them) pass with
//! their warnings.

mod common;

use std::path::Path;

/// Runs `check` on a project file with `text`; returns (exit code, stdout,
/// stderr).
fn check(text: &str) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("project.yaml"), text).unwrap();
    check_dir(dir.path())
}

fn check_dir(dir: &Path) -> (i32, String, String) {
    let output = common::cohortkit()
        .args(["check", "--project-dir"])
        .arg(dir)
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A version-5 action block with `run` and one highly sensitive output.
fn action(name: &str, run: &str, output: &str) -> String {
    format!(
        "  {name}:\n    run: {run}\n    outputs:\n      highly_sensitive:\n        x: {output}\n"
    )
}

fn v5(actions: &str) -> String {
    format!("version: 5\nactions:\n{actions}")
}

const V3_HEAD: &str = "version: '3.0'\nexpectations:\n  population_size: 1000\nactions:\n";

#[test]
fn the_seed_project_is_valid_with_a_version_warning() {
    let (code, stdout, stderr) = check_dir(&common::reference());
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("valid (version 3.0, 7 actions)"),
        "{stdout}"
    );
    assert!(
        stderr.contains("warning: Your project file is using an old version (3.0); consider updating to version 5 (line 1)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("warning: Action test_action uses `cohortextractor:latest`: pin a version (e.g. `:v2`); version 5 refuses `:latest` (line 9)"),
        "{stderr}"
    );
}

#[test]
fn every_rule_fails_with_its_message_and_line() {
    let a = action("a", "python:v2 a.py", "output/a.csv");
    let cases: Vec<(&str, String, &str)> = vec![
        ("empty file", String::new(), "the file is empty"),
        ("not a mapping", "- 1\n- 2\n".into(), "must be a mapping with `version` and `actions`, not a list (line 1)"),
        ("yaml syntax", "version: [5\nactions: {}\n".into(), "invalid YAML"),
        ("duplicate keys", format!("version: 5\nversion: 5\nactions:\n{a}"), "duplicate key `version` (lines 1 and 2)"),
        ("missing version", format!("actions:\n{a}"), "Project file must have a `version` attribute specifying which version of the project configuration format it uses (current latest version is 5)"),
        ("version not a number", format!("version: five\nactions:\n{a}"), "`version` must be a number between 1 and 5 (line 1)"),
        ("version above 5", format!("version: '6'\nactions:\n{a}"), "The latest version is v5, but got v6.0 (line 1)"),
        ("unexpected top-level keys", format!("version: 5\nfoo: 1\nbar: 2\nactions:\n{a}"), "Unexpected parameters (foo, bar) in project (line 2)"),
        ("actions not a mapping", "version: 5\nactions: [a]\n".into(), "Project `actions` section must be a dictionary of key/value pairs (line 2)"),
        ("output not unique", v5(&format!("{a}{}", action("b", "python:v2 b.py", "output/a.csv"))), "Output path output/a.csv is not unique (line 12)"),
        ("expectations required in 3", format!("version: 3\nactions:\n{}", action("a", "python:latest a.py", "output/a.csv")), "Project must include `expectations` section (line 1)"),
        ("expectations refused from 4", format!("version: 4\nexpectations:\n  population_size: 10\nactions:\n{a}"), "Project includes `expectations` section, which is not supported in this version"),
        ("population not a number", format!("version: 3\nexpectations:\n  population_size: many\nactions:\n{a}"), "Project expectations population size must be a number (line 3)"),
        ("unexpected expectations key", format!("version: 3\nexpectations:\n  population_size: 10\n  seed: 1\nactions:\n{a}"), "Unexpected parameters (seed) in project `expectations` section (line 3)"),
        ("cohortextractor from 4", format!("version: 4\nactions:\n{}", action("a", "cohortextractor:latest generate_cohort", "output/input.csv")), "Action a uses cohortextractor actions, which are not supported in this version. (line 4)"),
        ("run_all from 5", v5(&action("run_all", "python:v2 a.py", "output/a.csv")), "`run_all` is a reserved action name and is not allowed for user-defined actions. (line 3)"),
        ("latest from 5", v5(&action("a", "python:latest a.py", "output/a.csv")), "Action a uses `python:latest`, which is not supported. Provide a version e.g. `:v2` instead. For equivalence, replace `python:latest` with `python:v1`"),
        ("unexpected action keys", v5(&format!("{a}    foo: 1\n")), "Unexpected parameters (foo) in action a (line 3)"),
        ("action not a mapping", "version: 5\nactions:\n  a: 1\n".into(), "Configuration for action a must be a dictionary of key/value pairs (line 3)"),
        ("run missing", "version: 5\nactions:\n  a:\n    outputs:\n      highly_sensitive:\n        x: output/a.csv\n".into(), "Action a must contain a configuration for 'run' (line 3)"),
        ("outputs missing", "version: 5\nactions:\n  a:\n    run: python:v2 a.py\n".into(), "Action a must contain a configuration for 'outputs' (line 3)"),
        ("run not a string", v5(&action("a", "[python:v2]", "output/a.csv")), "`run` section for action a must be a string (line 4)"),
        ("run with a custom tag", v5(&action("a", "!custom python:v2 a.py", "output/a.csv")), "`run` section for action a must be a string (line 4)"),
        ("run empty", v5(&action("a", "''", "output/a.csv")), "run must have a value, a has an empty run key (line 4)"),
        ("unbalanced quotes", v5(&action("a", "python:v2 'a.py", "output/a.csv")), "Action a has a `run` command that cannot be split into words: the quote ' is never closed (line 4)"),
        ("no version tag", v5(&action("a", "python a.py", "output/a.csv")), "Action command python must have a version specified in the form :vN (e.g. python:v2) (line 4)"),
        ("bad version tag", v5(&action("a", "python:2 a.py", "output/a.csv")), "Action command python must have a version specified in the form :vN (e.g. python:v2)"),
        ("same run twice", v5(&format!("{a}{}", action("b", "python:v2 a.py", "output/b.csv"))), "Action b has the same 'run' command as other actions: a (line 9)"),
        ("unknown need", v5(&format!("{a}    needs: [b]\n")), "Action `a` references an unknown action in its `needs` list: b (line 8)"),
        ("needs with a space", v5(&format!("{a}{}    needs: [a b]\n", action("b", "python:v2 b.py", "output/b.csv"))), "`needs` actions should be separated with commas, but b needs `a b` (line 13)"),
        ("needs not a list", v5(&format!("{a}    needs: a\n")), "`needs` section for action a must be a list (line 8)"),
        ("self need", v5(&format!("{a}    needs: [a]\n")), "Action `a` needs itself (line 8)"),
        ("cycle", v5(&format!("{a}    needs: [b]\n{}    needs: [a]\n", action("b", "python:v2 b.py", "output/b.csv"))), "Actions depend on each other in a cycle: a -> b -> a"),
        ("no outputs", "version: 5\nactions:\n  a:\n    run: python:v2 a.py\n    outputs:\n      highly_sensitive:\n".into(), "Action a must specify at least one output of: highly_sensitive, moderately_sensitive, minimally_sensitive (line 6)"),
        ("unknown privacy level", "version: 5\nactions:\n  a:\n    run: python:v2 a.py\n    outputs:\n      secret:\n        x: output/a.csv\n".into(), "Unexpected parameters (secret) in `outputs` section for action a (line 6)"),
        ("output not a string", v5(&action("a", "python:v2 a.py", "[output/a.csv]")), "`x` output for action a must be a string (line 7)"),
        ("back slash", v5(&action("a", "python:v2 a.py", "'output\\a.csv'")), "Output path output\\a.csv is invalid: contains back slashes (use forward slashes only) (line 7)"),
        ("double star", v5(&action("a", "python:v2 a.py", "output/**/a.csv")), "Output path output/**/a.csv is invalid: contains '**' (only the * wildcard character is supported)"),
        ("question mark", v5(&action("a", "python:v2 a.py", "output/a?.csv")), "contains '?' (only the * wildcard character is supported)"),
        ("bracket", v5(&action("a", "python:v2 a.py", "'output/[ab].csv'")), "contains '[' (only the * wildcard character is supported)"),
        ("no extension", v5(&action("a", "python:v2 a.py", "output/a")), "Output path output/a is invalid: output paths must have a file type extension at the end"),
        ("star extension", v5(&action("a", "python:v2 a.py", "output/a.*")), "output paths must have a file type extension at the end"),
        ("moderately sensitive file type", "version: 5\nactions:\n  a:\n    run: python:v2 a.py\n    outputs:\n      moderately_sensitive:\n        x: output/a.csv.gz\n".into(), "Output path output/a.csv.gz is invalid: output/a.csv.gz is not an allowed file type for moderately_sensitive outputs (line 7)"),
        ("not normal form", v5(&action("a", "python:v2 a.py", "output/../a.csv")), "is not in standard form (contains double slashes or '..' elements)"),
        ("metadata", v5(&action("a", "python:v2 a.py", "metadata/a.csv")), "Output path metadata/a.csv is invalid: should not include the metadata directory"),
        ("absolute", v5(&action("a", "python:v2 a.py", "/tmp/a.csv")), "Output path /tmp/a.csv is invalid: is an absolute path"),
        ("windows absolute", v5(&action("a", "python:v2 a.py", "c:/a.csv")), "Output path c:/a.csv is invalid: is an absolute path"),
        ("generate_cohort with two levels", format!("{V3_HEAD}  a:\n    run: cohortextractor:latest generate_cohort\n    outputs:\n      highly_sensitive:\n        x: output/input.csv\n      moderately_sensitive:\n        y: output/a.csv\n"), "A `generate_cohort` action must have exactly one output; a had 2 (line 5)"),
        ("generate_cohort in two directories", format!("{V3_HEAD}  a:\n    run: cohortextractor:latest generate_cohort\n    outputs:\n      highly_sensitive:\n        x: output/input.csv\n        y: other/input.csv\n"), "A `generate_cohort` action must write all its outputs to one directory (or pass --output-dir); a writes to other, output (line 5)"),
        ("ehrql dataset outputs", "version: 5\nactions:\n  a:\n    run: ehrql:v1 generate-dataset analysis/d.py --output output/d.csv\n    outputs:\n      moderately_sensitive:\n        x: output/d.csv\n".into(), "`a` action uses `generate-dataset` and so all outputs must be labelled `highly_sensitive` (line 4)"),
        ("ehrql without --output", v5(&action("a", "ehrql:v1 generate-dataset analysis/d.py", "output/d.csv")), "`a` action does not provide an `--output` argument specifying where the results of `generate-dataset` should be stored"),
        ("ehrql output mismatch", v5(&action("a", "ehrql:v1 generate-dataset analysis/d.py --output output/e.csv", "output/d.csv")), "output specification must match the `--output` argument in the `run` command: got output/d.csv but was expecting output/e.csv"),
    ];
    let mut failures = Vec::new();
    for (name, text, expected) in &cases {
        let (code, _, stderr) = check(text);
        if code != 1 || !stderr.contains("Errors in project file") || !stderr.contains(expected) {
            failures.push(format!(
                "{name}: exit {code}, expected {expected:?} in:\n{stderr}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_problem_is_reported_at_once_in_line_order() {
    // `a` has problems of its own (an unknown key, an invalid output) and
    // also a `:latest` tag, an unknown need and a cycle with `c`; `b` cannot
    // be run at all (no tag) and still repeats `a`'s need and `c`'s output.
    let text = "version: 5
foo: 1
actions:
  a:
    run: python:latest a.py
    colour: red
    needs: [zz, c]
    outputs:
      highly_sensitive:
        x: /abs.csv
        y: output/a.csv
  b:
    run: r b.R
    needs: [zz]
    outputs:
      highly_sensitive:
        x: output/c.csv
  c:
    run: python:v2 c.py
    needs: [a]
    outputs:
      highly_sensitive:
        x: output/c.csv
";
    let (code, _, stderr) = check(text);
    assert_eq!(code, 1);
    let problems: Vec<&str> = stderr.lines().filter(|l| l.starts_with("  - ")).collect();
    assert_eq!(
        problems,
        [
            "  - Unexpected parameters (foo) in project (line 2)",
            "  - Unexpected parameters (colour) in action a (line 4)",
            "  - Action a uses `python:latest`, which is not supported. Provide a version e.g. `:v2` instead. For equivalence, replace `python:latest` with `python:v1` (but note that `v1` is scheduled for deprecation). (line 5)",
            "  - Action `a` references an unknown action in its `needs` list: zz (line 7)",
            "  - Output path /abs.csv is invalid: is an absolute path (line 10)",
            "  - Action command r must have a version specified in the form :vN (e.g. r:v2) (line 13)",
            "  - Action `b` references an unknown action in its `needs` list: zz (line 14)",
            "  - Actions depend on each other in a cycle: a -> c -> a (line 20)",
            "  - Output path output/c.csv is not unique (line 23)",
        ],
        "{stderr}"
    );
}

#[test]
fn version_rules_apply_by_version() {
    let a = action("a", "python:latest a.py", "output/a.csv");
    let b = action("b", "python:latest b.py", "output/a.csv");
    let run_all = action("run_all", "python:latest c.py", "output/c.csv");
    // Version 1 allows duplicate outputs, ignores expectations, drops run_all.
    let (code, _, stderr) = check(&format!("version: 1\nactions:\n{a}{b}{run_all}"));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("`run_all` is a reserved action name: this action is ignored (line 13)"),
        "{stderr}"
    );
    // 3.5 is not 3: no expectations needed; :latest is fine below 5.
    let (code, _, stderr) = check(&format!("version: 3.5\nactions:\n{a}"));
    assert_eq!(code, 0, "{stderr}");
    // Anchors, merge keys and `yes` as a string.
    let text = "version: '5'\nx-common: &common\n  run: python:v2 a.py yes\nactions:\n  a:\n    <<: *common\n    outputs:\n      highly_sensitive:\n        x: output/a.csv\n";
    let (code, _, stderr) = check(text);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("Unexpected parameters (x-common) in project"),
        "{stderr}"
    );
    let text = "version: '5'\nactions:\n  a: &a\n    run: python:v1 a.py\n    outputs:\n      highly_sensitive:\n        x: output/a.csv\n  b:\n    <<: *a\n    run: python:v2 b.py\n    outputs:\n      highly_sensitive:\n        x: output/b.csv\n";
    let (code, _, stderr) = check(text);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("Action a uses `python:v1`, which is scheduled for deprecation"),
        "{stderr}"
    );
}

#[test]
fn alias_bombs_are_refused_at_once_by_check_and_run() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "version: 5\nx-bomb:\n{}actions:\n{}",
        common::billion_laughs("  "),
        action("a", "python:v2 a.py", "output/a.csv")
    );
    std::fs::write(dir.path().join("project.yaml"), text).unwrap();
    let mut check = common::cohortkit();
    check.args(["check", "--project-dir"]).arg(dir.path());
    let mut run = common::cohortkit();
    run.args(["run", "--project-dir"])
        .arg(dir.path())
        .arg("run_all");
    for command in [check, run] {
        let (code, stderr) = common::run_bounded(command);
        assert_eq!(code, Some(1), "{stderr}");
        // `g` (line 9) holds aliases of 597,871 nodes each.
        assert!(
            stderr.contains("aliases here expand to more than 4000000 nodes; the file is probably malicious or broken"),
            "{stderr}"
        );
        assert!(stderr.contains("(line 9)"), "{stderr}");
    }
    assert!(!dir.path().join("metadata").exists());
}
