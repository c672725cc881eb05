//! `-C DIR`: run a tool as if started in DIR. Every native tool takes it,
//! and resolves its paths with it once, at the start of its `run`; the
//! pipeline runs each action's tools so, in the action's directory, without
//! changing the process's current directory (which concurrent actions
//! share).

use std::path::{Path, PathBuf};

use clap::Args;

/// The directory relative paths and patterns are taken from.
#[derive(Debug, Clone, Default, Args)]
pub struct Directory {
    /// Run as if started in DIR: relative paths and patterns are found
    /// there.
    #[arg(short = 'C', long = "directory", value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

impl Directory {
    /// `path` as seen from DIR.
    pub fn path(&self, path: &Path) -> PathBuf {
        match &self.dir {
            Some(dir) if path.is_relative() => dir.join(path),
            _ => path.to_path_buf(),
        }
    }

    /// The glob `pattern` as seen from DIR (DIR's own glob characters
    /// escaped).
    pub fn pattern(&self, pattern: &str) -> String {
        match &self.dir {
            Some(dir) if Path::new(pattern).is_relative() => {
                let dir = glob::Pattern::escape(&dir.to_string_lossy());
                format!("{}/{pattern}", dir.trim_end_matches('/'))
            }
            _ => pattern.to_string(),
        }
    }

    /// `path` as the user named it: relative to DIR where it lies there.
    pub fn shown<'a>(&self, path: &'a Path) -> &'a Path {
        self.dir
            .as_deref()
            .and_then(|dir| path.strip_prefix(dir).ok())
            .unwrap_or(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_and_patterns_are_taken_from_the_directory() {
        let here = Directory::default();
        assert_eq!(here.path(Path::new("a/b")), Path::new("a/b"));
        assert_eq!(here.pattern("out/*.csv"), "out/*.csv");
        let there = Directory {
            dir: Some(PathBuf::from("/tmp/ws [1]")),
        };
        assert_eq!(there.path(Path::new("a/b")), Path::new("/tmp/ws [1]/a/b"));
        assert_eq!(there.path(Path::new("/abs")), Path::new("/abs"));
        assert_eq!(
            there.pattern("output/input_*.csv"),
            "/tmp/ws [[]1[]]/output/input_*.csv"
        );
        assert_eq!(there.pattern("/abs/*.csv"), "/abs/*.csv");
        let inside = there.path(Path::new("output/x.csv"));
        assert_eq!(there.shown(&inside), Path::new("output/x.csv"));
        assert_eq!(
            there.shown(Path::new("/elsewhere")),
            Path::new("/elsewhere")
        );
    }
}
