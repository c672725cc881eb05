//! `cohortkit report` (= `dataset-report`): one self-contained HTML report
//! per cohort file, every figure under disclosure control.
//!
//! A file is read once ([`scan`]) into per-column statistics ([`column`],
//! [`sketch`]); [`summary`] applies the disclosure rule ([`disclosure`]) and
//! decides what is published (of numbers: [`statistics`], [`histogram`]);
//! [`html`] (with [`chart`] and, for `--sdc legacy`, [`legacy`]) and the
//! optional JSON render that. Files are reported in parallel on one rayon
//! pool, which also parses each CSV file's chunks in parallel.

pub mod args;
pub mod audit;
pub mod bin_store;
pub mod bins;
pub mod cell;
pub mod chart;
pub mod column;
pub mod decimal;
pub mod disclosure;
pub mod distribution;
pub mod dtype;
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

use crate::batch::Batch;
use crate::directory::Directory;
use crate::progress::Rows;
use crate::table::atomic::AtomicFile;
use crate::table::inputs::{Input, expand};
pub use args::{Invocation, ReportArgs, ReportCli};
use disclosure::Rule;

/// Runs the report described by the command line.
pub fn run(args: &ReportArgs, invocation: Invocation) -> anyhow::Result<()> {
    let rule = args.sdc.unwrap_or(match invocation {
        Invocation::Cohortkit => Rule::Current,
        Invocation::DatasetReport => Rule::Legacy,
    });
    let directory = &args.directory;
    let args = &args.relocated()?;
    let inputs = expand("--input-files", &args.input_files)?;
    directory.check_matches(&inputs)?;
    let names = report_names(&inputs)?;
    std::fs::create_dir_all(&args.output_dir).with_context(|| {
        format!(
            "cannot create the output directory {}",
            args.output_dir.display()
        )
    })?;
    let batch = Batch::new(&args.batch)?;
    // Each file is read in parallel already; a few files at a time keeps
    // memory bounded however many files and cores there are.
    let at_once = batch.threads() / 4;
    let jobs: Vec<(&Input, &String)> = inputs.iter().zip(&names).collect();
    let outcomes = batch.each(&jobs, Some(at_once), |(input, name), progress| {
        report_one(input, name, args, rule, directory, progress)
    });
    if !args.batch.quiet {
        for line in &outcomes.done {
            eprintln!("{line}");
        }
    }
    outcomes.check()
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
    directory: &Directory,
    progress: &Rows,
) -> anyhow::Result<String> {
    let started = Instant::now();
    let mut profile = profile::profile(&input.path, input.format, &|rows| progress.rows(rows))?;
    // The report names its input as the user did, not by `-C DIR`.
    profile.path = directory.shown(&profile.path).to_path_buf();
    let report = summary::build(&profile, rule, generated()?);
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

/// When a report says it was made: now, or the time `SOURCE_DATE_EPOCH`
/// gives (seconds since 1970, the reproducible-builds convention), so that
/// the same input can give the same report byte for byte.
fn generated() -> anyhow::Result<String> {
    let format = |time: chrono::DateTime<chrono::Utc>| {
        time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    let Some(epoch) = std::env::var_os("SOURCE_DATE_EPOCH") else {
        return Ok(chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    };
    let seconds = epoch.to_str().and_then(|s| s.trim().parse::<i64>().ok());
    match seconds.and_then(|s| chrono::DateTime::from_timestamp(s, 0)) {
        Some(time) => Ok(format(time)),
        None => anyhow::bail!(
            "SOURCE_DATE_EPOCH={} is not a number of seconds since 1970; unset it or fix it",
            epoch.to_string_lossy()
        ),
    }
}
