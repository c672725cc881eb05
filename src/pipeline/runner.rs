//! Runs planned actions: ready actions start concurrently (up to the
//! concurrency), each in its own directory; an action whose need failed is
//! not run; without `--continue-on-error` no action starts after a failure
//! and the running ones finish cleanly. Every action ends with its outputs
//! moved into the project, its log, the manifest and the state updated.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rayon::prelude::*;

use super::execute::{self, Executor, Job};
use super::metadata::{self, ActionLog, Manifest, Trailer};
use super::outputs::{self, Level, Level4Check};
use super::project::Action;
use super::state::{self, LastRun, State};
use super::validate::Valid;
use super::workspace::{self, Workspace};

/// How to run.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Actions running at once.
    pub concurrency: usize,
    /// Keep starting actions after a failure.
    pub continue_on_error: bool,
    /// Report actions nothing here can run as skipped instead of failed.
    pub skip_unavailable: bool,
    /// Prefix progress lines with the time.
    pub timestamps: bool,
}

/// How an action's part in the run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Ran, and wrote every declared output.
    Succeeded,
    /// Ran and failed, or could not start.
    Failed,
    /// Not run: an action it needs failed.
    DependencyFailed,
    /// Not run: nothing here can run it (or an action it needs), and
    /// `--skip-unavailable` was given.
    Skipped,
    /// Not started because an earlier action failed.
    NotStarted,
}

impl Status {
    /// The status in the summary table.
    pub fn label(self) -> &'static str {
        match self {
            Status::Succeeded => "succeeded",
            Status::Failed => "failed",
            Status::DependencyFailed => "dependency failed",
            Status::Skipped => "skipped",
            Status::NotStarted => "not started",
        }
    }
}

/// What happened to one planned action.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The action's name.
    pub action: String,
    /// How it ended.
    pub status: Status,
    /// The outcome in words (upstream's status message).
    pub message: String,
    /// Its outputs, sorted.
    pub outputs: Vec<(String, Level)>,
    /// `moderately_sensitive` outputs that would not be released, and why.
    pub excluded: Vec<(String, String)>,
    /// The last lines of its log, when it exited with an error.
    pub tail: Vec<String>,
    /// When it started, relative to the run.
    pub started: Option<Duration>,
    /// How long it ran.
    pub elapsed: Duration,
}

impl Outcome {
    fn not_run(action: &str, status: Status, message: String) -> Outcome {
        Outcome {
            action: action.to_owned(),
            status,
            message,
            outputs: Vec::new(),
            excluded: Vec::new(),
            tail: Vec::new(),
            started: None,
            elapsed: Duration::ZERO,
        }
    }
}

/// Everything the actions of one run share.
pub struct Runner<'a> {
    project_dir: PathBuf,
    valid: &'a Valid,
    options: Options,
    code: Vec<String>,
    state: Mutex<State>,
    manifest: Mutex<Manifest>,
    console: Mutex<()>,
    started: Instant,
}

