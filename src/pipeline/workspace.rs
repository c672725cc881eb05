//! Per-action directories, as upstream's per-job volumes: the project's
//! files minus `.git`, `metadata/` and anything matching an output pattern,
//! plus the recorded outputs of the actions it needs. After the action, the
//! files matching its patterns are moved back into the project and the
//! directory is removed.
//!
//! Whatever an action does to its files never reaches the project's (see
//! [`Inputs`]): a program gets copies, cloned where the file system can
//! (reflinks, on Btrfs or XFS, cost no space and no time); cohortkit's own tools, which never write to a file they did not
//! create, get hard links.
//!
//! Only regular files cross between the project and an action's directory.
//! A symbolic link among the project's files is followed only when it leads
//! to a regular file that is itself one of the action's files (that file is
//! linked in under the link's name); a link leading outside the project,
//! nowhere, to a directory or to a file the action does not get, and any
//! FIFO, socket or device, is left out, with a note for the action's log.
//! In the action's directory only regular files are listed as what it
//! wrote: nothing else is followed, opened or moved.

use std::collections::{HashMap, HashSet};
use std::fs::FileType;
use std::path::{Component, Path, PathBuf};

use anyhow::Context;

use super::file_names;
use super::outputs;

/// Every entry under `root` but directories (which are walked, never through
/// a symbolic link) and those `skip` names, with its type, unsorted:
/// relative, `/`-separated paths.
fn entries(root: &Path, skip: impl Fn(&str) -> bool) -> anyhow::Result<Vec<(String, FileType)>> {
    let mut found = Vec::new();
    let mut dirs = vec![String::new()];
    while let Some(dir) = dirs.pop() {
        let full = root.join(&dir);
        let listing =
            std::fs::read_dir(&full).with_context(|| format!("cannot list {}", full.display()))?;
        for entry in listing {
            let entry = entry.with_context(|| format!("cannot list {}", full.display()))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = if dir.is_empty() {
                name
            } else {
                format!("{dir}/{name}")
            };
            if skip(&path) {
                continue;
            }
            // The entry's own type: a symbolic link is not followed.
            let file_type = entry.file_type().with_context(|| {
                format!("cannot read {}", full.join(entry.file_name()).display())
            })?;
            if file_type.is_dir() {
                dirs.push(path);
            } else {
                found.push((path, file_type));
            }
        }
    }
    Ok(found)
}

/// The project's code and data files that every action sees: relative,
/// `/`-separated paths, sorted. Symbolic links are listed too (and resolved,
/// or left out, by [`Workspace::create`]); other entries that are no
/// regular file are not.
pub fn code_files(project_dir: &Path, patterns: &[&str]) -> anyhow::Result<Vec<String>> {
    let skip = |path: &str| {
        path == ".git" || path == "metadata" || patterns.iter().any(|p| outputs::matches(p, path))
    };
    let mut files: Vec<String> = entries(project_dir, skip)?
        .into_iter()
        .filter(|(_, t)| t.is_file() || t.is_symlink())
        .map(|(path, _)| path)
        .collect();
    files.sort();
    Ok(files)
}

/// Identity and version of a file, to tell new or rewritten files apart.
type Stamp = (u64, u64, Option<std::time::SystemTime>);

fn stamp(path: &Path) -> Option<Stamp> {
    let meta = std::fs::symlink_metadata(path).ok()?;
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&meta);
    #[cfg(not(unix))]
    let inode = 0;
    Some((inode, meta.len(), meta.modified().ok()))
}

/// How an action's directory gets the project's files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inputs {
    /// Hard links (copies where linking fails): for cohortkit's own tools,
    /// which write every output under a new name and rename it, so that
    /// large extracts cost nothing. Changing a linked file in place would
    /// change the project's.
    Linked,
    /// Copies, cloned where the file system can: for programs, which may
    /// truncate, append to or `chmod` what they get.
    Copied,
}

