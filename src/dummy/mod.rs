//! `cohortkit generate`: cohortextractor-compatible dummy extracts, drawn
//! from a schema ([`schema`]) in parallel chunks, with patient ids from one
//! seeded universe so that extracts join; and `cohortkit schema`, which
//! imports schemas from `cohortextractor dump_study_yaml` ([`study_yaml`])
//! and checks them.

pub mod chunk;
pub mod dates;
pub mod generate;
pub mod ids;
pub mod plan;
pub mod random;
pub mod render;
pub mod schema;
pub mod study_yaml;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use rayon::prelude::*;

use crate::table::{Format, gzip};
use dates::Day;
use generate::{Job, Settings};
use plan::Plan;
use schema::Schema;

/// The seed used when none is given: every run, and so every action of a
/// project, draws from the same patient universe.
pub const DEFAULT_SEED: u64 = 20_200_301;

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
    /// Worker threads (default: all cores).
    #[arg(long, value_name = "N", value_parser = crate::cli::parse_threads)]
    pub threads: Option<usize>,
    /// Gzip level for .csv.gz and .dta.gz outputs: 0 (none) to 12 (smallest).
    #[arg(long, value_name = "N", default_value_t = gzip::DEFAULT_LEVEL, value_parser = crate::cli::parse_level)]
    pub compression_level: u32,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
    /// Run as if started in DIR: `analysis/` and relative paths are found
    /// there (for running several projects' actions in one process).
    #[arg(long, short = 'C', value_name = "DIR")]
    pub directory: Option<PathBuf>,
}

