//! `cohortkit schema infer`: schemas described from dataset files of every
//! format read back, generate, resemble the data they came from, and never
//! hold ids, rare values, small counts or exact dates.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use cohortkit::dummy::dates::{DateFormat, Day};
use cohortkit::dummy::schema::infer::{MIN_ROWS, OTHER, infer_file};
use cohortkit::dummy::schema::{
    Column, DateBound, IntDistribution, Missing, Schema, TextKind, Values,
};
use proptest::prelude::*;

/// A study of every kind of drawn column, with a rare category value
/// (`Atlantis`, about 2 rows in 2,000) and a real `other`.
const SOURCE: &str = "\
study_definition: study_definition
columns:
- name: died_date
  type: date
  incidence: 0.3
  earliest: 2015-01-01
  latest: 2020-12-31
  format: YYYY-MM-DD
- name: died
  type: flag
  missing_follows: died_date
- name: vaccinated
  type: flag
  incidence: 0.6
- name: first_jab
  type: date
  incidence: 0.6
  earliest: 2020-12-01
  latest: 2021-06-30
  format: YYYY-MM
- name: birth_year
  type: date
  rate: universal
  earliest: 1930-01-01
  latest: 2000-12-31
  format: YYYY
- name: age
  type: int
  rate: universal
  distribution: normal
  mean: 50
  stddev: 10
- name: bmi
  type: float
  rate: universal
  distribution: normal
  mean: 28
  stddev: 5
- name: region
  type: category
  incidence: 0.9
  ratios:
    North: 0.4
    South: 0.35
    other: 0.249
    Atlantis: 0.001
- name: patient_id
  type: patient_id
";

fn run(args: &[&str]) -> Output {
    common::cohortkit().args(args).output().unwrap()
}

