//! One measure on one extract, as cohortextractor 1.93.3 computes it with
//! pandas 1.5.3: the extract read with the measures' numerators and
//! denominators as `float64` and their `group_by` columns as categories
//! (`keep_default_na=False`: text as written, empty included), a
//! `population` column of 1s, then `Measure.calculate`:
//!
//! - no `group_by`: one row per patient;
//! - `group_by=["population"]`: one row, every column summed;
//! - otherwise `groupby(group_by).sum()` with pandas' default
//!   `observed=False`: a row for every combination of the columns' levels
//!   (a category's levels are its values, sorted; a column that is also a
//!   numerator or denominator is `float64`, whose levels are the values
//!   seen, in numeric order), observed or not, keys first;
//! - small-number suppression of the numerator, then the denominator;
//! - `value = numerator / denominator` (`inf` for x/0, empty for 0/0).
//!
//! Cells print as pandas' `to_csv` prints them: a float as Python's
//! `repr` (`3.0`), the `population` column as an integer until a
//! suppressed cell makes it `float64`, missing as empty.

use std::collections::HashMap;

use crate::study::Measure;
use crate::table::text::python_float;

/// The special column of every patient (1 each).
pub const POPULATION: &str = "population";

/// At most this many is a small number.
const SMALL_NUMBER_THRESHOLD: f64 = 5.0;

/// The columns of one extract that the measures read.
#[derive(Debug, Default)]
pub struct Extract {
    /// Rows (patients).
    pub rows: usize,
    /// Numerators and denominators, as `float64`.
    pub numbers: HashMap<String, Vec<f64>>,
    /// `group_by` columns that are not numbers: their text.
    pub texts: HashMap<String, Vec<String>>,
}

/// A column of a measure's table.
#[derive(Debug, Clone)]
struct Column {
    name: String,
    values: Vec<f64>,
    /// An `int64` column (the population, until a cell is suppressed).
    integer: bool,
}

impl Column {
    fn cell(&self, row: usize) -> String {
        let value = self.values[row];
        if value.is_nan() {
            String::new()
        } else if self.integer {
            format!("{}", value as i64)
        } else if value.is_infinite() {
            if value > 0.0 { "inf" } else { "-inf" }.to_owned()
        } else {
            python_float(value)
        }
    }
}

/// A level of a group key.
#[derive(Debug, Clone, PartialEq)]
enum Level {
    Text(String),
    Number(f64),
}

impl Level {
    fn text(&self) -> String {
        match self {
            Level::Text(text) => text.clone(),
            Level::Number(value) => python_float(*value),
        }
    }
}

/// A group key's column: its name and each row's level.
type KeyCells = (String, Vec<Level>);

/// A measure's table: the header and the cells of each row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// Column names.
    pub header: Vec<String>,
    /// Cells, as pandas writes them.
    pub rows: Vec<Vec<String>>,
}

/// What suppression reported, as cohortextractor's reporter says it.
pub type Notes = Vec<String>;