impl GenerateArgs {
    /// `path` as seen from `--directory`.
    fn at(&self, path: &Path) -> PathBuf {
        match &self.directory {
            Some(dir) if path.is_relative() => dir.join(path),
            _ => path.to_path_buf(),
        }
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
    command: SchemaCommand,
}

#[derive(Debug, Subcommand)]
enum SchemaCommand {
    /// Convert `cohortextractor dump_study_yaml` output into a schema.
    Import(ImportArgs),
    /// Validate a schema and list its columns.
    Check {
        /// The schema file.
        schema: PathBuf,
    },
}

/// Arguments of `cohortkit schema import`.
#[derive(Debug, Args)]
struct ImportArgs {
    /// The output of `cohortextractor dump_study_yaml --study-definition NAME`.
    study_yaml: PathBuf,
    /// Write the schema here (default: standard output).
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// The study definition's name (default: the dump's file name).
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// The study's default_expectations, as YAML or a Python dict literal,
    /// e.g. '{"date": {"earliest": "1900-01-01", "latest": "today"},
    /// "rate": "uniform", "incidence": 0.5}'.
    #[arg(long, value_name = "YAML")]
    defaults: Option<String>,
    /// The study's index_date.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_day)]
    index_date: Option<Day>,
    /// The day the dump was made: expectation dates equal to it become
    /// `today` (the dump evaluated `today`).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_day)]
    dumped_on: Option<Day>,
    /// Order the columns as in this extract's header (the dump does not keep
    /// the definition order).
    #[arg(long, value_name = "FILE")]
    order_from: Option<PathBuf>,
}

fn parse_day(text: &str) -> Result<Day, String> {
    Day::parse_iso(text).ok_or_else(|| format!("{text:?} is not a YYYY-MM-DD date"))
}

/// A study to generate: its name and, unless copying a dummy data file,
/// its schema.
struct Study {
    name: String,
    schema: Option<Schema>,
}

/// Runs `cohortkit generate`.
pub fn generate(args: &GenerateArgs) -> anyhow::Result<()> {
    let today = match &args.today {
        Some(text) => parse_day(text).map_err(|e| anyhow::anyhow!("--today: {e}"))?,
        None => dates::today(),
    };
    let dates: Vec<Option<Day>> = match &args.index_date_range {
        Some(range) => dates::expand_range(range, today)?
            .into_iter()
            .map(Some)
            .collect(),
        None => vec![None],
    };
    let studies = studies(args)?;
    let plans = studies
        .iter()
        .map(|s| {
            s.schema
                .as_ref()
                .map(|schema| Plan::new(schema, args.population, today))
                .transpose()
                .with_context(|| format!("study {}", s.name))
        })
        .collect::<anyhow::Result<Vec<Option<Plan>>>>()?;
    let (jobs, skipped) = jobs(args, &studies, &dates)?;
    let settings = Settings {
        seed: args.seed,
        independent_ids: args.independent_ids,
        level: args.compression_level,
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads.unwrap_or(0))
        .build()
        .context("cannot start worker threads")?;
    let progress =
        crate::progress::Rows::new(crate::progress::bar(jobs.len() as u64, "files", args.quiet));
    let started = Instant::now();
    let results: Vec<anyhow::Result<Vec<String>>> = pool.install(|| {
        jobs.par_iter()
            .map(|(s, job)| match (&args.dummy_data_file, &plans[*s]) {
                (Some(source), _) => {
                    generate::copy_dummy(&args.at(source), job).map(|()| Vec::new())
                }
                (None, Some(plan)) => {
                    generate::write(plan, &studies[*s].name, job, settings, &progress)
                }
                (None, None) => unreachable!("a schema is loaded unless copying"),
            })
            .collect()
    });
    progress.finish();
    report(args, &jobs, results, skipped, started)
}

/// The files to write, each with its study's index, and how many existing
/// files `--skip-existing` leaves alone. Creates the output directory.
fn jobs(
    args: &GenerateArgs,
    studies: &[Study],
    dates: &[Option<Day>],
) -> anyhow::Result<(Vec<(usize, Job)>, usize)> {
    let (dir, format, fixed_stem) = match args.output_file.as_deref().map(|f| args.at(f)) {
        Some(file) => {
            let format = Format::from_path(&file)
                .context("--output-file must have a supported extension")?;
            if studies.len() > 1 {
                bail!(
                    "--output-file names one file; choose one study with --study-definition or --schema"
                );
            }
            let dir = file.parent().unwrap_or(Path::new("")).to_path_buf();
            (dir, format, Some(crate::table::stem(&file, format)))
        }
        None => (args.at(&args.output_dir), args.output_format, None),
    };
    let mut jobs: Vec<(usize, Job)> = Vec::new();
    let mut skipped = 0;
    for (s, study) in studies.iter().enumerate() {
        let stem = fixed_stem
            .clone()
            .unwrap_or_else(|| generate::output_stem(&study.name));
        for &date in dates {
            let path = generate::output_path(&dir, &stem, date, format);
            if args.skip_existing && path.exists() {
                skipped += 1;
                continue;
            }
            jobs.push((s, Job { path, format, date }));
        }
    }
    if !dir.as_os_str().is_empty() {
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create the output directory {}", dir.display()))?;
    }
    Ok((jobs, skipped))
}

/// Prints what was done and turns failures into one error.
fn report(
    args: &GenerateArgs,
    jobs: &[(usize, Job)],
    results: Vec<anyhow::Result<Vec<String>>>,
    skipped: usize,
    started: Instant,
) -> anyhow::Result<()> {
    let mut failures = Vec::new();
    for (result, (_, job)) in results.into_iter().zip(jobs) {
        match result {
            Ok(warnings) if !args.quiet => {
                for warning in warnings {
                    eprintln!("warning: {warning}");
                }
            }
            Ok(_) => {}
            Err(e) => failures.push(format!("{}: {e:#}", job.path.display())),
        }
    }
    if !failures.is_empty() {
        bail!(
            "{} of {} files failed; no partial output was left:\n  {}",
            failures.len(),
            jobs.len(),
            failures.join("\n  ")
        );
    }
    if !args.quiet {
        let rows = if args.dummy_data_file.is_some() {
            "copied".to_string()
        } else {
            format!("{} rows each", args.population)
        };
        eprintln!(
            "wrote {} file{} ({rows}) in {:.2} s{}",
            jobs.len(),
            if jobs.len() == 1 { "" } else { "s" },
            started.elapsed().as_secs_f64(),
            if skipped > 0 {
                format!("; skipped {skipped} existing")
            } else {
                String::new()
            }
        );
    }
    Ok(())
}

/// The studies named by `--schema` / `--study-definition`, schemas loaded.
fn studies(args: &GenerateArgs) -> anyhow::Result<Vec<Study>> {
    let copying = args.dummy_data_file.is_some();
    if let Some(path) = &args.schema {
        let schema = Schema::load(&args.at(path))?;
        return Ok(vec![Study {
            name: schema.study_definition.clone(),
            schema: Some(schema),
        }]);
    }
    let names = match args.study_definition.as_deref() {
        Some(name) if name != "all" => vec![name.to_string()],
        _ => all_study_names(&args.at(Path::new("analysis")))?,
    };
    names
        .into_iter()
        .map(|name| {
            let schema = if copying {
                None
            } else {
                let path = args.at(&Path::new("analysis").join(format!("{name}.schema.yaml")));
                Some(Schema::load(&path)?)
            };
            Ok(Study { name, schema })
        })
        .collect()
}

/// Every `study_definition*.schema.yaml` in `dir`, by name, sorted.
fn all_study_names(dir: &Path) -> anyhow::Result<Vec<String>> {
    let entries = std::fs::read_dir(dir).with_context(|| {
        format!(
            "cannot list {}: run from the project directory, or pass --schema FILE",
            dir.display()
        )
    })?;
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|f| f.strip_suffix(".schema.yaml").map(str::to_string))
        .filter(|n| {
            n.strip_prefix("study_definition").is_some_and(|rest| {
                rest.is_empty()
                    || (rest.starts_with('_')
                        && rest[1..].chars().all(|c| c.is_alphanumeric() || c == '_')
                        && rest.len() > 1)
            })
        })
        .collect();
    names.sort();
    if names.is_empty() {
        bail!(
            "no schemas found in {}: expected study_definition*.schema.yaml (make them with `cohortkit schema import`) or pass --schema FILE",
            dir.display()
        );
    }
    Ok(names)
}

