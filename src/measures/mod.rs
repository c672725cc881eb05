//! `cohortextractor generate_measures` natively: for each study
//! definition's measures and each of its dated extracts in the output
//! directory, `measure_ID_DATE.csv` as cohortextractor 1.93.3 writes it
//! ([`compute`]), then `measure_ID.csv`, every date's rows with a `date`
//! column. The measures come from the study definition itself
//! ([`crate::study`]), or, with no python3, from the `measures:` of the
//! study's schema.

pub mod args;
pub mod compute;

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

pub use args::{MeasuresArgs, MeasuresCli};
use compute::{Extract, POPULATION, Table};

use crate::study::{self, Measure};
use crate::table::atomic::AtomicFile;
use crate::table::{Format, gzip};

/// The extract formats cohortextractor's measures read, as its file-name
/// rule lists them.
const EXTENSIONS: [&str; 5] = ["csv", "csv.gz", "feather", "dta", "dta.gz"];

/// Runs `generate_measures`: every study definition, or the one named (an
/// unknown name means every one, as upstream).
pub fn generate(args: &MeasuresArgs) -> anyhow::Result<()> {
    let project = args.directory.path(Path::new("."))?;
    let output_dir = args.directory.path(&args.output_dir)?;
    let analysis = project.join("analysis");
    let all = study::names(&analysis)
        .with_context(|| format!("cannot list {}", args.directory.shown(&analysis).display()))?;
    let chosen: Vec<&String> = match all.iter().find(|n| **n == args.study_definition) {
        Some(name) => vec![name],
        None => all.iter().collect(),
    };
    for name in chosen {
        let measures = measures_of_study(&project, name, &args.params)?;
        let suffix = study::suffix(name).expect("listed as a study definition");
        measures_of(args, &output_dir, suffix, &measures)?;
    }
    Ok(())
}

/// The measures of study `name`: from its definition, or, with no python3
/// to read that, from the `measures:` of its schema
/// (`analysis/NAME.schema.yaml`) where it has some.
fn measures_of_study(
    project: &Path,
    name: &str,
    params: &[String],
) -> anyhow::Result<Vec<Measure>> {
    match study::read(project, name, params) {
        Ok(definition) => Ok(definition.measures),
        Err(no_python @ study::StudyError::NoPython(_)) => {
            let path = project.join("analysis").join(format!("{name}.schema.yaml"));
            if !path.is_file() {
                return Err(no_python.into());
            }
            let schema = crate::dummy::schema::Schema::load(&path)?;
            if schema.measures.is_empty() {
                return Err(no_python.into());
            }
            Ok(schema.measures)
        }
        Err(other) => Err(other.into()),
    }
}

/// One study's measures on its extracts in `output_dir`.
fn measures_of(
    args: &MeasuresArgs,
    output_dir: &Path,
    suffix: &str,
    measures: &[Measure],
) -> anyhow::Result<()> {
    let shown = |path: &Path| args.directory.shown(path).display().to_string();
    let mut extracts = Vec::new();
    for entry in std::fs::read_dir(output_dir)
        .with_context(|| format!("cannot list {}", shown(output_dir)))?
    {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if let Some(date) = extract_date(&name, suffix)? {
            extracts.push((output_dir.join(&name), date));
        }
    }
    if extracts.is_empty() {
        if !args.batch.quiet {
            eprintln!(
                "warning: no matching output files found in {}. You may need to first run:\n  cohortextractor generate_cohort --index-date-range ...",
                shown(output_dir)
            );
        }
        return Ok(());
    }
    let mut written: Vec<Vec<PathBuf>> = vec![Vec::new(); measures.len()];
    for (path, date) in &extracts {
        let mut extract = None;
        for (measure, files) in measures.iter().zip(&mut written) {
            let output = output_dir.join(format!("measure_{}_{date}.csv", measure.id));
            files.push(output.clone());
            if args.skip_existing && output.exists() {
                continue;
            }
            if extract.is_none() {
                extract =
                    Some(read_extract(path, measures).with_context(|| {
                        format!("cannot read {} for the measures", shown(path))
                    })?);
            }
            let (table, notes) = compute::calculate(measure, extract.as_ref().expect("read"))
                .map_err(|e| anyhow::anyhow!("measure {} on {}: {e}", measure.id, shown(path)))?;
            if !args.batch.quiet {
                for note in notes {
                    eprintln!("{note}");
                }
            }
            write_table(&output, &table, b"\n")
                .with_context(|| format!("cannot write {}", shown(&output)))?;
        }
    }
    for (measure, files) in measures.iter().zip(&mut written) {
        let output = output_dir.join(format!("measure_{}.csv", measure.id));
        combine(&output, files).with_context(|| format!("cannot write {}", shown(&output)))?;
    }
    Ok(())
}

