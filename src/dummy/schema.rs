//! The dummy-data schema: a study's output columns, in file order, with the
//! expectations their values follow. Read from and written as YAML
//! (documented in `docs/generate.md`); every problem is reported with its
//! line.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::dates::{DateFormat, Day};
use super::yaml::{self, Node, Problem};

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
    fn parse(text: &str) -> Option<DateBound> {
        match text {
            "today" => Some(DateBound::Today),
            "index_date" => Some(DateBound::IndexDate),
            _ => Day::parse_iso(text).map(DateBound::Day),
        }
    }

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
        [one] => format!("line {}: {}", one.line, one.message),
        many => {
            let mut text = format!("{} problems in the schema:", many.len());
            for p in many {
                let _ = write!(text, "\n  line {}: {}", p.line, p.message);
            }
            text
        }
    }
}

/// Ratios may differ from 1 by this much (numpy's `allclose`, as upstream).
const RATIO_TOLERANCE: f64 = 1e-5;

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
        let Some(root) = yaml::load(text).map_err(|p| vec![p])? else {
            return Err(vec![Problem {
                line: 1,
                message: "the schema is empty; it needs `study_definition` and `columns`".into(),
            }]);
        };
        let mut reader = Reader::default();
        let schema = reader.schema(&root);
        match (schema, reader.problems.is_empty()) {
            (Some(schema), true) => Ok(schema),
            _ => Err(reader.problems),
        }
    }

    /// The schema as YAML, in the documented layout.
    pub fn to_yaml(&self, header: &str) -> String {
        let mut out = String::new();
        for line in header.lines() {
            let _ = writeln!(out, "# {line}");
        }
        let _ = writeln!(
            out,
            "study_definition: {}",
            yaml::quote(&self.study_definition)
        );
        if let Some(day) = self.index_date {
            let _ = writeln!(out, "index_date: {day}");
        }
        let d = &self.defaults;
        if *d != Defaults::default() {
            out.push_str("defaults:\n");
            if let Some(p) = d.incidence {
                let _ = writeln!(out, "  incidence: {}", yaml::format_number(p));
            }
            if let Some(rate) = d.rate {
                let _ = writeln!(out, "  rate: {}", rate.name());
            }
            if let Some(b) = d.earliest {
                let _ = writeln!(out, "  earliest: {}", b.to_text());
            }
            if let Some(b) = d.latest {
                let _ = writeln!(out, "  latest: {}", b.to_text());
            }
            if let Some(f) = d.format {
                let _ = writeln!(out, "  format: {}", f.name());
            }
        }
        out.push_str("columns:\n");
        for column in &self.columns {
            write_column(&mut out, column);
        }
        out
    }
}

fn field(out: &mut String, key: &str, value: &str) {
    let _ = writeln!(out, "  {key}: {value}");
}

