"""The CPU-scale GLUE protocol's table: the FNet paper's six models, each task's test accuracy
over the final seeds, the two-task average and that average as a percentage of the
BERT-style model's, beside the paper's GLUE averages at Base size.

Input: one tuning-protocol root per task (`fnetlab sweep --tune`, configs/glue_cpu/finetune.py
`sweep_models`; its summary.csv holds, per model, the selected learning rate and the test
accuracy of every final seed at its best-validation checkpoint), and optionally the pretrained
reference's test accuracies per task (all-MiniLM-L6-v2, fine-tuned by the same recipe).

Statistics (docs/comparisons.md): per model, the per-seed average over the tasks (a seed
counts where every task has it), its mean and 95% Student-t interval; "% of BERT" is the
per-seed ratio average(model, s) / average(BERT, s) x 100 over the seeds both have (paired by
seed: the same final seeds fine-tune every model), with its own interval.
"""

from __future__ import annotations

import csv
import os

from fnetlab.common.errors import UserError
from fnetlab.results import seeds as seed_stats
from fnetlab.results.tables import markdown_table

#: The paper's models (configs/glue_cpu/pretrain.py MODELS' keys), in its table's order.
MODELS = ("bert", "fnet", "linear", "random", "ff_only", "hybrid")
NAMES = {
  "bert": "BERT-style (attention)",
  "fnet": "FNet (Fourier)",
  "linear": "Linear",
  "random": "Random",
  "ff_only": "FF-only",
  "hybrid": "FNet-Hybrid (attention on top)",
}
#: The FNet paper's GLUE dev averages at Base size (fnetlab/results/glue.py PAPER_ROWS); the
#: paper gives no GLUE average for the Random and FF-only models.
PAPER_AVG = {"bert": 83.3, "linear": 77.0, "fnet": 76.7, "hybrid": 80.6}
TASK_NAMES = {"snli": "SNLI", "sentiment": "sentiment (binary)"}


def parse_by_seed(text: str) -> dict[int, float]:
  """summary.csv's `1:0.5123 2:0.4988` -> {1: 0.5123, 2: 0.4988}."""
  out = {}
  for item in str(text or "").split():
    seed, _, value = item.partition(":")
    out[int(seed)] = float(value)
  return out


def read_root(root: str, models: dict[str, str], metric: str = "accuracy") -> dict[str, dict]:
  """{model: {"lr": selected rate, "seeds": {seed: test value}, "edge": ...}} from a protocol
  root's summary.csv (from-scratch fine-tunes, i.e. `variant` scratch); `models` maps each
  sweep point's name to its model (a key of MODELS)."""
  path = os.path.join(root, "summary.csv")
  if not os.path.isfile(path):
    raise UserError(f"{path}: missing (run the fine-tuning protocol for this task first)")
  out = {}
  with open(path, newline="") as f:
    for row in csv.DictReader(f):
      if row.get("variant", "scratch") != "scratch":
        continue
      model = models.get(row["point"])
      if model not in MODELS:
        raise UserError(f"{path}: point {row['point']!r} is not one of the protocol's models")
      out[model] = {
        "lr": row.get("optim.lr", ""),
        "edge": row.get("edge", ""),
        "seeds": parse_by_seed(row.get(f"test_{metric}_by_seed", "")),
      }
  return out


def _pm(mean, half, scale=100.0) -> str:
  if mean is None:
    return "—"
  if half is None:
    return f"{mean * scale:.1f}"
  return f"{mean * scale:.1f} ± {half * scale:.1f}"


def averages(by_task: dict[str, dict]) -> dict[str, dict[int, float]]:
  """{model: {seed: mean over tasks}} for the seeds every task has for that model."""
  out = {}
  for model in MODELS:
    per_task = [by_task[t][model]["seeds"] for t in by_task if model in by_task[t]]
    if len(per_task) != len(by_task) or not per_task:
      continue
    common = set.intersection(*(set(s) for s in per_task))
    out[model] = {s: sum(p[s] for p in per_task) / len(per_task) for s in sorted(common)}
  return out


