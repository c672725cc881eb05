//! The join's command line: `cohortkit join` and `cohort-joiner`.

use std::path::PathBuf;

use clap::{Args, Parser};

use crate::batch::BatchArgs;
use crate::directory::Directory;
use crate::table::gzip;

/// Arguments of `cohortkit join` and `cohort-joiner`.
#[derive(Debug, Clone, Args)]
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
    /// Gzip level for .csv.gz and .dta.gz outputs: 0 (none) to 12 (smallest).
    #[arg(long, value_name = "N", default_value_t = gzip::DEFAULT_LEVEL, value_parser = gzip::parse_level)]
    pub compression_level: u32,
    /// Also write per-file match statistics to FILE (.csv or .json).
    #[arg(long, value_name = "FILE")]
    pub stats: Option<PathBuf>,
    #[command(flatten)]
    pub batch: BatchArgs,
    #[command(flatten)]
    pub directory: Directory,
}

impl JoinArgs {
    /// The same arguments with every path taken from `-C DIR` (an error
    /// where one leads out of it; the files the pattern matches are checked
    /// with [`Directory::check_matches`]).
    pub fn relocated(&self) -> anyhow::Result<JoinArgs> {
        let dir = &self.directory;
        Ok(JoinArgs {
            lhs: dir.pattern(&self.lhs),
            rhs: dir.path(self.rhs.as_ref())?.to_string_lossy().into_owned(),
            output_dir: dir.path(&self.output_dir)?,
            stats: self.stats.as_deref().map(|s| dir.path(s)).transpose()?,
            directory: Directory::default(),
            ..self.clone()
        })
    }
}

/// The `cohort-joiner` command line: exactly the join's arguments.
#[derive(Debug, Parser)]
#[command(
    name = "cohort-joiner",
    version,
    about = "Left-join cohort files to a per-patient file on patient_id (cohortkit)"
)]
pub struct JoinerCli {
    /// The join's arguments.
    #[command(flatten)]
    pub args: JoinArgs,
}