fn write_column(out: &mut String, column: &Column) {
    let (type_name, format) = match &column.values {
        Values::PatientId => ("patient_id", None),
        Values::Flag => ("flag", None),
        Values::Int(_) => ("int", None),
        Values::Float { .. } => ("float", None),
        Values::Date(spec) => ("date", Some(spec.format)),
        Values::Text { kind, .. } => (kind.name(), None),
        Values::Fixed { kind, .. } => match kind {
            FixedKind::Flag => ("flag", None),
            FixedKind::Int => ("int", None),
            FixedKind::Float => ("float", None),
            FixedKind::Date(format) => ("date", Some(*format)),
            FixedKind::Text(kind) => (kind.name(), None),
        },
    };
    let _ = writeln!(out, "- name: {}", yaml::quote(&column.name));
    field(out, "type", type_name);
    let rate_name = match &column.values {
        Values::Date(DateSpec {
            rate: DateRate::ExponentialIncrease,
            ..
        }) => Some("exponential_increase"),
        Values::Date(_) => Some("uniform"),
        _ => None,
    };
    match &column.missing {
        Missing::Never if !matches!(column.values, Values::PatientId | Values::Fixed { .. }) => {
            field(out, "rate", "universal");
        }
        Missing::Never => {}
        Missing::Incidence(p) => {
            field(out, "incidence", &yaml::format_number(*p));
            field(out, "rate", rate_name.unwrap_or("uniform"));
        }
        Missing::Follows(source) => {
            field(out, "missing_follows", &yaml::quote(source));
            if let Some(rate) = rate_name {
                field(out, "rate", rate);
            }
        }
    }
    match &column.values {
        Values::Int(IntDistribution::Normal { mean, stddev }) | Values::Float { mean, stddev } => {
            field(out, "distribution", "normal");
            field(out, "mean", &yaml::format_number(*mean));
            field(out, "stddev", &yaml::format_number(*stddev));
        }
        Values::Int(IntDistribution::Poisson { mean }) => {
            field(out, "distribution", "poisson");
            field(out, "mean", &yaml::format_number(*mean));
        }
        Values::Int(IntDistribution::PopulationAges) => {
            field(out, "distribution", "population_ages")
        }
        Values::Date(spec) => {
            field(out, "earliest", &spec.earliest.to_text());
            field(out, "latest", &spec.latest.to_text());
        }
        Values::Fixed {
            kind: FixedKind::Date(_),
            value,
        } => field(out, "value", value),
        Values::Fixed { value, .. } => field(out, "value", &yaml::quote(value)),
        _ => {}
    }
    if let Some(format) = format {
        field(out, "format", format.name());
    }
    if let Values::Date(DateSpec {
        keep_between: (low, high),
        ..
    }) = &column.values
        && (low.is_some() || high.is_some())
    {
        let bound = |b: &Option<Day>| b.map_or("null".to_string(), |d| d.to_string());
        field(
            out,
            "keep_between",
            &format!("[{}, {}]", bound(low), bound(high)),
        );
    }
    if let Values::Text { ratios, .. } = &column.values {
        out.push_str("  ratios:\n");
        for (label, p) in ratios {
            let key = label.as_deref().map_or(Cow::from("null"), yaml::quote);
            let _ = writeln!(out, "    {key}: {}", yaml::format_number(*p));
        }
    }
}

/// Fields a column entry may have, for the unknown-field message.
const COLUMN_FIELDS: [&str; 14] = [
    "name",
    "type",
    "incidence",
    "rate",
    "missing_follows",
    "value",
    "distribution",
    "mean",
    "stddev",
    "earliest",
    "latest",
    "format",
    "keep_between",
    "ratios",
];

const TYPES: &str = "flag, int, float, date, category, code, string or patient_id";

/// Walks the YAML, collecting problems rather than stopping at the first.
#[derive(Default)]
struct Reader {
    problems: Vec<Problem>,
    /// Defaults that were given but invalid (already reported).
    bad_defaults: Vec<&'static str>,
}

/// A column entry's fields by name.
struct Fields<'b, 'a> {
    entry: &'b Node<'a>,
    map: Vec<(&'b str, &'b Node<'a>)>,
}

impl<'b, 'a> Fields<'b, 'a> {
    fn get(&self, key: &str) -> Option<&'b Node<'a>> {
        self.map.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }
}

impl Reader {
    fn problem(&mut self, node: &Node, message: impl Into<String>) {
        self.problems.push(Problem::at(node, message));
    }

    fn schema(&mut self, root: &Node) -> Option<Schema> {
        let Some(top) = yaml::mapping(root) else {
            self.problem(
                root,
                "the schema must be a mapping with `study_definition` and `columns`",
            );
            return None;
        };
        let mut study = None;
        let mut index_date = None;
        let mut defaults = Defaults::default();
        let mut columns_node = None;
        for (key, value) in top {
            match yaml::text(key) {
                Some("study_definition") => match yaml::text(value) {
                    Some(name) => study = Some(name.to_string()),
                    None => self.problem(value, "`study_definition` must be a name"),
                },
                Some("index_date") => index_date = self.day(value, "index_date"),
                Some("defaults") => defaults = self.defaults(value),
                Some("columns") => columns_node = Some(value),
                other => self.problem(
                    key,
                    format!(
                        "unknown top-level field {:?}; expected study_definition, index_date, defaults or columns",
                        other.unwrap_or("")
                    ),
                ),
            }
        }
        if study.is_none() {
            self.problem(root, "the schema needs `study_definition: NAME`");
        }
        let Some(columns_node) = columns_node else {
            self.problem(
                root,
                "the schema needs `columns:`, a list of output columns",
            );
            return None;
        };
        let Some(entries) = yaml::sequence(columns_node) else {
            self.problem(columns_node, "`columns` must be a list of columns");
            return None;
        };
        let columns: Vec<Column> = entries
            .iter()
            .filter_map(|entry| self.column(entry, &defaults))
            .collect();
        self.check_columns(&columns, columns_node, index_date.is_some());
        Some(Schema {
            study_definition: study?,
            index_date,
            defaults,
            columns,
        })
    }

