//! Executors: what runs an action's command, in its directory.
//!
//! - cohort-joiner, dataset-report, `cohortextractor generate_cohort` and
//!   `generate_measures`, and ehrQL's `generate-dataset` where no `ehrql` is
//!   on PATH, run in-process, each parsing its own command line with `-C <action's
//!   directory>` prepended, so that it takes its paths from there (the
//!   process's current directory is shared by concurrent actions and never
//!   changed);
//! - python, r, jupyter and stata-mp images run a local program in the
//!   action's directory, with `/workspace` in arguments mapped to it;
//! - anything else is unavailable, with a message saying what would run it.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::Parser;

use super::json::python_json;
use super::metadata::ActionLog;
use super::outputs::{Level, parent};
use super::process;
use super::project::Action;
use super::shell;
use crate::dummy::{GenerateCli, MissingSchema};
use crate::ehrql::{GenerateDatasetCli, NoWay};
use crate::join::JoinerCli;
use crate::measures::MeasuresCli;
use crate::report::{Invocation, ReportCli};

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
    /// `cohortextractor:ANY generate_measures`.
    GenerateMeasures,
    /// `ehrql:ANY generate-dataset`, from a dummy data file or a schema.
    GenerateDataset,
}

impl Native {
    /// Whether the action never runs another program: `generate_cohort`
    /// runs a cohortextractor on PATH for a study with no schema, and
    /// `generate_measures` evaluates the study definition with python3.
    pub fn in_process_only(self) -> bool {
        matches!(
            self,
            Native::Joiner | Native::Report | Native::GenerateDataset
        )
    }

    /// The tool's name, its `argv[0]`.
    fn name(self) -> &'static str {
        match self {
            Native::Joiner => "cohort-joiner",
            Native::Report => "dataset-report",
            Native::GenerateCohort => "generate_cohort",
            Native::GenerateMeasures => "generate_measures",
            Native::GenerateDataset => "generate-dataset",
        }
    }

    /// Parses `argv` as the tool does and runs it, noting in `log` what it
    /// leaves to other tools; usage errors come back as errors.
    fn execute(self, argv: Vec<OsString>, log: &ActionLog) -> anyhow::Result<()> {
        match self {
            Native::Joiner => crate::join::run(&JoinerCli::try_parse_from(argv)?.args),
            Native::Report => crate::report::run(
                &ReportCli::try_parse_from(argv)?.args,
                Invocation::DatasetReport,
            ),
            Native::GenerateCohort => GenerateCli::try_parse_from(argv)?.run(),
            Native::GenerateMeasures => {
                crate::measures::generate(&MeasuresCli::try_parse_from(argv)?.args)
            }
            Native::GenerateDataset => {
                let args = GenerateDatasetCli::try_parse_from(argv)?.args;
                for note in args.notes() {
                    log.line(&format!("note: {note}"));
                }
                crate::ehrql::generate_dataset(&args)
            }
        }
    }
}

/// How an action ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    /// The command as run, for the log.
    pub command: String,
    /// 0 for success.
    pub exit_code: i32,
    /// How it ran: `native` (in cohortkit), `local PROGRAM`, or
    /// `unavailable`.
    pub how: String,
    /// Why nothing here could run the action, when that is why it failed
    /// (found before it started, or only when a native tool met a study it
    /// cannot read without another program).
    pub unavailable: Option<String>,
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

/// What else runs an action that nothing here can, for a project file of
/// `version`: `opensafely run` (Docker) takes version 5 only.
fn elsewhere(version: f64) -> String {
    if version >= 5.0 {
        "run this action with `opensafely run` (Docker)".into()
    } else {
        format!(
            "`opensafely run` (Docker) refuses this version {} project file: update project.yaml to version 5 to run the action there",
            crate::table::text::python_float(version)
        )
    }
}

