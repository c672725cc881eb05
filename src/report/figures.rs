//! The long table output checkers ask for: one row per figure a report
//! publishes (the column, the statistic, its category or bin, the value and
//! the rule applied), written as CSV beside the HTML (`--csv`).
//!
//! It is a flattening of the same [`Report`] the HTML and the JSON render,
//! so the three cannot disagree. Each CSV file is kept within the level-4
//! rules for a released table: at most [`MAX_ROWS`] rows (a report with
//! more is split by column into numbered parts, and says so), and no
//! `patient_id` header.

use std::path::{Path, PathBuf};

use super::disclosure::Rule;
use super::summary::{Distinct, Report, Share, Summary, Value};

/// Rows per CSV file, at most.
pub const MAX_ROWS: usize = 5_000;

/// The header of every file.
const HEADER: [&str; 5] = ["column", "statistic", "category", "value", "rule"];

/// One published figure.
#[derive(Clone, Debug, PartialEq)]
pub struct Figure {
    /// The column it describes; empty for the file's own figures.
    pub column: String,
    /// What it is: `rows`, `count`, `percentage`, `mean`, ...
    pub statistic: &'static str,
    /// The category, bin or period it is of; empty where none.
    pub category: String,
    /// The value as published: a number, `redacted` or `withheld`.
    pub value: String,
    /// The rule that made the value what it is.
    pub rule: String,
}

/// Every figure of a report, the file's first, then each column's in order.
pub fn figures(report: &Report) -> Vec<Vec<Figure>> {
    let rule = report.sdc;
    let mut file = vec![
        figure(
            "",
            "rows",
            "",
            count_text(report.rows),
            count_rule(rule, report.rows),
        ),
        figure(
            "",
            "bytes on disk",
            "",
            report.bytes_on_disk.to_string(),
            match rule {
                Rule::Legacy => "exact (legacy)".to_string(),
                _ => "rounded to two significant figures".to_string(),
            },
        ),
    ];
    file.push(figure(
        "",
        "disclosure rule",
        "",
        rule.describe().to_string(),
        String::new(),
    ));
    let mut all = vec![file];
    for column in &report.columns {
        let mut rows = Vec::new();
        let mut push = |statistic, category: String, value: String, why: String| {
            rows.push(figure(&column.name, statistic, &category, value, why));
        };
        push("type", String::new(), column.dtype.clone(), String::new());
        if let Some(few) = column.few_values {
            push(
                "fewer than 8 values",
                String::new(),
                python_bool(few),
                "stated alike for none and for 1 to 7 values".into(),
            );
        }
        if let Some(empty) = column.empty {
            push(
                "empty",
                String::new(),
                python_bool(empty),
                "exact (legacy)".into(),
            );
        }
        summary_figures(&column.summary, rule, &mut push);
        all.push(rows);
    }
    all
}

