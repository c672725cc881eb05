//! Executors: what runs an action's command, in its directory.
//!
//! - cohort-joiner, dataset-report and `cohortextractor generate_cohort` run
//!   in-process through [`crate::cli::execute`], with every relative path in
//!   their arguments made absolute against the action's directory (the
//!   process's current directory is shared by concurrent actions and never
//!   changed);
//! - python, r, jupyter and stata-mp images run a local program in the
//!   action's directory, with `/workspace` in arguments mapped to it;
//! - anything else is unavailable, with a message saying what would run it.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};

use super::json::python_json;
use super::metadata::ActionLog;
use super::outputs::Level;
use super::project::Action;
use super::shell;
use super::validate::parent;

/// How an action is run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Executor {
    /// A tool built into cohortkit.
    Native(Native),
    /// A program found on PATH, with its arguments (before `/workspace`
    /// mapping).
    Local {
        /// The program.
        program: PathBuf,
        /// Its arguments.
        args: Vec<String>,
    },
    /// Nothing on this machine can run the action; the reason.
    Unavailable(String),
}

/// The tools cohortkit runs itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Native {
    /// `cohort-joiner:ANY`.
    Joiner,
    /// `dataset-report:ANY`.
    Report,
    /// `cohortextractor:ANY generate_cohort`.
    GenerateCohort,
}

/// How an action ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    /// The command as run, for the log.
    pub command: String,
    /// 0 for success.
    pub exit_code: i32,
}

/// A program that an image provides, and the local programs standing in
/// for it (first found wins).
struct ImageProgram {
    name: &'static str,
    local: &'static [&'static str],
}

/// Each image's default program first, then the other programs it has.
fn image_programs(image: &str) -> Option<&'static [ImageProgram]> {
    const PYTHON: &[&str] = &["python3", "python"];
    Some(match image {
        "python" => &[
            ImageProgram {
                name: "python",
                local: PYTHON,
            },
            ImageProgram {
                name: "python3",
                local: PYTHON,
            },
        ],
        "r" => &[
            ImageProgram {
                name: "Rscript",
                local: &["Rscript"],
            },
            ImageProgram {
                name: "R",
                local: &["R"],
            },
        ],
        "jupyter" => &[
            ImageProgram {
                name: "jupyter",
                local: &["jupyter"],
            },
            ImageProgram {
                name: "python",
                local: PYTHON,
            },
            ImageProgram {
                name: "python3",
                local: PYTHON,
            },
        ],
        "stata-mp" => &[ImageProgram {
            name: "stata-mp",
            local: &["stata-mp"],
        }],
        _ => return None,
    })
}

/// Picks the executor of `action` from its image and the programs on PATH.
pub fn choose(action: &Action) -> Executor {
    let run = &action.run;
    let image_tag = &run.words[0];
    match run.image() {
        "cohort-joiner" => return Executor::Native(Native::Joiner),
        "dataset-report" => return Executor::Native(Native::Report),
        "cohortextractor" if run.is_generate_cohort() => {
            return Executor::Native(Native::GenerateCohort);
        }
        "cohortextractor" => {
            return match which("cohortextractor") {
                Some(program) => Executor::Local {
                    program,
                    args: command_args(action),
                },
                None => Executor::Unavailable(format!(
                    "image {image_tag} is not available locally: cohortkit runs only `generate_cohort` natively; install cohortextractor (pip install opensafely-cohort-extractor) for other commands"
                )),
            };
        }
        _ => {}
    }
    let Some(programs) = image_programs(run.image()) else {
        return Executor::Unavailable(format!(
            "image {image_tag} is not available locally: cohortkit runs cohort-joiner, dataset-report and cohortextractor generate_cohort itself, and python, r, jupyter and stata-mp actions with local programs; run this action with `opensafely run` (Docker)"
        ));
    };
    let mut args = command_args(action);
    // `IMAGE PROGRAM args` runs PROGRAM, else the default program gets all.
    let named = args
        .first()
        .and_then(|first| programs.iter().find(|p| p.name == first.as_str()));
    let wanted = match named {
        Some(program) => {
            args.remove(0);
            program
        }
        None => &programs[0],
    };
    match wanted.local.iter().find_map(|name| which(name)) {
        Some(program) => Executor::Local { program, args },
        None => Executor::Unavailable(format!(
            "image {image_tag} is not available locally: {} not found on PATH; install it, or run this action with `opensafely run` (Docker)",
            wanted.local.join(" or ")
        )),
    }
}

