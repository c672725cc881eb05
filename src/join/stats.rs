//! How well each file matched: printed after the join, optionally saved.

use std::path::{Path, PathBuf};

use serde::Serialize;

/// Share of matched rows under which the join warns.
const FEW_MATCHED: f64 = 0.5;

/// The outcome of joining one lhs file.
#[derive(Debug, Clone, Serialize)]
pub struct FileStats {
    /// The lhs file.
    pub input: PathBuf,
    /// The joined file.
    pub output: PathBuf,
    /// Data rows (all of the lhs rows).
    pub rows: u64,
    /// Rows whose patient id is in the rhs file.
    pub matched: u64,
}

impl FileStats {
    /// Zero counts for joining `input` into `output`.
    pub fn new(input: &Path, output: &Path) -> FileStats {
        FileStats {
            input: input.to_path_buf(),
            output: output.to_path_buf(),
            rows: 0,
            matched: 0,
        }
    }

    /// The share of rows matched (1 for an empty file).
    pub fn share(&self) -> f64 {
        if self.rows == 0 {
            1.0
        } else {
            self.matched as f64 / self.rows as f64
        }
    }

    /// A line for stderr, with a warning when few rows matched.
    pub fn summary(&self) -> String {
        let mut line = format!(
            "{}: {} rows, {} matched ({:.1} %) -> {}",
            self.input.display(),
            self.rows,
            self.matched,
            100.0 * self.share(),
            self.output.display()
        );
        if self.share() < FEW_MATCHED {
            line.push_str(
                "\nwarning: fewer than half of the rows matched a patient_id in --rhs; \
                 dummy extracts from separate cohortextractor runs rarely share ids \
                 (`cohortkit generate` makes extracts that do)",
            );
        }
        line
    }
}

/// Writes the statistics as JSON (`.json`) or CSV (anything else).
pub fn save(path: &Path, stats: &[FileStats]) -> anyhow::Result<()> {
    use std::io::Write;
    let json = path.extension().is_some_and(|e| e == "json");
    crate::table::atomic::write_with(path, |out| {
        if json {
            serde_json::to_writer_pretty(&mut *out, stats)?;
            out.write_all(b"\n")
        } else {
            let mut text = Vec::new();
            writeln!(text, "input,output,rows,matched,share")?;
            for s in stats {
                let mut row = Vec::new();
                crate::table::csv::write_record(
                    &mut row,
                    [
                        s.input.to_string_lossy().as_bytes(),
                        s.output.to_string_lossy().as_bytes(),
                        s.rows.to_string().as_bytes(),
                        s.matched.to_string().as_bytes(),
                        format!("{:.4}", s.share()).as_bytes(),
                    ],
                    false,
                );
                text.extend_from_slice(&row);
            }
            out.write_all(&text)
        }
    })
    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}
