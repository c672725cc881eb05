//! `cohortkit generate`: cohortextractor-compatible dummy extracts, drawn
//! from a schema ([`schema`]) in parallel chunks, with patient ids from one
//! seeded universe so that extracts join; and `cohortkit schema`, which
//! imports schemas from `cohortextractor dump_study_yaml` ([`study_yaml`]),
//! infers them from dataset files ([`schema::infer`]) and checks them.

pub mod args;
pub mod chunk;
pub mod conventions;
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

use crate::batch::{Batch, Outcomes};
use crate::table::Format;
pub use args::{GenerateArgs, GenerateCli, SchemaArgs};
use args::{ImportArgs, InferArgs, SchemaCommand, parse_day};
use dates::Day;
use generate::{OutputFile, Settings};
use plan::DrawPlan;
use schema::Schema;

/// The seed used when none is given: every run, and so every action of a
/// project, draws from the same patient universe.
pub const DEFAULT_SEED: u64 = 20_200_301;

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
                .map(|schema| {
                    DrawPlan::new(schema, args.population, today)
                        .map(|plan| plan.with_conventions(args.conventions))
                })
                .transpose()
                .with_context(|| format!("study {}", s.name))
        })
        .collect::<anyhow::Result<Vec<Option<DrawPlan>>>>()?;
    let (jobs, skipped) = jobs(args, &studies, &dates)?;
    let settings = Settings {
        seed: args.seed,
        independent_ids: args.independent_ids,
        level: args.compression_level,
    };
    let started = Instant::now();
    let batch = Batch::new(&args.batch)?;
    let outcomes = batch.each(&jobs, None, |(s, job), progress| {
        let written = match (&args.dummy_data_file, &plans[*s]) {
            (Some(source), _) => generate::copy_dummy(&args.at(source)?, job).map(|()| Vec::new()),
            (None, Some(plan)) => generate::write(plan, &studies[*s].name, job, settings, progress),
            (None, None) => unreachable!("a schema is loaded unless copying"),
        };
        written.with_context(|| job.path.display().to_string())
    });
    report(args, jobs.len(), outcomes, skipped, started)
}

/// The files to write, each with its study's index, and how many existing
/// files `--skip-existing` leaves alone. Creates the output directory.
fn jobs(
    args: &GenerateArgs,
    studies: &[Study],
    dates: &[Option<Day>],
) -> anyhow::Result<(Vec<(usize, OutputFile)>, usize)> {
    let output_file = args
        .output_file
        .as_deref()
        .map(|f| args.at(f))
        .transpose()?;
    let (dir, format, fixed_stem) = match output_file {
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
        None => (args.at(&args.output_dir)?, args.output_format, None),
    };
    let mut jobs: Vec<(usize, OutputFile)> = Vec::new();
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
            jobs.push((s, OutputFile { path, format, date }));
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
    files: usize,
    outcomes: Outcomes<Vec<String>>,
    skipped: usize,
    started: Instant,
) -> anyhow::Result<()> {
    if !args.batch.quiet {
        for warning in outcomes.done.iter().flatten() {
            eprintln!("warning: {warning}");
        }
    }
    outcomes.check()?;
    if !args.batch.quiet {
        let rows = if args.dummy_data_file.is_some() {
            "copied".to_string()
        } else {
            format!("{} rows each", args.population)
        };
        eprintln!(
            "wrote {} file{} ({rows}) in {:.2} s{}",
            files,
            if files == 1 { "" } else { "s" },
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
        let schema = Schema::load(&args.at(path)?)?;
        return Ok(vec![Study {
            name: schema.study_definition.clone(),
            schema: Some(schema),
        }]);
    }
    let analysis = args.at(Path::new("analysis"))?;
    let names = match args.study_definition.as_deref() {
        Some(name) if name != "all" => vec![name.to_string()],
        _ => study_names(&analysis).map_err(|_| MissingSchema {
            path: analysis.join("study_definition*.schema.yaml"),
        })?,
    };
    names
        .into_iter()
        .map(|name| {
            let schema = if copying {
                None
            } else {
                let path = analysis.join(format!("{name}.schema.yaml"));
                if !path.is_file() {
                    return Err(MissingSchema { path }.into());
                }
                Some(Schema::load(&path)?)
            };
            Ok(Study { name, schema })
        })
        .collect()
}

/// A study definition without its dummy-data schema: the pipeline then
/// runs `generate_cohort` with cohortextractor, where there is one.
#[derive(Debug)]
pub struct MissingSchema {
    /// The schema (or pattern of schemas) looked for.
    pub path: PathBuf,
}

impl std::fmt::Display for MissingSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "no dummy-data schema {}: cohortkit makes dummy cohorts from a schema. Create it with `cohortkit schema import` (from `cohortextractor dump_study_yaml`), or pass --schema FILE, or install cohortextractor (pip install opensafely-cohort-extractor) to run the study definition with it",
            self.path.display()
        )
    }
}