    fn defaults(&mut self, node: &Node) -> Defaults {
        let mut d = Defaults::default();
        let Some(map) = yaml::mapping(node) else {
            self.problem(node, "`defaults` must be a mapping");
            return d;
        };
        for (key, value) in map {
            let before = self.problems.len();
            let known = match yaml::text(key) {
                Some("incidence") => {
                    d.incidence = self.incidence(value);
                    "incidence"
                }
                Some("rate") => {
                    d.rate = self.rate(value);
                    "rate"
                }
                Some("earliest") => {
                    d.earliest = self.bound(value, "earliest");
                    "earliest"
                }
                Some("latest") => {
                    d.latest = self.bound(value, "latest");
                    "latest"
                }
                Some("format") => {
                    d.format = self.format(value);
                    "format"
                }
                other => {
                    self.problem(
                        key,
                        format!(
                            "unknown default {:?}; expected incidence, rate, earliest, latest or format",
                            other.unwrap_or("")
                        ),
                    );
                    continue;
                }
            };
            if self.problems.len() > before {
                self.bad_defaults.push(known);
            }
        }
        d
    }

    fn column(&mut self, entry: &Node, defaults: &Defaults) -> Option<Column> {
        let Some(pairs) = yaml::mapping(entry) else {
            self.problem(
                entry,
                "each column must be a mapping with `name` and `type`",
            );
            return None;
        };
        let mut map = Vec::new();
        for (key, value) in pairs {
            match yaml::text(key) {
                Some(k) if COLUMN_FIELDS.contains(&k) => map.push((k, value)),
                other => self.problem(
                    key,
                    format!(
                        "unknown column field {:?}; expected one of {}",
                        other.unwrap_or(""),
                        COLUMN_FIELDS.join(", ")
                    ),
                ),
            }
        }
        let fields = Fields { entry, map };
        let name = match fields.get("name").map(|n| (n, yaml::text(n))) {
            Some((_, Some(name))) if !name.is_empty() => name.to_string(),
            Some((node, _)) => {
                self.problem(node, "`name` must be a column name");
                return None;
            }
            None => {
                self.problem(entry, "this column has no `name`");
                return None;
            }
        };
        let Some(type_node) = fields.get("type") else {
            self.problem(entry, format!("column {name:?} has no `type` ({TYPES})"));
            return None;
        };
        let type_name = yaml::text(type_node).unwrap_or("");
        let incidence = match fields.get("incidence") {
            Some(node) => self.incidence(node),
            None => defaults.incidence,
        };
        let rate = match fields.get("rate") {
            Some(node) => self.rate(node),
            None => defaults.rate,
        };
        let follows = fields
            .get("missing_follows")
            .and_then(|node| match yaml::text(node) {
                Some(source) => Some(source.to_string()),
                None => {
                    self.problem(node, "`missing_follows` must name a date column");
                    None
                }
            });
        let format = if type_name == "date" {
            match fields.get("format") {
                Some(node) => self.format(node),
                None => defaults.format,
            }
            .unwrap_or_default()
        } else {
            DateFormat::default()
        };
        let fixed_kind = match type_name {
            "patient_id" => None,
            "flag" => Some(FixedKind::Flag),
            "int" => Some(FixedKind::Int),
            "float" => Some(FixedKind::Float),
            "date" => Some(FixedKind::Date(format)),
            "category" => Some(FixedKind::Text(TextKind::Category)),
            "code" => Some(FixedKind::Text(TextKind::Code)),
            "string" => Some(FixedKind::Text(TextKind::String)),
            other => {
                self.problem(
                    type_node,
                    format!("column {name:?} has unknown type {other:?}; use {TYPES}"),
                );
                return None;
            }
        };
        let values = match (fields.get("value"), fixed_kind) {
            (_, None) => Some(Values::PatientId),
            (Some(node), Some(kind)) => self.fixed(node, kind),
            (None, Some(FixedKind::Flag)) => Some(Values::Flag),
            (None, Some(FixedKind::Int)) => self.int_distribution(&fields, &name).map(Values::Int),
            (None, Some(FixedKind::Float)) => self.float_distribution(&fields, &name),
            (None, Some(FixedKind::Date(format))) => self
                .date_spec(&fields, &name, defaults, rate, format)
                .map(Values::Date),
            (None, Some(FixedKind::Text(kind))) => self
                .ratios(&fields, &name)
                .map(|ratios| Values::Text { kind, ratios }),
        }?;
        self.check_fields(&fields, &name, &values);
        let missing = match (&values, follows, rate, incidence) {
            (Values::PatientId | Values::Fixed { .. }, _, _, _) => Missing::Never,
            (_, Some(source), _, _) => Missing::Follows(source),
            (_, None, Some(Rate::Universal), _) => Missing::Never,
            (_, None, _, Some(p)) => Missing::Incidence(p),
            (_, None, _, None) if self.bad_defaults.contains(&"incidence") => return None,
            (_, None, _, None) => {
                self.problem(
                    entry,
                    format!(
                        "column {name:?} needs an `incidence` (share of rows with a value), `rate: universal`, or a default incidence"
                    ),
                );
                return None;
            }
        };
        Some(Column {
            name,
            line: yaml::line(entry),
            values,
            missing,
        })
    }

