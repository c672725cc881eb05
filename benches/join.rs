//! Criterion benchmarks of the join's parts: building the rhs index (from
//! CSV, and from an Arrow file with dictionary columns, which must stay
//! linear in rows), walking unquoted records, streaming the record join
//! (plain, and from one gzip member as pandas writes it), reading one gzip
//! member whole with libdeflate beside streaming it, and the parallel gzip
//! writer; and the integer-id table beside a general hash map.
//!
//! Data: the FLUCATS reference files (../shared/reference), replicated to
//! 20,000 rows with fresh patient ids.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use std::collections::HashMap;

use cohortkit::hashing::FixedState;
use cohortkit::join::id_map::IdMap;
use cohortkit::join::index::TextIndex;
use cohortkit::table::Format;
use cohortkit::table::gzip::GzipWriter;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const ROWS: usize = 20_000;

fn reference(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/reference/flucats/output")
        .join(name)
}

/// The reference file's text with its rows repeated to `rows` rows, ids
/// 0..rows (the id is the last column in FLUCATS files).
fn replicated(name: &str, rows: usize) -> Vec<u8> {
    let mut text = String::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(reference(name)).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    let mut lines = text.lines();
    let mut out = format!("{}\n", lines.next().unwrap()).into_bytes();
    let body: Vec<&str> = lines.map(|l| l.rsplit_once(',').unwrap().0).collect();
    for i in 0..rows {
        writeln!(out, "{},{i}", body[i % body.len()]).unwrap();
    }
    out
}

fn benches(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let rhs_path = dir.path().join("input_end.csv");
    let lhs_path = dir.path().join("input_2020-03-01.csv");
    std::fs::write(&rhs_path, replicated("input_end.csv.gz", ROWS)).unwrap();
    let lhs_text = replicated("input_2020-03-01.csv.gz", ROWS);
    std::fs::write(&lhs_path, &lhs_text).unwrap();

    let mut group = c.benchmark_group("join");
    group.sample_size(20);
    group.throughput(Throughput::Elements(ROWS as u64));
    group.bench_function("rhs index build (20k rows, 24 columns)", |b| {
        b.iter(|| TextIndex::build(&rhs_path, Format::Csv).unwrap())
    });

    // The same rhs as Arrow with every text column dictionary-encoded, as
    // pandas writes categoricals; at 10x the rows too, to show linearity.
    for rows in [ROWS, 10 * ROWS] {
        let path = dir.path().join(format!("input_end_{rows}.feather"));
        write_dictionary_feather(&replicated("input_end.csv.gz", rows), &path);
        group.throughput(Throughput::Elements(rows as u64));
        group.bench_function(
            format!("rhs index build, dictionary feather ({rows} rows)"),
            |b| b.iter(|| TextIndex::build(&path, Format::Feather).unwrap()),
        );
    }
    group.throughput(Throughput::Elements(ROWS as u64));

    let index = TextIndex::build(&rhs_path, Format::Csv).unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let progress = cohortkit::progress::Rows::hidden();
    group.throughput(Throughput::Bytes(lhs_text.len() as u64));
    group.bench_function("record join, csv (20k rows, 124 columns)", |b| {
        b.iter(|| {
            cohortkit::join::stream::join_csv(
                &lhs_path,
                Format::Csv,
                &index,
                &out.join("j.csv"),
                6,
                &progress,
            )
            .unwrap()
        })
    });

    group.bench_function("unquoted record walk (same bytes)", |b| {
        b.iter(|| {
            let mut keys = 0;
            cohortkit::table::chunks::unquoted_records(&lhs_text, 124, 123, |_, key| {
                keys += key.len()
            })
            .unwrap()
                + keys as u64
        })
    });

    // One gzip member at level 9, as pandas and cohortextractor write it.
    let one_member = dir.path().join("input_2020-03-08.csv.gz");
    let mut encoder = flate2::write::GzEncoder::new(
        std::fs::File::create(&one_member).unwrap(),
        flate2::Compression::new(9),
    );
    encoder.write_all(&lhs_text).unwrap();
    encoder.finish().unwrap();
    group.bench_function("record join, csv.gz of one member (same rows)", |b| {
        b.iter(|| {
            cohortkit::join::stream::join_csv(
                &one_member,
                Format::CsvGz,
                &index,
                &out.join("j.csv"),
                6,
                &progress,
            )
            .unwrap()
        })
    });
    let read_all = |mut reader: Box<dyn std::io::BufRead + Send>| {
        let mut text = Vec::with_capacity(lhs_text.len());
        reader.read_to_end(&mut text).unwrap();
        text.len()
    };
    group.bench_function("one gzip member inflated whole (libdeflate)", |b| {
        b.iter(|| read_all(cohortkit::table::gzip_members::open(&one_member, 1).unwrap()))
    });
    group.bench_function("one gzip member streamed (zlib-rs)", |b| {
        b.iter(|| {
            let file = std::io::BufReader::new(std::fs::File::open(&one_member).unwrap());
            read_all(Box::new(std::io::BufReader::new(
                cohortkit::table::gzip::Members::new(file),
            )))
        })
    });

    group.bench_function("gzip writer, level 6 (same bytes)", |b| {
        b.iter(|| {
            let mut writer = GzipWriter::new(Vec::with_capacity(lhs_text.len() / 3), 6);
            writer.write_all(&lhs_text).unwrap();
            writer.finish().unwrap()
        })
    });
    group.finish();
    id_maps(c);
}

