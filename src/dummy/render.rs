//! Chunks as CSV text (as pandas `to_csv` writes upstream's frame) and as
//! Arrow record batches (as upstream's frame has them in binary formats).

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Int32Type;
use arrow_array::{
    ArrayRef, BooleanArray, DictionaryArray, Float64Array, Int32Array, Int64Array, RecordBatch,
    StringArray, TimestampNanosecondArray,
};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};

use super::chunk::{Cells, Chunk, NO_DATE, NO_LABEL};
use super::dates::{DateFormat, Day};
use super::plan::{Draw, DrawPlan, Fixed};
use super::schema::TextKind;
use crate::table::csv::write_record;
use crate::table::text::write_python_float;

/// The header row.
pub fn header(plan: &DrawPlan) -> Vec<u8> {
    let mut out = Vec::new();
    write_record(&mut out, plan.names.iter().map(|n| n.as_bytes()), false);
    out
}

/// Appends the chunk's rows as CSV lines.
pub fn csv(plan: &DrawPlan, chunk: &Chunk, out: &mut Vec<u8>) {
    let fixed: Vec<Option<Vec<u8>>> = plan
        .columns
        .iter()
        .map(|c| match &c.draw {
            Draw::Fixed(value) => Some(value.csv()),
            _ => None,
        })
        .collect();
    let mut ints = itoa::Buffer::new();
    for row in 0..chunk.len {
        for (c, cells) in chunk.columns.iter().enumerate() {
            if c > 0 {
                out.push(b',');
            }
            match cells {
                Cells::Ints(v) => out.extend_from_slice(ints.format(v[row]).as_bytes()),
                Cells::Flags(v) => out.push(if v[row] { b'1' } else { b'0' }),
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
                        Day(v[row]).write(date.format, out);
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
        out.push(b'\n');
    }
}

/// The Arrow schema of the plan's files: ids and ints `int64`, flags `bool`,
/// floats `double`, dates `timestamp[ns]`, categories and codes
/// dictionary-encoded strings, strings `utf8`.
pub fn arrow_schema(plan: &DrawPlan) -> SchemaRef {
    let dictionary = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
    let fields: Vec<Field> = plan
        .names
        .iter()
        .zip(&plan.columns)
        .map(|(name, column)| {
            let (data_type, nullable) = match &column.draw {
                Draw::PatientId
                | Draw::IntNormal { .. }
                | Draw::IntPoisson(_)
                | Draw::Ages(_)
                | Draw::Fixed(Fixed::Int(_)) => (DataType::Int64, false),
                Draw::Flag | Draw::Fixed(Fixed::Flag(_)) => (DataType::Boolean, false),
                Draw::Float { .. } | Draw::Fixed(Fixed::Float(_)) => (DataType::Float64, false),
                Draw::Date(_) | Draw::Fixed(Fixed::Date(..)) => (
                    DataType::Timestamp(TimeUnit::Nanosecond, None),
                    !matches!(column.draw, Draw::Fixed(_)),
                ),
                Draw::Text {
                    kind: TextKind::String,
                    ..
                }
                | Draw::Fixed(Fixed::Text(TextKind::String, _)) => (DataType::Utf8, true),
                Draw::Text { .. } | Draw::Fixed(Fixed::Text(..)) => (dictionary.clone(), true),
            };
            Field::new(name, data_type, nullable)
        })
        .collect();
    Arc::new(Schema::new(fields))
}

/// The dictionary values of each text column (shared by every batch, as
/// the Arrow IPC file format requires).
pub fn dictionaries(plan: &DrawPlan) -> Vec<Option<ArrayRef>> {
    plan.columns
        .iter()
        .map(|c| match &c.draw {
            Draw::Text { labels, .. } => Some(Arc::new(
                labels
                    .iter()
                    .map(|l| Some(l.as_ref().map_or("", |l| l.text.as_str())))
                    .collect::<StringArray>(),
            ) as ArrayRef),
            Draw::Fixed(Fixed::Text(_, label)) => {
                Some(Arc::new(StringArray::from(vec![label.text.as_str()])) as ArrayRef)
            }
            _ => None,
        })
        .collect()
}

/// The chunk as a record batch of `schema` (from [`arrow_schema`]).
pub fn batch(
    plan: &DrawPlan,
    chunk: &Chunk,
    schema: &SchemaRef,
    dictionaries: &[Option<ArrayRef>],
) -> RecordBatch {
    let n = chunk.len;
    let columns: Vec<ArrayRef> = chunk
        .columns
        .iter()
        .zip(&plan.columns)
        .zip(schema.fields())
        .zip(dictionaries)
        .map(|(((cells, column), field), dictionary)| -> ArrayRef {
            match (cells, &column.draw) {
                (Cells::Ints(v), _) => Arc::new(Int64Array::from(v.clone())),
                (Cells::Flags(v), _) => Arc::new(BooleanArray::from(v.clone())),
                (Cells::Floats(v), _) => Arc::new(Float64Array::from(v.clone())),
                (Cells::Dates(v), Draw::Date(date)) => Arc::new(
                    v.iter()
                        .map(|&d| (d != NO_DATE).then(|| timestamp(Day(d), date.format)))
                        .collect::<TimestampNanosecondArray>(),
                ),
                (Cells::Labels(v), Draw::Text { .. }) => text_column(
                    field.data_type(),
                    v.iter().map(|&l| (l != NO_LABEL).then_some(l)),
                    dictionary,
                ),
                (Cells::Fixed, Draw::Fixed(value)) => match value {
                    Fixed::Flag(b) => Arc::new(BooleanArray::from(vec![*b; n])),
                    Fixed::Int(v) => Arc::new(Int64Array::from(vec![*v; n])),
                    Fixed::Float(v) => Arc::new(Float64Array::from(vec![*v; n])),
                    Fixed::Date(day, format) => Arc::new(TimestampNanosecondArray::from(vec![
                        timestamp(*day, *format);
                        n
                    ])),
                    Fixed::Text(..) => {
                        text_column(field.data_type(), (0..n).map(|_| Some(0)), dictionary)
                    }
                },
                _ => unreachable!("cells match their column's draw"),
            }
        })
        .collect();
    RecordBatch::try_new(schema.clone(), columns).expect("columns match the schema")
}

/// A date as pandas reads it back at its precision, in nanoseconds.
fn timestamp(day: Day, format: DateFormat) -> i64 {
    format.truncate(day).nanos()
}

/// Text cells as dictionary keys into the column's labels, or as plain
/// strings for `string` columns.
fn text_column(
    data_type: &DataType,
    keys: impl Iterator<Item = Option<u32>>,
    dictionary: &Option<ArrayRef>,
) -> ArrayRef {
    let labels = dictionary.as_ref().expect("text columns have labels");
    if *data_type == DataType::Utf8 {
        let values = labels.as_string::<i32>();
        return Arc::new(
            keys.map(|k| k.map(|k| values.value(k as usize)))
                .collect::<StringArray>(),
        );
    }
    let keys: Int32Array = keys.map(|k| k.map(|k| k as i32)).collect();
    Arc::new(
        DictionaryArray::<Int32Type>::try_new(keys, labels.clone()).expect("keys index the labels"),
    )
}