fn text(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// `cohortkit schema infer FILE -o OUT`, read back.
fn infer(file: &Path, out: &Path) -> (Schema, String) {
    let output = run(&["schema", "infer", text(file), "-o", text(out)]);
    common::assert_success(&output);
    let yaml = std::fs::read_to_string(out).unwrap();
    (Schema::load(out).unwrap(), yaml)
}

fn day(text: &str) -> DateBound {
    DateBound::Day(Day::parse_iso(text).unwrap())
}

/// The share of rows with a value that a column's entry says.
fn incidence(column: &Column) -> f64 {
    match column.missing {
        Missing::Never => 1.0,
        Missing::Incidence(p) => p,
        Missing::Follows(_) => panic!("inferred columns do not follow others"),
    }
}

fn ratio(column: &Column, label: &str) -> f64 {
    let Values::Text { ratios, .. } = &column.values else {
        panic!("{column:?}")
    };
    ratios
        .iter()
        .find(|(l, _)| l.as_deref() == Some(label))
        .map_or(0.0, |(_, p)| *p)
}

fn close(got: f64, want: f64, within: f64, what: &str) {
    assert!(
        (got - want).abs() <= within,
        "{what}: {got}, expected {want} ± {within}"
    );
}

#[test]
fn generated_files_infer_back_to_their_schema() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source.schema.yaml");
    std::fs::write(&source, SOURCE).unwrap();
    for ext in ["csv", "csv.gz", "feather", "parquet", "dta"] {
        let data = dir.path().join(format!("input.{ext}"));
        let output = run(&[
            "generate",
            "--schema",
            text(&source),
            "--population",
            "2000",
            "--output-file",
            text(&data),
            "--quiet",
        ]);
        common::assert_success(&output);
        let out = dir
            .path()
            .join(format!("inferred_{}.schema.yaml", ext.replace('.', "_")));
        let (schema, yaml) = infer(&data, &out);
        assert_eq!(schema.study_definition, "input", "{ext}");
        let names: Vec<&str> = schema.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "died_date",
                "died",
                "vaccinated",
                "first_jab",
                "birth_year",
                "age",
                "bmi",
                "region",
                "patient_id"
            ],
            "{ext}"
        );
        let c = &schema.columns;
        // Text keeps the written precision; binary dates are days.
        let text_formats = ext.starts_with("csv");
        let formats = if text_formats {
            [DateFormat::Day, DateFormat::Month, DateFormat::Year]
        } else {
            [DateFormat::Day; 3]
        };
        let bounds = [
            ("2015-01-01", "2020-12-31"),
            ("2020-12-01", "2021-06-30"),
            ("1930-01-01", "2000-01-31"),
        ];
        for ((i, format), (earliest, latest)) in [0, 3, 4].into_iter().zip(formats).zip(bounds) {
            let Values::Date(spec) = &c[i].values else {
                panic!("{ext}: {:?}", c[i])
            };
            assert_eq!(spec.format, format, "{ext}: {}", c[i].name);
            assert_eq!(
                (spec.earliest, spec.latest),
                (day(earliest), day(latest)),
                "{ext}: {}",
                c[i].name
            );
        }
        assert_eq!(c[1].values, Values::Flag, "{ext}");
        assert_eq!(c[2].values, Values::Flag, "{ext}");
        close(incidence(&c[0]), 0.3, 0.005, "died_date");
        close(incidence(&c[1]), 0.3, 0.005, "died");
        close(incidence(&c[2]), 0.6, 0.005, "vaccinated");
        close(incidence(&c[3]), 0.6, 0.005, "first_jab");
        assert_eq!(c[4].missing, Missing::Never, "{ext}");
        let Values::Int(IntDistribution::Normal { mean, stddev }) = c[5].values else {
            panic!("{ext}: {:?}", c[5])
        };
        // Normal values truncated towards zero average half a unit less.
        close(mean, 49.5, 1.0, "age mean");
        close(stddev, 10.0, 0.6, "age stddev");
        let Values::Float { mean, stddev } = c[6].values else {
            panic!("{ext}: {:?}", c[6])
        };
        close(mean, 28.0, 0.4, "bmi mean");
        close(stddev, 5.0, 0.3, "bmi stddev");
        assert!(
            matches!(
                c[7].values,
                Values::Text {
                    kind: TextKind::Category,
                    ..
                }
            ),
            "{ext}: {:?}",
            c[7]
        );
        close(incidence(&c[7]), 0.9, 0.005, "region");
        close(ratio(&c[7], "North"), 0.4, 0.04, "North");
        close(ratio(&c[7], "South"), 0.35, 0.04, "South");
        close(ratio(&c[7], OTHER), 0.25, 0.04, "other");
        assert_eq!(ratio(&c[7], "Atlantis"), 0.0);
        assert!(
            !yaml.contains("Atlantis"),
            "{ext}: the rare value is in\n{yaml}"
        );
        assert_eq!(c[8].values, Values::PatientId);
        // The inferred schema checks and generates at another scale.
        common::assert_success(&run(&["schema", "check", text(&out)]));
        let again = dir.path().join("again.csv");
        let output = run(&[
            "generate",
            "--schema",
            text(&out),
            "--population",
            "5000",
            "--output-file",
            text(&again),
            "--quiet",
        ]);
        common::assert_success(&output);
        let lines = std::fs::read_to_string(&again).unwrap();
        assert_eq!(lines.lines().count(), 5001, "{ext}");
        assert_eq!(lines.lines().next().unwrap(), names.join(","), "{ext}");
    }
}

/// Twenty patients as ehrQL writes CSV (CRLF, `T`/`F`, ISO dates, empty
/// for missing) with cohortextractor's 0/1 flags and `YYYY` dates.
fn ehrql_csv() -> String {
    let header =
        "patient_id,asthma,dob,sex,visits,weight,event_date,note,year,statin,rare,sparse,bmi";
    let mut text = format!("{header}\r\n");
    for i in 0..20u32 {
        let asthma = if i < 12 { "T" } else { "F" };
        let dob = format!("19{}-{:02}", 60 + i, 1 + i % 12);
        let sex = match i {
            0..11 => "male",
            11..19 => "female",
            _ => "intersex",
        };
        let weight = 70.0 + f64::from(i) * 1.25;
        let event = if i % 5 < 3 {
            format!("2021-{:02}-{:02}", 3 + i % 7, 5 + i)
        } else {
            String::new()
        };
        let statin = u32::from(i < 9);
        let rare = if i < 3 { "T" } else { "F" };
        let sparse = if i < 5 {
            format!("{}", 100 + i)
        } else {
            String::new()
        };
        let bmi = if i < 17 {
            format!("{}.5", 20 + i)
        } else {
            String::new()
        };
        text += &format!(
            "{},{asthma},{dob},{sex},{},{weight},{event},note {i},{},{statin},{rare},{sparse},{bmi}\r\n",
            1_000_001 + i,
            i + 1,
            1990 + i,
        );
    }
    text
}

