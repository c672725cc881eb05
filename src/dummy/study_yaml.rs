//! Importing `cohortextractor dump_study_yaml` output as a schema.
//!
//! The dump lists every variable (`covariate_definitions`, keys sorted
//! alphabetically) with its function, arguments and `return_expectations`
//! (already evaluated: `today` appears as the day of the dump). It lacks the
//! study's `default_expectations` and its definition order, so those come
//! from options: [`Options::defaults`] and [`Options::order`].

use std::collections::{HashMap, HashSet};

use super::dates::{DateFormat, Day};
use super::schema::{
    Column, DateBound, DateRate, DateSpec, Defaults, FixedKind, IntDistribution, Missing, Rate,
    Schema, TextKind, Values,
};
use crate::yaml::{self, Node, Problem, Tags};

/// How to fill in what the dump lacks.
#[derive(Debug, Default)]
pub struct Options {
    /// The study definition's name (the dump's file stem by default).
    pub name: String,
    /// The study's `default_expectations`, as YAML (a Python dict literal of
    /// strings and numbers is valid YAML).
    pub defaults: Option<String>,
    /// The study's `index_date`.
    pub index_date: Option<Day>,
    /// The day the dump was made: expectation dates equal to it were
    /// `today` in the study definition and become `today` again.
    pub dumped_on: Option<Day>,
    /// Column order (an existing extract's header); upstream's rule when
    /// absent.
    pub order: Option<Vec<String>>,
    /// The study definition's order of its variables, which upstream's
    /// rule follows within each group (alphabetical order when absent: the
    /// dump sorts its keys).
    pub definition_order: Option<Vec<String>>,
    /// The study definition's measures (the dump has none).
    pub measures: Vec<crate::study::Measure>,
}

/// What went wrong, in which input.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The `--defaults` text.
    #[error("--defaults: {}", describe(.0))]
    Defaults(Vec<Problem>),
    /// The dump itself.
    #[error("{}", describe(.0))]
    Dump(Vec<Problem>),
    /// The order given does not list the study's columns.
    #[error("--order-from: {0}")]
    Order(String),
}

fn describe(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(super::schema::located)
        .collect::<Vec<_>>()
        .join("\n  ")
}

/// Functions whose dummy values come from elsewhere; not supported.
const UNSUPPORTED: [&str; 3] = [
    "aggregate_of",
    "with_value_from_file",
    "which_exist_in_file",
];

/// Converts dump text into a schema.
pub fn import(text: &str, options: &Options) -> Result<Schema, ImportError> {
    let defaults_doc = match &options.defaults {
        Some(text) => yaml::parse(text, Tags::Ignore).map_err(ImportError::Defaults)?,
        None => None,
    };
    let defaults = match &defaults_doc {
        Some(node) => Expectations::read(node).map_err(ImportError::Defaults)?,
        None => Expectations::default(),
    };
    let root = yaml::parse(text, Tags::Ignore)
        .map_err(ImportError::Dump)?
        .ok_or_else(|| ImportError::Dump(vec![Problem::at(1, "the dump is empty")]))?;
    let mut importer = Importer {
        options,
        defaults: &defaults,
        problems: Vec::new(),
    };
    let columns = importer.columns(&root);
    if !importer.problems.is_empty() {
        return Err(ImportError::Dump(importer.problems));
    }
    let columns = order(
        columns,
        options.order.as_deref(),
        options.definition_order.as_deref(),
    )?;
    let mut schema_defaults = Defaults::default();
    let mut problems = Vec::new();
    if let Some(node) = defaults.incidence {
        schema_defaults.incidence = node.number();
    }
    if let Some(node) = defaults.rate {
        schema_defaults.rate = node.text().and_then(Rate::parse);
    }
    for (node, slot) in [
        (defaults.earliest, &mut schema_defaults.earliest),
        (defaults.latest, &mut schema_defaults.latest),
    ] {
        if let Some(node) = node {
            *slot = bound(node, options, &mut problems);
        }
    }
    if !problems.is_empty() {
        return Err(ImportError::Defaults(problems));
    }
    Ok(Schema {
        study_definition: options.name.clone(),
        index_date: options.index_date,
        defaults: schema_defaults,
        columns,
        measures: options.measures.clone(),
    })
}

