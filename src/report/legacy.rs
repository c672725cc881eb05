//! Table cells as dataset-report v0.0.24 printed them: pandas
//! `DataFrame.to_html()` formatting, one column at a time.

/// Digits after the point in pandas' default float display.
const PRECISION: usize = 6;

/// A float column as pandas prints it: six decimals, then trailing zeros
/// trimmed equally from every value (keeping one); scientific notation when
/// a value is tiny, or large and long; `NaN` for missing values.
pub fn float_column(values: &[Option<f64>]) -> Vec<String> {
    let fixed: Vec<Option<String>> = values
        .iter()
        .map(|v| v.map(|v| format!("{v:.PRECISION$}")))
        .collect();
    let trimmed = trim_zeros(fixed);
    // pandas measures the trimmed width with a leading space for the sign.
    let too_long = trimmed
        .iter()
        .flatten()
        .any(|text| text.len() + usize::from(!text.starts_with('-')) > PRECISION + 6);
    let finite = || values.iter().flatten().map(|v| v.abs());
    let large = finite().any(|v| v > 1e6);
    let small = finite().any(|v| v > 0.0 && v < 10f64.powi(-(PRECISION as i32)));
    if small || (too_long && large) {
        return values
            .iter()
            .map(|v| v.map_or_else(|| "NaN".to_string(), scientific))
            .collect();
    }
    trimmed
        .into_iter()
        .map(|t| t.unwrap_or_else(|| "NaN".to_string()))
        .collect()
}

/// Trims trailing zeros equally from every number while all of them end in
/// one, then gives back one zero to a number left ending in its point.
fn trim_zeros(mut texts: Vec<Option<String>>) -> Vec<Option<String>> {
    let is_number = |t: &String| !t.ends_with("inf");
    loop {
        let mut numbers = texts.iter().flatten().filter(|t| is_number(t)).peekable();
        if numbers.peek().is_none() || !numbers.all(|t| t.ends_with('0')) {
            break;
        }
        for text in texts.iter_mut().flatten().filter(|t| is_number(t)) {
            text.pop();
        }
    }
    for text in texts.iter_mut().flatten() {
        if text.ends_with('.') {
            text.push('0');
        }
    }
    texts
}

/// Python's `'{:.6e}'`: `2.400000e+07`.
fn scientific(value: f64) -> String {
    let text = format!("{value:.PRECISION$e}");
    let (mantissa, exponent) = text.split_once('e').expect("Rust writes an exponent");
    let exponent: i32 = exponent.parse().expect("an integer exponent");
    let sign = if exponent < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exponent.abs())
}

/// The Count column: integers while nothing is redacted; once a count is
/// redacted (NaN) pandas holds the column as floats.
pub fn count_column(counts: &[Option<u64>]) -> Vec<String> {
    if counts.iter().all(Option::is_some) {
        return counts.iter().flatten().map(u64::to_string).collect();
    }
    let floats: Vec<Option<f64>> = counts.iter().map(|c| c.map(|c| c as f64)).collect();
    float_column(&floats)
}

/// `True` or `False`, as pandas prints a bool.
pub fn python_bool(value: bool) -> &'static str {
    if value { "True" } else { "False" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_as_in_the_reference_reports() {
        assert_eq!(float_column(&[Some(50.0), Some(50.0)]), ["50.0", "50.0"]);
        assert_eq!(
            float_column(&[Some(895.0 / 1005.0 * 100.0), Some(25.0 / 1005.0 * 100.0)]),
            ["89.054726", "2.487562"]
        );
        assert_eq!(
            float_column(&[Some(89.5), Some(2.0), Some(8.5)]),
            ["89.5", "2.0", "8.5"]
        );
        assert_eq!(
            float_column(&[Some(0.008), Some(0.001)]),
            ["0.008", "0.001"]
        );
        assert_eq!(
            float_column(&[Some(0.008024), Some(0.008)]),
            ["0.008024", "0.008000"]
        );
        assert_eq!(float_column(&[None, Some(100.0)]), ["NaN", "100.0"]);
        assert_eq!(float_column(&[None, None]), ["NaN", "NaN"]);
    }

    #[test]
    fn large_and_tiny_floats_go_scientific() {
        assert_eq!(
            float_column(&[Some(123_456_789.123456), None]),
            ["1.234568e+08", "NaN"]
        );
        assert_eq!(
            float_column(&[Some(24_000_000.0), None]),
            ["24000000.0", "NaN"]
        );
        assert_eq!(
            float_column(&[Some(1e-7), Some(1.0)]),
            ["1.000000e-07", "1.000000e+00"]
        );
        // Large but short: fixed.
        assert_eq!(float_column(&[Some(1_500_000.0)]), ["1500000.0"]);
    }

    #[test]
    fn counts_turn_to_floats_once_one_is_redacted() {
        assert_eq!(count_column(&[Some(500), Some(10)]), ["500", "10"]);
        assert_eq!(count_column(&[None, Some(500)]), ["NaN", "500.0"]);
    }
}
