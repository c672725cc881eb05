//! `cohortkit schema infer`: a schema described from an existing dataset
//! file, so that a study with one small dummy file can be generated at any
//! scale. The schema keeps the file's column names and order and describes
//! each column's values by type, share of rows with a value and, without
//! copying anything that identifies a row, how the values spread.
//!
//! Types come from the file: Arrow `bool`, or text that is all `T`/`F`
//! (`True`/`False`), is a `flag`; integers that are all 0 or 1 are a `flag`
//! too, other integers an `int`, floats a `float`; dates and timestamps are
//! a `date` (written `YYYY-MM-DD`), as is text that is all `YYYY`,
//! all `YYYY-MM` or all `YYYY-MM-DD` (in that format), and, in CSV, whole
//! numbers that are all years from 1800 to 2199 (`YYYY`); dictionary text
//! is a `category`, other text a `category` when it has at most
//! [`MAX_CATEGORIES`] values and at most half as many values as rows with
//! one, a `string` otherwise. The column named `patient_id` is the patient
//! id. Empty text, nulls and non-finite floats are missing.
//!
//! The disclosure rules, with [`MIN_ROWS`] = 8:
//!
//! - The patient id column is `type: patient_id` and nothing else: no id
//!   is copied.
//! - No count of rows from 1 to 7 is recorded. A column with fewer than 8
//!   values (a flag with fewer than 8 true rows) is written as having none:
//!   `incidence: 0`, with the neutral description below. One with fewer
//!   than 8 rows missing (false) is written as complete (`rate:
//!   universal`). Other columns get `incidence`, the share of rows with a
//!   value (of true rows, for flags), exactly.
//! - A `category` or `string` value held by fewer than 8 rows is not
//!   written: such values, with any real `other` value, make one bucket
//!   labelled [`OTHER`], however few rows it holds. When every value is
//!   rare, the ratios are `other: 1`. Ratios are shares of the rows with a
//!   value.
//! - Numbers are described by their moments only, `distribution: normal`
//!   with the mean and the (sample) standard deviation to 3 significant
//!   figures, from at least 8 values.
//! - Date bounds are months: `earliest` is the first day of the earliest
//!   value's month and `latest` the last day of the latest value's month,
//!   from at least 8 values.
//! - The neutral description of a column without enough values (never
//!   drawn, as its incidence is 0): numbers `normal` with mean 0 and
//!   standard deviation 0, dates from 1900-01-01 to `today`, text `other: 1`.
//! - The number of rows is not recorded.

use std::collections::HashMap;
use std::path::Path;

use anyhow::Context;
use arrow_array::cast::AsArray;
use arrow_array::types::{
    ArrowPrimitiveType, Date32Type, Date64Type, Float16Type, Float32Type, Float64Type, Int8Type,
    Int16Type, Int32Type, Int64Type, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, TimeUnit};

use super::{
    Column, DateBound, DateRate, DateSpec, Defaults, IntDistribution, Missing, Schema, TextKind,
    Values,
};
use crate::dummy::dates::{DateFormat, Day};
use crate::table::{self, frame, inputs};

/// The fewest rows a recorded count, value, moment or date bound may come
/// from.
pub const MIN_ROWS: u64 = 8;

/// The label of the bucket of rare text values.
pub const OTHER: &str = "other";

/// The most distinct values a plain text column may have to be a category.
pub const MAX_CATEGORIES: usize = 50;

/// The name of the patient id column.
const PATIENT_ID: &str = "patient_id";

/// The years that whole numbers in a CSV column may be to make it a date.
const YEARS: std::ops::RangeInclusive<i128> = 1800..=2199;

/// Reads the dataset `path` (any format cohortkit reads) and infers its
/// schema, for the study `name` (default: the file name less its
/// extension). Errors name the file, and the column where there is one.
pub fn infer_file(path: &Path, name: Option<&str>) -> anyhow::Result<Schema> {
    let format = inputs::input_format(path)?;
    let batch = frame::read(path, format)?.concat()?;
    let study = name.map_or_else(|| table::stem(path, format), str::to_string);
    infer(&batch, format.is_csv(), study)
        .with_context(|| format!("cannot infer a schema from {}", path.display()))
}