/// Computes `measure` on `extract`.
pub fn calculate(measure: &Measure, extract: &Extract) -> Result<(Table, Notes), String> {
    let selected = dedup(
        [&measure.numerator, &measure.denominator]
            .into_iter()
            .chain(&measure.group_by),
    );
    let column = |name: &str| -> Result<Column, String> {
        if name == POPULATION {
            return Ok(Column {
                name: name.to_owned(),
                values: vec![1.0; extract.rows],
                integer: true,
            });
        }
        let values = extract
            .numbers
            .get(name)
            .ok_or_else(|| format!("`{name}` is not a number column of the extract"))?;
        Ok(Column {
            name: name.to_owned(),
            values: values.clone(),
            integer: false,
        })
    };
    let (keys, mut columns) = if measure.group_by.is_empty() {
        let columns = selected
            .iter()
            .map(|n| column(n))
            .collect::<Result<_, _>>()?;
        (Vec::new(), columns)
    } else if measure.group_by == [POPULATION] {
        let columns: Vec<Column> = selected
            .iter()
            .map(|n| column(n))
            .collect::<Result<_, _>>()?;
        (
            Vec::new(),
            columns.into_iter().map(|c| sum_all(&c)).collect(),
        )
    } else {
        let summed: Vec<Column> = selected
            .iter()
            .filter(|n| !measure.group_by.contains(n))
            .map(|n| column(n))
            .collect::<Result<_, _>>()?;
        group(&measure.group_by, extract, &summed)?
    };
    let mut notes = Vec::new();
    if measure.small_number_suppression {
        for name in dedup([&measure.numerator, &measure.denominator]) {
            if let Some(c) = columns.iter_mut().find(|c| c.name == name) {
                suppress(c, &measure.id, &mut notes);
            }
        }
    }
    let find = |name: &str| columns.iter().find(|c| c.name == name).expect("selected");
    let (numerator, denominator) = (find(&measure.numerator), find(&measure.denominator));
    let value = Column {
        name: "value".into(),
        values: numerator
            .values
            .iter()
            .zip(&denominator.values)
            .map(|(n, d)| n / d)
            .collect(),
        integer: false,
    };
    columns.push(value);
    let rows = columns.first().map_or(0, |c| c.values.len());
    let header = keys
        .iter()
        .map(|(name, _): &KeyCells| name.clone())
        .chain(columns.iter().map(|c| c.name.clone()))
        .collect();
    let rows = (0..rows)
        .map(|row| {
            keys.iter()
                .map(|(_, levels)| levels[row].text())
                .chain(columns.iter().map(|c| c.cell(row)))
                .collect()
        })
        .collect();
    Ok((Table { header, rows }, notes))
}

/// Names once each, in order.
fn dedup<'a>(names: impl IntoIterator<Item = &'a String>) -> Vec<String> {
    let mut seen = Vec::new();
    for name in names {
        if !seen.contains(name) {
            seen.push(name.clone());
        }
    }
    seen
}

/// One row, the column's sum (pandas' compensated sum); no row for no
/// patients, as a `groupby` of nothing has no group.
fn sum_all(column: &Column) -> Column {
    let mut sum = Kahan::default();
    for &value in &column.values {
        sum.add(value);
    }
    let values = if column.values.is_empty() {
        Vec::new()
    } else {
        vec![sum.total()]
    };
    Column {
        values,
        ..column.clone()
    }
}

/// `groupby(keys).sum()` with `observed=False`, then `reset_index()`:
/// every combination of the keys' levels, in order, with each column's
/// sum (0 where no patient has it). Returns the keys' cells and the sums.
fn group(
    keys: &[String],
    extract: &Extract,
    summed: &[Column],
) -> Result<(Vec<KeyCells>, Vec<Column>), String> {
    // Each key's levels and each row's level index.
    let mut levels: Vec<Vec<Level>> = Vec::new();
    let mut codes: Vec<Vec<usize>> = Vec::new();
    let mut categorical = false;
    for key in keys {
        if let Some(texts) = extract.texts.get(key) {
            categorical = true;
            let mut sorted: Vec<&String> = texts.iter().collect();
            sorted.sort_unstable();
            sorted.dedup();
            let index: HashMap<&String, usize> =
                sorted.iter().enumerate().map(|(i, t)| (*t, i)).collect();
            codes.push(texts.iter().map(|t| index[t]).collect());
            levels.push(sorted.into_iter().map(|t| Level::Text(t.clone())).collect());
        } else if let Some(values) = extract.numbers.get(key) {
            // -0.0 and 0.0 are one group, as pandas hashes them alike,
            // shown as the first of them.
            let zero = values.iter().copied().find(|v| *v == 0.0).unwrap_or(0.0);
            let level = |v: f64| if v == 0.0 { zero } else { v };
            let mut sorted: Vec<f64> = values
                .iter()
                .map(|&v| level(v))
                .filter(|v| !v.is_nan())
                .collect();
            sorted.sort_by(f64::total_cmp);
            sorted.dedup();
            codes.push(
                values
                    .iter()
                    .map(|&v| {
                        sorted
                            .binary_search_by(|s| s.total_cmp(&level(v)))
                            .unwrap_or(usize::MAX)
                    })
                    .collect(),
            );
            levels.push(sorted.into_iter().map(Level::Number).collect());
        } else {
            return Err(format!("`{key}` is not a column of the extract"));
        }
    }
    // Groups by their level indices, in the order of the levels.
    let mut sums: std::collections::BTreeMap<Vec<usize>, Vec<Kahan>> = Default::default();
    for row in 0..extract.rows {
        let group: Vec<usize> = codes.iter().map(|c| c[row]).collect();
        if group.contains(&usize::MAX) {
            continue; // a missing key: pandas drops the row
        }
        let entry = sums
            .entry(group)
            .or_insert_with(|| vec![Kahan::default(); summed.len()]);
        for (sum, column) in entry.iter_mut().zip(summed) {
            sum.add(column.values[row]);
        }
    }
    if categorical {
        for combination in product(&levels) {
            sums.entry(combination)
                .or_insert_with(|| vec![Kahan::default(); summed.len()]);
        }
    }
    let mut key_cells: Vec<KeyCells> = keys.iter().map(|k| (k.clone(), Vec::new())).collect();
    let mut columns: Vec<Column> = summed
        .iter()
        .map(|c| Column {
            values: Vec::new(),
            ..c.clone()
        })
        .collect();
    for (group, totals) in sums {
        for ((_, cells), (&level, key_levels)) in
            key_cells.iter_mut().zip(group.iter().zip(&levels))
        {
            cells.push(key_levels[level].clone());
        }
        for (column, total) in columns.iter_mut().zip(totals) {
            column.values.push(total.total());
        }
    }
    Ok((key_cells, columns))
}

