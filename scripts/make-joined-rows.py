#!/usr/bin/env python3
"""Make a large FLUCATS joined .csv.gz by repeating the rows of a reference
joined file, giving each copy new patient ids. Values pass through as text.

usage: make-joined-rows.py SOURCE.csv.gz ROWS DEST.csv.gz
"""
import csv
import gzip
import sys

source, rows, dest = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with gzip.open(source, "rt", newline="") as f:
    reader = csv.reader(f)
    header = next(reader)
    body = list(reader)
pid = header.index("patient_id")
with gzip.open(dest + ".tmp", "wt", newline="", compresslevel=6) as out:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for i in range(rows):
        row = list(body[i % len(body)])
        row[pid] = str(i + 1)
        writer.writerow(row)
import os

os.replace(dest + ".tmp", dest)
