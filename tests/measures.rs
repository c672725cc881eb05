//! cohortextractor-era studies without cohortextractor: the bundled
//! measures example (testdata/measures: monthly extracts, measures built
//! in a loop, a python action reading a measure file) runs end to end
//! natively, its study definition reads as written, and the native
//! measures equal cohortextractor 1.93.3's (pandas 1.5.3) cell by cell.

mod common;

use std::path::{Path, PathBuf};

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/measures")
}

/// A copy of the example project (without its dump) in a temporary directory.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for file in [
        "project.yaml",
        "codelists/asthma.csv",
        "analysis/study_definition.py",
        "analysis/study_definition.schema.yaml",
        "analysis/summarise.py",
    ] {
        let dest = dir.path().join(file);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(example().join(file), dest).unwrap();
    }
    dir
}

/// Draws the example's extracts into `dir` with `cohortkit generate`.
fn generate(dir: &Path, population: &str, months: &str) {
    let generated = common::cohortkit()
        .args([
            "generate",
            "--population",
            population,
            "--index-date-range",
            months,
            "-C",
        ])
        .arg(dir)
        .output()
        .unwrap();
    common::assert_success(&generated);
}

/// Two copies of the example project holding the same extracts.
fn twin_projects(population: &str, months: &str) -> (tempfile::TempDir, tempfile::TempDir) {
    let (first, second) = (project(), project());
    generate(first.path(), population, months);
    let out = second.path().join("output");
    std::fs::create_dir_all(&out).unwrap();
    for entry in std::fs::read_dir(first.path().join("output")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), out.join(entry.file_name())).unwrap();
    }
    (first, second)
}

/// PATH without any directory that holds a cohortextractor.
fn path_without_cohortextractor() -> std::ffi::OsString {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let kept: Vec<PathBuf> = std::env::split_paths(&path)
        .filter(|dir| !dir.join("cohortextractor").exists())
        .collect();
    std::env::join_paths(kept).unwrap()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The `measure_*.csv` files of a directory, sorted.
fn measure_files(dir: &Path) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("measure_") && n.ends_with(".csv"))
        .collect();
    files.sort();
    files
}

#[test]
fn the_example_runs_end_to_end_without_cohortextractor() {
    let Some(()) = common::python3() else { return };
    let dir = project();
    let output = common::cohortkit()
        .args(["run", "run_all", "--project-dir"])
        .arg(dir.path())
        .env("PATH", path_without_cohortextractor())
        .output()
        .unwrap();
    common::assert_success(&output);
    // The summary says how each action ran.
    let stdout = String::from_utf8_lossy(&output.stdout);
    for (action, how) in [
        ("generate_study_population", "native"),
        ("generate_measures", "native"),
        ("summarise", "local python"),
    ] {
        let row = stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(action))
            .unwrap_or_else(|| panic!("no row for {action}: {stdout}"));
        assert!(row.contains("succeeded") && row.contains(how), "{row}");
    }
    let out = dir.path().join("output");
    let files = measure_files(&out);
    // 7 measures (4 of them built in a loop), 12 months and the combined file each.
    assert_eq!(files.len(), 7 * 13, "{files:?}");
    let combined = read(&out.join("measure_asthma_by_sex.csv"));
    assert!(
        combined.starts_with("sex,asthma,population,value,date\r\n"),
        "{combined}"
    );
    // The python action read what the measures wrote.
    let summary = read(&out.join("summary.csv"));
    let rows: Vec<&str> = summary.lines().skip(1).collect();
    assert_eq!(rows.len(), 12 * 2);
    let first = combined.lines().nth(1).unwrap();
    let cells: Vec<&str> = first.split(',').collect();
    assert_eq!(rows[0], format!("{},{},{}", cells[4], cells[0], cells[3]));
    // The manifest records the measures as moderately sensitive outputs.
    let manifest = read(&dir.path().join("metadata/manifest.json"));
    assert!(manifest.contains("output/measure_asthma_by_sex.csv"));
}

#[test]
fn the_study_definition_reads_as_written() {
    let Some(()) = common::python3() else { return };
    let dir = project();
    // The dump sorts its variables; the imported schema follows the
    // definition, as cohortextractor's own extracts do (this header is the
    // one cohortextractor 1.93.3 writes for this study).
    let schema = read(&dir.path().join("analysis/study_definition.schema.yaml"));
    let names: Vec<&str> = schema
        .lines()
        .filter_map(|l| l.strip_prefix("- name: "))
        .collect();
    assert_eq!(
        names,
        [
            "age",
            "sex",
            "age_band",
            "region",
            "practice",
            "asthma",
            "consultations",
            "patient_id"
        ]
    );
    // A fresh import gives the committed schema: defaults and index date
    // come from the definition, not from options.
    let imported = common::cohortkit()
        .args(["schema", "import", "--dumped-on", "2026-12-02"])
        .arg(example().join("analysis/study_definition.yaml"))
        .output()
        .unwrap();
    common::assert_success(&imported);
    assert_eq!(String::from_utf8(imported.stdout).unwrap(), schema);
    assert!(schema.contains("index_date: 2020-01-01"));
    assert!(schema.contains("earliest: 2019-01-01"));
}

