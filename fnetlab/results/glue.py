"""The GLUE summary table (models x tasks, dev scores) from fine-tuning workdirs, beside the
FNet paper's rows (Lee-Thorp et al. 2021, arXiv 2105.03824, Table 3).

`glue_table(workdirs)` reads each workdir's results.json (written by `fnetlab train` with
configs/glue.py: `task` = `glue/<name>`, `validation` metrics at the last step) and its
config.json (the model, for the row label). MNLI-mm comes from
`eval_validation_mismatched_<step>.json`, written by
`fnetlab eval --workdir=W --split=validation_mismatched`, at the step results.json reports.
Scores are in percent: CoLA MCC (or accuracy, `cola_metric`), MRPC and QQP the mean of F1 and
accuracy, STS-B Spearman, the rest accuracy. Where several workdirs share a (model, task)
cell, as in a learning-rate sweep, the best score gives the cell (the paper's protocol: the
best of its learning-rate sweep on dev). The average is over the paper's nine columns
(WNLI is left out, as f_net does); with columns missing it is marked `(k/9)`.

Reference rows: the paper's per-task numbers; their averages are the paper's (BERT-Base 83.3,
Linear-Base 77.0, FNet-Base 76.7, BERT-Large 84.7, FNet-Large 81.9; FNet-Hybrid-Base 80.6 is
given as an average only). Caution: Table 3 reports accuracy for every task but QQP/MRPC
(F1-accuracy mean) and STS-B (Spearman), so its CoLA column is accuracy, not GLUE's MCC;
compare like with like with `cola_metric="accuracy"` (`fnetlab report --cola_metric=accuracy`).
`fnetlab report --workdir=runs/glue` prints this table whenever GLUE runs are under its root.
"""

from __future__ import annotations

from collections.abc import Iterable

from fnetlab.common.errors import UserError
from fnetlab.results import workdirs as wd
from fnetlab.results.aggregate import best_per_cell, model_label
from fnetlab.results.tables import fmt, markdown_table

TITLE = "GLUE (dev)"
#: Column key -> header, in the paper's order. `mnli_mm` is MNLI's mismatched score.
COLUMNS = {
  "mnli": "MNLI-m",
  "mnli_mm": "MNLI-mm",
  "qqp": "QQP",
  "qnli": "QNLI",
  "sst2": "SST-2",
  "cola": "CoLA",
  "stsb": "STS-B",
  "mrpc": "MRPC",
  "rte": "RTE",
}
METRIC = {"cola": "mcc", "mrpc": "f1_accuracy_mean", "qqp": "f1_accuracy_mean", "stsb": "spearman"}

_ORDER = ("mnli", "mnli_mm", "qqp", "qnli", "sst2", "cola", "stsb", "mrpc", "rte")
#: FNet paper Table 3 (GLUE dev); CoLA is accuracy there (see the module doc).
PAPER_ROWS = {
  "BERT-Base (paper)": dict(zip(_ORDER, (84, 81, 87, 91, 93, 73, 89, 83, 69), strict=True)),
  "Linear-Base (paper)": dict(zip(_ORDER, (74, 75, 84, 80, 94, 67, 67, 83, 69), strict=True)),
  "FNet-Base (paper)": dict(zip(_ORDER, (72, 73, 83, 80, 95, 69, 79, 76, 63), strict=True)),
  "FNet-Hybrid-Base (paper)": {"avg": 80.6},
  "BERT-Large (paper)": dict(zip(_ORDER, (88, 88, 88, 92, 95, 71, 88, 86, 66), strict=True)),
  "FNet-Large (paper)": dict(zip(_ORDER, (78, 76, 85, 85, 94, 78, 84, 88, 69), strict=True)),
}


def task_metric(task: str, cola_metric: str = "mcc") -> str:
  return cola_metric if task == "cola" else METRIC.get(task, "accuracy")


def covers(task: str | None) -> bool:
  """Whether a results.json `task` belongs in this table (`glue/<name>`)."""
  return bool(task) and str(task).startswith("glue/")


def read_result(workdir: str, cola_metric: str = "mcc") -> dict | None:
  """{task, label, score, mm} in percent; None for a non-GLUE workdir; UserError if unreadable."""
  res = wd.read_results(workdir)
  name = res.get("task")
  if not covers(name):
    return None
  task = name.split("/", 1)[1]
  metric = task_metric(task, cola_metric)
  try:
    score = 100.0 * float(res["validation"][metric])
  except (KeyError, TypeError, ValueError):
    raise UserError(f"{workdir}/{wd.RESULTS}: validation has no {metric!r} for {name}") from None
  mm = None
  if task == "mnli":
    mismatched = wd.read_eval(workdir, "validation_mismatched", res.get("step"))
    if mismatched is not None:
      mm = 100.0 * float(mismatched["accuracy"])
  label = model_label(res.get("mixer", "?"), wd.read_config(workdir), dims=True, init_from=True)
  return {"task": task, "label": label, "score": score, "mm": mm}


def collect(workdirs: Iterable[str], cola_metric: str = "mcc", strict: bool = True) -> dict:
  """(row label, column) -> best score; `strict=False` skips unreadable workdirs."""
  results = []
  for workdir in workdirs:
    try:
      res = read_result(workdir, cola_metric)
    except UserError:
      if strict:
        raise
      continue
    if res is not None:
      results.append(res)
  best = best_per_cell(results, key=lambda r: (r["label"], r["task"]), score=lambda r: r["score"])
  cells = {}
  for (label, task), res in best.items():
    cells[(label, task)] = res["score"]
    if task == "mnli" and res["mm"] is not None:
      cells[(label, "mnli_mm")] = res["mm"]
  return cells


def average(row: dict) -> str:
  if "avg" in row:
    return f"{row['avg']:.1f}"
  present = [row[c] for c in COLUMNS if row.get(c) is not None]
  if not present:
    return "—"
  avg = sum(present) / len(present)
  return f"{avg:.1f}" if len(present) == len(COLUMNS) else f"{avg:.1f} ({len(present)}/9)"


def glue_table(
  workdirs: Iterable[str], cola_metric: str = "mcc", reference: bool = True, strict: bool = True
) -> str:
  """Markdown: one row per model (dev scores in %, best run per cell), the average, and the
  FNet paper's rows below."""
  if cola_metric not in ("mcc", "accuracy"):
    raise UserError(f"cola_metric={cola_metric!r}; valid: mcc, accuracy")
  by_label: dict[str, dict] = {}
  for (label, column), score in collect(workdirs, cola_metric, strict).items():
    by_label.setdefault(label, {})[column] = score
  named = sorted(by_label.items()) + (list(PAPER_ROWS.items()) if reference else [])
  rows = [
    {"model": label, **{c: fmt(row.get(c), ".1f", missing="—") for c in COLUMNS}}
    | {"avg": average(row)}
    for label, row in named
  ]
  headers = dict(COLUMNS, cola="CoLA (acc)" if cola_metric == "accuracy" else "CoLA (MCC)")
  return markdown_table(rows, ["model", *COLUMNS, "avg"], headers)
