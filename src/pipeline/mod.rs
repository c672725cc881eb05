//! `cohortkit check`, `run` and `demo`: project.yaml pipelines run locally,
//! without Docker.
//!
//! [`project`] reads the file (with line numbers, via [`yaml`]) and
//! [`validate`] applies each version's rules; [`plan`] decides what to run;
//! [`runner`] runs ready actions concurrently, each in its own directory
//! ([`workspace`]) through an executor ([`execute`]); [`outputs`] matches and
//! checks what they wrote; [`state`] and [`metadata`] record it.

pub mod outputs;
pub mod project;
pub mod shell;
pub mod validate;
pub mod yaml;

use std::path::PathBuf;

use clap::Args;

/// Arguments of `cohortkit check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The directory holding project.yaml.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub project_dir: PathBuf,
}

/// Arguments of `cohortkit run`.
#[derive(Debug, Args)]
pub struct RunArgs {}

/// Arguments of `cohortkit demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {}

/// Runs `cohortkit check`: prints the warnings, and fails with every problem.
pub fn check(args: &CheckArgs) -> anyhow::Result<()> {
    let path = args.project_dir.join("project.yaml");
    let (valid, warnings) = project::load(&path)?;
    for warning in &warnings {
        eprintln!("warning: {warning}");
    }
    println!(
        "{}: valid (version {}, {} actions)",
        path.display(),
        project::python_float(valid.project.version),
        valid.project.actions.len()
    );
    Ok(())
}

/// Runs `cohortkit run`.
pub fn run(_args: &RunArgs) -> anyhow::Result<()> {
    anyhow::bail!("run is not implemented yet")
}

/// Runs `cohortkit demo`.
pub fn demo(_args: &DemoArgs) -> anyhow::Result<()> {
    anyhow::bail!("demo is not implemented yet")
}
