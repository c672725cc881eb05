//! The dummy-data schema: a study's output columns, in file order, with the
//! expectations their values follow. Read from and written as YAML
//! (documented in `docs/generate.md`); every problem is reported with its
//! line.

pub mod infer;
mod read;
mod write;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::dates::{DateFormat, Day};
use crate::yaml::Problem;

/// A whole schema: one study definition's extract.
#[derive(Clone, Debug, PartialEq)]
pub struct Schema {
    /// The study definition's name (`study_definition`, `study_definition_end`).
    pub study_definition: String,
    /// The index date written in the study definition, for `index_date` bounds.
    pub index_date: Option<Day>,
    /// Expectations for columns that leave them out.
    pub defaults: Defaults,
    /// The output columns, in file order.
    pub columns: Vec<Column>,
    /// The study's measures, for `generate_measures` where the study
    /// definition cannot be read (no python3).
    pub measures: Vec<crate::study::Measure>,
}

/// Study-wide expectations (cohortextractor's `default_expectations`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Defaults {
    /// Share of rows with a value.
    pub incidence: Option<f64>,
    /// How values are spread.
    pub rate: Option<Rate>,
    /// Earliest date (exclusive, as upstream).
    pub earliest: Option<DateBound>,
    /// Latest date.
    pub latest: Option<DateBound>,
    /// How dates are written.
    pub format: Option<DateFormat>,
}

/// One output column.
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    /// The column name in the header.
    pub name: String,
    /// The line of the column's entry (0 when built in memory).
    pub line: usize,
    /// What the values are and how they are drawn.
    pub values: Values,
    /// Which rows are missing.
    pub missing: Missing,
}

/// The values of a column.
#[derive(Clone, Debug, PartialEq)]
pub enum Values {
    /// The patient id, from the study's patient universe.
    PatientId,
    /// 0/1; missing rows are 0.
    Flag,
    /// Integers; missing rows are 0.
    Int(IntDistribution),
    /// Floats from a normal distribution; missing rows are 0.0.
    Float {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        stddev: f64,
    },
    /// Dates; missing rows are empty.
    Date(DateSpec),
    /// Text drawn from labels (`category`, `code`, `string`); missing rows
    /// are empty.
    Text {
        /// Which kind of text column.
        kind: TextKind,
        /// Labels and their probabilities; a `None` label is an empty value.
        ratios: Vec<(Option<String>, f64)>,
    },
    /// The same value on every row (`fixed_value`).
    Fixed {
        /// The column's type.
        kind: FixedKind,
        /// The value as written in the schema.
        value: String,
    },
}

/// The types a fixed-value column can have.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FixedKind {
    /// 0/1.
    Flag,
    /// An integer.
    Int,
    /// A float.
    Float,
    /// A date written in a format.
    Date(DateFormat),
    /// Text of a kind.
    Text(TextKind),
}

/// Text column kinds: they differ only in the Arrow type they get.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextKind {
    /// A categorical variable (dictionary-encoded in Arrow files).
    Category,
    /// A clinical code (dictionary-encoded in Arrow files).
    Code,
    /// Free text (plain strings in Arrow files).
    String,
}

impl TextKind {
    fn name(self) -> &'static str {
        match self {
            TextKind::Category => "category",
            TextKind::Code => "code",
            TextKind::String => "string",
        }
    }
}

/// Integer distributions.
#[derive(Clone, Debug, PartialEq)]
pub enum IntDistribution {
    /// Normal, truncated towards zero (numpy's `astype(int)`).
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        stddev: f64,
    },
    /// Poisson.
    Poisson {
        /// Mean.
        mean: f64,
    },
    /// Ages shaped like the UK population (0–109).
    PopulationAges,
}

/// How a date column's values are drawn.
#[derive(Clone, Debug, PartialEq)]
pub struct DateSpec {
    /// Dates fall after this day...
    pub earliest: DateBound,
    /// ...and on or before this one.
    pub latest: DateBound,
    /// Uniform, or skewed towards `latest`.
    pub rate: DateRate,
    /// How the dates are written.
    pub format: DateFormat,
    /// Dates outside these bounds (inclusive) are blanked, as the study's
    /// `between` filter does.
    pub keep_between: (Option<Day>, Option<Day>),
}

/// A date bound as written: a date, `today` or `index_date`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DateBound {
    /// A calendar date.
    Day(Day),
    /// The day of generation (or `--today`).
    Today,
    /// The schema's `index_date`.
    IndexDate,
}

impl DateBound {
    fn to_text(self) -> String {
        match self {
            DateBound::Day(day) => day.to_string(),
            DateBound::Today => "today".into(),
            DateBound::IndexDate => "index_date".into(),
        }
    }
}