/// Integer ids to rows, as the rhs index keeps them: the open-addressing
/// table on huge pages beside a general hash map, at a large end file's
/// size (ids in a scrambled order, then every id looked up).
fn id_maps(c: &mut Criterion) {
    const IDS: u64 = 4_000_000;
    // An odd multiplier permutes 0..2^22, which holds IDS.
    let ids: Vec<i64> = (0..IDS)
        .map(|i| (i.wrapping_mul(0x9E37_79B9) & ((1 << 22) - 1)) as i64)
        .collect();
    let mut group = c.benchmark_group("id index");
    group.sample_size(10);
    group.throughput(Throughput::Elements(IDS));
    group.bench_function("IdMap: insert then find 4M ids", |b| {
        b.iter(|| {
            let mut map = IdMap::with_capacity(1 << 16);
            for (row, &id) in ids.iter().enumerate() {
                map.get_or_insert(id, row as u32);
            }
            ids.iter().filter_map(|&id| map.get(id)).count()
        })
    });
    group.bench_function("HashMap (ahash): insert then find 4M ids", |b| {
        b.iter(|| {
            let mut map: HashMap<i64, u32, FixedState> =
                HashMap::with_capacity_and_hasher(1 << 16, FixedState);
            for (row, &id) in ids.iter().enumerate() {
                map.entry(id).or_insert(row as u32);
            }
            ids.iter().filter_map(|id| map.get(id)).count()
        })
    });
    group.finish();
}

/// Writes CSV text as a Feather file whose text columns are dictionaries.
fn write_dictionary_feather(text: &[u8], path: &Path) {
    use std::sync::Arc;

    use arrow_array::types::Int32Type;
    use arrow_array::{Array, ArrayRef, DictionaryArray, RecordBatch};
    use arrow_schema::{DataType, Field, Schema};

    let csv = dir_file(text);
    let batch = cohortkit::table::typed_csv::read_csv_typed(csv.path(), Format::Csv).unwrap();
    let columns: Vec<ArrayRef> = batch
        .columns()
        .iter()
        .map(|column| match column.data_type() {
            DataType::Utf8 => {
                let text = column
                    .as_any()
                    .downcast_ref::<arrow_array::StringArray>()
                    .unwrap();
                let dictionary: DictionaryArray<Int32Type> = text.iter().collect();
                Arc::new(dictionary) as ArrayRef
            }
            _ => column.clone(),
        })
        .collect();
    let fields: Vec<Field> = batch
        .schema()
        .fields()
        .iter()
        .zip(&columns)
        .map(|(f, c)| Field::new(f.name(), c.data_type().clone(), true))
        .collect();
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(schema.clone(), columns).unwrap();
    let mut writer =
        cohortkit::table::frame::FrameWriter::create(path, Format::Feather, schema, 6).unwrap();
    writer.write(&batch).unwrap();
    writer.finish().unwrap();
}

fn dir_file(text: &[u8]) -> tempfile::NamedTempFile {
    let mut file = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
    file.write_all(text).unwrap();
    file
}

criterion_group!(join, benches);
criterion_main!(join);