/// cohortextractor 1.93.3 (with pandas 1.5.3): `COHORTKIT_COHORTEXTRACTOR`,
/// or `cohortextractor` on PATH; `None` with a note, unless
/// `COHORTKIT_REQUIRE_COHORTEXTRACTOR` is set.
fn real_cohortextractor() -> Option<PathBuf> {
    let found = std::env::var_os("COHORTKIT_COHORTEXTRACTOR")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
                .map(|d| d.join("cohortextractor"))
                .find(|p| p.exists())
        });
    if found.is_none() {
        assert!(
            std::env::var_os("COHORTKIT_REQUIRE_COHORTEXTRACTOR").is_none(),
            "COHORTKIT_REQUIRE_COHORTEXTRACTOR is set but no cohortextractor was found (set COHORTKIT_COHORTEXTRACTOR)"
        );
        eprintln!("note: cohortextractor not found; skipping the cross-check of measures");
    }
    found
}

/// Whether two cells say the same: numbers as numbers, else as text.
fn same_cell(a: &str, b: &str) -> bool {
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x == y || (x.is_nan() && y.is_nan()),
        _ => a == b,
    }
}

#[test]
fn native_measures_equal_cohortextractors_cell_by_cell() {
    let Some(cohortextractor) = real_cohortextractor() else {
        return;
    };
    let Some(()) = common::python3() else { return };
    // A tiny population (most numbers small: suppression everywhere) and
    // the example's.
    for population in ["23", "10000"] {
        let (ours, theirs) = twin_projects(population, "2020-01-01 to 2020-06-01 by month");
        let out = theirs.path().join("output");
        let native = common::cohortkit()
            .args(["measures", "--study-definition", "study_definition", "-C"])
            .arg(ours.path())
            .output()
            .unwrap();
        common::assert_success(&native);
        let real = std::process::Command::new(&cohortextractor)
            .args([
                "generate_measures",
                "--study-definition",
                "study_definition",
            ])
            .current_dir(theirs.path())
            .output()
            .unwrap();
        common::assert_success(&real);
        let files = measure_files(&out);
        assert_eq!(measure_files(&ours.path().join("output")), files);
        assert_eq!(files.len(), 7 * 7);
        for file in &files {
            let (a, b) = (
                read(&ours.path().join("output").join(file)),
                read(&out.join(file)),
            );
            let (rows_a, rows_b): (Vec<&str>, Vec<&str>) =
                (a.lines().collect(), b.lines().collect());
            assert_eq!(rows_a.len(), rows_b.len(), "{file}");
            for (line, (x, y)) in rows_a.iter().zip(&rows_b).enumerate() {
                let (cells_x, cells_y): (Vec<&str>, Vec<&str>) =
                    (x.split(',').collect(), y.split(',').collect());
                assert_eq!(cells_x.len(), cells_y.len(), "{file} line {}", line + 1);
                for (cx, cy) in cells_x.iter().zip(&cells_y) {
                    assert!(
                        same_cell(cx, cy),
                        "population {population}, {file} line {}: {x} vs {y}",
                        line + 1
                    );
                }
            }
            // Line endings too: `\n` per date, `\r\n` combined.
            assert_eq!(a.contains('\r'), b.contains('\r'), "{file}");
        }
    }
}

/// Values of the text columns: empty, commas, quotes, numbers as text
/// (sorted as text: "10" before "2"), non-ASCII, a leading space.
const TEXTS: [&str; 9] = ["a", "b", "", "x,y", "say \"hi\"", "é", "10", "2", " sp"];

/// Numbers of the `n2` column, small and large (suppression's cases),
/// and a negative zero (one group with zero where `n2` is a key).
const NUMBERS: [&str; 10] = ["0", "1", "2", "3", "5", "6", "7", "12", "2.5", "-0.0"];

/// The `group_by`s a random measure takes (`n2` only where it is neither
/// numerator nor denominator).
const GROUPS: [&[&str]; 7] = [
    &[],
    &["population"],
    &["g1"],
    &["g2", "g3"],
    &["g1", "g2"],
    &["g3"],
    &["n2"],
];

