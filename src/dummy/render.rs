//! Chunks as CSV text and as Arrow record batches, in the plan's
//! [`Conventions`]: as pandas `to_csv` writes cohortextractor's frame (and as
//! that frame has them in binary formats), or as ehrQL writes its datasets.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{ArrowDictionaryKeyType, Int8Type, Int16Type, Int32Type};
use arrow_array::{
    ArrayRef, BooleanArray, Date32Array, DictionaryArray, Float64Array, Int64Array, PrimitiveArray,
    RecordBatch, StringArray, TimestampNanosecondArray,
};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};

use super::chunk::{Cells, Chunk, NO_DATE, NO_LABEL};
use super::conventions::Conventions;
use super::dates::{DateFormat, Day};
use super::plan::{Draw, DrawPlan, Fixed, write_date};
use super::schema::TextKind;
use crate::table::csv::write_record;
use crate::table::text::write_python_float;

/// The header row.
pub fn header(plan: &DrawPlan) -> Vec<u8> {
    let mut out = Vec::new();
    let names = plan.names.iter().map(|n| n.as_bytes());
    write_record(&mut out, names, plan.conventions.crlf());
    out
}

/// Appends the chunk's rows as CSV lines.
pub fn csv(plan: &DrawPlan, chunk: &Chunk, out: &mut Vec<u8>) {
    let conventions = plan.conventions;
    let fixed: Vec<Option<Vec<u8>>> = plan
        .columns
        .iter()
        .map(|c| match &c.draw {
            Draw::Fixed(value) => Some(value.csv(conventions)),
            _ => None,
        })
        .collect();
    let line_end: &[u8] = if conventions.crlf() { b"\r\n" } else { b"\n" };
    let mut ints = itoa::Buffer::new();
    for row in 0..chunk.len {
        for (c, cells) in chunk.columns.iter().enumerate() {
            if c > 0 {
                out.push(b',');
            }
            if chunk.nulls[c].as_ref().is_some_and(|nulls| nulls[row]) {
                continue;
            }
            match cells {
                Cells::Ints(v) => out.extend_from_slice(ints.format(v[row]).as_bytes()),
                Cells::Flags(v) => out.extend_from_slice(conventions.flag(v[row])),
                // Half the floats are missing: 0.0, no need for ryu.
                Cells::Floats(v) if v[row] == 0.0 && v[row].is_sign_positive() => {
                    out.extend_from_slice(b"0.0")
                }
                Cells::Floats(v) => write_python_float(out, v[row]),
                Cells::Dates(v) => {
                    if v[row] != NO_DATE {
                        let Draw::Date(date) = &plan.columns[c].draw else {
                            unreachable!("date cells come from date columns")
                        };
                        write_date(Day(v[row]), date.format, conventions, out);
                    }
                }
                Cells::Labels(v) => {
                    if v[row] != NO_LABEL {
                        let Draw::Text { labels, .. } = &plan.columns[c].draw else {
                            unreachable!("label cells come from text columns")
                        };
                        let label = labels[v[row] as usize].as_ref().expect("drawn label");
                        out.extend_from_slice(&label.csv);
                    }
                }
                Cells::Fixed => out.extend_from_slice(fixed[c].as_deref().unwrap_or_default()),
            }
        }
        out.extend_from_slice(line_end);
    }
}