#[test]
fn an_ehrql_csv_is_described_exactly_without_its_rare_values() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("dataset.csv");
    std::fs::write(&data, ehrql_csv()).unwrap();
    let out = dir.path().join("dataset.schema.yaml");
    let (schema, yaml) = infer(&data, &out);
    assert_eq!(schema.study_definition, "dataset");
    let c: HashMap<&str, &Column> = schema
        .columns
        .iter()
        .map(|c| (c.name.as_str(), c))
        .collect();
    let names: Vec<&str> = schema.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names.join(","),
        ehrql_csv().lines().next().unwrap(),
        "names and order as in the file, without the CR"
    );
    assert_eq!(c["patient_id"].values, Values::PatientId);
    assert_eq!(c["asthma"].values, Values::Flag);
    assert_eq!(c["asthma"].missing, Missing::Incidence(0.6));
    let Values::Date(dob) = &c["dob"].values else {
        panic!("{:?}", c["dob"])
    };
    assert_eq!(dob.format, DateFormat::Month);
    assert_eq!(
        (dob.earliest, dob.latest),
        (day("1960-01-01"), day("1979-08-31"))
    );
    assert_eq!(c["dob"].missing, Missing::Never);
    let Values::Text { kind, ratios } = &c["sex"].values else {
        panic!("{:?}", c["sex"])
    };
    assert_eq!(*kind, TextKind::Category);
    let want = [
        ("male", 11.0 / 20.0),
        ("female", 8.0 / 20.0),
        (OTHER, 1.0 / 20.0),
    ];
    let want: Vec<(Option<String>, f64)> = want
        .iter()
        .map(|(l, p)| (Some(l.to_string()), *p))
        .collect();
    assert_eq!(*ratios, want);
    assert_eq!(
        c["visits"].values,
        Values::Int(IntDistribution::Normal {
            mean: 10.5,
            stddev: 5.92
        })
    );
    assert_eq!(
        c["weight"].values,
        Values::Float {
            mean: 81.9,
            stddev: 7.4
        }
    );
    let Values::Date(event) = &c["event_date"].values else {
        panic!("{:?}", c["event_date"])
    };
    assert_eq!(event.format, DateFormat::Day);
    // Present on rows 0-2, 5-7, 10-12, 15-17: 2021-03-05 to 2021-09-11.
    assert_eq!(
        (event.earliest, event.latest),
        (day("2021-03-01"), day("2021-09-30"))
    );
    assert_eq!(c["event_date"].missing, Missing::Incidence(0.6));
    let Values::Text { kind, ratios } = &c["note"].values else {
        panic!("{:?}", c["note"])
    };
    assert_eq!(*kind, TextKind::String);
    assert_eq!(*ratios, [(Some(OTHER.to_string()), 1.0)]);
    let Values::Date(year) = &c["year"].values else {
        panic!("{:?}", c["year"])
    };
    assert_eq!(year.format, DateFormat::Year);
    assert_eq!(
        (year.earliest, year.latest),
        (day("1990-01-01"), day("2009-01-31"))
    );
    assert_eq!(c["statin"].values, Values::Flag);
    assert_eq!(c["statin"].missing, Missing::Incidence(0.45));
    // Three true rows and five values are small counts: not recorded.
    assert_eq!(c["rare"].values, Values::Flag);
    assert_eq!(c["rare"].missing, Missing::Incidence(0.0));
    assert_eq!(
        c["sparse"].values,
        Values::Int(IntDistribution::Normal {
            mean: 0.0,
            stddev: 0.0
        })
    );
    assert_eq!(c["sparse"].missing, Missing::Incidence(0.0));
    // Three missing rows are a small count too: the column is complete.
    assert_eq!(c["bmi"].missing, Missing::Never);
    for secret in [
        "intersex",
        "note 3",
        "1000007",
        "2021-03-05",
        "2021-09-11",
        "1961-02",
    ] {
        assert!(!yaml.contains(secret), "{secret} is in\n{yaml}");
    }
    // Standard output gets the same text.
    let output = run(&["schema", "infer", text(&data)]);
    common::assert_success(&output);
    assert_eq!(String::from_utf8(output.stdout).unwrap(), yaml);
    // --name names the study; -o leaves no temporary file behind.
    let named = dir.path().join("named.yaml");
    let output = run(&[
        "schema",
        "infer",
        text(&data),
        "--name",
        "study_definition_x",
        "-o",
        text(&named),
    ]);
    common::assert_success(&output);
    assert_eq!(
        Schema::load(&named).unwrap().study_definition,
        "study_definition_x"
    );
    let mut files: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files, ["dataset.csv", "dataset.schema.yaml", "named.yaml"]);
}

