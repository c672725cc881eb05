//! `cohortkit report` (= `dataset-report`): one self-contained HTML report
//! per cohort file, every figure under disclosure control.
//!
//! A file is read once ([`scan`]) into per-column statistics ([`column`],
//! [`sketch`]); [`summary`] applies the disclosure rule ([`disclosure`]) and
//! decides what is published (of numbers: [`statistics`], [`histogram`]);
//! [`html`] (with [`chart`] and, for `--sdc legacy`, [`legacy`]) and the
//! optional JSON render that. Files are reported in parallel on one rayon
//! pool, which also parses each CSV file's chunks in parallel.

pub mod audit;
pub mod bin_store;
pub mod bins;
pub mod cell;
pub mod chart;
pub mod column;
pub mod decimal;
pub mod disclosure;
pub mod distribution;
pub mod exact_sum;
pub mod extremes;
pub mod figures;
pub mod histogram;
pub mod html;
pub mod kinds;
pub mod legacy;
pub mod profile;
pub mod scan;
pub mod sketch;
pub mod statistics;
pub mod summary;
pub mod tally;

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Args;
use rayon::prelude::*;

use crate::join::inputs::{Input, expand};
use crate::table::atomic::AtomicFile;
use disclosure::Rule;

/// Arguments of `cohortkit report` and `dataset-report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Glob pattern of the files to report on (quote it so the shell leaves
    /// it alone).
    #[arg(long, value_name = "GLOB")]
    pub input_files: String,
    /// Where the reports go: DIR/<name>.html, <name> being the file name up
    /// to its first dot.
    #[arg(long, value_name = "DIR")]
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
    /// Worker threads (default: all cores).
    #[arg(long, value_name = "N", value_parser = crate::cli::parse_threads)]
    pub threads: Option<usize>,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
    /// Name input files in the report relative to this directory (the
    /// pipeline passes the action's directory).
    #[arg(long, value_name = "DIR", hide = true)]
    pub relative_to: Option<PathBuf>,
}

/// Which name the report was invoked under (it sets the default SDC rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invocation {
    /// `cohortkit report`: `--sdc current` by default.
    Cohortkit,
    /// `dataset-report`: `--sdc legacy` by default.
    DatasetReport,
}

/// Runs the report described by the command line.
pub fn run(args: &ReportArgs, invocation: Invocation) -> anyhow::Result<()> {
    let rule = args.sdc.unwrap_or(match invocation {
        Invocation::Cohortkit => Rule::Current,
        Invocation::DatasetReport => Rule::Legacy,
    });
    let inputs = expand("--input-files", &args.input_files)?;
    let names = report_names(&inputs)?;
    std::fs::create_dir_all(&args.output_dir).with_context(|| {
        format!(
            "cannot create the output directory {}",
            args.output_dir.display()
        )
    })?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads.unwrap_or(0))
        .build()
        .context("cannot start worker threads")?;
    let progress = crate::progress::Rows::new(crate::progress::bar(
        inputs.len() as u64,
        "files",
        args.quiet,
    ));
    let results: Vec<anyhow::Result<String>> = pool.install(|| {
        // Each file is read in parallel already; a few files at a time
        // keeps memory bounded however many files and cores there are.
        let at_once = (rayon::current_num_threads() / 4).max(1);
        let jobs: Vec<(&Input, &String)> = inputs.iter().zip(&names).collect();
        jobs.chunks(at_once)
            .flat_map(|batch| {
                batch
                    .par_iter()
                    .map(|(input, name)| {
                        let result = report_one(input, name, args, rule, &progress);
                        progress.file_done();
                        result
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
    });
    progress.finish();
    let mut failures = Vec::new();
    for result in results {
        match result {
            Ok(line) if !args.quiet => eprintln!("{line}"),
            Ok(_) => {}
            Err(e) => failures.push(format!("{e:#}")),
        }
    }
    if !failures.is_empty() {
        bail!(
            "{} of {} files failed; no partial output was left:\n  {}",
            failures.len(),
            inputs.len(),
            failures.join("\n  ")
        );
    }
    Ok(())
}

/// Each input's report name (its file name up to the first dot), checked
/// to be unique.
fn report_names(inputs: &[Input]) -> anyhow::Result<Vec<String>> {
    let mut seen: HashMap<String, &Path> = HashMap::new();
    inputs
        .iter()
        .map(|input| {
            let file = input
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let name = file.split('.').next().unwrap_or_default().to_string();
            if let Some(other) = seen.insert(name.clone(), &input.path) {
                bail!(
                    "{} and {} would both be reported as {name}.html; report them into different --output-dir",
                    other.display(),
                    input.path.display()
                );
            }
            Ok(name)
        })
        .collect()
}

fn report_one(
    input: &Input,
    name: &str,
    args: &ReportArgs,
    rule: Rule,
    progress: &crate::progress::Rows,
) -> anyhow::Result<String> {
    let started = Instant::now();
    let mut profile = profile::profile(&input.path, input.format, &|rows| progress.rows(rows))?;
    if let Some(base) = &args.relative_to
        && let Ok(relative) = profile.path.strip_prefix(base)
    {
        profile.path = relative.to_path_buf();
    }
    let generated = chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let report = summary::build(&profile, rule, generated);
    let html_path = args.output_dir.join(format!("{name}.html"));
    let mut outputs = vec![(html_path.clone(), html::render(&report).into_bytes())];
    if args.json {
        let json = serde_json::to_vec_pretty(&report).context("cannot write the JSON report")?;
        outputs.push((args.output_dir.join(format!("{name}.json")), json));
    }
    let mut parts = 0;
    if args.csv {
        let files = figures::csv_files(&report, &args.output_dir, name);
        parts = files.len();
        outputs.extend(files);
    }
    write_all(outputs)?;
    let split = match parts {
        0 | 1 => String::new(),
        n => format!(
            ", figures split by column into {n} CSV files of at most {} rows",
            figures::MAX_ROWS
        ),
    };
    Ok(format!(
        "{}: {} rows, {} columns -> {}{split} ({:.1} s)",
        input.path.display(),
        report
            .rows
            .map_or_else(|| "redacted".to_string(), chart::thousands),
        report.columns.len(),
        html_path.display(),
        started.elapsed().as_secs_f64()
    ))
}

/// Writes every output under a temporary name, then renames them all into
/// place: a failure leaves none of them.
fn write_all(outputs: Vec<(PathBuf, Vec<u8>)>) -> anyhow::Result<()> {
    let mut files = Vec::new();
    for (path, bytes) in outputs {
        let write = || -> std::io::Result<AtomicFile> {
            let mut file = AtomicFile::create(&path)?;
            file.write_all(&bytes)?;
            Ok(file)
        };
        files.push(write().with_context(|| format!("cannot write {}", path.display()))?);
    }
    for file in files {
        let dest = file.dest().to_path_buf();
        file.commit()
            .with_context(|| format!("cannot write {}", dest.display()))?;
    }
    Ok(())
}