/// The date of a study's extract named `name` (upstream's two rules:
/// `input{suffix}.+\.(EXT)$` selects it, `_(\d{4}-\d\d-\d\d)\.(EXT)$` dates
/// it); `None` for other files. A date that is no day fails, as upstream.
fn extract_date(name: &str, suffix: &str) -> anyhow::Result<Option<String>> {
    let prefix = format!("input{suffix}");
    for extension in EXTENSIONS {
        let Some(stem) = name.strip_suffix(&format!(".{extension}")) else {
            continue;
        };
        if stem.len() <= prefix.len() || !stem.starts_with(&prefix) {
            continue;
        }
        let Some(date) = stem
            .len()
            .checked_sub(11)
            .and_then(|at| stem.get(at..))
            .and_then(|tail| tail.strip_prefix('_'))
        else {
            continue;
        };
        let shape = date.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
        if !shape {
            continue;
        }
        if crate::dummy::dates::Day::parse_iso(date).is_none() {
            bail!("{name}: {date} is not a day (upstream fails here too)");
        }
        return Ok(Some(date.to_owned()));
    }
    Ok(None)
}

/// Reads the columns the measures need from a CSV extract (see
/// [`extract_from`]).
fn read_extract(path: &Path, measures: &[Measure]) -> anyhow::Result<Extract> {
    let gzipped = match Format::from_path(path) {
        Some(Format::Csv) => false,
        Some(Format::CsvGz) => true,
        _ => bail!(
            "native generate_measures reads .csv and .csv.gz extracts; pandas gives other formats types of their own, which cohortkit does not copy (use --output-format csv or csv.gz)"
        ),
    };
    extract_from(gzip::open(path, gzipped)?, measures)
}

/// Reads the columns `measures` need from CSV text: numerators and
/// denominators as numbers, the other `group_by` columns as text.
pub fn extract_from(input: impl std::io::Read, measures: &[Measure]) -> anyhow::Result<Extract> {
    let mut numbers: Vec<&str> = measures
        .iter()
        .flat_map(|m| [m.numerator.as_str(), m.denominator.as_str()])
        .filter(|n| *n != POPULATION)
        .collect();
    numbers.sort_unstable();
    numbers.dedup();
    let mut texts: Vec<&str> = measures
        .iter()
        .flat_map(|m| m.group_by.iter().map(String::as_str))
        .filter(|n| *n != POPULATION && !numbers.contains(n))
        .collect();
    texts.sort_unstable();
    texts.dedup();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(input);
    let header = reader.byte_headers()?.clone();
    let position = |column: &str| {
        header
            .iter()
            .position(|h| h == column.as_bytes())
            .with_context(|| format!("it has no column {column}"))
    };
    let number_at: Vec<usize> = numbers
        .iter()
        .map(|c| position(c))
        .collect::<Result<_, _>>()?;
    let text_at: Vec<usize> = texts
        .iter()
        .map(|c| position(c))
        .collect::<Result<_, _>>()?;
    let mut extract = Extract::default();
    let mut number_columns = vec![Vec::new(); numbers.len()];
    let mut text_columns = vec![Vec::new(); texts.len()];
    let mut record = csv::ByteRecord::new();
    while reader.read_byte_record(&mut record)? {
        let line = extract.rows + 2;
        for ((column, &at), name) in number_columns.iter_mut().zip(&number_at).zip(&numbers) {
            let field = record.get(at).unwrap_or_default();
            let value = std::str::from_utf8(field)
                .ok()
                .and_then(|t| t.trim().parse::<f64>().ok())
                .with_context(|| {
                    format!(
                        "line {line}, column {name}: {:?} is not a number (a numerator or denominator must be numeric or boolean)",
                        String::from_utf8_lossy(field)
                    )
                })?;
            column.push(value);
        }
        for ((column, &at), name) in text_columns.iter_mut().zip(&text_at).zip(&texts) {
            let field = record.get(at).unwrap_or_default();
            let text = String::from_utf8(field.to_vec())
                .with_context(|| format!("line {line}, column {name}: the text is not UTF-8"))?;
            column.push(text);
        }
        extract.rows += 1;
    }
    extract.numbers = numbers
        .iter()
        .map(|n| n.to_string())
        .zip(number_columns)
        .collect();
    extract.texts = texts
        .iter()
        .map(|n| n.to_string())
        .zip(text_columns)
        .collect();
    Ok(extract)
}

