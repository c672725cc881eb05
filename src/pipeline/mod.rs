//! PLACEHOLDER for `cohortkit check`, `run` and `demo`: being written.

use clap::Args;

/// Arguments of `cohortkit check`.
#[derive(Debug, Args)]
pub struct CheckArgs {}

/// Arguments of `cohortkit run`.
#[derive(Debug, Args)]
pub struct RunArgs {}

/// Arguments of `cohortkit demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {}

/// Runs `cohortkit check`.
pub fn check(_args: &CheckArgs) -> anyhow::Result<()> {
    anyhow::bail!("check is not implemented yet")
}

/// Runs `cohortkit run`.
pub fn run(_args: &RunArgs) -> anyhow::Result<()> {
    anyhow::bail!("run is not implemented yet")
}

/// Runs `cohortkit demo`.
pub fn demo(_args: &DemoArgs) -> anyhow::Result<()> {
    anyhow::bail!("demo is not implemented yet")
}