#[test]
fn errors_name_the_file_and_the_column() {
    let dir = tempfile::tempdir().unwrap();
    let failing = |file: &Path, words: &[&str]| {
        let output = run(&[
            "schema",
            "infer",
            text(file),
            "-o",
            text(&dir.path().join("out.yaml")),
        ]);
        assert!(!output.status.success(), "{file:?} was inferred");
        let stderr = String::from_utf8_lossy(&output.stderr);
        for word in words {
            assert!(stderr.contains(word), "{word:?} not in {stderr}");
        }
        assert!(!dir.path().join("out.yaml").exists());
    };
    let no_id = dir.path().join("no_id.csv");
    std::fs::write(&no_id, "id,x\n1,2\n").unwrap();
    failing(&no_id, &[text(&no_id), "patient_id"]);
    let twice = dir.path().join("twice.csv");
    std::fs::write(&twice, "patient_id,x,x\n1,2,3\n").unwrap();
    failing(&twice, &[text(&twice), "\"x\" appears twice"]);
    let missing = dir.path().join("missing.csv");
    failing(&missing, &[text(&missing)]);
    let unknown = dir.path().join("data.txt");
    std::fs::write(&unknown, "patient_id\n1\n").unwrap();
    failing(&unknown, &[text(&unknown), "Cannot read"]);
}

/// A python3 with pyarrow, or `None` with a note (CI sets
/// `COHORTKIT_REQUIRE_PANDAS=1` after installing pandas and pyarrow, and
/// then a missing pyarrow fails the test).
fn pyarrow_python() -> Option<PathBuf> {
    let ok = Command::new("python3")
        .args(["-c", "import pyarrow"])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return Some(PathBuf::from("python3"));
    }
    if std::env::var_os("COHORTKIT_REQUIRE_PANDAS").is_some() {
        panic!("COHORTKIT_REQUIRE_PANDAS is set but python3 cannot import pyarrow");
    }
    eprintln!("note: pyarrow not installed; skipping the pyarrow files");
    None
}

/// Writes `dataset.arrow`, `dataset.feather` (stream and file layouts),
/// `dataset.parquet` and `nested.arrow` in the directory given, as ehrQL
/// and pandas write them: 40 patients.
const PYARROW: &str = r#"
import datetime, sys
import pyarrow as pa, pyarrow.feather, pyarrow.parquet
out = sys.argv[1]
n = 40
sex = pa.DictionaryArray.from_arrays(
    pa.array([i % 3 if i != 39 else None for i in range(n)], pa.int8()),
    pa.array(["female", "male", "unknown"]), ordered=True)
rare = pa.DictionaryArray.from_arrays(
    pa.array([0 if i < 35 else 1 for i in range(n)], pa.int8()),
    pa.array(["common", "scarce"]), ordered=True)
table = pa.table({
    "patient_id": pa.array(range(7_000_001, 7_000_001 + n), pa.int64()),
    "sex": sex,
    "rare": rare,
    "has_copd": pa.array([i % 4 == 0 if i % 10 else None for i in range(n)], pa.bool_()),
    "age": pa.array([20 + i for i in range(n)], pa.int8()),
    "big": pa.array([2**63 + i for i in range(n)], pa.uint64()),
    "weight": pa.array([60.0 + i / 2 if i % 8 else None for i in range(n)], pa.float64()),
    "first_visit": pa.array([datetime.date(2019, 1 + i % 12, 1 + i) if i < 28 else None for i in range(n)], pa.date32()),
    "seen": pa.array([datetime.datetime(2020, 5, 17, 13, 30) + datetime.timedelta(days=i) for i in range(n)], pa.timestamp("ns")),
    "region": pa.array(["North" if i % 2 else "South" for i in range(n)], pa.string()),
    "postcode": pa.array([f"AB{i} 1CD" for i in range(n)], pa.string()),
})
with pa.OSFile(f"{out}/dataset.arrow", "wb") as sink:
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table, max_chunksize=16)
pyarrow.feather.write_feather(table, f"{out}/dataset.feather")
pyarrow.parquet.write_table(table, f"{out}/dataset.parquet")
nested = pa.table({"patient_id": pa.array([1, 2]), "codes": pa.array([["a"], ["b", "c"]])})
pyarrow.feather.write_feather(nested, f"{out}/nested.arrow")
"#;

