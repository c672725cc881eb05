//! What a report publishes: every figure of a [`FileProfile`] after
//! disclosure control. The HTML and the JSON are both renderings of this.

use serde::Serialize;

use super::audit;
use super::column::{ColumnProfile, year_month};
use super::disclosure::{
    CURRENT_THRESHOLD, RANGE_TAIL, Rule, merge_until_publishable, publish_table,
};
use super::histogram;
use super::kinds::Kind;
use super::kinds::{Domain, ZERO_ONE};
use super::profile::FileProfile;
use super::statistics::{self, Statistics};

/// Most values listed for a category before the rest become "Other values".
const TOP_VALUES: usize = 20;

/// The most periods (months, years, ...) on a time line before merging.
const MAX_PERIODS: i32 = 48;

/// A whole report.
#[derive(Debug, Serialize)]
pub struct Report {
    /// The input file as matched.
    pub file: String,
    /// The disclosure-control rule applied.
    pub sdc: Rule,
    /// The file's size on disk in bytes: exact under `--sdc legacy`, else
    /// to two significant figures (an exact size and a fixed row width give
    /// the exact row count).
    pub bytes_on_disk: u64,
    /// Rows, as published (`None` when redacted).
    pub rows: Option<u64>,
    /// When the report was made (RFC 3339).
    pub generated: String,
    /// The tool and its version.
    pub tool: String,
    /// Every column, in file order.
    pub columns: Vec<ColumnReport>,
}

/// One column's published figures.
#[derive(Debug, Serialize)]
pub struct ColumnReport {
    /// The column's name.
    pub name: String,
    /// The type: pandas' dtype (`int64`, `float64`, `object`, `bool`, ...)
    /// under `--sdc legacy`; otherwise the kind of values (`number`,
    /// `text`, ...), which does not change with the number of missing
    /// values as pandas' does (`int64` becomes `float64` with one).
    pub dtype: String,
    /// pandas' shallow memory use in MB: under `--sdc legacy` only, as it
    /// gives the exact row count away.
    pub size_mb: Option<f64>,
    /// Whether every value is missing: under `--sdc legacy` only (it tells
    /// a column of no values from one of a few).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub empty: Option<bool>,
    /// Whether the column has fewer than 8 values (perhaps none): under the
    /// other rules, in place of `empty`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub few_values: Option<bool>,
    /// The summary for the column's kind.
    pub summary: Summary,
    /// The true missing and present counts, and the present count as the
    /// missing share's percentage implies it, for [`protect`]; never
    /// published.
    #[serde(skip)]
    missing_truth: u64,
    #[serde(skip)]
    present_truth: u64,
    #[serde(skip)]
    present_published: Option<u64>,
}

/// A column's summary.
#[derive(Debug, Serialize)]
pub struct Summary {
    /// The kind of data, which decides the rest.
    pub kind: Kind,
    /// Whether this is dataset-report v0.0.24's table for the column
    /// (`--sdc legacy`, bool-like columns).
    pub legacy: bool,
    /// Missing values, as a share of all rows.
    pub missing: Share,
    /// What the missing count holds: [`MISSING`], or [`MISSING_OR_OTHER`]
    /// where the few values outside the column's kind are counted with
    /// them (see [`super::kinds`]).
    pub missing_label: &'static str,
    /// The distribution: values (booleans, categories; missing first, with
    /// a null value), bins (numbers) or periods (dates).
    pub values: Vec<Value>,
    /// Distinct values (categories), rounded; `None` when there are more
    /// than can be counted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distinct: Option<Distinct>,
    /// Mean and quartiles (numbers, where enough patients stand behind them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statistics: Option<Statistics>,
    /// First and last month (dates), leaving out the few earliest and
    /// latest values.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub range: Option<(String, String)>,
}

/// A count and its percentage.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Share {
    /// The published count; `None` when redacted.
    pub count: Option<u64>,
    /// Its percentage; `None` when redacted.
    pub percentage: Option<f64>,
}

/// One row of a distribution.
#[derive(Clone, Debug, Serialize)]
pub struct Value {
    /// The value, bin or period; `None` for missing values.
    pub value: Option<String>,
    /// The published count; `None` when redacted.
    pub count: Option<u64>,
    /// The percentage of the published counts; `None` when redacted.
    pub percentage: Option<f64>,
    /// The true count, for the checks of everything published together
    /// ([`super::audit`]); never published.
    #[serde(skip)]
    pub truth: u64,
}

/// How many distinct values a category has.
#[derive(Clone, Copy, Debug, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Distinct {
    /// Exactly this many: every value is listed.
    Exactly(u64),
    /// About this many (rounded).
    About(u64),
    /// More than this many (too many to count).
    MoreThan(u64),
}

