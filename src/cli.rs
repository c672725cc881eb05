//! Command-line definitions and dispatch. The binary behaves as
//! `cohort-joiner` or `dataset-report` when invoked under those names.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::table::gzip;

/// Fast, lossless cohort joins, dummy cohorts, reports and pipelines for
/// OpenSAFELY-style studies.
#[derive(Debug, Parser)]
#[command(name = "cohortkit", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Left-join cohort files to a per-patient file on patient_id
    /// (a drop-in for cohort-joiner).
    Join(JoinArgs),
    /// Make cohortextractor-compatible dummy cohorts from a schema.
    Generate(crate::dummy::GenerateArgs),
    /// Work with dummy-data schemas (import from `cohortextractor dump_study_yaml`).
    Schema(crate::dummy::SchemaArgs),
    /// Write an HTML dataset report per file, under disclosure control
    /// (a drop-in for dataset-report).
    Report(crate::report::ReportArgs),
    /// Validate a project.yaml.
    Check(crate::pipeline::CheckArgs),
    /// Run actions of a project.yaml pipeline, data actions natively.
    Run(crate::pipeline::RunArgs),
    /// Run the bundled FLUCATS study end to end.
    Demo(crate::pipeline::DemoArgs),
}

/// Arguments of `cohortkit join` and `cohort-joiner`.
#[derive(Debug, Args)]
pub struct JoinArgs {
    /// Glob pattern of the files to join (quote it so the shell leaves it alone).
    #[arg(long, value_name = "GLOB")]
    pub lhs: String,
    /// The per-patient file to join to each lhs file (a path, not a pattern).
    #[arg(long, value_name = "FILE")]
    pub rhs: String,
    /// Where the joined files go; each keeps its lhs file's name and format.
    #[arg(long, value_name = "DIR", default_value = "output/joined")]
    pub output_dir: PathBuf,
    /// Worker threads (default: all cores).
    #[arg(long, value_name = "N", value_parser = crate::cli::parse_threads)]
    pub threads: Option<usize>,
    /// Gzip level for .csv.gz and .dta.gz outputs: 0 (none) to 12 (smallest).
    #[arg(long, value_name = "N", default_value_t = gzip::DEFAULT_LEVEL, value_parser = parse_level)]
    pub compression_level: u32,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
    /// Also write per-file match statistics to FILE (.csv or .json).
    #[arg(long, value_name = "FILE")]
    pub stats: Option<PathBuf>,
}

/// Parses a gzip level for clap (shared by the commands that write gzip).
pub(crate) fn parse_level(text: &str) -> Result<u32, String> {
    let level: u32 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number"))?;
    gzip::check_level(level)
}

/// The most worker threads `--threads` may ask for.
pub const MAX_THREADS: usize = 1024;

/// A `--threads` value: 1 to [`MAX_THREADS`], or 0 for all cores.
pub(crate) fn parse_threads(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(threads) if threads <= MAX_THREADS => Ok(threads),
        _ => Err(format!(
            "{text:?} is not a number of threads from 1 to {MAX_THREADS} (0: all cores)"
        )),
    }
}

/// The `cohort-joiner` command line: exactly the join's arguments.
#[derive(Debug, Parser)]
#[command(
    name = "cohort-joiner",
    version,
    about = "Left-join cohort files to a per-patient file on patient_id (cohortkit)"
)]
struct JoinerCli {
    #[command(flatten)]
    args: JoinArgs,
}

/// Runs the program as the tool named by `argv[0]`: `cohort-joiner`,
/// `dataset-report`, or `cohortkit` with a subcommand.
pub fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    let program = args
        .first()
        .map(PathBuf::from)
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_default();
    run_as(&program, args)
}

/// Runs the program as `name` whatever `argv[0]` is (the thin binaries).
pub fn main_as(name: &str) -> ExitCode {
    run_as(name, std::env::args_os().collect())
}

/// The `dataset-report` command line: exactly the report's arguments.
#[derive(Debug, Parser)]
#[command(
    name = "dataset-report",
    version,
    about = "HTML dataset reports under disclosure control (cohortkit)"
)]
struct ReportCli {
    #[command(flatten)]
    args: crate::report::ReportArgs,
}

/// Parses `args` as the tool `name` would and runs it, returning its error
/// instead of exiting (the pipeline runs actions in-process this way).
/// Usage errors come back as errors too.
pub fn execute(name: &str, args: Vec<OsString>) -> anyhow::Result<()> {
    match name {
        "cohort-joiner" => crate::join::run(&JoinerCli::try_parse_from(args)?.args),
        "dataset-report" => crate::report::run(
            &ReportCli::try_parse_from(args)?.args,
            crate::report::Invocation::DatasetReport,
        ),
        _ => match Cli::try_parse_from(args)?.command {
            Command::Join(join) => crate::join::run(&join),
            Command::Generate(generate) => crate::dummy::generate(&generate),
            Command::Schema(schema) => crate::dummy::schema(&schema),
            Command::Report(report) => {
                crate::report::run(&report, crate::report::Invocation::Cohortkit)
            }
            Command::Check(check) => crate::pipeline::check(&check),
            Command::Run(run) => crate::pipeline::run(&run),
            Command::Demo(demo) => crate::pipeline::demo(&demo),
        },
    }
}

fn run_as(name: &str, args: Vec<OsString>) -> ExitCode {
    install_interrupt_handler();
    let result = execute(name, args);
    if let Some(usage) = result
        .as_ref()
        .err()
        .and_then(|e| e.downcast_ref::<clap::Error>())
    {
        usage.exit();
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// On Ctrl-C, SIGTERM or SIGHUP: remove unfinished outputs, then exit.
fn install_interrupt_handler() {
    let _ = ctrlc::set_handler(|| {
        crate::table::atomic::remove_all_pending();
        eprintln!("interrupted: unfinished outputs removed");
        std::process::exit(130);
    });
}
