//! Writing a record batch as a format-118 `.dta` file (little-endian).
//!
//! Every column is planned first ([`plan`]), so that a column Stata cannot
//! hold fails before a byte is written and the file's map of section
//! offsets can be written up front to a stream. Observations are then
//! encoded in chunks, in parallel, and written in order.

use std::io::Write;
use std::path::Path;

use arrow_array::RecordBatch;
use rayon::prelude::*;

use super::names::stata_names;
use super::plan::{Storage, StoragePlan, plan};
use super::types::{Release, STRL_CODE, VarType};
use crate::table::TableError;

/// The format written.
const RELEASE: Release = Release(118);

/// The most variables a format-118 file holds.
const MAX_VARS: usize = 32_767;

/// Bytes of observations encoded at a time by one thread.
const CHUNK_BYTES: usize = 4 << 20;

/// Characters of a variable label.
const LABEL_CHARS: usize = 80;

/// Bytes of a `strL` text's entry after the data, besides the text: `GSO`,
/// variable (4), observation (8), type (1), length (4), terminating NUL.
const GSO_OVERHEAD: u64 = 3 + 4 + 8 + 1 + 4 + 1;

/// A `strL` text entry of type text (NUL-terminated), as pandas writes.
const GSO_TEXT: u8 = 130;

/// Writes `batch` as a format-118 `.dta` file to `out` (`path` names it in
/// errors).
///
/// Types: Boolean as `byte` 0/1 (and Null as `byte`, all missing); integers in the smallest of `byte`,
/// `int`, `long` that holds every value, else `double` where all are within
/// ±2^53, else as decimal text (`str#`); Float32 as `float` (`double` when
/// beyond its range), Float64 as `double`; text as `str#` up to 2045 bytes,
/// `strL` beyond; Date32 as `long` `%td`, Timestamp as `double` `%tc`.
/// Nulls are missing values (`.`), or "" in text.
///
/// Columns Stata would not accept are renamed as pandas `to_stata` renames
/// them ([`stata_names`]), keeping the original name as the variable label.
/// Returns, in column order, a note for every column stored otherwise than
/// as given: (column, what happened), such as
/// (`flucats_other_covid_antigen_code_date`, `renamed
/// "_0flucats_other_covid_antigen_co" for Stata (its label keeps the old
/// name)`).
pub fn write(
    batch: &RecordBatch,
    out: &mut dyn Write,
    path: &Path,
) -> Result<Vec<(String, String)>, TableError> {
    let invalid = |m: String| TableError::invalid(path, None, m);
    let schema = batch.schema();
    if schema.fields().len() > MAX_VARS {
        return Err(invalid(format!(
            "{} columns: a Stata file holds at most {MAX_VARS}; write .parquet or .feather instead",
            schema.fields().len()
        )));
    }
    let originals: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let names = stata_names(&originals);
    if let Some((i, j)) = first_duplicate(&names) {
        return Err(invalid(format!(
            "columns {:?} and {:?} would both be the Stata variable {:?}; Stata needs distinct names",
            originals[i], originals[j], names[i]
        )));
    }
    let plans = batch
        .columns()
        .par_iter()
        .zip(&originals)
        .map(|(array, name)| plan(array.as_ref()).map_err(|m| format!("column {name:?} {m}")))
        .collect::<Result<Vec<StoragePlan>, String>>()
        .map_err(invalid)?;

    let vars: Vec<Var> = plans
        .iter()
        .zip(originals.iter().zip(&names))
        .map(|(plan, (original, name))| Var {
            name,
            label: if name == original {
                ""
            } else {
                cut_chars(original, LABEL_CHARS)
            },
            kind: plan.storage.var_type(),
            format: &plan.format,
        })
        .collect();
    let rows = batch.num_rows();
    let width: usize = vars.iter().map(|v| v.kind.width()).sum();
    let strls_len: u64 = plans
        .iter()
        .filter_map(|p| match &p.storage {
            Storage::StrL(texts, refs) => Some(
                first_occurrences(refs)
                    .map(|row| GSO_OVERHEAD + texts.get(row).len() as u64)
                    .sum::<u64>(),
            ),
            _ => None,
        })
        .sum();

    let io = |e| TableError::io(path, false, e);
    let data_len = rows as u64 * width as u64;
    out.write_all(&header(&vars, rows as u64, data_len, strls_len))
        .map_err(io)?;
    out.write_all(b"<data>").map_err(io)?;
    write_data(&plans, rows, width, out).map_err(io)?;
    out.write_all(b"</data><strls>").map_err(io)?;
    write_strls(&plans, out).map_err(io)?;
    out.write_all(b"</strls><value_labels></value_labels></stata_dta>")
        .map_err(io)?;

    Ok(originals
        .iter()
        .zip(&names)
        .zip(&plans)
        .flat_map(|((original, name), plan)| {
            let renamed = (*original != name)
                .then(|| format!("renamed {name:?} for Stata (its label keeps the old name)"));
            renamed
                .into_iter()
                .chain(plan.note.clone())
                .map(|note| (original.to_string(), note))
        })
        .collect())
}

/// One variable's descriptors as written.
struct Var<'a> {
    name: &'a str,
    label: &'a str,
    kind: VarType,
    format: &'a str,
}

fn first_duplicate(names: &[String]) -> Option<(usize, usize)> {
    let mut seen = std::collections::HashMap::new();
    names
        .iter()
        .enumerate()
        .find_map(|(j, name)| seen.insert(name, j).map(|i| (i, j)))
}

/// The first `n` characters of `text`.
fn cut_chars(text: &str, n: usize) -> &str {
    text.char_indices()
        .nth(n)
        .map_or(text, |(end, _)| &text[..end])
}