fn summary_figures(
    summary: &Summary,
    rule: Rule,
    push: &mut impl FnMut(&'static str, String, String, String),
) {
    push(
        "kind",
        String::new(),
        format!("{:?}", summary.kind).to_lowercase(),
        String::new(),
    );
    let Share { count, percentage } = summary.missing;
    push(
        "missing count",
        summary.missing_label.to_string(),
        count_text(count),
        count_rule(rule, count),
    );
    push(
        "missing percentage",
        summary.missing_label.to_string(),
        percentage_text(percentage),
        "of the published counts".into(),
    );
    for Value {
        value,
        count,
        percentage,
        ..
    } in &summary.values
    {
        let category = value
            .clone()
            .unwrap_or_else(|| summary.missing_label.to_string());
        push(
            "count",
            category.clone(),
            count_text(*count),
            count_rule(rule, *count),
        );
        push(
            "percentage",
            category,
            percentage_text(*percentage),
            "of the published counts".into(),
        );
    }
    if let Some(distinct) = summary.distinct {
        let (value, why) = match distinct {
            Distinct::Exactly(n) => (n.to_string(), "exact: every value is listed"),
            Distinct::About(n) => (n.to_string(), "rounded as counts are"),
            Distinct::MoreThan(n) => (format!("more than {n}"), "too many to count"),
        };
        push("distinct values", String::new(), value, why.into());
    }
    if let Some(statistics) = &summary.statistics {
        for (name, value, why) in statistics.figures() {
            let value = value.map_or_else(|| "withheld".to_string(), |v| v.to_string());
            push(name, String::new(), value, why);
        }
    }
    if let Some((first, last)) = &summary.range {
        let why = "leaving out the 8 earliest and latest values";
        push("first period", String::new(), first.clone(), why.into());
        push("last period", String::new(), last.clone(), why.into());
    }
}

fn figure(
    column: &str,
    statistic: &'static str,
    category: &str,
    value: String,
    rule: String,
) -> Figure {
    Figure {
        column: column.to_string(),
        statistic,
        category: category.to_string(),
        value,
        rule,
    }
}

fn python_bool(value: bool) -> String {
    if value { "True" } else { "False" }.to_string()
}

fn count_text(count: Option<u64>) -> String {
    count.map_or_else(|| "redacted".to_string(), |c| c.to_string())
}

fn percentage_text(percentage: Option<f64>) -> String {
    percentage.map_or_else(|| "redacted".to_string(), |p| format!("{p:.1}"))
}

/// Why a count is what it is. A redacted count does not say whether it is
/// small or was redacted to protect another: that would tell them apart.
fn count_rule(rule: Rule, count: Option<u64>) -> String {
    match (rule, count) {
        (Rule::Legacy, None) => "rounded to 5, then 5 or fewer redacted (legacy)",
        (Rule::Legacy, Some(_)) => "rounded to the nearest 5 (legacy)",
        (_, None) => "redacted: 7 or fewer, or to protect another redacted count",
        (Rule::Current, Some(_)) => "more than 7, rounded to the nearest 5",
        (Rule::Midpoint6, Some(_)) => "midpoint-6 rounding",
    }
    .to_string()
}

/// The CSV files of a report named `name` in `dir`: `name.csv`, or, when
/// the figures are more than [`MAX_ROWS`], `name-1.csv`, `name-2.csv`, ...
/// each holding whole columns (a column with more figures than that alone
/// is split at [`MAX_ROWS`]).
pub fn csv_files(report: &Report, dir: &Path, name: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let groups = figures(report);
    let mut parts: Vec<Vec<Figure>> = vec![Vec::new()];
    for group in groups {
        for chunk in group.chunks(MAX_ROWS) {
            let last = parts.last_mut().expect("a part");
            if last.len() + chunk.len() > MAX_ROWS {
                parts.push(chunk.to_vec());
            } else {
                last.extend_from_slice(chunk);
            }
        }
    }
    let single = parts.len() == 1;
    parts
        .into_iter()
        .enumerate()
        .map(|(i, part)| {
            let file = match single {
                true => format!("{name}.csv"),
                false => format!("{name}-{}.csv", i + 1),
            };
            (dir.join(file), csv_bytes(&part))
        })
        .collect()
}

fn csv_bytes(figures: &[Figure]) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let rows = std::iter::once(HEADER.map(str::to_string)).chain(figures.iter().map(|f| {
        [
            f.column.clone(),
            f.statistic.to_string(),
            f.category.clone(),
            f.value.clone(),
            f.rule.clone(),
        ]
    }));
    for row in rows {
        writer.write_record(&row).expect("writing to memory");
    }
    writer.into_inner().expect("writing to memory")
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::report::{profile, summary};
    use crate::table::Format;

    /// The report of a CSV file of `columns` columns of 0/1 flags and one
    /// of categories, 40 rows.
    fn flags_report(columns: usize, rule: Rule) -> Report {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("input.csv");
        let mut file = std::fs::File::create(&path).unwrap();
        let names: Vec<String> = (0..columns).map(|i| format!("flag_{i}")).collect();
        writeln!(file, "patient_id,region,{}", names.join(",")).unwrap();
        for row in 0..40 {
            let flags: Vec<String> = (0..columns)
                .map(|i| ((row + i) % 3 % 2).to_string())
                .collect();
            let region = ["North", "South", "", "East"][row % 4];
            writeln!(file, "{row},{region},{}", flags.join(",")).unwrap();
        }
        drop(file);
        let profile = profile::profile(&path, Format::Csv, &|_| {}).unwrap();
        summary::build(&profile, rule, String::new())
    }

    #[test]
    fn every_published_count_is_a_row_with_its_rule() {
        let report = flags_report(3, Rule::Current);
        let rows: Vec<Figure> = figures(&report).concat();
        for column in &report.columns {
            for value in &column.summary.values {
                let category = value
                    .value
                    .clone()
                    .unwrap_or_else(|| column.summary.missing_label.into());
                let row = rows
                    .iter()
                    .find(|f| {
                        f.column == column.name && f.statistic == "count" && f.category == category
                    })
                    .unwrap_or_else(|| panic!("{} {category} not in the table", column.name));
                assert_eq!(row.value, count_text(value.count));
                assert!(!row.rule.is_empty());
            }
        }
        let rows_figure = rows.iter().find(|f| f.statistic == "rows").unwrap();
        assert_eq!(rows_figure.value, count_text(report.rows));
        // A redacted count's rule does not say whether it is small.
        assert!(
            rows.iter()
                .filter(|f| f.value == "redacted" && f.statistic == "count")
                .all(|f| f.rule == count_rule(Rule::Current, None))
        );
    }

    #[test]
    fn a_long_table_is_split_by_column_and_never_names_patient_id_in_its_header() {
        let dir = tempfile::tempdir().unwrap();
        let report = flags_report(500, Rule::Current);
        let files = csv_files(&report, dir.path(), "input");
        assert!(
            files.len() > 1,
            "{} figures in one file",
            figures(&report).concat().len()
        );
        let mut columns_seen = Vec::new();
        for (i, (path, bytes)) in files.iter().enumerate() {
            assert_eq!(path, &dir.path().join(format!("input-{}.csv", i + 1)));
            let text = std::str::from_utf8(bytes).unwrap();
            let mut reader = csv::Reader::from_reader(text.as_bytes());
            let header = reader.headers().unwrap().clone();
            assert_eq!(header.iter().collect::<Vec<_>>(), HEADER);
            let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
            assert!(records.len() <= MAX_ROWS);
            let mut columns: Vec<String> = records.iter().map(|r| r[0].to_string()).collect();
            columns.dedup();
            columns_seen.extend(columns);
        }
        // Whole columns per file: no column's figures are in two files.
        let mut unique = columns_seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), columns_seen.len());
        let one = csv_files(&flags_report(2, Rule::Current), dir.path(), "input");
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].0, dir.path().join("input.csv"));
    }
}