/// Picks the executor of `action` (of a project file of `version`) from
/// its image and the programs on PATH.
pub fn choose(action: &Action, version: f64) -> Executor {
    let run = &action.run;
    let image_tag = &run.words[0];
    match run.image() {
        "cohort-joiner" => return Executor::Native(Native::Joiner),
        "dataset-report" => return Executor::Native(Native::Report),
        "cohortextractor" if run.is_generate_cohort() => {
            return Executor::Native(Native::GenerateCohort);
        }
        "cohortextractor" if run.words.get(1).is_some_and(|w| w == "generate_measures") => {
            return Executor::Native(Native::GenerateMeasures);
        }
        "cohortextractor" => {
            return match which("cohortextractor") {
                Some(program) => Executor::Local {
                    program,
                    args: command_args(action),
                },
                None => Executor::Unavailable(format!(
                    "image {image_tag} is not available locally: cohortkit runs only `generate_cohort` and `generate_measures` natively; install cohortextractor (pip install opensafely-cohort-extractor) for other commands"
                )),
            };
        }
        "ehrql" | "databuilder" => return ehrql(action, version),
        _ => {}
    }
    let Some(programs) = image_programs(run.image()) else {
        return Executor::Unavailable(format!(
            "image {image_tag} is not available locally: cohortkit runs cohort-joiner, dataset-report, cohortextractor generate_cohort and generate_measures and ehrql generate-dataset itself, and python, r, jupyter and stata-mp actions with local programs; {}",
            elsewhere(version)
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
            "image {image_tag} is not available locally: {} not found on PATH; install it, or {}",
            wanted.local.join(" or "),
            elsewhere(version)
        )),
    }
}