/// Every combination of one level index per key, in order.
fn product(levels: &[Vec<Level>]) -> Vec<Vec<usize>> {
    let mut combinations = vec![Vec::new()];
    for key in levels {
        combinations = combinations
            .into_iter()
            .flat_map(|prefix| {
                (0..key.len()).map(move |i| {
                    let mut next = prefix.clone();
                    next.push(i);
                    next
                })
            })
            .collect();
    }
    combinations
}

/// `Measure._suppress_column`: values from 1 to 5 become missing; when
/// they add up to 5 or less, so does every cell holding the next smallest
/// value (so that the total cannot give them away).
fn suppress(column: &mut Column, id: &str, notes: &mut Notes) {
    let small = |v: f64| v > 0.0 && v <= SMALL_NUMBER_THRESHOLD;
    let large = |v: f64| v > SMALL_NUMBER_THRESHOLD;
    let small_count = column.values.iter().filter(|v| small(**v)).count();
    let large_count = column.values.iter().filter(|v| large(**v)).count();
    if small_count == 0 {
        return;
    }
    let mut small_total = Kahan::default();
    for value in column.values.iter_mut().filter(|v| small(**v)) {
        small_total.add(*value);
        *value = f64::NAN;
    }
    column.integer = false;
    notes.push(format!(
        "Suppressed small numbers in column {} in measure {id}",
        column.name
    ));
    if small_total.total() > SMALL_NUMBER_THRESHOLD || large_count == 0 {
        return;
    }
    let next = column
        .values
        .iter()
        .copied()
        .filter(|v| large(*v))
        .fold(f64::INFINITY, f64::min);
    for value in column.values.iter_mut().filter(|v| **v == next) {
        *value = f64::NAN;
    }
    notes.push(format!(
        "Additional suppression in column {} in measure {id}",
        column.name
    ));
}

/// Kahan–Babuška compensated summation, as pandas' group sums (NaN
/// skipped, as `sum` skips it).
#[derive(Debug, Clone, Copy, Default)]
struct Kahan {
    sum: f64,
    compensation: f64,
}

impl Kahan {
    fn add(&mut self, value: f64) {
        if value.is_nan() {
            return;
        }
        let y = value - self.compensation;
        let t = self.sum + y;
        self.compensation = (t - self.sum) - y;
        self.sum = t;
    }

