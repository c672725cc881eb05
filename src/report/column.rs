//! Per-column statistics gathered in one pass ([`ColumnAcc`]) and what they
//! say once the file is read ([`ColumnProfile`]): pandas' dtype, the kind of
//! data, value counts, the numeric distribution and dates by month.

use crate::hashing::Map;

use super::cell::{Cell, classify, date_month, is_missing, plain_date};
use super::dtype::Dtype;
use super::kinds::{self, Classes, Fit, Kind, STRAYS};
use super::sketch::{Sketch, ValueKey};
use super::tally::{FieldTally, Tallied};
use crate::table::text::{display_text, python_float};

/// Distinct values of a text column counted before giving up on it.
pub const CATEGORY_LIMIT: usize = 2_000;

/// Statistics of one column, gathered value by value; merge the
/// accumulators of parts of a file with [`ColumnAcc::merge`].
#[derive(Clone, Debug, Default)]
pub struct ColumnAcc {
    missing: u64,
    ints: u64,
    uints: u64,
    floats: u64,
    negative: bool,
    bools: [u64; 2],
    texts: u64,
    dates: u64,
    non_dates: u64,
    numbers: Sketch,
    categories: Map<Box<[u8]>, u64>,
    categories_overflowed: bool,
    months: Months,
    raw: FieldTally,
}

impl ColumnAcc {
    /// Counts one CSV field, classified as pandas would read it. Short
    /// fields are tallied by their text and classified when the tally is
    /// flushed (see [`crate::report::tally`]). Empty and one-byte fields,
    /// most of a cohort file, are counted inline.
    #[inline(always)]
    pub fn add_field(&mut self, field: &[u8]) {
        self.add_field_starting(field.first().copied().unwrap_or(0), field);
    }

    /// Counts one CSV field as [`add_field`](Self::add_field) does, given
    /// with the byte it starts with (any byte when it is empty, such as the
    /// separator after it, which a walk of the text has at hand): empty and
    /// one-byte fields are counted without a branch on which they are,
    /// which a column of one-digit codes and blanks would mispredict at
    /// every other row.
    #[inline(always)]
    pub fn add_field_starting(&mut self, first: u8, field: &[u8]) {
        if field.len() > 1 {
            self.add_longer(field);
        } else {
            self.raw.add_short(first, field.is_empty());
        }
    }

    /// Counts a field of two bytes or more.
    #[inline(never)]
    fn add_longer(&mut self, field: &[u8]) {
        match self.raw.add(field) {
            Tallied::Counted => {}
            untallied => self.add_untallied(field, untallied == Tallied::Full),
        }
    }

    /// Counts a field the tally declined, first flushing the tally if it
    /// has just filled up.
    #[inline(never)]
    fn add_untallied(&mut self, field: &[u8], tally_full: bool) {
        if tally_full {
            self.flush_tally();
        }
        self.count_field(field, 1);
    }

    /// Classifies and counts every field the tally holds.
    fn flush_tally(&mut self) {
        let mut raw = std::mem::take(&mut self.raw);
        raw.drain(|field, count| self.count_field(field, count));
        self.raw = raw;
    }

    /// Counts `n` copies of one CSV field.
    fn count_field(&mut self, field: &[u8], n: u64) {
        if self.settled() {
            if is_missing(field) {
                self.missing += n;
            }
            return;
        }
        if self.dates_only()
            && let Some((year, month)) = plain_date(field)
        {
            // A date is text to pandas: count it as add_text would,
            // without classifying it.
            self.texts += n;
            self.months.add(month_index(year, month), n);
            return;
        }
        match classify(field) {
            Cell::Missing => self.missing += n,
            Cell::Int(v) => {
                self.ints += n;
                self.negative |= v < 0;
                self.numbers.add_i64(v, n);
            }
            Cell::UInt(v) => {
                self.uints += n;
                self.numbers.add_int(i128::from(v), n);
            }
            Cell::Float(v) => {
                self.floats += n;
                self.numbers.add_float(v, n);
            }
            Cell::Bool(v) => self.bools[usize::from(v)] += n,
            Cell::Text(text) => self.add_text(text, n),
        }
    }

