//! What a run leaves in `metadata/`: one log per action (`ACTION.log`, its
//! output lines with timestamps, then upstream's trailer; `ACTION` as
//! [`file_names::file_name`] makes it safe) and
//! `manifest.json` (upstream's production format), both written atomically.

use std::collections::{BTreeMap, VecDeque};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use super::file_names;
use super::outputs::Level;
use crate::table::atomic::AtomicFile;

/// How many of the last log lines are kept for the console summary.
pub const TAIL_LINES: usize = 32;

/// The current time as upstream timestamps log lines (RFC 3339, UTC, ns).
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

/// `metadata/ACTION.log` being written: lines arrive from the action as it
/// runs; [`ActionLog::finish`] adds the trailer and renames it into place.
#[derive(Debug)]
pub struct ActionLog {
    file: Mutex<AtomicFile>,
    tail: Mutex<VecDeque<String>>,
}

/// The facts written after an action's output lines.
#[derive(Debug, Clone)]
pub struct Trailer {
    /// The command line as run.
    pub command: String,
    /// The exit code.
    pub exit_code: i32,
    /// When it started.
    pub created_at: String,
    /// When it finished.
    pub completed_at: String,
    /// The outcome in words.
    pub status_message: String,
    /// A hint for unmatched patterns.
    pub hint: Option<String>,
    /// The outputs, sorted.
    pub outputs: Vec<(String, Level)>,
    /// `moderately_sensitive` outputs that would not be released, and why.
    pub excluded: Vec<(String, String)>,
}

