//! Arrow values written as text against pandas itself: random columns of
//! every Arrow type cohortkit reads, over each type's whole range (with its
//! extremes, nulls and dictionary encoding), are written to Arrow files;
//! pyarrow reads them, pandas `to_csv` prints them, and every cell must
//! equal cohortkit's text — or, where pandas cannot print a column (a date
//! outside years 1–9999), cohortkit must refuse it too.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::types::*;
use arrow_array::*;
use arrow_buffer::i256;
use arrow_schema::{DataType, Field, Schema};
use cohortkit::table::Format;
use cohortkit::table::frame::FrameWriter;
use cohortkit::table::render::ColumnText;
use proptest::prelude::*;

/// Values per column.
const ROWS: usize = 64;

/// An optional value: about one in eight is null.
fn maybe<T: std::fmt::Debug + Clone>(
    value: impl Strategy<Value = T>,
) -> impl Strategy<Value = Option<T>> {
    prop_oneof![1 => Just(None), 7 => value.prop_map(Some)]
}

fn column<T: std::fmt::Debug + Clone>(
    value: impl Strategy<Value = T>,
) -> impl Strategy<Value = Vec<Option<T>>> {
    proptest::collection::vec(maybe(value), ROWS)
}

/// Any `i64`, with the extremes and small values likely.
fn any_i64() -> impl Strategy<Value = i64> {
    prop_oneof![
        any::<i64>(),
        Just(i64::MIN),
        Just(i64::MAX),
        Just(i64::MIN + 1),
        -1000i64..1000,
    ]
}

/// Any `i64` but `i64::MIN`, which pandas reads as NaT (missing) in a
/// temporal column, where cohortkit writes the instant it is.
fn temporal_i64() -> impl Strategy<Value = i64> {
    any_i64().prop_filter("pandas' NaT", |v| *v != i64::MIN)
}

