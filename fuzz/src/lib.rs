//! What the fuzz targets share. cohortkit's readers take a path, so each
//! input is written to a file first, in one scratch directory per process.
//!
//! Panics: libfuzzer-sys installs a panic hook that aborts on every panic,
//! even one that would be caught. cohortkit contains panics of third-party
//! decoders at its reader boundary (`cohortkit::table::contain`); that
//! module's hook runs before libfuzzer-sys's and keeps quiet about the
//! panics it contains, so a contained panic is an `Err` here, as it is in
//! the product, while any other panic still aborts and is reported as a
//! crash. The targets therefore leave the hook alone.

use std::path::PathBuf;
use std::sync::OnceLock;

use cohortkit::report::profile::{FileProfile, profile};
use cohortkit::table::Format;
use cohortkit::table::batches::BatchSource;

/// Writes `data` to a file called `name` in this process's scratch
/// directory and returns its path (the same path for the same name). The
/// directory is made again if something removed it meanwhile (a cleaner
/// of the temporary directory, during a long run).
pub fn file(data: &[u8], name: &str) -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        std::env::temp_dir().join(format!("cohortkit-fuzz-{}", std::process::id()))
    });
    std::fs::create_dir_all(dir).expect("the scratch directory is made");
    let path = dir.join(name);
    std::fs::write(&path, data).expect("the scratch file is written");
    path
}

/// CSV as gzip when the input starts like gzip data, else plain: one
/// corpus then covers both, and neither loses anything (plain text that
/// starts with the gzip magic, or a `.csv.gz` that is not gzip, is an
/// error either way).
pub fn csv_format(data: &[u8]) -> Format {
    if data.starts_with(&[0x1f, 0x8b]) {
        Format::CsvGz
    } else {
        Format::Csv
    }
}

/// Reads every batch of a source, as the join and the report do; errors
/// are fine.
pub fn drain(source: BatchSource) {
    for batch in source.batches {
        if batch.is_err() {
            return;
        }
    }
}

/// A small rayon pool to run readers that use the current pool in: the
/// fuzzer runs one job per core, so the machine's cores are taken already.
pub fn pool() -> &'static rayon::ThreadPool {
    static POOL: OnceLock<rayon::ThreadPool> = OnceLock::new();
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .expect("a thread pool")
    })
}

/// The report's profile of `data` as a CSV file ([`csv_format`]), read on
/// [`pool`]; `None` if it is refused.
pub fn profile_csv(data: &[u8]) -> Option<FileProfile> {
    let format = csv_format(data);
    let path = file(data, &format!("input{}", format.extension()));
    pool().install(|| profile(&path, format, &|_| {})).ok()
}
