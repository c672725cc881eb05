//! A schema made ready to draw from: bounds resolved to days, distributions
//! built, fixed values rendered, and the order in which columns are drawn.

use rand_distr::Poisson;

use super::conventions::Conventions;
use super::dates::{DateFormat, Day};
use super::ids::MAX_POPULATION;
use super::random::{Discrete, hash_text};
use super::schema::{
    Column, DateBound, DateRate, FixedKind, IntDistribution, Missing, Schema, TextKind, Values,
};
use crate::table::csv::write_field;
use crate::table::text::write_python_float;

/// Everything needed to draw one study's rows, whatever the file.
#[derive(Debug)]
pub struct DrawPlan {
    /// Column names in output order.
    pub names: Vec<String>,
    /// How each column (output order) is drawn.
    pub columns: Vec<ColumnPlan>,
    /// Output-order indices in the order they must be drawn: columns that
    /// others follow come first.
    pub draw_order: Vec<usize>,
    /// Rows per file.
    pub population: u64,
    /// How the values are written.
    pub conventions: Conventions,
}

/// How one column is drawn.
#[derive(Debug)]
pub struct ColumnPlan {
    /// Keys the column's random stream (its name's hash).
    pub key: u64,
    /// The values.
    pub draw: Draw,
    /// Which rows are missing.
    pub missing: RowsMissing,
}

/// Which rows of a column are missing, for a known population.
#[derive(Debug, Clone, Copy)]
pub enum RowsMissing {
    /// None.
    Never,
    /// Exactly this many of the file's rows.
    Exactly(u64),
    /// Where the column at this (output) index is empty.
    Follows(usize),
}

/// A column's values, ready to sample.
#[derive(Debug)]
pub enum Draw {
    /// The patient id.
    PatientId,
    /// 1 (0 when missing).
    Flag,
    /// Normal integers truncated towards zero.
    IntNormal {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        stddev: f64,
    },
    /// Poisson integers (`None`: the mean is 0).
    IntPoisson(Option<Poisson<f64>>),
    /// UK-shaped ages.
    Ages(Discrete),
    /// Normal floats.
    Float {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        stddev: f64,
    },
    /// Dates counted back from `latest`.
    Date(DatePlan),
    /// Labels by probability; a `None` label draws an empty value.
    Text {
        /// Which kind of text.
        kind: TextKind,
        /// The labels, CSV-encoded, and as text for Arrow.
        labels: Vec<Option<Label>>,
        /// Their probabilities.
        choose: Discrete,
    },
    /// The same value everywhere.
    Fixed(Fixed),
}

/// A label as text and as CSV field bytes.
#[derive(Debug, Clone)]
pub struct Label {
    /// The text.
    pub text: String,
    /// The text as a CSV field (quoted if it must be).
    pub csv: Vec<u8>,
}

impl Label {
    fn new(text: &str) -> Label {
        let mut csv = Vec::with_capacity(text.len());
        write_field(&mut csv, text.as_bytes());
        Label {
            text: text.to_string(),
            csv,
        }
    }
}

/// A date column's draw.
#[derive(Debug, Clone)]
pub struct DatePlan {
    /// The latest date.
    pub latest: Day,
    /// Days from earliest to latest.
    pub span: i32,
    /// Skewed towards `latest` (upstream's `exponential_increase`).
    pub exponential: bool,
    /// Dates outside are blanked.
    pub keep_between: (Option<Day>, Option<Day>),
    /// How dates are written.
    pub format: DateFormat,
}

/// A fixed value, typed and rendered.
#[derive(Debug)]
pub enum Fixed {
    /// 0 or 1.
    Flag(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A date and its format.
    Date(Day, DateFormat),
    /// Text of a kind.
    Text(TextKind, Label),
}

impl Fixed {
    /// The value as CSV field bytes, in `conventions`.
    pub fn csv(&self, conventions: Conventions) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            Fixed::Flag(b) => out.extend_from_slice(conventions.flag(*b)),
            Fixed::Int(v) => out.extend_from_slice(itoa::Buffer::new().format(*v).as_bytes()),
            Fixed::Float(v) => write_python_float(&mut out, *v),
            Fixed::Date(day, format) => write_date(*day, *format, conventions, &mut out),
            Fixed::Text(_, label) => out.extend_from_slice(&label.csv),
        }
        out
    }
}

