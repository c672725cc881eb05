//! `cohortkit report` / `dataset-report` end to end: v0.0.24 reproduced on
//! the upstream reference reports, disclosure rules on every published
//! figure, pandas' dtypes, other formats, errors, and the page in Chromium.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{cohortkit, pandas_python, reference, run_python};
use serde_json::Value;

/// The text of every cell of a table row, tags removed and entities decoded.
fn cells(row: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = row;
    while let Some(start) = rest.find("<t") {
        let after = &rest[start..];
        let is_cell = after.starts_with("<th") || after.starts_with("<td");
        let Some(open_end) = after.find('>') else {
            break;
        };
        if !is_cell {
            rest = &after[open_end..];
            continue;
        }
        let tag = &after[1..3];
        let close = format!("</{tag}>");
        let Some(end) = after.find(&close) else { break };
        out.push(text(&after[open_end + 1..end]));
        rest = &after[end + close.len()..];
    }
    out
}

fn text(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
        .trim()
        .to_string()
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(open) {
        let after = &rest[start + open.len()..];
        let Some(end) = after.find(close) else { break };
        out.push(&after[..end]);
        rest = &after[end + close.len()..];
    }
    out
}

/// What a dataset-report page says: the summary table (column -> Size (MB),
/// Data Type, Empty) and each summarised column's rows of (value, count,
/// percentage), in order.
#[derive(Debug, PartialEq)]
struct Legacy {
    summary: Vec<(String, String, String, String)>,
    sections: Vec<(String, Vec<Vec<String>>)>,
}

/// Parses upstream's page (`ours` false) or ours (its `legacy` tables).
fn parse_legacy(page: &str, ours: bool) -> Legacy {
    let split = page.find("<h2>Columns</h2>").expect("a Columns heading");
    let (head, columns) = page.split_at(split);
    let summary_html = &head[head.find("<h2>Summary</h2>").expect("a Summary heading")..];
    let header = cells(between(summary_html, "<thead>", "</thead>")[0]);
    let position = |name: &str| header.iter().position(|h| h == name);
    let (size, dtype, empty) = if ours {
        (
            position("Size (MB)").expect("a Size (MB) column"),
            position("Data Type").unwrap(),
            position("Empty").unwrap(),
        )
    } else {
        (1, 2, 3)
    };
    let body = between(summary_html, "<tbody>", "</tbody>")[0];
    let summary = between(body, "<tr>", "</tr>")
        .into_iter()
        .map(|row| {
            let c = cells(row);
            (
                c[0].clone(),
                c[size].clone(),
                c[dtype].clone(),
                c[empty].clone(),
            )
        })
        .collect();
    let mut sections = Vec::new();
    for section in between(columns, "<section", "</section>") {
        let name = text(between(section, "<h3>", "</h3>")[0]);
        let table = if ours {
            match between(section, r#"<table class="legacy">"#, "</table>").first() {
                Some(t) => *t,
                None => continue,
            }
        } else {
            section
        };
        let body = between(table, "<tbody>", "</tbody>")[0];
        let rows = between(body, "<tr>", "</tr>")
            .into_iter()
            .map(cells)
            .collect();
        sections.push((name, rows));
    }
    Legacy { summary, sections }
}

fn report(args: &[&str], input: &Path, out: &Path, program: Option<&str>) -> std::process::Output {
    let mut command = match program {
        Some("dataset-report") => Command::new(env!("CARGO_BIN_EXE_dataset-report")),
        _ => {
            let mut c = cohortkit();
            c.arg("report");
            c
        }
    };
    command
        .arg("--input-files")
        .arg(input)
        .arg("--output-dir")
        .arg(out)
        .args(args)
        .output()
        .expect("the binary runs")
}