    fn total(&self) -> f64 {
        self.sum
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measure(numerator: &str, denominator: &str, group_by: &[&str], suppress: bool) -> Measure {
        Measure {
            id: "m".into(),
            numerator: numerator.into(),
            denominator: denominator.into(),
            group_by: group_by.iter().map(|s| s.to_string()).collect(),
            small_number_suppression: suppress,
        }
    }

    fn extract() -> Extract {
        let mut e = Extract {
            rows: 6,
            ..Extract::default()
        };
        e.numbers
            .insert("a".into(), vec![1.0, 0.0, 1.0, 1.0, 0.0, 1.0]);
        e.texts.insert(
            "sex".into(),
            ["M", "F", "M", "M", "F", "M"].map(String::from).to_vec(),
        );
        e.texts.insert(
            "band".into(),
            ["x", "x", "y", "x", "x", "x"].map(String::from).to_vec(),
        );
        e
    }

    #[test]
    fn groups_are_every_combination_of_levels_sorted() {
        let (table, _) = calculate(
            &measure("a", POPULATION, &["sex", "band"], false),
            &extract(),
        )
        .unwrap();
        assert_eq!(table.header, ["sex", "band", "a", "population", "value"]);
        assert_eq!(
            table.rows,
            [
                ["F", "x", "0.0", "2", "0.0"],
                ["F", "y", "0.0", "0", ""],
                ["M", "x", "3.0", "3", "1.0"],
                ["M", "y", "1.0", "1", "1.0"],
            ]
        );
    }

    #[test]
    fn suppression_hides_small_numbers_and_the_next_smallest() {
        let (table, notes) =
            calculate(&measure("a", POPULATION, &["sex"], true), &extract()).unwrap();
        // a: F 0, M 4 (small, alone: nothing large to hide as well);
        // population: F 2, M 4, both small.
        assert_eq!(table.rows, [["F", "0.0", "", ""], ["M", "", "", ""]]);
        assert_eq!(notes.len(), 2);
    }

    #[test]
    fn population_groups_sum_everything_once() {
        let (table, _) =
            calculate(&measure("a", POPULATION, &[POPULATION], false), &extract()).unwrap();
        assert_eq!(table.header, ["a", "population", "value"]);
        assert_eq!(table.rows, [["4.0", "6", "0.6666666666666666"]]);
    }

    #[test]
    fn numeric_keys_group_negative_zero_with_zero_as_the_first_of_them() {
        let mut e = extract();
        e.numbers
            .insert("b".into(), vec![0.0, -0.0, 2.0, 0.0, -0.0, 2.0]);
        let (table, _) = calculate(&measure("a", POPULATION, &["b"], false), &e).unwrap();
        assert_eq!(
            table.rows,
            [["0.0", "2.0", "4", "0.5"], ["2.0", "2.0", "2", "1.0"]]
        );
        e.numbers
            .insert("b".into(), vec![-0.0, 0.0, 2.0, 0.0, -0.0, 2.0]);
        let (table, _) = calculate(&measure("a", POPULATION, &["b"], false), &e).unwrap();
        assert_eq!(table.rows[0], ["-0.0", "2.0", "4", "0.5"]);
    }

    #[test]
    fn no_patients_give_no_rows() {
        let empty = Extract {
            rows: 0,
            numbers: [("a".to_string(), Vec::new())].into(),
            texts: [("sex".to_string(), Vec::new())].into(),
        };
        for group in [&[][..], &[POPULATION], &["sex"]] {
            let (table, _) = calculate(&measure("a", POPULATION, group, true), &empty).unwrap();
            assert!(table.rows.is_empty(), "{group:?}: {table:?}");
        }
    }

    #[test]
    fn without_groups_rows_stay_per_patient() {
        let (table, _) = calculate(&measure("a", POPULATION, &[], false), &extract()).unwrap();
        assert_eq!(table.header, ["a", "population", "value"]);
        assert_eq!(table.rows[1], ["0.0", "1", "0.0"]);
        assert_eq!(table.rows.len(), 6);
    }
}
