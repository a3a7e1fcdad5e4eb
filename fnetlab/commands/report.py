"""`fnetlab report --workdir=ROOT`: one table of every run under ROOT, plus plots.

Writes ROOT/summary.csv and ROOT/summary.md (a row per point: its overrides, validation and
test metrics, params, train steps/s, wall time, best step; failed points are listed with their
error), ROOT/curves.png (validation metric against step for every point) and ROOT/pareto.png
(test accuracy against training throughput). For LRA and GLUE roots it also appends the task-style
tables (tasks x models, with averages) beside the FNet paper's rows (fnetlab.lra_table,
fnetlab.glue_table).
"""

from __future__ import annotations

import csv
import glob
import json
import os

from absl import flags

from fnetlab.cli import parse_flags
from fnetlab.errors import UserError

LRA_TASKS = {"listops", "text", "retrieval", "image", "pathfinder", "pathx"}

FLAGS = flags.FlagValues()
flags.DEFINE_string(
  "workdir", None, "Root directory holding one workdir per run.", flag_values=FLAGS
)


def _read(path):
  with open(path) as f:
    return json.load(f)


def collect(root: str) -> list[dict]:
  rows = []
  for d in sorted(glob.glob(os.path.join(root, "*", ""))):
    name = os.path.basename(os.path.dirname(d))
    sweep_points = {}
    if os.path.exists(os.path.join(root, "sweep.json")):
      sweep_points = {
        p["name"]: p["overrides"] for p in _read(os.path.join(root, "sweep.json"))["points"]
      }
    row = {"point": name, "overrides": json.dumps(sweep_points.get(name, {}), default=str)}
    if os.path.exists(os.path.join(d, "failed.json")):
      row.update(status="failed", error=_read(os.path.join(d, "failed.json"))["error"][:200])
    elif os.path.exists(os.path.join(d, "results.json")):
      r = _read(os.path.join(d, "results.json"))
      row.update(
        status="ok",
        task=r.get("task"),
        mixer=r.get("mixer"),
        step=r.get("step"),
        params=r.get("params"),
      )
      row["steps_per_sec"] = round(r.get("train_steps_per_sec") or 0.0, 3)
      row["wall_time_s"] = round(r.get("wall_time_s") or 0.0, 1)
      for split in ("validation", "test"):
        for k, v in (r.get(split) or {}).items():
          row[f"{split}_{k}"] = round(v, 4)
      row["best_step"] = (r.get("best") or {}).get("step")
    else:
      row.update(status="incomplete")
    rows.append(row)
  return rows


def markdown(rows: list[dict], columns: list[str]) -> str:
  lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
  for r in rows:
    lines.append("| " + " | ".join(str(r.get(c, "")) for c in columns) + " |")
  return "\n".join(lines)


def plots(root: str, rows: list[dict]) -> list[str]:
  import matplotlib

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  out = []
  fig, ax = plt.subplots(figsize=(7, 4.5))
  for r in rows:
    path = os.path.join(root, r["point"], "metrics.jsonl")
    if not os.path.exists(path):
      continue
    with open(path) as f:
      evals = [json.loads(line) for line in f]
    key = next((k for k in ("val_accuracy", "val_loss") if any(k in e for e in evals)), None)
    pts = [(e["step"], e[key]) for e in evals if key and key in e]
    if pts:
      ax.plot(*zip(*pts, strict=True), marker="o", label=r["point"])
      ax.set_ylabel(key)
  ax.set_xlabel("step")
  ax.legend(fontsize=7)
  ax.grid(alpha=0.3)
  fig.tight_layout()
  out.append(os.path.join(root, "curves.png"))
  fig.savefig(out[-1], dpi=110)
  plt.close(fig)

  ok = [r for r in rows if r.get("status") == "ok" and "test_accuracy" in r]
  if ok:
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for r in ok:
      ax.scatter(r["steps_per_sec"], r["test_accuracy"])
      ax.annotate(
        r.get("mixer") or r["point"], (r["steps_per_sec"], r["test_accuracy"]), fontsize=8
      )
    ax.set_xlabel("train steps/s (higher is faster)")
    ax.set_ylabel("test accuracy")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    out.append(os.path.join(root, "pareto.png"))
    fig.savefig(out[-1], dpi=110)
    plt.close(fig)
  return out


def write_report(root: str) -> str:
  """Writes the summary files under `root`; returns the Markdown table and plot paths."""
  rows = collect(root)
  if not rows:
    raise UserError(f"no runs under {root}")
  columns = []
  for r in rows:
    columns += [k for k in r if k not in columns]
  with open(os.path.join(root, "summary.csv"), "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=columns)
    w.writeheader()
    w.writerows(rows)
  shown = [
    c
    for c in (
      "point",
      "status",
      "mixer",
      "params",
      "steps_per_sec",
      "wall_time_s",
      "validation_accuracy",
      "test_accuracy",
      "validation_loss",
      "best_step",
      "error",
    )
    if c in columns
  ]
  table = markdown(rows, shown)
  ok_dirs = [os.path.join(root, r["point"]) for r in rows if r.get("status") == "ok"]
  tasks = {r.get("task") for r in rows if r.get("status") == "ok"}
  task_tables = []
  if tasks & LRA_TASKS:
    from fnetlab.lra_table import lra_table

    task_tables.append("## LRA (test accuracy %)\n\n" + lra_table(ok_dirs, strict=False))
  if "glue" in tasks:
    from fnetlab.glue_table import glue_table

    task_tables.append("## GLUE (dev)\n\n" + glue_table(ok_dirs, strict=False))
  with open(os.path.join(root, "summary.md"), "w") as f:
    f.write(f"# Summary of {root}\n\n{table}\n")
    for t in task_tables:
      f.write(f"\n{t}\n")
  if task_tables:
    table = table + "\n\n" + "\n".join(task_tables)
  paths = plots(root, rows)
  return f"{table}\n\nwrote {root}/summary.csv, summary.md, " + ", ".join(
    os.path.basename(p) for p in paths
  )


def main(argv):
  parse_flags(FLAGS, argv, required=("workdir",))
  print(write_report(FLAGS.workdir))
  return 0
