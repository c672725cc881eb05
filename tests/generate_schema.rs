//! `cohortkit schema`: the bundled FLUCATS schemas are what the importer
//! makes from the real `dump_study_yaml` output, and they agree, column by
//! column, with the FLUCATS layout introspected from cohortextractor
//! (`reference/flucats/schema.json`).

mod common;

use std::path::{Path, PathBuf};

use cohortkit::dummy::dates::{DateFormat, Day};
use cohortkit::dummy::schema::{
    DateBound, DateRate, FixedKind, IntDistribution, Missing, Schema, TextKind, Values,
};
use serde_json::Value;

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/flucats/analysis")
}

/// The study definitions' `default_expectations`, as a researcher would
/// copy them from study_definition.py; checked against schema.json's `meta`.
fn defaults(meta: &Value) -> String {
    let incidence = meta["default_expectations"]["incidence"].as_f64().unwrap();
    let text = format!(
        r#"{{"date": {{"earliest": "1900-01-01", "latest": "today"}}, "rate": "uniform", "incidence": {incidence}}}"#
    );
    let parsed: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(parsed, meta["default_expectations"]);
    text
}

fn reference_json() -> Value {
    let text = std::fs::read_to_string(common::reference().join("schema.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// (study, schema.json part, reference extract)
const STUDIES: [(&str, &str, &str); 2] = [
    ("study_definition", "weekly", "input_2020-03-01.csv.gz"),
    ("study_definition_end", "end", "input_end.csv.gz"),
];

#[test]
fn bundled_schemas_are_what_the_importer_makes() {
    let reference = common::reference();
    let json = reference_json();
    let dir = tempfile::tempdir().unwrap();
    for (study, part, extract) in STUDIES {
        let meta = &json["meta"][part];
        let out = dir.path().join(format!("{study}.schema.yaml"));
        let output = common::cohortkit()
            .args(["schema", "import"])
            .arg(reference.join(format!("study_yaml/{study}.yaml")))
            .args(["--defaults", &defaults(meta)])
            .args([
                "--index-date",
                meta["index_date_in_definition"].as_str().unwrap(),
            ])
            .args(["--dumped-on", "2026-11-24"])
            .arg("--order-from")
            .arg(reference.join("output").join(extract))
            .arg("-o")
            .arg(&out)
            .output()
            .unwrap();
        common::assert_success(&output);
        let made = std::fs::read_to_string(&out).unwrap();
        let bundled =
            std::fs::read_to_string(testdata().join(format!("{study}.schema.yaml"))).unwrap();
        assert_eq!(made, bundled, "re-import of {study} differs from testdata");
    }
}

#[test]
fn without_a_header_columns_follow_upstreams_order_rule() {
    let reference = common::reference();
    let output = common::cohortkit()
        .args(["schema", "import"])
        .arg(reference.join("study_yaml/study_definition_end.yaml"))
        .args([
            "--defaults",
            "{incidence: 0.8, rate: uniform, date: {earliest: 1900-01-01, latest: today}}",
        ])
        .output()
        .unwrap();
    common::assert_success(&output);
    let schema = Schema::parse(std::str::from_utf8(&output.stdout).unwrap()).unwrap();
    let names: Vec<&str> = schema.columns.iter().map(|c| c.name.as_str()).collect();
    // Same set as the real file.
    let mut real = header(&reference.join("output/input_end.csv.gz"));
    let mut sorted = names.clone();
    real.sort();
    sorted.sort();
    assert_eq!(sorted, real);
    // Drawn dates, then the rest, then fixed values, then patient_id; each
    // group alphabetical (the dump's order).
    let group = |c: &cohortkit::dummy::schema::Column| match &c.values {
        Values::Date(_) => 0,
        Values::Fixed { .. } => 2,
        Values::PatientId => 3,
        _ => 1,
    };
    let groups: Vec<i32> = schema.columns.iter().map(group).collect();
    assert!(groups.windows(2).all(|w| w[0] <= w[1]), "{names:?}");
    for g in 0..4 {
        let in_group: Vec<&str> = schema
            .columns
            .iter()
            .filter(|c| group(c) == g)
            .map(|c| c.name.as_str())
            .collect();
        assert!(in_group.windows(2).all(|w| w[0] < w[1]), "{in_group:?}");
    }
}

fn header(path: &Path) -> Vec<String> {
    let text = cohortkit::table::gzip::read_all(path, true).unwrap();
    let line = text.split(|&b| b == b'\n').next().unwrap();
    String::from_utf8(line.to_vec())
        .unwrap()
        .split(',')
        .map(String::from)
        .collect()
}

/// The day a schema.json `resolved` date or a bound stands for.
fn day(text: &str) -> Day {
    Day::parse_iso(text).unwrap()
}

#[test]
fn bundled_schemas_agree_with_the_introspected_layout() {
    let json = reference_json();
    let dumped = day("2026-11-24");
    for (study, part, extract) in STUDIES {
        let schema = Schema::load(&testdata().join(format!("{study}.schema.yaml"))).unwrap();
        let expected = json[part].as_array().unwrap();
        let names: Vec<&str> = schema.columns.iter().map(|c| c.name.as_str()).collect();
        let want: Vec<&str> = expected
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, want, "{study}: column order");
        assert_eq!(
            names,
            header(&common::reference().join("output").join(extract))
        );
        let index_date = schema.index_date;
        let resolve = |b: DateBound| match b {
            DateBound::Day(d) => d,
            DateBound::Today => dumped,
            DateBound::IndexDate => index_date.unwrap(),
        };
        for (column, want) in schema.columns.iter().zip(expected) {
            let name = &column.name;
            let incidence = want["incidence"].as_f64().unwrap();
            let universal = want["rate"] == "universal";
            match (&column.missing, want["missing_follows"].as_str()) {
                (Missing::Follows(source), Some(w)) => assert_eq!(source, w, "{name}"),
                (Missing::Never, None) => assert!(universal || incidence == 1.0, "{name}"),
                (Missing::Incidence(p), None) => assert_eq!(*p, incidence, "{name}"),
                (got, w) => panic!("{name}: missing {got:?}, expected follows {w:?}"),
            }
            match (&column.values, want["type"].as_str().unwrap()) {
                (Values::PatientId, "int") => assert_eq!(name, "patient_id"),
                (Values::Flag, "bool") => {}
                (Values::Int(d), "int") => {
                    let dist = &want["distribution"];
                    match d {
                        IntDistribution::Normal { mean, stddev } => {
                            assert_eq!(dist["distribution"], "normal", "{name}");
                            assert_eq!(*mean, dist["mean"].as_f64().unwrap(), "{name}");
                            assert_eq!(*stddev, dist["stddev"].as_f64().unwrap(), "{name}");
                        }
                        IntDistribution::PopulationAges => {
                            assert_eq!(dist["distribution"], "population_ages", "{name}")
                        }
                        IntDistribution::Poisson { .. } => panic!("{name}: no poisson upstream"),
                    }
                }
                (Values::Float { mean, stddev }, "float") => {
                    let dist = &want["distribution"];
                    assert_eq!(*mean, dist["mean"].as_f64().unwrap(), "{name}");
                    assert_eq!(*stddev, dist["stddev"].as_f64().unwrap(), "{name}");
                }
                (Values::Date(spec), "date") => {
                    let date = &want["date"];
                    let resolved = date["resolved"].as_array().unwrap();
                    assert_eq!(
                        resolve(spec.earliest),
                        day(resolved[0].as_str().unwrap()),
                        "{name}"
                    );
                    assert_eq!(
                        resolve(spec.latest),
                        day(resolved[1].as_str().unwrap()),
                        "{name}"
                    );
                    let today_in_json =
                        |i: usize, key: &str| (date[key] == "today") == (resolve_is_today(spec, i));
                    assert!(
                        today_in_json(0, "earliest") && today_in_json(1, "latest"),
                        "{name}"
                    );
                    assert_eq!(
                        Some(spec.format),
                        DateFormat::parse(date["format"].as_str().unwrap())
                    );
                    let exponential = want["rate"] == "exponential_increase";
                    assert_eq!(
                        spec.rate == DateRate::ExponentialIncrease,
                        exponential,
                        "{name}"
                    );
                    let keep = |i: usize| {
                        date["keep_between"]
                            .get(i)
                            .and_then(|v| v.as_str())
                            .map(day)
                    };
                    assert_eq!(spec.keep_between, (keep(0), keep(1)), "{name}");
                }
                (Values::Fixed { kind, value }, "date") => {
                    assert_eq!(want["function"], "fixed_value");
                    assert_eq!(value, want["value"].as_str().unwrap());
                    assert_eq!(*kind, FixedKind::Date(DateFormat::Day));
                }
                (Values::Text { kind, ratios }, t @ ("code" | "category")) => {
                    let expected_kind = if t == "code" {
                        TextKind::Code
                    } else {
                        TextKind::Category
                    };
                    assert_eq!(*kind, expected_kind, "{name}");
                    let want_ratios = want["ratios"].as_object().unwrap();
                    assert_eq!(ratios.len(), want_ratios.len(), "{name}");
                    for (label, p) in ratios {
                        let key = label.as_deref().unwrap_or("");
                        assert_eq!(Some(*p), want_ratios[key].as_f64(), "{name}: {key}");
                    }
                }
                (got, t) => panic!("{name}: {got:?} but schema.json says {t}"),
            }
        }
    }
}

/// Whether bound `i` (0 earliest, 1 latest) is `today`.
fn resolve_is_today(spec: &cohortkit::dummy::schema::DateSpec, i: usize) -> bool {
    [spec.earliest, spec.latest][i] == DateBound::Today
}

#[test]
fn import_problems_name_the_dump_line() {
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("study_definition.yaml");
    std::fs::write(
        &dump,
        "covariate_definitions:\n  x:\n    args:\n      column_type: int\n      return_expectations:\n        incidence: 0.5\n    type: with_these_clinical_events\nhidden_columns: []\n",
    )
    .unwrap();
    let output = common::cohortkit()
        .args(["schema", "import"])
        .arg(&dump)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("study_definition.yaml"), "{stderr}");
    assert!(
        stderr.contains("line 3: int variable \"x\" has no `int` expectation"),
        "{stderr}"
    );
}

#[test]
fn schema_check_reports_every_problem_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.schema.yaml");
    std::fs::write(
        &path,
        "study_definition: s\ncolumns:\n- name: a\n  type: number\n- name: b\n  type: category\n  rate: universal\n  ratios: {x: 0.5, y: 0.6}\n",
    )
    .unwrap();
    let output = common::cohortkit()
        .args(["schema", "check"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("bad.schema.yaml: 3 problems"), "{stderr}");
    assert!(
        stderr.contains("line 4: column \"a\" has unknown type \"number\""),
        "{stderr}"
    );
    assert!(
        stderr.contains("line 8: the ratios of column \"b\" add up to 1.1, not 1"),
        "{stderr}"
    );
    assert!(stderr.contains("no `type: patient_id` column"), "{stderr}");
    let good = common::cohortkit()
        .args(["schema", "check"])
        .arg(testdata().join("study_definition.schema.yaml"))
        .output()
        .unwrap();
    assert!(good.status.success());
    assert!(String::from_utf8_lossy(&good.stdout).contains("124 columns"));
}

/// The schema of `columns` with a patient id.
fn schema_with(columns: &str) -> String {
    format!("study_definition: s\ncolumns:\n- name: patient_id\n  type: patient_id\n{columns}")
}

#[test]
fn alias_bombs_are_refused_at_once_naming_the_alias() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bomb.schema.yaml");
    // The bomb under an unknown field of a column: `a` is line 10.
    let columns = format!(
        "- name: c\n  type: category\n  rate: universal\n  ratios: {{x: 1}}\n  bomb:\n{}",
        common::billion_laughs("    ")
    );
    std::fs::write(&path, schema_with(&columns)).unwrap();
    let mut check = common::cohortkit();
    check.args(["schema", "check"]).arg(&path);
    let mut generate = common::cohortkit();
    generate
        .args(["generate", "--schema"])
        .arg(&path)
        .arg("--output-dir")
        .arg(dir.path().join("out"));
    for command in [check, generate] {
        let (code, stderr) = common::run_bounded(command);
        assert_eq!(code, Some(1), "{stderr}");
        // `g`, line 16, holds aliases of 597,871 nodes each: the sixth
        // passes the bound of 4,000,000.
        assert!(
            stderr.contains("bomb.schema.yaml: line 16: aliases here expand to more than 4000000 nodes; the file is probably malicious or broken"),
            "{stderr}"
        );
    }
    assert!(!dir.path().join("out").exists());
}