#[test]
fn pyarrow_files_are_described_by_their_types() {
    let Some(python) = pyarrow_python() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    common::run_python(&python, PYARROW, &[dir.path()]);
    for ext in ["arrow", "feather", "parquet"] {
        let out = dir.path().join(format!("{ext}.schema.yaml"));
        let (schema, yaml) = infer(&dir.path().join(format!("dataset.{ext}")), &out);
        assert_eq!(schema.study_definition, "dataset");
        let c = &schema.columns;
        let names: Vec<&str> = c.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "patient_id",
                "sex",
                "rare",
                "has_copd",
                "age",
                "big",
                "weight",
                "first_visit",
                "seen",
                "region",
                "postcode"
            ],
            "{ext}"
        );
        assert_eq!(c[0].values, Values::PatientId, "{ext}");
        assert!(
            matches!(
                c[1].values,
                Values::Text {
                    kind: TextKind::Category,
                    ..
                }
            ),
            "{ext}"
        );
        // One missing row is a small count: complete.
        assert_eq!(incidence(&c[1]), 1.0, "{ext}");
        assert_eq!(ratio(&c[1], "female"), 13.0 / 39.0, "{ext}");
        // A dictionary column is a category however few values it has; its
        // rare value goes to `other`.
        assert!(
            matches!(
                c[2].values,
                Values::Text {
                    kind: TextKind::Category,
                    ..
                }
            ),
            "{ext}"
        );
        assert_eq!(ratio(&c[2], OTHER), 5.0 / 40.0, "{ext}");
        assert!(!yaml.contains("scarce"), "{ext}: {yaml}");
        // True on rows 4, 8, ..., 36 but for 20 (null, as 0, 10 and 30).
        assert_eq!(c[3].values, Values::Flag, "{ext}");
        assert_eq!(incidence(&c[3]), 8.0 / 40.0, "{ext}");
        assert_eq!(
            c[4].values,
            Values::Int(IntDistribution::Normal {
                mean: 39.5,
                stddev: 11.7
            }),
            "{ext}"
        );
        assert_eq!(
            c[5].values,
            Values::Int(IntDistribution::Normal {
                mean: 9.22e18,
                stddev: 0.0
            }),
            "{ext}"
        );
        // Five missing rows are a small count: complete.
        assert_eq!(
            c[6].values,
            Values::Float {
                mean: 70.0,
                stddev: 5.83
            },
            "{ext}"
        );
        assert_eq!(c[6].missing, Missing::Never, "{ext}");
        let Values::Date(first) = &c[7].values else {
            panic!("{ext}: {:?}", c[7])
        };
        assert_eq!(first.format, DateFormat::Day, "{ext}");
        assert_eq!(
            (first.earliest, first.latest),
            (day("2019-01-01"), day("2019-12-31"))
        );
        assert_eq!(incidence(&c[7]), 0.7, "{ext}");
        let Values::Date(seen) = &c[8].values else {
            panic!("{ext}: {:?}", c[8])
        };
        assert_eq!(seen.format, DateFormat::Day, "{ext}");
        assert_eq!(
            (seen.earliest, seen.latest),
            (day("2020-05-01"), day("2020-06-30"))
        );
        assert!(
            matches!(
                c[9].values,
                Values::Text {
                    kind: TextKind::Category,
                    ..
                }
            ),
            "{ext}"
        );
        assert_eq!(ratio(&c[9], "North"), 0.5, "{ext}");
        assert!(
            matches!(
                c[10].values,
                Values::Text {
                    kind: TextKind::String,
                    ..
                }
            ),
            "{ext}"
        );
        assert_eq!(ratio(&c[10], OTHER), 1.0, "{ext}");
        for secret in ["AB3 1CD", "7000001", "2019-12-24", "2020-05-17"] {
            assert!(!yaml.contains(secret), "{ext}: {secret} is in\n{yaml}");
        }
        common::assert_success(&run(&["schema", "check", text(&out)]));
    }
    let nested = dir.path().join("nested.arrow");
    let output = run(&["schema", "infer", text(&nested)]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(text(&nested))
            && stderr.contains("column \"codes\"")
            && stderr.contains("List"),
        "{stderr}"
    );
}

