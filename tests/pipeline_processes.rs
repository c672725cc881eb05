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

#[test]
fn an_interrupted_run_stops_its_actions() {
    let Some(()) = common::python3() else { return };
    let dir = project(
        "import os, time\nopen(os.environ['HOME'] + '/pid', 'w').write(str(os.getpid()))\ntime.sleep(300)\n",
    );
    let home = tempfile::tempdir().unwrap();
    let mut child = common::cohortkit()
        .args(["run", "act", "--project-dir"])
        .arg(dir.path())
        .env("HOME", home.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid_file = home.path().join("pid");
    let started = Instant::now();
    while !pid_file.exists() || read(&pid_file).is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the action never started"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let action: i32 = read(&pid_file).trim().parse().unwrap();
    // SAFETY: kill(2) with plain integers.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "run did not stop"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(143));
    // SAFETY: as above; signal 0 only asks whether the process exists.
    let alive = unsafe { libc::kill(action, 0) } == 0;
    assert!(!alive, "the action {action} outlived the run");
}