/// The action's arguments after the image, with `config:` appended as
/// upstream does (`--config '<JSON>'`).
pub fn command_args(action: &Action) -> Vec<String> {
    let mut args = action.run.args().to_vec();
    if let Some(config) = &action.config {
        args.push("--config".into());
        args.push(python_json(config).replace('\'', "\\u0027"));
    }
    args
}

/// The first executable called `name` on PATH.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.is_file() && meta.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        meta.is_file()
    }
}

/// What a running action needs to know.
pub struct Job<'a> {
    /// The action.
    pub action: &'a Action,
    /// The dummy population for `generate_cohort`.
    pub population: u64,
    /// The action's directory.
    pub dir: &'a Path,
    /// Its log.
    pub log: &'a ActionLog,
}

/// Runs the action with `executor` and waits for it.
pub fn run(executor: &Executor, job: &Job) -> Finished {
    match executor {
        Executor::Native(Native::Joiner) => {
            let args = absolute_paths(&command_args(job.action), JOINER_PATHS, job.dir);
            run_native(job, "cohort-joiner", &[], args, &[])
        }
        Executor::Native(Native::Report) => {
            let args = absolute_paths(&command_args(job.action), REPORT_PATHS, job.dir);
            // The report names its input as the study does
            // (`output/joined/…`), not by the action's work directory.
            let mut unlogged = vec!["--relative-to".into(), job.dir.display().to_string()];
            // A report to be released comes with the long table of its
            // figures that output checkers review (collected by
            // [`report_companions`]).
            if job
                .action
                .outputs
                .iter()
                .any(|o| o.level == Level::ModeratelySensitive)
            {
                unlogged.push("--csv".into());
            }
            run_native(job, "dataset-report", &[], args, &unlogged)
        }
        Executor::Native(Native::GenerateCohort) => generate_cohort(job),
        Executor::Local { program, args } => run_process(job, program, args),
        Executor::Unavailable(reason) => {
            job.log.line(reason);
            Finished {
                command: job.action.run.raw.clone(),
                exit_code: 127,
            }
        }
    }
}

/// The long tables (`<name>.csv`, or `<name>-1.csv`, ...) the native report
/// wrote beside each `moderately_sensitive` report among `found`, at the
/// report's level: outputs of the action though its patterns name only the
/// HTML.
pub fn report_companions(
    executor: &Executor,
    found: &BTreeMap<String, Level>,
    files: &[String],
) -> Vec<(String, Level)> {
    if !matches!(executor, Executor::Native(Native::Report)) {
        return Vec::new();
    }
    let reports = found.iter().filter_map(|(file, &level)| {
        let stem = file.strip_suffix(".html")?;
        (level == Level::ModeratelySensitive).then_some((stem, level))
    });
    reports
        .flat_map(|(stem, level)| {
            files.iter().filter_map(move |file| {
                let rest = file.strip_prefix(stem)?.strip_suffix(".csv")?;
                let part = rest.strip_prefix('-').unwrap_or(rest);
                let is_table = rest.is_empty()
                    || (rest.starts_with('-') && part.bytes().all(|b| b.is_ascii_digit()));
                is_table.then(|| (file.clone(), level))
            })
        })
        .collect()
}

/// An option of a native tool that takes a path.
struct PathOption {
    name: &'static str,
    /// A glob pattern rather than a path.
    glob: bool,
    /// The tool's relative default, passed explicitly when absent.
    default: Option<&'static str>,
}

const JOINER_PATHS: &[PathOption] = &[
    PathOption {
        name: "--lhs",
        glob: true,
        default: None,
    },
    PathOption {
        name: "--rhs",
        glob: false,
        default: None,
    },
    PathOption {
        name: "--output-dir",
        glob: false,
        default: Some("output/joined"),
    },
    PathOption {
        name: "--stats",
        glob: false,
        default: None,
    },
];

