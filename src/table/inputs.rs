//! The files a command reads: a glob pattern expanded in sorted order,
//! each file with its format from its name.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use super::{Format, upstream_extension};

/// One file to read, with its format.
#[derive(Debug, Clone)]
pub struct Input {
    /// The path as matched.
    pub path: PathBuf,
    /// Its format, from its name.
    pub format: Format,
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
