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

Reference rows: the paper's per-task numbers; their averages equal REFERENCE.md's (BERT-Base
83.3, Linear-Base 77.0, FNet-Base 76.7, BERT-Large 84.7, FNet-Large 81.9; FNet-Hybrid-Base
80.6 is given as an average only). Caution: Table 3 reports accuracy for every task but
QQP/MRPC (F1-accuracy mean) and STS-B (Spearman), so its CoLA column is accuracy, not GLUE's
MCC; compare like with like with `cola_metric="accuracy"`.

  python -m fnetlab.glue_table [--cola_metric=accuracy] runs/glue/*/
"""

from __future__ import annotations

import glob
import json
import os
import sys
from collections.abc import Iterable

from absl import flags

from fnetlab.cli import parse_flags
from fnetlab.errors import UserError

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


def row_label(workdir: str, mixer: str) -> str:
  """mixer [+ attention layout], depth and width, and the init_from checkpoint's name."""
  path = os.path.join(workdir, "config.json")
  if not os.path.isfile(path):
    return mixer
  with open(path) as f:
    config = json.load(f)
  model = config.get("model", {})
  label = mixer
  if model.get("hybrid", "none") != "none":
    label += f" + attention ({model['hybrid']}, {model.get('hybrid_layers')})"
  if model.get("num_layers") and model.get("d_model"):
    label += f" {model['num_layers']}L-{model['d_model']}"
  if config.get("init_from"):
    label += f", from {os.path.basename(os.path.normpath(config['init_from']))}"
  return label


def read_result(workdir: str, cola_metric: str = "mcc") -> dict | None:
  """{task, label, score, mm} in percent; None for a non-GLUE workdir; UserError if unreadable."""
  path = os.path.join(workdir, "results.json")
  if not os.path.isfile(path):
    raise UserError(f"{path}: no results.json (has `fnetlab train` finished in this workdir?)")
  try:
    with open(path) as f:
      res = json.load(f)
    name = res["task"]
  except (OSError, ValueError, KeyError, TypeError) as e:
    raise UserError(f"{path}: not a results.json with a task ({e!r})") from None
  if not str(name).startswith("glue/"):
    return None
  task = name.split("/", 1)[1]
  metric = task_metric(task, cola_metric)
  try:
    score = 100.0 * float(res["validation"][metric])
  except (KeyError, TypeError, ValueError):
    raise UserError(f"{path}: validation has no {metric!r} for {name}") from None
  mm = None
  if task == "mnli":
    mm_path = os.path.join(workdir, f"eval_validation_mismatched_{res.get('step')}.json")
    if os.path.isfile(mm_path):
      with open(mm_path) as f:
        mm = 100.0 * float(json.load(f)["metrics"]["accuracy"])
  return {
    "task": task,
    "label": row_label(workdir, res.get("mixer", "?")),
    "score": score,
    "mm": mm,
  }


def collect(workdirs: Iterable[str], cola_metric: str = "mcc", strict: bool = True) -> dict:
  """(row label, column) -> best score; `strict=False` skips unreadable workdirs."""
  best: dict[tuple[str, str], dict] = {}
  for workdir in workdirs:
    try:
      res = read_result(workdir, cola_metric)
    except UserError:
      if strict:
        raise
      continue
    if res is None:
      continue
    key = (res["label"], res["task"])
    if key not in best or res["score"] > best[key]["score"]:
      best[key] = res
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


def _fmt(value) -> str:
  return "—" if value is None else f"{value:.1f}"


def glue_table(
  workdirs: Iterable[str], cola_metric: str = "mcc", reference: bool = True, strict: bool = True
) -> str:
  """Markdown: one row per model (dev scores in %, best run per cell), the average, and the
  FNet paper's rows below."""
  if cola_metric not in ("mcc", "accuracy"):
    raise UserError(f"cola_metric={cola_metric!r}; valid: mcc, accuracy")
  cells = collect(workdirs, cola_metric, strict)
  rows: dict[str, dict] = {}
  for (label, column), score in cells.items():
    rows.setdefault(label, {})[column] = score
  cola = "CoLA (acc)" if cola_metric == "accuracy" else "CoLA (MCC)"
  headers = [cola if c == "cola" else h for c, h in COLUMNS.items()]
  lines = ["| model | " + " | ".join(headers) + " | avg |", "|---|" + "---|" * (len(COLUMNS) + 1)]
  for label in sorted(rows):
    row = rows[label]
    lines.append(
      f"| {label} | " + " | ".join(_fmt(row.get(c)) for c in COLUMNS) + f" | {average(row)} |"
    )
  if reference:
    for label, row in PAPER_ROWS.items():
      lines.append(
        f"| {label} | " + " | ".join(_fmt(row.get(c)) for c in COLUMNS) + f" | {average(row)} |"
      )
  return "\n".join(lines) + "\n"


FLAGS = flags.FlagValues()
flags.DEFINE_enum("cola_metric", "mcc", ["mcc", "accuracy"], "CoLA score.", flag_values=FLAGS)
flags.DEFINE_bool("reference", True, "Append the FNet paper's rows.", flag_values=FLAGS)


def main(argv) -> int:
  """`python -m fnetlab.glue_table [flags] WORKDIR...` (globs allowed)."""
  rest = parse_flags(FLAGS, argv)[1:]
  workdirs = sorted({d for pattern in rest for d in (glob.glob(pattern) or [pattern])})
  if not workdirs:
    raise UserError("glue_table: give one or more fine-tuning workdirs")
  print(glue_table(workdirs, FLAGS.cola_metric, FLAGS.reference, strict=False), end="")
  return 0


if __name__ == "__main__":
  try:
    sys.exit(main(sys.argv))
  except UserError as e:
    print(f"glue_table: error: {e}", file=sys.stderr)
    sys.exit(2)