/// Labels of the random tables: distinct, and no part of any schema's
/// other text, so that finding one in a schema means it was copied.
const LABELS: [&str; 6] = ["QXAL", "QXBE", "QXCO", "QXDU", OTHER, "QXEV"];

/// A random table: unique 12-digit ids, labels of skewed frequencies,
/// dates at one precision, numbers and `T`/`F` flags, each value missing
/// at times.
#[derive(Clone, Debug)]
struct Table {
    ids: Vec<u64>,
    labels: Vec<Option<usize>>,
    dates: Vec<Option<(i32, u32, u32)>>,
    months: bool,
    numbers: Vec<Option<i32>>,
    flags: Vec<Option<bool>>,
}

fn table() -> impl Strategy<Value = Table> {
    (0usize..=90, any::<bool>(), 0u64..1_000_000).prop_flat_map(|(rows, months, base)| {
        let label = proptest::option::weighted(
            0.8,
            (0usize..100).prop_map(|r| match r {
                0..40 => 0,
                40..65 => 1,
                65..80 => 2,
                80..90 => 3,
                90..96 => 4,
                _ => 5,
            }),
        );
        let date = proptest::option::weighted(0.5, (1900i32..2030, 1u32..=12, 1u32..=28));
        let number = proptest::option::weighted(0.7, -100_000i32..100_000);
        let flag = proptest::option::weighted(0.9, proptest::bool::weighted(0.3));
        use proptest::collection::vec;
        (
            vec(label, rows),
            vec(date, rows),
            vec(number, rows),
            vec(flag, rows),
        )
            .prop_map(move |(labels, dates, numbers, flags)| Table {
                ids: (0..rows as u64)
                    .map(|i| 100_000_000_000 + base * 100 + i)
                    .collect(),
                labels,
                dates,
                months,
                numbers,
                flags,
            })
    })
}

impl Table {
    fn date_text(&self, (y, m, d): (i32, u32, u32)) -> String {
        if self.months {
            format!("{y}-{m:02}")
        } else {
            format!("{y}-{m:02}-{d:02}")
        }
    }

    fn csv(&self) -> String {
        let mut text = String::from("patient_id,label,when,amount,flag\n");
        for i in 0..self.ids.len() {
            let label = self.labels[i].map_or("", |l| LABELS[l]);
            let date = self.dates[i].map_or(String::new(), |d| self.date_text(d));
            let number =
                self.numbers[i].map_or(String::new(), |n| format!("{:.2}", f64::from(n) / 100.0));
            let flag = self.flags[i].map_or("", |f| if f { "T" } else { "F" });
            text += &format!("{},{label},{date},{number},{flag}\n", self.ids[i]);
        }
        text
    }
}