impl<'a> Runner<'a> {
    /// Prepares a run in `project_dir` (absolute): lists the project's code
    /// files and loads the manifest; `state` has interrupted runs cancelled.
    pub fn new(
        project_dir: &Path,
        valid: &'a Valid,
        state: State,
        options: Options,
    ) -> anyhow::Result<Runner<'a>> {
        let patterns: Vec<&str> = valid
            .project
            .actions
            .iter()
            .flat_map(Action::patterns)
            .collect();
        // Directories left by a killed run.
        let _ = std::fs::remove_dir_all(work_root(project_dir));
        Ok(Runner {
            project_dir: project_dir.to_path_buf(),
            valid,
            options,
            code: workspace::code_files(project_dir, &patterns)?,
            state: Mutex::new(state),
            manifest: Mutex::new(Manifest::load(project_dir)?),
            console: Mutex::new(()),
            started: Instant::now(),
        })
    }

    /// Prints one progress line.
    pub fn say(&self, action: &str, message: &str) {
        let _guard = self.console.lock().expect("no panics while printing");
        let mut out = std::io::stdout().lock();
        if self.options.timestamps {
            let _ = write!(out, "{} ", chrono::Local::now().format("%Y-%m-%d %H:%M:%S"));
        }
        let _ = writeln!(out, "{action}: {message}");
    }

    /// Runs the planned actions (indices into the project's actions).
    pub fn run(&self, planned: &[usize]) -> Vec<Outcome> {
        let actions = &self.valid.project.actions;
        let index: HashMap<&str, usize> = actions
            .iter()
            .enumerate()
            .map(|(i, a)| (a.id.as_str(), i))
            .collect();
        let mut pending: Vec<usize> = planned.to_vec();
        let mut done: HashMap<usize, Status> = HashMap::new();
        let mut outcomes = Vec::new();
        let mut running = 0;
        let mut stop = false;
        let (sender, receiver) = mpsc::channel::<(usize, Outcome)>();

        std::thread::scope(|scope| {
            loop {
                let mut changed = true;
                while changed && !stop {
                    changed = false;
                    let mut i = 0;
                    while i < pending.len() {
                        let a = pending[i];
                        let needs: Vec<usize> = actions[a]
                            .needs
                            .iter()
                            .filter_map(|(n, _)| index.get(n.as_str()).copied())
                            .filter(|n| planned.contains(n))
                            .collect();
                        let blocked = needs.iter().find_map(|n| {
                            done.get(n)
                                .filter(|s| **s != Status::Succeeded)
                                .map(|s| (*n, *s))
                        });
                        let ready = needs
                            .iter()
                            .all(|n| done.get(n) == Some(&Status::Succeeded));
                        let outcome = if let Some((need, status)) = blocked {
                            let need = &actions[need].id;
                            Some(if status == Status::Skipped {
                                Outcome::not_run(
                                    &actions[a].id,
                                    Status::Skipped,
                                    format!("Skipped: it needs {need}, which was skipped"),
                                )
                            } else {
                                Outcome::not_run(
                                    &actions[a].id,
                                    Status::DependencyFailed,
                                    format!("Not started: it needs {need}, which failed"),
                                )
                            })
                        } else if ready && running < self.options.concurrency.max(1) {
                            match execute::choose(&actions[a]) {
                                Executor::Unavailable(reason) if self.options.skip_unavailable => {
                                    Some(Outcome::not_run(
                                        &actions[a].id,
                                        Status::Skipped,
                                        format!("Skipped: {reason}"),
                                    ))
                                }
                                executor => {
                                    let sender = sender.clone();
                                    scope.spawn(move || {
                                        // Always report back, or the loop would wait forever.
                                        let outcome =
                                            std::panic::catch_unwind(std::panic::AssertUnwindSafe(
                                                || self.run_one(&actions[a], &executor),
                                            ))
                                            .unwrap_or_else(|_| {
                                                Outcome::not_run(
                                                    &actions[a].id,
                                                    Status::Failed,
                                                    "cohortkit crashed while running this action"
                                                        .into(),
                                                )
                                            });
                                        let _ = sender.send((a, outcome));
                                    });
                                    running += 1;
                                    pending.remove(i);
                                    changed = true;
                                    continue;
                                }
                            }
                        } else {
                            None
                        };
                        match outcome {
                            Some(outcome) => {
                                if outcome.status == Status::Skipped {
                                    self.say(&outcome.action, &outcome.message);
                                }
                                done.insert(a, outcome.status);
                                outcomes.push(outcome);
                                pending.remove(i);
                                changed = true;
                            }
                            None => i += 1,
                        }
                    }
                }
                if running == 0 {
                    break;
                }
                let (a, outcome) = receiver.recv().expect("a running action reports back");
                running -= 1;
                if outcome.status == Status::Failed && !self.options.continue_on_error {
                    stop = true;
                }
                done.insert(a, outcome.status);
                outcomes.push(outcome);
            }
        });
        // Only empty directories are left; a failure to remove them is harmless.
        let _ = std::fs::remove_dir(work_root(&self.project_dir));
        for a in pending {
            outcomes.push(Outcome::not_run(
                &actions[a].id,
                Status::NotStarted,
                "Not started: an earlier action failed (use --continue-on-error to run what can run)".into(),
            ));
        }
        // In project order, whatever order they finished in.
        outcomes.sort_by_key(|o| index.get(o.action.as_str()).copied());
        outcomes
    }

    /// Runs one action from start to finish; never panics on I/O errors.
    fn run_one(&self, action: &Action, executor: &Executor) -> Outcome {
        let started = self.started.elapsed();
        let clock = Instant::now();
        self.say(&action.id, "Preparing");
        let mut outcome = match self.execute(action, executor) {
            Ok(outcome) => outcome,
            Err(error) => {
                self.finish_state(action, false, &[]);
                Outcome::not_run(&action.id, Status::Failed, format!("{error:#}"))
            }
        };
        outcome.started = Some(started);
        outcome.elapsed = clock.elapsed();
        let first_line = outcome
            .message
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        self.say(&action.id, first_line.trim());
        outcome
    }

    fn execute(&self, action: &Action, executor: &Executor) -> anyhow::Result<Outcome> {
        let created_at = metadata::now();
        self.start_state(action, &created_at)?;
        let files = self.files_for(action);
        let ws = Workspace::create(
            &work_root(&self.project_dir),
            &action.id,
            &self.project_dir,
            &files,
        )?;
        let log = ActionLog::create(&self.project_dir, &action.id)?;
        self.say(&action.id, "Executing");
        let job = Job {
            action,
            population: self.valid.population,
            dir: ws.dir(),
            log: &log,
        };
        let finished = execute::run(executor, &job);

        // Outputs: every file in the directory matching a pattern.
        let mut found: BTreeMap<String, Level> = BTreeMap::new();
        let mut unmatched_patterns = Vec::new();
        let all_files = ws.files()?;
        for output in &action.outputs {
            let mut any = false;
            for file in all_files
                .iter()
                .filter(|f| outputs::matches(&output.pattern, f))
            {
                found.insert(file.clone(), output.level);
                any = true;
            }
            if !any {
                unmatched_patterns.push(output.pattern.clone());
            }
        }
        found.extend(execute::report_companions(executor, &found, &all_files));
        let unmatched: Vec<String> = ws
            .new_files()?
            .into_iter()
            .filter(|f| !found.contains_key(f))
            .collect();
        for file in found.keys() {
            ws.move_out(file, &self.project_dir)?;
        }
        drop(ws);

        let succeeded = finished.exit_code == 0 && unmatched_patterns.is_empty();
        let (message, hint) = if finished.exit_code != 0 {
            let message = match executor {
                Executor::Unavailable(reason) => reason.clone(),
                _ => "Job exited with an error".into(),
            };
            (message, None)
        } else if !unmatched_patterns.is_empty() {
            let message = format!(
                "No outputs found matching patterns:\n - {}",
                unmatched_patterns.join("\n - ")
            );
            let hint = (!unmatched.is_empty()).then(|| {
                format!(
                    "Did you mean to match one of these files instead?\n - {}",
                    unmatched.join("\n - ")
                )
            });
            (message, hint)
        } else {
            ("Completed successfully".into(), None)
        };

        let records = self.describe(action, &found)?;
        let excluded: Vec<(String, String)> = records
            .iter()
            .filter_map(|(f, r)| r.message.clone().map(|m| (f.clone(), m)))
            .collect();
        let outputs: Vec<(String, Level)> = found.into_iter().collect();
        self.manifest
            .lock()
            .expect("no panics while recording")
            .record(&self.project_dir, &action.id, records)?;
        let tail = log.finish(&Trailer {
            command: finished.command,
            exit_code: finished.exit_code,
            created_at,
            completed_at: metadata::now(),
            status_message: message.clone(),
            hint: hint.clone(),
            outputs: outputs.clone(),
            excluded: excluded.clone(),
        })?;
        self.finish_state(action, succeeded, &outputs);
        Ok(Outcome {
            action: action.id.clone(),
            status: if succeeded {
                Status::Succeeded
            } else {
                Status::Failed
            },
            message: match &hint {
                Some(hint) => format!("{message}\n\n{hint}"),
                None => message,
            },
            outputs,
            excluded,
            tail: if finished.exit_code != 0 {
                tail
            } else {
                Vec::new()
            },
            started: None,
            elapsed: Duration::ZERO,
        })
    }

    /// The project's code files plus the recorded outputs of the needs.
    fn files_for(&self, action: &Action) -> Vec<String> {
        let state = self.state.lock().expect("no panics while reading");
        let mut files = self.code.clone();
        for (need, _) in &action.needs {
            if let Some(run) = state.actions.get(need) {
                files.extend(run.outputs.keys().cloned());
            }
        }
        files.sort();
        files.dedup();
        files
    }

    /// The manifest records of the outputs (hashed in parallel), with the
    /// `moderately_sensitive` checks.
    fn describe(
        &self,
        action: &Action,
        found: &BTreeMap<String, Level>,
    ) -> anyhow::Result<Vec<(String, metadata::OutputRecord)>> {
        found
            .par_iter()
            .map(|(file, level)| {
                let path = self.project_dir.join(file);
                let check = if *level == Level::ModeratelySensitive {
                    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
                    outputs::check_level4(file, &path, size)
                } else {
                    Level4Check::default()
                };
                let record = metadata::describe(&path, *level, &action.id, &check)?;
                Ok((file.clone(), record))
            })
            .collect()
    }

    fn start_state(&self, action: &Action, created_at: &str) -> anyhow::Result<()> {
        let mut state = self.state.lock().expect("no panics while recording");
        state.actions.insert(
            action.id.clone(),
            LastRun {
                status: state::Status::Running,
                started_at: created_at.to_owned(),
                completed_at: None,
                outputs: BTreeMap::new(),
            },
        );
        state.save(&self.project_dir)
    }

    fn finish_state(&self, action: &Action, succeeded: bool, outputs: &[(String, Level)]) {
        let mut state = self.state.lock().expect("no panics while recording");
        if let Some(run) = state.actions.get_mut(&action.id) {
            run.status = if succeeded {
                state::Status::Succeeded
            } else {
                state::Status::Failed
            };
            run.completed_at = Some(metadata::now());
            run.outputs = outputs.iter().cloned().collect();
        }
        if let Err(error) = state.save(&self.project_dir) {
            self.say(&action.id, &format!("warning: {error:#}"));
        }
    }
}

