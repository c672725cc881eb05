"""Describes output/dataset.arrow: its columns and Arrow types."""

from pathlib import Path

out = Path("output/dataset_description.txt")
try:
    import pyarrow.ipc
except ImportError:
    out.write_text("pyarrow is not installed: install it to describe output/dataset.arrow\n")
else:
    with pyarrow.ipc.open_file("output/dataset.arrow") as reader:
        table = reader.read_all()
    lines = [f"{table.num_rows} rows"]
    lines += [f"{field.name}: {field.type}" for field in table.schema]
    out.write_text("\n".join(lines) + "\n")
