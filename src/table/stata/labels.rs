//! Value labels: the texts Stata shows for the codes of a labelled
//! variable, which pandas `read_stata` reads in place of the codes (a
//! categorical column). cohortkit reads them the same way, so that a join
//! writes the texts a researcher sees in Stata and in pandas, not codes that
//! mean nothing without the file's label tables.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use arrow_array::builder::StringDictionaryBuilder;
use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, Float64Type, Int8Type, Int16Type, Int32Type};
use arrow_array::{Array, ArrayRef, ArrowPrimitiveType, StringArray};
use arrow_schema::DataType;

use super::types::{Release, release_text, until_nul};
use crate::table::text::{python_float, write_numpy_float32};

/// One label table: each labelled code and its text.
pub type LabelTable = BTreeMap<i32, String>;

/// The label tables of a file by name.
pub type LabelTables = HashMap<String, LabelTable>;

/// Decodes one `value_label_table` (the bytes after the table's name and
/// padding): the count, the text length, the offsets, the codes and the
/// texts, each text ending in NUL.
pub fn parse_table(table: &[u8], big_endian: bool, release: Release) -> Result<LabelTable, String> {
    let word = |at: usize| -> Result<u32, String> {
        let bytes = table
            .get(at..at + 4)
            .ok_or("corrupt: a value label table is shorter than its counts say")?;
        let bytes = <[u8; 4]>::try_from(bytes).expect("four bytes");
        Ok(if big_endian {
            u32::from_be_bytes(bytes)
        } else {
            u32::from_le_bytes(bytes)
        })
    };
    let n = word(0)? as usize;
    let text_len = word(4)? as usize;
    let texts_at = n
        .checked_mul(8)
        .and_then(|w| w.checked_add(8))
        .filter(|&at| at.checked_add(text_len) == Some(table.len()))
        .ok_or("corrupt: a value label table's counts do not match its length")?;
    let texts = &table[texts_at..];
    let mut labels = LabelTable::new();
    for i in 0..n {
        let offset = word(8 + 4 * i)? as usize;
        let code = word(8 + 4 * n + 4 * i)? as i32;
        let text = texts
            .get(offset..)
            .ok_or("corrupt: a value label's text lies outside its table")?;
        labels.insert(code, release_text(until_nul(text), release, "value label")?);
    }
    Ok(labels)
}

/// A labelled numeric column as pandas reads it: each labelled code becomes
/// its text, and a value with no label keeps its number (as pandas keeps it
/// among the categories, written as Python writes that number). The result
/// is a dictionary of the texts when every value is labelled, else text.
///
/// Two values with the same text would become one, so that is an error, as
/// it is in pandas. Columns that are not numbers (dates, text) are
/// returned as they are.
pub fn apply(column: ArrayRef, labels: &LabelTable) -> Result<ArrayRef, String> {
    let texts = match column.data_type() {
        DataType::Int8 => texts::<Int8Type>(&column, labels, |v, out| integer(v.into(), out)),
        DataType::Int16 => texts::<Int16Type>(&column, labels, |v, out| integer(v.into(), out)),
        DataType::Int32 => texts::<Int32Type>(&column, labels, |v, out| integer(v.into(), out)),
        DataType::Float32 => texts::<Float32Type>(&column, labels, |v, out| {
            let mut bytes = Vec::new();
            write_numpy_float32(&mut bytes, v);
            out.push_str(std::str::from_utf8(&bytes).expect("a number's text is ASCII"));
        }),
        DataType::Float64 => {
            texts::<Float64Type>(&column, labels, |v, out| out.push_str(&python_float(v)))
        }
        _ => return Ok(column),
    };
    let Cells {
        texts,
        all_labelled,
    } = texts?;
    if all_labelled {
        // Int32 keys, as pandas writes a categorical to Arrow.
        let mut builder = StringDictionaryBuilder::<Int32Type>::new();
        texts
            .iter()
            .for_each(|t| builder.append_option(t.as_deref()));
        Ok(Arc::new(builder.finish()))
    } else {
        Ok(Arc::new(StringArray::from(texts)))
    }
}

/// A column's cells as text, and whether every present one had a label.
struct Cells {
    texts: Vec<Option<String>>,
    all_labelled: bool,
}

/// Each cell's text; an error when two different values read as one text
/// (two codes with the same label, or a label that is another value's
/// number), which pandas refuses too.
fn texts<T: ArrowPrimitiveType>(
    column: &ArrayRef,
    labels: &LabelTable,
    number: impl Fn(T::Native, &mut String),
) -> Result<Cells, String>
where
    T::Native: Into<f64>,
{
    let mut all_labelled = true;
    let mut value_of: HashMap<String, f64> = HashMap::new();
    let mut texts = Vec::with_capacity(column.len());
    for value in column.as_primitive::<T>().iter() {
        let Some(v) = value else {
            texts.push(None);
            continue;
        };
        let x: f64 = v.into();
        let code = (x.fract() == 0.0 && x.abs() <= f64::from(i32::MAX)).then_some(x as i32);
        let text = match code.and_then(|c| labels.get(&c)) {
            Some(text) => text.clone(),
            None => {
                all_labelled = false;
                let mut text = String::new();
                number(v, &mut text);
                text
            }
        };
        match value_of.get(&text) {
            Some(&other) if other != x => {
                return Err(format!(
                    "the values {other} and {x} both read as the value label {text:?}, so \
                     they cannot be told apart; give them different labels in Stata \
                     (label define ..., modify) or drop the labels (label values ...)"
                ));
            }
            Some(_) => {}
            None => {
                value_of.insert(text.clone(), x);
            }
        }
        texts.push(Some(text));
    }
    Ok(Cells {
        texts,
        all_labelled,
    })
}

fn integer(value: i64, out: &mut String) {
    out.push_str(&value.to_string());
}
