//! Reading schemas from YAML, collecting every problem with its line.

use std::collections::HashMap;

use super::{
    Column, DateBound, DateRate, DateSpec, Defaults, FixedKind, IntDistribution, Missing, Rate,
    Schema, TextKind, Values,
};
use crate::dummy::dates::{DateError, DateFormat, Day};
use crate::study::Measure;
use crate::yaml::{self, Node, Problem, Tags};

/// Parses and validates schema YAML.
pub(super) fn parse(text: &str) -> Result<Schema, Vec<Problem>> {
    let Some(root) = yaml::parse(text, Tags::Ignore)? else {
        return Err(vec![Problem::at(
            1,
            "the schema is empty; it needs `study_definition` and `columns`",
        )]);
    };
    let mut reader = Reader::default();
    let schema = reader.schema(&root);
    match (schema, reader.problems.is_empty()) {
        (Some(schema), true) => Ok(schema),
        _ => Err(reader.problems),
    }
}

/// The column of every patient that measures may use.
const POPULATION: &str = "population";

/// Ratios may differ from 1 by this much (numpy's `allclose`, as upstream).
const RATIO_TOLERANCE: f64 = 1e-5;

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
struct Fields<'b> {
    entry: &'b Node,
    map: Vec<(&'b str, &'b Node)>,
}

impl<'b> Fields<'b> {
    fn get(&self, key: &str) -> Option<&'b Node> {
        self.map.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }
}

/// Where a field is, to begin its messages: `column "bmi": `.
#[derive(Clone, Copy)]
enum Place<'a> {
    Top,
    Defaults,
    Column(&'a str),
}

impl std::fmt::Display for Place<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Place::Top => Ok(()),
            Place::Defaults => f.write_str("defaults: "),
            Place::Column(name) => write!(f, "column {name:?}: "),
        }
    }
}

/// A value as the user wrote it, for messages.
fn written(node: &Node) -> &str {
    match node.as_scalar() {
        Some(scalar) if !scalar.text.is_empty() => &scalar.text,
        Some(_) => "(nothing)",
        None if node.as_seq().is_some() => "(a list)",
        None => "(a mapping)",
    }
}

impl Reader {
    fn problem(&mut self, line: usize, message: impl Into<String>) {
        self.problems.push(Problem::at(line, message));
    }

    /// `{place}{key}: {value} {what}`, at the value's line.
    fn invalid(&mut self, place: Place, key: &str, node: &Node, what: impl std::fmt::Display) {
        self.problem(node.line, format!("{place}{key}: {} {what}", written(node)));
    }

    fn schema(&mut self, root: &Node) -> Option<Schema> {
        let Some(top) = root.as_map() else {
            self.problem(
                root.line,
                "the schema must be a mapping with `study_definition` and `columns`",
            );
            return None;
        };
        let mut study = None;
        let mut index_date = None;
        let mut defaults = Defaults::default();
        let mut columns_node = None;
        let mut measures_node = None;
        for entry in top {
            let value = &entry.value;
            match entry.key.text() {
                Some("study_definition") => match value.text() {
                    Some(name) => study = Some(name.to_string()),
                    None => self.problem(value.line, "`study_definition` must be a name"),
                },
                Some("index_date") => index_date = self.date(value, Place::Top, "index_date", ""),
                Some("defaults") => defaults = self.defaults(value),
                Some("columns") => columns_node = Some(value),
                Some("measures") => measures_node = Some(value),
                other => self.problem(
                    entry.line,
                    format!(
                        "unknown top-level field {:?}; expected study_definition, index_date, defaults, columns or measures",
                        other.unwrap_or("")
                    ),
                ),
            }
        }
        if study.is_none() {
            self.problem(root.line, "the schema needs `study_definition: NAME`");
        }
        let Some(columns_node) = columns_node else {
            self.problem(
                root.line,
                "the schema needs `columns:`, a list of output columns",
            );
            return None;
        };
        let Some(entries) = columns_node.as_seq() else {
            self.problem(columns_node.line, "`columns` must be a list of columns");
            return None;
        };
        let columns: Vec<Column> = entries
            .iter()
            .filter_map(|entry| self.column(entry, &defaults))
            .collect();
        self.check_columns(&columns, columns_node, index_date.is_some());
        let measures = measures_node.map_or_else(Vec::new, |node| self.measures(node, &columns));
        Some(Schema {
            study_definition: study?,
            index_date,
            defaults,
            columns,
            measures,
        })
    }

