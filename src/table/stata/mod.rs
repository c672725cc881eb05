//! Stata `.dta` files: formats 114, 115, 117, 118 and 119 read (either byte
//! order, plain or gzip), format 118 written (little-endian), as
//! `pandas.read_stata` and Stata 14 and later read it.
//!
//! [`read()`] gives one record batch with Stata's types mapped to Arrow's and
//! missing values as nulls; [`write()`] picks for each Arrow column the Stata
//! type that holds every value unchanged, and renames columns Stata would
//! not accept exactly as pandas `to_stata` does ([`names`]).

mod columns;
mod header;
mod input;
mod labels;
pub mod names;
mod plan;
mod read;
mod types;
mod values;
mod write;

pub use read::read;
pub use write::write;

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};
    use std::sync::Arc;

    use arrow_array::types::Int32Type;
    use arrow_array::{
        Array, ArrayRef, BooleanArray, Date32Array, DictionaryArray, Float32Array, Float64Array,
        Int8Array, Int16Array, Int32Array, Int64Array, LargeStringArray, RecordBatch, StringArray,
        StringViewArray, TimestampMillisecondArray, TimestampNanosecondArray, UInt64Array,
    };
    use arrow_schema::{DataType, Field, Schema, TimeUnit};

    use super::*;

    fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
        let fields: Vec<Field> = columns
            .iter()
            .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
            .collect();
        let arrays = columns.into_iter().map(|(_, a)| a).collect();
        RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).unwrap()
    }

    fn write_file(dir: &Path, batch: &RecordBatch) -> (PathBuf, Vec<(String, String)>) {
        let path = dir.join("t.dta");
        let mut bytes = Vec::new();
        let notes = write(batch, &mut bytes, &path).unwrap();
        std::fs::write(&path, bytes).unwrap();
        (path, notes)
    }

    fn round_trip(batch: &RecordBatch) -> (RecordBatch, Vec<(String, String)>) {
        let dir = tempfile::tempdir().unwrap();
        let (path, notes) = write_file(dir.path(), batch);
        (read(&path, false).unwrap(), notes)
    }

    fn types(batch: &RecordBatch) -> Vec<DataType> {
        batch
            .schema()
            .fields()
            .iter()
            .map(|f| f.data_type().clone())
            .collect()
    }

    #[test]
    fn integers_take_the_smallest_type_that_holds_them() {
        let input = batch(vec![
            (
                "flag",
                Arc::new(BooleanArray::from(vec![Some(true), None, Some(false)])),
            ),
            (
                "small",
                Arc::new(Int64Array::from(vec![Some(-127), Some(100), None])),
            ),
            (
                "past_byte",
                Arc::new(Int8Array::from(vec![Some(101), Some(-128), None])),
            ),
            (
                "i32",
                Arc::new(Int32Array::from(vec![Some(-32767), Some(32740), None])),
            ),
            (
                "i16",
                Arc::new(Int16Array::from(vec![Some(32741), Some(0), Some(1)])),
            ),
            (
                "wide",
                Arc::new(Int64Array::from(vec![Some(2_147_483_621), None, Some(-5)])),
            ),
            ("nothing", Arc::new(arrow_array::NullArray::new(3))),
        ]);
        let (output, notes) = round_trip(&input);
        assert!(notes.is_empty());
        assert_eq!(
            types(&output),
            [
                DataType::Int8,
                DataType::Int8,
                DataType::Int16,
                DataType::Int16,
                DataType::Int32,
                DataType::Float64,
                DataType::Int8
            ]
        );
        assert_eq!(integers(output.column(0)), [Some(1), None, Some(0)]);
        assert_eq!(output.column(6).null_count(), 3);
        for i in 1..6 {
            assert_eq!(integers(output.column(i)), integers(input.column(i)));
        }
    }

    /// The values of an integer or float column as i64.
    fn integers(array: &ArrayRef) -> Vec<Option<i64>> {
        (0..array.len())
            .map(|row| {
                let mut text = Vec::new();
                crate::table::render::render_cell(array.as_ref(), row, &mut text).unwrap();
                let text = String::from_utf8(text).unwrap();
                (!text.is_empty()).then(|| text.trim_end_matches(".0").parse().unwrap())
            })
            .collect()
    }

    #[test]
    fn integers_beyond_two_to_the_53_become_text_with_a_note() {
        let big = u64::MAX;
        let input = batch(vec![
            (
                "exact",
                Arc::new(Int64Array::from(vec![
                    Some(1 << 53),
                    Some(-(1 << 53)),
                    None,
                ])),
            ),
            (
                "code",
                Arc::new(UInt64Array::from(vec![Some(big), Some(7), None])),
            ),
        ]);
        let (output, notes) = round_trip(&input);
        assert_eq!(types(&output), [DataType::Float64, DataType::Utf8]);
        assert_eq!(integers(output.column(0)), integers(input.column(0)));
        let code = output
            .column(1)
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap();
        assert_eq!(
            code.iter().collect::<Vec<_>>(),
            [Some(big.to_string().as_str()), Some("7"), Some("")]
        );
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].0, "code");
        assert!(notes[0].1.contains("stored as Stata text"), "{notes:?}");
    }

    #[test]
    fn floats_dates_and_times_round_trip() {
        let input = batch(vec![
            (
                "f32",
                Arc::new(Float32Array::from(vec![
                    Some(1.5),
                    None,
                    Some(f32::NAN),
                    Some(-3.25e38),
                ])),
            ),
            (
                "f64",
                Arc::new(Float64Array::from(vec![
                    Some(0.1),
                    Some(-8.9e307),
                    None,
                    Some(27.839046852715178),
                ])),
            ),
            (
                "day",
                Arc::new(Date32Array::from(vec![
                    Some(0),
                    Some(-3653),
                    None,
                    Some(18_322),
                ])),
            ),
            (
                "at",
                Arc::new(TimestampMillisecondArray::from(vec![
                    Some(1_583_020_800_123),
                    None,
                    Some(-315_619_200_000),
                    Some(0),
                ])),
            ),
        ]);
        let (output, notes) = round_trip(&input);
        assert!(notes.is_empty());
        assert_eq!(
            types(&output),
            [
                DataType::Float64,
                DataType::Float64,
                DataType::Date32,
                DataType::Timestamp(TimeUnit::Millisecond, None)
            ]
        );
        let f32s = output
            .column(0)
            .as_any()
            .downcast_ref::<Float64Array>()
            .unwrap();
        assert_eq!(
            f32s.iter().collect::<Vec<_>>(),
            [Some(1.5), None, None, Some(f64::from(-3.25e38f32))]
        );
        let f64s = output
            .column(1)
            .as_any()
            .downcast_ref::<Float64Array>()
            .unwrap();
        assert_eq!(
            f64s.iter().collect::<Vec<_>>(),
            [Some(0.1), Some(-8.9e307), None, Some(27.839046852715178)]
        );
        assert_eq!(output.column(2).as_ref(), input.column(2).as_ref());
        assert_eq!(output.column(3).as_ref(), input.column(3).as_ref());
    }

    #[test]
    fn float32_within_range_stays_float32() {
        let input = batch(vec![(
            "f",
            Arc::new(Float32Array::from(vec![Some(1.7e38), None])),
        )]);
        let (output, _) = round_trip(&input);
        assert_eq!(output.column(0).as_ref(), input.column(0).as_ref());
    }

    #[test]
    fn sub_millisecond_times_are_refused_and_whole_milliseconds_kept() {
        let input = batch(vec![(
            "at",
            Arc::new(TimestampNanosecondArray::from(vec![
                Some(1_000_000),
                Some(2_000_001),
            ])),
        )]);
        let error = write(&input, &mut Vec::new(), Path::new("t.dta")).unwrap_err();
        let error = error.to_string();
        assert!(
            error.contains("\"at\"") && error.contains("row 2"),
            "{error}"
        );
        let whole = batch(vec![(
            "at",
            Arc::new(TimestampNanosecondArray::from(vec![Some(1_000_000), None])),
        )]);
        let (output, notes) = round_trip(&whole);
        let expected: ArrayRef = Arc::new(TimestampMillisecondArray::from(vec![Some(1), None]));
        assert_eq!(output.column(0).as_ref(), expected.as_ref());
        assert!(notes.is_empty());
        for zone in ["Europe/London", "UTC"] {
            let zoned = batch(vec![(
                "at",
                Arc::new(TimestampMillisecondArray::from(vec![1]).with_timezone(zone)),
            )]);
            let error = write(&zoned, &mut Vec::new(), Path::new("t.dta")).unwrap_err();
            assert!(
                error.to_string().contains(&format!("time zone {zone}")),
                "{error}"
            );
        }
    }

    #[test]
    fn text_of_every_arrow_kind_becomes_str_or_strl() {
        let long = "é".repeat(1500); // 3000 bytes: strL
        let dict: DictionaryArray<Int32Type> = vec![Some("b"), None, Some("a"), Some("b")]
            .into_iter()
            .collect();
        let input = batch(vec![
            (
                "s",
                Arc::new(StringArray::from(vec![
                    Some("héllo"),
                    None,
                    Some(""),
                    Some("x"),
                ])),
            ),
            (
                "large",
                Arc::new(LargeStringArray::from(vec![
                    Some("a"),
                    Some("bb"),
                    None,
                    Some("c"),
                ])),
            ),
            (
                "view",
                Arc::new(StringViewArray::from(vec![
                    Some("v"),
                    None,
                    Some("w"),
                    Some(""),
                ])),
            ),
            ("dict", Arc::new(dict)),
            (
                "longtext",
                Arc::new(StringArray::from(vec![
                    Some(long.as_str()),
                    Some(""),
                    None,
                    Some(long.as_str()),
                ])),
            ),
        ]);
        let (output, notes) = round_trip(&input);
        assert!(notes.is_empty());
        let texts = |i: usize| -> Vec<String> {
            let a = output
                .column(i)
                .as_any()
                .downcast_ref::<StringArray>()
                .unwrap();
            assert_eq!(a.null_count(), 0);
            a.iter().map(|v| v.unwrap().to_string()).collect()
        };
        assert_eq!(texts(0), ["héllo", "", "", "x"]);
        assert_eq!(texts(1), ["a", "bb", "", "c"]);
        assert_eq!(texts(2), ["v", "", "w", ""]);
        assert_eq!(texts(3), ["b", "", "a", "b"]);
        assert_eq!(texts(4), [long.as_str(), "", "", long.as_str()]);
    }

    #[test]
    fn invalid_names_are_renamed_and_labelled() {
        let input = batch(vec![
            ("a b", Arc::new(Int8Array::from(vec![1]))),
            (
                "flucats_other_covid_antigen_code",
                Arc::new(Int8Array::from(vec![2])),
            ),
            (
                "flucats_other_covid_antigen_code_date",
                Arc::new(Int8Array::from(vec![3])),
            ),
        ]);
        let (output, notes) = round_trip(&input);
        let names: Vec<String> = output
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        assert_eq!(
            names,
            [
                "a_b",
                "flucats_other_covid_antigen_code",
                "_0flucats_other_covid_antigen_co"
            ]
        );
        assert_eq!(
            notes,
            [
                (
                    "a b".to_string(),
                    "renamed \"a_b\" for Stata (its label keeps the old name)".to_string()
                ),
                (
                    "flucats_other_covid_antigen_code_date".to_string(),
                    "renamed \"_0flucats_other_covid_antigen_co\" for Stata (its label keeps the old name)"
                        .to_string()
                )
            ]
        );
    }

    #[test]
    fn columns_stata_cannot_hold_are_errors_naming_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.dta");
        let fail = |column: (&str, ArrayRef)| {
            let b = batch(vec![column]);
            write(&b, &mut Vec::new(), &path).unwrap_err().to_string()
        };
        let e = fail((
            "inf",
            Arc::new(Float64Array::from(vec![1.0, f64::INFINITY])),
        ));
        assert!(e.contains("column \"inf\"") && e.contains("row 2"), "{e}");
        let e = fail((
            "f32",
            Arc::new(Float32Array::from(vec![3e38, f32::NEG_INFINITY])),
        ));
        assert!(e.contains("-inf in row 2"), "{e}");
        let e = fail(("day", Arc::new(Date32Array::from(vec![0, i32::MAX - 10]))));
        assert!(e.contains("date in row 2"), "{e}");
        let e = fail(("nul", Arc::new(StringArray::from(vec!["a\0b"]))));
        assert!(e.contains("NUL"), "{e}");
        let e = fail((
            "bin",
            Arc::new(arrow_array::BinaryArray::from(vec![&b"x"[..]])),
        ));
        assert!(e.contains("type Binary"), "{e}");
    }

    #[test]
    fn empty_and_columnless_batches_round_trip() {
        let input = batch(vec![
            ("i", Arc::new(Int32Array::from(Vec::<i32>::new()))),
            ("s", Arc::new(StringArray::from(Vec::<&str>::new()))),
        ]);
        let (output, _) = round_trip(&input);
        assert_eq!(output.num_rows(), 0);
        assert_eq!(types(&output), [DataType::Int8, DataType::Utf8]);
    }

    #[test]
    fn truncated_files_say_where_they_end() {
        let dir = tempfile::tempdir().unwrap();
        let input = batch(vec![(
            "x",
            Arc::new(Int32Array::from((0..1000).collect::<Vec<_>>())),
        )]);
        let (path, _) = write_file(dir.path(), &input);
        let bytes = std::fs::read(&path).unwrap();
        for (cut, within) in [
            (82, "the header"),
            (400, "the variable descriptors"),
            (bytes.len() - 1500, "the data, in observation"),
            (bytes.len() - 20, "the tag"),
        ] {
            std::fs::write(&path, &bytes[..cut]).unwrap();
            let e = read(&path, false).unwrap_err().to_string();
            assert!(e.contains("truncated") && e.contains(within), "{cut}: {e}");
        }
    }

    #[test]
    fn other_files_are_not_stata_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.dta");
        for (content, says) in [
            (&b"patient_id,age\n1,2\n"[..], "not a Stata file"),
            (b"", "empty"),
            (b"<html></html>", "not a Stata file"),
            (b"PAR1\x15\x04\x15\x80", "it looks like a Parquet file"),
            (b"\x1f\x8b\x08\x00", "x.dta: the file is gzip-compressed"),
            (b"\x71\x02\x01\x00", "unsupported Stata format 113"),
            (
                b"<stata_dta><header><release>120</release>",
                "unsupported Stata format 120",
            ),
        ] {
            std::fs::write(&path, content).unwrap();
            let e = read(&path, false).unwrap_err().to_string();
            assert!(e.contains(says), "{e}");
            assert!(e.contains("x.dta"), "{e}");
        }
    }

    /// `bytes` with `cell` written over the data at `at` bytes into it.
    fn patched(bytes: &[u8], at: usize, cell: &[u8]) -> Vec<u8> {
        let data = memchr::memmem::find(bytes, b"<data>").unwrap() + "<data>".len();
        let mut bytes = bytes.to_vec();
        bytes[data + at..data + at + cell.len()].copy_from_slice(cell);
        bytes
    }

    #[test]
    fn extended_missing_values_are_nulls() {
        let input = batch(vec![
            ("b", Arc::new(Int8Array::from(vec![1, 2]))),
            ("i", Arc::new(Int16Array::from(vec![1000, 2]))),
            ("l", Arc::new(Int32Array::from(vec![100_000, 2]))),
            ("f", Arc::new(Float32Array::from(vec![1.5, 2.0]))),
            ("d", Arc::new(Float64Array::from(vec![1.5, 2.0]))),
        ]);
        let dir = tempfile::tempdir().unwrap();
        let (path, _) = write_file(dir.path(), &input);
        let bytes = std::fs::read(&path).unwrap();
        // Observation 2 (width 1+2+4+4+8 = 19) gets .a, .z and others.
        let bytes = patched(&bytes, 19, &[102]); // byte .a
        let bytes = patched(&bytes, 20, &32_767i16.to_le_bytes()); // int .z
        let bytes = patched(&bytes, 22, &2_147_483_630i32.to_le_bytes()); // long .j
        let bytes = patched(&bytes, 26, &0x7f00_0800u32.to_le_bytes()); // float .a
        let bytes = patched(&bytes, 30, &0x7fe0_1a00_0000_0000u64.to_le_bytes()); // double .z
        std::fs::write(&path, bytes).unwrap();
        let output = read(&path, false).unwrap();
        for column in output.columns() {
            assert!(column.is_valid(0) && column.is_null(1), "{column:?}");
        }
    }

    #[test]
    fn text_that_is_not_utf8_is_an_error_naming_the_variable() {
        let input = batch(vec![(
            "name",
            Arc::new(StringArray::from(vec!["ab", "cd"])),
        )]);
        let dir = tempfile::tempdir().unwrap();
        let (path, _) = write_file(dir.path(), &input);
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, patched(&bytes, 3, &[0xff])).unwrap();
        let e = read(&path, false).unwrap_err().to_string();
        assert!(
            e.contains("variable \"name\"") && e.contains("observation 2") && e.contains("UTF-8"),
            "{e}"
        );
    }

    #[test]
    fn binary_strls_must_be_utf8() {
        let long = "x".repeat(3000);
        let input = batch(vec![(
            "note",
            Arc::new(StringArray::from(vec![long.as_str()])),
        )]);
        let dir = tempfile::tempdir().unwrap();
        let (path, _) = write_file(dir.path(), &input);
        let bytes = std::fs::read(&path).unwrap();
        let gso = memchr::memmem::find(&bytes, b"GSO").unwrap();
        let mut binary = bytes.clone();
        binary[gso + 15] = 129; // the type: binary
        std::fs::write(&path, &binary).unwrap();
        let text = read(&path, false).unwrap();
        let note = text
            .column(0)
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap();
        assert_eq!(
            note.value(0).len(),
            3001,
            "binary keeps its last byte (the NUL)"
        );
        binary[gso + 20] = 0xff;
        std::fs::write(&path, &binary).unwrap();
        let e = read(&path, false).unwrap_err().to_string();
        assert!(
            e.contains("variable \"note\"") && e.contains("binary"),
            "{e}"
        );
    }

    #[test]
    fn dta_gz_files_that_are_not_compressed_are_read_as_they_are() {
        let input = batch(vec![("x", Arc::new(Int32Array::from(vec![1, 2, 3])))]);
        let dir = tempfile::tempdir().unwrap();
        let (path, _) = write_file(dir.path(), &input);
        let gz = dir.path().join("t.dta.gz");
        std::fs::rename(&path, &gz).unwrap();
        let output = read(&gz, true).unwrap();
        assert_eq!(integers(output.column(0)), integers(input.column(0)));
    }

    #[test]
    fn characteristics_are_skipped() {
        let input = batch(vec![("x", Arc::new(Int32Array::from(vec![7, 8])))]);
        let dir = tempfile::tempdir().unwrap();
        let (path, _) = write_file(dir.path(), &input);
        let bytes = std::fs::read(&path).unwrap();
        let at = memchr::memmem::find(&bytes, b"<characteristics>").unwrap() + 17;
        let mut ch = b"<ch>".to_vec();
        ch.extend_from_slice(&5u32.to_le_bytes());
        ch.extend_from_slice(b"notes</ch>");
        let with = [&bytes[..at], &ch, &ch, &bytes[at..]].concat();
        std::fs::write(&path, with).unwrap();
        let output = read(&path, false).unwrap();
        assert_eq!(integers(output.column(0)), integers(input.column(0)));
    }
}