fn bound(node: &Node, options: &Options, problems: &mut Vec<Problem>) -> Option<DateBound> {
    let parsed = match node.text() {
        Some("today") => Some(DateBound::Today),
        Some("index_date") => Some(DateBound::IndexDate),
        Some(text) => Day::parse_iso(text).map(|day| {
            if options.dumped_on == Some(day) {
                DateBound::Today
            } else {
                DateBound::Day(day)
            }
        }),
        None => None,
    };
    if parsed.is_none() {
        problems.push(Problem::at(
            node.line,
            "a date expectation must be YYYY-MM-DD, today or index_date",
        ));
    }
    if parsed == Some(DateBound::IndexDate) && options.index_date.is_none() {
        problems.push(Problem::at(
            node.line,
            "index_date is used: give the study's index date with --index-date",
        ));
    }
    parsed
}

/// The parts of a `return_expectations` (or default) mapping, each
/// overriding the defaults on its own, as upstream's recursive merge does.
#[derive(Default, Clone, Copy)]
struct Expectations<'b> {
    incidence: Option<&'b Node>,
    rate: Option<&'b Node>,
    earliest: Option<&'b Node>,
    latest: Option<&'b Node>,
    int: Option<&'b Node>,
    float: Option<&'b Node>,
    ratios: Option<&'b Node>,
}

impl<'b> Expectations<'b> {
    fn read(node: &'b Node) -> Result<Self, Vec<Problem>> {
        let mut e = Expectations::default();
        if node.is_null() {
            return Ok(e);
        }
        let Some(map) = node.as_map() else {
            return Err(vec![Problem::at(
                node.line,
                "expectations must be a mapping",
            )]);
        };
        for entry in map {
            let value = &entry.value;
            match entry.key.text() {
                Some("incidence") => e.incidence = Some(value),
                Some("rate") => e.rate = Some(value),
                Some("date") => {
                    e.earliest = value.get("earliest");
                    e.latest = value.get("latest");
                }
                Some("int") => e.int = Some(value),
                Some("float") => e.float = Some(value),
                Some("category") => e.ratios = value.get("ratios"),
                Some("bool") => {}
                other => {
                    return Err(vec![Problem::at(
                        entry.line,
                        format!("unknown expectation {:?}", other.unwrap_or("")),
                    )]);
                }
            }
        }
        Ok(e)
    }

    fn over(self, defaults: &Expectations<'b>) -> Self {
        Expectations {
            incidence: self.incidence.or(defaults.incidence),
            rate: self.rate.or(defaults.rate),
            earliest: self.earliest.or(defaults.earliest),
            latest: self.latest.or(defaults.latest),
            int: self.int.or(defaults.int),
            float: self.float.or(defaults.float),
            ratios: self.ratios.or(defaults.ratios),
        }
    }
}

/// A variable's column type as upstream types it for dummy data.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Date,
    Bool,
    Int,
    Float,
    Str,
}

/// Upstream's column groups, in output order.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Group {
    Dates,
    Others,
    Fixed,
    PatientId,
}

struct Importer<'o, 'b> {
    options: &'o Options,
    defaults: &'o Expectations<'b>,
    problems: Vec<Problem>,
}