fn check_disclosure(table: &Table) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("random.csv");
    std::fs::write(&path, table.csv()).unwrap();
    let schema = infer_file(&path, None).map_err(|e| TestCaseError::fail(format!("{e:#}")))?;
    let yaml = schema.to_yaml("");
    let mut reread = Schema::parse(&yaml).expect("the schema reads back");
    reread.columns.iter_mut().for_each(|c| c.line = 0);
    prop_assert_eq!(&reread, &schema);
    let rows = table.ids.len() as u64;
    for id in &table.ids {
        prop_assert!(!yaml.contains(&id.to_string()), "id {} is in\n{}", id, yaml);
    }
    for column in &schema.columns[1..] {
        let kept = (incidence(column) * rows as f64).round() as u64;
        prop_assert!(
            kept == 0 || kept >= MIN_ROWS,
            "{}: {} rows recorded",
            column.name,
            kept
        );
        prop_assert!(
            kept == 0 || kept == rows || rows - kept >= MIN_ROWS,
            "{}: {} of {}",
            column.name,
            kept,
            rows
        );
    }
    let by_name: HashMap<&str, &Column> = schema
        .columns
        .iter()
        .map(|c| (c.name.as_str(), c))
        .collect();
    // Labels: rare ones only in `other`; the rest at their exact shares.
    let mut counts = [0u64; LABELS.len()];
    for label in table.labels.iter().flatten() {
        counts[*label] += 1;
    }
    let present: u64 = counts.iter().sum();
    for (label, &n) in LABELS.iter().zip(&counts) {
        if n > 0 && n < MIN_ROWS && *label != OTHER {
            prop_assert!(
                !yaml.contains(label),
                "{} ({} rows) is in\n{}",
                label,
                n,
                yaml
            );
        }
    }
    if present > 0 {
        let Values::Text { ratios, .. } = &by_name["label"].values else {
            return Err(TestCaseError::fail(format!("{:?}", by_name["label"])));
        };
        for (label, share) in ratios {
            let label = label.as_deref().unwrap();
            let i = LABELS.iter().position(|l| *l == label).unwrap();
            if label != OTHER {
                prop_assert!(counts[i] >= MIN_ROWS);
                prop_assert_eq!(*share, counts[i] as f64 / present as f64);
            }
        }
    }
    // Dates: month bounds from the values, or none from fewer than 8.
    let days: Vec<Day> = table
        .dates
        .iter()
        .flatten()
        .map(|d| Day::parse_iso(&format!("{}-01", table.date_text(*d))[..10]).unwrap())
        .collect();
    if !days.is_empty() {
        let Values::Date(spec) = &by_name["when"].values else {
            return Err(TestCaseError::fail(format!("{:?}", by_name["when"])));
        };
        let want_format = if table.months {
            DateFormat::Month
        } else {
            DateFormat::Day
        };
        prop_assert_eq!(spec.format, want_format);
        if (days.len() as u64) < MIN_ROWS {
            prop_assert_eq!(incidence(by_name["when"]), 0.0);
        } else {
            let (DateBound::Day(earliest), DateBound::Day(latest)) = (spec.earliest, spec.latest)
            else {
                return Err(TestCaseError::fail(format!("{spec:?}")));
            };
            prop_assert_eq!(earliest.ymd().2, 1);
            prop_assert_eq!(Day(latest.0 + 1).ymd().2, 1);
            let (low, high) = (days.iter().min().unwrap(), days.iter().max().unwrap());
            prop_assert_eq!(earliest, low.start_of_month());
            prop_assert_eq!(latest, high.end_of_month());
        }
    }
    // Numbers: moments of at least 8 values, or nothing.
    let numbers: Vec<f64> = table
        .numbers
        .iter()
        .flatten()
        .map(|n| f64::from(*n) / 100.0)
        .collect();
    if !numbers.is_empty() {
        let Values::Float { mean, stddev } = by_name["amount"].values else {
            return Err(TestCaseError::fail(format!("{:?}", by_name["amount"])));
        };
        if (numbers.len() as u64) < MIN_ROWS {
            prop_assert_eq!((mean, stddev), (0.0, 0.0));
        } else {
            let want = numbers.iter().sum::<f64>() / numbers.len() as f64;
            prop_assert!(
                (mean - want).abs() <= 0.005 * want.abs() + 1e-9,
                "mean {} of {}",
                mean,
                want
            );
        }
    }
    // Flags: the share of true rows, if at least 8.
    let trues = table.flags.iter().filter(|f| **f == Some(true)).count() as u64;
    if table.flags.iter().any(Option::is_some) {
        prop_assert_eq!(&by_name["flag"].values, &Values::Flag);
        if trues < MIN_ROWS {
            prop_assert_eq!(incidence(by_name["flag"]), 0.0);
        }
    }
    Ok(())
}

#[test]
fn inferred_schemas_copy_no_ids_rare_values_or_exact_dates() {
    let mut runner = common::property_runner("COHORTKIT_INFER_CASES", 64, 64);
    if let Err(error) = runner.run(&table(), |table| check_disclosure(&table)) {
        panic!("{error}");
    }
}
