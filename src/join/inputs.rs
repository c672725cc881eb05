//! The files a join reads and writes, checked before any work starts.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::table::inputs::{Input, expand, input_format};

/// Every lhs file (sorted), the rhs file and the output directory.
#[derive(Debug)]
pub struct Inputs {
    /// The files to join, in sorted order.
    pub lhs: Vec<Input>,
    /// The per-patient file.
    pub rhs: Input,
}

/// Refuses an rhs that is a glob pattern, as upstream does.
pub fn check_rhs(rhs: &str) -> anyhow::Result<()> {
    if rhs.contains(['*', '?', '[', ']']) {
        bail!("Argument should be a path and not a glob pattern: --rhs {rhs}");
    }
    Ok(())
}

/// Expands the lhs pattern and checks every rule of the join's inputs
/// (the rhs already through [`check_rhs`]).
pub fn resolve(lhs_pattern: &str, rhs: &str, output_dir: &Path) -> anyhow::Result<Inputs> {
    let rhs_path = PathBuf::from(rhs);
    if !rhs_path.is_file() {
        bail!("--rhs {rhs}: no such file");
    }
    let rhs = Input {
        format: input_format(&rhs_path)?,
        path: rhs_path,
    };

    let lhs = expand("--lhs", lhs_pattern)?;
    let rhs_real = canonical(&rhs.path)?;
    let mut names: HashMap<std::ffi::OsString, &Path> = HashMap::new();
    for input in &lhs {
        if canonical(&input.path)? == rhs_real {
            bail!(
                "--lhs {lhs_pattern} also matches the --rhs file {}; narrow the pattern so the per-patient file is not joined to itself",
                rhs.path.display()
            );
        }
        let name = input
            .path
            .file_name()
            .expect("a matched file has a name")
            .to_os_string();
        if let Some(other) = names.insert(name, &input.path) {
            bail!(
                "--lhs {lhs_pattern} matches two files named {:?} ({} and {}); their joined files would overwrite each other",
                input.path.file_name().unwrap_or_default(),
                other.display(),
                input.path.display()
            );
        }
    }
    if output_dir.is_dir() {
        let out = canonical(output_dir)?;
        for input in lhs.iter().chain(std::iter::once(&rhs)) {
            let parent = canonical(
                input
                    .path
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .unwrap_or(Path::new(".")),
            )?;
            if parent == out {
                bail!(
                    "The output directory cannot contain the input dataframes: {} holds {}",
                    output_dir.display(),
                    input.path.display()
                );
            }
        }
    }
    Ok(Inputs { lhs, rhs })
}

fn canonical(path: &Path) -> anyhow::Result<PathBuf> {
    path.canonicalize()
        .with_context(|| format!("{}: cannot resolve path", path.display()))
}