impl std::error::Error for MissingSchema {}

/// The study definitions of the analysis directory `dir`: the name of
/// every `study_definition*.schema.yaml` in it, sorted (those that
/// `generate_cohort` without `--study-definition` makes).
pub fn study_names(dir: &Path) -> anyhow::Result<Vec<String>> {
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
        SchemaCommand::Infer(infer) => infer_schema(infer),
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
    let beside = args.study_yaml.with_file_name(format!("{name}.py"));
    let definition_file = args
        .definition
        .clone()
        .or_else(|| beside.is_file().then_some(beside));
    let definition = definition_file
        .as_deref()
        .map(|file| read_definition(file, &name))
        .transpose()?;
    let index_date = match (&args.index_date, &definition) {
        (Some(day), _) => Some(*day),
        (None, Some(d)) => d.index_date.as_deref().and_then(Day::parse_iso),
        (None, None) => None,
    };
    let options = study_yaml::Options {
        name,
        defaults: args.defaults.clone().or_else(|| {
            definition
                .as_ref()
                .map(|d| d.default_expectations.to_string())
        }),
        index_date,
        dumped_on: args.dumped_on,
        order,
        measures: definition
            .as_ref()
            .map_or_else(Vec::new, |d| d.measures.clone()),
        definition_order: definition.as_ref().map(|d| {
            d.columns
                .iter()
                .filter(|(_, hidden)| !hidden)
                .map(|(name, _)| name.clone())
                .collect()
        }),
    };
    let schema = study_yaml::import(&text, &options)
        .with_context(|| format!("cannot import {}", args.study_yaml.display()))?;
    let mut header = format!(
        "{SCHEMA_HEADER}\nImported from {} (cohortextractor dump_study_yaml) by `cohortkit schema import`",
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
    if let Some(file) = &definition_file {
        notes.push(format!("--definition {}", file_name(file)));
    }
    if !notes.is_empty() {
        header.push_str(&format!("\nwith {}", notes.join(" ")));
    }
    header.push('.');
    write_schema(&schema, &header, args.output.as_deref())
}

/// The first line of every schema cohortkit writes.
const SCHEMA_HEADER: &str = "cohortkit dummy-data schema (format: docs/generate.md).";

/// Writes `schema` with the comment `header` atomically to `output`, or to
/// standard output.
fn write_schema(schema: &Schema, header: &str, output: Option<&Path>) -> anyhow::Result<()> {
    let yaml = schema.to_yaml(header);
    match output {
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

fn infer_schema(args: &InferArgs) -> anyhow::Result<()> {
    let schema = schema::infer::infer_file(&args.file, args.name.as_deref())?;
    let file = args.file.file_name().unwrap_or_default().to_string_lossy();
    let header = format!(
        "{SCHEMA_HEADER}\nInferred from {file} by `cohortkit schema infer`: no ids, no value of fewer\nthan {} rows, moments and month bounds only.",
        schema::infer::MIN_ROWS
    );
    write_schema(&schema, &header, args.output.as_deref())
}

/// Reads the study definition `file` (`PROJECT/analysis/NAME.py`).
fn read_definition(file: &Path, name: &str) -> anyhow::Result<crate::study::Definition> {
    let analysis = file.parent().unwrap_or(Path::new("."));
    let project = analysis.parent().unwrap_or(Path::new("."));
    let named = file.file_stem().is_some_and(|s| s == name);
    if !named || analysis.file_name().is_none_or(|d| d != "analysis") {
        anyhow::bail!(
            "--definition {}: expected PROJECT/analysis/{name}.py (the study is imported as cohortextractor imports it, from its project)",
            file.display()
        );
    }
    let project = if project.as_os_str().is_empty() {
        Path::new(".")
    } else {
        project
    };
    Ok(crate::study::read(project, name, &[])?)
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
