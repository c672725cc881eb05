//! `cohortkit join` against the real cohort-joiner outputs, malformed
//! inputs, interruptions and every file format.

mod common;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{cohortkit, pandas_python, reference, run_python};
use flate2::read::MultiGzDecoder;

/// A CSV file as header + rows of raw fields.
struct Table {
    header: Vec<String>,
    rows: Vec<Vec<Vec<u8>>>,
}

fn read_table(path: &Path) -> Table {
    let mut bytes = Vec::new();
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if path.extension().is_some_and(|e| e == "gz") {
        MultiGzDecoder::new(file).read_to_end(&mut bytes).unwrap();
    } else {
        std::io::BufReader::new(file)
            .read_to_end(&mut bytes)
            .unwrap();
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(&bytes[..]);
    let mut records = reader.byte_records().map(|r| r.unwrap());
    let header = records
        .next()
        .unwrap()
        .iter()
        .map(|f| String::from_utf8(f.to_vec()).unwrap())
        .collect();
    let rows = records
        .map(|r| r.iter().map(<[u8]>::to_vec).collect())
        .collect();
    Table { header, rows }
}

fn join(dir: &Path, args: &[&str]) -> Output {
    cohortkit()
        .current_dir(dir)
        .arg("join")
        .args(args)
        .output()
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A scratch directory holding a writable copy of the reference outputs.
fn scratch() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("input");
    std::fs::create_dir(&input).unwrap();
    for entry in std::fs::read_dir(reference().join("output")).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, input.join(path.file_name().unwrap())).unwrap();
        }
    }
    (dir, input)
}

/// Whether two cells are the same value once pandas' re-printing is undone:
/// `161925006.0` is `161925006`, and floats are compared as numbers.
fn same_value(ours: &[u8], upstream: &[u8]) -> bool {
    if ours == upstream {
        return true;
    }
    let number = |b: &[u8]| std::str::from_utf8(b).ok()?.parse::<f64>().ok();
    match (number(ours), number(upstream)) {
        (Some(a), Some(b)) => (a - b).abs() <= 1e-12 * a.abs().max(b.abs()),
        _ => false,
    }
}

#[test]
fn joins_equal_upstream_outputs_and_keep_every_input_byte() {
    let (dir, input) = scratch();
    for (rhs, upstream_dir) in [
        ("input_end.csv.gz", "joined"),
        ("input_end_matched.csv.gz", "joined_matched"),
    ] {
        let out = dir.path().join(upstream_dir);
        let output = join(
            dir.path(),
            &[
                "--lhs",
                "input/input_20*.csv.gz",
                "--rhs",
                &format!("input/{rhs}"),
                "--output-dir",
                upstream_dir,
            ],
        );
        assert!(output.status.success(), "{}", stderr(&output));

        let rhs_table = read_table(&input.join(rhs));
        let rhs_key = rhs_table
            .header
            .iter()
            .position(|c| c == "patient_id")
            .unwrap();
        let rhs_rows: HashMap<&[u8], &Vec<Vec<u8>>> = rhs_table
            .rows
            .iter()
            .map(|r| (r[rhs_key].as_slice(), r))
            .collect();

        let mut files = 0;
        for entry in std::fs::read_dir(reference().join("output").join(upstream_dir)).unwrap() {
            let upstream_path = entry.unwrap().path();
            if !upstream_path.to_string_lossy().ends_with(".csv.gz") {
                continue;
            }
            files += 1;
            let name = upstream_path.file_name().unwrap();
            let ours = read_table(&out.join(name));
            let upstream = read_table(&upstream_path);
            let lhs = read_table(&input.join(name));
            assert_eq!(ours.header, upstream.header, "{name:?}: header");
            assert_eq!(ours.rows.len(), upstream.rows.len(), "{name:?}: rows");
            let lhs_key = lhs.header.iter().position(|c| c == "patient_id").unwrap();
            let mut matched = 0;
            for (i, ((row, up), lhs_row)) in ours
                .rows
                .iter()
                .zip(&upstream.rows)
                .zip(&lhs.rows)
                .enumerate()
            {
                // Every field is byte-identical to the input field it came from.
                assert_eq!(
                    &row[..lhs_row.len()],
                    &lhs_row[..],
                    "{name:?} row {i}: lhs fields"
                );
                let rhs_fields: Vec<&[u8]> = match rhs_rows.get(lhs_row[lhs_key].as_slice()) {
                    Some(r) => {
                        matched += 1;
                        r.iter()
                            .enumerate()
                            .filter(|(j, _)| *j != rhs_key)
                            .map(|(_, f)| f.as_slice())
                            .collect()
                    }
                    None => vec![&b""[..]; rhs_table.header.len() - 1],
                };
                let ours_rhs: Vec<&[u8]> = row[lhs_row.len()..].iter().map(Vec::as_slice).collect();
                assert_eq!(ours_rhs, rhs_fields, "{name:?} row {i}: rhs fields");
                // And equals upstream's value once pandas' rendering is undone.
                for (column, (a, b)) in row.iter().zip(up).enumerate() {
                    assert!(
                        same_value(a, b),
                        "{name:?} row {i} column {}: ours {:?}, upstream {:?}",
                        ours.header[column],
                        String::from_utf8_lossy(a),
                        String::from_utf8_lossy(b)
                    );
                }
            }
            if upstream_dir == "joined_matched" && name == "input_2020-03-01.csv.gz" {
                assert_eq!(
                    matched, 800,
                    "800 of the matched end file's ids come from this week"
                );
            }
        }
        assert_eq!(files, 3);
    }
}