/// Builds the publishable report of a profile.
pub fn build(profile: &FileProfile, rule: Rule, generated: String) -> Report {
    let rows = rule.publish(profile.rows);
    let mut columns: Vec<ColumnReport> = profile.columns.iter().map(|c| column(c, rule)).collect();
    if rule != Rule::Legacy {
        protect(rule, rows, &mut columns);
    }
    Report {
        file: profile.path.display().to_string(),
        sdc: rule,
        bytes_on_disk: match rule {
            Rule::Legacy => profile.bytes,
            _ => two_significant_figures(profile.bytes),
        },
        rows,
        generated,
        tool: format!("cohortkit {}", env!("CARGO_PKG_VERSION")),
        columns,
    }
}

/// `n` to two significant figures (`10_240` is `10_000`).
fn two_significant_figures(n: u64) -> u64 {
    let digits = n.checked_ilog10().unwrap_or(0);
    let unit = 10u64.pow(digits.saturating_sub(1));
    (n + unit / 2) / unit * unit
}

/// The missing count's label where nothing else is counted with it.
pub const MISSING: &str = "missing";

/// The missing count's label where the few values outside the column's
/// kind are counted with it.
pub const MISSING_OR_OTHER: &str = "missing or other";

fn column(column: &ColumnProfile, rule: Rule) -> ColumnReport {
    let legacy = rule == Rule::Legacy;
    let size_mb = legacy.then(|| (column.dtype.bytes_per_row * column.rows) as f64 / 1_000_000.0);
    let few = column.rows - column.missing <= CURRENT_THRESHOLD;
    let (kind, strays) = if legacy {
        (column.kind, 0)
    } else {
        (column.fit.kind, column.fit.strays)
    };
    let missing_count = column.missing + strays;
    let present = column.rows - missing_count;
    let missing = {
        let cells = publish_table(rule, &[missing_count, present]);
        Share {
            count: cells[0].count,
            percentage: cells[0].percentage,
        }
    };
    let mut summary = Summary {
        kind,
        legacy: false,
        missing,
        missing_label: match kind {
            Kind::Boolean | Kind::Numeric | Kind::Date if !legacy => MISSING_OR_OTHER,
            _ => MISSING,
        },
        values: Vec::new(),
        distinct: None,
        statistics: None,
        range: None,
    };
    match (&column.legacy, rule) {
        (Some(counts), Rule::Legacy) => {
            summary.legacy = true;
            summary.values = table(
                rule,
                counts
                    .iter()
                    .map(|(label, count)| ((label != "NaN").then(|| label.clone()), *count)),
            );
        }
        _ => match kind {
            Kind::Boolean => summary.values = boolean(column, rule, missing_count),
            Kind::Category => category(column, rule, &mut summary),
            Kind::Numeric => numeric(column, rule, &mut summary),
            Kind::Date => date(column, rule, &mut summary),
            Kind::FewValues => {
                summary.values = table(
                    rule,
                    [(None, missing_count), (Some(ALL.to_string()), present)].into_iter(),
                )
            }
            Kind::Identifier | Kind::Empty => {}
        },
    }
    // Where the missing values are a row of the table, the share shown
    // for the column is that row's, of the same published total.
    if let Some(first) = summary.values.first().filter(|v| v.value.is_none())
        && matches!(
            summary.kind,
            Kind::Boolean | Kind::Category | Kind::Empty | Kind::FewValues
        )
    {
        summary.missing = Share {
            count: first.count,
            percentage: first.percentage,
        };
    }
    ColumnReport {
        name: column.name.clone(),
        dtype: if legacy {
            column.dtype.name.clone()
        } else {
            type_name(kind).to_string()
        },
        size_mb,
        empty: legacy.then(|| column.empty()),
        few_values: (!legacy).then_some(few),
        missing_truth: missing_count,
        present_truth: present,
        present_published: rule.publish(present),
        summary,
    }
}

/// The label of the row of all values, where they are not shown apart.
pub const ALL: &str = "All values";

/// A column's type as published under the rules other than legacy: what
/// its values are, whatever their number.
fn type_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Identifier => "identifier",
        Kind::Boolean => "boolean",
        Kind::Date => "date",
        Kind::Category => "text",
        Kind::Numeric => "number",
        Kind::Empty | Kind::FewValues => "unknown",
    }
}