fn ok(output: std::process::Output) -> std::process::Output {
    assert!(
        output.status.success(),
        "failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

#[test]
fn legacy_reproduces_both_upstream_reports() {
    for (dir, stem) in [
        ("joined", "input_2020-03-15"),
        ("joined_matched", "input_2020-03-01"),
    ] {
        let folder = reference().join("output").join(dir);
        let out = tempfile::tempdir().unwrap();
        // Run as dataset-report: legacy is its default.
        ok(report(
            &[],
            &folder.join(format!("{stem}.csv.gz")),
            out.path(),
            Some("dataset-report"),
        ));
        let ours = std::fs::read_to_string(out.path().join(format!("{stem}.html"))).unwrap();
        let upstream = std::fs::read_to_string(folder.join(format!("{stem}.html"))).unwrap();
        let (ours, upstream) = (parse_legacy(&ours, true), parse_legacy(&upstream, false));
        assert_eq!(upstream.summary.len(), 147);
        assert!(upstream.sections.len() > 30);
        assert_eq!(ours.summary, upstream.summary, "{dir}: summary table");
        assert_eq!(ours.sections, upstream.sections, "{dir}: column sections");
    }
}

fn json_report(input: &Path, args: &[&str]) -> Value {
    let out = tempfile::tempdir().unwrap();
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    ok(report(&all, input, out.path(), None));
    let name = input.file_name().unwrap().to_string_lossy();
    let stem = name.split('.').next().unwrap();
    let json = std::fs::read(out.path().join(format!("{stem}.json"))).unwrap();
    serde_json::from_slice(&json).unwrap()
}

fn joined(stem: &str) -> PathBuf {
    reference()
        .join("output/joined")
        .join(format!("{stem}.csv.gz"))
}

/// Every published count in a report.
fn counts(report: &Value) -> Vec<Option<u64>> {
    let mut out = vec![report["rows"].as_u64()];
    for column in report["columns"].as_array().unwrap() {
        let summary = &column["summary"];
        out.push(summary["missing"]["count"].as_u64());
        for value in summary["values"].as_array().unwrap() {
            out.push(value["count"].as_u64());
        }
    }
    out
}

#[test]
fn current_rule_publishes_no_small_or_unrounded_count() {
    let report = json_report(&joined("input_2020-03-08"), &[]);
    assert_eq!(report["sdc"], "current");
    let columns = report["columns"].as_array().unwrap();
    assert_eq!(columns.len(), 147);
    let counts = counts(&report);
    assert!(counts.iter().flatten().count() > 500);
    for count in counts.into_iter().flatten() {
        assert!(count > 7 && count % 5 == 0, "published {count}");
    }
    for column in columns {
        assert!(column["size_mb"].is_null(), "no size outside legacy");
        let values = column["summary"]["values"].as_array().unwrap();
        let published: f64 = values.iter().filter_map(|v| v["percentage"].as_f64()).sum();
        assert!(
            values.iter().all(|v| v["percentage"].is_null()) || (published - 100.0).abs() < 1e-6,
            "{}: percentages of published cells add to 100, not {published}",
            column["name"]
        );
    }
    let kind = |name: &str| {
        columns.iter().find(|c| c["name"] == name).unwrap()["summary"]["kind"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(kind("asthma"), "boolean");
    assert_eq!(kind("vaccination_primis_first_dose"), "boolean");
    assert_eq!(kind("age"), "numeric");
    assert_eq!(kind("sex"), "category");
    assert_eq!(kind("flucats_question_8_code"), "category");
    assert_eq!(kind("covid_vacc_date"), "date");
    // No date of death in this week's file: under the current rule that
    // reads as for a column of 1 to 7 values.
    assert_eq!(kind("died_any_date"), "fewvalues");
    assert_eq!(kind("patient_id"), "identifier");
}

#[test]
fn several_files_are_reported_in_parallel() {
    let out = tempfile::tempdir().unwrap();
    let pattern = reference().join("output/joined/input_*.csv.gz");
    ok(report(&["--threads", "2"], &pattern, out.path(), None));
    let mut names: Vec<String> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "input_2020-03-01.html",
            "input_2020-03-08.html",
            "input_2020-03-15.html"
        ]
    );
}

#[test]
fn midpoint6_publishes_only_zero_or_six_k_minus_three() {
    let report = json_report(&joined("input_2020-03-01"), &["--sdc", "midpoint6"]);
    let counts = counts(&report);
    assert!(
        counts.iter().all(Option::is_some),
        "midpoint6 redacts nothing"
    );
    for count in counts.into_iter().flatten() {
        assert!(count == 0 || count % 6 == 3, "published {count}");
    }
}

#[test]
fn dtypes_and_emptiness_match_pandas() {
    let Some(python) = pandas_python() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let tricky = dir.path().join("tricky.csv");
    std::fs::write(
        &tricky,
        "patient_id,lead0,plus,withnull,big,bigneg,flag,flagna,bools,boolsna,mixed,nan_text,infs,empty,codes\n\
         1,007,+5,1,18446744073709551615,18446744073709551615,0,1,True,True,True,NA,inf,,161925006\n\
         2,1,-3,,1,-1,1,,FALSE,,1,nan,1.5,,\n\
         3,2,4,3,2,2,0.0,0,true,False,x,2,-Infinity,,161925006.0\n",
    )
    .unwrap();
    for input in [tricky.clone(), joined("input_2020-03-15")] {
        let ours = json_report(&input, &["--sdc", "legacy"]);
        let script = r#"
import json, sys, pandas as pd
df = pd.read_csv(sys.argv[1])
out = {}
for name, s in df.items():
    dtype = str(s.dtype)
    out[name] = ["object" if dtype in ("str", "string") else dtype, bool(s.isna().all()), int(s.isna().sum())]
print(json.dumps(out))
"#;
        let pandas: BTreeMap<String, (String, bool, u64)> =
            serde_json::from_str(&run_python(&python, script, &[&input])).unwrap();
        for column in ours["columns"].as_array().unwrap() {
            let name = column["name"].as_str().unwrap();
            let (dtype, empty, _) = &pandas[name];
            assert_eq!(column["dtype"].as_str().unwrap(), dtype, "{name}");
            assert_eq!(column["empty"].as_bool().unwrap(), *empty, "{name}");
        }
    }
    // Under the current rule the type says what the values are, whatever
    // their number: a missing value does not make an integer a float, and
    // a column of no values is not told from one of a few.
    let current = json_report(&tricky, &[]);
    let column = |name: &str| {
        let columns = current["columns"].as_array().unwrap();
        columns.iter().find(|c| c["name"] == name).unwrap().clone()
    };
    assert_eq!(column("withnull")["dtype"], column("plus")["dtype"]);
    assert!(column("empty")["empty"].is_null());
    assert_eq!(column("empty")["few_values"], true);
    assert_eq!(
        column("empty")["summary"]["kind"],
        column("flagna")["summary"]["kind"]
    );
}

#[test]
fn typed_files_are_reported_like_their_csv() {
    use cohortkit::table::{Format, frame};
    let csv = joined("input_2020-03-15");
    let dir = tempfile::tempdir().unwrap();
    let parquet = dir.path().join("input_2020-03-15.parquet");
    let batch = cohortkit::table::typed_csv::read_csv_typed(&csv, Format::CsvGz).unwrap();
    let mut writer =
        frame::FrameWriter::create(&parquet, Format::Parquet, batch.schema(), 6).unwrap();
    writer.write(&batch).unwrap();
    writer.finish().unwrap();
    let (from_csv, from_parquet) = (json_report(&csv, &[]), json_report(&parquet, &[]));
    assert_eq!(from_csv["rows"], from_parquet["rows"]);
    let by_name = |report: &Value| -> BTreeMap<String, Value> {
        report["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["name"].as_str().unwrap().to_string(),
                    c["summary"].clone(),
                )
            })
            .collect()
    };
    let (a, b) = (by_name(&from_csv), by_name(&from_parquet));
    for name in ["asthma", "age", "sex", "bmi", "covid_vacc_date", "region"] {
        assert_eq!(a[name]["values"], b[name]["values"], "{name}");
        assert_eq!(a[name]["missing"], b[name]["missing"], "{name}");
    }
}

