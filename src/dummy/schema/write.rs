//! Writing schemas as YAML, in the layout `docs/generate.md` documents.

use std::borrow::Cow;
use std::fmt::Write as _;

use super::{
    Column, DateRate, DateSpec, Defaults, FixedKind, IntDistribution, Missing, Schema, Values,
};
use crate::dummy::dates::Day;
use crate::table::text::python_float;
use crate::yaml;

/// `schema` as YAML, `header` as comments.
pub(super) fn schema(schema: &Schema, header: &str) -> String {
    let mut out = String::new();
    for line in header.lines() {
        let _ = writeln!(out, "# {line}");
    }
    let _ = writeln!(
        out,
        "study_definition: {}",
        yaml::quote(&schema.study_definition)
    );
    if let Some(day) = schema.index_date {
        let _ = writeln!(out, "index_date: {day}");
    }
    let d = &schema.defaults;
    if *d != Defaults::default() {
        out.push_str("defaults:\n");
        if let Some(p) = d.incidence {
            let _ = writeln!(out, "  incidence: {}", format_number(p));
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
    for column in &schema.columns {
        write_column(&mut out, column);
    }
    if !schema.measures.is_empty() {
        out.push_str("measures:\n");
    }
    for measure in &schema.measures {
        let _ = writeln!(out, "- id: {}", yaml::quote(&measure.id));
        field(&mut out, "numerator", &yaml::quote(&measure.numerator));
        field(&mut out, "denominator", &yaml::quote(&measure.denominator));
        if !measure.group_by.is_empty() {
            let names: Vec<Cow<str>> = measure.group_by.iter().map(|n| yaml::quote(n)).collect();
            field(&mut out, "group_by", &format!("[{}]", names.join(", ")));
        }
        if measure.small_number_suppression {
            field(&mut out, "small_number_suppression", "true");
        }
    }
    out
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
            field(out, "incidence", &format_number(*p));
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
            field(out, "mean", &format_number(*mean));
            field(out, "stddev", &format_number(*stddev));
        }
        Values::Int(IntDistribution::Poisson { mean }) => {
            field(out, "distribution", "poisson");
            field(out, "mean", &format_number(*mean));
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
            let _ = writeln!(out, "    {key}: {}", format_number(*p));
        }
    }
}

/// A number as written in schemas: integers without a fraction, other
/// values with the shortest digits that read back exactly.
fn format_number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        python_float(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_compactly_and_exactly() {
        assert_eq!(format_number(25.0), "25");
        assert_eq!(format_number(0.002173913043478261), "0.002173913043478261");
        assert_eq!(format_number(-1.5), "-1.5");
        assert_eq!(
            yaml::parse_number(&format_number(0.002173913043478261)),
            Some(0.002173913043478261)
        );
    }
}