/// The Arrow schema of the plan's files. cohortextractor's: ids and ints
/// `int64`, flags `bool`, floats `double`, dates `timestamp[ns]`,
/// categories and codes dictionary-encoded strings (`int32` keys), strings
/// `utf8`. ehrQL's: the same but ints and floats nullable, dates `date32`,
/// only categories dictionary-encoded (ordered, with the smallest signed
/// keys that index them, as ehrQL's `smallest_int_type_for_range`).
pub fn arrow_schema(plan: &DrawPlan) -> SchemaRef {
    let ehrql = plan.conventions == Conventions::Ehrql;
    let fields: Vec<Field> = plan
        .names
        .iter()
        .zip(&plan.columns)
        .zip(dictionaries(plan))
        .map(|((name, column), dictionary)| {
            let fixed = matches!(column.draw, Draw::Fixed(_));
            let (data_type, nullable) = match &column.draw {
                Draw::PatientId => (DataType::Int64, false),
                Draw::IntNormal { .. }
                | Draw::IntPoisson(_)
                | Draw::Ages(_)
                | Draw::Fixed(Fixed::Int(_)) => (DataType::Int64, ehrql && !fixed),
                Draw::Flag | Draw::Fixed(Fixed::Flag(_)) => (DataType::Boolean, false),
                Draw::Float { .. } | Draw::Fixed(Fixed::Float(_)) => {
                    (DataType::Float64, ehrql && !fixed)
                }
                Draw::Date(_) | Draw::Fixed(Fixed::Date(..)) if ehrql => (DataType::Date32, !fixed),
                Draw::Date(_) | Draw::Fixed(Fixed::Date(..)) => {
                    (DataType::Timestamp(TimeUnit::Nanosecond, None), !fixed)
                }
                Draw::Text { .. } | Draw::Fixed(Fixed::Text(..)) => {
                    match dictionary.as_ref().map(|d| d.key_type(plan.conventions)) {
                        Some(key) if dictionary_encoded(column, plan.conventions) => (
                            DataType::Dictionary(Box::new(key), Box::new(DataType::Utf8)),
                            true,
                        ),
                        _ => (DataType::Utf8, true),
                    }
                }
            };
            let field = Field::new(name, data_type, nullable);
            if ehrql && matches!(field.data_type(), DataType::Dictionary(..)) {
                field.with_dict_is_ordered(true)
            } else {
                field
            }
        })
        .collect();
    Arc::new(Schema::new(fields))
}

/// Whether a text column is dictionary-encoded: categories and codes for
/// cohortextractor, categories only for ehrQL (its codes are strings).
fn dictionary_encoded(column: &super::plan::ColumnPlan, conventions: Conventions) -> bool {
    let kind = match &column.draw {
        Draw::Text { kind, .. } | Draw::Fixed(Fixed::Text(kind, _)) => *kind,
        _ => return false,
    };
    match conventions {
        Conventions::Cohortextractor => kind != TextKind::String,
        Conventions::Ehrql => kind == TextKind::Category,
    }
}

/// A text column's labels as Arrow values: the dictionary of an encoded
/// column, the strings a plain one takes its values from.
#[derive(Debug, Clone)]
pub struct Labels {
    /// The values (the empty label, a missing value, left out for ehrQL).
    values: ArrayRef,
    /// Each drawn label's index in `values`.
    keys: Vec<i32>,
}

impl Labels {
    /// The smallest key type for these values (`int32` for cohortextractor).
    fn key_type(&self, conventions: Conventions) -> DataType {
        let largest = self.values.len().saturating_sub(1);
        match conventions {
            Conventions::Cohortextractor => DataType::Int32,
            Conventions::Ehrql if largest < 1 << 7 => DataType::Int8,
            Conventions::Ehrql if largest < 1 << 15 => DataType::Int16,
            Conventions::Ehrql => DataType::Int32,
        }
    }
}

/// The labels of each text column (a dictionary is shared by every batch,
/// as the Arrow IPC file format requires).
pub fn dictionaries(plan: &DrawPlan) -> Vec<Option<Labels>> {
    let keep_empty = plan.conventions == Conventions::Cohortextractor;
    plan.columns
        .iter()
        .map(|c| {
            let texts: Vec<Option<&str>> = match &c.draw {
                Draw::Text { labels, .. } => labels
                    .iter()
                    .map(|l| match l {
                        Some(l) => Some(l.text.as_str()),
                        None => keep_empty.then_some(""),
                    })
                    .collect(),
                Draw::Fixed(Fixed::Text(_, label)) => vec![Some(label.text.as_str())],
                _ => return None,
            };
            let mut keys = Vec::with_capacity(texts.len());
            let mut values = Vec::with_capacity(texts.len());
            for text in texts {
                keys.push(values.len() as i32);
                values.extend(text);
            }
            Some(Labels {
                values: Arc::new(StringArray::from(values)),
                keys,
            })
        })
        .collect()
}

