//! The parts of a `.dta` file around its data: the header and variable
//! descriptors before it, the `strL` texts and value labels after it.
//!
//! Formats 114 and 115 are a fixed binary layout; 117 to 119 wrap the same
//! kind of content in tags (`<header>`, `<map>`, ...), which are checked on
//! the way so that a damaged file is reported where it goes wrong.

use std::collections::HashMap;

use super::input::DtaReader;
use super::labels::{LabelTables, parse_table};
use super::types::{Numeric, Release, STRL_CODE, VarType, field_text};
use crate::table::TableError;
use crate::table::sniff::Kind;

const HEADER: &str = "the header";
const DESCRIPTORS: &str = "the variable descriptors";

/// The opening of every file in formats 117 and later.
const TAGGED_START: &str = "<stata_dta><header><release>";

/// What the header says about a file.
pub struct Header {
    /// The format number.
    pub release: Release,
    /// Observations (rows).
    pub rows: u64,
    /// The variables (columns), in order.
    pub vars: Vec<Var>,
}

/// One variable's descriptors.
pub struct Var {
    /// Its name.
    pub name: String,
    /// How its values are stored.
    pub kind: VarType,
    /// Its display format (`%9.0g`, `%td`, ...).
    pub format: String,
    /// The name of its value label table; empty when it has none.
    pub labels: String,
}

/// Reads everything before the data; the data comes next.
pub fn read_header(input: &mut DtaReader) -> Result<Header, TableError> {
    let mut start = [0; 4];
    let got = input.read_up_to(&mut start, HEADER)?;
    if got == 0 {
        return Err(input.error("the file is empty, not a Stata file"));
    }
    if start[0] == b'<' {
        let mut rest = vec![0; TAGGED_START.len() - got];
        let more = input.read_up_to(&mut rest, HEADER)?;
        let read = [&start[..got], &rest[..more]].concat();
        if read != TAGGED_START.as_bytes() {
            return Err(not_stata(input, &read));
        }
        return tagged_header(input);
    }
    let [version, order, filetype, _] = start;
    if got < 4 || !matches!(order, 1 | 2) || filetype != 1 {
        return Err(not_stata(input, &start[..got]));
    }
    input.big_endian = order == 1;
    let release = check_release(input, u16::from(version))?;
    old_header(input, release)
}

/// The error for a file that starts with `start`, which no `.dta` does.
fn not_stata(input: &DtaReader, start: &[u8]) -> TableError {
    let looks = match Kind::of(start) {
        Kind::Stata | Kind::Unknown => String::new(),
        other => format!("; {}", other.looks_like()),
    };
    input.error(format!(
        "not a Stata file: it does not start as a .dta file does{looks}"
    ))
}

fn check_release(input: &DtaReader, version: u16) -> Result<Release, TableError> {
    if Release::READ.contains(&version) {
        Ok(Release(version))
    } else {
        Err(input.error(format!(
            "unsupported Stata format {version}: cohortkit reads formats 114, 115, 117, 118 and 119 \
             (Stata 10 and later); save it again with a newer Stata or with pandas"
        )))
    }
}

/// Formats 114 and 115, after the first four bytes.
fn old_header(input: &mut DtaReader, release: Release) -> Result<Header, TableError> {
    let nvar = input.uint(2, HEADER)? as usize;
    let rows = input.uint(4, HEADER)?;
    input.skip(81 + 18, HEADER)?; // data label, time stamp
    let codes = input.bytes(nvar, DESCRIPTORS)?;
    let names = fields(input, nvar, release.name_len(), release)?;
    input.skip(2 * (nvar as u64 + 1), DESCRIPTORS)?; // sort order
    let formats = fields(input, nvar, release.format_len(), release)?;
    let labels = fields(input, nvar, release.name_len(), release)?;
    input.skip((nvar * release.label_len()) as u64, DESCRIPTORS)?; // variable labels
    loop {
        // expansion fields: type, length, contents; type 0 ends them
        let kind = input.uint(1, DESCRIPTORS)?;
        let len = input.uint(4, DESCRIPTORS)?;
        if kind == 0 {
            break;
        }
        input.skip(len, DESCRIPTORS)?;
    }
    let kinds = codes.iter().map(|&code| match code {
        1..=244 => Some(VarType::Str(u16::from(code))),
        _ => Numeric::from_old_code(code).map(VarType::Numeric),
    });
    let vars = variables(input, names, kinds, formats, labels, &codes)?;
    Ok(Header {
        release,
        rows,
        vars,
    })
}

