//! Writing dummy extracts: which files, and each file's bytes.
//!
//! A file is drawn in chunks of [`CHUNK_ROWS`] rows, a window of chunks at a
//! time in parallel, and written in order, so memory stays bounded whatever
//! the population. CSV goes through the parallel gzip [`Sink`]; Arrow,
//! Parquet and Stata files through [`FrameWriter`]. Files are atomic.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use rayon::prelude::*;

use super::chunk::{self, FileKey};
use super::dates::Day;
use super::ids::Ids;
use super::plan::DrawPlan;
use super::random::{combine, hash_text};
use super::render;
use crate::progress::Rows;
use crate::table::Format;
use crate::table::atomic::AtomicFile;
use crate::table::frame::FrameWriter;
use crate::table::gzip::Sink;

/// Rows drawn together. Fixed, so output never depends on the threads.
pub const CHUNK_ROWS: u64 = 8_192;

/// One output file.
#[derive(Debug, Clone)]
pub struct OutputFile {
    /// Where it goes.
    pub path: PathBuf,
    /// Its format.
    pub format: Format,
    /// Its index date, if any.
    pub date: Option<Day>,
}

/// What is the same for every file of a run.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// The patient universe and every stream derive from this.
    pub seed: u64,
    /// Draw ids afresh per file, as upstream.
    pub independent_ids: bool,
    /// Gzip level for `.csv.gz` and `.dta.gz`.
    pub level: u32,
}

/// The output name upstream gives study `name`: `input` plus what follows
/// `study_definition` (`study_definition_end` -> `input_end`).
pub fn output_stem(study: &str) -> String {
    match study.strip_prefix("study_definition") {
        Some(suffix) => format!("input{suffix}"),
        None => format!("input_{study}"),
    }
}

/// The file for `date` (or none): `DIR/STEM_DATE.EXT`.
pub fn output_path(dir: &Path, stem: &str, date: Option<Day>, format: Format) -> PathBuf {
    let date = date.map(|d| format!("_{d}")).unwrap_or_default();
    dir.join(format!("{stem}{date}{}", format.extension()))
}

/// Writes one study's file for `job`. Returns warnings (Stata renames).
pub fn write(
    plan: &DrawPlan,
    study: &str,
    job: &OutputFile,
    settings: Settings,
    progress: &Rows,
) -> anyhow::Result<Vec<String>> {
    let file = combine(&[hash_text(study), job.date.map_or(u64::MAX, |d| d.0 as u64)]);
    let key = FileKey {
        seed: settings.seed,
        file,
    };
    let ids = if settings.independent_ids {
        Ids::independent(settings.seed, plan.population, file)
    } else {
        Ids::shared(
            settings.seed,
            plan.population,
            job.date.map(|d| i64::from(d.0)),
        )
    };
    // Chunks in flight take memory: as many as the cores can draw, not as
    // many as `--threads` asks for.
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let window = (rayon::current_num_threads().min(cores) * 2).max(2);
    let draw =
        |&(index, start, len): &(u64, u64, usize)| chunk::draw(plan, &ids, key, index, start, len);
    if job.format.is_csv() {
        let io = |e| anyhow::Error::new(e).context(format!("cannot write {}", job.path.display()));
        let file = AtomicFile::create(&job.path).map_err(io)?;
        let mut sink = Sink::new(file, job.format.is_gzip(), settings.level);
        sink.write_all(&render::header(plan)).map_err(io)?;
        // Draw the next window while the last one is compressed and written.
        let mut pending: Vec<(Vec<u8>, usize)> = Vec::new();
        for group in windows(plan.population, window) {
            let (written, texts) = rayon::join(
                || write_texts(&mut sink, &pending, progress),
                || {
                    group
                        .par_iter()
                        .map(|c| {
                            let chunk = draw(c);
                            let mut out = Vec::with_capacity(chunk.len * plan.columns.len() * 6);
                            render::csv(plan, &chunk, &mut out);
                            (out, chunk.len)
                        })
                        .collect()
                },
            );
            written.map_err(io)?;
            pending = texts;
        }
        write_texts(&mut sink, &pending, progress).map_err(io)?;
        sink.finish().map_err(io)?.commit().map_err(io)?;
        return Ok(Vec::new());
    }
    let schema = render::arrow_schema(plan);
    let dictionaries = render::dictionaries(plan);
    let mut writer = FrameWriter::create(&job.path, job.format, schema.clone(), settings.level)?;
    for group in windows(plan.population, window) {
        let batches: Vec<_> = group
            .par_iter()
            .map(|c| render::batch(plan, &draw(c), &schema, &dictionaries))
            .collect();
        for (batch, c) in batches.iter().zip(&group) {
            writer.write(batch)?;
            progress.rows(c.2 as u64);
        }
    }
    if plan.population == 0 {
        let empty = arrow_array::RecordBatch::new_empty(schema);
        writer.write(&empty)?;
    }
    Ok(writer.finish()?)
}

/// The chunks of a file of `population` rows, `window` at a time: each
/// chunk's number, first row and rows.
fn windows(population: u64, window: usize) -> impl Iterator<Item = Vec<(u64, u64, usize)>> {
    let count = population.div_ceil(CHUNK_ROWS);
    (0..count).step_by(window).map(move |first| {
        (first..count.min(first + window as u64))
            .map(|i| {
                let start = i * CHUNK_ROWS;
                (i, start, CHUNK_ROWS.min(population - start) as usize)
            })
            .collect()
    })
}

fn write_texts(
    sink: &mut impl Write,
    texts: &[(Vec<u8>, usize)],
    progress: &Rows,
) -> std::io::Result<()> {
    for (text, rows) in texts {
        sink.write_all(text)?;
        progress.rows(*rows as u64);
    }
    Ok(())
}

/// Copies a user's dummy data file to `job`'s path (upstream's
/// `--dummy-data-file`), after checking it has the job's format.
pub fn copy_dummy(source: &Path, job: &OutputFile) -> anyhow::Result<()> {
    if Format::from_path(source) != Some(job.format) {
        anyhow::bail!(
            "Expected dummy data file with extension {}; got {}",
            job.format.extension(),
            source.display()
        );
    }
    let mut input = std::fs::File::open(source)
        .with_context(|| format!("cannot read the dummy data file {}", source.display()))?;
    let io = |e| anyhow::Error::new(e).context(format!("cannot write {}", job.path.display()));
    let mut output = AtomicFile::create(&job.path).map_err(io)?;
    std::io::copy(&mut input, &mut output).map_err(io)?;
    output.commit().map_err(io)
}
