//! Progress bars on a terminal, silence elsewhere.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// A bar counting `total` items (files), with a free-form message for rows
/// and throughput. Hidden when stderr is not a terminal or `quiet` is set.
pub fn bar(total: u64, what: &str, quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    let template =
        format!("{{spinner}} [{{elapsed_precise}}] {{bar:30}} {{pos}}/{{len}} {what} {{msg}}");
    bar.set_style(ProgressStyle::with_template(&template).expect("valid template"));
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// A bar counting finished files, its message the rows written so far and
/// their rate (in MB/s where bytes are counted). Safe to share between threads.
pub struct Rows {
    bar: ProgressBar,
    rows: AtomicU64,
    bytes: AtomicU64,
    started: Instant,
}

impl Rows {
    /// Counts on `bar` (from [`bar`]).
    pub fn new(bar: ProgressBar) -> Rows {
        Rows {
            bar,
            rows: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            started: Instant::now(),
        }
    }

    /// Counts that show nothing (library use, benchmarks).
    pub fn hidden() -> Rows {
        Rows::new(ProgressBar::hidden())
    }

    /// Adds `rows` written and refreshes the message.
    pub fn rows(&self, rows: u64) {
        self.advance(rows, 0);
    }

    /// Adds `rows` and `bytes` (uncompressed) written and refreshes the message.
    pub fn advance(&self, rows: u64, bytes: u64) {
        let total = self.rows.fetch_add(rows, Ordering::Relaxed) + rows;
        let written = self.bytes.fetch_add(bytes, Ordering::Relaxed) + bytes;
        let seconds = self.started.elapsed().as_secs_f64().max(1e-3);
        let rate = if written > 0 {
            format!("{:.0} MB/s", written as f64 / 1e6 / seconds)
        } else {
            format!("{:.0} rows/s", total as f64 / seconds)
        };
        self.bar.set_message(format!("{total} rows, {rate}"));
    }

    /// Counts one more file done.
    pub fn file_done(&self) {
        self.bar.inc(1);
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
