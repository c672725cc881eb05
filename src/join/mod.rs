//! `cohortkit join` (= `cohort-joiner`): left-join every lhs file to one
//! per-patient rhs file on `patient_id`, as pandas `merge(how="left")` does,
//! but without changing a single value.
//!
//! CSV files stream through [`stream`] with the rhs held as encoded text
//! ([`index::TextIndex`]); columnar files go through [`frame`] with the rhs
//! held as Arrow columns ([`index::BatchIndex`]). Files are joined in
//! parallel on one rayon pool, which also compresses gzip blocks.

pub mod frame;
pub mod index;
pub mod inputs;
pub mod key;
pub mod names;
pub mod pandas_metadata;
pub mod stats;
pub mod stream;

use anyhow::{Context, bail};
use rayon::prelude::*;

use crate::cli::JoinArgs;
use crate::progress::Rows;
use index::{BatchIndex, TextIndex};
use inputs::Input;
use stats::FileStats;

/// Runs the join described by the command line.
pub fn run(args: &JoinArgs) -> anyhow::Result<()> {
    let inputs = inputs::resolve(&args.lhs, &args.rhs, &args.output_dir)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads.unwrap_or(0))
        .build()
        .context("cannot start worker threads")?;
    let (results, warnings) = pool.install(|| join_all(&inputs, args))?;

    let mut failures = Vec::new();
    let mut stats = Vec::new();
    for result in results {
        match result {
            Ok(s) => stats.push(s),
            Err(e) => failures.push(format!("{e:#}")),
        }
    }
    if !args.quiet {
        for warning in warnings {
            eprintln!("warning: {warning}");
        }
        for s in &stats {
            eprintln!("{}", s.summary());
        }
    }
    if let Some(path) = &args.stats {
        stats::save(path, &stats)?;
    }
    if !failures.is_empty() {
        bail!(
            "{} of {} files failed; no partial output was left:\n  {}",
            failures.len(),
            inputs.lhs.len(),
            failures.join("\n  ")
        );
    }
    Ok(())
}

type Outcome = (Vec<anyhow::Result<FileStats>>, Vec<String>);

fn join_all(inputs: &inputs::Inputs, args: &JoinArgs) -> anyhow::Result<Outcome> {
    let rhs = &inputs.rhs;
    let needs_text = inputs.lhs.iter().any(|i| i.format.is_csv());
    let needs_batch = inputs.lhs.iter().any(|i| !i.format.is_csv());
    let (text, batch) = rayon::join(
        || {
            needs_text
                .then(|| TextIndex::build(&rhs.path, rhs.format))
                .transpose()
        },
        || {
            needs_batch
                .then(|| BatchIndex::build(&rhs.path, rhs.format))
                .transpose()
        },
    );
    let (text, batch) = (text?, batch?);
    std::fs::create_dir_all(&args.output_dir).with_context(|| {
        format!(
            "cannot create the output directory {}",
            args.output_dir.display()
        )
    })?;

    let progress = Rows::new(crate::progress::bar(
        inputs.lhs.len() as u64,
        "files",
        args.quiet,
    ));
    let warnings = std::sync::Mutex::new(Vec::new());
    let results = inputs
        .lhs
        .par_iter()
        .map(|input| {
            let result = join_one(
                input,
                args,
                text.as_ref(),
                batch.as_ref(),
                &progress,
                &warnings,
            );
            progress.file_done();
            result
        })
        .collect();
    progress.finish();
    Ok((
        results,
        warnings.into_inner().expect("no panics while holding it"),
    ))
}

fn join_one(
    input: &Input,
    args: &JoinArgs,
    text: Option<&TextIndex>,
    batch: Option<&BatchIndex>,
    progress: &Rows,
    warnings: &std::sync::Mutex<Vec<String>>,
) -> anyhow::Result<FileStats> {
    let dest = args
        .output_dir
        .join(input.path.file_name().expect("a matched file has a name"));
    let level = args.compression_level;
    if input.format.is_csv() {
        let index = text.expect("built when an lhs file is CSV");
        Ok(stream::join_csv(
            &input.path,
            input.format,
            index,
            &dest,
            level,
            progress,
        )?)
    } else {
        let index = batch.expect("built when an lhs file is columnar");
        let (stats, renamed) =
            frame::join_frame(&input.path, input.format, index, &dest, level, progress)?;
        warnings
            .lock()
            .expect("no panics while holding it")
            .extend(renamed);
        Ok(stats)
    }
}
