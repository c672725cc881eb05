//! The command line of `cohortextractor generate_measures`, as a
//! project's action gives it.

use std::path::PathBuf;

use clap::{Args, Parser};

use crate::batch::BatchArgs;
use crate::directory::Directory;

/// The options of `generate_measures`.
#[derive(Debug, Args)]
pub struct MeasuresArgs {
    /// Where the extracts are, and the measures go.
    #[arg(long, value_name = "DIR", default_value = "output")]
    pub output_dir: PathBuf,
    /// The study definition whose measures to compute (`all`, or a name
    /// that is none, means every one).
    #[arg(long, value_name = "NAME", default_value = "all")]
    pub study_definition: String,
    /// Leave measure files that already exist alone.
    #[arg(long)]
    pub skip_existing: bool,
    /// KEY=VALUE pairs for the study definition's `params`.
    #[arg(long = "param", value_name = "KEY=VALUE", num_args = 1..)]
    pub params: Vec<String>,
    #[command(flatten)]
    pub batch: BatchArgs,
    #[command(flatten)]
    pub directory: Directory,
}

/// `cohortextractor generate_measures`'s command line: the last of a
/// repeated option wins, as in argparse.
#[derive(Debug, Parser)]
#[command(name = "generate_measures", args_override_self = true)]
pub struct MeasuresCli {
    /// The options.
    #[command(flatten)]
    pub args: MeasuresArgs,
}
