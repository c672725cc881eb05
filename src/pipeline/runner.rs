//! Runs planned actions: ready actions start concurrently (up to the
//! concurrency), each in its own directory; an action whose need failed is
//! not run; without `--continue-on-error` no action starts after a failure
//! and the running ones finish cleanly. Every action ends with its outputs
//! moved into the project, its log, the manifest and the state updated.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::mpsc::{self, Sender};
use std::thread::Scope;
use std::time::{Duration, Instant};

use super::collect::{self, Matched};
use super::execute::{self, ActionJob, Executor};
use super::metadata::{self, ActionLog, Manifest, Trailer};
use super::outputs::Level;
use super::project::Action;
use super::schedule::{self, Step, Verdict};
use super::state::{self, LastRun, RunState, State};
use super::status_text::{Ending, status_text};
use super::validate::Valid;
use super::workspace::{self, Inputs, Workspace};

/// How to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Actions running at once.
    pub concurrency: usize,
    /// Keep starting actions after a failure.
    pub continue_on_error: bool,
    /// Report actions nothing here can run as skipped instead of failed.
    pub skip_unavailable: bool,
    /// Prefix progress lines with the time.
    pub timestamps: bool,
    /// Environment variables passed on to every action.
    pub env: Vec<String>,
}

/// What happened to one planned action.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The action's name.
    pub action: String,
    /// How it ended.
    pub verdict: Verdict,
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
    /// How it ran (`native`, `local PROGRAM`, `unavailable`), or `not run`.
    pub how: String,
}

impl Outcome {
    fn not_run(action: &str, verdict: Verdict, message: String) -> Outcome {
        Outcome {
            action: action.to_owned(),
            verdict,
            message,
            outputs: Vec::new(),
            excluded: Vec::new(),
            tail: Vec::new(),
            started: None,
            elapsed: Duration::ZERO,
            how: "not run".into(),
        }
    }
}

/// The actions of a run that ended so far, and how many are running.
#[derive(Default)]
struct Progress {
    /// The verdicts of the actions that ended, by index.
    done: HashMap<usize, Verdict>,
    /// Their outcomes with their indices, in the order they ended.
    outcomes: Vec<(usize, Outcome)>,
    /// Actions running now.
    running: usize,
    /// No action starts any more: one failed (without `--continue-on-error`).
    stop: bool,
}

impl Progress {
    /// Records that action `a` ended.
    fn end(&mut self, a: usize, outcome: Outcome) {
        self.done.insert(a, outcome.verdict);
        self.outcomes.push((a, outcome));
    }

    /// Records that running action `a` ended; a failure stops the run
    /// unless `continue_on_error`.
    fn finish(&mut self, a: usize, outcome: Outcome, continue_on_error: bool) {
        self.running -= 1;
        if outcome.verdict == Verdict::Failed && !continue_on_error {
            self.stop = true;
        }
        self.end(a, outcome);
    }

    /// The outcomes in project order, whatever order they ended in.
    fn into_outcomes(mut self) -> Vec<Outcome> {
        self.outcomes.sort_by_key(|(a, _)| *a);
        self.outcomes.into_iter().map(|(_, o)| o).collect()
    }
}