/// Secondary suppression over everything the report publishes together
/// (see [`audit`]): every column's table partitions the rows; counts are
/// redacted further until no redacted count can be pinned, and the
/// percentages are then worked out again from what is left.
fn protect(rule: Rule, rows: Option<u64>, columns: &mut [ColumnReport]) {
    let tables: Vec<Vec<(Option<u64>, u64)>> = columns.iter().map(audit_table).collect();
    let mut published: Vec<Vec<Option<u64>>> = tables
        .iter()
        .map(|t| t.iter().map(|(p, _)| *p).collect())
        .collect();
    let truths: Vec<Vec<u64>> = tables
        .iter()
        .map(|t| t.iter().map(|(_, c)| *c).collect())
        .collect();
    audit::protect(rule, rows, &mut published, &truths);
    for (column, published) in columns.iter_mut().zip(published) {
        apply(column, &published);
    }
}

/// A column's published table as (published, true) counts, a partition of
/// the rows: its values table where the missing count is a row of it;
/// else the missing share, then the bins or periods of the present values
/// (or, where none are shown, the present count its percentage implies).
fn audit_table(column: &ColumnReport) -> Vec<(Option<u64>, u64)> {
    let summary = &column.summary;
    let values = summary.values.iter().map(|v| (v.count, v.truth));
    if missing_in_values(summary) {
        return values.collect();
    }
    let missing = (summary.missing.count, column.missing_truth);
    if summary.values.is_empty() {
        vec![missing, (column.present_published, column.present_truth)]
    } else {
        std::iter::once(missing).chain(values).collect()
    }
}

/// Writes a table's counts back after [`audit::protect`], with
/// percentages of the published counts that are left.
fn apply(column: &mut ColumnReport, published: &[Option<u64>]) {
    let summary = &mut column.summary;
    let percent = |count: Option<u64>, total: u64| {
        count
            .filter(|_| total > 0)
            .map(|c| c as f64 / total as f64 * 100.0)
    };
    if missing_in_values(summary) {
        let total: u64 = published.iter().flatten().sum();
        for (value, &count) in summary.values.iter_mut().zip(published) {
            value.count = count;
            value.percentage = percent(count, total);
        }
        summary.missing = Share {
            count: summary.values[0].count,
            percentage: summary.values[0].percentage,
        };
        return;
    }
    let (missing, rest) = published.split_first().expect("a missing count");
    let present: u64 = rest.iter().flatten().sum();
    if !summary.values.is_empty() {
        for (value, &count) in summary.values.iter_mut().zip(rest) {
            value.count = count;
            value.percentage = percent(count, present);
        }
    }
    summary.missing = Share {
        count: *missing,
        percentage: percent(*missing, missing.unwrap_or(0) + present),
    };
}

/// Whether the missing count is a row of the values table (else it is the
/// share beside a table of present values: bins or periods).
fn missing_in_values(summary: &Summary) -> bool {
    summary.values.first().is_some_and(|v| v.value.is_none())
}

/// Rows of (value, true count) published together.
fn table(rule: Rule, rows: impl Iterator<Item = (Option<String>, u64)>) -> Vec<Value> {
    let (labels, counts): (Vec<_>, Vec<_>) = rows.unzip();
    labels
        .into_iter()
        .zip(publish_table(rule, &counts))
        .zip(&counts)
        .map(|((value, cell), &truth)| Value {
            value,
            count: cell.count,
            percentage: cell.percentage,
            truth,
        })
        .collect()
}

/// The row of `missing` values: under the legacy rule where there are
/// any; under the others always, so that a redacted row does not say there
/// is at least one.
fn missing_row(missing: u64, rule: Rule) -> Option<(Option<String>, u64)> {
    (missing > 0 || rule != Rule::Legacy).then_some((None, missing))
}

/// A boolean's table: under the legacy rule the values there are; under
/// the others both values of its domain, held by no patient or a few or
/// many, the few others counted with the `missing` ones.
fn boolean(column: &ColumnProfile, rule: Rule, missing: u64) -> Vec<Value> {
    let mut values = column.values.clone().unwrap_or_default();
    if rule != Rule::Legacy {
        let domain: Domain = column.fit.domain.unwrap_or(ZERO_ONE);
        values = domain
            .iter()
            .map(|label| {
                let held = values.iter().find(|(l, _)| l == label);
                (label.to_string(), held.map_or(0, |(_, count)| *count))
            })
            .collect();
    }
    values.sort_by(|a, b| a.0.cmp(&b.0));
    table(
        rule,
        missing_row(missing, rule).into_iter().chain(
            values
                .into_iter()
                .map(|(label, count)| (Some(label), count)),
        ),
    )
}