/// Formats 117 to 119, after `<stata_dta><header><release>`.
fn tagged_header(input: &mut DtaReader) -> Result<Header, TableError> {
    let digits = input.bytes(3, HEADER)?;
    let version = std::str::from_utf8(&digits)
        .ok()
        .and_then(|d| d.parse().ok())
        .ok_or_else(|| not_stata(input, TAGGED_START.as_bytes()))?;
    let release = check_release(input, version)?;
    input.expect("</release><byteorder>")?;
    input.big_endian = match &input.bytes(3, HEADER)?[..] {
        b"MSF" => true,
        b"LSF" => false,
        other => {
            return Err(input.error(format!(
                "corrupt: the byte order is {:?}, not MSF or LSF",
                String::from_utf8_lossy(other)
            )));
        }
    };
    let wide = release.0 == 119;
    input.expect("</byteorder><K>")?;
    let nvar = input.uint(if wide { 4 } else { 2 }, HEADER)? as usize;
    input.expect("</K><N>")?;
    let rows = input.uint(if release.0 == 117 { 4 } else { 8 }, HEADER)?;
    input.expect("</N><label>")?;
    let label_len = input.uint(if release.0 == 117 { 1 } else { 2 }, HEADER)?;
    input.skip(label_len, HEADER)?;
    input.expect("</label><timestamp>")?;
    let stamp_len = input.uint(1, HEADER)?;
    input.skip(stamp_len, HEADER)?;
    input.expect("</timestamp></header><map>")?;
    input.skip(14 * 8, HEADER)?;
    input.expect("</map><variable_types>")?;
    let codes = (0..nvar)
        .map(|_| input.uint(2, DESCRIPTORS).map(|c| c as u16))
        .collect::<Result<Vec<_>, _>>()?;
    input.expect("</variable_types><varnames>")?;
    let names = fields(input, nvar, release.name_len(), release)?;
    input.expect("</varnames><sortlist>")?;
    let sort_len = if wide { 4 } else { 2 };
    input.skip(sort_len * (nvar as u64 + 1), DESCRIPTORS)?;
    input.expect("</sortlist><formats>")?;
    let formats = fields(input, nvar, release.format_len(), release)?;
    input.expect("</formats><value_label_names>")?;
    let labels = fields(input, nvar, release.name_len(), release)?;
    input.expect("</value_label_names><variable_labels>")?;
    input.skip((nvar * release.label_len()) as u64, DESCRIPTORS)?;
    input.expect("</variable_labels><characteristics>")?;
    loop {
        let at = input.bytes(4, DESCRIPTORS)?;
        if at == b"<ch>" {
            let len = input.uint(4, DESCRIPTORS)?;
            input.skip(len, DESCRIPTORS)?;
            input.expect("</ch>")?;
        } else if at == b"</ch" {
            input.expect("aracteristics>")?;
            break;
        } else {
            return Err(input.error("corrupt: expected <ch> or </characteristics>"));
        }
    }
    input.expect("<data>")?;
    let kinds = codes.iter().map(|&code| match code {
        1..=2045 => Some(VarType::Str(code)),
        STRL_CODE => Some(VarType::StrL),
        _ => Numeric::from_code(code).map(VarType::Numeric),
    });
    let vars = variables(input, names, kinds, formats, labels, &codes)?;
    Ok(Header {
        release,
        rows,
        vars,
    })
}

/// `n` fixed-width text fields.
fn fields(
    input: &mut DtaReader,
    n: usize,
    width: usize,
    release: Release,
) -> Result<Vec<String>, TableError> {
    let all = input.bytes(n * width, DESCRIPTORS)?;
    all.chunks_exact(width)
        .map(|f| field_text(f, release).map_err(|m| input.error(m)))
        .collect()
}