/// Infers the schema of the study `study` from `batch`, as the module says.
/// `from_csv` says the types were read from text (so years may be dates).
pub fn infer(batch: &RecordBatch, from_csv: bool, study: String) -> anyhow::Result<Schema> {
    let fields = batch.schema();
    let mut columns: Vec<Column> = Vec::with_capacity(fields.fields().len());
    for (field, array) in fields.fields().iter().zip(batch.columns()) {
        let name = field.name();
        if columns.iter().any(|c| c.name == *name) {
            anyhow::bail!("column {name:?} appears twice; schema columns need distinct names");
        }
        let (values, missing) = if name == PATIENT_ID {
            (Values::PatientId, Missing::Never)
        } else {
            let observed =
                observe(array.as_ref(), from_csv).with_context(|| format!("column {name:?}"))?;
            describe(observed, array.len() as u64)
        };
        columns.push(Column {
            name: name.clone(),
            line: 0,
            values,
            missing,
        });
    }
    if !columns.iter().any(|c| c.values == Values::PatientId) {
        anyhow::bail!(
            "no column is named {PATIENT_ID:?}; a schema needs one (its ids are drawn afresh)"
        );
    }
    Ok(Schema {
        study_definition: study,
        index_date: None,
        defaults: Defaults::default(),
        columns,
        measures: Vec::new(),
    })
}

/// What a column holds, as far as its schema entry needs to know.
#[derive(Debug, PartialEq)]
enum Observed {
    /// Yes/no values: how many rows are true.
    Flag { trues: u64 },
    /// Numbers: the present values.
    Numbers { values: Vec<f64>, integers: bool },
    /// Dates: how many rows have one, the earliest and latest, and how
    /// they are written.
    Dates {
        present: u64,
        range: Option<(Day, Day)>,
        format: DateFormat,
    },
    /// Text: each value with its number of rows.
    Text {
        counts: Vec<(String, u64)>,
        kind: TextKind,
    },
}

/// What `array` holds; an error for types a schema cannot describe.
fn observe(array: &dyn Array, from_csv: bool) -> anyhow::Result<Observed> {
    if let Some(values) = integers(array) {
        let present: Vec<i128> = values.into_iter().flatten().collect();
        let any = !present.is_empty();
        if any && present.iter().all(|v| *v == 0 || *v == 1) {
            let trues = present.iter().filter(|v| **v == 1).count() as u64;
            return Ok(Observed::Flag { trues });
        }
        if from_csv && any && present.iter().all(|v| YEARS.contains(v)) {
            let years = present.iter().map(|&y| {
                let day = Day::from_ymd(y as i32, 1, 1).expect("January 1st exists");
                (day, 1)
            });
            return dates(years, DateFormat::Year);
        }
        return Ok(Observed::Numbers {
            values: present.into_iter().map(|v| v as f64).collect(),
            integers: true,
        });
    }
    if let Some(labels) = texts(array) {
        let dictionary = matches!(array.data_type(), DataType::Dictionary(..));
        return text(count(labels), dictionary);
    }
    let floats = |values: Vec<Option<f64>>| Observed::Numbers {
        values: values
            .into_iter()
            .flatten()
            .filter(|v| v.is_finite())
            .collect(),
        integers: false,
    };
    let days = |values: Vec<Option<i64>>, per_day: i64| {
        let days = values.into_iter().flatten().map(|v| v.div_euclid(per_day));
        let days: Option<Vec<(Day, u64)>> = days
            .map(|d| i32::try_from(d).ok().map(|d| (Day(d), 1)))
            .collect();
        dates(
            days.context("holds dates too far from today to write")?,
            DateFormat::Day,
        )
    };
    const DAY_MS: i64 = 86_400_000;
    match array.data_type() {
        DataType::Boolean => Ok(Observed::Flag {
            trues: array.as_boolean().true_count() as u64,
        }),
        DataType::Null => Ok(floats(Vec::new())),
        DataType::Float16 => Ok(floats(widen::<Float16Type, _>(array, |v| v.to_f64()))),
        DataType::Float32 => Ok(floats(widen::<Float32Type, _>(array, f64::from))),
        DataType::Float64 => Ok(floats(widen::<Float64Type, _>(array, |v| v))),
        DataType::Date32 => days(widen::<Date32Type, _>(array, i64::from), 1),
        DataType::Date64 => days(widen::<Date64Type, _>(array, |v| v), DAY_MS),
        DataType::Timestamp(unit, _) => match unit {
            TimeUnit::Second => days(widen::<TimestampSecondType, _>(array, |v| v), 86_400),
            TimeUnit::Millisecond => {
                days(widen::<TimestampMillisecondType, _>(array, |v| v), DAY_MS)
            }
            TimeUnit::Microsecond => days(
                widen::<TimestampMicrosecondType, _>(array, |v| v),
                DAY_MS * 1_000,
            ),
            TimeUnit::Nanosecond => days(
                widen::<TimestampNanosecondType, _>(array, |v| v),
                DAY_MS * 1_000_000,
            ),
        },
        other => anyhow::bail!(
            "has type {other}, which no schema type describes (flags, integers, floats, dates, text)"
        ),
    }
}

