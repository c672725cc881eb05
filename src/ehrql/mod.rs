//! `ehrql generate-dataset` without ehrQL: the dataset from the action's
//! dummy data file (read and written in the format `--output` names, no
//! value changed), or drawn from the dataset's cohortkit schema in ehrQL's
//! conventions. ehrQL itself evaluates dataset definitions; cohortkit never
//! does: it reads the definition only for a literal
//! `configure_dummy_data(population_size=N)`.

mod convert;
mod output;
mod population;

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use crate::directory::Directory;
use crate::dummy::GenerateCli;
pub use output::Output;

/// ehrQL's default dummy population.
pub const DEFAULT_POPULATION: u64 = 10;

/// Arguments of `cohortkit ehrql`.
#[derive(Debug, Args)]
pub struct EhrqlArgs {
    #[command(subcommand)]
    command: EhrqlCommand,
}

/// What `cohortkit ehrql` does.
#[derive(Debug, Subcommand)]
enum EhrqlCommand {
    /// Make a dataset as `ehrql generate-dataset` does on a computer
    /// without a database, from a dummy data file or a schema.
    GenerateDataset(GenerateDatasetArgs),
}

/// Runs `cohortkit ehrql`.
pub fn run(args: &EhrqlArgs) -> anyhow::Result<()> {
    match &args.command {
        EhrqlCommand::GenerateDataset(dataset) => generate_dataset(dataset),
    }
}

/// `generate-dataset`'s command line, as ehrQL parses it.
#[derive(Debug, Parser)]
#[command(name = "generate-dataset", args_override_self = true)]
pub struct GenerateDatasetCli {
    /// The options.
    #[command(flatten)]
    pub args: GenerateDatasetArgs,
}

/// Arguments of `cohortkit ehrql generate-dataset`: ehrQL's, and
/// `--population`.
#[derive(Debug, Args)]
pub struct GenerateDatasetArgs {
    /// The dataset definition (analysis/NAME.py): its schema is
    /// analysis/NAME.schema.yaml.
    #[arg(value_name = "DEFINITION_FILE")]
    pub definition: PathBuf,
    /// Where the dataset goes: FILE.arrow, FILE.csv, FILE.csv.gz, or
    /// DIR:arrow (DIR:csv, DIR:csv.gz) for one file per table.
    #[arg(long, value_name = "OUTPUT_FILE")]
    pub output: PathBuf,
    /// The dataset itself (a file, or a directory of tables): written in
    /// the output's format, values unchanged.
    #[arg(long, value_name = "DUMMY_DATA_FILE")]
    pub dummy_data_file: Option<PathBuf>,
    /// ehrQL's dummy tables: they need ehrQL to evaluate the definition.
    #[arg(long, value_name = "DUMMY_TABLES_PATH")]
    pub dummy_tables: Option<PathBuf>,
    /// ehrQL's assurance tests: they need ehrQL.
    #[arg(long, value_name = "TEST_DATA_FILE")]
    pub test_data_file: Option<PathBuf>,
    /// A database: only ehrQL, in a secure environment, reads one.
    #[arg(long, value_name = "DSN", hide = true)]
    pub dsn: Option<String>,
    /// Accepted as ehrQL does; dummy data does not depend on it.
    #[arg(long, value_name = "QUERY_ENGINE_CLASS", hide = true)]
    pub query_engine: Option<String>,
    /// Accepted as ehrQL does; dummy data does not depend on it.
    #[arg(long, value_name = "BACKEND_CLASS", hide = true)]
    pub backend: Option<String>,
    /// Rows of a dataset drawn from its schema (default: the definition's
    /// `configure_dummy_data(population_size=N)`, else 10, as ehrQL).
    #[arg(long, value_name = "N")]
    pub population: Option<u64>,
    /// Print only errors.
    #[arg(long, short)]
    pub quiet: bool,
    /// The definition's parameters (after `--`): dummy data does not
    /// depend on them.
    #[arg(last = true, value_name = "PARAMETERS")]
    pub params: Vec<String>,
    #[command(flatten)]
    pub directory: Directory,
}

/// A dataset that nothing here can make: no ehrQL, no dummy data file and
/// no schema.
#[derive(Debug, thiserror::Error)]
#[error(
    "no way to make {definition}'s dataset here: put ehrQL on PATH (`pip install opensafely-ehrql`, Python 3.13+, from github.com/opensafely-core/ehrql) to run the definition, or give the action `--dummy-data-file FILE`, or write a schema {schema} (`cohortkit schema infer` makes one from a dataset file)"
)]
pub struct NoWay {
    /// The definition, as named.
    pub definition: String,
    /// The schema looked for.
    pub schema: String,
}

impl GenerateDatasetArgs {
    /// What this run leaves undone that ehrQL would do, one line each.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if let Some(tests) = &self.test_data_file {
            notes.push(format!(
                "the assurance tests in {} were not run: they need ehrQL",
                tests.display()
            ));
        }
        if let Some(tables) = &self.dummy_tables
            && self.dummy_data_file.is_none()
        {
            notes.push(format!(
                "the dummy tables in {} were not read: evaluating the definition on them needs ehrQL",
                tables.display()
            ));
        }
        if !self.params.is_empty() {
            notes.push(format!(
                "parameters {} do not change dummy data",
                self.params.join(" ")
            ));
        }
        notes
    }

    /// The schema of the definition: `analysis/NAME.schema.yaml`.
    pub fn schema(&self) -> PathBuf {
        let stem = self.definition.file_stem().unwrap_or_default();
        let mut name = stem.to_os_string();
        name.push(".schema.yaml");
        Path::new("analysis").join(name)
    }
}

/// Runs `generate-dataset` natively (see the module documentation).
pub fn generate_dataset(args: &GenerateDatasetArgs) -> anyhow::Result<()> {
    if args.dsn.is_some() {
        anyhow::bail!("--dsn: reading a database needs ehrQL itself, in a secure environment");
    }
    let output = Output::parse(&args.at(&args.output)?)?;
    if !args.quiet {
        for note in args.notes() {
            eprintln!("note: {note}");
        }
    }
    if let Some(file) = &args.dummy_data_file {
        let tables = output::tables(&args.at(file)?)?;
        for table in &tables {
            let (dest, format) = output.table(&table.name, tables.len())?;
            convert::write(table, &dest, format)
                .with_context(|| format!("dummy data table {:?}", table.name))?;
        }
        return Ok(());
    }
    let schema = args.at(&args.schema())?;
    if !schema.is_file() {
        return Err(NoWay {
            definition: args.definition.display().to_string(),
            schema: args.schema().display().to_string(),
        }
        .into());
    }
    let population = match args.population {
        Some(n) => n,
        None => {
            let definition = args.at(&args.definition)?;
            let text = std::fs::read_to_string(&definition)
                .with_context(|| format!("cannot read {}", definition.display()))?;
            population::configured(&text).unwrap_or(DEFAULT_POPULATION)
        }
    };
    let (dest, _) = output.table(output::DATASET, 1)?;
    let mut argv: Vec<std::ffi::OsString> = vec!["generate".into(), "--schema".into()];
    argv.push(schema.into());
    argv.extend([
        "--conventions".into(),
        "ehrql".into(),
        "--population".into(),
    ]);
    argv.push(population.to_string().into());
    argv.push("--output-file".into());
    argv.push(dest.into());
    if args.quiet {
        argv.push("--quiet".into());
    }
    GenerateCli::try_parse_from(argv)?.run()
}

impl GenerateDatasetArgs {
    fn at(&self, path: &Path) -> anyhow::Result<PathBuf> {
        self.directory.path(path)
    }
}
