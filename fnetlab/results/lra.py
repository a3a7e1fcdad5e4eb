"""The Long Range Arena results table (tasks x models), beside the FNet paper's LRA rows.

`lra_table(workdirs)` reads each workdir's results.json (`task`, `mixer`, `validation`,
`test`) and config.json (a hybrid model is its own row) and returns a markdown table of test
accuracy in percent. Where several workdirs share a (model, task) cell, as in a
learning-rate sweep, the one with the best validation accuracy gives the cell, the usual
protocol: a cell is then that one run (one seed, one setting), not a mean over seeds (the
seed table of `fnetlab report` gives the means), and the note under the table says so. A row
whose runs trained for fewer steps than the full LRA protocol (`PROTOCOL_STEPS`, the step
counts of configs/lra/*.py without `runlocal`) is labelled `(reduced)`: such CPU-scale runs
are not comparable with the paper's rows beside them. The average is over the five tasks of the FNet paper's average (Path-X excluded, as
there) and is marked with the number of tasks present when some are missing. Pathfinder at
another resolution (`pathfinder64`, ...) gets a column of its own. Reference rows: Lee-Thorp
et al. 2021 (arXiv 2105.03824), Table 5. `fnetlab report` prints this table whenever LRA runs
are under its root.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from fnetlab.common.errors import UserError
from fnetlab.results import workdirs as wd
from fnetlab.results.aggregate import best_per_cell, model_label
from fnetlab.results.tables import fmt, markdown_table

TITLE = "LRA (test accuracy %)"
#: Column order and headers; results.json `task` names.
TASKS = {
  "listops": "ListOps",
  "text": "Text",
  "retrieval": "Retrieval",
  "image": "Image",
  "pathfinder": "Pathfinder",
  "pathx": "Path-X",
}
#: Training steps of the full protocol per task (configs/lra/*.py without `runlocal`).
PROTOCOL_STEPS = {
  "listops": 5000,
  "text": 20000,
  "retrieval": 5000,
  "image": 35000,
  "pathfinder": 62400,
  "pathx": 500000,
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


def covers(task: str | None) -> bool:
  """Whether a results.json `task` belongs in this table."""
  return bool(task) and (task in TASKS or re.fullmatch(r"pathfinder\d+", task) is not None)


def read_result(workdir: str) -> dict:
  """`{task, label, test, validation}` of an LRA workdir; UserError naming a bad file."""
  res = wd.read_results(workdir)
  try:
    task, mixer, test = res["task"], res["mixer"], float(res["test"]["accuracy"])
  except (KeyError, TypeError, ValueError) as e:
    raise UserError(
      f"{workdir}/{wd.RESULTS}: not a results.json with task, mixer, test.accuracy ({e!r})"
    ) from None
  val = (res.get("validation") or {}).get("accuracy")
  label = model_label(mixer, wd.read_config(workdir))
  full = PROTOCOL_STEPS.get(task, PROTOCOL_STEPS["pathfinder"])  # pathfinder64, ...
  reduced = int(res.get("step") or 0) < full
  return {"task": task, "label": label, "test": test, "validation": val, "reduced": reduced}


def collect(workdirs: Iterable[str], strict: bool = True) -> dict[tuple[str, str], dict]:
  """Best-by-validation result per (row label, task) over the LRA workdirs among `workdirs`.
  `strict=False` skips unreadable ones."""
  results = []
  for workdir in workdirs:
    try:
      res = read_result(workdir)
    except UserError:
      if strict:
        raise
      continue
    if covers(res["task"]):
      results.append(res)
  return best_per_cell(
    results,
    key=lambda r: (r["label"], r["task"]),
    score=lambda r: r["validation"] if r["validation"] is not None else r["test"],
  )


def _average(row: dict) -> str:
  present = [row[t] for t in AVERAGED if isinstance(row.get(t), int | float)]
  if not present:
    return "—"
  avg = sum(present) / len(present)
  return f"{avg:.2f}" if len(present) == len(AVERAGED) else f"{avg:.2f} ({len(present)}/5)"


def lra_table(workdirs: Iterable[str], strict: bool = True, reference: bool = True) -> str:
  """Markdown: one row per model (test accuracy %, best validation run per cell), one column
  per LRA task and the 5-task average; the FNet paper's FNet and Transformer rows below."""
  cells = collect(workdirs, strict)
  extra = sorted({t for _, t in cells} - set(TASKS))  # e.g. pathfinder64
  columns = list(TASKS)[:-1] + extra + ["pathx"]
  by_label: dict[str, dict] = {}
  reduced = {label for (label, _), cell in cells.items() if cell.get("reduced")}
  for (label, task), cell in cells.items():
    shown = f"{label} (reduced)" if label in reduced else label
    by_label.setdefault(shown, {})[task] = 100.0 * cell["test"]
  named = sorted(by_label.items()) + (list(PAPER_ROWS.items()) if reference else [])
  rows = [
    {"model": label, **{t: fmt(row.get(t), ".2f", missing="—") for t in columns}}
    | {"avg": _average(row)}
    for label, row in named
  ]
  headers = {t: TASKS.get(t, t) for t in columns}
  note = (
    "\nEach fnetlab cell is one run: of the runs of a (model, task) cell, the one with the best "
    "validation accuracy (not a mean over seeds). (reduced): trained for fewer steps than the "
    "full LRA protocol (a CPU-scale run), not comparable with the paper's rows.\n"
  )
  return markdown_table(rows, ["model", *columns, "avg"], headers) + (note if cells else "")