/// Each row of a primitive array, converted by `convert`.
fn widen<T: ArrowPrimitiveType, V>(
    array: &dyn Array,
    convert: impl Fn(T::Native) -> V,
) -> Vec<Option<V>> {
    array
        .as_primitive::<T>()
        .iter()
        .map(|v| v.map(&convert))
        .collect()
}

/// Each row of an integer array of any width, or `None` for other arrays.
fn integers(array: &dyn Array) -> Option<Vec<Option<i128>>> {
    Some(match array.data_type() {
        DataType::Int8 => widen::<Int8Type, _>(array, i128::from),
        DataType::Int16 => widen::<Int16Type, _>(array, i128::from),
        DataType::Int32 => widen::<Int32Type, _>(array, i128::from),
        DataType::Int64 => widen::<Int64Type, _>(array, i128::from),
        DataType::UInt8 => widen::<UInt8Type, _>(array, i128::from),
        DataType::UInt16 => widen::<UInt16Type, _>(array, i128::from),
        DataType::UInt32 => widen::<UInt32Type, _>(array, i128::from),
        DataType::UInt64 => widen::<UInt64Type, _>(array, i128::from),
        _ => return None,
    })
}

/// Each row of a text array (plain or dictionary-encoded), or `None` for
/// other arrays.
fn texts(array: &dyn Array) -> Option<Vec<Option<&str>>> {
    Some(match array.data_type() {
        DataType::Utf8 => array.as_string::<i32>().iter().collect(),
        DataType::LargeUtf8 => array.as_string::<i64>().iter().collect(),
        DataType::Utf8View => array.as_string_view().iter().collect(),
        DataType::Dictionary(_, _) => {
            let dictionary = array.as_any_dictionary();
            let labels = texts(dictionary.values().as_ref())?;
            let keys = dictionary.keys();
            table::dictionary_keys(dictionary)
                .into_iter()
                .enumerate()
                .map(|(row, key)| {
                    keys.is_valid(row)
                        .then(|| labels.get(key).copied().flatten())
                        .flatten()
                })
                .collect()
        }
        _ => return None,
    })
}

/// Each non-empty text and its number of rows, in order of first sight.
fn count<'a>(labels: impl IntoIterator<Item = Option<&'a str>>) -> Vec<(String, u64)> {
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut counts: Vec<(&str, u64)> = Vec::new();
    for label in labels.into_iter().flatten().filter(|l| !l.is_empty()) {
        let i = *index.entry(label).or_insert_with(|| {
            counts.push((label, 0));
            counts.len() - 1
        });
        counts[i].1 += 1;
    }
    counts
        .into_iter()
        .map(|(label, n)| (label.to_string(), n))
        .collect()
}