/// A date as `conventions` write it: at its format's precision
/// (cohortextractor), or as the whole day that precision stands for (ehrQL
/// dates are always `YYYY-MM-DD`).
pub fn write_date(day: Day, format: DateFormat, conventions: Conventions, out: &mut Vec<u8>) {
    match conventions {
        Conventions::Cohortextractor => day.write(format, out),
        Conventions::Ehrql => format.truncate(day).write(DateFormat::Day, out),
    }
}

/// Why a schema cannot be drawn on this run.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// A column cannot be drawn (its bounds, its distribution).
    #[error("column {column:?} (line {line}): {message}")]
    Column {
        /// The column.
        column: String,
        /// Its line in the schema.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// Too many rows for distinct patient ids.
    #[error(
        "a population of {0} is more than can be generated: at most {MAX_POPULATION} rows per file (patient ids are distinct numbers below 10 times the population, and must fit a 64-bit integer)"
    )]
    Population(u64),
}

/// UK population by five-year age band, thousands (ONS 2018 principal
/// projection: the table cohortextractor's `population_ages` uses).
const AGE_BANDS: [(u32, u32, u32); 21] = [
    (0, 4, 3914),
    (5, 9, 4139),
    (10, 14, 3859),
    (15, 19, 3669),
    (20, 24, 4185),
    (25, 29, 4527),
    (30, 34, 4463),
    (35, 39, 4372),
    (40, 44, 3993),
    (45, 49, 4507),
    (50, 54, 4674),
    (55, 59, 4294),
    (60, 64, 3673),
    (65, 69, 3396),
    (70, 74, 3252),
    (75, 79, 2236),
    (80, 84, 1673),
    (85, 89, 1024),
    (90, 94, 448),
    (95, 99, 123),
    (100, 130, 13),
];

/// Ages 0 to this (exclusive), as upstream.
const MAX_AGE: u32 = 110;

/// Upstream's age probabilities: each age gets its band's count / total / 5,
/// and the largest is trimmed so that they sum to 1.
pub fn age_probabilities() -> Vec<f64> {
    let total: f64 = AGE_BANDS.iter().map(|b| f64::from(b.2)).sum();
    let mut p: Vec<f64> = (0..MAX_AGE)
        .map(|age| {
            let band = AGE_BANDS
                .iter()
                .find(|b| age <= b.1)
                .expect("bands cover every age");
            f64::from(band.2) / total / 5.0
        })
        .collect();
    let excess: f64 = p.iter().sum::<f64>() - 1.0;
    let biggest = (0..p.len())
        .max_by(|&a, &b| p[a].total_cmp(&p[b]).then(b.cmp(&a)))
        .expect("ages");
    p[biggest] -= excess;
    p
}

impl DrawPlan {
    /// The plan with its values written in `conventions`.
    pub fn with_conventions(self, conventions: Conventions) -> DrawPlan {
        DrawPlan {
            conventions,
            ..self
        }
    }

