//! PLACEHOLDER for `cohortkit report` (= `dataset-report`): being written.

use clap::Args;

/// Arguments of `cohortkit report` and `dataset-report`.
#[derive(Debug, Args)]
pub struct ReportArgs {}

/// Which name the report was invoked under (it sets the default SDC rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invocation {
    /// `cohortkit report`: `--sdc current` by default.
    Cohortkit,
    /// `dataset-report`: `--sdc legacy` by default.
    DatasetReport,
}

/// Runs the report.
pub fn run(_args: &ReportArgs, _invocation: Invocation) -> anyhow::Result<()> {
    anyhow::bail!("report is not implemented yet")
}