fn category(column: &ColumnProfile, rule: Rule, summary: &mut Summary) {
    let legacy = rule == Rule::Legacy;
    let Some(values) = &column.values else {
        summary.distinct = Some(Distinct::MoreThan(super::column::CATEGORY_LIMIT as u64));
        let present = column.rows - column.missing;
        let all = (!legacy).then(|| (Some(OTHER.to_string()), present));
        summary.values = table(
            rule,
            missing_row(column.missing, rule).into_iter().chain(all),
        );
        return;
    };
    // A value is named only when more patients than the threshold hold it,
    // whatever the rule: a rare value can identify someone.
    let shown = values
        .iter()
        .take(TOP_VALUES)
        .take_while(|(_, count)| *count > CURRENT_THRESHOLD && rule.publish(*count).is_some())
        .count();
    let other: u64 = values[shown..].iter().map(|(_, count)| count).sum();
    // Under the legacy rule: every value listed, their number is no
    // secret; otherwise rounded, and never fewer than are listed. Under the
    // others the number is not published (it would tell whether "Other
    // values" holds anyone), and "Other values" is always a row.
    summary.distinct = legacy.then(|| {
        if shown == values.len() {
            Distinct::Exactly(shown as u64)
        } else {
            Distinct::About(rule.round(values.len() as u64).max(shown as u64 + 1))
        }
    });
    let rows = missing_row(column.missing, rule)
        .into_iter()
        .chain(
            values[..shown]
                .iter()
                .map(|(label, count)| (Some(label.clone()), *count)),
        )
        .chain((shown < values.len() || !legacy).then(|| (Some(OTHER.to_string()), other)));
    summary.values = table(rule, rows);
}

/// The label of the row that gathers the values not listed.
pub const OTHER: &str = "Other values";

fn numeric(column: &ColumnProfile, rule: Rule, summary: &mut Summary) {
    let Some(sketch) = &column.numbers else {
        return;
    };
    let pieces = sketch.pieces();
    summary.statistics = statistics::publish(sketch, &pieces, rule);
    if let Some(range) = statistics::histogram_range(&pieces) {
        summary.values = table(
            rule,
            histogram::rows(sketch, &pieces, range, rule).into_iter(),
        );
    }
}

fn date(column: &ColumnProfile, rule: Rule, summary: &mut Summary) {
    let months = &column.months;
    let total: u64 = months.iter().map(|(_, c)| c).sum();
    if total < 2 * RANGE_TAIL {
        // Too few dates to show any without showing a patient's.
        summary.values = table(
            rule,
            std::iter::once((Some("all dates".to_string()), total)),
        );
        return;
    }
    let month_at = |rank: u64| -> i32 {
        let mut seen = 0;
        for &(month, count) in months {
            seen += count;
            if seen > rank {
                return month;
            }
        }
        months.last().map_or(0, |m| m.0)
    };
    let from = month_at(RANGE_TAIL - 1);
    let to = month_at(total - RANGE_TAIL);
    summary.range = Some((month_label(from), month_label(to)));
    // Months, years, or 5, 10 or 50 years: the finest that fits.
    let size = [1, 12, 60, 120, 600]
        .into_iter()
        .find(|size| to.div_euclid(*size) - from.div_euclid(*size) < MAX_PERIODS)
        .unwrap_or(600);
    let (first, last) = (from.div_euclid(size), to.div_euclid(size));
    let mut counts = vec![0u64; (last - first + 1) as usize];
    for &(month, count) in months {
        let p = month.div_euclid(size).clamp(first, last);
        counts[(p - first) as usize] += count;
    }
    let start_of = |p: i32| match size {
        1 => month_label(p),
        _ => year_month(p * size).0.to_string(),
    };
    let end_of = |p: i32| match size {
        1 => month_label(p),
        _ => year_month(p * size + size - 1).0.to_string(),
    };
    let groups = merge_until_publishable(rule, &counts);
    let periods = counts.len();
    let rows = groups.iter().map(|g| {
        let (a, b) = (first + g.start as i32, first + g.end as i32 - 1);
        let text = match (g.start == 0, g.end == periods) {
            (true, true) => "all dates".to_string(),
            (true, false) => format!("≤ {}", end_of(b)),
            (false, true) => format!("≥ {}", start_of(a)),
            (false, false) if start_of(a) == end_of(b) => start_of(a),
            (false, false) => format!("{}–{}", start_of(a), end_of(b)),
        };
        (Some(text), counts[g.clone()].iter().sum())
    });
    summary.values = table(rule, rows);
}