/// What text values are: flags, dates of one precision, or labels.
fn text(counts: Vec<(String, u64)>, dictionary: bool) -> anyhow::Result<Observed> {
    if dictionary {
        return Ok(Observed::Text {
            counts,
            kind: TextKind::Category,
        });
    }
    let any = !counts.is_empty();
    let all = |f: fn(&str) -> bool| counts.iter().all(|(label, _)| f(label));
    if any && all(|l| matches!(l, "T" | "F" | "True" | "False")) {
        let trues = counts
            .iter()
            .filter(|(l, _)| l == "T" || l == "True")
            .map(|(_, n)| n)
            .sum();
        return Ok(Observed::Flag { trues });
    }
    let dated: Option<Vec<(Day, DateFormat, u64)>> = counts
        .iter()
        .map(|(label, n)| text_date(label).map(|(day, format)| (day, format, *n)))
        .collect();
    if let Some(dated) = dated
        && let Some(&(_, format, _)) = dated.first()
        && dated.iter().all(|d| d.1 == format)
    {
        return dates(dated.into_iter().map(|(day, _, n)| (day, n)), format);
    }
    let present: u64 = counts.iter().map(|(_, n)| n).sum();
    let kind = if counts.len() <= MAX_CATEGORIES && counts.len() as u64 * 2 <= present {
        TextKind::Category
    } else {
        TextKind::String
    };
    Ok(Observed::Text { counts, kind })
}

/// The day and precision of a date written `YYYY`, `YYYY-MM` or
/// `YYYY-MM-DD` (a `YYYY` date is January 1st, a `YYYY-MM` date the 1st).
fn text_date(text: &str) -> Option<(Day, DateFormat)> {
    match text.len() {
        4 if text.bytes().all(|b| b.is_ascii_digit()) => {
            Day::parse_iso(&format!("{text}-01-01")).map(|d| (d, DateFormat::Year))
        }
        7 => Day::parse_iso(&format!("{text}-01")).map(|d| (d, DateFormat::Month)),
        10 => Day::parse_iso(text).map(|d| (d, DateFormat::Day)),
        _ => None,
    }
}

/// Dates, each with its number of rows; an error when one is outside the
/// years a schema can write (1–9999).
fn dates(
    days: impl IntoIterator<Item = (Day, u64)>,
    format: DateFormat,
) -> anyhow::Result<Observed> {
    let mut present = 0;
    let mut range: Option<(Day, Day)> = None;
    for (day, n) in days {
        present += n;
        range = Some(range.map_or((day, day), |(low, high)| (low.min(day), high.max(day))));
    }
    if let Some((low, high)) = range {
        for day in [low, high] {
            anyhow::ensure!(
                (1..=9999).contains(&day.ymd().0),
                "holds the date {day}, outside the years 1 to 9999 that a schema can write"
            );
        }
    }
    Ok(Observed::Dates {
        present,
        range,
        format,
    })
}

/// A count of `rows` rows as the schema records it: none where it is below
/// [`MIN_ROWS`], all where fewer than that are left out.
fn recorded(count: u64, rows: u64) -> u64 {
    if count < MIN_ROWS {
        0
    } else if rows - count < MIN_ROWS {
        rows
    } else {
        count
    }
}

/// The column's values and missing rows, under the disclosure rules.
fn describe(observed: Observed, rows: u64) -> (Values, Missing) {
    let present = match &observed {
        Observed::Flag { trues } => *trues,
        Observed::Numbers { values, .. } => values.len() as u64,
        Observed::Dates { present, .. } => *present,
        Observed::Text { counts, .. } => counts.iter().map(|(_, n)| n).sum(),
    };
    let kept = recorded(present, rows);
    let missing = if kept == rows {
        Missing::Never
    } else {
        Missing::Incidence(kept as f64 / rows as f64)
    };
    let described = kept > 0;
    let values = match observed {
        Observed::Flag { .. } => Values::Flag,
        Observed::Numbers { values, integers } => {
            let (mean, stddev) = if described {
                moments(&values)
            } else {
                (0.0, 0.0)
            };
            if integers {
                Values::Int(IntDistribution::Normal { mean, stddev })
            } else {
                Values::Float { mean, stddev }
            }
        }
        Observed::Dates { range, format, .. } => {
            let (earliest, latest) = match range {
                Some((low, high)) if described => (
                    DateBound::Day(low.start_of_month()),
                    DateBound::Day(high.end_of_month()),
                ),
                _ => (
                    DateBound::Day(Day::from_ymd(1900, 1, 1).expect("a date")),
                    DateBound::Today,
                ),
            };
            Values::Date(DateSpec {
                earliest,
                latest,
                rate: DateRate::Uniform,
                format,
                keep_between: (None, None),
            })
        }
        Observed::Text { counts, kind } => Values::Text {
            kind,
            ratios: if described {
                ratios(counts)
            } else {
                vec![(Some(OTHER.to_string()), 1.0)]
            },
        },
    };
    (values, missing)
}