/// The variables, or an error naming the first with an unknown type code.
fn variables<C: std::fmt::Display>(
    input: &DtaReader,
    names: Vec<String>,
    kinds: impl Iterator<Item = Option<VarType>>,
    formats: Vec<String>,
    labels: Vec<String>,
    codes: &[C],
) -> Result<Vec<Var>, TableError> {
    names
        .into_iter()
        .zip(kinds)
        .zip(formats.into_iter().zip(labels))
        .zip(codes)
        .map(|(((name, kind), (format, labels)), code)| match kind {
            Some(kind) => Ok(Var {
                name,
                kind,
                format,
                labels,
            }),
            None => Err(input.error(format!(
                "corrupt: variable {name:?} has the unknown type code {code}"
            ))),
        })
        .collect()
}

/// A `strL` text: its bytes and whether Stata marked it binary.
pub struct Gso {
    /// The stored bytes, without the terminating NUL of a text one.
    pub bytes: Vec<u8>,
    /// Whether it was stored as binary (type 129) rather than text (130).
    pub binary: bool,
}

/// The `strL` texts by (variable, observation), read after the data.
pub type Gsos = HashMap<(u64, u64), Gso>;

/// What follows the data.
pub struct Trailer {
    /// The `strL` texts (formats 117 and later).
    pub gsos: Gsos,
    /// The value label tables by name.
    pub labels: LabelTables,
}

const LABELS: &str = "the value labels";

/// Reads what follows the data: the `strL` texts (formats 117 and later)
/// and the value label tables.
pub fn read_trailer(input: &mut DtaReader, release: Release) -> Result<Trailer, TableError> {
    const STRLS: &str = "the long strings (strLs)";
    let mut trailer = Trailer {
        gsos: Gsos::new(),
        labels: LabelTables::new(),
    };
    if !release.tagged() {
        while !input.at_end()? {
            label_table(input, release, &mut trailer.labels)?;
        }
        return input.drain().map(|()| trailer);
    }
    input.expect("</data><strls>")?;
    loop {
        let at = input.bytes(3, STRLS)?;
        if at == b"</s" {
            input.expect("trls>")?;
            break;
        }
        if at != b"GSO" {
            return Err(input.error("corrupt: expected GSO or </strls>"));
        }
        let v = input.uint(4, STRLS)?;
        let o = input.uint(if release.0 == 117 { 4 } else { 8 }, STRLS)?;
        let kind = input.uint(1, STRLS)?;
        let len = input.uint(4, STRLS)? as usize;
        let mut bytes = input.bytes(len, STRLS)?;
        let binary = kind == 129;
        if !binary && bytes.last() == Some(&0) {
            bytes.pop();
        }
        trailer.gsos.insert((v, o), Gso { bytes, binary });
    }
    input.expect("<value_labels>")?;
    loop {
        let at = input.bytes(5, LABELS)?;
        if at == b"</val" {
            input.expect("ue_labels></stata_dta>")?;
            break;
        }
        if at != b"<lbl>" {
            return Err(input.error("corrupt: expected <lbl> or </value_labels>"));
        }
        label_table(input, release, &mut trailer.labels)?;
        input.expect("</lbl>")?;
    }
    input.drain().map(|()| trailer)
}

/// One value label table: its length, name, padding and contents.
fn label_table(
    input: &mut DtaReader,
    release: Release,
    tables: &mut LabelTables,
) -> Result<(), TableError> {
    let len = input.uint(4, LABELS)?;
    let name = input.bytes(release.name_len(), LABELS)?;
    let name = field_text(&name, release).map_err(|m| input.error(m))?;
    input.skip(3, LABELS)?;
    let len = usize::try_from(len).map_err(|_| input.truncated(LABELS))?;
    let table = input.bytes(len, LABELS)?;
    let table = parse_table(&table, input.big_endian, release)
        .map_err(|m| input.error(format!("value label table {name:?}: {m}")))?;
    tables.insert(name, table);
    Ok(())
}