impl ActionLog {
    /// Starts `metadata/ACTION.log` in `project_dir`.
    pub fn create(project_dir: &Path, action: &str) -> anyhow::Result<ActionLog> {
        let path = log_path(project_dir, action);
        let dir = path.parent().expect("inside metadata/");
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let file = AtomicFile::create_record(&path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(ActionLog {
            file: Mutex::new(file),
            tail: Mutex::new(VecDeque::new()),
        })
    }

    /// Adds one line of the action's output, timestamped.
    pub fn line(&self, text: &str) {
        let text = text.trim_end_matches(['\r', '\n']);
        // A log that cannot be written is reported when it is committed.
        let _ = writeln!(
            self.file.lock().expect("no panics while writing"),
            "{} {text}",
            now()
        );
        let mut tail = self.tail.lock().expect("no panics while writing");
        if tail.len() == TAIL_LINES {
            tail.pop_front();
        }
        tail.push_back(text.to_owned());
    }

    /// Writes the trailer and renames the log into place; returns the last
    /// output lines.
    pub fn finish(self, trailer: &Trailer) -> anyhow::Result<Vec<String>> {
        let mut file = self.file.into_inner().expect("no panics while writing");
        let dest = file.dest().to_path_buf();
        write_trailer(&mut file, trailer)
            .and_then(|()| file.commit())
            .with_context(|| format!("cannot write {}", dest.display()))?;
        Ok(self
            .tail
            .into_inner()
            .expect("no panics while writing")
            .into())
    }
}

/// Where an action's log goes: `metadata/NAME.log` in `project_dir`, NAME
/// the action's [`file_names::file_name`], so never outside `metadata/`.
pub fn log_path(project_dir: &Path, action: &str) -> PathBuf {
    project_dir.join(log_file(action))
}

/// An action's log relative to the project, `/`-separated, as the summary
/// shows it.
pub fn log_file(action: &str) -> String {
    format!("metadata/{}.log", file_names::file_name(action))
}

fn write_trailer(out: &mut impl Write, t: &Trailer) -> std::io::Result<()> {
    write!(out, "\n\n")?;
    writeln!(out, "command: {}", t.command)?;
    writeln!(out, "exit_code: {}", t.exit_code)?;
    writeln!(out, "created_at: {}", t.created_at)?;
    writeln!(out, "completed_at: {}", t.completed_at)?;
    writeln!(out, "status_message: {}", t.status_message)?;
    if let Some(hint) = &t.hint {
        writeln!(out, "hint: {hint}")?;
    }
    write!(out, "\noutputs:\n")?;
    let outputs: Vec<(String, String)> = t
        .outputs
        .iter()
        .map(|(f, l)| (f.clone(), l.to_string()))
        .collect();
    writeln!(out, "{}", tabulate(&outputs, "  - ", 2, "(no outputs)"))?;
    if !t.excluded.is_empty() {
        write!(out, "\nInvalid moderately_sensitive outputs:\n")?;
        writeln!(out, "{}", tabulate(&t.excluded, "  - ", 2, ""))?;
    }
    Ok(())
}

/// Two columns, the first padded, as upstream's `tabulate`.
pub fn tabulate(rows: &[(String, String)], separator: &str, indent: usize, empty: &str) -> String {
    let pad = " ".repeat(indent);
    if rows.is_empty() {
        return format!("{pad}{empty}");
    }
    let width = rows.iter().map(|r| printed_width(&r.0)).max().unwrap_or(0);
    rows.iter()
        .map(|(a, b)| format!("{pad}{}{separator}{b}", padded(a, width)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `text` as printed on a terminal: control characters (which would move
/// the cursor or clear the screen) escaped, `\t` as `\\t`.
pub fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_debug().collect()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// The columns `text` takes on a terminal once [`printable`] (wide
/// characters count two).
pub fn printed_width(text: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(printable(text).as_str())
}

/// [`printable`] `text` padded with spaces to `width` terminal columns.
pub fn padded(text: &str, width: usize) -> String {
    let shown = printable(text);
    let fill = width.saturating_sub(printed_width(text));
    format!("{shown}{}", " ".repeat(fill))
}

/// One output in the manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputRecord {
    /// Its privacy level.
    pub level: Level,
    /// The action that wrote it.
    pub action: String,
    /// Size in bytes.
    pub size: u64,
    /// Modification time, seconds since the epoch.
    pub timestamp: f64,
    /// SHA-256 of the content, hex.
    pub content_hash: String,
    /// Whether a `moderately_sensitive` check failed.
    pub excluded: bool,
    /// Why it failed.
    pub message: Option<String>,
    /// Data rows of a checked CSV file.
    pub row_count: Option<u64>,
    /// Columns of a checked CSV file.
    pub col_count: Option<u64>,
}

/// `metadata/manifest.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// The workspace (project directory) name.
    pub workspace: String,
    /// Always null (an old key upstream keeps).
    pub repo: Option<String>,
    /// Every output file of the project by path.
    pub outputs: BTreeMap<String, OutputRecord>,
}

impl Manifest {
    /// The manifest of the project in `project_dir`.
    pub fn path(project_dir: &Path) -> PathBuf {
        project_dir.join("metadata").join("manifest.json")
    }

    /// Reads the project's manifest, or starts an empty one.
    pub fn load(project_dir: &Path) -> anyhow::Result<Manifest> {
        let path = Manifest::path(project_dir);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).with_context(|| {
                format!(
                    "{} is corrupt; delete it and it will be rebuilt as actions run",
                    path.display()
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Manifest {
                workspace: project_dir
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                repo: None,
                outputs: BTreeMap::new(),
            }),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    /// Replaces `action`'s entries with `records` and writes the manifest.
    pub fn record(
        &mut self,
        project_dir: &Path,
        action: &str,
        records: Vec<(String, OutputRecord)>,
    ) -> anyhow::Result<()> {
        self.outputs.retain(|_, r| r.action != action);
        self.outputs.extend(records);
        let text = serde_json::to_vec_pretty(self).expect("manifest serialises");
        super::state::write_atomically(&Manifest::path(project_dir), &text)
    }
}

/// Describes an output file now in the project: an error, without opening
/// it, unless it is a regular file ([`super::outputs::open_regular`]).
pub fn describe(
    path: &Path,
    level: Level,
    action: &str,
    check: &super::outputs::Level4Check,
) -> anyhow::Result<OutputRecord> {
    use sha2::Digest;
    let (mut file, meta) = super::outputs::open_regular(path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let mut hasher = sha2::Sha256::new();
    let mut buffer = vec![0; 1 << 20];
    loop {
        let n = std::io::Read::read(&mut file, &mut buffer)
            .with_context(|| format!("cannot read {}", path.display()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    let timestamp = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0.0, |d| d.as_secs_f64());
    Ok(OutputRecord {
        level,
        action: action.to_owned(),
        size: meta.len(),
        timestamp,
        content_hash: hex(&hasher.finalize()),
        excluded: check.message.is_some(),
        message: check.message.clone(),
        row_count: check.rows,
        col_count: check.cols,
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_have_timestamped_lines_then_the_trailer() {
        let dir = tempfile::tempdir().unwrap();
        let log = ActionLog::create(dir.path(), "act").unwrap();
        log.line("hello\n");
        log.line("world");
        let tail = log
            .finish(&Trailer {
                command: "python analysis/a.py".into(),
                exit_code: 0,
                created_at: "2024-01-01T00:00:00Z".into(),
                completed_at: "2024-01-01T00:00:01Z".into(),
                status_message: "Completed successfully".into(),
                hint: None,
                outputs: vec![
                    ("output/a.csv".into(), Level::ModeratelySensitive),
                    ("output/long_name.csv".into(), Level::HighlySensitive),
                ],
                excluded: vec![("output/a.csv".into(), "File has patient_id column".into())],
            })
            .unwrap();
        assert_eq!(tail, ["hello", "world"]);
        let text = std::fs::read_to_string(log_path(dir.path(), "act")).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0].len(), 30 + 1 + 5, "{:?}", lines[0]);
        assert!(lines[0].ends_with("Z hello"));
        assert_eq!(
            &lines[4..],
            [
                "command: python analysis/a.py",
                "exit_code: 0",
                "created_at: 2024-01-01T00:00:00Z",
                "completed_at: 2024-01-01T00:00:01Z",
                "status_message: Completed successfully",
                "",
                "outputs:",
                "  output/a.csv          - moderately_sensitive",
                "  output/long_name.csv  - highly_sensitive",
                "",
                "Invalid moderately_sensitive outputs:",
                "  output/a.csv  - File has patient_id column",
            ]
        );
    }

    #[test]
    fn the_manifest_replaces_an_actions_entries_and_hashes_content() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.csv");
        std::fs::write(&file, "abc").unwrap();
        let check = super::super::outputs::Level4Check::default();
        let mut record = describe(&file, Level::HighlySensitive, "act", &check).unwrap();
        assert!(record.timestamp > 1e9);
        // A value whose JSON text reads back exactly, to compare whole manifests.
        record.timestamp = 1_700_000_000.5;
        assert_eq!(
            record.content_hash,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(record.size, 3);
        let mut manifest = Manifest::load(dir.path()).unwrap();
        manifest
            .record(
                dir.path(),
                "act",
                vec![("output/a.csv".into(), record.clone())],
            )
            .unwrap();
        manifest
            .record(dir.path(), "act", vec![("output/b.csv".into(), record)])
            .unwrap();
        let loaded = Manifest::load(dir.path()).unwrap();
        assert_eq!(loaded, manifest);
        assert_eq!(loaded.outputs.keys().collect::<Vec<_>>(), ["output/b.csv"]);
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(Manifest::path(dir.path())).unwrap()).unwrap();
        assert_eq!(json["repo"], serde_json::Value::Null);
        assert_eq!(json["outputs"]["output/b.csv"]["level"], "highly_sensitive");
    }
}
