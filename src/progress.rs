//! Progress bars on a terminal, silence elsewhere.

use std::io::IsTerminal;
use std::time::Duration;

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
/// their rate. Safe to share between threads.
pub struct Rows {
    bar: ProgressBar,
    rows: std::sync::atomic::AtomicU64,
    started: std::time::Instant,
}

impl Rows {
    /// Counts on `bar` (from [`bar`]).
    pub fn new(bar: ProgressBar) -> Rows {
        Rows {
            bar,
            rows: std::sync::atomic::AtomicU64::new(0),
            started: std::time::Instant::now(),
        }
    }

    /// Adds `rows` written and refreshes the message.
    pub fn rows(&self, rows: u64) {
        use std::sync::atomic::Ordering;
        let total = self.rows.fetch_add(rows, Ordering::Relaxed) + rows;
        let seconds = self.started.elapsed().as_secs_f64().max(1e-3);
        self.bar.set_message(format!(
            "{total} rows, {:.0} rows/s",
            total as f64 / seconds
        ));
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