#[test]
fn pandas_reads_our_gzip_as_it_reads_upstreams() {
    let Some(python) = pandas_python() else {
        return;
    };
    let (dir, _) = scratch();
    let output = join(
        dir.path(),
        &[
            "--lhs",
            "input/input_20*.csv.gz",
            "--rhs",
            "input/input_end_matched.csv.gz",
            "--output-dir",
            "out",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let script = r#"
import sys, pandas as pd
ours = pd.read_csv(sys.argv[1])
upstream = pd.read_csv(sys.argv[2])
pd.testing.assert_frame_equal(ours, upstream, check_dtype=False, rtol=1e-12)
print(len(ours))
"#;
    let printed = run_python(
        &python,
        script,
        &[
            &dir.path().join("out/input_2020-03-01.csv.gz"),
            &reference().join("output/joined_matched/input_2020-03-01.csv.gz"),
        ],
    );
    assert_eq!(printed.trim(), "1000");
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

fn gzip(path: &Path, text: &[u8]) {
    let mut encoder = flate2::write::GzEncoder::new(
        std::fs::File::create(path).unwrap(),
        flate2::Compression::default(),
    );
    encoder.write_all(text).unwrap();
    encoder.finish().unwrap();
}

#[test]
fn values_pandas_would_change_pass_through_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("in")).unwrap();
    write(
        &d.join("in/week.csv"),
        "code,text,patient_id\r\n0123,NA,1\r\n123456789012345678,\"a,\"\"b\"\"\",2\r\n1e3,n/a,3\r\n1.50,#N/A,4\r\n",
    );
    write(
        &d.join("in/end.csv"),
        "patient_id,flag,note\n1,1,null\n 2 ,,NaN\n3.0,0,<NA>\n",
    );
    let output = join(
        d,
        &[
            "--lhs",
            "in/week.csv",
            "--rhs",
            "in/end.csv",
            "--output-dir",
            "out",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        std::fs::read_to_string(d.join("out/week.csv")).unwrap(),
        "code,text,patient_id,flag,note\r\n\
         0123,NA,1,1,null\r\n\
         123456789012345678,\"a,\"\"b\"\"\",2,,NaN\r\n\
         1e3,n/a,3,0,<NA>\r\n\
         1.50,#N/A,4,,\r\n"
    );
    let summary = stderr(&output);
    assert!(summary.contains("4 rows, 3 matched (75.0 %)"), "{summary}");
}

#[test]
fn runs_as_cohort_joiner_by_name() {
    let (dir, _) = scratch();
    let linked = dir.path().join("cohort-joiner");
    std::fs::copy(env!("CARGO_BIN_EXE_cohortkit"), &linked).unwrap();
    for program in [linked, PathBuf::from(env!("CARGO_BIN_EXE_cohort-joiner"))] {
        let output = Command::new(&program)
            .current_dir(dir.path())
            .args([
                "--lhs",
                "input/input_2020-03-0*.csv.gz",
                "--rhs",
                "input/input_end.csv.gz",
            ])
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", stderr(&output));
        // Upstream's default output directory.
        assert!(
            dir.path()
                .join("output/joined/input_2020-03-08.csv.gz")
                .is_file()
        );
        std::fs::remove_dir_all(dir.path().join("output")).unwrap();
    }
}

/// Runs a join expected to fail; returns its stderr.
fn failure(dir: &Path, args: &[&str]) -> String {
    let output = join(dir, args);
    assert_eq!(
        output.status.code(),
        Some(1),
        "expected exit 1: {}",
        stderr(&output)
    );
    stderr(&output)
}

#[test]
fn bad_arguments_are_clear_errors() {
    let (dir, _) = scratch();
    let d = dir.path();
    let cases: [(&[&str], &str); 6] = [
        (
            &[
                "--lhs",
                "input/nothing_*.csv",
                "--rhs",
                "input/input_end.csv.gz",
            ],
            "no files match --lhs input/nothing_*.csv",
        ),
        (
            &[
                "--lhs",
                "input/input_20*.csv.gz",
                "--rhs",
                "input/input_e*.csv.gz",
            ],
            "Argument should be a path and not a glob pattern",
        ),
        (
            &[
                "--lhs",
                "input/input_20*.csv.gz",
                "--rhs",
                "input/missing.csv",
            ],
            "--rhs input/missing.csv: no such file",
        ),
        (
            &[
                "--lhs",
                "input/input_20*.csv.gz",
                "--rhs",
                "input/input_end.csv.gz",
                "--output-dir",
                "input",
            ],
            "The output directory cannot contain the input dataframes",
        ),
        (
            &[
                "--lhs",
                "input/input_*.csv.gz",
                "--rhs",
                "input/input_end.csv.gz",
            ],
            "also matches the --rhs file",
        ),
        (
            &[
                "--lhs",
                "input/input_20*.csv.gz",
                "--rhs",
                "input/input_end.csv.gz",
                "--compression-level",
                "13",
            ],
            "0 (none) to 12",
        ),
    ];
    for (args, message) in cases {
        let output = join(d, args);
        assert_ne!(output.status.code(), Some(0), "{args:?}");
        assert!(
            stderr(&output).contains(message),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    write(&d.join("input/notes.txt"), "patient_id\n1\n");
    let error = failure(
        d,
        &[
            "--lhs",
            "input/notes.txt",
            "--rhs",
            "input/input_end.csv.gz",
        ],
    );
    assert!(
        error.contains("Cannot read '.txt' files: input/notes.txt"),
        "{error}"
    );
    std::fs::create_dir(d.join("other")).unwrap();
    std::fs::copy(
        d.join("input/input_2020-03-01.csv.gz"),
        d.join("other/input_2020-03-01.csv.gz"),
    )
    .unwrap();
    let error = failure(
        d,
        &[
            "--lhs",
            "*/input_2020-03-01.csv.gz",
            "--rhs",
            "input/input_end.csv.gz",
        ],
    );
    assert!(error.contains("matches two files named"), "{error}");
}

#[test]
fn malformed_files_are_named_with_their_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("in")).unwrap();
    write(&d.join("in/end.csv"), "patient_id,x\n1,a\n2,b\n");
    let cases = [
        (
            "nokey.csv",
            "id,x\n1,2\n",
            "in/nokey.csv: no patient_id column; its columns are: id, x",
        ),
        (
            "short.csv",
            "a,patient_id\n1,1\n2\n",
            "in/short.csv, line 3: expected 2 fields (as in the header), found 1",
        ),
        (
            "long.csv",
            "a,patient_id\n1,1,9\n",
            "in/long.csv, line 2: expected 2 fields (as in the header), found 3",
        ),
        (
            "empty.csv",
            "",
            "in/empty.csv: the file is empty; a cohort file needs a header row",
        ),
    ];
    for (name, text, message) in cases {
        write(&d.join("in").join(name), text);
        let error = failure(
            d,
            &[
                "--lhs",
                &format!("in/{name}"),
                "--rhs",
                "in/end.csv",
                "--output-dir",
                "out",
            ],
        );
        assert!(error.contains(message), "{name}: {error}");
    }
    write(&d.join("in/dup.csv"), "patient_id,x\n1,a\n2,b\n1.0,c\n");
    write(&d.join("in/week.csv"), "patient_id\n1\n");
    let error = failure(
        d,
        &[
            "--lhs",
            "in/week.csv",
            "--rhs",
            "in/dup.csv",
            "--output-dir",
            "out",
        ],
    );
    assert!(
        error.contains("in/dup.csv: patient_id 1 appears twice, on lines 2 and 4"),
        "{error}"
    );
    assert!(!d.join("out/week.csv").exists());
}

#[test]
fn patient_ids_match_however_they_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        &d.join("week.csv"),
        "patient_id,w\n123,a\n 124 ,b\n125.0,c\n126,d\n",
    );
    write(
        &d.join("end.csv"),
        "x,patient_id\nA,123.0\nB,124\nC, 125 \n",
    );
    let output = join(
        d,
        &[
            "--lhs",
            "week.csv",
            "--rhs",
            "end.csv",
            "--output-dir",
            "out",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        std::fs::read_to_string(d.join("out/week.csv")).unwrap(),
        "patient_id,w,x\n123,a,A\n 124 ,b,B\n125.0,c,C\n126,d,\n"
    );
}

/// Temporary files the join may have left in `dir`.
fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n.contains(".tmp-"))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_corrupt_gzip_among_five_inputs_leaves_no_partial_file() {
    let (dir, input) = scratch();
    let d = dir.path();
    let week = std::fs::read(input.join("input_2020-03-01.csv.gz")).unwrap();
    for i in 2..=4 {
        std::fs::write(input.join(format!("input_2020-04-0{i}.csv.gz")), &week).unwrap();
    }
    // Truncated: the gzip stream ends half way.
    std::fs::write(
        input.join("input_2020-04-01.csv.gz"),
        &week[..week.len() / 2],
    )
    .unwrap();
    let error = failure(
        d,
        &[
            "--lhs",
            "input/input_2020-0[34]-0[1-4].csv.gz",
            "--rhs",
            "input/input_end.csv.gz",
            "--output-dir",
            "out",
        ],
    );
    assert!(
        error.contains("input/input_2020-04-01.csv.gz: cannot decompress"),
        "{error}"
    );
    assert!(error.contains("corrupt or truncated"), "{error}");
    assert!(error.contains("1 of 5 files failed"), "{error}");
    assert!(!d.join("out/input_2020-04-01.csv.gz").exists());
    for name in [
        "input_2020-03-01",
        "input_2020-04-02",
        "input_2020-04-03",
        "input_2020-04-04",
    ] {
        assert_eq!(
            read_table(&d.join(format!("out/{name}.csv.gz"))).rows.len(),
            1000,
            "{name}"
        );
    }
    assert!(leftovers(&d.join("out")).is_empty());

    // Corrupt: bytes flipped in the middle of the deflate stream.
    let mut corrupt = week.clone();
    for byte in &mut corrupt[1000..1100] {
        *byte ^= 0x5a;
    }
    std::fs::write(input.join("input_2020-04-01.csv.gz"), &corrupt).unwrap();
    let error = failure(
        d,
        &[
            "--lhs",
            "input/input_2020-04-01.csv.gz",
            "--rhs",
            "input/input_end.csv.gz",
            "--output-dir",
            "out2",
        ],
    );
    assert!(error.contains("cannot decompress"), "{error}");
    assert!(!d.join("out2/input_2020-04-01.csv.gz").exists());
    assert!(leftovers(&d.join("out2")).is_empty());
}