/// A column of the report by name.
fn column<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["columns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no column {name}"))
}

/// How far, as a share of the values, `value` is from rank `q × (n - 1)`
/// of sorted values: 0 when it lies where that rank falls.
fn rank_error(sorted: &[f64], value: f64, q: f64) -> f64 {
    let target = q * (sorted.len() - 1) as f64;
    let below = sorted.partition_point(|&x| x < value) as f64;
    let up_to = sorted.partition_point(|&x| x <= value) as f64;
    let (from, to) = if up_to > below {
        (below, up_to - 1.0)
    } else {
        (below - 1.0, below)
    };
    (from - target).max(target - to).max(0.0) / sorted.len() as f64
}

/// The three columns that broke the report: more than 2,000 distinct
/// values and one of 1e19 (a panic, exit 101), lognormal(0, 3) (a median
/// of 53.5 for 1.04) and ±1.5e308 (no section, the sum overflowing). Each
/// now has a numeric section with quartiles within 1 % of their ranks.
#[test]
fn numeric_columns_that_broke_the_report_get_right_quartiles() {
    use rand::SeedableRng;
    use rand_distr::{Distribution, LogNormal};
    let mut rng = rand_pcg::Pcg64::seed_from_u64(3);
    let lognormal = LogNormal::new(0.0, 3.0).unwrap();
    let n = 100_000;
    let columns: [(&str, Vec<f64>); 3] = [
        (
            "lognormal",
            (0..n).map(|_| lognormal.sample(&mut rng)).collect(),
        ),
        (
            "with_1e19",
            (0..n)
                .map(|i| {
                    if i == n / 2 {
                        1e19
                    } else {
                        (i % 5_000) as f64 * 0.37
                    }
                })
                .collect(),
        ),
        (
            "wide",
            (0..n)
                .map(|i| [1.5e308, -1.5e308, i as f64, i as f64][i % 4])
                .collect(),
        ),
    ];
    let mut csv = String::from("lognormal,with_1e19,wide\n");
    for i in 0..n {
        let row: Vec<String> = columns.iter().map(|(_, v)| format!("{:e}", v[i])).collect();
        csv.push_str(&row.join(","));
        csv.push('\n');
    }
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("hostile.csv");
    std::fs::write(&input, csv).unwrap();
    let report = json_report(&input, &[]);
    for (name, values) in columns {
        let summary = &column(&report, name)["summary"];
        assert_eq!(summary["kind"], "numeric", "{name}");
        assert!(
            !summary["values"].as_array().unwrap().is_empty(),
            "{name}: a histogram"
        );
        let mut sorted = values.clone();
        sorted.sort_by(f64::total_cmp);
        for (figure, q) in [("q1", 0.25), ("median", 0.5), ("q3", 0.75)] {
            let value = summary["statistics"][figure]
                .as_f64()
                .unwrap_or_else(|| panic!("{name} {figure}: {summary}"));
            let error = rank_error(&sorted, value, q);
            assert!(
                error <= 0.01,
                "{name} {figure} = {value:e}: {error} of rank off"
            );
        }
        assert!(
            summary["statistics"]["mean"].as_f64().is_some(),
            "{name}: {summary}"
        );
    }
    // The huge values cancel exactly: the mean is that of the others' share.
    let wide = column(&report, "wide")["summary"]["statistics"]["mean"]
        .as_f64()
        .unwrap();
    let exact = (0..n).filter(|i| i % 4 >= 2).sum::<usize>() as f64 / n as f64;
    assert!((wide - exact).abs() <= 5e-4 * exact, "{wide} vs {exact}");
}

