//! The files a join reads and writes, checked before any work starts.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::table::{Format, upstream_extension};

/// One file to read, with its format.
#[derive(Debug, Clone)]
pub struct Input {
    /// The path as matched.
    pub path: PathBuf,
    /// Its format, from its name.
    pub format: Format,
}

/// Every lhs file (sorted), the rhs file and the output directory.
#[derive(Debug)]
pub struct Inputs {
    /// The files to join, in sorted order.
    pub lhs: Vec<Input>,
    /// The per-patient file.
    pub rhs: Input,
}

/// The format of an input file, or upstream's "Cannot read" error.
pub fn input_format(path: &Path) -> anyhow::Result<Format> {
    Format::from_path(path).with_context(|| {
        format!(
            "Cannot read '{}' files: {} (cohortkit reads {})",
            upstream_extension(path),
            path.display(),
            Format::ALL.map(Format::extension).join(", ")
        )
    })
}

/// Expands the lhs pattern and checks every rule of the join's inputs.
pub fn resolve(lhs_pattern: &str, rhs: &str, output_dir: &Path) -> anyhow::Result<Inputs> {
    if rhs.contains(['*', '?', '[', ']']) {
        bail!("Argument should be a path and not a glob pattern: --rhs {rhs}");
    }
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

/// The files matching a glob pattern, sorted, without dot-files or
/// directories, each with its format. `flag` names the option in errors.
pub fn expand(flag: &str, pattern: &str) -> anyhow::Result<Vec<Input>> {
    let options = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: true,
    };
    let mut paths: Vec<PathBuf> = glob::glob_with(pattern, options)
        .with_context(|| format!("{flag} {pattern} is not a valid glob pattern"))?
        .filter_map(Result::ok)
        .filter(|p| p.is_file())
        .collect();
    paths.sort();
    if paths.is_empty() {
        bail!("no files match {flag} {pattern}");
    }
    paths
        .into_iter()
        .map(|path| {
            Ok(Input {
                format: input_format(&path)?,
                path,
            })
        })
        .collect()
}

fn canonical(path: &Path) -> anyhow::Result<PathBuf> {
    path.canonicalize()
        .with_context(|| format!("{}: cannot resolve path", path.display()))
}
