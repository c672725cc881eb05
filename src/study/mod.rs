//! cohortextractor study definitions read as written, without
//! cohortextractor: `analysis/NAME.py` is evaluated by the system `python3`
//! with a recording stand-in for the cohortextractor API (`standin.py`,
//! shipped inside cohortkit: no pandas, no network). `patients.*` calls,
//! `StudyDefinition` and `Measure` record their arguments, so definitions
//! built with loops, f-strings and helper modules read as they run.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Deserialize;

/// The stand-in and its driver.
const STANDIN: &str = include_str!("standin.py");

/// What a study definition declares that its dump does not keep.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Definition {
    /// `index_date`, as written.
    pub index_date: Option<String>,
    /// `default_expectations`, as written.
    pub default_expectations: serde_json::Value,
    /// Every variable, nested ones included, in cohortextractor's order
    /// (a variable's nested variables before it), and whether it is
    /// hidden (nested variables are; they are not written).
    pub columns: Vec<(String, bool)>,
    /// The `measures` list.
    pub measures: Vec<Measure>,
}

/// One `Measure(...)` of a study definition.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Measure {
    /// Its id: the output is `measure_ID_DATE.csv`.
    pub id: String,
    /// The column summed above the line.
    pub numerator: String,
    /// The column summed below it, or `population` (every patient).
    pub denominator: String,
    /// The columns to group by; `[population]` is one group of everyone,
    /// none leaves the rows one per patient.
    pub group_by: Vec<String>,
    /// Whether small numbers are suppressed.
    pub small_number_suppression: bool,
}

/// Why a definition could not be read.
#[derive(Debug, thiserror::Error)]
pub enum StudyError {
    /// No python3 to evaluate it with.
    #[error(
        "reading {0} needs python3 on PATH (cohortkit evaluates the study definition with its own stand-in for cohortextractor); install python3"
    )]
    NoPython(PathBuf),
    /// The definition raised an error.
    #[error("{path}: {message}")]
    Failed {
        /// The definition.
        path: PathBuf,
        /// The error it raised.
        message: String,
    },
}

/// The study definitions in `analysis_dir`: the names of every
/// `study_definition*.py`, sorted, as cohortextractor lists them
/// (`study_definition` and `study_definition_SUFFIX`, SUFFIX of word
/// characters).
pub fn names(analysis_dir: &Path) -> std::io::Result<Vec<String>> {
    let mut names: Vec<String> = std::fs::read_dir(analysis_dir)?
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter_map(|file| file.strip_suffix(".py").map(str::to_owned))
        .filter(|name| suffix(name).is_some())
        .collect();
    names.sort();
    Ok(names)
}

/// The suffix of a study definition's files (`_end` for
/// `study_definition_end`, empty for `study_definition`); `None` for a
/// name that is no study definition's.
pub fn suffix(name: &str) -> Option<&str> {
    let rest = name.strip_prefix("study_definition")?;
    let word = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_');
    (rest.is_empty() || (rest.starts_with('_') && word(&rest[1..]))).then_some(rest)
}

/// Evaluates `project_dir/analysis/NAME.py` as cohortextractor imports
/// it (the project as working directory, `params` as its `params`).
pub fn read(project_dir: &Path, name: &str, params: &[String]) -> Result<Definition, StudyError> {
    let path = project_dir.join("analysis").join(format!("{name}.py"));
    let failed = |message: String| StudyError::Failed {
        path: path.clone(),
        message,
    };
    let child = Command::new("python3")
        .arg("-")
        .arg(project_dir)
        .arg(name)
        .args(params)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(StudyError::NoPython(path));
        }
        Err(e) => return Err(failed(format!("cannot run python3: {e}"))),
    };
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("piped");
        stdin
            .write_all(STANDIN.as_bytes())
            .map_err(|e| failed(format!("cannot run python3: {e}")))?;
    }
    let output = child
        .wait_with_output()
        .map_err(|e| failed(format!("cannot run python3: {e}")))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = stderr.lines().rfind(|l| !l.trim().is_empty()).unwrap_or("");
        return Err(failed(last.trim().to_owned()));
    }
    serde_json::from_slice(&output.stdout)
        .map_err(|e| failed(format!("the stand-in printed no definition ({e})")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn study_definition_names_follow_cohortextractors_pattern() {
        assert_eq!(suffix("study_definition"), Some(""));
        assert_eq!(suffix("study_definition_end"), Some("_end"));
        assert_eq!(suffix("study_definition_2_b"), Some("_2_b"));
        for not in [
            "study_definitions",
            "study_definition_",
            "study_definition-x",
            "other",
        ] {
            assert_eq!(suffix(not), None, "{not}");
        }
    }
}
