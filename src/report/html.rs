//! The report as one self-contained HTML page: inline CSS and SVG, no
//! script, readable offline and printable. Every text is escaped.

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::chart::{self, thousands};
use super::disclosure::{MIN_FOR_STATISTICS, Rule};
use super::kinds::Kind;
use super::legacy::{count_column, float_column, python_bool};
use super::statistics::Statistics;
use super::summary::{ColumnReport, Distinct, Report, Share, Summary};

const STYLE: &str = r#"
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2330; margin: 0; }
article { max-width: 1100px; margin: 0 auto; padding: 24px; }
h1 { margin: 0 0 4px; } h2 { border-bottom: 2px solid #d8dde6; padding-bottom: 4px; margin-top: 32px; }
h3 { margin: 0 0 6px; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 15px; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: 2px 16px; }
dl.facts dt { font-weight: 600; } dl.facts dd { margin: 0; }
nav ol { columns: 3 260px; column-gap: 24px; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; padding-left: 28px; }
nav li { overflow-wrap: anywhere; break-inside: avoid; }
nav .kind, .badge { color: #5b6577; font-family: system-ui, sans-serif; }
.badge { display: inline-block; border: 1px solid #c5ccd8; border-radius: 4px; padding: 0 6px; font-size: 12px; margin-right: 4px; }
table { border-collapse: collapse; margin: 6px 0; }
th, td { border: 1px solid #d8dde6; padding: 2px 8px; text-align: right; }
th { background: #f3f5f8; } thead th:first-child { text-align: left; } tbody th { text-align: left; font-weight: normal; font-family: ui-monospace, Menlo, Consolas, monospace; }
section.column { border: 1px solid #d8dde6; border-radius: 6px; padding: 12px 16px; margin: 14px 0; break-inside: avoid; }
.content { display: flex; flex-wrap: wrap; gap: 8px 24px; align-items: flex-start; }
.note { color: #5b6577; margin: 4px 0; }
.chart text { font: 11px system-ui, sans-serif; fill: #1d2330; }
.chart .bar { fill: #4c78a8; } .chart .bar.missing { fill: #a7b0bd; }
.chart .bar.redacted { fill: none; stroke: #7a8494; stroke-dasharray: 3 2; }
.chart .axis { stroke: #7a8494; }
a { color: #1f5fa8; text-decoration: none; }
@media print { body { font-size: 11px; } article { padding: 0; } a { color: inherit; } section.column { border-color: #999; } }
"#;

/// Renders a report.
pub fn render(report: &Report) -> String {
    let legacy = report.sdc == Rule::Legacy;
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Dataset Report: " (report.file) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                article {
                    h1 { "Dataset Report" }
                    p { em { (report.file) } }
                    (facts(report))
                    (contents(report))
                    h2 { "Summary" }
                    (summary_table(report, legacy))
                    h2 { "Columns" }
                    @for (i, column) in report.columns.iter().enumerate() {
                        (section(i, column))
                    }
                }
            }
        }
    };
    page.into_string()
}

fn facts(report: &Report) -> Markup {
    html! {
        dl class="facts" {
            dt { "Size on disk" } dd { (bytes(report.bytes_on_disk)) }
            dt { "Columns" } dd { (thousands(report.columns.len() as u64)) }
            dt { "Rows" } dd { (count_text(report.rows)) }
            dt { "Disclosure control" } dd { (report.sdc.describe()) }
            dt { "Generated" } dd { (report.generated) }
            dt { "Tool" } dd { (report.tool) }
        }
    }
}

fn contents(report: &Report) -> Markup {
    html! {
        nav {
            h2 { "Contents" }
            ol {
                @for (i, column) in report.columns.iter().enumerate() {
                    li { a href=(format!("#col-{}", i + 1)) { (column.name) } " " span class="kind" { (kind_name(column.summary.kind)) } }
                }
            }
        }
    }
}

fn summary_table(report: &Report, legacy: bool) -> Markup {
    html! {
        table class="summary" {
            thead {
                tr {
                    th { "Column Name" }
                    @if legacy { th { "Size (MB)" } }
                    th { "Data Type" }
                    th { @if legacy { "Empty" } @else { "Fewer than 8 values" } }
                    th { "Kind" } th { "Missing" }
                }
            }
            tbody {
                @let sizes = float_column(&report.columns.iter().map(|c| c.size_mb).collect::<Vec<_>>());
                @for (i, column) in report.columns.iter().enumerate() {
                    tr {
                        th { a href=(format!("#col-{}", i + 1)) { (column.name) } }
                        @if legacy { td { (sizes[i]) } }
                        td { (column.dtype) }
                        td { (python_bool(column.empty.or(column.few_values).unwrap_or(false))) }
                        td { (kind_name(column.summary.kind)) }
                        td { (share_text(&column.summary.missing)) }
                    }
                }
            }
        }
        @if !legacy {
            p class="note" { "For boolean, numeric and date columns, Missing also counts the few values (7 at most) that are not of the column’s kind." }
        }
    }
}

fn section(i: usize, column: &ColumnReport) -> Markup {
    let summary = &column.summary;
    html! {
        section class="column" id=(format!("col-{}", i + 1)) {
            h3 { (column.name) }
            p {
                span class="badge" { (kind_name(summary.kind)) }
                span class="badge" { (column.dtype) }
                " " (capitalized(summary.missing_label)) ": " (share_text(&summary.missing))
            }
            @if summary.legacy {
                (legacy_section(column))
            } @else {
                (kind_section(column))
            }
        }
    }
}

/// dataset-report v0.0.24's table, cells as pandas printed them.
fn legacy_section(column: &ColumnReport) -> Markup {
    let values = &column.summary.values;
    let counts = count_column(&values.iter().map(|v| v.count).collect::<Vec<_>>());
    let percentages = float_column(&values.iter().map(|v| v.percentage).collect::<Vec<_>>());
    html! {
        div class="content" {
            table class="legacy" {
                thead { tr { th { "Column Value" } th { "Count" } th { "Percentage" } } }
                tbody {
                    @for (j, value) in values.iter().enumerate() {
                        tr {
                            th { (value.value.as_deref().unwrap_or("NaN")) }
                            td { (counts[j]) }
                            td { (percentages[j]) }
                        }
                    }
                }
            }
            (chart::bar_list(&column.name, values))
        }
    }
}

fn kind_section(column: &ColumnReport) -> Markup {
    let summary = &column.summary;
    let name = &column.name;
    match summary.kind {
        Kind::Identifier => {
            html! { p class="note" { "An identifier: its values are not summarised." } }
        }
        Kind::Empty => html! { p class="note" { "Every value is missing." } },
        Kind::FewValues => html! {
            p class="note" { "Fewer than 8 values (perhaps none): not summarised." }
            div class="content" { (values_table("Value", summary)) }
        },
        Kind::Boolean => html! {
            div class="content" { (values_table("Value", summary)) (chart::bar_list(name, &summary.values)) }
        },
        Kind::Category => html! {
            p class="note" { "Distinct values: " (distinct_text(summary.distinct)) ". Values held by 7 patients or fewer are counted under “Other values”." }
            div class="content" { (values_table("Value", summary)) (chart::bar_list(name, &summary.values)) }
        },
        Kind::Numeric => html! {
            (statistics(summary.statistics.as_ref()))
            @if !summary.values.is_empty() {
                div class="content" { (chart::columns(name, &summary.values)) (values_table("Range", summary)) }
            }
        },
        Kind::Date => html! {
            @if let Some((from, to)) = &summary.range {
                p class="note" { "Range: " (from) " to " (to) " (month precision, leaving out the 8 earliest and 8 latest dates)." }
            }
            div class="content" { (chart::columns(name, &summary.values)) (values_table("Period", summary)) }
        },
    }
}

fn statistics(statistics: Option<&Statistics>) -> Markup {
    match statistics {
        Some(s) => {
            let figure = |value: Option<f64>| value.map_or_else(|| "withheld".to_string(), number);
            let labels = [
                ("mean", "Mean"),
                ("q1", "25th percentile"),
                ("median", "Median"),
                ("q3", "75th percentile"),
            ];
            html! {
                table class="statistics" {
                    thead { tr { @for (_, label) in labels { th { (label) } } } }
                    tbody { tr { td { (figure(s.mean)) } td { (figure(s.q1)) } td { (figure(s.median)) } td { (figure(s.q3)) } } }
                }
                @for (name, label) in labels {
                    @if let Some(reason) = s.withheld.get(name) {
                        p class="note" { (label) " withheld: " (reason) "." }
                    }
                }
            }
        }
        None => html! {
            p class="note" { "Mean and quartiles are shown only where at least " (MIN_FOR_STATISTICS) " values stand behind them. Minimum and maximum are never shown." }
        },
    }
}

fn values_table(header: &str, summary: &Summary) -> Markup {
    let values = &summary.values;
    html! {
        table class="values" {
            thead { tr { th { (header) } th { "Count" } th { "%" } } }
            tbody {
                @for value in values {
                    tr {
                        th { (value.value.as_deref().unwrap_or(summary.missing_label)) }
                        td { (count_text(value.count)) }
                        td { (percent_text(value.percentage)) }
                    }
                }
            }
        }
    }
}

/// `missing or other` as a heading: `Missing or other`.
fn capitalized(label: &str) -> String {
    let mut chars = label.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Identifier => "identifier",
        Kind::Empty => "empty",
        Kind::FewValues => "fewer than 8 values",
        Kind::Boolean => "boolean",
        Kind::Date => "date",
        Kind::Category => "category",
        Kind::Numeric => "numeric",
    }
}

/// How a redacted count reads (the page header states the rule in force).
const REDACTED: &str = "redacted";

fn count_text(count: Option<u64>) -> String {
    count.map_or_else(|| REDACTED.to_string(), thousands)
}

fn percent_text(percentage: Option<f64>) -> String {
    percentage.map_or_else(String::new, |p| format!("{p:.1}%"))
}

fn share_text(share: &Share) -> String {
    match (share.count, share.percentage) {
        (Some(count), Some(p)) => format!("{} ({p:.1}%)", thousands(count)),
        (Some(count), None) => thousands(count),
        _ => REDACTED.to_string(),
    }
}

fn distinct_text(distinct: Option<Distinct>) -> String {
    match distinct {
        Some(Distinct::Exactly(n)) => thousands(n),
        Some(Distinct::About(n)) => format!("about {}", thousands(n)),
        Some(Distinct::MoreThan(n)) => format!("more than {}", thousands(n)),
        None => "unknown".to_string(),
    }
}

fn number(value: f64) -> String {
    crate::table::text::python_float(value)
        .trim_end_matches(".0")
        .to_string()
}

fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["bytes", "KB", "MB", "GB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} bytes")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}