    /// Rejects fields that mean nothing for the column's type.
    fn check_fields(&mut self, fields: &Fields, name: &str, values: &Values) {
        let allowed: &[&str] = match values {
            Values::PatientId => &[],
            Values::Fixed {
                kind: FixedKind::Date(_),
                ..
            } => &["value", "format"],
            Values::Fixed { .. } => &["value"],
            Values::Flag => &["incidence", "rate", "missing_follows"],
            Values::Int(_) | Values::Float { .. } => &[
                "incidence",
                "rate",
                "missing_follows",
                "distribution",
                "mean",
                "stddev",
            ],
            Values::Date(_) => &[
                "incidence",
                "rate",
                "missing_follows",
                "earliest",
                "latest",
                "format",
                "keep_between",
            ],
            Values::Text { .. } => &["incidence", "rate", "missing_follows", "ratios"],
        };
        for (key, node) in &fields.map {
            if !matches!(*key, "name" | "type") && !allowed.contains(key) {
                self.problem(
                    node,
                    format!("column {name:?}: `{key}` does not apply to this type of column"),
                );
            }
        }
    }

    fn fixed(&mut self, node: &Node, kind: FixedKind) -> Option<Values> {
        let Some(value) = yaml::scalar(node).map(|(t, _)| t.to_string()) else {
            self.problem(node, "`value` must be a single value");
            return None;
        };
        let valid = match kind {
            FixedKind::Flag => matches!(value.as_str(), "0" | "1"),
            FixedKind::Int => value.parse::<i64>().is_ok(),
            FixedKind::Float => yaml::parse_number(&value).is_some(),
            FixedKind::Date(_) => Day::parse_iso(&value).is_some(),
            FixedKind::Text(_) => true,
        };
        if !valid {
            self.problem(
                node,
                format!("`value` {value:?} is not a valid value for this column's type"),
            );
            return None;
        }
        Some(Values::Fixed { kind, value })
    }

    fn int_distribution(&mut self, fields: &Fields, name: &str) -> Option<IntDistribution> {
        let Some(node) = fields.get("distribution") else {
            self.problem(
                fields.entry,
                format!(
                    "int column {name:?} needs a `distribution`: normal (with mean, stddev), poisson (with mean) or population_ages"
                ),
            );
            return None;
        };
        match yaml::text(node) {
            Some("normal") => {
                let (mean, stddev) = self.mean_stddev(fields, name)?;
                Some(IntDistribution::Normal { mean, stddev })
            }
            Some("poisson") => {
                let mean = self.required_number(fields, "mean", name)?;
                if mean < 0.0 {
                    self.problem(fields.get("mean")?, "a poisson mean must be 0 or more");
                    return None;
                }
                Some(IntDistribution::Poisson { mean })
            }
            Some("population_ages") => Some(IntDistribution::PopulationAges),
            _ => {
                self.problem(
                    node,
                    "unknown int distribution; use normal, poisson or population_ages",
                );
                None
            }
        }
    }

