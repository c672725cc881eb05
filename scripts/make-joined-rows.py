#!/usr/bin/env python3
"""Make a large FLUCATS joined .csv.gz by repeating the rows of a reference
joined file, giving each copy new patient ids. Values pass through as text.

usage: make-joined-rows.py SOURCE.csv.gz ROWS DEST.csv.gz [--members]

--members writes the gzip as cohortkit's writer does: one member per MiB
of text (standard gzip, which every reader reads whole); without it the
file is one member, as Python and pandas write it.
"""
import csv
import gzip
import io
import os
import sys

source, rows, dest = sys.argv[1], int(sys.argv[2]), sys.argv[3]
members = "--members" in sys.argv[4:]
BLOCK = 1 << 20

with gzip.open(source, "rt", newline="") as f:
    reader = csv.reader(f)
    header = next(reader)
    body = list(reader)
pid = header.index("patient_id")

with open(dest + ".tmp", "wb") as raw:
    sink = raw if members else gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0)
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    pending = bytearray()

    def flush(final=False):
        global pending
        pending += text.getvalue().encode()
        text.seek(0)
        text.truncate()
        while len(pending) >= BLOCK or (final and pending):
            block, pending = bytes(pending[:BLOCK]), pending[BLOCK:]
            sink.write(gzip.compress(block, compresslevel=6, mtime=0) if members else block)

    writer.writerow(header)
    for i in range(rows):
        row = list(body[i % len(body)])
        row[pid] = str(i + 1)
        writer.writerow(row)
        if i % 1000 == 999:
            flush()
    flush(final=True)
    if not members:
        sink.close()
os.replace(dest + ".tmp", dest)