const REPORT_PATHS: &[PathOption] = &[
    PathOption {
        name: "--input-files",
        glob: true,
        default: None,
    },
    PathOption {
        name: "--output-dir",
        glob: false,
        default: Some("output"),
    },
];

/// `/workspace` (the action's directory inside upstream's containers) as
/// the local directory, in an argument or after `=` in one.
fn map_workspace(arg: &str, dir: &Path) -> String {
    let dir = dir.to_string_lossy();
    let mapped = |rest: &str| rest.is_empty() || rest.starts_with('/');
    if let Some(rest) = arg.strip_prefix("/workspace").filter(|r| mapped(r)) {
        return format!("{dir}{rest}");
    }
    if let Some((key, value)) = arg.split_once('=') {
        if let Some(rest) = value.strip_prefix("/workspace").filter(|r| mapped(r)) {
            return format!("{key}={dir}{rest}");
        }
    }
    arg.to_owned()
}

/// Makes the values of path options absolute against `dir` (escaping `dir`
/// in globs) and adds the options with relative defaults.
fn absolute_paths(args: &[String], options: &[PathOption], dir: &Path) -> Vec<String> {
    let absolute = |option: &PathOption, value: &str| -> String {
        let value = map_workspace(value, dir);
        if Path::new(&value).is_absolute() {
            value
        } else if option.glob {
            format!("{}/{value}", glob::Pattern::escape(&dir.to_string_lossy()))
        } else {
            dir.join(value).to_string_lossy().into_owned()
        }
    };
    let mut out = Vec::with_capacity(args.len());
    let mut seen = Vec::new();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => (name, Some(value)),
            _ => (arg.as_str(), None),
        };
        let Some(option) = options.iter().find(|o| o.name == name) else {
            out.push(map_workspace(arg, dir));
            continue;
        };
        seen.push(option.name);
        out.push(option.name.to_owned());
        match inline.or_else(|| iter.next().map(String::as_str)) {
            Some(value) => out.push(absolute(option, value)),
            None => break,
        }
    }
    for option in options {
        if let (Some(default), false) = (option.default, seen.contains(&option.name)) {
            out.push(option.name.to_owned());
            out.push(absolute(option, default));
        }
    }
    out
}

/// Runs a cohortkit command in-process with `--quiet` (every native tool
/// has it); its error becomes the log.
fn run_native(
    job: &Job,
    name: &str,
    prefix: &[&str],
    args: Vec<String>,
    unlogged: &[String],
) -> Finished {
    let mut argv: Vec<String> = std::iter::once(name)
        .chain(prefix.iter().copied())
        .map(str::to_owned)
        .chain(args)
        .collect();
    argv.push("--quiet".into());
    let dir_prefix = format!("{}/", job.dir.display());
    let command = shell::join(&argv).replace(&dir_prefix, "");
    job.log.line(&format!("cohortkit: {command}"));
    argv.extend_from_slice(unlogged);
    let os_args: Vec<OsString> = argv.into_iter().map(OsString::from).collect();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        crate::cli::execute(name, os_args)
    }));
    let exit_code = match result {
        Ok(Ok(())) => 0,
        Ok(Err(error)) => {
            for line in format!("{error:#}").replace(&dir_prefix, "").lines() {
                job.log.line(line);
            }
            1
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("unknown cause");
            job.log.line(&format!("cohortkit crashed: {what}"));
            101
        }
    };
    Finished { command, exit_code }
}

