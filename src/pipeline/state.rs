//! The last run of every action, kept in `metadata/.cohortkit/state.json`
//! (written atomically) so that later runs can reuse what succeeded.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use super::outputs::Level;

/// Where cohortkit keeps its own files inside a project's `metadata/`.
pub const PRIVATE_DIR: &str = "metadata/.cohortkit";

/// What is recorded of an action's last run: how it ended, or that it is
/// still running.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    /// Started and not finished: the run was killed if cohortkit is not running.
    Running,
    /// Finished with every declared output present.
    Succeeded,
    /// Finished with an error.
    Failed,
    /// Interrupted: the run was, or it was found `Running` at the start of
    /// a later run.
    Cancelled,
}

/// One action's last run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LastRun {
    /// How it ended.
    pub status: RunState,
    /// When it started (RFC 3339).
    pub started_at: String,
    /// When it finished (RFC 3339).
    pub completed_at: Option<String>,
    /// The files it recorded (relative to the project) and their levels.
    pub outputs: BTreeMap<String, Level>,
}

/// The last run of every action of one project.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// Last runs by action name.
    pub actions: BTreeMap<String, LastRun>,
}

impl State {
    /// The state file of the project in `project_dir`.
    pub fn path(project_dir: &Path) -> PathBuf {
        project_dir.join(PRIVATE_DIR).join("state.json")
    }

    /// Reads the project's state; a project never run has an empty one.
    pub fn load(project_dir: &Path) -> anyhow::Result<State> {
        let path = State::path(project_dir);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(State::default()),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is corrupt; delete it to forget earlier runs (every action will run again)",
                path.display()
            )
        })
    }

    /// Writes the state atomically.
    pub fn save(&self, project_dir: &Path) -> anyhow::Result<()> {
        let path = State::path(project_dir);
        let text = serde_json::to_vec_pretty(self).expect("state serialises");
        write_atomically(&path, &text)
    }

    /// Marks runs left `Running` by a killed cohortkit as cancelled; returns
    /// their names.
    pub fn cancel_interrupted(&mut self) -> Vec<String> {
        let mut cancelled = Vec::new();
        for (name, run) in &mut self.actions {
            if run.status == RunState::Running {
                run.status = RunState::Cancelled;
                cancelled.push(name.clone());
            }
        }
        cancelled
    }

    /// Whether `action` succeeded last time and every file it recorded is
    /// still in the project.
    pub fn reusable(&self, action: &str, project_dir: &Path) -> bool {
        self.actions.get(action).is_some_and(|run| {
            run.status == RunState::Succeeded
                && run.outputs.keys().all(|f| project_dir.join(f).is_file())
        })
    }
}

/// The project's run lock: an exclusive `flock` on
/// `metadata/.cohortkit/lock`, held for the run's life and let go by the
/// system however the run ends, so that two runs can never both hold it
/// and a killed run leaves no lock behind. The file holds the holder's
/// process id, for the message.
#[derive(Debug)]
pub struct RunLock {
    _file: std::fs::File,
}

impl RunLock {
    /// Takes the project's lock, or says which process holds it.
    pub fn acquire(project_dir: &Path) -> anyhow::Result<RunLock> {
        use std::io::{Seek, Write};
        use std::os::fd::AsRawFd;
        let path = project_dir.join(PRIVATE_DIR).join("lock");
        let dir = path.parent().expect("inside metadata/");
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the directory {}", dir.display()))?;
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        // SAFETY: flock(2) on a descriptor this function owns.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            let holder = std::fs::read_to_string(&path).unwrap_or_default();
            anyhow::bail!(
                "another cohortkit run (process {}) is running in this project; wait for it to finish",
                holder.trim()
            );
        }
        let written = file
            .set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| write!(file, "{}", std::process::id()));
        written.with_context(|| format!("cannot write {}", path.display()))?;
        Ok(RunLock { _file: file })
    }
}

/// Writes `bytes` to `path` through a temporary file, creating directories.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the directory {}", dir.display()))?;
    }
    crate::table::atomic::write_record(path, bytes)
        .with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(status: RunState, outputs: &[&str]) -> LastRun {
        LastRun {
            status,
            started_at: "2024-01-01T00:00:00Z".into(),
            completed_at: None,
            outputs: outputs
                .iter()
                .map(|o| (o.to_string(), Level::HighlySensitive))
                .collect(),
        }
    }

    #[test]
    fn state_round_trips_and_reuse_needs_success_and_every_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("output")).unwrap();
        std::fs::write(dir.path().join("output/a.csv"), "x\n").unwrap();
        let mut state = State::default();
        state
            .actions
            .insert("ok".into(), run(RunState::Succeeded, &["output/a.csv"]));
        state
            .actions
            .insert("gone".into(), run(RunState::Succeeded, &["output/b.csv"]));
        state
            .actions
            .insert("failed".into(), run(RunState::Failed, &["output/a.csv"]));
        state
            .actions
            .insert("killed".into(), run(RunState::Running, &[]));
        state.save(dir.path()).unwrap();

        let mut loaded = State::load(dir.path()).unwrap();
        assert_eq!(loaded, state);
        assert_eq!(loaded.cancel_interrupted(), ["killed"]);
        assert_eq!(loaded.actions["killed"].status, RunState::Cancelled);
        assert!(loaded.reusable("ok", dir.path()));
        assert!(!loaded.reusable("gone", dir.path()));
        assert!(!loaded.reusable("failed", dir.path()));
        assert!(!loaded.reusable("never", dir.path()));
    }

    #[test]
    fn one_run_at_a_time_and_stale_locks_are_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let lock = RunLock::acquire(dir.path()).unwrap();
        let error = RunLock::acquire(dir.path()).unwrap_err().to_string();
        assert!(
            error.contains(&format!(
                "another cohortkit run (process {})",
                std::process::id()
            )),
            "{error}"
        );
        drop(lock);
        // A lock file left by a killed run holds no lock.
        let path = dir.path().join(PRIVATE_DIR).join("lock");
        std::fs::write(&path, "4294967295").unwrap();
        let _taken = RunLock::acquire(dir.path()).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            std::process::id().to_string()
        );
    }

    /// Many runs started together over a stale lock: exactly one gets it.
    #[test]
    fn a_stale_lock_is_taken_by_one_run_only() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(PRIVATE_DIR)).unwrap();
        std::fs::write(dir.path().join(PRIVATE_DIR).join("lock"), "4294967295").unwrap();
        let barrier = std::sync::Barrier::new(16);
        let locks: Vec<Option<RunLock>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..16)
                .map(|_| {
                    scope.spawn(|| {
                        barrier.wait();
                        RunLock::acquire(dir.path()).ok()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(locks.iter().flatten().count(), 1);
    }

    #[test]
    fn a_corrupt_state_file_says_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let path = State::path(dir.path());
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, "{not json").unwrap();
        let error = format!("{:#}", State::load(dir.path()).unwrap_err());
        assert!(
            error.contains("state.json is corrupt; delete it"),
            "{error}"
        );
    }
}
