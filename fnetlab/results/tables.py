"""The one markdown-table writer and the one CSV writer/reader of the project.

Every table fnetlab writes (report summaries, the LRA and GLUE tables, bench.md) goes through
`markdown_table`, and every CSV (summary.csv, bench.csv) through `write_csv` / `read_csv`.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any


def fmt(value, spec: str = "", scale: float | None = None, missing: str = "") -> str:
  """`format(value * scale, spec)`, or `missing` for None; strings pass through unchanged."""
  if value is None:
    return missing
  if isinstance(value, str):
    return value
  return format(value if scale is None else value * scale, spec)


def _cell_text(value) -> str:
  text = "" if value is None else str(value)
  return text.replace("|", "\\|").replace("\n", " ")


def markdown_table(
  rows: Iterable[Mapping[str, Any]],
  columns: Sequence[str],
  headers: Mapping[str, str] | None = None,
  right: Iterable[str] = (),
) -> str:
  """A GitHub markdown table of `rows` (mappings), one column per key in `columns`.

  `headers` renames columns; `right` lists right-aligned (numeric) columns. Values are
  written with `str` (None as an empty cell); format them first where a spec matters. Pipes
  and newlines inside a cell are escaped, so a cell can hold an error message.
  """
  headers = headers or {}
  right = set(right)
  lines = [
    "| " + " | ".join(headers.get(c, c) for c in columns) + " |",
    "|" + "".join("---:|" if c in right else "---|" for c in columns),
  ]
  for r in rows:
    lines.append("| " + " | ".join(_cell_text(r.get(c)) for c in columns) + " |")
  return "\n".join(lines) + "\n"


def csv_cell(value):
  """None -> empty; floats with 6 significant digits; anything else as is."""
  if value is None:
    return ""
  if isinstance(value, float):
    return f"{value:.6g}"
  return value


def write_csv(path: str, rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> None:
  """Writes `rows` with exactly `columns` (missing keys are empty cells)."""
  with open(path, "w", newline="") as f:
    writer = csv.DictWriter(f, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    for r in rows:
      writer.writerow({k: csv_cell(r.get(k)) for k in columns})


def read_csv(path: str, types: Mapping[str, Callable] | None = None) -> list[dict]:
  """Rows of a CSV; with `types`, each listed column is cast (empty cells are None) and
  columns the file lacks are None."""
  with open(path, newline="") as f:
    rows = list(csv.DictReader(f))
  if types is None:
    return rows
  out = []
  for r in rows:
    typed = {}
    for k, cast in types.items():
      cell = r.get(k, "")
      if cell in ("", None):
        typed[k] = None
      else:
        typed[k] = int(float(cell)) if cast is int else cast(cell)
    out.append(typed)
  return out