/// Every column of one case, by name.
fn columns() -> impl Strategy<Value = Vec<(String, ArrayRef)>> {
    let ints = (
        column(any::<i8>()),
        column(any::<i16>()),
        column(any::<i32>()),
        column(any_i64()),
        column(any::<u8>()),
        column(any::<u16>()),
        column(any::<u32>()),
        column(prop_oneof![any::<u64>(), Just(u64::MAX)]),
    )
        .prop_map(|(a, b, c, d, e, f, g, h)| {
            vec![
                named("int8", Int8Array::from(a)),
                named("int16", Int16Array::from(b)),
                named("int32", Int32Array::from(c)),
                named("int64", Int64Array::from(d)),
                named("uint8", UInt8Array::from(e)),
                named("uint16", UInt16Array::from(f)),
                named("uint32", UInt32Array::from(g)),
                named("uint64", UInt64Array::from(h)),
            ]
        });
    let floats = (
        column(any::<u16>()),
        column(any::<u32>()),
        column(prop_oneof![
            any::<u64>().prop_map(f64::from_bits),
            any::<f64>(),
            (-1e6f64..1e6),
            Just(f64::MAX),
            Just(f64::MIN_POSITIVE),
            Just(5e-324),
            Just(1e16),
            Just(1e-4),
        ]),
    )
        .prop_map(|(h, s, d)| {
            vec![
                named(
                    "float16",
                    Float16Array::from(
                        h.into_iter()
                            .map(|v| v.map(half::f16::from_bits))
                            .collect::<Vec<_>>(),
                    ),
                ),
                named(
                    "float32",
                    Float32Array::from(
                        s.into_iter()
                            .map(|v| v.map(f32::from_bits))
                            .collect::<Vec<_>>(),
                    ),
                ),
                named("float64", Float64Array::from(d)),
            ]
        });
    let decimals = (
        column(any::<i128>().prop_map(|v| v % 10i128.pow(38))),
        0i8..=38,
        column(any::<i64>()),
        column(any::<i32>().prop_map(|v| v % 1_000_000_000)),
    )
        .prop_map(|(d128, scale, d256, d32)| {
            vec![
                named(
                    "decimal128",
                    Decimal128Array::from(d128)
                        .with_precision_and_scale(38, scale)
                        .unwrap(),
                ),
                named(
                    "decimal128_negative_scale",
                    Decimal128Array::from(vec![Some(1i128), Some(-123), None, Some(0)])
                        .with_precision_and_scale(5, -3)
                        .unwrap(),
                ),
                named(
                    "decimal256",
                    Decimal256Array::from(
                        d256.into_iter()
                            .map(|v| {
                                v.map(|v| {
                                    i256::from_i128(i128::from(v)) * i256::from_i128(10i128.pow(30))
                                })
                            })
                            .collect::<Vec<_>>(),
                    )
                    .with_precision_and_scale(76, scale)
                    .unwrap(),
                ),
                named(
                    "decimal32",
                    Decimal32Array::from(d32.clone())
                        .with_precision_and_scale(9, 4)
                        .unwrap(),
                ),
                named(
                    "decimal64",
                    Decimal64Array::from(
                        d32.into_iter()
                            .map(|v| v.map(i64::from))
                            .collect::<Vec<_>>(),
                    )
                    .with_precision_and_scale(18, 0)
                    .unwrap(),
                ),
            ]
        });
    // Days of years 1 to 9999, which pandas holds as dates.
    let day = -719_162i32..=2_932_896;
    let dates = (
        column(day.clone()),
        column(day.clone().prop_map(|d| i64::from(d) * 86_400_000)),
        column(prop_oneof![any::<i32>(), day]),
    )
        .prop_map(|(d32, d64, wide)| {
            vec![
                named("date32", Date32Array::from(d32)),
                named("date64", Date64Array::from(d64)),
                named("date32_any", Date32Array::from(wide)),
            ]
        });
    let timestamps = (
        column(temporal_i64()),
        column(temporal_i64()),
        column(temporal_i64()),
        column(temporal_i64()),
        column(temporal_i64().prop_map(|v| v / 1_000 * 1_000)),
        column(any::<i32>().prop_map(|v| i64::from(v) * 86_400)),
    )
        .prop_map(|(s, ms, us, ns, whole, midnight)| {
            vec![
                named("timestamp_s", TimestampSecondArray::from(s)),
                named("timestamp_ms", TimestampMillisecondArray::from(ms)),
                named("timestamp_us", TimestampMicrosecondArray::from(us)),
                named("timestamp_ns", TimestampNanosecondArray::from(ns)),
                named(
                    "timestamp_ns_whole_us",
                    TimestampNanosecondArray::from(whole),
                ),
                named(
                    "timestamp_s_midnights",
                    TimestampSecondArray::from(midnight),
                ),
            ]
        });
    // Seconds from 1800 to 2200: offsets of named zones are known there
    // (and pandas converts them).
    let recent = -5_364_662_400i64..7_258_118_400;
    let zoned = (
        column(recent.clone()),
        column(recent.clone().prop_map(|s| s * 1_000 + 7)),
        column(recent.clone().prop_map(|s| s * 1_000_000)),
        column(temporal_i64()),
        // pandas prints zoned times only within Python's years 1 to 9999.
        column((-719_162i64..=2_932_896).prop_map(|day| day * 86_400)),
    )
        .prop_map(|(london, ny_ms, kolkata, utc_ns, utc_midnight)| {
            vec![
                named(
                    "tz_london",
                    TimestampSecondArray::from(london).with_timezone("Europe/London"),
                ),
                named(
                    "tz_new_york_ms",
                    TimestampMillisecondArray::from(ny_ms).with_timezone("America/New_York"),
                ),
                named(
                    "tz_fixed_us",
                    TimestampMicrosecondArray::from(kolkata).with_timezone("+05:30"),
                ),
                named(
                    "tz_utc_ns",
                    TimestampNanosecondArray::from(utc_ns).with_timezone("UTC"),
                ),
                named(
                    "tz_utc_midnights",
                    TimestampSecondArray::from(utc_midnight).with_timezone("UTC"),
                ),
            ]
        });
    let times = (
        column(0i32..86_400),
        column(0i32..86_400_000),
        column(0i64..86_400_000_000),
        column((0i64..86_400_000_000).prop_map(|us| us * 1_000)),
    )
        .prop_map(|(s, ms, us, ns)| {
            vec![
                named("time32_s", Time32SecondArray::from(s)),
                named("time32_ms", Time32MillisecondArray::from(ms)),
                named("time64_us", Time64MicrosecondArray::from(us)),
                named("time64_ns", Time64NanosecondArray::from(ns)),
            ]
        });
    // pandas converts durations to nanoseconds internally and overflows
    // beyond ±2^63 ns, so coarser units stay within that range here.
    let ns_range = -9_223_372_036i64..9_223_372_036;
    let durations = (
        column(ns_range.clone()),
        column(ns_range.clone().prop_map(|s| s * 1_000 + 500)),
        column(ns_range.prop_map(|s| s * 1_000_000)),
        column(temporal_i64()),
        column((-106_751i64..=106_751).prop_map(|d| d * 86_400)),
    )
        .prop_map(|(s, ms, us, ns, days)| {
            vec![
                named("duration_s", DurationSecondArray::from(s)),
                named("duration_ms", DurationMillisecondArray::from(ms)),
                named("duration_us", DurationMicrosecondArray::from(us)),
                named("duration_ns", DurationNanosecondArray::from(ns)),
                named("duration_s_days", DurationSecondArray::from(days)),
            ]
        });
    let text = (
        column(any::<bool>()),
        column(".{0,12}"),
        column("[a-z,\"\n\r ]{0,8}"),
        column(proptest::collection::vec(any::<u8>(), 0..10)),
        proptest::collection::vec(0i8..4, ROWS),
        proptest::collection::vec(maybe(0i16..3), ROWS),
    )
        .prop_map(|(b, s, quoted, bytes, keys, float_keys)| {
            let utf8: Vec<Option<&str>> = s.iter().map(|v| v.as_deref()).collect();
            let quoted: Vec<Option<&str>> = quoted.iter().map(|v| v.as_deref()).collect();
            let binary: Vec<Option<&[u8]>> = bytes.iter().map(|v| v.as_deref()).collect();
            vec![
                named("bool", BooleanArray::from(b)),
                named("utf8", StringArray::from(utf8.clone())),
                named("large_utf8", LargeStringArray::from(quoted.clone())),
                named("utf8_view", StringViewArray::from(utf8)),
                named("binary", BinaryArray::from(binary.clone())),
                named("large_binary", LargeBinaryArray::from(binary)),
                named("null", NullArray::new(ROWS)),
                named(
                    "dictionary_utf8",
                    DictionaryArray::<Int8Type>::try_new(
                        Int8Array::from(keys),
                        Arc::new(StringArray::from(vec!["a", "b,c", "", "d\"e"])),
                    )
                    .unwrap(),
                ),
                named(
                    "dictionary_float",
                    DictionaryArray::<Int16Type>::try_new(
                        Int16Array::from(float_keys.clone()),
                        Arc::new(Float64Array::from(vec![1.5, 2.0, 1e20])),
                    )
                    .unwrap(),
                ),
                named(
                    "dictionary_timestamp",
                    DictionaryArray::<Int16Type>::try_new(
                        Int16Array::from(float_keys),
                        Arc::new(TimestampSecondArray::from(vec![0, 86_400, 172_800])),
                    )
                    .unwrap(),
                ),
            ]
        });
    (
        ints, floats, decimals, dates, timestamps, zoned, times, durations, text,
    )
        .prop_map(|(a, b, c, d, e, f, g, h, i)| [a, b, c, d, e, f, g, h, i].concat())
}