    /// Whether the values so far were dates but for a few strays, in too
    /// many distinct values to count as categories.
    fn dates_only(&self) -> bool {
        self.categories_overflowed && self.counting_dates()
    }

    /// Whether text values are still read as dates: until more than
    /// [`STRAYS`] of them are not.
    fn counting_dates(&self) -> bool {
        self.non_dates <= STRAYS
    }

    /// Missing values so far: all of them for a typed column; for CSV
    /// fields, those not still held in the tally (all once finished).
    pub fn missing(&self) -> u64 {
        self.missing
    }

    /// Counts `n` missing values.
    pub fn add_missing(&mut self, n: u64) {
        self.missing += n;
    }

    /// Counts a whole number of a typed column.
    pub fn add_int(&mut self, value: i128) {
        self.ints += 1;
        self.numbers.add_int(value, 1);
    }

    /// Counts a float of a typed column (NaN is missing, as in pandas).
    pub fn add_float(&mut self, value: f64) {
        if value.is_nan() {
            self.missing += 1;
        } else {
            self.floats += 1;
            self.numbers.add_float(value, 1);
        }
    }

    /// Counts a boolean of a typed column.
    pub fn add_bool(&mut self, value: bool) {
        self.bools[usize::from(value)] += 1;
    }

    /// Counts a date of a typed column.
    pub fn add_date(&mut self, year: i32, month: u32) {
        self.dates += 1;
        self.months.add(month_index(year, month), 1);
    }

    /// Counts `n` copies of a text value.
    pub fn add_text(&mut self, text: &[u8], n: u64) {
        self.texts += n;
        if !self.categories_overflowed {
            match self.categories.get_mut(text) {
                Some(count) => *count += n,
                None => {
                    self.categories.insert(text.into(), n);
                    if self.categories.len() > CATEGORY_LIMIT {
                        self.overflow_categories();
                    }
                }
            }
        }
        if self.counting_dates() {
            match date_month(text) {
                Some((year, month)) => {
                    self.months.add(month_index(year, month), n);
                }
                None => {
                    self.non_dates += n;
                    if !self.counting_dates() {
                        self.months = Months::default();
                    }
                }
            }
        }
    }

    /// Whether only missing values still matter: a text column that is not
    /// dates and has too many values to count is a category of type object
    /// whatever comes next.
    fn settled(&self) -> bool {
        self.categories_overflowed && !self.counting_dates()
    }

    fn overflow_categories(&mut self) {
        self.categories_overflowed = true;
        self.categories = Map::default();
    }

    /// Adds the statistics of another part of the same column.
    pub fn merge(&mut self, mut other: ColumnAcc) {
        self.flush_tally();
        other.flush_tally();
        self.missing += other.missing;
        self.ints += other.ints;
        self.uints += other.uints;
        self.floats += other.floats;
        self.negative |= other.negative;
        self.bools[0] += other.bools[0];
        self.bools[1] += other.bools[1];
        self.texts += other.texts;
        self.dates += other.dates;
        self.non_dates += other.non_dates;
        self.numbers.merge(other.numbers);
        if other.categories_overflowed {
            self.overflow_categories();
        }
        if !self.categories_overflowed {
            for (text, count) in other.categories {
                *self.categories.entry(text).or_insert(0) += count;
            }
            if self.categories.len() > CATEGORY_LIMIT {
                self.overflow_categories();
            }
        }
        if !self.counting_dates() {
            self.months = Months::default();
        } else {
            for (month, count) in other.months.into_sorted() {
                self.months.add(month, count);
            }
        }
    }

    /// The dtype pandas `read_csv` gives a column of these values.
    fn csv_dtype(&self) -> Dtype {
        let numbers = self.ints + self.uints + self.floats;
        let others = self.bools[0] + self.bools[1] + self.texts;
        let object = Dtype::new("object", 8);
        if numbers + others == 0 {
            // No rows at all: pandas leaves the column as object.
            return if self.missing == 0 {
                object
            } else {
                Dtype::new("float64", 8)
            };
        }
        if others == 0 {
            return match (self.floats, self.uints, self.missing) {
                (0, 0, 0) => Dtype::new("int64", 8),
                (0, 0, _) => Dtype::new("float64", 8),
                // pandas leaves an unsigned column with a missing value, or
                // with a negative number, as text.
                (0, _, 0) if !self.negative => Dtype::new("uint64", 8),
                (0, _, _) => object,
                _ => Dtype::new("float64", 8),
            };
        }
        if numbers == 0 && self.texts == 0 && self.missing == 0 {
            return Dtype::new("bool", 1);
        }
        object
    }