/// Writes `table` as pandas' `to_csv(index=False)` does (or, with `\r\n`,
/// as Python's `csv.writer`), atomically.
fn write_table(path: &Path, table: &Table, terminator: &[u8]) -> anyhow::Result<()> {
    let file = AtomicFile::create(path)?;
    let terminator = match terminator {
        b"\n" => csv::Terminator::Any(b'\n'),
        _ => csv::Terminator::CRLF,
    };
    let mut writer = csv::WriterBuilder::new()
        .terminator(terminator)
        .from_writer(file);
    writer.write_record(&table.header)?;
    for row in &table.rows {
        writer.write_record(row)?;
    }
    writer.into_inner().map_err(|e| e.into_error())?.commit()?;
    Ok(())
}

/// `_combine_csv_files_with_dates`: the rows of every file, in the order
/// of their names, each with its file's date, under the first file's
/// header and `date` (lines end `\r\n`, as Python's `csv.writer` ends
/// them).
fn combine(output: &Path, files: &mut [PathBuf]) -> anyhow::Result<()> {
    files.sort();
    let mut combined = Table {
        header: Vec::new(),
        rows: Vec::new(),
    };
    for (i, file) in files.iter().enumerate() {
        let date = file
            .to_string_lossy()
            .strip_suffix(".csv")
            .and_then(|stem| stem.get(stem.len().saturating_sub(10)..))
            .unwrap_or_default()
            .to_owned();
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .from_path(file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        let header: Vec<String> = reader.headers()?.iter().map(str::to_owned).collect();
        if i == 0 {
            combined.header = header.iter().cloned().chain(["date".to_owned()]).collect();
        } else if combined.header[..combined.header.len() - 1] != header[..] {
            bail!(
                "Files {} and {} have different headers",
                files[0].display(),
                file.display()
            );
        }
        for record in reader.records() {
            let mut row: Vec<String> = record?.iter().map(str::to_owned).collect();
            row.push(date.clone());
            combined.rows.push(row);
        }
    }
    write_table(output, &combined, b"\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extracts_are_chosen_and_dated_by_upstreams_rules() {
        let date = |name: &str, suffix: &str| extract_date(name, suffix).unwrap();
        assert_eq!(date("input_2020-01-01.csv", ""), Some("2020-01-01".into()));
        assert_eq!(
            date("input_2020-01-01.csv.gz", ""),
            Some("2020-01-01".into())
        );
        assert_eq!(
            date("input_end_2020-01-01.dta", "_end"),
            Some("2020-01-01".into())
        );
        // Upstream's rule for `study_definition` takes another study's too.
        assert_eq!(
            date("input_end_2020-01-01.csv", ""),
            Some("2020-01-01".into())
        );
        assert_eq!(date("input_end.csv", "_end"), None);
        assert_eq!(date("input.csv", ""), None);
        assert_eq!(date("measure_x_2020-01-01.csv", ""), None);
        assert_eq!(date("input_2020-01-01.parquet", ""), None);
        assert!(extract_date("input_2020-13-01.csv", "").is_err());
    }
}
