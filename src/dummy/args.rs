//! The command lines of `cohortkit generate`, of `cohortextractor
//! generate_cohort` as the pipeline runs it, and of `cohortkit schema`.

use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};

use super::DEFAULT_SEED;
use super::conventions::Conventions;
use super::dates::Day;
use crate::batch::BatchArgs;
use crate::directory::Directory;
use crate::table::{Format, gzip};

/// Arguments of `cohortkit generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// The schema to draw from (see docs/generate.md).
    #[arg(long, value_name = "FILE", conflicts_with = "study_definition")]
    pub schema: Option<PathBuf>,
    /// Use analysis/NAME.schema.yaml; `all` (the default without --schema)
    /// uses every analysis/study_definition*.schema.yaml.
    #[arg(long, value_name = "NAME")]
    pub study_definition: Option<String>,
    /// Rows per file (0 writes headers only).
    #[arg(
        long,
        visible_alias = "expectations-population",
        value_name = "N",
        default_value_t = 1000
    )]
    pub population: u64,
    /// One file per index date: `DATE`, `DATE to DATE` or
    /// `DATE to DATE by week|month` (DATE: YYYY-MM-DD or today).
    #[arg(long, value_name = "RANGE")]
    pub index_date_range: Option<String>,
    /// Where the files go.
    #[arg(long, value_name = "DIR", default_value = "output")]
    pub output_dir: PathBuf,
    /// csv, csv.gz, feather, arrow, parquet, dta or dta.gz.
    #[arg(long, value_name = "FORMAT", default_value = "csv", value_parser = parse_format)]
    pub output_format: Format,
    /// Directory, name and format at once (no study suffix is added; index
    /// dates still are). Overrides --output-dir and --output-format.
    #[arg(long, value_name = "DIR/NAME.EXT")]
    pub output_file: Option<PathBuf>,
    /// Write values as `cohortextractor` does (flags 0/1, missing numbers
    /// 0) or as `ehrql` does (booleans T/F, missing values empty, ISO dates,
    /// Arrow `date32` and ordered categories).
    #[arg(long, value_name = "WHOSE", value_enum, default_value_t)]
    pub conventions: Conventions,
    /// Leave files that already exist alone.
    #[arg(long)]
    pub skip_existing: bool,
    /// Seed of the patient universe and of every value.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_SEED)]
    pub seed: u64,
    /// Draw each file's ids afresh (upstream's behaviour: files barely join).
    #[arg(long)]
    pub independent_ids: bool,
    /// The date `today` stands for (default: the real today).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub today: Option<String>,
    /// Copy this file to each output instead of drawing (upstream's option).
    #[arg(long, value_name = "FILE")]
    pub dummy_data_file: Option<PathBuf>,
    /// Accepted for compatibility; study parameters do not change dummy data.
    #[arg(long = "param", value_name = "KEY=VALUE")]
    pub params: Vec<String>,
    /// Accepted and ignored, as upstream.
    #[arg(long, hide = true)]
    pub with_end_date_fix: bool,
    /// Gzip level for .csv.gz and .dta.gz outputs: 0 (none) to 12 (smallest).
    #[arg(long, value_name = "N", default_value_t = gzip::DEFAULT_LEVEL, value_parser = gzip::parse_level)]
    pub compression_level: u32,
    #[command(flatten)]
    pub batch: BatchArgs,
    #[command(flatten)]
    pub directory: Directory,
}

impl GenerateArgs {
    /// `path` as seen from `-C DIR` (an error where it leads out of it).
    pub(super) fn at(&self, path: &Path) -> anyhow::Result<PathBuf> {
        self.directory.path(path)
    }
}

fn parse_format(text: &str) -> Result<Format, String> {
    Format::from_extension(text).ok_or_else(|| {
        format!("unknown format {text:?}: use csv, csv.gz, feather, arrow, parquet, dta or dta.gz")
    })
}

