//! Local programs run as in a container: a minimal environment, the action
//! over when its main process is (background children killed with it), and
//! an interrupted run stopping its actions and exiting 128 + the signal.

mod common;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// A project with one python action running `script`.
fn project(script: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let yaml = "version: '3.0'\nexpectations:\n  population_size: 10\nactions:\n  act:\n    run: python:latest analysis/act.py\n    outputs:\n      moderately_sensitive:\n        out: output/out.txt\n";
    std::fs::write(dir.path().join("project.yaml"), yaml).unwrap();
    std::fs::create_dir_all(dir.path().join("analysis")).unwrap();
    std::fs::write(dir.path().join("analysis/act.py"), script).unwrap();
    dir
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn actions_get_a_minimal_environment_and_what_is_named() {
    let Some(()) = common::python3() else { return };
    let dir = project(
        "import os\nos.makedirs('output', exist_ok=True)\nopen('output/out.txt', 'w').write('\\n'.join(sorted(os.environ)))\n",
    );
    let output = common::cohortkit()
        .args(["run", "act", "--env", "COHORTKIT_KEPT", "--project-dir"])
        .arg(dir.path())
        .env("COHORTKIT_SECRET", "hunter2")
        .env("COHORTKIT_KEPT", "yes")
        .output()
        .unwrap();
    common::assert_success(&output);
    let names = read(&dir.path().join("output/out.txt"));
    let names: Vec<&str> = names.lines().collect();
    assert!(!names.contains(&"COHORTKIT_SECRET"), "{names:?}");
    assert!(names.contains(&"COHORTKIT_KEPT"), "{names:?}");
    assert!(names.contains(&"OPENSAFELY_BACKEND"), "{names:?}");
    assert!(names.contains(&"PATH"), "{names:?}");
}

#[test]
fn an_action_ends_with_its_main_process() {
    let Some(()) = common::python3() else { return };
    // A background child that keeps the action's output pipes open.
    let dir = project(
        "import os, subprocess\nos.makedirs('output', exist_ok=True)\nopen('output/out.txt', 'w').write('done')\nsubprocess.Popen(['sleep', '300'])\nprint('started a daemon')\n",
    );
    let mut command = common::cohortkit();
    command
        .args(["run", "act", "--project-dir"])
        .arg(dir.path());
    let (code, stderr) = common::run_bounded(command);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(read(&dir.path().join("metadata/act.log")).contains("started a daemon"));
}

/// What an interrupted run left: how it exited, what it printed, and how
/// long it took to stop after the signal.
struct Interrupted {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    stopping: Duration,
}

/// Starts `cohortkit run ACTIONS` in `dir` with `home` as HOME, sends
/// SIGTERM once `ready` says so (given HOME and the output so far), and
/// waits for the run to end.
fn interrupt_run(
    dir: &Path,
    actions: &[&str],
    home: &Path,
    ready: impl Fn(&str) -> bool,
) -> Interrupted {
    use std::io::Read;
    let mut child = common::cohortkit()
        .arg("run")
        .args(actions)
        .args(["--concurrency", "4", "--project-dir"])
        .arg(dir)
        .env("HOME", home)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let stdout = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let reader = {
        let stdout = stdout.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = out.read(&mut buf) {
                stdout
                    .lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        })
    };
    let started = Instant::now();
    while !ready(&stdout.lock().unwrap()) {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the run never got going: {}",
            stdout.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // SAFETY: kill(2) with plain integers.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let signalled = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            signalled.elapsed() < Duration::from_secs(60),
            "run did not stop"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let stopping = signalled.elapsed();
    reader.join().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let stdout = stdout.lock().unwrap().clone();
    Interrupted {
        code: status.code(),
        stdout,
        stderr,
        stopping,
    }
}

/// The recorded status of every action in the project's state.
fn recorded(dir: &Path) -> serde_json::Value {
    let state: serde_json::Value =
        serde_json::from_str(&read(&dir.join("metadata/.cohortkit/state.json"))).unwrap();
    state["actions"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, run)| (name.clone(), run["status"].clone()))
        .collect()
}

/// The row of the summary table for `action`, split into words.
fn summary_row<'a>(stdout: &'a str, action: &str) -> Vec<&'a str> {
    let table = &stdout[stdout.rfind("action ").expect("a summary table")..];
    table
        .lines()
        .find(|l| l.split_whitespace().next() == Some(action))
        .unwrap_or_else(|| panic!("no row for {action}: {stdout}"))
        .split_whitespace()
        .collect()
}