/// One action's directory.
#[derive(Debug)]
pub struct Workspace {
    dir: PathBuf,
    initial: HashMap<String, Stamp>,
    left_out: Vec<String>,
}

impl Workspace {
    /// Creates a fresh directory directly under `root` for `action` (named
    /// after its [`file_names::file_name`]) holding `files` (relative to
    /// `project_dir`) under the same relative paths, as `inputs` says. Only
    /// regular files are put in: a symbolic link is replaced by the file it
    /// leads to when that is a regular file of the project among `files`,
    /// and every entry left out is named in [`Workspace::left_out`].
    pub fn create(
        root: &Path,
        action: &str,
        project_dir: &Path,
        files: &[String],
        inputs: Inputs,
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
            left_out: Vec::new(),
        };
        let sources = Sources::new(project_dir, files)?;
        for file in files {
            let src = match sources.regular(file) {
                Ok(src) => src,
                Err(why) => {
                    workspace.left_out.push(format!(
                        "{file} is {why}: left out of the action's directory"
                    ));
                    continue;
                }
            };
            let dest = workspace.dir.join(file);
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("cannot create {}", parent.display()))?;
            }
            let linked = inputs == Inputs::Linked && std::fs::hard_link(&src, &dest).is_ok();
            if !linked {
                copy_regular(&src, &dest).with_context(|| {
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

    /// The notes, one line each, on the files [`Workspace::create`] left out
    /// of the directory and why, for the action's log.
    pub fn left_out(&self) -> &[String] {
        &self.left_out
    }

    /// The directory (the action's `/workspace`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Every regular file in the directory: relative, `/`-separated,
    /// sorted. Only these can be outputs.
    pub fn files(&self) -> anyhow::Result<Vec<String>> {
        let mut files: Vec<String> = entries(&self.dir, |_| false)?
            .into_iter()
            .filter(|(_, t)| t.is_file())
            .map(|(path, _)| path)
            .collect();
        files.sort();
        Ok(files)
    }

    /// Every entry in the directory that is neither a regular file nor a
    /// directory (symbolic links, FIFOs, sockets, devices), with its type,
    /// sorted: never an output.
    pub fn not_regular(&self) -> anyhow::Result<Vec<(String, FileType)>> {
        let mut found: Vec<(String, FileType)> = entries(&self.dir, |_| false)?
            .into_iter()
            .filter(|(_, t)| !t.is_file())
            .collect();
        found.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(found)
    }

    /// Files the action created or rewrote.
    pub fn new_files(&self) -> anyhow::Result<Vec<String>> {
        Ok(self
            .files()?
            .into_iter()
            .filter(|f| self.initial.get(f) != stamp(&self.dir.join(f)).as_ref())
            .collect())
    }

    /// Moves `file` (relative) into `project_dir`, replacing what is there;
    /// an error, moving nothing, unless it is a regular file.
    pub fn move_out(&self, file: &str, project_dir: &Path) -> anyhow::Result<()> {
        self.move_all_out(&[file], project_dir)
    }

    /// Moves every one of `files` into `project_dir`, or none: each is
    /// checked first (a regular file, not to be written through a link out
    /// of the project), then staged under a temporary name beside its
    /// destination (removed again if any fails), then renamed into place.
    pub fn move_all_out(&self, files: &[&str], project_dir: &Path) -> anyhow::Result<()> {
        let checked = files
            .iter()
            .map(|file| self.check_out(file, project_dir))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let mut staged = Vec::new();
        for (file, listed) in files.iter().zip(&checked) {
            match self.stage(file, listed, project_dir) {
                Ok(path) => staged.push(path),
                Err(error) => {
                    for path in &staged {
                        let _ = std::fs::remove_file(path);
                    }
                    return Err(error);
                }
            }
        }
        for (file, path) in files.iter().zip(staged) {
            let dest = project_dir.join(file);
            std::fs::rename(&path, &dest)
                .with_context(|| format!("cannot move {file} into the project"))?;
        }
        Ok(())
    }

    /// Checks that `file` may move into `project_dir`: its entry, listed
    /// without following links.
    fn check_out(&self, file: &str, project_dir: &Path) -> anyhow::Result<std::fs::Metadata> {
        let src = self.dir.join(file);
        let dest = project_dir.join(file);
        let listed =
            std::fs::symlink_metadata(&src).with_context(|| format!("cannot read {file}"))?;
        if !listed.is_file() {
            anyhow::bail!(
                "{file} is {}, not a regular file: not moved into the project",
                outputs::kind(listed.file_type())
            );
        }
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
            // Never written through a symbolic link out of the project.
            let real = |p: &Path| {
                std::fs::canonicalize(p).with_context(|| format!("cannot read {}", p.display()))
            };
            let (root, parent_dir) = (real(project_dir)?, real(parent)?);
            if inside(&root, &parent_dir).is_none() {
                anyhow::bail!(
                    "{} leads outside the project (a symbolic link): {file} is not moved there",
                    parent.display()
                );
            }
        }
        Ok(listed)
    }

    /// Puts `file` under a temporary name beside its destination in
    /// `project_dir` (named as [`crate::table::atomic`] names them, so a
    /// killed run's are cleaned up); returns that name.
    fn stage(
        &self,
        file: &str,
        listed: &std::fs::Metadata,
        project_dir: &Path,
    ) -> anyhow::Result<PathBuf> {
        let src = self.dir.join(file);
        let dest = project_dir.join(file);
        let parent = dest.parent().unwrap_or(project_dir);
        let name = dest.file_name().unwrap_or_default().to_string_lossy();
        let staged = tempfile::Builder::new()
            .prefix(&format!(".{name}.tmp-{}-", std::process::id()))
            .tempfile_in(parent)
            .with_context(|| format!("cannot write in {}", parent.display()))?
            .into_temp_path()
            .keep()
            .with_context(|| format!("cannot write in {}", parent.display()))?;
        if std::fs::rename(&src, &staged).is_ok() {
            // What was renamed must be what was checked.
            let moved = std::fs::symlink_metadata(&staged)
                .with_context(|| format!("cannot read {}", staged.display()))?;
            if moved.is_file() && outputs::same_file(listed, &moved) {
                return Ok(staged);
            }
            let _ = std::fs::remove_file(&staged);
            anyhow::bail!("{file} was replaced while being moved into the project");
        }
        // Another file system: copy.
        let copied = outputs::open_regular(&src)
            .with_context(|| format!("cannot read {}", src.display()))
            .and_then(|(mut reader, _)| {
                let mut out = std::fs::File::create(&staged)?;
                std::io::copy(&mut reader, &mut out)?;
                out.sync_all()?;
                Ok(())
            });
        if let Err(error) = copied {
            let _ = std::fs::remove_file(&staged);
            return Err(error.context(format!("cannot write {}", dest.display())));
        }
        Ok(staged)
    }
}

/// Where the files of an action's directory come from: the project, and
/// which of its files the action gets (what a symbolic link may lead to).
struct Sources<'a> {
    project_dir: &'a Path,
    /// `project_dir` with every symbolic link resolved.
    canonical: PathBuf,
    files: HashSet<&'a str>,
}