/// One row of a random extract: n1, then n2, g1, g2 and g3 as indices
/// into their pools.
type Row = (bool, usize, usize, usize, usize);

/// One random study: extracts of rows and measures (numerator,
/// denominator, group, suppression).
#[derive(Debug, Clone)]
struct Study {
    files: Vec<Vec<Row>>,
    measures: Vec<(usize, usize, usize, bool)>,
}

fn study() -> impl proptest::strategy::Strategy<Value = Study> {
    use proptest::prelude::*;
    let row = (
        any::<bool>(),
        0..NUMBERS.len(),
        0..TEXTS.len(),
        0..2usize,
        0..4usize,
    );
    let measure = (0..2usize, 0..3usize, 0..GROUPS.len(), any::<bool>());
    (
        proptest::collection::vec(proptest::collection::vec(row, 0..40), 1..3),
        proptest::collection::vec(measure, 1..5),
    )
        .prop_map(|(files, measures)| Study { files, measures })
}

impl Study {
    /// Writes the project: the study definition and its dated extracts.
    fn write(&self, dir: &Path) {
        let numerators = ["n1", "n2"];
        let denominators = ["population", "n1", "n2"];
        let mut py = String::from(
            "from cohortextractor import Measure, StudyDefinition, patients\n\nstudy = StudyDefinition(population=patients.all())\n\nmeasures = [\n",
        );
        for (i, &(n, d, g, suppress)) in self.measures.iter().enumerate() {
            let (numerator, denominator) = (numerators[n], denominators[d]);
            let mut group = GROUPS[g];
            if group.contains(&numerator) || group.contains(&denominator) {
                group = &["g1"];
            }
            let suppress = if suppress { "True" } else { "False" };
            py += &format!(
                "    Measure(id=\"m{i}\", numerator=\"{numerator}\", denominator=\"{denominator}\", group_by={group:?}, small_number_suppression={suppress}),\n"
            );
        }
        py += "]\n";
        std::fs::create_dir_all(dir.join("analysis")).unwrap();
        std::fs::create_dir_all(dir.join("codelists")).unwrap();
        std::fs::create_dir_all(dir.join("output")).unwrap();
        std::fs::write(dir.join("analysis/study_definition.py"), py).unwrap();
        for (month, rows) in self.files.iter().enumerate() {
            let path = dir.join(format!("output/input_2021-{:02}-01.csv", month + 1));
            let mut out = csv::WriterBuilder::new()
                .terminator(csv::Terminator::Any(b'\n'))
                .from_path(path)
                .unwrap();
            out.write_record(["patient_id", "n1", "n2", "g1", "g2", "g3"])
                .unwrap();
            for (id, &(n1, n2, g1, g2, g3)) in rows.iter().enumerate() {
                let id = id.to_string();
                let g3 = (g3 + 1).to_string();
                out.write_record([
                    id.as_str(),
                    if n1 { "1" } else { "0" },
                    NUMBERS[n2],
                    TEXTS[g1],
                    ["M", "F"][g2],
                    g3.as_str(),
                ])
                .unwrap();
            }
            out.flush().unwrap();
        }
    }
}

/// Every measure file of two output directories, compared cell by cell
/// (numbers as numbers), with their line endings.
fn assert_same_measures(ours: &Path, theirs: &Path) -> Result<(), String> {
    let files = measure_files(theirs);
    if measure_files(ours) != files {
        return Err(format!("files: {:?} vs {files:?}", measure_files(ours)));
    }
    for file in &files {
        let (a, b) = (read(&ours.join(file)), read(&theirs.join(file)));
        let parse = |text: &str| -> Vec<Vec<String>> {
            csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(text.as_bytes())
                .records()
                .map(|r| r.unwrap().iter().map(str::to_owned).collect())
                .collect()
        };
        let (rows_a, rows_b) = (parse(&a), parse(&b));
        if rows_a.len() != rows_b.len() {
            return Err(format!(
                "{file}: {} rows vs {}\n{a}\nvs\n{b}",
                rows_a.len(),
                rows_b.len()
            ));
        }
        for (line, (x, y)) in rows_a.iter().zip(&rows_b).enumerate() {
            let same = x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_cell(p, q));
            if !same {
                return Err(format!("{file} row {}: {x:?} vs {y:?}", line + 1));
            }
        }
        if a.contains('\r') != b.contains('\r') {
            return Err(format!("{file}: line endings differ"));
        }
    }
    Ok(())
}