/// A figure that cannot be given is withheld, and the JSON, the long
/// table and the page all say why: infinities make the mean infinite and fill the upper
/// quartile's rank.
#[test]
fn withheld_figures_say_why() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("infinite.csv");
    let rows = (0..200).map(|i| {
        if i < 60 {
            "inf".to_string()
        } else {
            i.to_string()
        }
    });
    let csv: String = std::iter::once("x".to_string())
        .chain(rows)
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&input, csv + "\n").unwrap();
    let json = json_report(&input, &[]);
    let statistics = &column(&json, "x")["summary"]["statistics"];
    assert_eq!(statistics["mean"], Value::Null, "{statistics}");
    assert_eq!(statistics["q3"], Value::Null, "{statistics}");
    assert_eq!(statistics["median"], 159.5, "{statistics}");
    assert_eq!(
        statistics["withheld"]["mean"],
        "the column holds infinite values"
    );
    assert_eq!(
        statistics["withheld"]["q3"],
        "infinite values lie at its rank"
    );
    let out = tempfile::tempdir().unwrap();
    ok(report(&["--csv"], &input, out.path(), None));
    let table = std::fs::read_to_string(out.path().join("infinite.csv")).unwrap();
    assert!(
        table.contains("x,mean,,withheld,withheld: the column holds infinite values\n"),
        "{table}"
    );
    let page = text(&std::fs::read_to_string(out.path().join("infinite.html")).unwrap());
    assert!(
        page.contains("Mean withheld: the column holds infinite values."),
        "{page}"
    );
    assert!(
        page.contains("75th percentile withheld: infinite values lie at its rank."),
        "{page}"
    );
}

