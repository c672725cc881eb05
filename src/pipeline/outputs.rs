//! Declared outputs: privacy levels, the rules an output pattern must follow,
//! matching files against patterns, the checks upstream makes on
//! `moderately_sensitive` files before releasing them, and the rule that
//! only regular files are outputs (a symbolic link, FIFO, socket or device
//! is never followed or opened: [`open_regular`]).

use std::fmt;
use std::fs::{File, FileType, Metadata};
use std::io;
use std::path::Path;

use crate::table::text::python_float;

/// How sensitive an output is, as declared in `project.yaml`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Patient-level data: stays on the server.
    HighlySensitive,
    /// Aggregates that may be released after checks.
    ModeratelySensitive,
    /// Low-risk outputs.
    MinimallySensitive,
}

impl Level {
    /// Every level, in the order upstream lists them.
    pub const ALL: [Level; 3] = [
        Level::HighlySensitive,
        Level::ModeratelySensitive,
        Level::MinimallySensitive,
    ];

    /// The key used in `project.yaml`.
    pub fn name(self) -> &'static str {
        match self {
            Level::HighlySensitive => "highly_sensitive",
            Level::ModeratelySensitive => "moderately_sensitive",
            Level::MinimallySensitive => "minimally_sensitive",
        }
    }

    /// The level named by a `project.yaml` key.
    pub fn from_name(name: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.name() == name)
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// File types allowed for `moderately_sensitive` outputs (upstream's level 4).
pub const LEVEL4_FILE_TYPES: [&str; 11] = [
    ".csv", ".jpg", ".jpeg", ".png", ".svg", ".svgz", ".html", ".txt", ".log", ".json", ".md",
];

/// Largest `moderately_sensitive` file upstream releases.
pub const LEVEL4_MAX_BYTES: u64 = 16 * 1024 * 1024;

/// Most data rows a `moderately_sensitive` CSV file may have.
pub const LEVEL4_MAX_CSV_ROWS: u64 = 5000;

/// Checks an output pattern, in upstream's order; the error is the reason
/// that follows "Output path P is invalid: ".
pub fn check_pattern(pattern: &str, level: Level) -> Result<(), String> {
    if pattern.contains('\\') {
        return Err("contains back slashes (use forward slashes only)".into());
    }
    for expr in ["**", "?", "["] {
        if pattern.contains(expr) {
            return Err(format!(
                "contains '{expr}' (only the * wildcard character is supported)"
            ));
        }
    }
    let suffix = suffix(pattern);
    if suffix.is_empty() || suffix.ends_with('*') {
        return Err("output paths must have a file type extension at the end".into());
    }
    if level == Level::ModeratelySensitive && !LEVEL4_FILE_TYPES.contains(&suffix) {
        return Err(format!(
            "{} is not an allowed file type for moderately_sensitive outputs",
            pure_path(pattern)
        ));
    }
    if normpath(pattern) != pattern {
        return Err("is not in standard form (contains double slashes or '..' elements)".into());
    }
    if pattern == "metadata" || pattern.starts_with("metadata/") {
        return Err("should not include the metadata directory".into());
    }
    if pattern.starts_with('/') || is_windows_absolute(pattern) {
        return Err("is an absolute path".into());
    }
    Ok(())
}

/// The directory part of a pattern (`.` for none).
pub fn parent(pattern: &str) -> &str {
    pattern.rsplit_once('/').map_or(".", |(dir, _)| dir)
}

/// The last suffix of a path's final name, as Python's `PurePath.suffix`.
pub fn suffix(path: &str) -> &str {
    let name = path.rsplit('/').find(|s| !s.is_empty()).unwrap_or("");
    match name.rfind('.') {
        Some(i) if i > 0 && i < name.len() - 1 => &name[i..],
        _ => "",
    }
}