    fn float_distribution(&mut self, fields: &Fields, name: &str) -> Option<Values> {
        match fields.get("distribution").map(|n| (n, yaml::text(n))) {
            Some((_, Some("normal"))) => {
                let (mean, stddev) = self.mean_stddev(fields, name)?;
                Some(Values::Float { mean, stddev })
            }
            Some((node, _)) => {
                self.problem(node, "unknown float distribution; use normal");
                None
            }
            None => {
                self.problem(
                    fields.entry,
                    format!(
                        "float column {name:?} needs `distribution: normal` with mean and stddev"
                    ),
                );
                None
            }
        }
    }

    fn mean_stddev(&mut self, fields: &Fields, name: &str) -> Option<(f64, f64)> {
        let mean = self.required_number(fields, "mean", name);
        let stddev = self.required_number(fields, "stddev", name);
        if let (Some(sd), Some(node)) = (stddev, fields.get("stddev"))
            && sd < 0.0
        {
            self.problem(node, "`stddev` must be 0 or more");
            return None;
        }
        Some((mean?, stddev?))
    }

    fn required_number(&mut self, fields: &Fields, key: &str, name: &str) -> Option<f64> {
        match fields.get(key) {
            Some(node) => {
                let value = yaml::number(node);
                if value.is_none() {
                    self.problem(node, format!("`{key}` must be a number"));
                }
                value
            }
            None => {
                self.problem(fields.entry, format!("column {name:?} needs `{key}`"));
                None
            }
        }
    }

    fn date_spec(
        &mut self,
        fields: &Fields,
        name: &str,
        defaults: &Defaults,
        rate: Option<Rate>,
        format: DateFormat,
    ) -> Option<DateSpec> {
        let mut bound = |key: &str, default: Option<DateBound>| match fields.get(key) {
            Some(node) => self.bound(node, key),
            None => {
                if default.is_none() && !self.bad_defaults.contains(&key) {
                    self.problem(
                        fields.entry,
                        format!("date column {name:?} needs `{key}` (or a default {key})"),
                    );
                }
                default
            }
        };
        let earliest = bound("earliest", defaults.earliest);
        let latest = bound("latest", defaults.latest);
        let keep_between = match fields.get("keep_between") {
            Some(node) => self.keep_between(node)?,
            None => (None, None),
        };
        let (earliest, latest) = (earliest?, latest?);
        if let (DateBound::Day(e), DateBound::Day(l)) = (earliest, latest)
            && l < e
        {
            self.problem(
                fields.get("latest").unwrap_or(fields.entry),
                format!("column {name:?}: latest ({l}) is before earliest ({e})"),
            );
        }
        Some(DateSpec {
            earliest,
            latest,
            rate: match rate {
                Some(Rate::ExponentialIncrease) => DateRate::ExponentialIncrease,
                _ => DateRate::Uniform,
            },
            format,
            keep_between,
        })
    }

    fn keep_between(&mut self, node: &Node) -> Option<(Option<Day>, Option<Day>)> {
        let bounds: Option<Vec<Option<Option<Day>>>> = yaml::sequence(node).map(|items| {
            items
                .iter()
                .map(|item| {
                    if yaml::is_null(item) {
                        Some(None)
                    } else {
                        yaml::text(item).and_then(Day::parse_iso).map(Some)
                    }
                })
                .collect()
        });
        match bounds.as_deref() {
            Some([Some(low), Some(high)]) => Some((*low, *high)),
            _ => {
                self.problem(
                    node,
                    "`keep_between` must be [FROM, TO]: two YYYY-MM-DD dates or null",
                );
                None
            }
        }
    }

    fn ratios(&mut self, fields: &Fields, name: &str) -> Option<Vec<(Option<String>, f64)>> {
        let Some(node) = fields.get("ratios") else {
            self.problem(
                fields.entry,
                format!("column {name:?} needs `ratios` (value: probability) or a fixed `value`"),
            );
            return None;
        };
        let Some(pairs) = yaml::mapping(node).filter(|p| !p.is_empty()) else {
            self.problem(node, "`ratios` must map each value to its probability");
            return None;
        };
        let mut ratios = Vec::with_capacity(pairs.len());
        for (key, value) in pairs {
            let label = if yaml::is_null(key) {
                None
            } else {
                yaml::scalar(key).map(|(t, _)| t.to_string())
            };
            match yaml::number(value) {
                Some(p) if p >= 0.0 => ratios.push((label, p)),
                _ => self.problem(value, "a ratio must be a probability (a number, 0 or more)"),
            }
        }
        let total: f64 = ratios.iter().map(|(_, p)| p).sum();
        if (total - 1.0).abs() > RATIO_TOLERANCE {
            self.problem(
                node,
                format!(
                    "the ratios of column {name:?} add up to {}, not 1",
                    crate::table::text::python_float(total)
                ),
            );
            return None;
        }
        Some(ratios)
    }