/// The mean and sample standard deviation of at least two values, to 3
/// significant figures.
fn moments(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let squares: f64 = values.iter().map(|v| (v - mean).powi(2)).sum();
    (significant(mean), significant((squares / (n - 1.0)).sqrt()))
}

/// `value` to 3 significant figures.
fn significant(value: f64) -> f64 {
    format!("{value:.2e}").parse().expect("a formatted number")
}

/// Each value's share of the rows with one, most common first; values of
/// fewer than [`MIN_ROWS`] rows, and `other`, together as [`OTHER`], last.
fn ratios(counts: Vec<(String, u64)>) -> Vec<(Option<String>, f64)> {
    let present: u64 = counts.iter().map(|(_, n)| n).sum();
    let (mut kept, bucket): (Vec<_>, Vec<_>) = counts
        .into_iter()
        .partition(|(label, n)| *n >= MIN_ROWS && label != OTHER);
    kept.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let others: u64 = bucket.iter().map(|(_, n)| n).sum();
    if others > 0 {
        kept.push((OTHER.to_string(), others));
    }
    kept.into_iter()
        .map(|(label, n)| (Some(label), n as f64 / present as f64))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(pairs: &[(&str, u64)]) -> Vec<(String, u64)> {
        pairs.iter().map(|(l, n)| (l.to_string(), *n)).collect()
    }

    fn labels(ratios: &[(Option<String>, f64)]) -> Vec<&str> {
        ratios.iter().filter_map(|(l, _)| l.as_deref()).collect()
    }

    #[test]
    fn rare_values_and_a_real_other_share_one_bucket() {
        let r = ratios(counts(&[
            ("b", 3),
            ("a", 10),
            ("other", 9),
            ("c", 7),
            ("d", 11),
        ]));
        assert_eq!(labels(&r), ["d", "a", "other"]);
        assert_eq!(r[2].1, 19.0 / 40.0);
        let all_rare = ratios(counts(&[("a", 7), ("b", 7)]));
        assert_eq!(all_rare, [(Some("other".to_string()), 1.0)]);
    }

    #[test]
    fn counts_from_one_to_seven_are_not_recorded() {
        assert_eq!(recorded(7, 100), 0);
        assert_eq!(recorded(8, 100), 8);
        assert_eq!(recorded(93, 100), 100);
        assert_eq!(recorded(92, 100), 92);
        assert_eq!(recorded(5, 5), 0);
        assert_eq!(recorded(0, 0), 0);
    }

    #[test]
    fn moments_have_three_significant_figures() {
        assert_eq!(significant(28.2849), 28.3);
        assert_eq!(significant(123_456.0), 123_000.0);
        assert_eq!(significant(-0.000_123_45), -0.000_123);
        assert_eq!(moments(&[1.0, 2.0, 3.0, 4.0]), (2.5, 1.29));
    }

    #[test]
    fn text_dates_keep_their_precision_and_mixed_ones_are_text() {
        let month = text(counts(&[("2020-02", 8), ("2021-11", 8)]), false).unwrap();
        let (Values::Date(spec), _) = describe(month, 16) else {
            panic!()
        };
        assert_eq!(spec.format, DateFormat::Month);
        assert_eq!(
            spec.earliest,
            DateBound::Day(Day::parse_iso("2020-02-01").unwrap())
        );
        assert_eq!(
            spec.latest,
            DateBound::Day(Day::parse_iso("2021-11-30").unwrap())
        );
        let mixed = text(counts(&[("2020-02", 8), ("2021-11-03", 8)]), false).unwrap();
        assert!(matches!(mixed, Observed::Text { .. }), "{mixed:?}");
    }
}