impl<'b> Importer<'_, 'b> {
    fn columns(&mut self, root: &'b Node) -> Vec<(Group, Column)> {
        let Some(definitions) = root.get("covariate_definitions").and_then(Node::as_map) else {
            self.problems.push(Problem::at(
                root.line,
                "no `covariate_definitions`: is this the output of `cohortextractor dump_study_yaml`?",
            ));
            return Vec::new();
        };
        let hidden: HashSet<&str> = root
            .get("hidden_columns")
            .and_then(Node::as_seq)
            .map(|items| items.iter().filter_map(Node::text).collect())
            .unwrap_or_default();
        let by_name: HashMap<&str, &Node> = definitions
            .iter()
            .filter_map(|e| Some((e.key.text()?, &e.value)))
            .collect();
        let written = |name: &str| name != "population" && !hidden.contains(name);
        // Sources of `include_date_of_match` companions: missing where the
        // companion date is empty.
        let date_of: HashMap<&str, &str> = definitions
            .iter()
            .filter_map(|e| {
                let (name, v) = (e.key.text()?, &e.value);
                let args = v.get("args")?;
                let is_value_from = v.get("type").and_then(Node::text) == Some("value_from");
                let source = args.get("source").and_then(Node::text)?;
                (is_value_from && written(name)).then_some((source, name))
            })
            .collect();
        let mut columns = Vec::new();
        for entry in definitions {
            let Some(name) = entry.key.text() else {
                self.problems
                    .push(Problem::at(entry.line, "a variable name must be text"));
                continue;
            };
            if !written(name) {
                continue;
            }
            if let Some(column) = self.column(name, &entry.value, &by_name, date_of.get(name)) {
                columns.push(column);
            }
        }
        columns.push((
            Group::PatientId,
            Column {
                name: "patient_id".into(),
                line: 0,
                values: Values::PatientId,
                missing: Missing::Never,
            },
        ));
        columns
    }

    fn column(
        &mut self,
        name: &str,
        definition: &'b Node,
        by_name: &HashMap<&str, &'b Node>,
        date_column: Option<&&str>,
    ) -> Option<(Group, Column)> {
        let function = definition.get("type").and_then(Node::text).unwrap_or("");
        let Some(args) = definition.get("args") else {
            self.problems.push(Problem::at(
                definition.line,
                format!("variable {name:?} has no `args`"),
            ));
            return None;
        };
        let arg = |key: &str| args.get(key).filter(|n| !n.is_null());
        let arg_text = |key: &str| arg(key).and_then(Node::text);
        if UNSUPPORTED.contains(&function) {
            self.problems.push(Problem::at(
                definition.line,
                format!(
                    "variable {name:?} uses {function}, which cohortkit cannot make dummy data for yet; write its column into the schema by hand"
                ),
            ));
            return None;
        }
        let kind = match (arg_text("column_type"), arg_text("returning"), function) {
            (_, Some("index_of_multiple_deprivation" | "rural_urban_classification"), _) => {
                Kind::Str
            }
            (Some("date"), _, "categorised_as") => Kind::Str,
            (Some("date"), _, _) => Kind::Date,
            (Some("bool"), _, _) => Kind::Bool,
            (Some("int"), _, _) => Kind::Int,
            (Some("float"), _, _) => Kind::Float,
            (Some("str"), _, _) => Kind::Str,
            (other, _, _) => {
                self.problems.push(Problem::at(
                    definition.line,
                    format!(
                        "variable {name:?} has column_type {:?}; expected date, bool, int, float or str",
                        other.unwrap_or("")
                    ),
                ));
                return None;
            }
        };
        let line = definition.line;
        let date_format = match arg_text("date_format") {
            Some(text) => DateFormat::parse(text).or_else(|| {
                self.problems.push(Problem::at(
                    arg("date_format")?.line,
                    "date_format must be YYYY, YYYY-MM or YYYY-MM-DD",
                ));
                None
            })?,
            None => DateFormat::Year,
        };
        if function == "fixed_value" {
            let value = arg("value")
                .and_then(Node::as_scalar)
                .map(|s| s.text.to_string());
            let fixed_kind = match kind {
                Kind::Date => FixedKind::Date(date_format),
                Kind::Bool => FixedKind::Flag,
                Kind::Int => FixedKind::Int,
                Kind::Float => FixedKind::Float,
                Kind::Str => FixedKind::Text(TextKind::Category),
            };
            let Some(value) = value else {
                self.problems.push(Problem::at(
                    args.line,
                    format!("fixed_value {name:?} has no value"),
                ));
                return None;
            };
            return Some((
                Group::Fixed,
                Column {
                    name: name.into(),
                    line,
                    values: Values::Fixed {
                        kind: fixed_kind,
                        value,
                    },
                    missing: Missing::Never,
                },
            ));
        }
        // A `value_from` date takes its expectations from its source.
        let own = match (function, arg_text("source")) {
            ("value_from", Some(source)) => by_name
                .get(source)
                .and_then(|d| d.get("args"))
                .and_then(|a| a.get("return_expectations"))
                .or(arg("return_expectations")),
            _ => arg("return_expectations"),
        };
        let expectations = match own {
            Some(node) => match Expectations::read(node) {
                Ok(e) => e,
                Err(problems) => {
                    self.problems.extend(problems);
                    return None;
                }
            },
            None => Expectations::default(),
        }
        .over(self.defaults);
        let rate = match expectations.rate {
            Some(node) => node.text().and_then(Rate::parse).or_else(|| {
                self.problems.push(Problem::at(
                    node.line,
                    "rate must be uniform, exponential_increase or universal",
                ));
                None
            })?,
            // Upstream's default when neither the variable nor the study says.
            None => Rate::ExponentialIncrease,
        };
        let missing = match (date_column, rate, expectations.incidence) {
            (Some(date), _, _) => Missing::Follows(date.to_string()),
            (None, Rate::Universal, _) => Missing::Never,
            (None, _, Some(node)) => match node.number() {
                Some(p) if (0.0..=1.0).contains(&p) => Missing::Incidence(p),
                _ => {
                    self.problems.push(Problem::at(
                        node.line,
                        "incidence must be a number from 0 to 1",
                    ));
                    return None;
                }
            },
            (None, _, None) => {
                self.problems.push(Problem::at(
                    definition.line,
                    format!(
                        "variable {name:?} has no incidence (nor a `universal` rate): give a default with --defaults '{{incidence: 0.5}}'"
                    ),
                ));
                return None;
            }
        };
        let values = match kind {
            Kind::Bool => Values::Flag,
            Kind::Int => Values::Int(self.int(name, definition, expectations.int)?),
            Kind::Float => self.float(name, definition, expectations.float)?,
            Kind::Str => Values::Text {
                kind: if arg_text("returning") == Some("code") {
                    TextKind::Code
                } else {
                    TextKind::Category
                },
                ratios: self.ratios(name, definition, expectations.ratios)?,
            },
            Kind::Date => Values::Date(self.date(
                name,
                definition,
                &expectations,
                rate,
                date_format,
                arg("between"),
            )?),
        };
        let group = if kind == Kind::Date {
            Group::Dates
        } else {
            Group::Others
        };
        Some((
            group,
            Column {
                name: name.into(),
                line,
                values,
                missing,
            },
        ))
    }

    fn number(&mut self, node: &Node, key: &str) -> Option<f64> {
        let value = node.get(key).and_then(Node::number);
        if value.is_none() {
            self.problems
                .push(Problem::at(node.line, format!("expected a number `{key}`")));
        }
        value
    }

    fn int(&mut self, name: &str, at: &Node, node: Option<&Node>) -> Option<IntDistribution> {
        let Some(node) = node else {
            self.problems.push(Problem::at(
                at.line,
                format!("int variable {name:?} has no `int` expectation (distribution)"),
            ));
            return None;
        };
        match node.get("distribution").and_then(Node::text) {
            Some("normal") => Some(IntDistribution::Normal {
                mean: self.number(node, "mean")?,
                stddev: self.number(node, "stddev")?,
            }),
            Some("poisson") => Some(IntDistribution::Poisson {
                mean: self.number(node, "mean")?,
            }),
            Some("population_ages") => Some(IntDistribution::PopulationAges),
            _ => {
                self.problems.push(Problem::at(
                    node.line,
                    "int distributions are normal, poisson or population_ages",
                ));
                None
            }
        }
    }

    fn float(&mut self, name: &str, at: &Node, node: Option<&Node>) -> Option<Values> {
        let Some(node) = node else {
            self.problems.push(Problem::at(
                at.line,
                format!("float variable {name:?} has no `float` expectation (distribution)"),
            ));
            return None;
        };
        if node.get("distribution").and_then(Node::text) != Some("normal") {
            self.problems
                .push(Problem::at(node.line, "float distributions are normal"));
            return None;
        }
        Some(Values::Float {
            mean: self.number(node, "mean")?,
            stddev: self.number(node, "stddev")?,
        })
    }

    fn ratios(
        &mut self,
        name: &str,
        at: &Node,
        node: Option<&Node>,
    ) -> Option<Vec<(Option<String>, f64)>> {
        let Some(pairs) = node.and_then(Node::as_map) else {
            self.problems.push(Problem::at(
                at.line,
                format!("text variable {name:?} has no `category: ratios` expectation"),
            ));
            return None;
        };
        let mut ratios = Vec::new();
        for pair in pairs {
            let label = pair.key.text().map(str::to_string);
            match pair.value.number() {
                Some(p) => ratios.push((label, p)),
                None => {
                    self.problems
                        .push(Problem::at(pair.value.line, "a ratio must be a number"));
                    return None;
                }
            }
        }
        Some(ratios)
    }

    fn date(
        &mut self,
        name: &str,
        at: &Node,
        e: &Expectations,
        rate: Rate,
        format: DateFormat,
        between: Option<&Node>,
    ) -> Option<DateSpec> {
        let mut bound_of = |node: Option<&Node>, key: &str| match node {
            Some(node) => bound(node, self.options, &mut self.problems),
            None => {
                self.problems.push(Problem::at(
                    at.line,
                    format!("{name} must define a date[{key}] expectation"),
                ));
                None
            }
        };
        let earliest = bound_of(e.earliest, "earliest");
        let latest = bound_of(e.latest, "latest");
        // Only static `between` dates filter dummy data (upstream ignores
        // expressions such as `covid_vacc_date + 19 days`).
        let keep = |i: usize| {
            between
                .and_then(Node::as_seq)
                .and_then(|items| items.get(i))
                .and_then(Node::text)
                .and_then(Day::parse_iso)
        };
        Some(DateSpec {
            earliest: earliest?,
            latest: latest?,
            rate: if rate == Rate::ExponentialIncrease {
                DateRate::ExponentialIncrease
            } else {
                DateRate::Uniform
            },
            format,
            keep_between: (keep(0), keep(1)),
        })
    }
}