/// How dates spread between their bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DateRate {
    /// Evenly.
    Uniform,
    /// Increasingly common towards the latest date.
    ExponentialIncrease,
}

/// cohortextractor's `rate`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rate {
    /// Evenly spread values, `incidence` of rows present.
    Uniform,
    /// Dates increasingly common towards the latest; `incidence` present.
    ExponentialIncrease,
    /// Every row has a value; `incidence` is ignored.
    Universal,
}

impl Rate {
    /// The rate named `text`.
    pub fn parse(text: &str) -> Option<Rate> {
        match text {
            "uniform" => Some(Rate::Uniform),
            "exponential_increase" => Some(Rate::ExponentialIncrease),
            "universal" => Some(Rate::Universal),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Rate::Uniform => "uniform",
            Rate::ExponentialIncrease => "exponential_increase",
            Rate::Universal => "universal",
        }
    }
}

/// Which rows of a column are missing.
#[derive(Clone, Debug, PartialEq)]
pub enum Missing {
    /// None (`rate: universal`, fixed values, patient ids).
    Never,
    /// Exactly `int((1 - incidence) * N)` rows, chosen at random.
    Incidence(f64),
    /// Exactly the rows where this (date) column is empty.
    Follows(String),
}

/// An invalid schema: every problem found, each with its line.
#[derive(Debug, thiserror::Error)]
#[error("{}: {}", path.display(), describe(problems))]
pub struct SchemaError {
    /// The schema file.
    pub path: PathBuf,
    /// What is wrong, by line.
    pub problems: Vec<Problem>,
}

fn describe(problems: &[Problem]) -> String {
    match problems {
        [one] => located(one),
        many => {
            let mut text = format!("{} problems in the schema:", many.len());
            for p in many {
                let _ = write!(text, "\n  {}", located(p));
            }
            text
        }
    }
}

/// `line N: what is wrong`, as the schema commands print a problem.
pub(super) fn located(problem: &Problem) -> String {
    match problem.line {
        Some(line) => format!("line {line}: {}", problem.message),
        None => problem.message.clone(),
    }
}

