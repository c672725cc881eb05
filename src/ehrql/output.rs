//! ehrQL's `--output` and dummy-data paths: one file, or a directory of
//! tables (`DIR:EXT` on output, a directory on input), one file per table
//! named by its URL-quoted name, as `ehrql/file_formats/main.py` does.

use std::path::{Path, PathBuf};

use anyhow::bail;

use crate::table::Format;

/// The formats ehrQL writes.
pub const WRITTEN: [Format; 3] = [Format::Arrow, Format::Csv, Format::CsvGz];

/// The formats cohortkit reads a dummy data file in.
const READ: [Format; 5] = [
    Format::Arrow,
    Format::Feather,
    Format::Parquet,
    Format::CsvGz,
    Format::Csv,
];

/// The name of a dataset's main table (its event tables have their own).
pub const DATASET: &str = "dataset";

/// Where `generate-dataset` writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// One file, of the dataset table only.
    File(PathBuf, Format),
    /// `DIR:EXT`: each table as `DIR/NAME.EXT`.
    Tables(PathBuf, Format),
}

impl Output {
    /// Reads `--output` as ehrQL does.
    pub fn parse(path: &Path) -> anyhow::Result<Output> {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let written = || {
            WRITTEN
                .iter()
                .map(|f| f.extension())
                .collect::<Vec<_>>()
                .join(", ")
        };
        if let Some((stem, extension)) = name.as_deref().and_then(|n| n.rsplit_once(':')) {
            let format = Format::from_extension(extension)
                .filter(|f| WRITTEN.contains(f))
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "--output {}: ehrQL writes tables as {} files, not {extension:?}",
                        path.display(),
                        written()
                    )
                })?;
            let dir = match stem {
                "" => path.parent().unwrap_or(Path::new("")).to_path_buf(),
                stem => path.with_file_name(stem),
            };
            return Ok(Output::Tables(dir, format));
        }
        match Format::from_path(path).filter(|f| WRITTEN.contains(f)) {
            Some(format) => Ok(Output::File(path.to_path_buf(), format)),
            None => bail!(
                "--output {}: ehrQL writes {} files (or a directory of tables, DIR:arrow, DIR:csv, DIR:csv.gz)",
                path.display(),
                written()
            ),
        }
    }

    /// The file of table `name`, and its format; an error for a table
    /// other than the dataset's when writing one file (ehrQL's advice
    /// included).
    pub fn table(&self, name: &str, tables: usize) -> anyhow::Result<(PathBuf, Format)> {
        match self {
            Output::File(path, format) if tables == 1 => Ok((path.clone(), *format)),
            Output::File(path, format) => {
                let stem = path.with_extension("");
                let stem = stem.to_string_lossy();
                let stem = stem.strip_suffix(".csv").unwrap_or(&stem);
                bail!(
                    "Attempting to write {tables} tables, but output only supports a single table\n  Instead of -> {}\n         try -> {stem}/:{}",
                    path.display(),
                    format.extension().trim_start_matches('.')
                )
            }
            Output::Tables(dir, format) => Ok((
                dir.join(format!("{}{}", quote(name), format.extension())),
                *format,
            )),
        }
    }
}

/// A table of a dummy data file: its name and file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// The table's name (`dataset` for a single file).
    pub name: String,
    /// Its file.
    pub path: PathBuf,
    /// Its format.
    pub format: Format,
}