/// Arguments of `cohortkit schema`.
#[derive(Debug, Args)]
pub struct SchemaArgs {
    #[command(subcommand)]
    pub(super) command: SchemaCommand,
}

/// What `cohortkit schema` does.
#[derive(Debug, Subcommand)]
pub(super) enum SchemaCommand {
    /// Convert `cohortextractor dump_study_yaml` output into a schema.
    Import(ImportArgs),
    /// Describe an existing dataset file as a schema, without copying
    /// values that identify rows (see docs/generate.md).
    Infer(InferArgs),
    /// Validate a schema and list its columns.
    Check {
        /// The schema file.
        schema: PathBuf,
    },
}

/// Arguments of `cohortkit schema import`.
#[derive(Debug, Args)]
pub(super) struct ImportArgs {
    /// The output of `cohortextractor dump_study_yaml --study-definition NAME`.
    pub(super) study_yaml: PathBuf,
    /// Write the schema here (default: standard output).
    #[arg(short, long, value_name = "FILE")]
    pub(super) output: Option<PathBuf>,
    /// The study definition's name (default: the dump's file name).
    #[arg(long, value_name = "NAME")]
    pub(super) name: Option<String>,
    /// The study's default_expectations, as YAML or a Python dict literal,
    /// e.g. '{"date": {"earliest": "1900-01-01", "latest": "today"},
    /// "rate": "uniform", "incidence": 0.5}'.
    #[arg(long, value_name = "YAML")]
    pub(super) defaults: Option<String>,
    /// The study's index_date.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_day)]
    pub(super) index_date: Option<Day>,
    /// The day the dump was made: expectation dates equal to it become
    /// `today` (the dump evaluated `today`).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_day)]
    pub(super) dumped_on: Option<Day>,
    /// Order the columns as in this extract's header (the dump does not keep
    /// the definition order).
    #[arg(long, value_name = "FILE")]
    pub(super) order_from: Option<PathBuf>,
    /// The study definition (`PROJECT/analysis/NAME.py`), read with python3
    /// for its default_expectations, index_date and variable order
    /// (default: NAME.py beside the dump, if there is one).
    #[arg(long, value_name = "FILE")]
    pub(super) definition: Option<PathBuf>,
}

/// Arguments of `cohortkit schema infer`.
#[derive(Debug, Args)]
pub(super) struct InferArgs {
    /// The dataset: .csv, .csv.gz, .feather, .arrow, .parquet, .dta or .dta.gz.
    pub(super) file: PathBuf,
    /// Write the schema here (default: standard output).
    #[arg(short, long, value_name = "FILE")]
    pub(super) output: Option<PathBuf>,
    /// The study definition's name (default: the file name less its extension).
    #[arg(long, value_name = "NAME")]
    pub(super) name: Option<String>,
}

pub(super) fn parse_day(text: &str) -> Result<Day, String> {
    Day::parse_iso(text).ok_or_else(|| format!("{text:?} is not a YYYY-MM-DD date"))
}

/// `cohortextractor generate_cohort`'s command line, as a project's
/// action gives it (with what upstream's runner appends): the options of
/// [`GenerateArgs`] it shares, the last of a repeated one winning as in
/// argparse, and upstream's options that dummy data does not depend on.
#[derive(Debug, Parser)]
#[command(name = "generate_cohort", args_override_self = true)]
pub struct GenerateCli {
    /// The options cohortkit reads.
    #[command(flatten)]
    pub args: GenerateArgs,
    /// Accepted and ignored: dummy data does not depend on it.
    #[arg(long, value_name = "NAME", hide = true)]
    temp_database_name: Option<String>,
}

impl GenerateCli {
    /// Generates the cohorts, saying which given options were ignored.
    pub fn run(&self) -> anyhow::Result<()> {
        if let Some(name) = &self.temp_database_name
            && !self.args.batch.quiet
        {
            eprintln!(
                "note: --temp-database-name {name} is ignored: dummy data does not depend on it"
            );
        }
        super::generate(&self.args)
    }
}
