//! `cohortkit run`: only regular files are outputs. Symbolic links, FIFOs
//! and sockets an action makes are never followed, opened, hashed or moved
//! into the project; symbolic links among the project's own files are
//! followed only to the project's files. Each project lies in a temporary
//! directory beside an `outside/` directory that must stay as it was.
#![cfg(unix)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// What the victim file outside the project holds.
const VICTIM: &str = "patient_id,secret\n1,hunter2\n2,hunter3\n";

/// Writes `output/real.csv`, then for each argument `link=NAME=TARGET` a
/// symbolic link NAME to TARGET (relative to the directory in the first
/// argument), `fifo=NAME` a FIFO and `socket=NAME` a bound Unix socket.
const MAKE: &str = "import os, socket, sys
outside = sys.argv[1]
os.makedirs('output', exist_ok=True)
with open('output/real.csv', 'w') as f:
    f.write('a,b\\n1,2\\n')
keep = []
for spec in sys.argv[2:]:
    kind, name, *target = spec.split('=')
    if kind == 'link':
        os.symlink(os.path.join(outside, target[0]), name)
    elif kind == 'fifo':
        os.mkfifo(name)
    elif kind == 'socket':
        s = socket.socket(socket.AF_UNIX)
        s.bind(name)
        keep.append(s)
    print('made', kind, name)
";

/// A temporary directory holding `project/` (with `project.yaml` and
/// `analysis/make.py`) and `outside/` (`victim.csv` and `dir/secret.txt`).
struct Setup {
    root: tempfile::TempDir,
}

impl Setup {
    fn new(yaml: &str) -> Setup {
        let root = tempfile::tempdir().unwrap();
        let setup = Setup { root };
        let yaml = yaml.replace("OUTSIDE", setup.outside().to_str().unwrap());
        write(&setup.project().join("project.yaml"), &yaml);
        write(&setup.project().join("analysis/make.py"), MAKE);
        write(&setup.outside().join("victim.csv"), VICTIM);
        write(&setup.outside().join("dir/secret.txt"), "secret\n");
        setup
    }

    fn project(&self) -> PathBuf {
        self.root.path().join("project")
    }

    fn outside(&self) -> PathBuf {
        self.root.path().join("outside")
    }

    /// Runs `cohortkit run ARGS` in the project, killing it (and failing
    /// the test) if it has not ended after 30 s: exit code and stdout.
    fn run(&self, args: &[&str]) -> (Option<i32>, String) {
        let logs = tempfile::tempdir().unwrap();
        let out = logs.path().join("stdout");
        let err = logs.path().join("stderr");
        let mut child = common::cohortkit()
            .arg("run")
            .args(args)
            .arg("--project-dir")
            .arg(self.project())
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(&err).unwrap())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "cohortkit run did not end within 30 s\nstdout:\n{}\nstderr:\n{}",
                    read(&out),
                    read(&err)
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        (status.code(), read(&out))
    }

    /// The action's log.
    fn log(&self, action: &str) -> String {
        read(&self.project().join(format!("metadata/{action}.log")))
    }

    /// Asserts that the manifest records exactly `outputs` and nothing of
    /// the victim: not its hash, not its path, not its row count.
    fn assert_manifest(&self, outputs: &[&str]) {
        let text = read(&self.project().join("metadata/manifest.json"));
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        let keys: Vec<&str> = json["outputs"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, outputs, "{text}");
        assert!(!text.contains(&sha256(VICTIM.as_bytes())), "{text}");
        assert!(!text.contains("victim"), "{text}");
        assert!(!text.contains(self.outside().to_str().unwrap()), "{text}");
        for (_, record) in json["outputs"].as_object().unwrap() {
            assert_ne!(record["row_count"], 2, "{text}");
        }
    }

    /// Asserts that `output/` in the project holds exactly `files`, all of
    /// them regular files.
    fn assert_project_outputs(&self, files: &[&str]) {
        let entries = entries(&self.project().join("output"));
        let expected: BTreeMap<String, &str> = files
            .iter()
            .map(|f| (f.to_string(), "regular file"))
            .collect();
        let entries: BTreeMap<String, &str> = entries.into_iter().collect();
        assert_eq!(entries, expected);
    }
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Every entry under `dir` (relative path, its type), never following a
/// symbolic link; directories are walked, not listed.
fn entries(dir: &Path) -> Vec<(String, &'static str)> {
    let mut found = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            let kind = entry.file_type().unwrap();
            let rel = path
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if kind.is_dir() {
                dirs.push(path);
            } else if kind.is_file() {
                found.push((rel, "regular file"));
            } else if kind.is_symlink() {
                found.push((rel, "symbolic link"));
            } else {
                found.push((rel, "special file"));
            }
        }
    }
    found.sort();
    found
}

/// Every file under `dir` with its content (symbolic links as their
/// targets): to show nothing outside the project changed.
fn snapshot(dir: &Path) -> Vec<(String, String)> {
    entries(dir)
        .into_iter()
        .map(|(rel, kind)| {
            let path = dir.join(&rel);
            let content = match kind {
                "regular file" => read(&path),
                "symbolic link" => std::fs::read_link(&path)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
                _ => kind.to_owned(),
            };
            (rel, content)
        })
        .collect()
}