impl<'a> Sources<'a> {
    fn new(project_dir: &'a Path, files: &'a [String]) -> anyhow::Result<Sources<'a>> {
        let canonical = std::fs::canonicalize(project_dir)
            .with_context(|| format!("cannot read {}", project_dir.display()))?;
        Ok(Sources {
            project_dir,
            canonical,
            files: files.iter().map(String::as_str).collect(),
        })
    }

    /// The regular file to link in as `file`, with every symbolic link on
    /// the way resolved: itself, or what a symbolic link leads to if that is
    /// a regular file among the action's files; otherwise why not (what
    /// follows "FILE is ").
    fn regular(&self, file: &str) -> Result<PathBuf, String> {
        let src = self.project_dir.join(file);
        let listed = std::fs::symlink_metadata(&src).map_err(|e| format!("unreadable ({e})"))?;
        if !listed.is_file() && !listed.is_symlink() {
            return Err(format!(
                "{}, not a regular file",
                outputs::kind(listed.file_type())
            ));
        }
        let how = if listed.is_symlink() {
            "a symbolic link"
        } else {
            "reached through a symbolic link"
        };
        let Ok(target) = std::fs::canonicalize(&src) else {
            return Err(format!("{how} leading nowhere"));
        };
        let Some(relative) = inside(&self.canonical, &target) else {
            return Err(format!("{how} leading outside the project"));
        };
        let meta = std::fs::symlink_metadata(&target).map_err(|e| format!("unreadable ({e})"))?;
        if meta.is_dir() {
            let shown = if relative.is_empty() { "." } else { &relative };
            return Err(format!(
                "{how} to the directory {shown}, which is not followed"
            ));
        }
        if meta.is_file() && (relative == file || self.files.contains(relative.as_str())) {
            Ok(target)
        } else {
            Err(format!(
                "{how} to {relative}, which is not one of the action's files"
            ))
        }
    }
}