impl Schema {
    /// Reads and validates a schema file.
    pub fn load(path: &Path) -> anyhow::Result<Schema> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            anyhow::anyhow!(
                "cannot read the schema {}: {e}{}",
                path.display(),
                if e.kind() == std::io::ErrorKind::NotFound {
                    "; make one with `cohortkit schema import` (see docs/generate.md)"
                } else {
                    ""
                }
            )
        })?;
        Ok(Schema::parse(&text).map_err(|problems| SchemaError {
            path: path.to_path_buf(),
            problems,
        })?)
    }

    /// Parses and validates schema YAML.
    pub fn parse(text: &str) -> Result<Schema, Vec<Problem>> {
        read::parse(text)
    }

    /// The schema as YAML in the documented layout, `header` as comments.
    pub fn to_yaml(&self, header: &str) -> String {
        write::schema(self, header)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: &str = "\
study_definition: study_definition
index_date: 2020-03-01
defaults:
  incidence: 0.5
  rate: uniform
  earliest: 1900-01-01
  latest: today
columns:
- name: event_date
  type: date
  format: YYYY-MM-DD
- name: event
  type: flag
  missing_follows: event_date
- name: age
  type: int
  rate: universal
  distribution: population_ages
- name: bmi
  type: float
  incidence: 0.8
  distribution: normal
  mean: 28
  stddev: 8
- name: sex
  type: category
  rate: universal
  ratios:
    M: 0.49
    F: 0.49
    U: 0.01
    I: 0.01
- name: code
  type: code
  ratios:
    '0123': 0.5
    null: 0.5
- name: nulldate
  type: date
  value: 1900-01-01
  format: YYYY-MM-DD
- name: patient_id
  type: patient_id
";

    fn problems(text: &str) -> Vec<Problem> {
        Schema::parse(text).unwrap_err()
    }

    #[test]
    fn a_schema_reads_with_defaults_applied() {
        let schema = Schema::parse(SMALL).unwrap();
        assert_eq!(schema.columns.len(), 8);
        let date = &schema.columns[0];
        assert_eq!(date.missing, Missing::Incidence(0.5));
        let Values::Date(spec) = &date.values else {
            panic!("{date:?}")
        };
        assert_eq!(spec.latest, DateBound::Today);
        assert_eq!(spec.format, DateFormat::Day);
        assert_eq!(
            schema.columns[1].missing,
            Missing::Follows("event_date".into())
        );
        assert_eq!(schema.columns[2].missing, Missing::Never);
        let Values::Text { ratios, .. } = &schema.columns[5].values else {
            panic!()
        };
        assert_eq!(ratios[0], (Some("0123".to_string()), 0.5));
        assert_eq!(ratios[1], (None, 0.5));
    }

    #[test]
    fn a_written_schema_reads_back_the_same() {
        let schema = Schema::parse(SMALL).unwrap();
        let text = schema.to_yaml("made by a test");
        assert!(text.starts_with("# made by a test\n"), "{text}");
        assert_eq!(
            Schema::parse(&text).unwrap(),
            schema_with_lines_of(&text, schema)
        );
    }

    fn schema_with_lines_of(text: &str, mut schema: Schema) -> Schema {
        let reread = Schema::parse(text).unwrap();
        for (c, r) in schema.columns.iter_mut().zip(&reread.columns) {
            c.line = r.line;
        }
        schema
    }

    const MEASURES: &str = "measures:
- id: by_code
  numerator: event
  denominator: population
  group_by: code
  small_number_suppression: true
- id: total
  numerator: event
  denominator: population
  group_by: [population]
";

    #[test]
    fn measures_read_back_the_same() {
        let schema = Schema::parse(&format!("{SMALL}{MEASURES}")).unwrap();
        assert_eq!(schema.measures.len(), 2);
        assert_eq!(schema.measures[0].group_by, ["code"]);
        assert!(schema.measures[0].small_number_suppression);
        let text = schema.to_yaml("made by a test");
        assert_eq!(Schema::parse(&text).unwrap().measures, schema.measures);
    }

    #[test]
    fn measure_problems_name_their_lines() {
        let bad = MEASURES
            .replace("id: by_code", "id: by-code")
            .replace("group_by: code", "group_by: [code, event]")
            .replace(
                "small_number_suppression: true",
                "small_number_suppression: yes please",
            )
            .replace(
                "denominator: population\n  group_by: [population]",
                "denominator: nothing\n  colour: red",
            );
        let found: Vec<String> = problems(&format!("{SMALL}{bad}"))
            .iter()
            .map(|p| p.message.clone())
            .collect();
        for expected in [
            "measure `small_number_suppression` must be true or false",
            "unknown measure field \"colour\"",
            "measure id \"by-code\" may hold only letters, digits and _",
            "measure by-code: column \"event\" appears in both numerator and group_by",
            "measure total: \"nothing\" is not a column of the schema",
        ] {
            assert!(
                found.iter().any(|f| f.starts_with(expected)),
                "{expected}: {found:?}"
            );
        }
    }

    #[test]
    fn problems_name_their_lines() {
        let bad = SMALL
            .replace("type: flag", "type: flagg")
            .replace("    U: 0.01", "    U: 0.02")
            .replace("earliest: 1900-01-01", "earliest: 1900-13-01");
        let found = problems(&bad);
        let lines: Vec<usize> = found.iter().filter_map(|p| p.line).collect();
        assert!(found[0].message.contains("1900-13-01") || found[0].message.contains("earliest"));
        assert_eq!(lines, [6, 13, 29], "{found:?}");
        assert!(
            found[1].message.contains("unknown type \"flagg\""),
            "{found:?}"
        );
        assert!(found[2].message.contains("add up to 1.01"), "{found:?}");
    }

    #[test]
    fn cross_column_mistakes_are_found() {
        let twice = SMALL.replace("- name: bmi", "- name: age");
        assert!(
            problems(&twice)[0]
                .message
                .contains("listed twice (first at line 15)")
        );
        let follows = SMALL.replace("missing_follows: event_date", "missing_follows: age");
        assert!(
            problems(&follows)[0]
                .message
                .contains("must name a drawn date column")
        );
        let no_id = SMALL.replace("type: patient_id", "type: int\n  value: 1");
        assert!(
            problems(&no_id)[0]
                .message
                .contains("no `type: patient_id`")
        );
        let no_index = SMALL
            .replace("index_date: 2020-03-01\n", "")
            .replace("latest: today", "latest: index_date");
        assert!(problems(&no_index)[0].message.contains("no `index_date"));
    }

    #[test]
    fn fields_must_fit_the_type() {
        let extra = SMALL.replace("  missing_follows: event_date", "  mean: 3");
        let found = problems(&extra);
        assert!(
            found[0].message.contains("`mean` does not apply"),
            "{found:?}"
        );
        assert_eq!(found[0].line, Some(14));
        let unknown = SMALL.replace(
            "  format: YYYY-MM-DD\n- name: event",
            "  fromat: YYYY\n- name: event",
        );
        assert!(
            problems(&unknown)[0]
                .message
                .contains("unknown column field \"fromat\"")
        );
        let no_incidence = SMALL.replace("  incidence: 0.5\n", "");
        assert!(
            problems(&no_incidence)[0]
                .message
                .contains("needs an `incidence`")
        );
    }
}