#[test]
fn a_symlink_output_is_not_an_output_and_its_target_is_never_read() {
    let Some(()) = common::python3() else { return };
    let setup = Setup::new(
        "version: '3.0'
expectations:
  population_size: 10
actions:
  links:
    run: python:latest analysis/make.py OUTSIDE link=output/link.csv=victim.csv
    outputs:
      moderately_sensitive:
        real: output/real.csv
        link: output/link.csv
",
    );
    let before = snapshot(&setup.outside());
    let (code, out) = setup.run(&["links"]);
    // As upstream (`find -type f` lists no symbolic link): the pattern
    // matched no file.
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("   No outputs found matching patterns:\n    - output/link.csv\n"),
        "{out}"
    );
    let log = setup.log("links");
    assert!(
        log.contains(" output/link.csv is a symbolic link, not a regular file: not an output\n"),
        "{log}"
    );
    assert!(
        log.contains("  output/real.csv  - moderately_sensitive"),
        "{log}"
    );
    setup.assert_manifest(&["output/real.csv"]);
    setup.assert_project_outputs(&["real.csv"]);
    assert_eq!(snapshot(&setup.outside()), before);
}

#[test]
fn a_symlink_to_a_directory_outside_is_never_moved_into_the_project() {
    let Some(()) = common::python3() else { return };
    let setup = Setup::new(
        "version: 5
actions:
  dirs:
    run: >
      python:v2 analysis/make.py OUTSIDE
        link=output/outside.dir=dir link=output/sub=dir
    outputs:
      highly_sensitive:
        real: output/real.csv
        dir: output/outside.dir
        nested: output/sub/secret.txt
",
    );
    let before = snapshot(&setup.outside());
    let (code, out) = setup.run(&["dirs"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains(
            "   No outputs found matching patterns:\n    - output/outside.dir\n    - output/sub/secret.txt\n"
        ),
        "{out}"
    );
    let log = setup.log("dirs");
    assert!(
        log.contains(" output/outside.dir is a symbolic link, not a regular file: not an output\n"),
        "{log}"
    );
    setup.assert_manifest(&["output/real.csv"]);
    setup.assert_project_outputs(&["real.csv"]);
    assert_eq!(snapshot(&setup.outside()), before);
}

#[test]
fn fifos_and_sockets_are_not_outputs_and_the_run_ends() {
    let Some(()) = common::python3() else { return };
    let setup = Setup::new(
        "version: 5
actions:
  pipes:
    run: python:v2 analysis/make.py OUTSIDE fifo=output/pipe.csv socket=output/sock.csv
    outputs:
      moderately_sensitive:
        tables: output/*.csv
",
    );
    let before = snapshot(&setup.outside());
    let (code, out) = setup.run(&["pipes"]);
    // The pattern matched the regular file: the action succeeds.
    assert_eq!(code, Some(0), "{out}");
    let log = setup.log("pipes");
    assert!(
        log.contains(
            " output/pipe.csv is a FIFO (named pipe), not a regular file: not an output\n"
        ),
        "{log}"
    );
    assert!(
        log.contains(" output/sock.csv is a socket, not a regular file: not an output\n"),
        "{log}"
    );
    setup.assert_manifest(&["output/real.csv"]);
    setup.assert_project_outputs(&["real.csv"]);
    assert_eq!(snapshot(&setup.outside()), before);
}

#[test]
fn symlinks_among_the_project_files_are_followed_only_to_the_actions_files() {
    let Some(()) = common::python3() else { return };
    let setup = Setup::new(
        "version: 5
actions:
  reads:
    run: python:v2 analysis/alias.py
    outputs:
      moderately_sensitive:
        seen: output/seen.txt
",
    );
    let p = setup.project();
    write(
        &p.join("analysis/read.py"),
        "import os
os.makedirs('output', exist_ok=True)
names = ['analysis/outside.csv', 'analysis/dir/secret.txt', 'analysis/git.txt',
         'analysis/dangling.csv', 'analysis/data.csv']
with open('output/seen.txt', 'w') as f:
    for name in names:
        f.write('%s %s\\n' % (name, 'present' if os.path.exists(name) else 'missing'))
    f.write('link %s\\n' % os.path.islink('analysis/data.csv'))
    f.write(open('analysis/data.csv').read())
",
    );
    write(&p.join("data/ok.csv"), "x\n1\n");
    write(&p.join(".git/config"), "[core]\n");
    let link =
        |target: &Path, name: &str| std::os::unix::fs::symlink(target, p.join(name)).unwrap();
    link(Path::new("read.py"), "analysis/alias.py");
    link(Path::new("../data/ok.csv"), "analysis/data.csv");
    link(Path::new("../.git/config"), "analysis/git.txt");
    link(Path::new("nowhere.csv"), "analysis/dangling.csv");
    link(&setup.outside().join("victim.csv"), "analysis/outside.csv");
    link(&setup.outside().join("dir"), "analysis/dir");
    let before = snapshot(&setup.outside());

    let (code, out) = setup.run(&["reads"]);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(
        read(&p.join("output/seen.txt")),
        "analysis/outside.csv missing
analysis/dir/secret.txt missing
analysis/git.txt missing
analysis/dangling.csv missing
analysis/data.csv present
link False
x
1
"
    );
    let log = setup.log("reads");
    for line in [
        " analysis/outside.csv is a symbolic link leading outside the project: left out of the action's directory\n",
        " analysis/dir is a symbolic link leading outside the project: left out of the action's directory\n",
        " analysis/git.txt is a symbolic link to .git/config, which is not one of the action's files: left out of the action's directory\n",
        " analysis/dangling.csv is a symbolic link leading nowhere: left out of the action's directory\n",
    ] {
        assert!(log.contains(line), "{line}\n{log}");
    }
    setup.assert_manifest(&["output/seen.txt"]);
    assert_eq!(snapshot(&setup.outside()), before);
    // The project's own links are as they were.
    assert_eq!(
        std::fs::read_link(p.join("analysis/outside.csv")).unwrap(),
        setup.outside().join("victim.csv")
    );
}

/// An action's outputs move into the project all or none, and its log is
/// written whatever collection meets: here the second output would be
/// written through the project's link `output/sub` to a directory outside.
#[test]
fn outputs_move_all_or_none_and_the_log_stays() {
    let Some(()) = common::python3() else { return };
    let root = tempfile::tempdir().unwrap();
    let victim = root.path().join("victim");
    std::fs::create_dir_all(&victim).unwrap();
    let project = root.path().join("project");
    std::fs::create_dir_all(project.join("analysis")).unwrap();
    std::fs::create_dir_all(project.join("output")).unwrap();
    std::os::unix::fs::symlink(&victim, project.join("output/sub")).unwrap();
    let yaml = "version: '3.0'\nexpectations:\n  population_size: 10\nactions:\n  act:\n    run: python:latest analysis/act.py\n    outputs:\n      highly_sensitive:\n        a: output/a.csv\n        b: output/sub/b.csv\n";
    std::fs::write(project.join("project.yaml"), yaml).unwrap();
    let script = "import os\nos.makedirs('output/sub', exist_ok=True)\nopen('output/a.csv', 'w').write('x\\n1\\n')\nopen('output/sub/b.csv', 'w').write('y\\n2\\n')\nprint('wrote both')\n";
    std::fs::write(project.join("analysis/act.py"), script).unwrap();
    let output = common::cohortkit()
        .args(["run", "act", "--project-dir"])
        .arg(&project)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let log = read(&project.join("metadata/act.log"));
    assert!(log.contains("wrote both"), "{log}");
    assert!(
        log.contains("Could not collect the outputs, so none was kept"),
        "{log}"
    );
    assert!(
        !project.join("output/a.csv").exists(),
        "one output of two was kept"
    );
    assert_eq!(std::fs::read_dir(&victim).unwrap().count(), 0);
}

#[test]
fn an_action_cannot_change_the_projects_files_in_place() {
    // `produce` writes an output; `vandal`, which needs it, truncates that
    // input, appends to and chmods a code file, and writes its own output.
    let yaml = "version: '3.0'
expectations:
  population_size: 10
actions:
  produce:
    run: python:latest analysis/make.py OUTSIDE
    outputs:
      moderately_sensitive:
        real: output/real.csv
  vandal:
    run: python:latest analysis/vandal.py
    needs: [produce]
    outputs:
      moderately_sensitive:
        done: output/done.txt
";
    let setup = Setup::new(yaml);
    let vandal = "import os
open('output/real.csv', 'w').close()
with open('analysis/make.py', 'a') as f:
    f.write('# appended by vandal\\n')
os.chmod('analysis/make.py', 0o777)
os.chmod('project.yaml', 0o600)
open('output/done.txt', 'w').write('done')
";
    write(&setup.project().join("analysis/vandal.py"), vandal);
    let project = setup.project();
    let mode = |file: &str| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(project.join(file))
            .unwrap()
            .permissions()
            .mode()
    };
    let (code, stdout) = setup.run(&["produce"]);
    assert_eq!(code, Some(0), "{stdout}");
    let before = snapshot(&project);
    let modes = [mode("analysis/make.py"), mode("project.yaml")];

    let (code, stdout) = setup.run(&["vandal"]);
    assert_eq!(code, Some(0), "{stdout}");
    let mut after = snapshot(&project);
    // Only the new output and the run's own records differ.
    after.retain(|(file, _)| file != "output/done.txt" && !file.starts_with("metadata/"));
    let mut expected = before.clone();
    expected.retain(|(file, _)| !file.starts_with("metadata/"));
    assert_eq!(after, expected);
    assert_eq!([mode("analysis/make.py"), mode("project.yaml")], modes);
    // The producer's recorded output is still what the manifest says.
    let manifest: serde_json::Value =
        serde_json::from_str(&read(&project.join("metadata/manifest.json"))).unwrap();
    assert_eq!(
        manifest["outputs"]["output/real.csv"]["content_hash"],
        sha256(read(&project.join("output/real.csv")).as_bytes())
    );
}
