//! What an action wrote: its regular files matched against its declared
//! outputs (and the other entries a pattern matches, named as no output),
//! and their manifest records with the release checks of each.

use std::collections::BTreeMap;
use std::fs::FileType;
use std::path::Path;

use rayon::prelude::*;

use super::metadata::{self, OutputRecord};
use super::outputs::{Level, check, kind, matches};
use super::project::Output;

/// An action's files matched against its declared outputs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Matched {
    /// Every file matching a pattern, with the level of the last pattern
    /// matching it.
    pub found: BTreeMap<String, Level>,
    /// The patterns matching no file, in declaration order.
    pub unmatched_patterns: Vec<String>,
}

impl Matched {
    /// The files of `new_files` that are not outputs (the candidates named
    /// when a pattern matched nothing).
    pub fn unclaimed(&self, new_files: Vec<String>) -> Vec<String> {
        new_files
            .into_iter()
            .filter(|f| !self.found.contains_key(f))
            .collect()
    }
}

/// Matches `files` (relative, `/`-separated) against the declared outputs.
pub fn match_outputs(declared: &[Output], files: &[String]) -> Matched {
    let mut matched = Matched::default();
    for output in declared {
        let mut any = false;
        for file in files.iter().filter(|f| matches(&output.pattern, f)) {
            matched.found.insert(file.clone(), output.level);
            any = true;
        }
        if !any {
            matched.unmatched_patterns.push(output.pattern.clone());
        }
    }
    matched
}

/// The log lines naming each entry of `not_regular` (an action's entries
/// that are no regular file, with their types) that a declared pattern
/// matches: "output/link.csv is a symbolic link, not a regular file: not
/// an output". Only regular files are outputs, as upstream lists them with
/// `find -type f`; a pattern matching only such entries matched nothing.
pub fn not_outputs(declared: &[Output], not_regular: &[(String, FileType)]) -> Vec<String> {
    not_regular
        .iter()
        .filter(|(path, _)| declared.iter().any(|o| matches(&o.pattern, path)))
        .map(|(path, file_type)| {
            format!(
                "{path} is {}, not a regular file: not an output",
                kind(*file_type)
            )
        })
        .collect()
}

/// The manifest records of an action's outputs, now in `project_dir`
/// (hashed in parallel), each with its [`check`].
pub fn records(
    project_dir: &Path,
    action: &str,
    found: &BTreeMap<String, Level>,
) -> anyhow::Result<Vec<(String, OutputRecord)>> {
    found
        .par_iter()
        .map(|(file, level)| {
            let path = project_dir.join(file);
            let record = metadata::describe(&path, *level, action, &check(file, &path, *level))?;
            Ok((file.clone(), record))
        })
        .collect()
}

/// The recorded outputs that would not be released, with the reason.
pub fn excluded(records: &[(String, OutputRecord)]) -> Vec<(String, String)> {
    records
        .iter()
        .filter_map(|(f, r)| r.message.clone().map(|m| (f.clone(), m)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn output(level: Level, pattern: &str) -> Output {
        Output {
            level,
            label: "out".into(),
            pattern: pattern.into(),
            line: 1,
        }
    }

    #[test]
    fn outputs_are_the_files_matching_a_pattern() {
        let declared = [
            output(Level::HighlySensitive, "output/input_*.csv"),
            output(Level::ModeratelySensitive, "output/input_end.csv"),
            output(Level::MinimallySensitive, "output/missing.txt"),
        ];
        let files: Vec<String> = ["output/input_1.csv", "output/input_end.csv", "x.log"]
            .map(String::from)
            .into();
        let matched = match_outputs(&declared, &files);
        assert_eq!(
            matched.found,
            BTreeMap::from([
                ("output/input_1.csv".into(), Level::HighlySensitive),
                ("output/input_end.csv".into(), Level::ModeratelySensitive),
            ])
        );
        assert_eq!(matched.unmatched_patterns, ["output/missing.txt"]);
        assert_eq!(matched.unclaimed(files), ["x.log"]);
    }

    #[cfg(unix)]
    #[test]
    fn entries_that_are_no_regular_file_are_named_when_a_pattern_matches() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink("/nowhere", &link).unwrap();
        let link_type = std::fs::symlink_metadata(&link).unwrap().file_type();
        let declared = [output(Level::ModeratelySensitive, "output/*.csv")];
        let entries = [
            ("output/link.csv".to_string(), link_type),
            ("output/other.txt".to_string(), link_type),
        ];
        assert_eq!(
            not_outputs(&declared, &entries),
            ["output/link.csv is a symbolic link, not a regular file: not an output"]
        );
    }
}
