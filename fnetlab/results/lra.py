"""The Long Range Arena results table (tasks x mixers), beside the FNet paper's LRA rows.

`lra_table(workdirs)` reads each workdir's `results.json` (written by `fnetlab train`: keys
`task`, `mixer`, `validation`, `test`) and returns a markdown table of test accuracy in
percent. Where several workdirs share a (task, mixer) cell, as in a learning-rate sweep, the
one with the best validation accuracy gives the cell, the usual protocol. The average is over
the five tasks of the FNet paper's average (Path-X excluded, as there), and is marked with the
number of tasks present when some are missing. Reference rows: Lee-Thorp et al. 2021
(arXiv 2105.03824), Table 5, as copied in REFERENCE.md.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable

from fnetlab.errors import UserError

#: Column order and headers; results.json `task` names.
TASKS = {
  "listops": "ListOps",
  "text": "Text",
  "retrieval": "Retrieval",
  "image": "Image",
  "pathfinder": "Pathfinder",
  "pathx": "Path-X",
}
AVERAGED = ("listops", "text", "retrieval", "image", "pathfinder")  # the FNet paper's average
#: FNet paper, LRA test accuracy (%); Path-X: FNet fails, the Transformer row has no entry.
PAPER_ROWS = {
  "FNet (paper)": {
    "listops": 35.33,
    "text": 65.11,
    "retrieval": 59.61,
    "image": 38.67,
    "pathfinder": 77.80,
    "pathx": "FAIL",
  },
  "Transformer (paper)": {
    "listops": 36.06,
    "text": 61.54,
    "retrieval": 59.67,
    "image": 41.51,
    "pathfinder": 80.38,
  },
}


def read_result(workdir: str) -> dict:
  """`{task, mixer, label, test, validation}` from a workdir; UserError naming a bad file."""
  path = os.path.join(workdir, "results.json")
  if not os.path.isfile(path):
    raise UserError(f"{path}: no results.json (has `fnetlab train` finished in this workdir?)")
  try:
    with open(path) as f:
      res = json.load(f)
    task, mixer, test = res["task"], res["mixer"], res["test"]["accuracy"]
  except (OSError, ValueError, KeyError, TypeError) as e:
    raise UserError(f"{path}: not a results.json with task, mixer, test.accuracy ({e!r})") from None
  label = mixer
  config_path = os.path.join(workdir, "config.json")
  if os.path.isfile(config_path):  # a hybrid model is its own row
    with open(config_path) as f:
      model = json.load(f).get("model", {})
    if model.get("hybrid", "none") != "none":
      label = f"{mixer} + attention ({model['hybrid']}, {model.get('hybrid_layers')})"
  val = (res.get("validation") or {}).get("accuracy")
  return {"task": task, "mixer": mixer, "label": label, "test": test, "validation": val}


def collect(workdirs: Iterable[str], strict: bool = True) -> dict[tuple[str, str], dict]:
  """Best-by-validation result per (row label, task). `strict=False` skips unreadable dirs."""
  cells: dict[tuple[str, str], dict] = {}
  for workdir in workdirs:
    try:
      res = read_result(workdir)
    except UserError:
      if strict:
        raise
      continue
    key = (res["label"], res["task"])
    old = cells.get(key)
    score = res["validation"] if res["validation"] is not None else res["test"]
    if old is None or score > old["score"]:
      cells[key] = {**res, "score": score, "workdir": workdir}
  return cells


def _fmt(value) -> str:
  if value is None:
    return "—"
  return value if isinstance(value, str) else f"{value:.2f}"


def _average(row: dict) -> str:
  present = [row[t] for t in AVERAGED if isinstance(row.get(t), int | float)]
  if not present:
    return "—"
  avg = sum(present) / len(present)
  return f"{avg:.2f}" if len(present) == len(AVERAGED) else f"{avg:.2f} ({len(present)}/5)"


def lra_table(workdirs: Iterable[str], strict: bool = True, reference: bool = True) -> str:
  """Markdown: one row per mixer (test accuracy %, best validation run per cell), one column
  per LRA task and the 5-task average; the FNet paper's FNet and Transformer rows below."""
  cells = collect(workdirs, strict)
  tasks = list(TASKS)
  extra = sorted({t for _, t in cells} - set(TASKS))  # e.g. pathfinder64
  columns = tasks[:-1] + extra + tasks[-1:]
  headers = [TASKS.get(t, t) for t in columns]
  rows: dict[str, dict] = {}
  for (label, task), cell in cells.items():
    rows.setdefault(label, {})[task] = 100.0 * cell["test"]
  lines = [
    "| model | " + " | ".join(headers) + " | avg |",
    "|---|" + "---|" * (len(columns) + 1),
  ]
  for label in sorted(rows):
    row = rows[label]
    lines.append(
      f"| {label} | " + " | ".join(_fmt(row.get(t)) for t in columns) + f" | {_average(row)} |"
    )
  if reference:
    for label, row in PAPER_ROWS.items():
      lines.append(
        f"| {label} | " + " | ".join(_fmt(row.get(t)) for t in columns) + f" | {_average(row)} |"
      )
  return "\n".join(lines) + "\n"