    fn incidence(&mut self, node: &Node) -> Option<f64> {
        match yaml::number(node) {
            Some(p) if (0.0..=1.0).contains(&p) => Some(p),
            _ => {
                self.problem(node, "`incidence` must be a number from 0 to 1");
                None
            }
        }
    }

    fn rate(&mut self, node: &Node) -> Option<Rate> {
        let rate = yaml::text(node).and_then(Rate::parse);
        if rate.is_none() {
            self.problem(
                node,
                "`rate` must be uniform, exponential_increase or universal",
            );
        }
        rate
    }

    fn format(&mut self, node: &Node) -> Option<DateFormat> {
        let format = yaml::text(node).and_then(DateFormat::parse);
        if format.is_none() {
            self.problem(node, "`format` must be YYYY, YYYY-MM or YYYY-MM-DD");
        }
        format
    }

    fn bound(&mut self, node: &Node, key: &str) -> Option<DateBound> {
        let bound = yaml::text(node).and_then(DateBound::parse);
        if bound.is_none() {
            self.problem(
                node,
                format!("`{key}` must be a YYYY-MM-DD date, today or index_date"),
            );
        }
        bound
    }

    fn day(&mut self, node: &Node, key: &str) -> Option<Day> {
        let day = yaml::text(node).and_then(Day::parse_iso);
        if day.is_none() {
            self.problem(node, format!("`{key}` must be a YYYY-MM-DD date"));
        }
        day
    }

    /// Checks what concerns several columns: unique names, one patient id,
    /// `missing_follows` targets, `index_date` defined where used.
    fn check_columns(&mut self, columns: &[Column], list: &Node, has_index_date: bool) {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for column in columns {
            if let Some(first) = seen.insert(&column.name, column.line) {
                self.problems.push(Problem {
                    line: column.line,
                    message: format!(
                        "column {:?} is listed twice (first at line {first})",
                        column.name
                    ),
                });
            }
        }
        let ids: Vec<&Column> = columns
            .iter()
            .filter(|c| c.values == Values::PatientId)
            .collect();
        match ids.as_slice() {
            [_] => {}
            [] => self.problem(
                list,
                "the schema lists no `type: patient_id` column; add one where the id goes (upstream puts `patient_id` last)",
            ),
            [_, second, ..] => self.problems.push(Problem {
                line: second.line,
                message: "only one column can be the patient id".into(),
            }),
        }
        let by_name: HashMap<&str, &Column> =
            columns.iter().map(|c| (c.name.as_str(), c)).collect();
        for column in columns {
            if let Missing::Follows(source) = &column.missing {
                let ok = by_name.get(source.as_str()).is_some_and(|s| {
                    matches!(s.values, Values::Date(_)) && !matches!(s.missing, Missing::Follows(_))
                });
                if !ok {
                    self.problems.push(Problem {
                        line: column.line,
                        message: format!(
                            "column {:?}: `missing_follows: {source}` must name a drawn date column of this schema (not a fixed value, nor one that itself follows another)",
                            column.name
                        ),
                    });
                }
            }
            if let Values::Date(spec) = &column.values
                && !has_index_date
                && (spec.earliest == DateBound::IndexDate || spec.latest == DateBound::IndexDate)
            {
                self.problems.push(Problem {
                    line: column.line,
                    message: format!(
                        "column {:?} uses index_date, but the schema has no `index_date: YYYY-MM-DD`",
                        column.name
                    ),
                });
            }
        }
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

    #[test]
    fn problems_name_their_lines() {
        let bad = SMALL
            .replace("type: flag", "type: flagg")
            .replace("    U: 0.01", "    U: 0.02")
            .replace("earliest: 1900-01-01", "earliest: 1900-13-01");
        let found = problems(&bad);
        let lines: Vec<usize> = found.iter().map(|p| p.line).collect();
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
        assert_eq!(found[0].line, 14);
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
