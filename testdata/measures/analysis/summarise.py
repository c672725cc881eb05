# Reads a combined measure file and writes each month's asthma rate by sex.
import csv
import os

os.makedirs("output", exist_ok=True)
with open("output/measure_asthma_by_sex.csv", newline="") as f:
    rows = list(csv.DictReader(f))
with open("output/summary.csv", "w", newline="") as f:
    out = csv.writer(f, lineterminator="\n")
    out.writerow(["date", "sex", "rate"])
    for row in sorted(rows, key=lambda r: (r["date"], r["sex"])):
        out.writerow([row["date"], row["sex"], row["value"]])