/// Runs `program` in the action's directory, logging its output lines.
fn run_process(job: &Job, program: &Path, args: &[String]) -> Finished {
    let args: Vec<String> = args.iter().map(|a| map_workspace(a, job.dir)).collect();
    let command = format!("{} {}", program.display(), shell::join(&args));
    let child = Process::new(program)
        .args(&args)
        .current_dir(job.dir)
        .env("OPENSAFELY_BACKEND", "expectations")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) => {
            job.log
                .line(&format!("cannot start {}: {e}", program.display()));
            return Finished {
                command,
                exit_code: 127,
            };
        }
    };
    let stdout = child.stdout.take().expect("piped");
    let stderr = child.stderr.take().expect("piped");
    let status = std::thread::scope(|scope| {
        scope.spawn(|| copy_lines(stdout, job.log));
        scope.spawn(|| copy_lines(stderr, job.log));
        child.wait()
    });
    let exit_code = match status {
        Ok(status) => status.code().unwrap_or_else(|| {
            #[cfg(unix)]
            {
                use std::os::unix::process::ExitStatusExt;
                128 + status.signal().unwrap_or(0)
            }
            #[cfg(not(unix))]
            {
                1
            }
        }),
        Err(e) => {
            job.log
                .line(&format!("cannot wait for {}: {e}", program.display()));
            1
        }
    };
    Finished { command, exit_code }
}

fn copy_lines(stream: impl std::io::Read, log: &ActionLog) {
    let mut reader = std::io::BufReader::new(stream);
    let mut line = Vec::new();
    while reader.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
        log.line(&String::from_utf8_lossy(&line));
        line.clear();
    }
}

/// The options of `cohortextractor generate_cohort` that cohortkit reads.
#[derive(Debug, Default, PartialEq, Eq)]
struct CohortArgs {
    study_definition: Option<String>,
    index_date_range: Option<String>,
    output_dir: Option<String>,
    output_format: Option<String>,
    output_file: Option<String>,
    skip_existing: bool,
    population: Option<String>,
    dummy_data_file: Option<String>,
    params: Vec<String>,
    with_end_date_fix: bool,
    /// Options accepted and not used, for the log.
    ignored: Vec<String>,
}

/// Reads `generate_cohort`'s options as its argparse does (last one wins).
fn parse_cohort_args(args: &[String]) -> Result<CohortArgs, String> {
    let mut parsed = CohortArgs::default();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => (name, Some(value.to_owned())),
            _ => (arg.as_str(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| iter.next().cloned())
                .ok_or_else(|| format!("generate_cohort option {name} needs a value"))
        };
        match name {
            "--study-definition" => parsed.study_definition = Some(value()?),
            "--index-date-range" => parsed.index_date_range = Some(value()?),
            "--output-dir" => parsed.output_dir = Some(value()?),
            "--output-format" => parsed.output_format = Some(value()?),
            "--output-file" => parsed.output_file = Some(value()?),
            "--expectations-population" => parsed.population = Some(value()?),
            "--dummy-data-file" => parsed.dummy_data_file = Some(value()?),
            "--skip-existing" => parsed.skip_existing = true,
            "--param" => parsed.params.push(value()?),
            "--with-end-date-fix" => parsed.with_end_date_fix = true,
            "--temp-database-name" => {
                let v = value()?;
                parsed.ignored.push(format!("{name} {v}"));
            }
            other => {
                return Err(format!(
                    "generate_cohort argument {other} is not one cohortkit knows; remove it, or install cohortextractor to run this action with it"
                ));
            }
        }
    }
    Ok(parsed)
}

/// The arguments upstream's runner appends to `generate_cohort`: the
/// population (or the dummy data file) and, when every output is in one
/// directory, `--output-dir`.
fn generate_cohort_args(action: &Action, population: u64) -> Vec<String> {
    let mut args = command_args(action);
    match &action.dummy_data_file {
        Some(file) => args.push(format!("--dummy-data-file={file}")),
        None => args.push(format!("--expectations-population={population}")),
    }
    let mut dirs: Vec<&str> = action.patterns().map(parent).collect();
    dirs.dedup();
    if let [dir] = dirs[..] {
        args.push(format!("--output-dir={dir}"));
    }
    args
}

