//! The report's command line: `cohortkit report` and `dataset-report`.

use std::path::PathBuf;

use clap::{Args, Parser};

use super::disclosure::Rule;
use crate::batch::BatchArgs;
use crate::directory::Directory;

/// Arguments of `cohortkit report` and `dataset-report`.
#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    /// Glob pattern of the files to report on (quote it so the shell leaves
    /// it alone).
    #[arg(long, value_name = "GLOB")]
    pub input_files: String,
    /// Where the reports go: DIR/<name>.html, <name> being the file name up
    /// to its first dot.
    #[arg(long, value_name = "DIR", default_value = "output")]
    pub output_dir: PathBuf,
    /// Disclosure control: `current` (counts of 7 or fewer redacted, others
    /// rounded to 5), `legacy` (dataset-report v0.0.24, for comparing with
    /// old reports) or `midpoint6`. Default: `current`; `legacy` when run as
    /// dataset-report.
    #[arg(long, value_enum, value_name = "RULE")]
    pub sdc: Option<Rule>,
    /// Also write DIR/<name>.json with every figure the HTML shows.
    #[arg(long)]
    pub json: bool,
    /// Also write DIR/<name>.csv, the long table output checkers review:
    /// one row per published figure with the rule applied (split by column
    /// into <name>-1.csv, <name>-2.csv, ... past 5,000 rows).
    #[arg(long)]
    pub csv: bool,
    #[command(flatten)]
    pub batch: BatchArgs,
    #[command(flatten)]
    pub directory: Directory,
}

/// Which name the report was invoked under (it sets the default SDC rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invocation {
    /// `cohortkit report`: `--sdc current` by default.
    Cohortkit,
    /// `dataset-report`: `--sdc legacy` by default.
    DatasetReport,
}

impl ReportArgs {
    /// The same arguments with every path taken from `-C DIR` (an error
    /// where one leads out of it; the files the pattern matches are checked
    /// with [`Directory::check_matches`]).
    pub fn relocated(&self) -> anyhow::Result<ReportArgs> {
        let dir = &self.directory;
        Ok(ReportArgs {
            input_files: dir.pattern(&self.input_files),
            output_dir: dir.path(&self.output_dir)?,
            directory: Directory::default(),
            ..self.clone()
        })
    }
}

/// The `dataset-report` command line: exactly the report's arguments.
#[derive(Debug, Parser)]
#[command(
    name = "dataset-report",
    version,
    about = "HTML dataset reports under disclosure control (cohortkit)"
)]
pub struct ReportCli {
    /// The report's arguments.
    #[command(flatten)]
    pub args: ReportArgs,
}
