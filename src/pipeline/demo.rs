//! `cohortkit demo`: the FLUCATS study, bundled in the binary, written to a
//! directory and run with `run_all`.

use std::path::Path;

use anyhow::{Context, bail};

/// The bundled study: paths relative to the project and their contents.
pub const BUNDLE: &[(&str, &str)] = &[
    (
        "project.yaml",
        include_str!("../../testdata/flucats/project.yaml"),
    ),
    (
        "analysis/study_definition.schema.yaml",
        include_str!("../../testdata/flucats/analysis/study_definition.schema.yaml"),
    ),
    (
        "analysis/study_definition_end.schema.yaml",
        include_str!("../../testdata/flucats/analysis/study_definition_end.schema.yaml"),
    ),
    (
        "analysis/test_analysis.ipynb",
        include_str!("../../testdata/flucats/analysis/test_analysis.ipynb"),
    ),
];

/// Writes the bundled study into `dir` (files that already hold the same
/// bytes are left alone, so earlier runs stay reusable). A directory that
/// holds anything but an earlier demo is refused: the demo would overwrite
/// a study's project.yaml and schemas.
pub fn write_study(dir: &Path) -> anyhow::Result<()> {
    check_destination(dir)?;
    for (name, text) in BUNDLE {
        let path = dir.join(name);
        if std::fs::read(&path).is_ok_and(|bytes| bytes == text.as_bytes()) {
            continue;
        }
        super::state::write_atomically(&path, text.as_bytes())
            .with_context(|| format!("cannot write the demo study into {}", dir.display()))?;
    }
    Ok(())
}

/// Whether `dir` is new, empty or an earlier demo (its project.yaml the
/// bundled one).
fn check_destination(dir: &Path) -> anyhow::Result<()> {
    let Ok(mut entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    let (project, text) = BUNDLE[0];
    let earlier_demo = std::fs::read(dir.join(project)).is_ok_and(|b| b == text.as_bytes());
    if entries.next().is_some() && !earlier_demo {
        bail!(
            "{} is not empty and holds no earlier demo: the demo would overwrite what is there; choose a new or empty --output-dir",
            dir.display()
        );
    }
    Ok(())
}

/// Prints where the demo's results are.
pub fn print_results(dir: &Path) {
    let joined = dir.join("output/joined");
    let count = std::fs::read_dir(&joined)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().ends_with(".csv.gz"))
                .count()
        })
        .unwrap_or(0);
    println!("The FLUCATS demo study is in {}", dir.display());
    println!(
        "  joined extracts: {} ({count} files)",
        joined.join("input_20*.csv.gz").display()
    );
    println!(
        "  dataset report:  {}",
        joined.join("input_2022-03-20.html").display()
    );
    println!(
        "  logs:            {}",
        dir.join("metadata/*.log").display()
    );
    println!(
        "  manifest:        {}",
        dir.join("metadata/manifest.json").display()
    );
}