/// How an `ehrql` action runs: with an `ehrql` on PATH, else
/// `generate-dataset` natively; other commands need ehrQL.
fn ehrql(action: &Action, version: f64) -> Executor {
    if let Some(program) = which("ehrql") {
        return Executor::Local {
            program,
            args: command_args(action),
        };
    }
    match action.run.words.get(1).map(String::as_str) {
        Some("generate-dataset") => Executor::Native(Native::GenerateDataset),
        command => Executor::Unavailable(format!(
            "image {} is not available locally: cohortkit runs only `generate-dataset` natively (from a dummy data file or a schema); install ehrQL (`pip install opensafely-ehrql`, Python 3.13+, from github.com/opensafely-core/ehrql) so that `ehrql` is on PATH to run `{}`, or {}",
            action.run.words[0],
            command.unwrap_or("ehrql"),
            elsewhere(version)
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
pub struct ActionJob<'a> {
    /// The action.
    pub action: &'a Action,
    /// The dummy population for `generate_cohort`.
    pub population: u64,
    /// The action's directory.
    pub dir: &'a Path,
    /// Its log.
    pub log: &'a ActionLog,
    /// The variables of the environment passed on besides the minimal ones
    /// (`--env`).
    pub env: &'a [String],
}

/// Runs the action with `executor` and waits for it.
pub fn run(executor: &Executor, job: &ActionJob) -> Finished {
    match executor {
        Executor::Native(Native::Joiner) => finish_native(
            job,
            run_native(job, Native::Joiner, &command_args(job.action), &[]),
        ),
        Executor::Native(Native::Report) => {
            // A report to be released comes with the long table of its
            // figures that output checkers review (collected by
            // [`report_companions`]).
            let released = job
                .action
                .outputs
                .iter()
                .any(|o| o.level == Level::ModeratelySensitive);
            let unlogged: &[&str] = if released { &["--csv"] } else { &[] };
            let ran = run_native(job, Native::Report, &command_args(job.action), unlogged);
            finish_native(job, ran)
        }
        Executor::Native(Native::GenerateCohort) => generate_cohort(job),
        Executor::Native(Native::GenerateMeasures) => generate_measures(job),
        Executor::Native(Native::GenerateDataset) => generate_dataset(job),
        Executor::Local { program, args } => run_process(job, program, args),
        Executor::Unavailable(reason) => {
            job.log.line(reason);
            Finished {
                command: job.action.run.raw.clone(),
                exit_code: 127,
                how: "unavailable".into(),
                unavailable: Some(reason.clone()),
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

/// A native tool's run: the command as logged, and how it ended (`Err`
/// for a crash, with its message).
struct NativeRun {
    command: String,
    result: Result<anyhow::Result<()>, String>,
}

/// Runs a native tool in-process in the action's directory (`-C`), with
/// `/workspace` mapped in its arguments and `--quiet` (every native tool
/// has it); `unlogged` arguments are left out of the logged command.
fn run_native(job: &ActionJob, tool: Native, args: &[String], unlogged: &[&str]) -> NativeRun {
    let mut shown: Vec<String> = std::iter::once(tool.name().to_owned())
        .chain(args.iter().map(|a| map_workspace(a, job.dir)))
        .collect();
    // Before `--`, where the arguments after it are the tool's parameters.
    let end = shown.iter().position(|a| a == "--").unwrap_or(shown.len());
    shown.insert(end, "--quiet".into());
    let command = shell::join(&shown).replace(&dir_prefix(job), "");
    job.log.line(&format!("cohortkit: {command}"));
    let dir = [OsString::from("-C"), job.dir.as_os_str().to_owned()];
    let mut argv: Vec<OsString> = shown.into_iter().map(OsString::from).collect();
    argv.splice(1..1, dir);
    argv.extend(unlogged.iter().map(OsString::from));
    let execute = || tool.execute(argv, job.log);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(execute)).map_err(|panic| {
        panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "unknown cause".into())
    });
    NativeRun { command, result }
}

/// The action's directory as a prefix, left out of what is logged.
fn dir_prefix(job: &ActionJob) -> String {
    format!("{}/", job.dir.display())
}

/// Logs how a native tool ended: its error, or its crash.
fn finish_native(job: &ActionJob, ran: NativeRun) -> Finished {
    let exit_code = match ran.result {
        Ok(Ok(())) => 0,
        Ok(Err(error)) => {
            for line in format!("{error:#}").replace(&dir_prefix(job), "").lines() {
                job.log.line(line);
            }
            1
        }
        Err(what) => {
            job.log.line(&format!("cohortkit crashed: {what}"));
            101
        }
    };
    Finished {
        command: ran.command,
        exit_code,
        how: "native".into(),
        unavailable: None,
    }
}

/// Runs `program` in the action's directory, logging its output lines.
fn run_process(job: &ActionJob, program: &Path, args: &[String]) -> Finished {
    // Logged as given, `/workspace` and all; run with it mapped.
    let command = format!("{} {}", program.display(), shell::join(args));
    let args: Vec<String> = args.iter().map(|a| map_workspace(a, job.dir)).collect();
    let exit_code = match process::run(program, &args, job.dir, job.env, job.log) {
        Ok(status) => process::exit_code(status),
        Err(e) => {
            job.log
                .line(&format!("cannot run {}: {e}", program.display()));
            127
        }
    };
    let name = program.file_name().unwrap_or(program.as_os_str());
    Finished {
        command,
        exit_code,
        how: format!("local {}", name.to_string_lossy()),
        unavailable: None,
    }
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
fn generate_cohort(job: &ActionJob) -> Finished {
    let all = generate_cohort_args(job.action, job.population);
    let ran = run_native(job, Native::GenerateCohort, &all[1..], &[]);
    let missing = match &ran.result {
        Ok(Err(e)) => e.downcast_ref::<MissingSchema>().map(|m| m.to_string()),
        _ => None,
    };
    or_cohortextractor(job, ran, missing, &all)
}

/// `cohortextractor generate_measures` natively, the study definition read
/// with python3; through a cohortextractor on PATH when there is no
/// python3.
fn generate_measures(job: &ActionJob) -> Finished {
    let all = command_args(job.action);
    let ran = run_native(job, Native::GenerateMeasures, &all[1..], &[]);
    let missing = match &ran.result {
        Ok(Err(e)) => match e.downcast_ref::<crate::study::StudyError>() {
            Some(no_python @ crate::study::StudyError::NoPython(_)) => Some(no_python.to_string()),
            _ => None,
        },
        _ => None,
    };
    or_cohortextractor(job, ran, missing, &all)
}

/// ehrQL's `generate-dataset` natively, saying in the log what ehrQL
/// would do besides; unavailable where neither a dummy data file nor a
/// schema gives the dataset.
fn generate_dataset(job: &ActionJob) -> Finished {
    let args = command_args(job.action);
    let ran = run_native(job, Native::GenerateDataset, &args[1..], &[]);
    let no_way = match &ran.result {
        Ok(Err(e)) => e.downcast_ref::<NoWay>().map(NoWay::to_string),
        _ => None,
    };
    let finished = finish_native(job, ran);
    match no_way {
        Some(reason) => Finished {
            how: "unavailable".into(),
            unavailable: Some(reason),
            ..finished
        },
        None => finished,
    }
}

/// How a native cohortextractor command ended, or, when it lacked what it
/// needs (`missing`), how a cohortextractor on PATH ran `args`; with
/// neither, the action is unavailable here.
fn or_cohortextractor(
    job: &ActionJob,
    ran: NativeRun,
    missing: Option<String>,
    args: &[String],
) -> Finished {
    let Some(missing) = missing else {
        return finish_native(job, ran);
    };
    if let Some(program) = which("cohortextractor") {
        return run_process(job, &program, args);
    }
    Finished {
        how: "unavailable".into(),
        unavailable: Some(format!("{missing}; no cohortextractor on PATH either")),
        ..finish_native(job, ran)
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
        // The generator reads them as upstream's argparse does, the last of
        // a repeated option winning.
        let mut argv = args.clone();
        argv.push("--output-dir=elsewhere".into());
        let parsed = GenerateCli::try_parse_from(&argv).unwrap().args;
        assert_eq!(parsed.study_definition.as_deref(), Some("sd"));
        assert_eq!(
            parsed.index_date_range.as_deref(),
            Some("2020-01-01 to 2020-02-01 by week")
        );
        assert_eq!(parsed.output_format, crate::table::Format::CsvGz);
        assert_eq!(parsed.population, 250);
        assert_eq!(parsed.output_dir, Path::new("elsewhere"));
        assert_eq!(parsed.params, ["x=1"]);
        let ignored = ["generate_cohort", "--temp-database-name", "db"];
        assert!(GenerateCli::try_parse_from(ignored).is_ok());
        let bogus = GenerateCli::try_parse_from(["generate_cohort", "--bogus"]).unwrap_err();
        assert!(bogus.to_string().contains("--bogus"), "{bogus}");

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
        let measures = action(
            "ehrql:v1 generate-measures x.py --output output/input_*.csv.gz",
            "",
        );
        let dataset = action(
            "ehrql:v1 generate-dataset x.py --output output/input_*.csv.gz",
            "",
        );
        match (which("ehrql"), choose(&dataset, 5.0)) {
            (None, Executor::Native(Native::GenerateDataset)) => {}
            (Some(ehrql), Executor::Local { program, .. }) => assert_eq!(program, ehrql),
            other => panic!("{other:?}"),
        }
        for (version, advice) in [
            (5.0, "run this action with `opensafely run` (Docker)"),
            (
                3.0,
                "`opensafely run` (Docker) refuses this version 3.0 project file: update project.yaml to version 5",
            ),
        ] {
            match choose(&measures, version) {
                Executor::Unavailable(reason) => {
                    assert!(
                        reason.starts_with("image ehrql:v1 is not available locally")
                            && reason.contains("to run `generate-measures`")
                            && reason.contains(advice),
                        "{reason}"
                    )
                }
                Executor::Local { .. } => assert!(which("ehrql").is_some()),
                other => panic!("{other:?}"),
            }
            match choose(&action("sqlrunner:v1 query.sql", ""), version) {
                Executor::Unavailable(reason) => assert!(reason.contains(advice), "{reason}"),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(
            choose(&action("cohort-joiner:v0.0.44 --lhs a --rhs b", ""), 3.0),
            Executor::Native(Native::Joiner)
        );
        if let Some(sh) = which("sh") {
            assert!(sh.is_absolute());
        }
        let stata = choose(&action("stata-mp:latest analysis/x.do", ""), 3.0);
        if which("stata-mp").is_none() {
            assert!(
                matches!(stata, Executor::Unavailable(r) if r.contains("stata-mp not found on PATH"))
            );
        }
    }
}