/// The path as Python's `PurePath` prints it: no empty or `.` segments.
fn pure_path(path: &str) -> String {
    let rooted = path.starts_with('/');
    let parts: Vec<&str> = path
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect();
    format!("{}{}", if rooted { "/" } else { "" }, parts.join("/"))
}

/// Python's `posixpath.normpath`.
fn normpath(path: &str) -> String {
    if path.is_empty() {
        return ".".into();
    }
    let initial = if path.starts_with("//") && !path.starts_with("///") {
        2
    } else if path.starts_with('/') {
        1
    } else {
        0
    };
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." if initial == 0 && parts.last().is_none_or(|p| *p == "..") => parts.push(".."),
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    let joined = format!("{}{}", "/".repeat(initial), parts.join("/"));
    if joined.is_empty() {
        ".".into()
    } else {
        joined
    }
}

/// `c:/...`: absolute on Windows (backslashes are refused earlier).
fn is_windows_absolute(path: &str) -> bool {
    let b = path.as_bytes();
    b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && b[2] == b'/'
}

/// Whether a relative `/`-separated path matches an output pattern: the
/// same number of segments, `*` matching any run of characters within one.
pub fn matches(pattern: &str, path: &str) -> bool {
    let mut pattern_parts = pattern.split('/');
    let mut path_parts = path.split('/');
    loop {
        match (pattern_parts.next(), path_parts.next()) {
            (None, None) => return true,
            (Some(p), Some(s)) if wildcard_match(p, s) => {}
            _ => return false,
        }
    }
}

/// `fnmatch` with `*` as the only wildcard (matching any characters).
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let mut pieces = pattern.split('*');
    let first = pieces.next().unwrap_or("");
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let pieces: Vec<&str> = pieces.collect();
    let Some((last, middle)) = pieces.split_last() else {
        return rest.is_empty();
    };
    for piece in middle {
        match rest.find(piece) {
            Some(i) => rest = &rest[i + piece.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

/// What a directory entry of type `file_type` is, in words ("a symbolic
/// link"), for messages naming an entry that is no regular file.
pub fn kind(file_type: FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if file_type.is_socket() {
            return "a socket";
        }
        if file_type.is_block_device() {
            return "a block device";
        }
        if file_type.is_char_device() {
            return "a character device";
        }
    }
    if file_type.is_symlink() {
        "a symbolic link"
    } else if file_type.is_dir() {
        "a directory"
    } else if file_type.is_file() {
        "a regular file"
    } else {
        "an entry of an unknown type"
    }
}

/// Opens `path` for reading only if it is a regular file, and returns it
/// with its metadata: a symbolic link is not followed and a FIFO, socket or
/// device is not opened (an error saying what it is). The entry is checked
/// without following links, then the opened file is checked to be that same
/// regular file, so a link swapped in between is refused.
pub fn open_regular(path: &Path) -> io::Result<(File, Metadata)> {
    let listed = std::fs::symlink_metadata(path)?;
    if !listed.is_file() {
        return Err(io::Error::other(format!(
            "it is {}, not a regular file",
            kind(listed.file_type())
        )));
    }
    let file = File::open(path)?;
    let opened = file.metadata()?;
    if !opened.is_file() || !same_file(&listed, &opened) {
        return Err(io::Error::other("it was replaced while being opened"));
    }
    Ok((file, opened))
}

/// Whether two metadata describe the same file (device and inode on unix).
pub fn same_file(a: &Metadata, b: &Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        a.dev() == b.dev() && a.ino() == b.ino()
    }
    #[cfg(not(unix))]
    {
        a.file_type() == b.file_type() && a.len() == b.len()
    }
}

/// The release checks of one output (declared as `name`, at `path`):
/// upstream's [`check_level4`] for a `moderately_sensitive` file, none for
/// the others. Only a regular file is looked at ([`open_regular`]).
pub fn check(name: &str, path: &Path, level: Level) -> Level4Check {
    if level != Level::ModeratelySensitive {
        return Level4Check::default();
    }
    let size = open_regular(path).map(|(_, m)| m.len()).unwrap_or(0);
    check_level4(name, path, size)
}

/// Why a `moderately_sensitive` file would not be released, and the CSV
/// counts upstream records for it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Level4Check {
    /// Upstream's messages joined by commas; `None` when the file is fine.
    pub message: Option<String>,
    /// Data rows, for CSV files.
    pub rows: Option<u64>,
    /// Columns, for CSV files.
    pub cols: Option<u64>,
}