    /// What the statistics say about the column `name` of `rows` rows.
    /// `dtype` is the column's type in a typed file; `None` for CSV, where
    /// it is inferred as pandas does.
    pub fn finish(mut self, name: &str, rows: u64, dtype: Option<Dtype>) -> ColumnProfile {
        self.flush_tally();
        let from_csv = dtype.is_none();
        let dtype = dtype.unwrap_or_else(|| self.csv_dtype());
        let present = rows - self.missing;
        let classes = self.classes(present, self.numbers.exact());
        let exact = classes.exact.as_deref();
        let binary =
            exact.is_some_and(|e| e.iter().all(|(k, _)| matches!(k, ValueKey::Int(0 | 1))));
        let bools = self.bools[0] + self.bools[1];
        let numeric = dtype.is_numeric();
        let kind = if name == "patient_id" {
            Kind::Identifier
        } else if present == 0 {
            Kind::Empty
        } else if dtype.is_datetime()
            || (self.texts > 0 && self.texts == present && self.non_dates == 0)
            || (self.dates > 0 && self.dates == present)
        {
            Kind::Date
        } else if dtype.name == "bool" || (numeric && binary) || bools == present {
            Kind::Boolean
        } else if numeric && !kinds::codes(name, &classes, 0) {
            Kind::Numeric
        } else {
            Kind::Category
        };

        // v0.0.24 summarises bool columns, and numeric CSV columns of 0s and
        // 1s (an all-missing one too); never patient_id.
        let legacy = (name != "patient_id"
            && (dtype.name == "bool" || (from_csv && numeric && (binary || present == 0))))
            .then(|| self.legacy_counts(&dtype, exact));

        let fit = kinds::decide(name, &dtype, &classes);
        let either = |k: Kind| kind == k || fit.kind == k;
        let (values, distinct) = if either(Kind::Boolean) || either(Kind::Category) {
            self.value_counts(exact)
        } else {
            (None, None)
        };
        let months = if either(Kind::Date) {
            self.months.into_sorted()
        } else {
            Vec::new()
        };
        ColumnProfile {
            name: name.to_string(),
            dtype,
            rows,
            missing: self.missing,
            kind,
            fit,
            legacy,
            values,
            distinct,
            numbers: either(Kind::Numeric).then_some(self.numbers),
            months,
        }
    }

    /// How many values fall in each class, for [`kinds::decide`].
    fn classes(&self, present: u64, exact: Option<Vec<(ValueKey, u64)>>) -> Classes {
        let text_dates = if self.counting_dates() {
            self.texts - self.non_dates
        } else {
            0
        };
        Classes {
            present,
            numbers: self.ints + self.uints + self.floats,
            fractional: self.numbers.fractional(),
            bools: self.bools[0] + self.bools[1],
            t_f: [&b"T"[..], b"F"]
                .iter()
                .filter_map(|text| self.categories.get(*text))
                .sum(),
            dates: self.dates + text_dates,
            exact,
        }
    }

    /// `value_counts(dropna=False).sort_index(na_position="first")` with
    /// labels as pandas prints the index.
    fn legacy_counts(
        &self,
        dtype: &Dtype,
        exact: Option<&[(ValueKey, u64)]>,
    ) -> Vec<(String, u64)> {
        let mut counts = Vec::new();
        if self.missing > 0 {
            counts.push(("NaN".to_string(), self.missing));
        }
        if dtype.name == "bool" {
            counts.push(("False".to_string(), self.bools[0]));
            counts.push(("True".to_string(), self.bools[1]));
        } else if let Some(exact) = exact {
            let float = dtype.name.starts_with("float");
            for value in [0, 1] {
                if let Some(&(_, count)) = exact.iter().find(|(k, _)| *k == ValueKey::Int(value)) {
                    let label = if float {
                        format!("{value}.0")
                    } else {
                        value.to_string()
                    };
                    counts.push((label, count));
                }
            }
        }
        counts.retain(|(_, count)| *count > 0);
        counts
    }

