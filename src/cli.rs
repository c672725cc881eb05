//! The `cohortkit` command and its dispatch: the binary behaves as
//! `cohort-joiner` or `dataset-report` when invoked under those names.
//! Each tool owns its command line (`join::args`, `report::args`,
//! `dummy::args`, `pipeline`); here are only the subcommands, the exit
//! status and the interrupt handler.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::join::{JoinArgs, JoinerCli};
use crate::report::{Invocation, ReportCli};

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
    /// Work with dummy-data schemas (import from `cohortextractor dump_study_yaml`,
    /// infer from a dataset file, check).
    Schema(crate::dummy::SchemaArgs),
    /// Run ehrQL's `generate-dataset` from a dummy data file or a schema
    /// (no ehrQL needed).
    Ehrql(crate::ehrql::EhrqlArgs),
    /// Compute a study definition's measures on its dated extracts
    /// (cohortextractor generate_measures).
    Measures(crate::measures::MeasuresArgs),
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

/// Parses `args` as the tool `name` would and runs it, returning its error
/// instead of exiting; usage errors come back as errors too.
fn execute(name: &str, args: Vec<OsString>) -> anyhow::Result<()> {
    match name {
        "cohort-joiner" => crate::join::run(&JoinerCli::try_parse_from(args)?.args),
        "dataset-report" => crate::report::run(
            &ReportCli::try_parse_from(args)?.args,
            Invocation::DatasetReport,
        ),
        _ => match Cli::try_parse_from(args)?.command {
            Command::Join(join) => crate::join::run(&join),
            Command::Generate(generate) => crate::dummy::generate(&generate),
            Command::Schema(schema) => crate::dummy::schema(&schema),
            Command::Ehrql(ehrql) => crate::ehrql::run(&ehrql),
            Command::Measures(measures) => crate::measures::generate(&measures),
            Command::Report(report) => crate::report::run(&report, Invocation::Cohortkit),
            Command::Check(check) => crate::pipeline::check(&check),
            Command::Run(run) => crate::pipeline::run(&run),
            Command::Demo(demo) => crate::pipeline::demo(&demo),
        },
    }
}

fn run_as(name: &str, args: Vec<OsString>) -> ExitCode {
    crate::interrupt::install(crate::interrupt::Stoppers {
        stop_actions: crate::pipeline::process::stop_all,
        remove_unfinished: crate::table::atomic::remove_all_pending,
    });
    let result = execute(name, args);
    if let Some(usage) = result
        .as_ref()
        .err()
        .and_then(|e| e.downcast_ref::<clap::Error>())
    {
        usage.exit();
    }
    // A run whose actions were stopped by a signal ends as that signal
    // says, whichever thread gets there first.
    if let Some(signal) = crate::interrupt::signal() {
        if let Err(error) = result {
            eprintln!("error: {error:#}");
        }
        return ExitCode::from(128 + signal as u8);
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
