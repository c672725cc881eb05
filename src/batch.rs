//! Files processed in parallel, as `join`, `report` and `generate` do
//! them: one worker pool, one progress bar, every file attempted, and one
//! error naming each file that failed (whose output was never renamed into
//! place, so none is left half-written).

use anyhow::{Context, bail};
use clap::Args;
use rayon::prelude::*;

use crate::progress::{self, Rows};

/// The most worker threads `--threads` may ask for.
pub const MAX_THREADS: usize = 1024;

/// Parses a `--threads` value for clap: 1 to [`MAX_THREADS`], or 0 for all
/// cores.
pub fn parse_threads(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(threads) if threads <= MAX_THREADS => Ok(threads),
        _ => Err(format!(
            "{text:?} is not a number of threads from 1 to {MAX_THREADS} (0: all cores)"
        )),
    }
}

/// The options every batch command takes.
#[derive(Debug, Clone, Args)]
pub struct BatchArgs {
    /// Worker threads (default: all cores).
    #[arg(long, value_name = "N", value_parser = parse_threads)]
    pub threads: Option<usize>,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

/// A pool of workers and whether to show progress.
pub struct Batch {
    pool: rayon::ThreadPool,
    quiet: bool,
}

impl Batch {
    /// A pool of `--threads` workers (none or 0: one per core).
    pub fn new(args: &BatchArgs) -> anyhow::Result<Batch> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(args.threads.unwrap_or(0))
            .build()
            .context("cannot start worker threads")?;
        Ok(Batch {
            pool,
            quiet: args.quiet,
        })
    }

    /// Runs `work` on the pool (for what the files share, built in
    /// parallel too).
    pub fn install<R: Send>(&self, work: impl FnOnce() -> R + Send) -> R {
        self.pool.install(work)
    }

    /// Runs `work` on every item, `at_once` items at a time (all of them
    /// when `None`), with a progress bar of files done. Every item is
    /// attempted, whatever fails.
    pub fn each<T: Sync, R: Send>(
        &self,
        items: &[T],
        at_once: Option<usize>,
        work: impl Fn(&T, &Rows) -> anyhow::Result<R> + Sync,
    ) -> Outcomes<R> {
        let progress = Rows::new(progress::bar(items.len() as u64, "files", self.quiet));
        let one = |item: &T| {
            let result = work(item, &progress);
            progress.file_done();
            result
        };
        let results = self.pool.install(|| match at_once {
            None => items.par_iter().map(one).collect(),
            Some(n) => items
                .chunks(n.max(1))
                .flat_map(|chunk| chunk.par_iter().map(one).collect::<Vec<_>>())
                .collect(),
        });
        progress.finish();
        Outcomes::of(results)
    }

    /// The number of worker threads.
    pub fn threads(&self) -> usize {
        self.pool.current_num_threads()
    }
}

/// What each item of a batch gave, or why it failed.
pub struct Outcomes<R> {
    /// The results of the items that succeeded, in order.
    pub done: Vec<R>,
    failures: Vec<String>,
    total: usize,
}

impl<R> Outcomes<R> {
    fn of(results: Vec<anyhow::Result<R>>) -> Outcomes<R> {
        let total = results.len();
        let mut done = Vec::new();
        let mut failures = Vec::new();
        for result in results {
            match result {
                Ok(value) => done.push(value),
                Err(e) => failures.push(format!("{e:#}")),
            }
        }
        Outcomes {
            done,
            failures,
            total,
        }
    }

    /// One error naming every failure, if any item failed.
    pub fn check(&self) -> anyhow::Result<()> {
        if !self.failures.is_empty() {
            bail!(
                "{} of {} files failed; no partial output was left:\n  {}",
                self.failures.len(),
                self.total,
                self.failures.join("\n  ")
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_item_is_tried_and_every_failure_named() {
        let args = BatchArgs {
            threads: Some(2),
            quiet: true,
        };
        let batch = Batch::new(&args).unwrap();
        let outcomes = batch.each(&[1, 2, 3, 4, 5], Some(2), |&n, _| {
            if n % 2 == 0 {
                bail!("file {n} failed")
            }
            Ok(n * 10)
        });
        assert_eq!(outcomes.done, [10, 30, 50]);
        let error = outcomes.check().unwrap_err().to_string();
        assert!(error.starts_with("2 of 5 files failed"), "{error}");
        assert!(error.contains("file 2 failed") && error.contains("file 4 failed"));
        let fine = batch.each(&[1], None, |&n, _| Ok(n));
        assert!(fine.check().is_ok());
    }

    #[test]
    fn thread_counts_are_bounded() {
        assert_eq!(parse_threads("0"), Ok(0));
        assert_eq!(parse_threads("1024"), Ok(1024));
        assert!(parse_threads("1025").is_err());
        assert!(parse_threads("x").is_err());
    }
}