    /// The `measures:` list: each a `Measure(...)` of the study definition,
    /// its columns among the schema's (or `population`).
    fn measures(&mut self, node: &Node, columns: &[Column]) -> Vec<Measure> {
        let Some(items) = node.as_seq() else {
            self.problem(node.line, "`measures` must be a list of measures");
            return Vec::new();
        };
        items
            .iter()
            .filter_map(|item| self.measure(item, columns))
            .collect()
    }

    fn measure(&mut self, item: &Node, columns: &[Column]) -> Option<Measure> {
        let Some(map) = item.as_map() else {
            self.problem(
                item.line,
                "a measure must be a mapping with id, numerator and denominator",
            );
            return None;
        };
        let before = self.problems.len();
        let text = |reader: &mut Reader, key: &str| -> Option<String> {
            match item.get(key) {
                Some(value) => match value.as_str() {
                    Some(text) => Some(text.to_owned()),
                    None => {
                        reader
                            .problem(value.line, format!("measure `{key}` must be a column name"));
                        None
                    }
                },
                None => {
                    reader.problem(item.line, format!("a measure needs `{key}`"));
                    None
                }
            }
        };
        let id = text(self, "id");
        let numerator = text(self, "numerator");
        let denominator = text(self, "denominator");
        let group_by = match item.get("group_by") {
            None => Vec::new(),
            Some(value) if value.is_null() => Vec::new(),
            Some(value) => match (value.as_str(), value.as_seq()) {
                (Some(one), _) => vec![one.to_owned()],
                (_, Some(many)) if many.iter().all(|n| n.as_str().is_some()) => many
                    .iter()
                    .filter_map(|n| n.as_str().map(str::to_owned))
                    .collect(),
                _ => {
                    self.problem(
                        value.line,
                        "measure `group_by` must be a column name or a list of them",
                    );
                    Vec::new()
                }
            },
        };
        let small_number_suppression = match item.get("small_number_suppression") {
            None => false,
            Some(value) => match value.as_scalar().map(|s| s.resolved) {
                Some(yaml::Resolved::Bool(b)) => b,
                _ => {
                    self.problem(
                        value.line,
                        "measure `small_number_suppression` must be true or false",
                    );
                    false
                }
            },
        };
        for entry in map {
            let known = [
                "id",
                "numerator",
                "denominator",
                "group_by",
                "small_number_suppression",
            ];
            if !known.contains(&&*entry.key.text) {
                self.problem(
                    entry.line,
                    format!(
                        "unknown measure field {:?}; expected {}",
                        entry.key.text,
                        known.join(", ")
                    ),
                );
            }
        }
        let (id, numerator, denominator) = (id?, numerator?, denominator?);
        if !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') || id.is_empty() {
            self.problem(
                item.line,
                format!("measure id {id:?} may hold only letters, digits and _"),
            );
        }
        let known = |name: &str| name == POPULATION || columns.iter().any(|c| c.name == name);
        for name in [&numerator, &denominator].into_iter().chain(&group_by) {
            if !known(name) {
                self.problem(
                    item.line,
                    format!("measure {id}: {name:?} is not a column of the schema"),
                );
            }
        }
        if group_by != [POPULATION] {
            for (role, name) in [("numerator", &numerator), ("denominator", &denominator)] {
                if group_by.contains(name) {
                    self.problem(
                        item.line,
                        format!(
                            "measure {id}: column {name:?} appears in both {role} and group_by"
                        ),
                    );
                }
            }
        }
        (self.problems.len() == before).then_some(Measure {
            id,
            numerator,
            denominator,
            group_by,
            small_number_suppression,
        })
    }

    fn defaults(&mut self, node: &Node) -> Defaults {
        let mut d = Defaults::default();
        let Some(map) = node.as_map() else {
            self.problem(node.line, "`defaults` must be a mapping");
            return d;
        };
        for entry in map {
            let value = &entry.value;
            let before = self.problems.len();
            let known = match entry.key.text() {
                Some("incidence") => {
                    d.incidence = self.incidence(value, Place::Defaults);
                    "incidence"
                }
                Some("rate") => {
                    d.rate = self.rate(value);
                    "rate"
                }
                Some("earliest") => {
                    d.earliest = self.bound(value, Place::Defaults, "earliest");
                    "earliest"
                }
                Some("latest") => {
                    d.latest = self.bound(value, Place::Defaults, "latest");
                    "latest"
                }
                Some("format") => {
                    d.format = self.format(value);
                    "format"
                }
                other => {
                    self.problem(
                        entry.line,
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
        let Some(pairs) = entry.as_map() else {
            self.problem(
                entry.line,
                "each column must be a mapping with `name` and `type`",
            );
            return None;
        };
        let mut map = Vec::new();
        for pair in pairs {
            match pair.key.text() {
                Some(k) if COLUMN_FIELDS.contains(&k) => map.push((k, &pair.value)),
                other => self.problem(
                    pair.line,
                    format!(
                        "unknown column field {:?}; expected one of {}",
                        other.unwrap_or(""),
                        COLUMN_FIELDS.join(", ")
                    ),
                ),
            }
        }
        let fields = Fields { entry, map };
        let name = match fields.get("name").map(|n| (n, n.text())) {
            Some((_, Some(name))) if !name.is_empty() => name.to_string(),
            Some((node, _)) => {
                self.problem(node.line, "`name` must be a column name");
                return None;
            }
            None => {
                self.problem(entry.line, "this column has no `name`");
                return None;
            }
        };
        let place = Place::Column(&name);
        let Some(type_node) = fields.get("type") else {
            self.problem(
                entry.line,
                format!("column {name:?} has no `type` ({TYPES})"),
            );
            return None;
        };
        let type_name = type_node.text().unwrap_or("");
        let incidence = match fields.get("incidence") {
            Some(node) => self.incidence(node, place),
            None => defaults.incidence,
        };
        let rate = match fields.get("rate") {
            Some(node) => self.rate(node),
            None => defaults.rate,
        };
        let follows = fields
            .get("missing_follows")
            .and_then(|node| match node.text() {
                Some(source) => Some(source.to_string()),
                None => {
                    self.problem(node.line, "`missing_follows` must name a date column");
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
                    type_node.line,
                    format!("column {name:?} has unknown type {other:?}; use {TYPES}"),
                );
                return None;
            }
        };
        let values = match (fields.get("value"), fixed_kind) {
            (_, None) => Some(Values::PatientId),
            (Some(node), Some(kind)) => self.fixed(node, place, kind),
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
                    entry.line,
                    format!(
                        "column {name:?} needs an `incidence` (share of rows with a value), `rate: universal`, or a default incidence"
                    ),
                );
                return None;
            }
        };
        Some(Column {
            name,
            line: entry.line,
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
                    node.line,
                    format!("column {name:?}: `{key}` does not apply to this type of column"),
                );
            }
        }
    }

    fn fixed(&mut self, node: &Node, place: Place, kind: FixedKind) -> Option<Values> {
        let Some(value) = node.as_scalar().map(|s| s.text.to_string()) else {
            self.problem(node.line, "`value` must be a single value");
            return None;
        };
        let invalid = match kind {
            FixedKind::Flag if !matches!(value.as_str(), "0" | "1") => Some("is not 0 or 1".into()),
            FixedKind::Int if value.parse::<i64>().is_err() => Some("is not a whole number".into()),
            FixedKind::Float if yaml::parse_number(&value).is_none() => {
                Some("is not a number".into())
            }
            FixedKind::Date(_) => Day::parse_checked(&value).err().map(|e| e.to_string()),
            _ => None,
        };
        if let Some(what) = invalid {
            self.invalid(place, "value", node, what);
            return None;
        }
        Some(Values::Fixed { kind, value })
    }

    fn int_distribution(&mut self, fields: &Fields, name: &str) -> Option<IntDistribution> {
        let Some(node) = fields.get("distribution") else {
            self.problem(
                fields.entry.line,
                format!(
                    "int column {name:?} needs a `distribution`: normal (with mean, stddev), poisson (with mean) or population_ages"
                ),
            );
            return None;
        };
        match node.text() {
            Some("normal") => {
                let (mean, stddev) = self.mean_stddev(fields, name)?;
                Some(IntDistribution::Normal { mean, stddev })
            }
            Some("poisson") => {
                let mean = self.required_number(fields, "mean", name)?;
                if mean < 0.0 {
                    let what = "is not a poisson mean (it must be 0 or more)";
                    self.invalid(Place::Column(name), "mean", fields.get("mean")?, what);
                    return None;
                }
                Some(IntDistribution::Poisson { mean })
            }
            Some("population_ages") => Some(IntDistribution::PopulationAges),
            _ => {
                self.problem(
                    node.line,
                    "unknown int distribution; use normal, poisson or population_ages",
                );
                None
            }
        }
    }

    fn float_distribution(&mut self, fields: &Fields, name: &str) -> Option<Values> {
        match fields.get("distribution").map(|n| (n, n.text())) {
            Some((_, Some("normal"))) => {
                let (mean, stddev) = self.mean_stddev(fields, name)?;
                Some(Values::Float { mean, stddev })
            }
            Some((node, _)) => {
                self.problem(node.line, "unknown float distribution; use normal");
                None
            }
            None => {
                self.problem(
                    fields.entry.line,
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
            let what = "is not a standard deviation (it must be 0 or more)";
            self.invalid(Place::Column(name), "stddev", node, what);
            return None;
        }
        Some((mean?, stddev?))
    }

    fn required_number(&mut self, fields: &Fields, key: &str, name: &str) -> Option<f64> {
        match fields.get(key) {
            Some(node) => {
                let value = node.number();
                if value.is_none() {
                    self.invalid(Place::Column(name), key, node, "is not a number");
                }
                value
            }
            None => {
                self.problem(fields.entry.line, format!("column {name:?} needs `{key}`"));
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
        let place = Place::Column(name);
        let mut bound = |key: &str, default: Option<DateBound>| match fields.get(key) {
            Some(node) => self.bound(node, place, key),
            None => {
                if default.is_none() && !self.bad_defaults.contains(&key) {
                    self.problem(
                        fields.entry.line,
                        format!("date column {name:?} needs `{key}` (or a default {key})"),
                    );
                }
                default
            }
        };
        let earliest = bound("earliest", defaults.earliest);
        let latest = bound("latest", defaults.latest);
        let keep_between = match fields.get("keep_between") {
            Some(node) => self.keep_between(node, place)?,
            None => (None, None),
        };
        let (earliest, latest) = (earliest?, latest?);
        if let (DateBound::Day(e), DateBound::Day(l)) = (earliest, latest)
            && l < e
        {
            self.problem(
                fields.get("latest").unwrap_or(fields.entry).line,
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

    fn keep_between(&mut self, node: &Node, place: Place) -> Option<(Option<Day>, Option<Day>)> {
        let items = match node.as_seq() {
            Some(items @ [_, _]) => items,
            _ => {
                self.problem(
                    node.line,
                    "`keep_between` must be [FROM, TO]: two YYYY-MM-DD dates or null",
                );
                return None;
            }
        };
        let mut day = |item: &Node| {
            if item.is_null() {
                Some(None)
            } else {
                self.date(item, place, "keep_between", " or null").map(Some)
            }
        };
        let (low, high) = (day(&items[0]), day(&items[1]));
        Some((low?, high?))
    }

    fn ratios(&mut self, fields: &Fields, name: &str) -> Option<Vec<(Option<String>, f64)>> {
        let Some(node) = fields.get("ratios") else {
            self.problem(
                fields.entry.line,
                format!("column {name:?} needs `ratios` (value: probability) or a fixed `value`"),
            );
            return None;
        };
        let Some(pairs) = node.as_map().filter(|p| !p.is_empty()) else {
            self.problem(node.line, "`ratios` must map each value to its probability");
            return None;
        };
        let mut ratios = Vec::with_capacity(pairs.len());
        for pair in pairs {
            let label = pair.key.text().map(str::to_string);
            match pair.value.number() {
                Some(p) if p >= 0.0 => ratios.push((label, p)),
                _ => self.invalid(
                    Place::Column(name),
                    &format!("ratios: {}", pair.key.text),
                    &pair.value,
                    "is not a probability (a number, 0 or more)",
                ),
            }
        }
        let total: f64 = ratios.iter().map(|(_, p)| p).sum();
        if (total - 1.0).abs() > RATIO_TOLERANCE {
            self.problem(
                node.line,
                format!(
                    "the ratios of column {name:?} add up to {}, not 1",
                    crate::table::text::python_float(total)
                ),
            );
            return None;
        }
        Some(ratios)
    }

    fn incidence(&mut self, node: &Node, place: Place) -> Option<f64> {
        match node.number() {
            Some(p) if (0.0..=1.0).contains(&p) => Some(p),
            _ => {
                self.invalid(place, "incidence", node, "is not a number from 0 to 1");
                None
            }
        }
    }

    fn rate(&mut self, node: &Node) -> Option<Rate> {
        let rate = node.text().and_then(Rate::parse);
        if rate.is_none() {
            self.problem(
                node.line,
                "`rate` must be uniform, exponential_increase or universal",
            );
        }
        rate
    }

    fn format(&mut self, node: &Node) -> Option<DateFormat> {
        let format = node.text().and_then(DateFormat::parse);
        if format.is_none() {
            self.problem(node.line, "`format` must be YYYY, YYYY-MM or YYYY-MM-DD");
        }
        format
    }

    fn bound(&mut self, node: &Node, place: Place, key: &str) -> Option<DateBound> {
        match node.text() {
            Some("today") => Some(DateBound::Today),
            Some("index_date") => Some(DateBound::IndexDate),
            _ => self
                .date(node, place, key, ", today or index_date")
                .map(DateBound::Day),
        }
    }

    /// A `YYYY-MM-DD` date; `others` lists what else the field accepts.
    fn date(&mut self, node: &Node, place: Place, key: &str, others: &str) -> Option<Day> {
        match node.text().map(Day::parse_checked) {
            Some(Ok(day)) => Some(day),
            Some(Err(DateError::Layout)) | None => {
                let what = format!("is not a YYYY-MM-DD date{others}");
                self.invalid(place, key, node, what);
                None
            }
            Some(Err(e)) => {
                self.invalid(place, key, node, e);
                None
            }
        }
    }

    /// Checks what concerns several columns: unique names, one patient id,
    /// `missing_follows` targets, `index_date` defined where used.
    fn check_columns(&mut self, columns: &[Column], list: &Node, has_index_date: bool) {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for column in columns {
            if let Some(first) = seen.insert(&column.name, column.line) {
                self.problem(
                    column.line,
                    format!(
                        "column {:?} is listed twice (first at line {first})",
                        column.name
                    ),
                );
            }
        }
        let ids: Vec<&Column> = columns
            .iter()
            .filter(|c| c.values == Values::PatientId)
            .collect();
        match ids.as_slice() {
            [_] => {}
            [] => self.problem(
                list.line,
                "the schema lists no `type: patient_id` column; add one where the id goes (upstream puts `patient_id` last)",
            ),
            [_, second, ..] => {
                self.problem(second.line, "only one column can be the patient id");
            }
        }
        let by_name: HashMap<&str, &Column> =
            columns.iter().map(|c| (c.name.as_str(), c)).collect();
        for column in columns {
            if let Missing::Follows(source) = &column.missing {
                let ok = by_name.get(source.as_str()).is_some_and(|s| {
                    matches!(s.values, Values::Date(_)) && !matches!(s.missing, Missing::Follows(_))
                });
                if !ok {
                    self.problem(
                        column.line,
                        format!(
                            "column {:?}: `missing_follows: {source}` must name a drawn date column of this schema (not a fixed value, nor one that itself follows another)",
                            column.name
                        ),
                    );
                }
            }
            if let Values::Date(spec) = &column.values
                && !has_index_date
                && (spec.earliest == DateBound::IndexDate || spec.latest == DateBound::IndexDate)
            {
                self.problem(
                    column.line,
                    format!(
                        "column {:?} uses index_date, but the schema has no `index_date: YYYY-MM-DD`",
                        column.name
                    ),
                );
            }
        }
    }
}