/// `cohortextractor generate_cohort` through `cohortkit generate` with the
/// study's schema; through a cohortextractor on PATH when there is no
/// schema.
fn generate_cohort(job: &Job) -> Finished {
    let all = generate_cohort_args(job.action, job.population);
    let fail = |message: String| {
        job.log.line(&message);
        Finished {
            command: job.action.run.raw.clone(),
            exit_code: 2,
        }
    };
    let parsed = match parse_cohort_args(&all[1..]) {
        Ok(parsed) => parsed,
        Err(message) => return fail(message),
    };
    let schemas = match schemas(job.dir, parsed.study_definition.as_deref()) {
        Ok(schemas) => schemas,
        Err(missing) => {
            return match which("cohortextractor") {
                Some(program) => run_process(job, &program, &all),
                None => fail(format!(
                    "no dummy-data schema {missing}: cohortkit makes dummy cohorts from a schema. Create it with `cohortkit schema import` (from `cohortextractor dump_study_yaml`), or install cohortextractor (pip install opensafely-cohort-extractor) to run this action with it"
                )),
            };
        }
    };
    for ignored in &parsed.ignored {
        job.log.line(&format!(
            "note: {ignored} is ignored: dummy data does not depend on it"
        ));
    }
    let dir = job.dir;
    let absolute = |path: &str| {
        dir.join(map_workspace(path, dir))
            .to_string_lossy()
            .into_owned()
    };
    let mut options = vec![
        "--expectations-population".to_owned(),
        parsed
            .population
            .clone()
            .unwrap_or_else(|| job.population.to_string()),
        "--output-dir".into(),
        absolute(parsed.output_dir.as_deref().unwrap_or("output")),
    ];
    let optional = [
        ("--index-date-range", parsed.index_date_range.clone()),
        ("--output-format", parsed.output_format.clone()),
        ("--output-file", parsed.output_file.as_deref().map(absolute)),
        (
            "--dummy-data-file",
            parsed.dummy_data_file.as_deref().map(absolute),
        ),
    ];
    for (name, value) in optional {
        if let Some(value) = value {
            options.extend([name.to_owned(), value]);
        }
    }
    for param in &parsed.params {
        options.extend(["--param".to_owned(), param.clone()]);
    }
    for (flag, set) in [
        ("--skip-existing", parsed.skip_existing),
        ("--with-end-date-fix", parsed.with_end_date_fix),
    ] {
        if set {
            options.push(flag.into());
        }
    }
    let mut last = None;
    for schema in schemas {
        let mut args = vec!["--schema".to_owned(), schema.to_string_lossy().into_owned()];
        args.extend(options.iter().cloned());
        let finished = run_native(job, "cohortkit", &["generate"], args, &[]);
        if finished.exit_code != 0 {
            return finished;
        }
        last = Some(finished);
    }
    last.expect("at least one schema")
}