fn named(name: &str, array: impl Array + 'static) -> (String, ArrayRef) {
    (name.to_string(), Arc::new(array))
}

/// Writes each column to its own Arrow IPC file.
fn write_columns(dir: &Path, columns: &[(String, ArrayRef)]) -> Vec<PathBuf> {
    columns
        .iter()
        .map(|(name, array)| {
            let path = dir.join(format!("{name}.arrow"));
            let schema = Arc::new(Schema::new(vec![Field::new(
                "x",
                array.data_type().clone(),
                true,
            )]));
            let batch = RecordBatch::try_new(schema.clone(), vec![array.clone()]).unwrap();
            let mut writer = FrameWriter::create(&path, Format::Arrow, schema, 6).unwrap();
            writer.write(&batch).unwrap();
            writer.finish().unwrap();
            path
        })
        .collect()
}

/// Prints each file's column with pandas, one JSON line per file: the
/// CSV text, or the error pandas gave.
const PANDAS: &str = r#"
import json, sys
import pyarrow.feather as feather
for path in sys.argv[1:]:
    try:
        text = feather.read_table(path).to_pandas().to_csv(index=False, lineterminator="\n")
        print(json.dumps({"csv": text}))
    except Exception as error:
        print(json.dumps({"error": f"{type(error).__name__}: {error}"}))
"#;

