#!/usr/bin/env python3
"""Makes the fuzz targets' seed corpora, fuzz/seeds/<kind>/, from testdata/
and ../shared/reference: small files in every variant of every format the
readers take (gzip members and padding, Feather V1 and V2, Arrow streams,
Parquet codecs and page versions, Stata 114 to 119, schema YAML).

The CSV seeds serve the csv and report targets, the gzip seeds gzip and
gzip_members (see .ci/run). The seeds are committed, so that CI needs no Python to fuzz; run this again
(with pandas and pyarrow, see .ci/requirements.txt) only to change them:

    python3 fuzz/make-seeds.py
"""

import gzip
import io
import shutil
import zlib
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "fuzz" / "seeds"
REFERENCE = ROOT.parent / "shared" / "reference" / "flucats"

# Rows and columns kept of the reference files: enough for every kind of
# value they hold (dates, codes, flags, floats, empties), small enough to
# mutate fast.
ROWS = 6
COLUMNS = 16


def write(target, name, data):
    path = SEEDS / target / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def reference_text(name):
    """The header and first rows of a reference file, all but a few columns
    dropped (patient_id kept), exactly as written."""
    with gzip.open(REFERENCE / "output" / name, "rt", newline="") as f:
        lines = [next(f) for _ in range(ROWS + 1)]
    frame = pd.read_csv(io.StringIO("".join(lines)), dtype=str, keep_default_na=False)
    keep = list(frame.columns[: COLUMNS - 1]) + ["patient_id"]
    return frame[keep].to_csv(index=False).encode()


def gzip_member(data, **header):
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0, **header) as f:
        f.write(data)
    return out.getvalue()


def texts():
    week = reference_text("input_2020-03-01.csv.gz")
    end = reference_text("input_end.csv.gz")
    return {
        "week.csv": week,
        "end.csv": end,
        "crlf.csv": week.replace(b"\n", b"\r\n"),
        "bom.csv": b"\xef\xbb\xbf" + end,
        "quoted.csv": b'patient_id,note,x\n1,"a, ""b""\nc",2.5\n2,,\n3,"",1e308\n',
        "ragged.csv": b"patient_id,a\n1,2\n3\n4,5,6\n",
        "header_only.csv": b"patient_id,a,b\n",
    }


def csv_seeds(target):
    for name, text in texts().items():
        write(target, name, text)
    week = texts()["week.csv"]
    write(target, "week.csv.gz", gzip_member(week))
    half = len(week) // 2
    write(target, "members.csv.gz", gzip_member(week[:half]) + gzip_member(week[half:]))


def gzip_seeds(target):
    text = texts()["end.csv"]
    third = len(text) // 3
    write(target, "one.gz", gzip_member(text))
    write(target, "named.gz", gzip_member(text, filename="end.csv"))
    write(target, "members.gz", b"".join(gzip_member(text[i : i + third]) for i in range(0, len(text), third)))
    write(target, "empty_member.gz", gzip_member(b"") + gzip_member(text))
    write(target, "padded.gz", gzip_member(text) + b"\0" * 64)
    # Levels 0 (stored blocks) and 9, without gzip's header fields.
    for level in (0, 9):
        deflate = zlib.compressobj(level, zlib.DEFLATED, 31)
        write(target, f"level{level}.gz", deflate.compress(text) + deflate.flush())


def frame():
    """The reference week's first rows with the types a study's columns have."""
    text = texts()["week.csv"]
    df = pd.read_csv(io.BytesIO(text))
    df["flag"] = pd.array([True, False, None, True, False, True], dtype="boolean")
    df["category"] = pd.Categorical(["a", "b", "a", None, "c", "b"])
    df["date"] = pd.to_datetime(["2020-03-01", None, "1900-01-01", "2020-12-31", "2021-01-01", "2020-02-29"])
    df["text"] = ["x", "héllo", "", None, "y" * 40, "z"]
    return df


def arrow_table():
    """The frame as Arrow, without pandas' metadata (most of a small file)."""
    return pa.Table.from_pandas(frame(), preserve_index=False).replace_schema_metadata(None)


def ipc_seeds(target):
    table = arrow_table()
    small = table.slice(0, 3)
    for compression in ("uncompressed", "lz4", "zstd"):
        out = io.BytesIO()
        feather.write_feather(table, out, compression=compression)
        write(target, f"v2_{compression}.feather", out.getvalue())
    out = io.BytesIO()
    feather.write_feather(small.drop_columns(["category", "flag"]), out, version=1)
    write(target, "v1.feather", out.getvalue())
    for name, options in [
        ("stream.arrow", ipc.IpcWriteOptions()),
        ("stream_zstd.arrow", ipc.IpcWriteOptions(compression="zstd")),
        ("stream_legacy.arrow", ipc.IpcWriteOptions(use_legacy_format=True)),
    ]:
        sink = io.BytesIO()
        with ipc.new_stream(sink, table.schema, options=options) as writer:
            for batch in table.to_batches(max_chunksize=2):
                writer.write_batch(batch)
        write(target, name, sink.getvalue())


def parquet_seeds(target):
    table = arrow_table()
    for name, options in [
        ("snappy.parquet", dict(compression="snappy")),
        ("zstd.parquet", dict(compression="zstd")),
        ("lz4.parquet", dict(compression="lz4")),
        ("plain_v2.parquet", dict(compression="none", use_dictionary=False, data_page_version="2.0")),
        ("row_groups.parquet", dict(compression="none", row_group_size=2, write_statistics=False)),
    ]:
        out = io.BytesIO()
        pq.write_table(table, out, **options)
        write(target, name, out.getvalue())


def stata_seeds(target):
    df = frame().drop(columns=["flag", "category"])
    df["code"] = df["text"].fillna("")
    df["text"] = df["text"].fillna("")
    df["label"] = pd.Categorical(["a", "b", "a", "c", "c", "b"])
    for version in (114, 117, 118, 119):
        out = io.BytesIO()
        df.to_stata(out, version=version, write_index=False, convert_dates={"date": "td"})
        write(target, f"v{version}.dta", out.getvalue())
    out = io.BytesIO()
    df.to_stata(out, version=117, write_index=False, convert_strl=["code"], byteorder="big")
    write(target, "strl_big_endian.dta", out.getvalue())
    write(target, "v118.dta.gz", gzip_member((SEEDS / target / "v118.dta").read_bytes()))


def schema_seeds(target):
    analysis = ROOT / "testdata" / "flucats" / "analysis"
    write(target, "end.schema.yaml", (analysis / "study_definition_end.schema.yaml").read_bytes())
    # The first columns of the large schema, cut at a column's start.
    full = (analysis / "study_definition.schema.yaml").read_bytes()
    cut = full.index(b"\n- name:", 4000)
    write(target, "week.schema.yaml", full[: cut + 1])


def main():
    shutil.rmtree(SEEDS, ignore_errors=True)
    csv_seeds("csv")
    gzip_seeds("gzip")
    ipc_seeds("ipc")
    parquet_seeds("parquet")
    stata_seeds("stata")
    schema_seeds("schema")
    total = sum(p.stat().st_size for p in SEEDS.rglob("*") if p.is_file())
    print(f"{SEEDS}: {total // 1024} KiB")


if __name__ == "__main__":
    main()