def ratios(avg: dict[str, dict[int, float]], base: str = "bert") -> dict[str, list[float]]:
  """{model: [avg(model, s) / avg(base, s) for the seeds both have]}."""
  if base not in avg:
    return {}
  b = avg[base]
  return {m: [a[s] / b[s] for s in sorted(set(a) & set(b)) if b[s]] for m, a in avg.items()}


def table_rows(by_task: dict[str, dict], reference: dict[str, list[float]] | None = None):
  """One row per model present (and the reference row): the table's cells as text."""
  avg = averages(by_task)
  rat = ratios(avg)
  rows = []
  for model in MODELS:
    if not any(model in by_task[t] for t in by_task):
      continue
    row = {"model": NAMES[model]}
    for task, cells in by_task.items():
      cell = cells.get(model)
      if cell is None:
        row[task] = "—"
        continue
      mean, half = seed_stats.t_interval(cell["seeds"].values())
      edge = " (edge)" if cell["edge"] else ""
      row[task] = f"{_pm(mean, half)} (lr {cell['lr']}{edge}, n={len(cell['seeds'])})"
    row["average"] = _pm(*seed_stats.t_interval(avg.get(model, {}).values()))
    row["% of BERT"] = _pm(*seed_stats.t_interval(rat.get(model, [])))
    paper = PAPER_AVG.get(model)
    row["paper GLUE avg (Base)"] = f"{paper:.1f}" if paper else "—"
    row["paper % of BERT"] = f"{100 * paper / PAPER_AVG['bert']:.0f}" if paper else "—"
    rows.append(row)
  if reference:
    row = {"model": "all-MiniLM-L6-v2 (pretrained attention, reference)"}
    per_task = []
    for task in by_task:
      values = reference.get(task) or []
      per_task.append(values)
      mean, half = seed_stats.t_interval(values)
      row[task] = f"{_pm(mean, half)} (n={len(values)})" if values else "—"
    n = min((len(v) for v in per_task), default=0)
    avg_ref = [sum(v[i] for v in per_task) / len(per_task) for i in range(n)]
    row["average"] = _pm(*seed_stats.t_interval(avg_ref))
    row["% of BERT"] = "—"
    row["paper GLUE avg (Base)"] = row["paper % of BERT"] = "—"
    rows.append(row)
  return rows


def markdown(by_task: dict[str, dict], reference=None) -> str:
  """The table (accuracies in %, ± a 95% interval over the final seeds)."""
  rows = table_rows(by_task, reference)
  cols = ["model", *by_task, "average", "% of BERT", "paper GLUE avg (Base)", "paper % of BERT"]
  headers = {t: f"{TASK_NAMES.get(t, t)} test acc %" for t in by_task}
  return markdown_table(rows, cols, headers)


def pretrain_markdown(by_model: dict[str, dict]) -> str:
  """Stage 1's table: per model, its pretraining run's results.json (`fnetlab train`), i.e.
  the validation MLM + NSP loss and accuracies at the last evaluation, the best-validation
  step the fine-tunes start from, and the run's wall time."""
  rows = []
  for model in MODELS:
    res = by_model.get(model)
    if not res:
      continue
    val, best = res.get("validation") or {}, res.get("best") or {}
    rows.append(
      {
        "model": NAMES[model],
        "steps": str(res.get("step", "?")),
        "best step": str(best.get("step", "?")),
        "val loss": f"{val['loss']:.3f}" if "loss" in val else "—",
        "MLM acc %": f"{100 * val['mlm_accuracy']:.1f}" if "mlm_accuracy" in val else "—",
        "NSP acc %": f"{100 * val['nsp_accuracy']:.1f}" if "nsp_accuracy" in val else "—",
        "params": f"{res['params']:,}" if isinstance(res.get("params"), int) else "—",
        "wall min": f"{res['wall_time_s'] / 60:.1f}" if "wall_time_s" in res else "—",
      }
    )
  cols = ["model", "steps", "best step", "val loss", "MLM acc %", "NSP acc %", "params", "wall min"]
  return markdown_table(rows, cols, right=cols[1:])