/// An action's files after it ran: its outputs (now in the project) and the
/// other files it wrote.
#[derive(Default)]
struct Collected {
    /// Its files matched against its declared outputs.
    matched: Matched,
    /// New files that are no output.
    unclaimed: Vec<String>,
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
        let _ = writeln!(out, "{}: {message}", metadata::printable(action));
    }

    /// Runs the planned actions (indices into the project's actions): starts
    /// what can start, then waits for a running action to end, until none
    /// runs; what is left pending was not started.
    pub fn run(&self, planned: &[usize]) -> Vec<Outcome> {
        let needs = schedule::planned_needs(&self.valid.project.actions, planned);
        let mut pending = planned.to_vec();
        let mut progress = Progress::default();
        let (sender, receiver) = mpsc::channel();
        std::thread::scope(|scope| {
            let mut start = |a, executor| self.spawn(scope, sender.clone(), a, executor);
            loop {
                progress.stop |= crate::interrupt::signal().is_some();
                self.advance_pending(&mut pending, &mut progress, &needs, &mut start);
                if progress.running == 0 {
                    break;
                }
                let (a, outcome) = receiver.recv().expect("a running action reports back");
                progress.finish(a, outcome, self.options.continue_on_error);
            }
        });
        // Only empty directories are left; a failure to remove them is harmless.
        let _ = std::fs::remove_dir(work_root(&self.project_dir));
        for a in pending {
            progress.end(a, self.not_started(a));
        }
        progress.into_outcomes()
    }

    /// Passes over the pending actions, in order, moving each on by
    /// [`Runner::advance`], until a pass moves none (no pass once the run
    /// has stopped).
    fn advance_pending(
        &self,
        pending: &mut Vec<usize>,
        progress: &mut Progress,
        needs: &HashMap<usize, Vec<usize>>,
        start: &mut impl FnMut(usize, Executor),
    ) {
        let mut moved = !progress.stop;
        while moved {
            let before = pending.len();
            pending.retain(|&a| !self.advance(a, progress, &needs[&a], start));
            moved = pending.len() < before;
        }
    }

    /// Takes the [`schedule::step`] of pending action `a`: starts it with
    /// `start`, or ends it when it cannot run; returns whether it did either.
    fn advance(
        &self,
        a: usize,
        progress: &mut Progress,
        needs: &[usize],
        start: &mut impl FnMut(usize, Executor),
    ) -> bool {
        let actions = &self.valid.project.actions;
        let id = &actions[a].id;
        let step = schedule::step(
            needs,
            &progress.done,
            progress.running,
            self.options.concurrency,
        );
        let outcome = match step {
            Step::Wait => return false,
            Step::Skip { need } => Outcome::not_run(
                id,
                Verdict::Skipped,
                format!("Skipped: it needs {}, which was skipped", actions[need].id),
            ),
            Step::Blocked { need } => Outcome::not_run(
                id,
                Verdict::DependencyFailed,
                format!("Not started: it needs {}, which failed", actions[need].id),
            ),
            Step::Start => match execute::choose(&actions[a], self.valid.project.version) {
                Executor::Unavailable(reason) if self.options.skip_unavailable => {
                    Outcome::not_run(id, Verdict::Skipped, format!("Skipped: {reason}"))
                }
                executor => {
                    start(a, executor);
                    progress.running += 1;
                    return true;
                }
            },
        };
        if outcome.verdict == Verdict::Skipped {
            self.say(&outcome.action, &outcome.message);
        }
        progress.end(a, outcome);
        true
    }

    /// The outcome of action `a`, left pending when the run stopped.
    fn not_started(&self, a: usize) -> Outcome {
        let why = match crate::interrupt::signal() {
            Some(_) => "Not started: the run was interrupted",
            None => {
                "Not started: an earlier action failed (use --continue-on-error to run what can run)"
            }
        };
        Outcome::not_run(
            &self.valid.project.actions[a].id,
            Verdict::NotStarted,
            why.into(),
        )
    }

    /// Runs action `a` on a thread of `scope`, which sends its outcome back.
    fn spawn<'scope, 'env>(
        &'env self,
        scope: &'scope Scope<'scope, 'env>,
        sender: Sender<(usize, Outcome)>,
        a: usize,
        executor: Executor,
    ) {
        scope.spawn(move || {
            let outcome = self.run_caught(&self.valid.project.actions[a], &executor);
            let _ = sender.send((a, outcome));
        });
    }

    /// [`Runner::run_one`], with a panic turned into a failed outcome: the
    /// run always hears back, or it would wait forever.
    fn run_caught(&self, action: &Action, executor: &Executor) -> Outcome {
        std::panic::catch_unwind(AssertUnwindSafe(|| self.run_one(action, executor)))
            .unwrap_or_else(|_| {
                Outcome::not_run(
                    &action.id,
                    Verdict::Failed,
                    "cohortkit crashed while running this action".into(),
                )
            })
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
                Outcome::not_run(&action.id, Verdict::Failed, format!("{error:#}"))
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

    /// Runs the action in its own directory, brings its outputs into the
    /// project and records the run in the manifest, its log and the state.
    fn execute(&self, action: &Action, executor: &Executor) -> anyhow::Result<Outcome> {
        let created_at = metadata::now();
        let previous = self.start_state(action, &created_at)?;
        let ws = self.workspace(action, executor)?;
        let log = ActionLog::create(&self.project_dir, &action.id)?;
        let finished = self.run_job(action, executor, &ws, &log);
        if let Some(signal) = crate::interrupt::signal() {
            return self.cancel(action, finished, created_at, log, signal);
        }
        // The log is written however collection ends; the outputs moved
        // into the project all or none.
        let (collected, uncollected) = match self.collect(ws, action, executor, &log) {
            Ok(collected) => (collected, None),
            Err(error) => (Collected::default(), Some(format!("{error:#}"))),
        };
        let exited_with_error = finished.exit_code != 0;
        let succeeded = !exited_with_error
            && uncollected.is_none()
            && collected.matched.unmatched_patterns.is_empty();
        let skipped = !succeeded && self.options.skip_unavailable && finished.unavailable.is_some();
        let ending = match uncollected {
            Some(error) => Ending {
                message: format!("Could not collect the outputs, so none was kept: {error}"),
                hint: None,
            },
            None => status_text(
                finished.exit_code,
                finished.unavailable.as_deref(),
                &collected.matched.unmatched_patterns,
                &collected.unclaimed,
            ),
        };
        let excluded = self.record_outputs(action, &collected.matched.found)?;
        let outputs: Vec<(String, Level)> = collected.matched.found.into_iter().collect();
        let tail = log.finish(&Trailer {
            command: finished.command,
            exit_code: finished.exit_code,
            created_at,
            completed_at: metadata::now(),
            status_message: ending.message.clone(),
            hint: ending.hint.clone(),
            outputs: outputs.clone(),
            excluded: excluded.clone(),
        })?;
        self.finish_state(action, succeeded, &outputs);
        if succeeded {
            self.delete_obsolete(&previous, &outputs);
        }
        let (verdict, message) = if succeeded {
            (Verdict::Succeeded, ending.joined())
        } else if skipped {
            (Verdict::Skipped, format!("Skipped: {}", ending.joined()))
        } else {
            (Verdict::Failed, ending.joined())
        };
        Ok(Outcome {
            action: action.id.clone(),
            verdict,
            message,
            outputs,
            excluded,
            tail: if exited_with_error && !skipped {
                tail
            } else {
                Vec::new()
            },
            started: None,
            elapsed: Duration::ZERO,
            how: finished.how,
        })
    }

    /// Ends an action the run's interrupt stopped: nothing it wrote is kept
    /// (its directory goes with `ws`), its log says why, and the state
    /// records it cancelled.
    fn cancel(
        &self,
        action: &Action,
        finished: execute::Finished,
        created_at: String,
        log: ActionLog,
        signal: i32,
    ) -> anyhow::Result<Outcome> {
        let message =
            format!("Cancelled: the run was interrupted (signal {signal}), so no output was kept");
        log.finish(&Trailer {
            command: finished.command.clone(),
            exit_code: finished.exit_code,
            created_at,
            completed_at: metadata::now(),
            status_message: message.clone(),
            hint: None,
            outputs: Vec::new(),
            excluded: Vec::new(),
        })?;
        self.end_state(action, RunState::Cancelled, &[]);
        Ok(Outcome {
            how: finished.how,
            ..Outcome::not_run(&action.id, Verdict::Cancelled, message)
        })
    }

    /// Runs the action's command in its directory, writing to its log
    /// (first the files left out of the directory, and why).
    fn run_job(
        &self,
        action: &Action,
        executor: &Executor,
        ws: &Workspace,
        log: &ActionLog,
    ) -> execute::Finished {
        self.say(&action.id, "Executing");
        for note in ws.left_out() {
            log.line(note);
        }
        let job = ActionJob {
            action,
            population: self.valid.population,
            dir: ws.dir(),
            log,
            env: &self.options.env,
        };
        execute::run(executor, &job)
    }

    /// Records the action's outputs (now in the project) in the manifest;
    /// returns those that would not be released, with why.
    fn record_outputs(
        &self,
        action: &Action,
        found: &BTreeMap<String, Level>,
    ) -> anyhow::Result<Vec<(String, String)>> {
        let records = collect::records(&self.project_dir, &action.id, found)?;
        let excluded = collect::excluded(&records);
        self.manifest
            .lock()
            .expect("no panics while recording")
            .record(&self.project_dir, &action.id, records)?;
        Ok(excluded)
    }

    /// The action's own directory, holding the project's code files and the
    /// recorded outputs of its needs: linked for the tools that cohortkit
    /// runs in-process, copied for anything else.
    fn workspace(&self, action: &Action, executor: &Executor) -> anyhow::Result<Workspace> {
        let inputs = match executor {
            Executor::Native(native) if native.in_process_only() => Inputs::Linked,
            _ => Inputs::Copied,
        };
        Workspace::create(
            &work_root(&self.project_dir),
            &action.id,
            &self.project_dir,
            &self.files_for(action),
            inputs,
        )
    }

    /// Matches the regular files in the action's directory against its
    /// outputs (with a report's companions; other entries a pattern matches
    /// are named in the log as no output), moves the outputs into the
    /// project and removes the directory.
    fn collect(
        &self,
        ws: Workspace,
        action: &Action,
        executor: &Executor,
        log: &ActionLog,
    ) -> anyhow::Result<Collected> {
        for note in collect::not_outputs(&action.outputs, &ws.not_regular()?) {
            log.line(&note);
        }
        let files = ws.files()?;
        let mut matched = collect::match_outputs(&action.outputs, &files);
        let companions = execute::report_companions(executor, &matched.found, &files);
        matched.found.extend(companions);
        let unclaimed = matched.unclaimed(ws.new_files()?);
        let outputs: Vec<&str> = matched.found.keys().map(String::as_str).collect();
        ws.move_all_out(&outputs, &self.project_dir)?;
        Ok(Collected { matched, unclaimed })
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

    /// Records the action as running; returns the outputs its last run
    /// recorded.
    fn start_state(
        &self,
        action: &Action,
        created_at: &str,
    ) -> anyhow::Result<BTreeMap<String, Level>> {
        let mut state = self.state.lock().expect("no panics while recording");
        let previous = state
            .actions
            .get(&action.id)
            .map(|run| run.outputs.clone())
            .unwrap_or_default();
        state.actions.insert(
            action.id.clone(),
            LastRun {
                status: RunState::Running,
                started_at: created_at.to_owned(),
                completed_at: None,
                outputs: BTreeMap::new(),
            },
        );
        state.save(&self.project_dir)?;
        Ok(previous)
    }

    /// Deletes the files the action's last run recorded that this run did
    /// not produce (as upstream deletes obsolete outputs), unless another
    /// action has recorded them since; only regular files.
    fn delete_obsolete(&self, previous: &BTreeMap<String, Level>, outputs: &[(String, Level)]) {
        let state = self.state.lock().expect("no panics while recording");
        let claimed = |file: &str| {
            outputs.iter().any(|(f, _)| f == file)
                || state
                    .actions
                    .values()
                    .any(|run| run.outputs.contains_key(file))
        };
        for file in previous.keys().filter(|f| !claimed(f)) {
            let path = self.project_dir.join(file);
            if std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file()) {
                let _ = std::fs::remove_file(&path);
            }
        }
    }

    fn finish_state(&self, action: &Action, succeeded: bool, outputs: &[(String, Level)]) {
        let status = if succeeded {
            RunState::Succeeded
        } else {
            RunState::Failed
        };
        self.end_state(action, status, outputs);
    }

    /// Records how the action's run ended, and the outputs it recorded.
    fn end_state(&self, action: &Action, status: RunState, outputs: &[(String, Level)]) {
        let mut state = self.state.lock().expect("no panics while recording");
        if let Some(run) = state.actions.get_mut(&action.id) {
            run.status = status;
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
        .filter(|o| !matches!(o.verdict, Verdict::DependencyFailed | Verdict::NotStarted))
        .collect();
    shown.sort_by_key(|o| (o.verdict == Verdict::Failed, o.started));
    let mut text: String = shown.into_iter().map(summary_block).collect();
    text.push_str(&summary_table(outcomes));
    text
}

/// One action's block of the summary: its message, log, outputs, the
/// outputs that would not be released and the end of a failed log.
fn summary_block(o: &Outcome) -> String {
    let mut text = format!("=> {}\n", metadata::printable(&o.action));
    for line in o.message.lines() {
        if !line.is_empty() {
            text.push_str("   ");
        }
        text.push_str(line);
        text.push('\n');
    }
    text.push('\n');
    if o.verdict != Verdict::Skipped {
        text.push_str(&format!("   log file: {}\n", metadata::log_file(&o.action)));
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
    text
}

/// The summary's table: every planned action, its verdict, time, number
/// of outputs and how it ran.
fn summary_table(outcomes: &[Outcome]) -> String {
    let width = outcomes
        .iter()
        .map(|o| metadata::printed_width(&o.action))
        .max()
        .unwrap_or(0)
        .max("action".len());
    let mut text = format!(
        "{}  {:<17}  {:>8}  {:>7}  ran\n",
        metadata::padded("action", width),
        "status",
        "time",
        "outputs"
    );
    for o in outcomes {
        text.push_str(&format!(
            "{}  {:<17}  {:>7.1}s  {:>7}  {}\n",
            metadata::padded(&o.action, width),
            o.verdict.label(),
            o.elapsed.as_secs_f64(),
            o.outputs.len(),
            o.how
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(action: &str, verdict: Verdict, message: &str, started: u64) -> Outcome {
        Outcome {
            started: Some(Duration::from_secs(started)),
            elapsed: Duration::from_millis(1500),
            ..Outcome::not_run(action, verdict, message.into())
        }
    }

    #[test]
    fn the_summary_puts_failures_last_and_leaves_out_their_dependants() {
        let mut failed = outcome("b", Verdict::Failed, "Job exited with an error", 0);
        failed.tail = vec!["Traceback".into()];
        failed.how = "local python3".into();
        let mut ok = outcome("a", Verdict::Succeeded, "Completed successfully", 1);
        ok.outputs = vec![("output/a.csv".into(), Level::HighlySensitive)];
        ok.how = "native".into();
        let outcomes = [
            ok,
            failed,
            outcome(
                "c",
                Verdict::DependencyFailed,
                "Not started: it needs b, which failed",
                2,
            ),
            outcome("d", Verdict::Skipped, "Skipped: no R here", 3),
        ];
        let text = summary(&outcomes);
        let blocks: Vec<&str> = text.lines().filter(|l| l.starts_with("=> ")).collect();
        assert_eq!(blocks, ["=> a", "=> d", "=> b"]);
        assert!(text.contains("=> d\n   Skipped: no R here\n\n\n"), "{text}");
        assert!(
            text.contains("   log file: metadata/b.log\n   outputs:\n"),
            "{text}"
        );
        assert!(text.contains("\n   logs:\n\n     Traceback\n"), "{text}");
        assert!(
            text.ends_with(
                "action  status                 time  outputs  ran\n\
                 a       succeeded              1.5s        1  native\n\
                 b       failed                 1.5s        0  local python3\n\
                 c       dependency failed      1.5s        0  not run\n\
                 d       skipped                1.5s        0  not run\n"
            ),
            "{text}"
        );
    }

    /// Wide characters take two columns, control characters are escaped:
    /// the table's columns stay aligned and the terminal untouched.
    #[test]
    fn the_summary_table_aligns_wide_and_odd_names() {
        let outcomes = [
            outcome("数据", Verdict::Succeeded, "Completed successfully", 0),
            outcome(
                "a\u{1b}[2Jb",
                Verdict::Succeeded,
                "Completed successfully",
                0,
            ),
            outcome("x", Verdict::Succeeded, "Completed successfully", 0),
        ];
        let table = summary_table(&outcomes);
        assert!(!table.contains('\u{1b}'), "{table}");
        let columns: Vec<usize> = table
            .lines()
            .map(|line| {
                let status = line.find("  s").unwrap();
                unicode_width::UnicodeWidthStr::width(&line[..status])
            })
            .collect();
        assert!(columns.iter().all(|&c| c == columns[0]), "{table}");
    }
}