/// The chunk as a record batch of `schema` (from [`arrow_schema`]), with
/// the labels from [`dictionaries`].
pub fn batch(
    plan: &DrawPlan,
    chunk: &Chunk,
    schema: &SchemaRef,
    dictionaries: &[Option<Labels>],
) -> RecordBatch {
    let n = chunk.len;
    let columns: Vec<ArrayRef> = chunk
        .columns
        .iter()
        .zip(&plan.columns)
        .zip(schema.fields())
        .zip(dictionaries)
        .zip(&chunk.nulls)
        .map(|((((cells, column), field), labels), nulls)| -> ArrayRef {
            let present = |row: usize| !nulls.as_ref().is_some_and(|nulls| nulls[row]);
            let dates = |days: &mut dyn Iterator<Item = Option<Day>>, format: DateFormat| {
                date_column(field.data_type(), days, format)
            };
            match (cells, &column.draw) {
                (Cells::Ints(v), _) => Arc::new(
                    (0..n)
                        .map(|row| present(row).then_some(v[row]))
                        .collect::<Int64Array>(),
                ),
                (Cells::Flags(v), _) => Arc::new(BooleanArray::from(v.clone())),
                (Cells::Floats(v), _) => Arc::new(
                    (0..n)
                        .map(|row| present(row).then_some(v[row]))
                        .collect::<Float64Array>(),
                ),
                (Cells::Dates(v), Draw::Date(date)) => dates(
                    &mut v.iter().map(|&d| (d != NO_DATE).then_some(Day(d))),
                    date.format,
                ),
                (Cells::Labels(v), Draw::Text { .. }) => text_column(
                    field.data_type(),
                    v.iter().map(|&l| (l != NO_LABEL).then_some(l)),
                    labels,
                ),
                (Cells::Fixed, Draw::Fixed(value)) => match value {
                    Fixed::Flag(b) => Arc::new(BooleanArray::from(vec![*b; n])),
                    Fixed::Int(v) => Arc::new(Int64Array::from(vec![*v; n])),
                    Fixed::Float(v) => Arc::new(Float64Array::from(vec![*v; n])),
                    Fixed::Date(day, format) => {
                        dates(&mut std::iter::repeat_n(Some(*day), n), *format)
                    }
                    Fixed::Text(..) => {
                        text_column(field.data_type(), (0..n).map(|_| Some(0)), labels)
                    }
                },
                _ => unreachable!("cells match their column's draw"),
            }
        })
        .collect();
    RecordBatch::try_new(schema.clone(), columns).expect("columns match the schema")
}

/// Dates at their format's precision: as pandas reads them back, in
/// nanoseconds (cohortextractor), or as days (ehrQL's `date32`).
fn date_column(
    data_type: &DataType,
    days: &mut dyn Iterator<Item = Option<Day>>,
    format: DateFormat,
) -> ArrayRef {
    let days = days.map(|d| d.map(|d| format.truncate(d)));
    if *data_type == DataType::Date32 {
        Arc::new(days.map(|d| d.map(|d| d.0)).collect::<Date32Array>())
    } else {
        Arc::new(
            days.map(|d| d.map(Day::nanos))
                .collect::<TimestampNanosecondArray>(),
        )
    }
}

/// Text cells (indices into the column's drawn labels) as dictionary keys
/// into its values, or as plain strings.
fn text_column(
    data_type: &DataType,
    cells: impl Iterator<Item = Option<u32>>,
    labels: &Option<Labels>,
) -> ArrayRef {
    let labels = labels.as_ref().expect("text columns have labels");
    let keys = cells.map(|c| c.map(|c| labels.keys[c as usize]));
    match data_type {
        DataType::Dictionary(key, _) => match key.as_ref() {
            DataType::Int8 => dictionary::<Int8Type>(keys, labels),
            DataType::Int16 => dictionary::<Int16Type>(keys, labels),
            _ => dictionary::<Int32Type>(keys, labels),
        },
        _ => {
            let values = labels.values.as_string::<i32>();
            Arc::new(
                keys.map(|k| k.map(|k| values.value(k as usize)))
                    .collect::<StringArray>(),
            )
        }
    }
}

fn dictionary<K: ArrowDictionaryKeyType>(
    keys: impl Iterator<Item = Option<i32>>,
    labels: &Labels,
) -> ArrayRef
where
    K::Native: TryFrom<i32>,
{
    let keys: PrimitiveArray<K> = keys
        .map(|k| k.map(|k| K::Native::try_from(k).ok().expect("keys fit the key type")))
        .collect();
    Arc::new(
        DictionaryArray::<K>::try_new(keys, labels.values.clone()).expect("keys index the labels"),
    )
}