/// Runs `cohortkit schema`.
pub fn schema(args: &SchemaArgs) -> anyhow::Result<()> {
    match &args.command {
        SchemaCommand::Import(import) => import_schema(import),
        SchemaCommand::Check { schema } => check_schema(schema),
    }
}

fn import_schema(args: &ImportArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.study_yaml)
        .with_context(|| format!("cannot read {}", args.study_yaml.display()))?;
    let file_name = |p: &Path| {
        p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let name = match &args.name {
        Some(name) => name.clone(),
        None => {
            let stem = file_name(&args.study_yaml);
            stem.split('.').next().unwrap_or_default().to_string()
        }
    };
    let order = args.order_from.as_deref().map(header_of).transpose()?;
    let options = study_yaml::Options {
        name,
        defaults: args.defaults.clone(),
        index_date: args.index_date,
        dumped_on: args.dumped_on,
        order,
    };
    let schema = study_yaml::import(&text, &options)
        .with_context(|| format!("cannot import {}", args.study_yaml.display()))?;
    let mut header = format!(
        "cohortkit dummy-data schema (format: docs/generate.md).\nImported from {} (cohortextractor dump_study_yaml) by `cohortkit schema import`",
        file_name(&args.study_yaml)
    );
    let mut notes = Vec::new();
    if let Some(defaults) = &args.defaults {
        notes.push(format!("--defaults '{defaults}'"));
    }
    if let Some(day) = args.index_date {
        notes.push(format!("--index-date {day}"));
    }
    if let Some(day) = args.dumped_on {
        notes.push(format!("--dumped-on {day}"));
    }
    if let Some(file) = &args.order_from {
        notes.push(format!("--order-from {}", file_name(file)));
    }
    if !notes.is_empty() {
        header.push_str(&format!("\nwith {}", notes.join(" ")));
    }
    header.push('.');
    let yaml = schema.to_yaml(&header);
    match &args.output {
        Some(path) => crate::table::atomic::write_with(path, |f| {
            std::io::Write::write_all(f, yaml.as_bytes())
        })
        .with_context(|| format!("cannot write {}", path.display())),
        None => {
            print!("{yaml}");
            Ok(())
        }
    }
}

/// The column names in the header of an extract of any format.
fn header_of(path: &Path) -> anyhow::Result<Vec<String>> {
    let format = Format::from_path(path).with_context(|| {
        format!(
            "--order-from {}: not a cohort file (.csv, .csv.gz, .feather, .parquet, .dta)",
            path.display()
        )
    })?;
    if format.is_csv() {
        return Ok(crate::table::csv::CsvSource::open(path, format)?.utf8_names()?);
    }
    let source = crate::table::frame::read(path, format)?;
    Ok(crate::table::frame::column_names(&source.schema))
}

fn check_schema(path: &Path) -> anyhow::Result<()> {
    let schema = Schema::load(path)?;
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for column in &schema.columns {
        let kind = match &column.values {
            schema::Values::PatientId => "patient id",
            schema::Values::Flag => "flag",
            schema::Values::Int(_) => "int",
            schema::Values::Float { .. } => "float",
            schema::Values::Date(_) => "date",
            schema::Values::Text { .. } => "text",
            schema::Values::Fixed { .. } => "fixed",
        };
        *counts.entry(kind).or_default() += 1;
    }
    let mut parts: Vec<String> = counts.iter().map(|(k, n)| format!("{n} {k}")).collect();
    parts.sort();
    println!(
        "{}: study {}, {} columns ({})",
        path.display(),
        schema.study_definition,
        schema.columns.len(),
        parts.join(", ")
    );
    Ok(())
}