    /// Prepares `schema` for files of `population` rows (at most
    /// [`MAX_POPULATION`]), with `today` for `today` bounds.
    pub fn new(schema: &Schema, population: u64, today: Day) -> Result<DrawPlan, PlanError> {
        if population > MAX_POPULATION {
            return Err(PlanError::Population(population));
        }
        let index = |name: &str| {
            schema
                .columns
                .iter()
                .position(|c| c.name == name)
                .expect("validated: missing_follows names a column")
        };
        let mut columns = Vec::with_capacity(schema.columns.len());
        for column in &schema.columns {
            let missing = match &column.missing {
                Missing::Never => RowsMissing::Never,
                Missing::Incidence(p) => {
                    RowsMissing::Exactly(((1.0 - p) * population as f64) as u64)
                }
                Missing::Follows(source) => RowsMissing::Follows(index(source)),
            };
            columns.push(ColumnPlan {
                key: hash_text(&column.name),
                draw: draw(column, schema.index_date, today)?,
                missing,
            });
        }
        let leads = |c: &ColumnPlan| {
            matches!(c.draw, Draw::Date(_)) && !matches!(c.missing, RowsMissing::Follows(_))
        };
        let draw_order = (0..columns.len())
            .filter(|&i| leads(&columns[i]))
            .chain((0..columns.len()).filter(|&i| !leads(&columns[i])))
            .collect();
        Ok(DrawPlan {
            names: schema.columns.iter().map(|c| c.name.clone()).collect(),
            columns,
            draw_order,
            population,
            conventions: Conventions::default(),
        })
    }
}

fn draw(column: &Column, index_date: Option<Day>, today: Day) -> Result<Draw, PlanError> {
    let error = |message: String| PlanError::Column {
        column: column.name.clone(),
        line: column.line,
        message,
    };
    Ok(match &column.values {
        Values::PatientId => Draw::PatientId,
        Values::Flag => Draw::Flag,
        Values::Int(IntDistribution::Normal { mean, stddev }) => Draw::IntNormal {
            mean: *mean,
            stddev: *stddev,
        },
        Values::Int(IntDistribution::Poisson { mean }) => Draw::IntPoisson(if *mean > 0.0 {
            Some(Poisson::new(*mean).map_err(|e| error(format!("poisson mean: {e}")))?)
        } else {
            None
        }),
        Values::Int(IntDistribution::PopulationAges) => {
            Draw::Ages(Discrete::new(age_probabilities()))
        }
        Values::Float { mean, stddev } => Draw::Float {
            mean: *mean,
            stddev: *stddev,
        },
        Values::Date(spec) => {
            let resolve = |bound: DateBound| match bound {
                DateBound::Day(day) => day,
                DateBound::Today => today,
                DateBound::IndexDate => index_date.expect("validated: index_date defined"),
            };
            let (earliest, latest) = (resolve(spec.earliest), resolve(spec.latest));
            if latest < earliest {
                return Err(error(format!(
                    "latest ({latest}) is before earliest ({earliest}) on this run; check the bounds and --today"
                )));
            }
            Draw::Date(DatePlan {
                latest,
                span: latest.0 - earliest.0,
                exponential: spec.rate == DateRate::ExponentialIncrease,
                keep_between: spec.keep_between,
                format: spec.format,
            })
        }
        Values::Text { kind, ratios } => Draw::Text {
            kind: *kind,
            labels: ratios
                .iter()
                .map(|(label, _)| label.as_deref().map(Label::new))
                .collect(),
            choose: Discrete::new(ratios.iter().map(|(_, p)| *p)),
        },
        Values::Fixed { kind, value } => Draw::Fixed(match kind {
            FixedKind::Flag => Fixed::Flag(value == "1"),
            FixedKind::Int => Fixed::Int(value.parse().expect("validated int")),
            FixedKind::Float => {
                Fixed::Float(crate::yaml::parse_number(value).expect("validated float"))
            }
            FixedKind::Date(format) => {
                Fixed::Date(Day::parse_iso(value).expect("validated date"), *format)
            }
            FixedKind::Text(kind) => Fixed::Text(*kind, Label::new(value)),
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn age_probabilities_sum_to_one_and_follow_the_bands() {
        let p = age_probabilities();
        assert_eq!(p.len(), 110);
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        // Ages in one band share a probability; 0-4 is less common than 50-54.
        assert_eq!(p[0], p[4]);
        assert!(p[0] < p[52]);
        assert!(p.iter().all(|&x| x > 0.0));
    }
}
