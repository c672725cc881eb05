//! `cohortkit join` (= `cohort-joiner`): left-join every lhs file to one
//! per-patient rhs file on `patient_id`, as pandas `merge(how="left")` does,
//! but without changing a single value.
//!
//! CSV files stream through [`stream`] with the rhs held as encoded text
//! ([`index::TextIndex`]); columnar files go through [`frame`] with the rhs
//! held as Arrow columns ([`index::BatchIndex`]). Files are joined in
//! parallel on one rayon pool, which also compresses gzip blocks.

pub mod args;
pub mod frame;
pub mod id_map;
pub mod index;
pub mod inputs;
pub mod key;
pub mod names;
pub mod pandas_metadata;
pub mod stats;
pub mod stream;

use std::sync::Mutex;

use anyhow::Context;

use crate::batch::{Batch, Outcomes};
use crate::progress::Rows;
use crate::table::inputs::Input;
pub use args::{JoinArgs, JoinerCli};
use index::{BatchIndex, TextIndex};
use stats::FileStats;

/// Runs the join described by the command line.
pub fn run(args: &JoinArgs) -> anyhow::Result<()> {
    // A pattern is refused as the user wrote it, before DIR (which may hold
    // glob characters) is prefixed.
    inputs::check_rhs(&args.rhs)?;
    let directory = &args.directory;
    let args = &args.relocated()?;
    let inputs = inputs::resolve(&args.lhs, &args.rhs, &args.output_dir)?;
    directory.check_matches(&inputs.lhs)?;
    let batch = Batch::new(&args.batch)?;
    let warnings = Mutex::new(Vec::new());
    let outcomes = join_all(&batch, &inputs, args, &warnings)?;
    if !args.batch.quiet {
        for warning in warnings.into_inner().expect("no panics while holding it") {
            eprintln!("warning: {warning}");
        }
        for s in &outcomes.done {
            eprintln!("{}", s.summary());
        }
    }
    if let Some(path) = &args.stats {
        stats::save(path, &outcomes.done)?;
    }
    outcomes.check()
}

/// Builds the rhs indexes the lhs formats need, then joins every lhs file.
fn join_all(
    batch: &Batch,
    inputs: &inputs::Inputs,
    args: &JoinArgs,
    warnings: &Mutex<Vec<String>>,
) -> anyhow::Result<Outcomes<FileStats>> {
    let rhs = &inputs.rhs;
    let needs_text = inputs.lhs.iter().any(|i| i.format.is_csv());
    let needs_batch = inputs.lhs.iter().any(|i| !i.format.is_csv());
    let (text, frames) = batch.install(|| {
        rayon::join(
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
        )
    });
    let (text, frames) = (text?, frames?);
    std::fs::create_dir_all(&args.output_dir).with_context(|| {
        format!(
            "cannot create the output directory {}",
            args.output_dir.display()
        )
    })?;
    Ok(batch.each(&inputs.lhs, None, |input, progress| {
        join_one(
            input,
            args,
            text.as_ref(),
            frames.as_ref(),
            progress,
            warnings,
        )
    }))
}

fn join_one(
    input: &Input,
    args: &JoinArgs,
    text: Option<&TextIndex>,
    batch: Option<&BatchIndex>,
    progress: &Rows,
    warnings: &Mutex<Vec<String>>,
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