#[test]
fn field_problems_name_the_column_key_value_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.schema.yaml");
    let columns = "\
- name: covid_date
  type: date
  incidence: 0.5
  earliest: 2020-02-30
  latest: 2021-13-01
  keep_between: [2019-04-31, null]
- name: bmi
  type: float
  incidence: 1.5
  distribution: normal
  mean: abc
  stddev: -1
- name: region
  type: category
  rate: universal
  ratios: {North: 0.5, South: half}
- name: start
  type: date
  value: 2021-02-29
- name: visits
  type: int
  rate: universal
  distribution: poisson
  mean: -2
";
    std::fs::write(
        &path,
        format!("index_date: 2020/03/01\n{}", schema_with(columns)),
    )
    .unwrap();
    let mut check = common::cohortkit();
    check.args(["schema", "check"]).arg(&path);
    let (code, stderr) = common::run_bounded(check);
    assert_eq!(code, Some(1), "{stderr}");
    for expected in [
        "line 1: index_date: 2020/03/01 is not a YYYY-MM-DD date",
        "line 9: column \"covid_date\": earliest: 2020-02-30 is not a date (February 2020 has 29 days)",
        "line 10: column \"covid_date\": latest: 2021-13-01 is not a date (there is no month 13)",
        "line 11: column \"covid_date\": keep_between: 2019-04-31 is not a date (April 2019 has 30 days)",
        "line 14: column \"bmi\": incidence: 1.5 is not a number from 0 to 1",
        "line 16: column \"bmi\": mean: abc is not a number",
        "line 17: column \"bmi\": stddev: -1 is not a standard deviation (it must be 0 or more)",
        "line 21: column \"region\": ratios: South: half is not a probability (a number, 0 or more)",
        "line 24: column \"start\": value: 2021-02-29 is not a date (February 2021 has 28 days)",
        "line 29: column \"visits\": mean: -2 is not a poisson mean (it must be 0 or more)",
    ] {
        assert!(stderr.contains(expected), "{expected:?} not in:\n{stderr}");
    }
}