/// The cells of pandas' CSV of one column (header dropped).
fn pandas_cells(csv_text: &str) -> Vec<Vec<u8>> {
    // pandas quotes a field holding `\r` only when `\r` is in its line
    // terminator: a lone `\r` is text here.
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .terminator(csv::Terminator::Any(b'\n'))
        .from_reader(csv_text.as_bytes());
    reader
        .byte_records()
        .map(|r| r.unwrap().get(0).unwrap_or_default().to_vec())
        .collect()
}

/// pandas turns an integer column with nulls into float64 (`95.0`,
/// `9.223372036854776e+18`); cohortkit keeps the integer. They agree when
/// pandas' float is the nearest double to our integer.
fn same_integer(data_type: &DataType, ours: &[u8], theirs: &[u8]) -> bool {
    let integer = data_type.is_integer();
    let ours = std::str::from_utf8(ours)
        .ok()
        .and_then(|t| t.parse::<i128>().ok());
    let theirs = std::str::from_utf8(theirs)
        .ok()
        .and_then(|t| t.parse::<f64>().ok());
    integer && matches!((ours, theirs), (Some(a), Some(b)) if a as f64 == b)
}

fn check_case(python: &Path, columns: &[(String, ArrayRef)]) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let paths = write_columns(dir.path(), columns);
    let args: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
    let output = common::run_python(python, PANDAS, &args);
    for ((name, array), line) in columns.iter().zip(output.lines()) {
        let pandas: serde_json::Value = serde_json::from_str(line).unwrap();
        let text = ColumnText::new(array.as_ref())
            .map_err(|e| TestCaseError::fail(format!("{name}: {e}")))?;
        let ours: Vec<Result<Vec<u8>, String>> = (0..array.len())
            .map(|row| {
                let mut cell = Vec::new();
                text.write(row, &mut cell).map(|()| cell)
            })
            .collect();
        match pandas.get("csv").and_then(|v| v.as_str()) {
            Some(csv_text) => {
                let theirs = pandas_cells(csv_text);
                prop_assert_eq!(theirs.len(), ours.len(), "{}", name);
                for (row, (theirs, ours)) in theirs.iter().zip(&ours).enumerate() {
                    let ours = ours.as_ref().map_err(|e| {
                        TestCaseError::fail(format!(
                            "{name} row {row}: {e}, pandas printed {:?}",
                            theirs.escape_ascii().to_string()
                        ))
                    })?;
                    if ours != theirs && !same_integer(array.data_type(), ours, theirs) {
                        prop_assert_eq!(
                            ours.escape_ascii().to_string(),
                            theirs.escape_ascii().to_string(),
                            "{} row {}",
                            name,
                            row
                        );
                    }
                }
            }
            None => {
                // pandas refused the column: so must we, for some value.
                prop_assert!(
                    ours.iter().any(Result::is_err),
                    "{name}: pandas failed ({}) but every value was written",
                    pandas["error"]
                );
            }
        }
    }
    Ok(())
}

#[test]
fn every_arrow_type_is_written_as_pandas_writes_it() {
    let Some(python) = common::pandas_python() else {
        return;
    };
    let mut runner = common::property_runner("COHORTKIT_RENDER_CASES", 6, 0);
    let result = runner.run(&columns(), |columns| check_case(&python, &columns));
    if let Err(error) = result {
        panic!("{error}");
    }
}

/// Every f16 value at once, against numpy's text for it.
#[test]
fn every_float16_is_written_as_numpy_writes_it() {
    let Some(python) = common::pandas_python() else {
        return;
    };
    let all = Float16Array::from((0..=u16::MAX).map(half::f16::from_bits).collect::<Vec<_>>());
    check_case(&python, &[named("all_float16", all)]).unwrap();
}

/// A dictionary column with no values (pyarrow writes an empty or
/// all-missing categorical so) has only missing rows; Arrow's
/// `normalized_keys` panics on it. Found by the format-pair property test
/// with an empty rhs Feather file.
#[test]
fn a_dictionary_of_no_values_is_all_missing() {
    for rows in [0, 3] {
        let keys = Int32Array::from(vec![None; rows]);
        let values: ArrayRef = Arc::new(StringArray::from(Vec::<&str>::new()));
        let array = DictionaryArray::<Int32Type>::try_new(keys, values).unwrap();
        let text = ColumnText::new(&array).unwrap();
        for row in 0..rows {
            assert!(text.is_null(row));
            let mut out = Vec::new();
            text.write(row, &mut out).unwrap();
            assert!(out.is_empty());
        }
    }
}