fn month_label(index: i32) -> String {
    let (year, month) = year_month(index);
    format!("{year:04}-{month:02}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::column::ColumnAcc;

    fn column_of(name: &str, fields: impl IntoIterator<Item = String>) -> ColumnProfile {
        let mut acc = ColumnAcc::default();
        let mut rows = 0;
        for field in fields {
            acc.add_field(field.as_bytes());
            rows += 1;
        }
        acc.finish(name, rows, None)
    }

    #[test]
    fn ages_make_a_publishable_histogram_without_extremes() {
        let ages = (0..10_000).map(|i| ((i * 37) % 97 + 1).to_string());
        let column = column_of("age", ages);
        let summary = super::column(&column, Rule::Current).summary;
        assert_eq!(summary.kind, Kind::Numeric);
        let stats = summary.statistics.unwrap();
        assert!((stats.median.unwrap() - 49.0).abs() <= 1.0, "{stats:?}");
        // Bins of five years from a multiple of five, the first and last
        // open: neither the youngest (1) nor the oldest (97) age shows.
        let labels: Vec<_> = summary
            .values
            .iter()
            .map(|v| v.value.clone().unwrap())
            .collect();
        assert_eq!(labels.first().unwrap(), "< 5");
        assert_eq!(labels.last().unwrap(), "≥ 95");
        for label in &labels[1..labels.len() - 1] {
            let (a, b) = label.split_once('–').unwrap();
            let (a, b): (u32, u32) = (a.parse().unwrap(), b.parse().unwrap());
            assert!(a % 5 == 0 && b == a + 4, "{label}");
        }
        for value in &summary.values {
            let count = value.count.unwrap();
            assert!(count > 7 && count % 5 == 0);
        }
    }

    #[test]
    fn rare_categories_go_to_other() {
        let mut fields: Vec<String> = Vec::new();
        fields.extend(std::iter::repeat_n("common".to_string(), 50));
        fields.extend(std::iter::repeat_n("rare".to_string(), 3));
        fields.extend(std::iter::repeat_n(String::new(), 20));
        let column = column_of("sex", fields);
        for rule in [Rule::Current, Rule::Midpoint6] {
            let summary = super::column(&column, rule).summary;
            let labels: Vec<_> = summary.values.iter().map(|v| v.value.clone()).collect();
            assert_eq!(labels, [None, Some("common".into()), Some(OTHER.into())]);
        }
        let summary = super::column(&column, Rule::Current).summary;
        // How many distinct values would tell whether "Other values" holds
        // anyone: only the legacy rule says.
        assert!(summary.distinct.is_none());
        let legacy = super::column(&column, Rule::Legacy).summary;
        assert!(
            matches!(legacy.distinct, Some(Distinct::About(2))),
            "{:?}",
            legacy.distinct
        );
        assert_eq!(summary.missing.count, summary.values[0].count);
        assert_eq!(summary.missing.percentage, summary.values[0].percentage);
        assert_eq!(summary.values[2].count, None);
        assert_eq!(summary.values[1].count, Some(50));
        assert_eq!(summary.values[1].percentage, Some(50.0 / 70.0 * 100.0));
    }

    #[test]
    fn a_fully_listed_category_still_shows_other_values_and_missing() {
        let fields = (0..70).map(|i| ["a", "b", "c", "d", "e", "f", "g"][i % 7].to_string());
        let column = column_of("c", fields);
        let legacy = super::column(&column, Rule::Legacy).summary;
        assert_eq!(legacy.values.len(), 7);
        assert!(matches!(legacy.distinct, Some(Distinct::Exactly(7))));
        // The same rows whether "Other values" and missing hold 0 or a few.
        let current = super::column(&column, Rule::Current).summary;
        let labels: Vec<_> = current.values.iter().map(|v| v.value.clone()).collect();
        assert_eq!(labels.len(), 9);
        assert_eq!(labels[0], None);
        assert_eq!(labels[8].as_deref(), Some(OTHER));
        assert_eq!(
            (current.values[0].count, current.values[8].count),
            (None, None)
        );
    }

    #[test]
    fn dates_hide_the_earliest_and_latest() {
        let dates = (0..400).map(|i| format!("20{:02}-{:02}-15", 10 + i % 5, 1 + i % 12));
        let column = column_of("d", dates.chain(["1900-01-01".to_string()]));
        let summary = super::column(&column, Rule::Current).summary;
        assert_eq!(summary.kind, Kind::Date);
        let (from, to) = summary.range.unwrap();
        assert!(from.starts_with("2010"), "{from}");
        assert!(to.starts_with("2014"), "{to}");
        let labels: Vec<_> = summary
            .values
            .iter()
            .map(|v| v.value.clone().unwrap())
            .collect();
        assert!(labels[0].starts_with("≤ "), "{labels:?}");
        assert!(!labels.iter().any(|l| l.contains("1900")), "{labels:?}");
    }
}