    /// Counts of each distinct non-missing value, most frequent first, and
    /// how many distinct values there are; `None` for both when there are
    /// too many to count. `exact` is the numbers' counts, where counted.
    fn value_counts(
        &self,
        exact: Option<&[(ValueKey, u64)]>,
    ) -> (Option<Vec<(String, u64)>>, Option<u64>) {
        if self.categories_overflowed || (self.numbers.count() > 0 && exact.is_none()) {
            return (None, None);
        }
        let mut values: Vec<(String, u64)> = Vec::new();
        for (value, &count) in self.bools.iter().enumerate() {
            if count > 0 {
                let label = if value == 1 { "True" } else { "False" };
                values.push((label.to_string(), count));
            }
        }
        if let Some(exact) = exact {
            values.extend(exact.iter().map(|&(key, count)| (number_label(key), count)));
        }
        values.extend(
            self.categories
                .iter()
                .map(|(text, &count)| (display_text(text), count)),
        );
        values.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let distinct = values.len() as u64;
        (Some(values), Some(distinct))
    }
}

/// A number as the report labels it: whole numbers without a fraction
/// (`161925006`), others as Python prints them.
fn number_label(key: ValueKey) -> String {
    match key {
        ValueKey::Int(v) => v.to_string(),
        ValueKey::Float(bits) => python_float(f64::from_bits(bits)),
    }
}

/// Counts by month: an array for 1900 to 2099 (small enough to stay in
/// cache), a map beyond.
#[derive(Clone, Debug, Default)]
struct Months {
    dense: Vec<u64>,
    sparse: Map<i32, u64>,
}

const DENSE_FROM: i32 = 1900 * 12;
const DENSE_MONTHS: usize = 200 * 12;

impl Months {
    fn add(&mut self, month: i32, count: u64) {
        match usize::try_from(month - DENSE_FROM) {
            Ok(i) if i < DENSE_MONTHS => {
                if self.dense.is_empty() {
                    self.dense = vec![0; DENSE_MONTHS];
                }
                self.dense[i] += count;
            }
            _ => *self.sparse.entry(month).or_insert(0) += count,
        }
    }

    /// (month index, count) in order, months with no values left out.
    fn into_sorted(self) -> Vec<(i32, u64)> {
        let mut months: Vec<(i32, u64)> = self
            .dense
            .iter()
            .enumerate()
            .filter(|(_, c)| **c > 0)
            .map(|(i, &c)| (DENSE_FROM + i as i32, c))
            .chain(self.sparse)
            .collect();
        months.sort_unstable();
        months
    }
}

fn month_index(year: i32, month: u32) -> i32 {
    year * 12 + month as i32 - 1
}

/// A month index back to (year, month).
pub fn year_month(index: i32) -> (i32, u32) {
    (index.div_euclid(12), index.rem_euclid(12) as u32 + 1)
}

/// Everything the report knows about one column (before disclosure
/// control).
#[derive(Clone, Debug)]
pub struct ColumnProfile {
    /// The column's name.
    pub name: String,
    /// pandas' dtype.
    pub dtype: Dtype,
    /// Rows in the file.
    pub rows: u64,
    /// Missing values.
    pub missing: u64,
    /// The kind of data as pandas' type tells it (`--sdc legacy`).
    pub kind: Kind,
    /// The kind under the other rules, which a few values do not change.
    pub fit: Fit,
    /// dataset-report v0.0.24's value counts, for the columns it summarises.
    pub legacy: Option<Vec<(String, u64)>>,
    /// Counts of distinct values (booleans and categories), most frequent
    /// first; `None` when there were too many to count.
    pub values: Option<Vec<(String, u64)>>,
    /// How many distinct values, where counted.
    pub distinct: Option<u64>,
    /// The distribution of a numeric column.
    pub numbers: Option<Sketch>,
    /// Counts by month (index year*12 + month-1) of a date column, in order.
    pub months: Vec<(i32, u64)>,
}