/// A large lhs file: the reference week's rows repeated with new ids.
fn large_week(path: &Path, rows: usize) {
    let week = read_table(&reference().join("output/input_2020-03-01.csv.gz"));
    let key = week.header.iter().position(|c| c == "patient_id").unwrap();
    let mut text = Vec::new();
    text.extend_from_slice(week.header.join(",").as_bytes());
    text.push(b'\n');
    for i in 0..rows {
        let row = &week.rows[i % week.rows.len()];
        for (j, field) in row.iter().enumerate() {
            if j > 0 {
                text.push(b',');
            }
            if j == key {
                text.extend_from_slice(i.to_string().as_bytes());
            } else {
                text.extend_from_slice(field);
            }
        }
        text.push(b'\n');
    }
    gzip(path, &text);
}

#[test]
fn an_interrupted_join_leaves_no_partial_file() {
    let (dir, input) = scratch();
    let d = dir.path();
    large_week(&input.join("input_big.csv.gz"), 150_000);
    for signal in ["TERM", "INT", "KILL"] {
        let out = d.join(format!("out-{signal}"));
        let mut child = cohortkit()
            .current_dir(d)
            .args([
                "join",
                "--lhs",
                "input/input_big.csv.gz",
                "--rhs",
                "input/input_end.csv.gz",
                "--threads",
                "1",
                "--compression-level",
                "9",
            ])
            .arg("--output-dir")
            .arg(&out)
            .spawn()
            .unwrap();
        // Wait until the output is being written, then interrupt.
        let started = std::time::Instant::now();
        while leftovers(&out).is_empty() && started.elapsed().as_secs() < 20 {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert!(
            !leftovers(&out).is_empty(),
            "the join never started writing"
        );
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let exit = child.wait().unwrap();
        assert!(
            !exit.success(),
            "{signal}: the join finished before the signal"
        );
        assert!(
            !out.join("input_big.csv.gz").exists(),
            "{signal}: a partial file has the final name"
        );
        if signal != "KILL" {
            // Catchable signals also remove the temporary file.
            assert!(
                leftovers(&out).is_empty(),
                "{signal}: {:?}",
                leftovers(&out)
            );
        }
    }
}

#[test]
fn columnar_formats_keep_their_types() {
    let Some(python) = pandas_python() else {
        return;
    };
    let (dir, input) = scratch();
    let d = dir.path();
    // Fixtures made by pandas from the reference CSVs.
    let script = r#"
import sys, os, pandas as pd
src = sys.argv[1]
week = pd.read_csv(os.path.join(src, "input_2020-03-01.csv.gz"))
end = pd.read_csv(os.path.join(src, "input_end_matched.csv.gz"))
os.makedirs(os.path.join(src, "cols"), exist_ok=True)
week.to_feather(os.path.join(src, "cols", "week_a.feather"))
week.to_parquet(os.path.join(src, "cols", "week_b.parquet"))
import pyarrow as pa, pyarrow.feather as feather
feather.write_feather(pa.Table.from_pandas(week, preserve_index=False), os.path.join(src, "cols", "week_c.arrow"), compression="zstd")
end.to_feather(os.path.join(src, "end.feather"))
"#;
    run_python(&python, script, &[&input]);
    for rhs in ["input/end.feather", "input/input_end_matched.csv.gz"] {
        let out = d.join(format!("out-{}", rhs.len()));
        let output = join(
            d,
            &[
                "--lhs",
                "input/cols/week_*",
                "--rhs",
                rhs,
                "--output-dir",
                out.to_str().unwrap(),
            ],
        );
        assert!(output.status.success(), "{}", stderr(&output));
        let check = r#"
import sys, os, pandas as pd, pyarrow.feather as feather, pyarrow.parquet as pq
out, src = sys.argv[1], sys.argv[2]
week = pd.read_csv(os.path.join(src, "input_2020-03-01.csv.gz"))
end = pd.read_csv(os.path.join(src, "input_end_matched.csv.gz"))
expected = week.merge(end, how="left", on="patient_id")
for name, table in [("week_a.feather", feather.read_table), ("week_b.parquet", pq.read_table), ("week_c.arrow", feather.read_table)]:
    t = table(os.path.join(out, name))
    # An rhs integer column with missing values stays an integer column.
    assert str(t.schema.field("vaccination_primis_first_dose").type) == "int64", t.schema.field("vaccination_primis_first_dose")
    ours = t.to_pandas()
    assert list(ours.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(ours, expected, check_dtype=False)
print("ok")
"#;
        assert_eq!(run_python(&python, check, &[&out, &input]).trim(), "ok");
    }
}

#[test]
fn stats_are_written_as_json_or_csv() {
    let (dir, _) = scratch();
    let d = dir.path();
    let output = join(
        d,
        &[
            "--lhs",
            "input/input_2020-03-01.csv.gz",
            "--rhs",
            "input/input_end_matched.csv.gz",
            "--stats",
            "stats.json",
            "--quiet",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        output.stderr.is_empty(),
        "--quiet prints nothing: {}",
        stderr(&output)
    );
    let stats: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("stats.json")).unwrap()).unwrap();
    assert_eq!(stats[0]["rows"], 1000);
    assert_eq!(stats[0]["matched"], 800);
    let output = join(
        d,
        &[
            "--lhs",
            "input/input_2020-03-08.csv.gz",
            "--rhs",
            "input/input_end_matched.csv.gz",
            "--stats",
            "stats.csv",
            "--output-dir",
            "o2",
        ],
    );
    assert!(output.status.success());
    assert!(stderr(&output).contains("warning: fewer than half of the rows matched"));
    let csv = std::fs::read_to_string(d.join("stats.csv")).unwrap();
    assert!(
        csv.starts_with("input,output,rows,matched,share\n"),
        "{csv}"
    );
}
