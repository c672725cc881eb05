//! Local programs run as a container ran them: in a process group of
//! their own, with a minimal environment, ended when their main process
//! ends (background children included), and stopped when the run is
//! interrupted.

use std::collections::BTreeSet;
use std::io::{BufRead, Read};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use std::os::unix::process::{CommandExt, ExitStatusExt};

use super::metadata::ActionLog;

/// The variables every action gets from the environment cohortkit runs in
/// (where set), besides `OPENSAFELY_BACKEND` and those named with `--env`.
pub const PASSED_ENVIRONMENT: [&str; 5] = ["PATH", "HOME", "LANG", "LANGUAGE", "TMPDIR"];

/// How long output left in the pipes by background children is read after
/// the main process has ended and its group was killed.
const DRAIN: Duration = Duration::from_secs(2);

/// The process groups of the actions running now.
static GROUPS: Mutex<BTreeSet<i32>> = Mutex::new(BTreeSet::new());

/// Runs `program` with `args` in `dir`, its output lines into `log` (with
/// `dir` written `/workspace`, as the program would see it in its
/// container), with only the [`PASSED_ENVIRONMENT`], `extra` variables
/// named by the user and `OPENSAFELY_BACKEND=expectations`. Returns its
/// exit status.
pub fn run(
    program: &Path,
    args: &[String],
    dir: &Path,
    extra: &[String],
    log: &ActionLog,
) -> std::io::Result<ExitStatus> {
    let passed = PASSED_ENVIRONMENT
        .iter()
        .map(|name| name.to_string())
        .chain(extra.iter().cloned())
        .chain(
            std::env::vars()
                .map(|(name, _)| name)
                .filter(|n| n.starts_with("LC_")),
        );
    let environment: Vec<(String, String)> = passed
        .filter_map(|name| std::env::var(&name).ok().map(|value| (name, value)))
        .collect();
    let mut child = Command::new(program)
        .args(args)
        .current_dir(dir)
        .env_clear()
        .envs(environment)
        .env("OPENSAFELY_BACKEND", "expectations")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()?;
    let workspace = dir.to_string_lossy().into_owned();
    let log_line = |line: String| log.line(&line.replace(&workspace, "/workspace"));
    let group = child.id() as i32;
    let _running = Running::register(group);
    let (lines, received) = mpsc::channel();
    let streams: [Box<dyn Read + Send>; 2] = [
        Box::new(child.stdout.take().expect("piped")),
        Box::new(child.stderr.take().expect("piped")),
    ];
    for stream in streams {
        let lines = lines.clone();
        // Detached: a background child may hold the pipe open for ever.
        std::thread::spawn(move || send_lines(stream, &lines));
    }
    drop(lines);
    let status = loop {
        match received.recv_timeout(Duration::from_millis(50)) {
            Ok(line) => log_line(line),
            Err(mpsc::RecvTimeoutError::Disconnected) => break child.wait()?,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if let Some(status) = child.try_wait()? {
                    break status;
                }
            }
        }
    };
    // The action ends with its main process, as a container's does.
    signal_group(group, libc::SIGKILL);
    let deadline = Instant::now() + DRAIN;
    while let Ok(line) = received.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        log_line(line);
    }
    Ok(status)
}

/// An exit status as a number: the code, or 128 + the signal that ended it.
pub fn exit_code(status: ExitStatus) -> i32 {
    status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}

/// Stops every running action: SIGTERM to each group, then SIGKILL to
/// those still there after `grace`.
pub fn stop_all(grace: Duration) {
    let groups: Vec<i32> = lock().iter().copied().collect();
    for &group in &groups {
        signal_group(group, libc::SIGTERM);
    }
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline && groups.iter().any(|&g| group_exists(g)) {
        std::thread::sleep(Duration::from_millis(50));
    }
    for group in groups {
        signal_group(group, libc::SIGKILL);
    }
}

fn send_lines(stream: impl Read, lines: &mpsc::Sender<String>) {
    let mut reader = std::io::BufReader::new(stream);
    let mut line = Vec::new();
    while reader.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
        if lines
            .send(String::from_utf8_lossy(&line).into_owned())
            .is_err()
        {
            return;
        }
        line.clear();
    }
}

fn signal_group(group: i32, signal: i32) {
    // SAFETY: kill(2) takes plain integers and touches no memory of ours.
    unsafe {
        libc::kill(-group, signal);
    }
}

fn group_exists(group: i32) -> bool {
    // SAFETY: as in signal_group; signal 0 only checks the group exists.
    unsafe { libc::kill(-group, 0) == 0 }
}

fn lock() -> std::sync::MutexGuard<'static, BTreeSet<i32>> {
    GROUPS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A running action's group, listed for [`stop_all`] while it lives.
struct Running(i32);

impl Running {
    fn register(group: i32) -> Running {
        lock().insert(group);
        Running(group)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        lock().remove(&self.0);
    }
}
