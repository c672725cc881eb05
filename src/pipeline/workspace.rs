//! Per-action directories, as upstream's per-job volumes: the project's
//! files minus `.git`, `metadata/` and anything matching an output pattern,
//! plus the recorded outputs of the actions it needs. Files are hard-linked
//! (copied where linking fails). After the action, the files matching its
//! patterns are moved back into the project and the directory is removed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::file_names;
use super::outputs;

/// The project's code and data files that every action sees: relative,
/// `/`-separated paths.
pub fn code_files(project_dir: &Path, patterns: &[&str]) -> anyhow::Result<Vec<String>> {
    let mut files = Vec::new();
    let mut dirs = vec![String::new()];
    while let Some(dir) = dirs.pop() {
        let full = project_dir.join(&dir);
        let entries =
            std::fs::read_dir(&full).with_context(|| format!("cannot list {}", full.display()))?;
        for entry in entries {
            let entry = entry.with_context(|| format!("cannot list {}", full.display()))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = if dir.is_empty() {
                name
            } else {
                format!("{dir}/{name}")
            };
            if path == ".git" || path == "metadata" {
                continue;
            }
            if patterns.iter().any(|p| outputs::matches(p, &path)) {
                continue;
            }
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Identity and version of a file, to tell new or rewritten files apart.
type Stamp = (u64, u64, Option<std::time::SystemTime>);

fn stamp(path: &Path) -> Option<Stamp> {
    let meta = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&meta);
    #[cfg(not(unix))]
    let inode = 0;
    Some((inode, meta.len(), meta.modified().ok()))
}

/// One action's directory.
#[derive(Debug)]
pub struct Workspace {
    dir: PathBuf,
    initial: HashMap<String, Stamp>,
}

impl Workspace {
    /// Creates a fresh directory directly under `root` for `action` (named
    /// after its [`file_names::file_name`]) holding `files` (relative to
    /// `project_dir`) under the same relative paths.
    pub fn create(
        root: &Path,
        action: &str,
        project_dir: &Path,
        files: &[String],
    ) -> anyhow::Result<Workspace> {
        std::fs::create_dir_all(root)
            .with_context(|| format!("cannot create {}", root.display()))?;
        let dir = tempfile::Builder::new()
            .prefix(&format!("{}-", file_names::file_name(action)))
            .tempdir_in(root)
            .with_context(|| format!("cannot create a directory in {}", root.display()))?
            .keep();
        let mut workspace = Workspace {
            dir,
            initial: HashMap::new(),
        };
        for file in files {
            let src = project_dir.join(file);
            let dest = workspace.dir.join(file);
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("cannot create {}", parent.display()))?;
            }
            if std::fs::hard_link(&src, &dest).is_err() {
                std::fs::copy(&src, &dest).with_context(|| {
                    format!("cannot copy {} into the action's directory", src.display())
                })?;
            }
        }
        for file in workspace.files()? {
            if let Some(s) = stamp(&workspace.dir.join(&file)) {
                workspace.initial.insert(file, s);
            }
        }
        Ok(workspace)
    }

    /// The directory (the action's `/workspace`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Every file in the directory: relative, `/`-separated, sorted.
    pub fn files(&self) -> anyhow::Result<Vec<String>> {
        code_files(&self.dir, &[])
    }

    /// Files the action created or rewrote.
    pub fn new_files(&self) -> anyhow::Result<Vec<String>> {
        Ok(self
            .files()?
            .into_iter()
            .filter(|f| self.initial.get(f) != stamp(&self.dir.join(f)).as_ref())
            .collect())
    }

    /// Moves `file` (relative) into `project_dir`, replacing what is there.
    pub fn move_out(&self, file: &str, project_dir: &Path) -> anyhow::Result<()> {
        let src = self.dir.join(file);
        let dest = project_dir.join(file);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        if std::fs::rename(&src, &dest).is_ok() {
            return Ok(());
        }
        // Another file system: copy to a temporary name, then rename.
        let mut reader =
            std::fs::File::open(&src).with_context(|| format!("cannot read {}", src.display()))?;
        crate::table::atomic::write_with(&dest, |f| std::io::copy(&mut reader, f).map(drop))
            .with_context(|| format!("cannot write {}", dest.display()))
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, file: &str, text: &str) {
        let path = root.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn code_files_leave_out_git_metadata_and_every_output() {
        let project = tempfile::tempdir().unwrap();
        let p = project.path();
        for f in [
            "project.yaml",
            "analysis/a.py",
            ".git/HEAD",
            "metadata/a.log",
            "output/input_1.csv.gz",
            "output/notes.txt",
            "output/joined/input_1.csv.gz",
        ] {
            write(p, f, "x");
        }
        let files = code_files(p, &["output/input*.csv.gz", "output/joined/*.csv.gz"]).unwrap();
        assert_eq!(files, ["analysis/a.py", "output/notes.txt", "project.yaml"]);
    }

    #[test]
    fn a_workspace_links_its_files_reports_new_ones_and_vanishes() {
        let project = tempfile::tempdir().unwrap();
        let p = project.path();
        write(p, "analysis/a.py", "print(1)");
        write(p, "output/in.csv", "a\n1\n");
        let root = p.join("metadata/.cohortkit/work");
        let files = vec!["analysis/a.py".to_string(), "output/in.csv".to_string()];
        let ws = Workspace::create(&root, "act", p, &files).unwrap();
        let dir = ws.dir().to_path_buf();
        assert_eq!(ws.files().unwrap(), files);
        assert!(ws.new_files().unwrap().is_empty());

        write(&dir, "output/out.csv", "b\n2\n");
        std::fs::remove_file(dir.join("output/in.csv")).unwrap();
        write(&dir, "output/in.csv", "rewritten\n");
        assert_eq!(ws.new_files().unwrap(), ["output/in.csv", "output/out.csv"]);
        // The project's copy of a rewritten input is untouched.
        assert_eq!(
            std::fs::read_to_string(p.join("output/in.csv")).unwrap(),
            "a\n1\n"
        );

        ws.move_out("output/out.csv", p).unwrap();
        assert_eq!(
            std::fs::read_to_string(p.join("output/out.csv")).unwrap(),
            "b\n2\n"
        );
        drop(ws);
        assert!(!dir.exists());
    }
}