/// Hostile numeric columns written by pandas as CSV, Parquet and Feather:
/// every file reports each as numeric, with quartiles within 1 % of the
/// ranks of numpy's on the same file and the mean to its four digits.
#[test]
fn numeric_statistics_match_numpy_in_every_format() {
    let Some(python) = pandas_python() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let write = r#"
import sys, numpy as np, pandas as pd, pyarrow.feather as feather
out = sys.argv[1]
rng = np.random.default_rng(12345)
n = 100_000
i = np.arange(n)
big = (i % 5000) * 0.37
big[n // 2] = 1e19
offsets = rng.integers(0, 1_000_000, n)
i64 = np.iinfo(np.int64)
df = pd.DataFrame({
    "lognormal": rng.lognormal(0, 3, n),
    "with_1e19": big,
    "wide": np.where(i % 4 == 0, 1.5e308, np.where(i % 4 == 1, -1.5e308, rng.normal(0, 10, n))),
    "int64": np.where(rng.random(n) < 0.5, i64.max - offsets, i64.min + offsets).astype(np.int64),
    "uint64": np.iinfo(np.uint64).max - rng.integers(0, 1_000_000, n).astype(np.uint64),
    "tiny": np.where(i % 2 == 0, 10.0 ** rng.uniform(-323, -300, n), rng.uniform(0, 1, n) * 1e-300),
})
df.to_csv(f"{out}/hostile.csv", index=False)
df.to_parquet(f"{out}/hostile.parquet")
feather.write_feather(df, f"{out}/hostile.feather")
"#;
    run_python(&python, write, &[dir.path()]);
    let check = r#"
import json, math, sys, numpy as np, pandas as pd
from fractions import Fraction
df = pd.read_parquet(sys.argv[1])
report = json.load(open(sys.argv[2]))
def rank_error(values, value, q):
    target = q * (len(values) - 1)
    below = np.searchsorted(values, value, "left")
    up_to = np.searchsorted(values, value, "right")
    start, end = (below, up_to - 1) if up_to > below else (below - 1, below)
    return float(max(start - target, target - end, 0) / len(values))
out = {}
for column in report["columns"]:
    name, summary = column["name"], column["summary"]
    values = np.sort(df[name].to_numpy().astype(np.float64))
    statistics = summary.get("statistics") or {}
    # The mean published is of the values winsorized at the 8th from each end.
    if df[name].dtype.kind in "iu":
        ordered = sorted(int(x) for x in df[name])
    else:
        ordered = [Fraction(v) for v in values.tolist()]
    ordered[:7] = [ordered[7]] * 7
    ordered[-7:] = [ordered[-8]] * 7
    exact = Fraction(sum(ordered), len(ordered))
    mean = statistics.get("mean")
    result = {
        "kind": summary["kind"],
        "bins": len(summary["values"]),
        "mean": None if mean is None else abs(Fraction(mean) - exact) / abs(exact),
    }
    for figure, q in (("q1", 0.25), ("median", 0.5), ("q3", 0.75)):
        value = statistics.get(figure)
        result[figure] = None if value is None else rank_error(values, value, q)
        result["numpy " + figure] = float(np.percentile(values, q * 100))
        result["ours " + figure] = value
    out[name] = result
print(json.dumps(out, default=float))
"#;
    for format in ["csv", "parquet", "feather"] {
        let input = dir.path().join(format!("hostile.{format}"));
        let out = tempfile::tempdir().unwrap();
        ok(report(&["--json"], &input, out.path(), None));
        let json = out.path().join("hostile.json");
        let checked: BTreeMap<String, Value> = serde_json::from_str(&run_python(
            &python,
            check,
            &[&dir.path().join("hostile.parquet"), &json],
        ))
        .unwrap();
        assert_eq!(checked.len(), 6, "{format}");
        for (name, result) in &checked {
            assert_eq!(result["kind"], "numeric", "{format} {name}: {result}");
            assert!(
                result["bins"].as_u64().unwrap() > 0,
                "{format} {name}: a histogram"
            );
            for figure in ["q1", "median", "q3"] {
                let error = result[figure]
                    .as_f64()
                    .unwrap_or_else(|| panic!("{format} {name}: {figure} withheld: {result}"));
                assert!(
                    error <= 0.01,
                    "{format} {name} {figure}: {error} of rank off: {result}"
                );
            }
            let mean = result["mean"]
                .as_f64()
                .unwrap_or_else(|| panic!("{format} {name}: no mean"));
            assert!(
                mean <= 5e-4,
                "{format} {name}: mean off by {mean}: {result}"
            );
        }
    }
}

#[test]
fn bad_inputs_fail_clearly_and_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let short = dir.path().join("short.csv");
    let mut text = String::from("patient_id,a\n");
    for i in 0..1000 {
        text.push_str(&format!("{i},1\n"));
    }
    text.push_str("1000\n");
    std::fs::write(&short, text).unwrap();
    let out = dir.path().join("out");
    let output = report(&[], &short, &out, None);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("short.csv, line 1002: expected 2 fields (as in the header), found 1"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_dir(&out).unwrap().count(),
        0,
        "no output left"
    );

    let txt = dir.path().join("input.txt");
    std::fs::write(&txt, "a\n1\n").unwrap();
    let output = report(&[], &txt, &out, None);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("Cannot read '.txt' files"));

    let output = report(&[], &dir.path().join("nothing*.csv"), &out, None);
    assert!(String::from_utf8_lossy(&output.stderr).contains("no files match --input-files"));

    let output = report(&["--sdc", "loose"], &short, &out, None);
    assert_eq!(output.status.code(), Some(2), "bad usage");
}