/// The tables of `--dummy-data-file PATH`: the file itself as the dataset,
/// or each data file of a directory (all of one format, as ehrQL requires),
/// by name.
pub fn tables(path: &Path) -> anyhow::Result<Vec<Table>> {
    let readable = |p: &Path| Format::from_path(p).filter(|f| READ.contains(f));
    if !path.is_dir() {
        if !path.is_file() {
            bail!("Missing file or directory: {}", path.display());
        }
        let Some(format) = readable(path) else {
            bail!(
                "{}: a dummy data file is read as .arrow, .feather, .parquet, .csv.gz or .csv",
                path.display()
            );
        };
        return Ok(vec![Table {
            name: DATASET.into(),
            path: path.to_path_buf(),
            format,
        }]);
    }
    let mut tables = Vec::new();
    for entry in std::fs::read_dir(path)? {
        let file = entry?.path();
        if let Some(format) = readable(&file).filter(|_| file.is_file()) {
            let stem = crate::table::stem(&file, format);
            tables.push(Table {
                name: unquote(&stem),
                path: file,
                format,
            });
        }
    }
    let mut formats: Vec<&str> = tables.iter().map(|t| t.format.extension()).collect();
    formats.sort_unstable();
    formats.dedup();
    match formats[..] {
        [] => bail!("No supported file formats found in: {}", path.display()),
        [_] => {}
        _ => bail!(
            "Found multiple file formats ({}) in: {}",
            formats.join(", "),
            path.display()
        ),
    }
    // The dataset first, then the event tables by name.
    tables.sort_by(|a, b| (a.name != DATASET, &a.name).cmp(&(b.name != DATASET, &b.name)));
    Ok(tables)
}

/// `urllib.parse.quote(name, safe="")`: every byte but letters, digits and
/// `_.-~` as `%XX`.
fn quote(name: &str) -> String {
    let mut out = String::new();
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || b"_.-~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The inverse of [`quote`] (`%XX` that is not hex stays as it is).
fn unquote(name: &str) -> String {
    let bytes = name.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_read_as_ehrql_reads_them() {
        let p = |s: &str| Output::parse(Path::new(s));
        assert_eq!(
            p("output/dataset.arrow").unwrap(),
            Output::File("output/dataset.arrow".into(), Format::Arrow)
        );
        assert_eq!(
            p("output/dataset.csv.gz").unwrap(),
            Output::File("output/dataset.csv.gz".into(), Format::CsvGz)
        );
        assert_eq!(
            p("output/tables:csv.gz").unwrap(),
            Output::Tables("output/tables".into(), Format::CsvGz)
        );
        assert_eq!(
            p("output/:arrow").unwrap(),
            Output::Tables("output".into(), Format::Arrow)
        );
        for bad in [
            "output/d.parquet",
            "output/d.feather",
            "output/d:parquet",
            "d.txt",
        ] {
            assert!(p(bad).is_err(), "{bad}");
        }
        let tables = p("out/t:csv").unwrap();
        assert_eq!(
            tables.table("a/b e", 2).unwrap(),
            (PathBuf::from("out/t/a%2Fb%20e.csv"), Format::Csv)
        );
        let one = p("out/d.csv.gz").unwrap();
        assert!(one.table(DATASET, 1).is_ok());
        let two = one.table(DATASET, 2).unwrap_err().to_string();
        assert!(two.contains("try -> out/d/:csv.gz"), "{two}");
    }

    #[test]
    fn names_quote_and_unquote() {
        for name in ["dataset", "a b/c%d", "événements", "x~y.z-w_v"] {
            assert_eq!(unquote(&quote(name)), name);
        }
        assert_eq!(quote("a b"), "a%20b");
        assert_eq!(unquote("100%"), "100%");
    }

    #[test]
    fn a_directory_holds_one_format_of_tables() {
        let dir = tempfile::tempdir().unwrap();
        let path = |n: &str| dir.path().join(n);
        std::fs::write(path("events.csv"), "patient_id\n").unwrap();
        std::fs::write(path("dataset.csv"), "patient_id\n").unwrap();
        std::fs::write(path("README.md"), "notes").unwrap();
        let found = tables(dir.path()).unwrap();
        let names: Vec<_> = found.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["dataset", "events"]);
        std::fs::write(path("more.arrow"), "").unwrap();
        let mixed = tables(dir.path()).unwrap_err().to_string();
        assert!(
            mixed.contains("multiple file formats (.arrow, .csv)"),
            "{mixed}"
        );
        assert!(tables(&path("none.csv")).is_err());
    }
}