/// Checks a `moderately_sensitive` file (at `path`, declared as `name`) as
/// upstream does: size, then file type, then for CSV a `patient_id` column
/// and the row count.
pub fn check_level4(name: &str, path: &Path, size: u64) -> Level4Check {
    let mb = |b: u64| (b as f64 / (1024.0 * 1024.0) * 100.0).round() / 100.0;
    let suffix = suffix(name);
    let mut check = Level4Check::default();
    let mut messages = Vec::new();
    if size > LEVEL4_MAX_BYTES {
        messages.push(format!(
            "File size of {}Mb is larger that limit of {}Mb.",
            python_float(mb(size)),
            python_float(mb(LEVEL4_MAX_BYTES))
        ));
    } else if !LEVEL4_FILE_TYPES.contains(&suffix) {
        messages.push(format!("File type of {suffix} is not valid level 4 file"));
    } else if suffix == ".csv" {
        if let Ok((header, rows, cols)) = csv_counts(path) {
            check.rows = Some(rows);
            check.cols = Some(cols);
            if header.iter().any(|h| h == "patient_id") {
                messages.push("File has patient_id column".into());
            }
            if rows > LEVEL4_MAX_CSV_ROWS {
                messages.push(format!(
                    "File row count ({rows}) exceeds maximum allowed rows ({LEVEL4_MAX_CSV_ROWS})"
                ));
            }
        }
    }
    if !messages.is_empty() {
        check.message = Some(messages.join(","));
    }
    check
}

