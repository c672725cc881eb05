//! Inline SVG bar charts of published counts: no script, no external
//! assets, printable. Redacted counts are drawn as an empty dashed bar.

use maud::{Markup, html};

use super::summary::Value;

const BAR_LIST_WIDTH: f64 = 560.0;
const LABEL_WIDTH: f64 = 200.0;
const BAR_AREA: f64 = 280.0;
const ROW_HEIGHT: f64 = 20.0;
const LABEL_CHARS: usize = 30;

const COLUMNS_WIDTH: f64 = 560.0;
const COLUMNS_HEIGHT: f64 = 160.0;
const AXIS_SPACE: f64 = 44.0;

/// Width given to a redacted bar.
const REDACTED_FRACTION: f64 = 0.04;

fn label_of(value: &Value) -> String {
    value.value.clone().unwrap_or_else(|| "missing".to_string())
}

fn shorten(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars {
        text.to_string()
    } else {
        let mut short: String = text.chars().take(chars - 1).collect();
        short.push('…');
        short
    }
}

fn largest(values: &[Value]) -> f64 {
    values
        .iter()
        .filter_map(|v| v.count)
        .max()
        .unwrap_or(0)
        .max(1) as f64
}

/// Horizontal bars, one per value (booleans and categories).
pub fn bar_list(title: &str, values: &[Value]) -> Markup {
    let height = ROW_HEIGHT * values.len() as f64 + 4.0;
    let max = largest(values);
    html! {
        svg class="chart bars" role="img" width=(BAR_LIST_WIDTH) height=(height)
            viewBox=(format!("0 0 {BAR_LIST_WIDTH} {height}")) xmlns="http://www.w3.org/2000/svg" {
            title { (title) }
            @for (i, value) in values.iter().enumerate() {
                @let y = i as f64 * ROW_HEIGHT + 2.0;
                @let label = label_of(value);
                text class="label" x=(LABEL_WIDTH - 6.0) y=(y + 14.0) text-anchor="end" {
                    title { (label) }
                    (shorten(&label, LABEL_CHARS))
                }
                @match value.count {
                    Some(count) => {
                        @let width = (count as f64 / max * BAR_AREA).max(1.0);
                        rect class=(if value.value.is_none() { "bar missing" } else { "bar" })
                            x=(LABEL_WIDTH) y=(y + 3.0) width=(format!("{width:.1}")) height=(ROW_HEIGHT - 6.0) {}
                        text class="count" x=(LABEL_WIDTH + width + 4.0) y=(y + 14.0) { (thousands(count)) }
                    }
                    None => {
                        rect class="bar redacted" x=(LABEL_WIDTH) y=(y + 3.0)
                            width=(BAR_AREA * REDACTED_FRACTION) height=(ROW_HEIGHT - 6.0) {}
                        text class="count" x=(LABEL_WIDTH + BAR_AREA * REDACTED_FRACTION + 4.0) y=(y + 14.0) { "redacted" }
                    }
                }
            }
        }
    }
}

/// Vertical columns in order (histogram bins, periods), labelled below at
/// evenly spaced columns from the first.
pub fn columns(title: &str, values: &[Value]) -> Markup {
    let n = values.len().max(1);
    let plot = COLUMNS_HEIGHT - AXIS_SPACE;
    let slot = COLUMNS_WIDTH / n as f64;
    let gap = (slot * 0.15).min(4.0);
    let max = largest(values);
    let every = n.div_ceil(8).max(1);
    html! {
        svg class="chart columns" role="img" width=(COLUMNS_WIDTH) height=(COLUMNS_HEIGHT)
            viewBox=(format!("0 0 {COLUMNS_WIDTH} {COLUMNS_HEIGHT}")) xmlns="http://www.w3.org/2000/svg" {
            title { (title) }
            line class="axis" x1="0" x2=(COLUMNS_WIDTH) y1=(plot) y2=(plot) {}
            @for (i, value) in values.iter().enumerate() {
                @let x = i as f64 * slot;
                @let label = label_of(value);
                @match value.count {
                    Some(count) => {
                        @let h = (count as f64 / max * (plot - 14.0)).max(1.0);
                        rect class="bar" x=(format!("{:.1}", x + gap / 2.0)) y=(format!("{:.1}", plot - h))
                            width=(format!("{:.1}", slot - gap)) height=(format!("{h:.1}")) {
                            title { (label) ": " (thousands(count)) }
                        }
                    }
                    None => {
                        rect class="bar redacted" x=(format!("{:.1}", x + gap / 2.0)) y=(plot - 6.0)
                            width=(format!("{:.1}", slot - gap)) height="6" {
                            title { (label) ": redacted" }
                        }
                    }
                }
                @if i % every == 0 {
                    text class="tick" x=(format!("{:.1}", x + slot / 2.0)) y=(plot + 14.0) text-anchor="middle" {
                        (shorten(&label, 14))
                    }
                }
            }
        }
    }
}

/// A count with thousands separators: 1,234,567.
pub fn thousands(count: u64) -> String {
    let digits = count.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(d);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(label: Option<&str>, count: Option<u64>) -> Value {
        Value {
            value: label.map(str::to_string),
            count,
            percentage: None,
            truth: count.unwrap_or(0),
        }
    }

    #[test]
    fn bars_scale_to_the_largest_and_mark_redactions() {
        let svg = bar_list(
            "sex",
            &[
                value(None, Some(10)),
                value(Some("F"), Some(40)),
                value(Some("<x>"), None),
            ],
        )
        .into_string();
        assert!(svg.contains(r#"width="280.0""#), "{svg}");
        assert!(svg.contains(r#"width="70.0""#), "{svg}");
        assert!(svg.contains("redacted"));
        assert!(svg.contains("&lt;x&gt;"));
        assert_eq!(svg.matches("<rect").count(), 3);
    }

    #[test]
    fn columns_label_a_few_ticks() {
        let values: Vec<Value> = (0..30)
            .map(|i| value(Some(&format!("b{i}")), Some(10 + i)))
            .collect();
        let svg = columns("age", &values).into_string();
        assert_eq!(svg.matches("<rect").count(), 30);
        let ticks = svg.matches(r#"class="tick""#).count();
        assert!((8..=9).contains(&ticks), "{ticks}");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(999), "999");
    }
}