/// `path` (with no symbolic links) relative to the directory `root` (with
/// none either) as `/`-separated text, empty for `root` itself; `None`
/// unless it lies in `root` (or when a name is not UTF-8).
fn inside(root: &Path, path: &Path) -> Option<String> {
    let parts: Option<Vec<&str>> = path
        .strip_prefix(root)
        .ok()?
        .components()
        .map(|c| match c {
            Component::Normal(name) => name.to_str(),
            _ => None,
        })
        .collect();
    parts.map(|p| p.join("/"))
}

/// Copies the regular file `src` to `dest` with its permissions, refusing
/// anything else ([`outputs::open_regular`]): a clone sharing its blocks
/// until either is written where the file system has them, else the bytes.
fn copy_regular(src: &Path, dest: &Path) -> std::io::Result<()> {
    let (mut reader, meta) = outputs::open_regular(src)?;
    let mut writer = std::fs::File::create(dest)?;
    if !clone(&reader, &writer) {
        std::io::copy(&mut reader, &mut writer)?;
    }
    writer.set_permissions(meta.permissions())
}

/// Makes the empty file `to` a clone of `from` (a reflink, `FICLONE`);
/// whether the file system did.
#[cfg(target_os = "linux")]
fn clone(from: &std::fs::File, to: &std::fs::File) -> bool {
    use std::os::fd::AsRawFd;
    // SAFETY: ioctl(2) on two open descriptors, which outlive the call;
    // FICLONE takes the source descriptor as its argument.
    unsafe { libc::ioctl(to.as_raw_fd(), libc::FICLONE, from.as_raw_fd()) == 0 }
}