/// The schemas of the study definitions to generate: the named one, or
/// every `analysis/study_definition*.schema.yaml` (cohortextractor runs every
/// study definition when none is named). The error names what is missing.
fn schemas(dir: &Path, study_definition: Option<&str>) -> Result<Vec<PathBuf>, String> {
    let analysis = dir.join("analysis");
    if let Some(name) = study_definition {
        let schema = analysis.join(format!("{name}.schema.yaml"));
        return if schema.is_file() {
            Ok(vec![schema])
        } else {
            Err(format!("analysis/{name}.schema.yaml"))
        };
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir(&analysis)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("study_definition") && n.ends_with(".schema.yaml"))
        })
        .collect();
    found.sort();
    if found.is_empty() {
        Err("analysis/study_definition*.schema.yaml".into())
    } else {
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::project::parse;

    fn action(run: &str, extra: &str) -> Action {
        let text = format!(
            "version: 3\nexpectations: {{population_size: 10}}\nactions:\n  a:\n    run: {run}\n    outputs: {{highly_sensitive: {{c: output/input_*.csv.gz}}}}\n{extra}"
        );
        parse(&text).unwrap().actions.remove(0)
    }

    #[test]
    fn generate_cohort_gets_upstreams_appended_arguments() {
        let a = action(
            "cohortextractor:latest generate_cohort --study-definition sd --index-date-range '2020-01-01 to 2020-02-01 by week' --output-format=csv.gz --param x=1",
            "",
        );
        let args = generate_cohort_args(&a, 250);
        assert_eq!(
            &args[args.len() - 2..],
            ["--expectations-population=250", "--output-dir=output"]
        );
        let parsed = parse_cohort_args(&args[1..]).unwrap();
        assert_eq!(parsed.study_definition.as_deref(), Some("sd"));
        assert_eq!(
            parsed.index_date_range.as_deref(),
            Some("2020-01-01 to 2020-02-01 by week")
        );
        assert_eq!(parsed.output_format.as_deref(), Some("csv.gz"));
        assert_eq!(parsed.population.as_deref(), Some("250"));
        assert_eq!(parsed.output_dir.as_deref(), Some("output"));
        assert_eq!(parsed.params, ["x=1"]);
        assert!(
            parse_cohort_args(&["--bogus".into()])
                .unwrap_err()
                .contains("--bogus")
        );

        let with_file = action(
            "cohortextractor:latest generate_cohort",
            "    dummy_data_file: test.csv\n",
        );
        let args = generate_cohort_args(&with_file, 250);
        assert!(args.contains(&"--dummy-data-file=test.csv".to_string()));
        assert!(
            !args
                .iter()
                .any(|a| a.starts_with("--expectations-population"))
        );
    }

    #[test]
    fn native_paths_become_absolute_and_defaults_explicit() {
        let dir = Path::new("/tmp/ws [1]");
        let args: Vec<String> = [
            "--lhs",
            "output/input_20*.csv.gz",
            "--rhs=output/input_end.csv.gz",
            "--threads",
            "2",
        ]
        .map(String::from)
        .into();
        assert_eq!(
            absolute_paths(&args, JOINER_PATHS, dir),
            [
                "--lhs",
                "/tmp/ws [[]1[]]/output/input_20*.csv.gz",
                "--rhs",
                "/tmp/ws [1]/output/input_end.csv.gz",
                "--threads",
                "2",
                "--output-dir",
                "/tmp/ws [1]/output/joined"
            ]
        );
        let mapped = absolute_paths(
            &["--output-dir".into(), "/workspace/out".into()],
            JOINER_PATHS,
            Path::new("/w"),
        );
        assert_eq!(mapped, ["--output-dir", "/w/out"]);
    }

    #[test]
    fn workspace_paths_are_mapped_in_arguments() {
        let dir = Path::new("/tmp/w");
        assert_eq!(
            map_workspace("/workspace/analysis/a.ipynb", dir),
            "/tmp/w/analysis/a.ipynb"
        );
        assert_eq!(
            map_workspace("--output-dir=/workspace/output", dir),
            "--output-dir=/tmp/w/output"
        );
        assert_eq!(map_workspace("/workspace", dir), "/tmp/w");
        assert_eq!(map_workspace("/workspaces/x", dir), "/workspaces/x");
        assert_eq!(map_workspace("analysis/a.py", dir), "analysis/a.py");
    }

    #[test]
    fn config_is_appended_as_python_json() {
        let a = action(
            "python:latest analysis/a.py",
            "    config: {name: \"it's\", n: [1, 2.5], u: é}\n",
        );
        let args = command_args(&a);
        assert_eq!(
            args,
            [
                "analysis/a.py",
                "--config",
                r#"{"name": "it\u0027s", "n": [1, 2.5], "u": "\u00e9"}"#
            ]
        );
    }

    #[test]
    fn images_pick_their_programs_or_say_what_is_missing() {
        let unknown = choose(&action(
            "ehrql:v1 generate-dataset x.py --output output/input_*.csv.gz",
            "",
        ));
        match unknown {
            Executor::Unavailable(reason) => {
                assert!(
                    reason.starts_with("image ehrql:v1 is not available locally"),
                    "{reason}"
                )
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            choose(&action("cohort-joiner:v0.0.44 --lhs a --rhs b", "")),
            Executor::Native(Native::Joiner)
        );
        if let Some(sh) = which("sh") {
            assert!(sh.is_absolute());
        }
        let stata = choose(&action("stata-mp:latest analysis/x.do", ""));
        if which("stata-mp").is_none() {
            assert!(
                matches!(stata, Executor::Unavailable(r) if r.contains("stata-mp not found on PATH"))
            );
        }
    }
}