/// Puts columns in `order` when given, else upstream's: dates, the rest,
/// fixed values, then `patient_id`, each group in dump (alphabetical) order.
fn order(
    mut columns: Vec<(Group, Column)>,
    wanted: Option<&[String]>,
    definition: Option<&[String]>,
) -> Result<Vec<Column>, ImportError> {
    let Some(wanted) = wanted else {
        let place = |name: &str| {
            definition
                .and_then(|d| d.iter().position(|n| n == name))
                .unwrap_or(usize::MAX)
        };
        columns.sort_by_key(|(group, c)| (*group, place(&c.name)));
        return Ok(columns.into_iter().map(|(_, c)| c).collect());
    };
    let mut by_name: HashMap<String, Column> = columns
        .into_iter()
        .map(|(_, c)| (c.name.clone(), c))
        .collect();
    let mut ordered = Vec::with_capacity(by_name.len());
    let mut unknown = Vec::new();
    for name in wanted {
        match by_name.remove(name) {
            Some(column) => ordered.push(column),
            None => unknown.push(name.as_str()),
        }
    }
    let mut absent: Vec<&str> = by_name.keys().map(String::as_str).collect();
    absent.sort_unstable();
    if !unknown.is_empty() || !absent.is_empty() {
        let mut message = String::from("the header does not list the study's columns:");
        if !unknown.is_empty() {
            message += &format!(" not written by the study: {}.", unknown.join(", "));
        }
        if !absent.is_empty() {
            message += &format!(" missing from the header: {}.", absent.join(", "));
        }
        return Err(ImportError::Order(message));
    }
    Ok(ordered)
}