/// Headless Chromium, or `None` (with a note) when it is not installed and
/// CI has not asked for it.
fn chromium() -> Option<PathBuf> {
    for candidate in ["/usr/bin/chromium", "/usr/bin/chromium-browser"] {
        if Path::new(candidate).exists() {
            return Some(PathBuf::from(candidate));
        }
    }
    if std::env::var_os("COHORTKIT_REQUIRE_CHROMIUM").is_some() {
        panic!("COHORTKIT_REQUIRE_CHROMIUM is set but chromium is not installed");
    }
    eprintln!("note: chromium not installed; skipping the browser check");
    None
}

#[test]
fn the_page_renders_in_chromium_with_its_charts() {
    let Some(chromium) = chromium() else { return };
    let out = tempfile::tempdir().unwrap();
    ok(report(&[], &joined("input_2020-03-15"), out.path(), None));
    let page = out.path().join("input_2020-03-15.html");
    let source = std::fs::read_to_string(&page).unwrap();
    assert!(!source.contains("<script"), "no JavaScript");
    assert!(
        !source.contains("http://") || !source.contains("src=\"http"),
        "no external assets"
    );
    let profile = tempfile::tempdir().unwrap();
    let run = |extra: &[&str]| {
        Command::new(&chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .args(extra)
            .arg(format!("file://{}", page.display()))
            .output()
            .expect("chromium runs")
    };
    let dom = run(&["--dump-dom"]);
    common::assert_success(&dom);
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(dom.contains("<h1>Dataset Report</h1>"));
    let charts = dom.matches("<svg class=\"chart").count();
    let sections = dom.matches("<section class=\"column\"").count();
    assert_eq!(sections, 147);
    // Every column but the identifier and the empty ones has a chart.
    assert!(charts >= 140, "{charts} charts");
    for chart in between(&dom, "<svg class=\"chart", "</svg>") {
        assert!(chart.contains("<rect"), "every chart has bars: {chart}");
    }
    let shot = out.path().join("page.png");
    let screenshot = run(&[
        "--window-size=1100,1600",
        &format!("--screenshot={}", shot.display()),
    ]);
    assert!(screenshot.status.success());
    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 50_000,
        "a real picture"
    );
}

#[test]
fn source_date_epoch_makes_a_report_reproducible() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("output")).unwrap();
    std::fs::copy(
        common::reference().join("output/input_end.csv.gz"),
        dir.path().join("output/input_end.csv.gz"),
    )
    .unwrap();
    let report = |epoch: &str| {
        let output = common::cohortkit()
            .args([
                "report",
                "--quiet",
                "--input-files",
                "output/*.csv.gz",
                "-C",
            ])
            .arg(dir.path())
            .env("SOURCE_DATE_EPOCH", epoch)
            .output()
            .unwrap();
        (
            output,
            std::fs::read(dir.path().join("output/input_end.html")),
        )
    };
    let (first, html) = report("1700000000");
    common::assert_success(&first);
    let html = html.unwrap();
    assert!(
        String::from_utf8_lossy(&html).contains("<dt>Generated</dt><dd>2023-11-14T22:13:20Z</dd>")
    );
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let (second, again) = report("1700000000");
    common::assert_success(&second);
    assert_eq!(again.unwrap(), html);
    let (bad, _) = report("yesterday");
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr)
            .contains("SOURCE_DATE_EPOCH=yesterday is not a number")
    );
}