impl ColumnProfile {
    /// Whether every value is missing.
    pub fn empty(&self) -> bool {
        self.missing == self.rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn profile(name: &str, fields: &[&str]) -> ColumnProfile {
        let mut acc = ColumnAcc::default();
        for field in fields {
            acc.add_field(field.as_bytes());
        }
        acc.finish(name, fields.len() as u64, None)
    }

    #[test]
    fn dtypes_follow_pandas() {
        let dtype = |fields: &[&str]| profile("x", fields).dtype.name;
        assert_eq!(dtype(&["1", "2"]), "int64");
        assert_eq!(dtype(&["1", ""]), "float64");
        assert_eq!(dtype(&["1", "2.5"]), "float64");
        assert_eq!(dtype(&["", ""]), "float64");
        assert_eq!(dtype(&[]), "object");
        assert_eq!(dtype(&["True", "false"]), "bool");
        assert_eq!(dtype(&["True", ""]), "object");
        assert_eq!(dtype(&["True", "1"]), "object");
        assert_eq!(dtype(&["18446744073709551615", "1"]), "uint64");
        assert_eq!(dtype(&["18446744073709551615", "-1"]), "object");
        assert_eq!(dtype(&["18446744073709551615", ""]), "object");
        assert_eq!(dtype(&["2020-01-01", "x"]), "object");
        assert_eq!(profile("x", &["True", "False"]).dtype.bytes_per_row, 1);
    }

    #[test]
    fn kinds_follow_the_values() {
        let kind = |name: &str, fields: &[&str]| profile(name, fields).kind;
        assert_eq!(kind("patient_id", &["1", "2"]), Kind::Identifier);
        assert_eq!(kind("died", &["", ""]), Kind::Empty);
        assert_eq!(kind("flag", &["0", "1", ""]), Kind::Boolean);
        assert_eq!(kind("flag", &["0.0", "1"]), Kind::Boolean);
        assert_eq!(kind("d", &["2020-01-01", "", "2020-02"]), Kind::Date);
        assert_eq!(kind("sex", &["F", "M"]), Kind::Category);
        assert_eq!(kind("q_code", &["161925006", ""]), Kind::Category);
        assert_eq!(kind("eth", &["1", "2", "5"]), Kind::Category);
        assert_eq!(kind("bmi", &["27.5", "30.1"]), Kind::Numeric);
        let ages: Vec<String> = (0..50).map(|i| i.to_string()).collect();
        let ages: Vec<&str> = ages.iter().map(String::as_str).collect();
        assert_eq!(kind("age", &ages), Kind::Numeric);
    }

    #[test]
    fn ehrql_booleans_are_booleans_under_the_current_rules_and_text_to_pandas() {
        let mut fields = vec!["T"; 20];
        fields.extend(["F"; 30]);
        fields.extend(["", "x"]);
        let p = profile("has_asthma", &fields);
        assert_eq!((p.dtype.name.as_str(), p.kind), ("object", Kind::Category));
        assert_eq!(
            (p.fit.kind, p.fit.strays, p.fit.domain),
            (Kind::Boolean, 1, Some(kinds::T_F))
        );
        let sex: Vec<&str> = ["F", "M"].iter().copied().cycle().take(40).collect();
        assert_eq!(profile("sex", &sex).fit.kind, Kind::Category);
    }

    #[test]
    fn legacy_counts_label_values_as_pandas_prints_them() {
        let p = profile("v", &["1", "", "0", "1"]);
        assert_eq!(
            p.legacy.unwrap(),
            [("NaN".into(), 1), ("0.0".into(), 1), ("1.0".into(), 2)]
        );
        let p = profile("v", &["1", "0", "1"]);
        assert_eq!(p.legacy.unwrap(), [("0".into(), 1), ("1".into(), 2)]);
        let p = profile("v", &["", ""]);
        assert_eq!(p.legacy.unwrap(), [("NaN".to_string(), 2)]);
        let p = profile("v", &["True", "True"]);
        assert_eq!(p.legacy.unwrap(), [("True".to_string(), 2)]);
        assert!(profile("v", &["0", "2"]).legacy.is_none());
        assert!(profile("patient_id", &["0", "1"]).legacy.is_none());
        assert!(profile("v", &["a", "b"]).legacy.is_none());
    }

    /// A column of one of four shapes: a few tokens (flags, markers,
    /// numbers pandas reads in odd ways), whole numbers, measurements with
    /// zeros and gaps, or dates with gaps. Up to 6,000 distinct values, so
    /// that the tally overflows in some columns.
    fn column_fields() -> impl Strategy<Value = Vec<String>> {
        let tokens = prop::sample::select(vec![
            "",
            "0",
            "1",
            "NA",
            "True",
            "false",
            "2020-01-31",
            "2021-02-29",
            "x",
            "1.5",
            " 7 ",
            "161925006.0",
            "-0.0",
            "1e3",
            "1.#IND",
        ])
        .prop_map(String::from);
        let shape = |kind: usize| -> BoxedStrategy<String> {
            match kind {
                0 => (0u32..6_000).prop_map(|i| i.to_string()).boxed(),
                1 => (0u32..6_000)
                    .prop_map(|i| match i % 3 {
                        0 => "0.0".to_string(),
                        1 => String::new(),
                        _ => format!("{}.{}", i / 10, i % 97),
                    })
                    .boxed(),
                _ => (0i64..6_000)
                    .prop_map(|d| match d % 2 {
                        0 => String::new(),
                        _ => (chrono::NaiveDate::from_ymd_opt(1990, 1, 1).unwrap()
                            + chrono::Duration::days(d * 7))
                        .to_string(),
                    })
                    .boxed(),
            }
        };
        (0usize..4).prop_flat_map(move |kind| {
            let field = if kind == 3 {
                tokens.clone().boxed()
            } else {
                prop_oneof![9 => shape(kind), 1 => tokens.clone()].boxed()
            };
            prop::collection::vec(field, 0..12_000)
        })
    }

    fn comparable(p: ColumnProfile) -> impl PartialEq + std::fmt::Debug {
        let numbers = p.numbers.as_ref().map(|n| (n.count(), n.pieces()));
        (
            p.dtype, p.kind, p.missing, p.legacy, p.values, p.distinct, p.months, numbers,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// Counting fields through the tally, as the CSV parser or the
        /// walk of unquoted text hands them over (an empty field with
        /// whatever byte follows it), gives the profile of counting them
        /// one by one.
        #[test]
        fn the_tally_changes_no_figure(fields in column_fields(), after in any::<u8>()) {
            let mut tallied = ColumnAcc::default();
            let mut walked = ColumnAcc::default();
            let mut direct = ColumnAcc::default();
            for field in &fields {
                tallied.add_field(field.as_bytes());
                let first = field.as_bytes().first().copied().unwrap_or(after);
                walked.add_field_starting(first, field.as_bytes());
                direct.count_field(field.as_bytes(), 1);
            }
            let rows = fields.len() as u64;
            let direct = comparable(direct.finish("c", rows, None));
            prop_assert_eq!(&comparable(tallied.finish("c", rows, None)), &direct);
            prop_assert_eq!(&comparable(walked.finish("c", rows, None)), &direct);
        }
    }

    #[test]
    fn parts_merge_to_the_whole() {
        let fields: Vec<String> = (0..5_000).map(|i| format!("v{}", i % 2_500)).collect();
        let mut whole = ColumnAcc::default();
        let (mut a, mut b) = (ColumnAcc::default(), ColumnAcc::default());
        for (i, f) in fields.iter().enumerate() {
            whole.add_field(f.as_bytes());
            let part = if i < 1_500 { &mut a } else { &mut b };
            part.add_field(f.as_bytes());
        }
        a.merge(b);
        let (whole, merged) = (whole.finish("c", 5_000, None), a.finish("c", 5_000, None));
        assert_eq!(whole.values, None);
        assert_eq!(merged.values, None);
        assert_eq!(whole.kind, merged.kind);
        let small = profile("c", &["b", "a", "b", "7"]);
        assert_eq!(
            small.values.unwrap(),
            [("b".into(), 2), ("7".into(), 1), ("a".into(), 1)]
        );
    }
}