/// The header, data rows and columns (of the first data row) of a CSV file
/// (a regular file only: [`open_regular`]).
fn csv_counts(path: &Path) -> Result<(Vec<String>, u64, u64), csv::Error> {
    let (file, _) = open_regular(path)?;
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(file);
    let header = reader.headers()?.iter().map(str::to_owned).collect();
    let mut records = reader.records();
    let Some(first) = records.next().transpose()? else {
        return Ok((header, 0, 0));
    };
    let mut rows = 1;
    for record in records {
        record?;
        rows += 1;
    }
    Ok((header, rows, first.len() as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_follow_upstreams_rules_in_order() {
        let h = Level::HighlySensitive;
        let m = Level::ModeratelySensitive;
        assert_eq!(check_pattern("output/input_*.csv.gz", h), Ok(()));
        assert_eq!(check_pattern("output/report.html", m), Ok(()));
        let reason = |p, l| check_pattern(p, l).unwrap_err();
        assert!(reason("output\\a.csv", h).contains("back slashes"));
        assert!(reason("output/**/a.csv", h).contains("'**'"));
        assert!(reason("output/a?.csv", h).contains("'?'"));
        assert!(reason("output/[ab].csv", h).contains("'['"));
        assert!(reason("output/a", h).contains("file type extension"));
        assert!(reason("output/a.*", h).contains("file type extension"));
        assert_eq!(
            reason("output//a.csv.gz", m),
            "output/a.csv.gz is not an allowed file type for moderately_sensitive outputs"
        );
        assert!(reason("output//a.csv", h).contains("standard form"));
        assert!(reason("output/../a.csv", h).contains("standard form"));
        assert!(reason("./a.csv", h).contains("standard form"));
        assert!(reason("metadata/a.csv", h).contains("metadata"));
        assert!(reason("/tmp/a.csv", h).contains("absolute"));
        assert!(reason("c:/a.csv", h).contains("absolute"));
    }

    #[test]
    fn suffixes_and_normal_forms_are_pythons() {
        assert_eq!(suffix("output/input.csv.gz"), ".gz");
        assert_eq!(suffix("output/.hidden"), "");
        assert_eq!(suffix("output/a."), "");
        assert_eq!(normpath("a//b/./c/"), "a/b/c");
        assert_eq!(normpath("../a/../../b"), "../../b");
        assert_eq!(normpath("//a"), "//a");
    }

    #[test]
    fn stars_stay_within_one_segment() {
        assert!(matches(
            "output/input_*.csv.gz",
            "output/input_2020-03-01.csv.gz"
        ));
        assert!(matches("output/inp*.csv.gz", "output/input.csv.gz"));
        assert!(matches("output/*", "output/a"));
        assert!(matches("output/a*b*c.csv", "output/abc.csv"));
        assert!(!matches("output/a*b*c.csv", "output/acb.csv"));
        assert!(!matches("output/*.csv", "output/joined/a.csv"));
        assert!(!matches("output/input_*.csv.gz", "output/input_end.csv"));
        assert!(!matches("output/a*a.csv", "output/a.csv"));
    }

    #[test]
    fn only_moderately_sensitive_outputs_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("t.csv");
        std::fs::write(&csv, "patient_id\n1\n").unwrap();
        let check = |level| check("output/t.csv", &csv, level).message;
        assert_eq!(check(Level::HighlySensitive), None);
        assert_eq!(
            check(Level::ModeratelySensitive).as_deref(),
            Some("File has patient_id column")
        );
    }

    #[test]
    fn level4_checks_follow_upstream() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("t.csv");
        let mut text = String::from("patient_id,x\n");
        for i in 0..6000 {
            text.push_str(&format!("{i},1\n"));
        }
        std::fs::write(&csv, &text).unwrap();
        let check = check_level4("output/t.csv", &csv, text.len() as u64);
        assert_eq!(
            check.message.as_deref(),
            Some(
                "File has patient_id column,File row count (6000) exceeds maximum allowed rows (5000)"
            )
        );
        assert_eq!((check.rows, check.cols), (Some(6000), Some(2)));

        let big = check_level4("output/t.csv", &csv, 21_495_808);
        assert_eq!(
            big.message.as_deref(),
            Some("File size of 20.5Mb is larger that limit of 16.0Mb.")
        );
        let png = check_level4("output/x.pdf", &csv, 10);
        assert_eq!(
            png.message.as_deref(),
            Some("File type of .pdf is not valid level 4 file")
        );
        std::fs::write(&csv, "a,b\n1,2\n").unwrap();
        assert_eq!(
            check_level4("output/t.csv", &csv, 8),
            Level4Check {
                message: None,
                rows: Some(1),
                cols: Some(2)
            }
        );
    }

    #[cfg(unix)]
    #[test]
    fn only_regular_files_are_opened() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim.csv");
        std::fs::write(&victim, "patient_id\n1\n2\n").unwrap();
        let (_, meta) = open_regular(&victim).unwrap();
        assert_eq!(meta.len(), 15);

        let link = dir.path().join("link.csv");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        let error = open_regular(&link).unwrap_err();
        assert_eq!(
            error.to_string(),
            "it is a symbolic link, not a regular file"
        );
        // The release checks do not read through the link either.
        let checked = check("output/link.csv", &link, Level::ModeratelySensitive);
        assert_eq!((checked.message, checked.rows), (None, None));

        let socket = dir.path().join("sock.csv");
        let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
        let error = open_regular(&socket).unwrap_err();
        assert_eq!(error.to_string(), "it is a socket, not a regular file");
        let dir_type = std::fs::symlink_metadata(dir.path()).unwrap().file_type();
        assert_eq!(kind(dir_type), "a directory");
    }
}