#[test]
fn an_interrupted_run_stops_its_actions_marks_them_cancelled_and_prints_the_summary() {
    let Some(()) = common::python3() else { return };
    // Two actions that write part of their output and then wait, and one
    // that needs the first.
    let sleeper = "import os, sys, time\nos.makedirs('output', exist_ok=True)\nopen('output/' + sys.argv[1] + '.txt', 'w').write('partial')\nopen(os.environ['HOME'] + '/' + sys.argv[1], 'w').write(str(os.getpid()))\ntime.sleep(300)\n";
    let yaml = "version: '3.0'\nexpectations:\n  population_size: 10\nactions:\n  first:\n    run: python:latest analysis/sleep.py first\n    outputs:\n      moderately_sensitive:\n        out: output/first.txt\n  second:\n    run: python:latest analysis/sleep.py second\n    outputs:\n      moderately_sensitive:\n        out: output/second.txt\n  after:\n    run: python:latest analysis/sleep.py after\n    needs: [first]\n    outputs:\n      moderately_sensitive:\n        out: output/after.txt\n";
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("project.yaml"), yaml).unwrap();
    std::fs::create_dir_all(dir.path().join("analysis")).unwrap();
    std::fs::write(dir.path().join("analysis/sleep.py"), sleeper).unwrap();
    let home = tempfile::tempdir().unwrap();
    let pid = |name: &str| -> Option<i32> { read_pid(&home.path().join(name)) };
    let run = interrupt_run(dir.path(), &["run_all"], home.path(), |_| {
        pid("first").is_some() && pid("second").is_some()
    });
    assert_eq!(run.code, Some(143), "{}", run.stderr);
    for name in ["first", "second"] {
        let action = pid(name).unwrap();
        // SAFETY: signal 0 only asks whether the process exists.
        let alive = unsafe { libc::kill(action, 0) } == 0;
        assert!(!alive, "the action {action} outlived the run");
        assert_eq!(
            summary_row(&run.stdout, name)[1],
            "cancelled",
            "{}",
            run.stdout
        );
        assert!(
            read(&dir.path().join(format!("metadata/{name}.log")))
                .contains("Cancelled: the run was interrupted (signal 15)")
        );
        assert!(
            !dir.path().join(format!("output/{name}.txt")).exists(),
            "a cancelled action's output reached the project"
        );
    }
    assert_eq!(summary_row(&run.stdout, "after")[1..3], ["not", "started"]);
    assert_eq!(
        recorded(dir.path()),
        serde_json::json!({"first": "cancelled", "second": "cancelled"})
    );
    assert!(
        run.stderr.contains(
            "the run was interrupted (signal 15): cancelled first, second; not started after"
        ),
        "{}",
        run.stderr
    );
    assert!(pid("after").is_none());
    // The lock went with the run: the next run starts at once.
    let rerun = common::in_project(dir.path(), &["check"]);
    common::assert_success(&rerun);
}

#[test]
fn an_interrupted_native_action_stops_at_its_next_write() {
    // A dummy cohort far too large to finish before the signal.
    let dir = tempfile::tempdir().unwrap();
    let yaml = "version: '3.0'\nexpectations:\n  population_size: 5000000\nactions:\n  cohort:\n    run: cohortextractor:latest generate_cohort --study-definition study_definition --index-date-range '2020-03-01 to 2020-12-27 by week'\n    outputs:\n      highly_sensitive:\n        cohort: output/input_*.csv\n";
    std::fs::write(dir.path().join("project.yaml"), yaml).unwrap();
    std::fs::create_dir_all(dir.path().join("analysis")).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("testdata/flucats/analysis/study_definition.schema.yaml"),
        dir.path().join("analysis/study_definition.schema.yaml"),
    )
    .unwrap();
    let home = tempfile::tempdir().unwrap();
    let run = interrupt_run(dir.path(), &["cohort"], home.path(), |stdout| {
        stdout.contains("cohort: Executing")
    });
    assert_eq!(run.code, Some(143), "{}", run.stderr);
    assert!(
        run.stopping < Duration::from_secs(5),
        "the native action took {:?} to stop",
        run.stopping
    );
    assert_eq!(
        summary_row(&run.stdout, "cohort")[1],
        "cancelled",
        "{}",
        run.stdout
    );
    assert_eq!(
        recorded(dir.path()),
        serde_json::json!({"cohort": "cancelled"})
    );
    let left: Vec<_> = std::fs::read_dir(dir.path().join("output"))
        .map(|entries| entries.map(|e| e.unwrap().file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "left in output/: {left:?}");
}

/// The PID an action wrote to `path`, once it has.
fn read_pid(path: &Path) -> Option<i32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}