/// The rows (0-based) whose `strL` text is stored: the first of each text.
fn first_occurrences(refs: &[u64]) -> impl Iterator<Item = usize> + '_ {
    (0..refs.len()).filter(|&row| refs[row] == row as u64 + 1)
}

/// Everything before the data: header, map, variable descriptors.
fn header(vars: &[Var], rows: u64, data_len: u64, strls_len: u64) -> Vec<u8> {
    let mut h = Vec::new();
    h.extend_from_slice(b"<stata_dta><header><release>118</release><byteorder>LSF</byteorder>");
    h.extend_from_slice(b"<K>");
    h.extend_from_slice(&(vars.len() as u16).to_le_bytes());
    h.extend_from_slice(b"</K><N>");
    h.extend_from_slice(&rows.to_le_bytes());
    // No data label; no time stamp, so that the same data gives the same bytes.
    h.extend_from_slice(b"</N><label>\0\0</label><timestamp>\0</timestamp></header>");

    let map_at = h.len();
    h.extend_from_slice(b"<map>");
    h.extend_from_slice(&[0; 14 * 8]);
    h.extend_from_slice(b"</map>");
    let mut map = vec![0, map_at as u64];
    let mut section = |h: &mut Vec<u8>, tag: &str, body: &mut dyn FnMut(&mut Vec<u8>)| {
        map.push(h.len() as u64);
        h.extend_from_slice(format!("<{tag}>").as_bytes());
        body(h);
        h.extend_from_slice(format!("</{tag}>").as_bytes());
    };
    section(&mut h, "variable_types", &mut |h| {
        for var in vars {
            let code = match var.kind {
                VarType::Numeric(n) => n.code(),
                VarType::Str(w) => w,
                VarType::StrL => STRL_CODE,
            };
            h.extend_from_slice(&code.to_le_bytes());
        }
    });
    section(&mut h, "varnames", &mut |h| {
        vars.iter()
            .for_each(|v| padded(h, v.name, RELEASE.name_len()))
    });
    section(&mut h, "sortlist", &mut |h| {
        h.resize(h.len() + 2 * (vars.len() + 1), 0)
    });
    section(&mut h, "formats", &mut |h| {
        vars.iter()
            .for_each(|v| padded(h, v.format, RELEASE.format_len()))
    });
    section(&mut h, "value_label_names", &mut |h| {
        vars.iter().for_each(|_| padded(h, "", RELEASE.name_len()))
    });
    section(&mut h, "variable_labels", &mut |h| {
        vars.iter()
            .for_each(|v| padded(h, v.label, RELEASE.label_len()))
    });
    section(&mut h, "characteristics", &mut |_| {});

    let data = h.len() as u64;
    let strls = data + "<data>".len() as u64 + data_len + "</data>".len() as u64;
    let labels = strls + "<strls>".len() as u64 + strls_len + "</strls>".len() as u64;
    let close = labels + "<value_labels></value_labels>".len() as u64;
    map.extend([
        data,
        strls,
        labels,
        close,
        close + "</stata_dta>".len() as u64,
    ]);
    for (i, offset) in map.iter().enumerate() {
        let at = map_at + "<map>".len() + 8 * i;
        h[at..at + 8].copy_from_slice(&offset.to_le_bytes());
    }
    h
}

/// Appends `text` NUL-padded to `len` bytes.
fn padded(h: &mut Vec<u8>, text: &str, len: usize) {
    h.extend_from_slice(text.as_bytes());
    h.resize(h.len() + len - text.len(), 0);
}

/// Encodes and writes every observation, a group of chunks at a time.
fn write_data(
    plans: &[StoragePlan],
    rows: usize,
    width: usize,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    if width == 0 {
        return Ok(());
    }
    let offsets: Vec<usize> = plans
        .iter()
        .scan(0, |offset, plan| {
            let at = *offset;
            *offset += plan.storage.var_type().width();
            Some(at)
        })
        .collect();
    let chunk_rows = (CHUNK_BYTES / width).max(1);
    let group_rows = chunk_rows * 2 * rayon::current_num_threads();
    for group in (0..rows).step_by(group_rows) {
        let chunks: Vec<Vec<u8>> = (group..rows.min(group + group_rows))
            .step_by(chunk_rows)
            .collect::<Vec<_>>()
            .into_par_iter()
            .map(|start| {
                let end = rows.min(start + chunk_rows).min(group + group_rows);
                let mut buf = vec![0; (end - start) * width];
                for (i, (plan, &offset)) in plans.iter().zip(&offsets).enumerate() {
                    let var = (i + 1) as u16;
                    plan.storage
                        .encode(start..end, &mut buf, width, offset, var);
                }
                buf
            })
            .collect();
        for chunk in chunks {
            out.write_all(&chunk)?;
        }
    }
    Ok(())
}

/// Writes the text of each `strL` the first time it occurs, as pandas does.
fn write_strls(plans: &[StoragePlan], out: &mut dyn Write) -> std::io::Result<()> {
    for (i, plan) in plans.iter().enumerate() {
        let Storage::StrL(texts, refs) = &plan.storage else {
            continue;
        };
        for row in first_occurrences(refs) {
            let text = texts.get(row).as_bytes();
            out.write_all(b"GSO")?;
            out.write_all(&(i as u32 + 1).to_le_bytes())?;
            out.write_all(&(row as u64 + 1).to_le_bytes())?;
            out.write_all(&[GSO_TEXT])?;
            out.write_all(&(text.len() as u32 + 1).to_le_bytes())?;
            out.write_all(text)?;
            out.write_all(&[0])?;
        }
    }
    Ok(())
}
