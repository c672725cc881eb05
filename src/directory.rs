//! `-C DIR`: run a tool as if started in DIR, and only there. Every native
//! tool takes it, and resolves its paths with it once, at the start of its
//! `run`; the pipeline runs each action's tools so, in the action's
//! directory, without changing the process's current directory (which
//! concurrent actions share). As in a container whose only volume is DIR,
//! a path that leaves DIR (absolute, through `..`, or through a symbolic
//! link) is refused, for reading and writing alike.

use std::path::{Component, Path, PathBuf};

use anyhow::Context;
use clap::Args;

use crate::table::inputs::Input;

/// The directory relative paths and patterns are taken from.
#[derive(Debug, Clone, Default, Args)]
pub struct Directory {
    /// Run as if started in DIR: relative paths and patterns are found
    /// there, and no path may lead out of it.
    #[arg(short = 'C', long = "directory", value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

impl Directory {
    /// `path` as seen from DIR; an error where it leads out of DIR.
    pub fn path(&self, path: &Path) -> anyhow::Result<PathBuf> {
        match &self.dir {
            Some(dir) => confined(dir, path),
            None => Ok(path.to_path_buf()),
        }
    }

    /// Checks that every file a pattern matched lies in DIR (a pattern can
    /// reach out through `..` or a symbolic link).
    pub fn check_matches(&self, inputs: &[Input]) -> anyhow::Result<()> {
        if let Some(dir) = &self.dir {
            for input in inputs {
                confined(dir, &input.path)?;
            }
        }
        Ok(())
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

/// `path` (relative to `dir`, or absolute) if it lies inside `dir` once
/// `..` and every symbolic link on the way are followed; as `dir` joined
/// with what lies below it.
fn confined(dir: &Path, path: &Path) -> anyhow::Result<PathBuf> {
    let root = dir
        .canonicalize()
        .with_context(|| format!("-C {}: cannot resolve the directory", dir.display()))?;
    let outside = || {
        anyhow::anyhow!(
            "{} leads out of {}: under -C a tool reads and writes only inside its directory",
            path.display(),
            dir.display()
        )
    };
    let mut real = root.clone();
    for component in path.components() {
        match component {
            Component::Prefix(_) | Component::RootDir => real = PathBuf::from("/"),
            Component::CurDir => {}
            Component::ParentDir => {
                real.pop();
            }
            Component::Normal(name) => {
                real.push(name);
                let is_link = std::fs::symlink_metadata(&real).is_ok_and(|m| m.is_symlink());
                if is_link {
                    real = real.canonicalize().map_err(|_| outside())?;
                }
            }
        }
    }
    match real.strip_prefix(&root) {
        Ok(below) => Ok(dir.join(below)),
        Err(_) => Err(outside()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_and_patterns_are_taken_from_the_directory() {
        let here = Directory::default();
        assert_eq!(here.path(Path::new("a/b")).unwrap(), Path::new("a/b"));
        assert_eq!(here.pattern("out/*.csv"), "out/*.csv");
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("ws [1]");
        std::fs::create_dir_all(dir.join("output")).unwrap();
        let there = Directory {
            dir: Some(dir.clone()),
        };
        assert_eq!(there.path(Path::new("a/b")).unwrap(), dir.join("a/b"));
        let escaped = glob::Pattern::escape(&dir.to_string_lossy());
        assert_eq!(
            there.pattern("output/input_*.csv"),
            format!("{escaped}/output/input_*.csv")
        );
        assert_eq!(there.pattern("/abs/*.csv"), "/abs/*.csv");
        let inside = there.path(Path::new("output/x.csv")).unwrap();
        assert_eq!(there.shown(&inside), Path::new("output/x.csv"));
        assert_eq!(
            there.shown(Path::new("/elsewhere")),
            Path::new("/elsewhere")
        );
        // An absolute path inside is fine, and `..` that comes back in.
        let absolute = dir.join("output/x.csv");
        assert_eq!(there.path(&absolute).unwrap(), absolute);
        assert_eq!(
            there.path(Path::new("output/../output/x.csv")).unwrap(),
            dir.join("output/x.csv")
        );
    }

    #[test]
    fn no_path_leads_out_of_the_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("ws");
        std::fs::create_dir_all(dir.join("output")).unwrap();
        std::os::unix::fs::symlink(tmp.path(), dir.join("up")).unwrap();
        std::os::unix::fs::symlink(tmp.path().join("gone"), dir.join("dangling")).unwrap();
        let there = Directory {
            dir: Some(dir.clone()),
        };
        for path in [
            "../victim.csv",
            "output/../../victim.csv",
            "up/victim.csv",
            "up/ws/../victim.csv",
            "dangling/x.csv",
            "/etc/passwd",
        ] {
            let error = there.path(Path::new(path)).unwrap_err().to_string();
            assert!(error.contains("leads out of"), "{path}: {error}");
        }
        // Through a link that stays inside, it is the same place.
        std::os::unix::fs::symlink(dir.join("output"), dir.join("out")).unwrap();
        assert_eq!(
            there.path(Path::new("out/x.csv")).unwrap(),
            dir.join("output/x.csv")
        );
    }
}