#[test]
fn random_studies_give_cohortextractors_measures() {
    use proptest::test_runner::TestCaseError;
    let Some(cohortextractor) = real_cohortextractor() else {
        return;
    };
    let Some(()) = common::python3() else { return };
    let mut runner = common::property_runner("COHORTKIT_MEASURES_CASES", 8, 16);
    runner
        .run(&study(), |study| {
            let (ours, theirs) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
            study.write(ours.path());
            study.write(theirs.path());
            let native = common::cohortkit()
                .args(["measures", "--quiet", "-C"])
                .arg(ours.path())
                .output()
                .unwrap();
            let real = std::process::Command::new(&cohortextractor)
                .arg("generate_measures")
                .current_dir(theirs.path())
                .output()
                .unwrap();
            if native.status.success() != real.status.success() {
                return Err(TestCaseError::fail(format!(
                    "cohortkit {}: {}\ncohortextractor {}: {}",
                    native.status,
                    String::from_utf8_lossy(&native.stderr),
                    real.status,
                    String::from_utf8_lossy(&real.stderr)
                )));
            }
            assert_same_measures(&ours.path().join("output"), &theirs.path().join("output"))
                .map_err(TestCaseError::fail)
        })
        .unwrap();
}

#[test]
fn without_python3_the_schemas_measures_stand_in() {
    let Some(()) = common::python3() else { return };
    let (with, without) = twin_projects("500", "2020-01-01 to 2020-03-01 by month");
    let out = without.path().join("output");
    let no_python = tempfile::tempdir().unwrap();
    let measures = |dir: &Path, path: Option<&Path>| {
        let mut command = common::cohortkit();
        command.args(["measures", "--quiet", "-C"]).arg(dir);
        if let Some(path) = path {
            command.env("PATH", path);
        }
        command.output().unwrap()
    };
    common::assert_success(&measures(with.path(), None));
    common::assert_success(&measures(without.path(), Some(no_python.path())));
    let files = measure_files(&out);
    assert_eq!(files, measure_files(&with.path().join("output")));
    assert_eq!(files.len(), 7 * 4);
    for file in &files {
        assert_eq!(
            read(&out.join(file)),
            read(&with.path().join("output").join(file)),
            "{file}"
        );
    }
    // A schema without measures leaves nothing to stand in: the error says
    // what is missing.
    let schema = without.path().join("analysis/study_definition.schema.yaml");
    let text = read(&schema);
    std::fs::write(&schema, &text[..text.find("measures:").unwrap()]).unwrap();
    let failed = measures(without.path(), Some(no_python.path()));
    assert!(!failed.status.success());
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(stderr.contains("needs python3 on PATH"), "{stderr}");
}

#[test]
fn params_reach_the_definition_and_skip_existing_keeps_files() {
    let Some(()) = common::python3() else { return };
    let dir = project();
    let py = "from cohortextractor import Measure, StudyDefinition, params, patients

study = StudyDefinition(population=patients.all())
measures = [
    Measure(id=f\"asthma_by_{group}\", numerator=\"asthma\", denominator=\"population\", group_by=group)
    for group in params[\"groups\"].split(\"+\")
]
";
    std::fs::write(dir.path().join("analysis/study_definition.py"), py).unwrap();
    generate(dir.path(), "50", "2020-01-01 to 2020-02-01 by month");
    let measures = |extra: &[&str]| {
        common::cohortkit()
            .args(["measures", "--quiet", "-C"])
            .arg(dir.path())
            .args(extra)
            .output()
            .unwrap()
    };
    // A parameter the definition needs and did not get is named.
    let missing = measures(&[]);
    assert!(!missing.status.success());
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(stderr.contains("parameter 'groups' is not set"), "{stderr}");

    common::assert_success(&measures(&["--param", "groups=sex+region"]));
    let out = dir.path().join("output");
    assert_eq!(
        measure_files(&out),
        [
            "measure_asthma_by_region.csv",
            "measure_asthma_by_region_2020-01-01.csv",
            "measure_asthma_by_region_2020-02-01.csv",
            "measure_asthma_by_sex.csv",
            "measure_asthma_by_sex_2020-01-01.csv",
            "measure_asthma_by_sex_2020-02-01.csv",
        ]
    );
    // --skip-existing leaves a dated file alone, and the combined file is
    // made from it as it is.
    let dated = out.join("measure_asthma_by_sex_2020-01-01.csv");
    std::fs::write(&dated, "sex,asthma,population,value\nX,1.0,1,1.0\n").unwrap();
    common::assert_success(&measures(&["--param", "groups=sex", "--skip-existing"]));
    assert_eq!(read(&dated), "sex,asthma,population,value\nX,1.0,1,1.0\n");
    let combined = read(&out.join("measure_asthma_by_sex.csv"));
    assert!(
        combined.starts_with("sex,asthma,population,value,date\r\nX,1.0,1,1.0,2020-01-01\r\n"),
        "{combined}"
    );
}