/// Where the actions' directories are made.
fn work_root(project_dir: &Path) -> PathBuf {
    project_dir.join(state::PRIVATE_DIR).join("work")
}

/// The console summary: a block per action (failures last, dependants of a
/// failure left out, as upstream), then a table of every planned action.
pub fn summary(outcomes: &[Outcome]) -> String {
    let mut shown: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| !matches!(o.status, Status::DependencyFailed | Status::NotStarted))
        .collect();
    shown.sort_by_key(|o| (o.status == Status::Failed, o.started));
    let mut text = String::new();
    for o in shown {
        text.push_str(&format!("=> {}\n", o.action));
        for line in o.message.lines() {
            if !line.is_empty() {
                text.push_str("   ");
            }
            text.push_str(line);
            text.push('\n');
        }
        text.push('\n');
        if o.status != Status::Skipped {
            text.push_str(&format!("   log file: metadata/{}.log\n", o.action));
            text.push_str("   outputs:\n");
            let rows: Vec<(String, String)> = o
                .outputs
                .iter()
                .map(|(f, l)| (f.clone(), l.to_string()))
                .collect();
            text.push_str(&metadata::tabulate(&rows, "  - ", 5, "(no outputs)"));
            text.push('\n');
        }
        if !o.excluded.is_empty() {
            text.push_str("   invalid moderately_sensitive outputs:\n");
            text.push_str(&metadata::tabulate(&o.excluded, "  - ", 5, ""));
            text.push('\n');
        }
        if !o.tail.is_empty() {
            let truncated = o.tail.len() >= metadata::TAIL_LINES;
            text.push_str(&format!(
                "\n   logs{}:\n\n",
                if truncated { " (truncated)" } else { "" }
            ));
            for line in &o.tail {
                text.push_str(&format!("     {line}\n"));
            }
        }
        text.push('\n');
    }
    let width = outcomes
        .iter()
        .map(|o| o.action.len())
        .max()
        .unwrap_or(0)
        .max("action".len());
    text.push_str(&format!(
        "{:<width$}  {:<17}  {:>8}  outputs\n",
        "action", "status", "time"
    ));
    for o in outcomes {
        text.push_str(&format!(
            "{:<width$}  {:<17}  {:>7.1}s  {}\n",
            o.action,
            o.status.label(),
            o.elapsed.as_secs_f64(),
            o.outputs.len()
        ));
    }
    text
}