/// No clones here: every copy is of the bytes.
#[cfg(not(target_os = "linux"))]
fn clone(_from: &std::fs::File, _to: &std::fs::File) -> bool {
    false
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
        let ws = Workspace::create(&root, "act", p, &files, Inputs::Linked).unwrap();
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

    #[cfg(unix)]
    #[test]
    fn copied_inputs_are_the_actions_own_and_linked_ones_are_shared() {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let project = tempfile::tempdir().unwrap();
        let p = project.path();
        write(p, "output/in.csv", "a\n1\n");
        std::fs::set_permissions(p.join("output/in.csv"), PermissionsExt::from_mode(0o640))
            .unwrap();
        let files = vec!["output/in.csv".to_string()];
        let root = p.join("metadata/work");
        let inode = |path: &Path| std::fs::metadata(path).unwrap().ino();

        let linked = Workspace::create(&root, "a", p, &files, Inputs::Linked).unwrap();
        let link = linked.dir().join("output/in.csv");
        assert_eq!(inode(&link), inode(&p.join("output/in.csv")));

        let copied = Workspace::create(&root, "b", p, &files, Inputs::Copied).unwrap();
        let copy = copied.dir().join("output/in.csv");
        assert_ne!(inode(&copy), inode(&p.join("output/in.csv")));
        assert_eq!(std::fs::read_to_string(&copy).unwrap(), "a\n1\n");
        let mode = std::fs::metadata(&copy).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o640);
        std::fs::write(&copy, "changed").unwrap();
        std::fs::set_permissions(&copy, PermissionsExt::from_mode(0o777)).unwrap();
        assert_eq!(
            std::fs::read_to_string(p.join("output/in.csv")).unwrap(),
            "a\n1\n"
        );
        let mode = std::fs::metadata(p.join("output/in.csv"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o640);
    }

    #[cfg(unix)]
    #[test]
    fn only_regular_files_enter_or_leave_a_workspace() {
        use std::os::unix::fs::symlink;
        let root = tempfile::tempdir().unwrap();
        let outside = root.path().join("outside.csv");
        std::fs::write(&outside, "secret\n").unwrap();
        let p = &root.path().join("project");
        write(p, "analysis/a.py", "print(1)");
        write(p, "metadata/x.log", "log");
        symlink("a.py", p.join("analysis/alias.py")).unwrap();
        symlink(&outside, p.join("analysis/outside.csv")).unwrap();
        symlink("../metadata/x.log", p.join("analysis/log.txt")).unwrap();
        symlink("..", p.join("analysis/up")).unwrap();
        let files = code_files(p, &[]).unwrap();
        assert_eq!(
            files,
            [
                "analysis/a.py",
                "analysis/alias.py",
                "analysis/log.txt",
                "analysis/outside.csv",
                "analysis/up"
            ]
        );
        let ws =
            Workspace::create(&p.join("metadata/work"), "act", p, &files, Inputs::Linked).unwrap();
        assert_eq!(ws.files().unwrap(), ["analysis/a.py", "analysis/alias.py"]);
        assert_eq!(
            std::fs::read_to_string(ws.dir().join("analysis/alias.py")).unwrap(),
            "print(1)"
        );
        assert_eq!(
            ws.left_out(),
            [
                "analysis/log.txt is a symbolic link to metadata/x.log, which is not one of the action's files: left out of the action's directory",
                "analysis/outside.csv is a symbolic link leading outside the project: left out of the action's directory",
                "analysis/up is a symbolic link to the directory ., which is not followed: left out of the action's directory",
            ]
        );

        // What the action makes: only the regular file is listed and moved.
        write(ws.dir(), "output/real.csv", "a\n1\n");
        symlink(&outside, ws.dir().join("output/link.csv")).unwrap();
        assert_eq!(ws.new_files().unwrap(), ["output/real.csv"]);
        let not_regular: Vec<String> = ws.not_regular().unwrap().into_iter().map(|e| e.0).collect();
        assert_eq!(not_regular, ["output/link.csv"]);
        let error = ws.move_out("output/link.csv", p).unwrap_err();
        assert_eq!(
            error.to_string(),
            "output/link.csv is a symbolic link, not a regular file: not moved into the project"
        );
        assert!(std::fs::symlink_metadata(p.join("output/link.csv")).is_err());
        ws.move_out("output/real.csv", p).unwrap();

        // Nor is an output written through a link out of the project.
        write(ws.dir(), "elsewhere/x.csv", "x");
        symlink(root.path(), p.join("elsewhere")).unwrap();
        let error = ws.move_out("elsewhere/x.csv", p).unwrap_err();
        assert!(
            error.to_string().contains("leads outside the project"),
            "{error}"
        );
        assert!(!root.path().join("x.csv").exists());
        assert_eq!(std::fs::read_to_string(&outside).unwrap(), "secret\n");
    }
}
