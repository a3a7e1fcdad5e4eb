"""Plots of results: validation curves and the accuracy-throughput plane of a report root, and
the bench's step time, memory and parameters against sequence length. PNGs via matplotlib's
Agg backend (no display needed); each function returns the paths it wrote."""

from __future__ import annotations

import os

from fnetlab.results import workdirs as wd


def _pyplot():
  import matplotlib

  matplotlib.use("Agg")
  from matplotlib import pyplot as plt

  return plt


def _save(fig, path: str) -> str:
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  _pyplot().close(fig)
  return path


def curves(runs: list[wd.Run], path: str) -> str:
  """Validation accuracy (or loss, where a run has no accuracy) against step, one line per run."""
  plt = _pyplot()
  fig, ax = plt.subplots(figsize=(7, 4.5))
  for run in runs:
    evals = wd.read_metrics(run.workdir)
    key = next((k for k in ("val_accuracy", "val_loss") if any(k in e for e in evals)), None)
    pts = [(e["step"], e[key]) for e in evals if key and key in e]
    if pts:
      ax.plot(*zip(*pts, strict=True), marker="o", label=run.point)
      ax.set_ylabel(key)
  ax.set_xlabel("step")
  if ax.lines:
    ax.legend(fontsize=7)
  ax.grid(alpha=0.3)
  return _save(fig, path)


def pareto(rows: list[dict], path: str) -> str | None:
  """Test accuracy against training steps/s for the finished rows that have both; None if none."""
  ok = [r for r in rows if r.get("status") == "ok" and r.get("test_accuracy") is not None]
  if not ok:
    return None
  plt = _pyplot()
  fig, ax = plt.subplots(figsize=(6, 4.5))
  for r in ok:
    ax.scatter(r["steps_per_sec"], r["test_accuracy"])
    ax.annotate(r.get("mixer") or r["point"], (r["steps_per_sec"], r["test_accuracy"]), fontsize=8)
  ax.set_xlabel("train steps/s (higher is faster)")
  ax.set_ylabel("test accuracy")
  ax.grid(alpha=0.3)
  return _save(fig, path)


BENCH_PANELS = (
  # file, row key, y label, log y, which rows
  ("step_time.png", "step_ms", "train step (ms)", True, lambda r: r["status"] == "ok"),
  ("memory.png", "peak_bytes", "XLA peak memory (MiB)", True, lambda r: True),
  ("params.png", "params", "parameters", False, lambda r: True),
)


def bench_plots(rows: list[dict], out_dir: str) -> list[str]:
  """step_time.png (log-log), memory.png (log-log) and params.png against N, one line per
  bench label."""
  plt = _pyplot()
  labels = list(dict.fromkeys(r["mixer"] for r in rows))
  paths = []
  for fname, key, ylabel, logy, keep in BENCH_PANELS:
    fig, ax = plt.subplots(figsize=(6, 4.2))
    for label in labels:
      pts = sorted(
        (r["seq_len"], r[key]) for r in rows if r["mixer"] == label and r.get(key) and keep(r)
      )
      if not pts:
        continue
      xs, ys = zip(*pts, strict=True)
      if key == "peak_bytes":
        ys = [y / 2**20 for y in ys]
      ax.plot(xs, ys, marker="o", label=label)
    ax.set_xscale("log", base=2)
    if logy:
      ax.set_yscale("log")
    ax.set_xlabel("sequence length N")
    ax.set_ylabel(ylabel)
    ax.grid(True, which="both", alpha=0.3)
    if ax.lines:
      ax.legend(fontsize=8)
    paths.append(_save(fig, os.path.join(out_dir, fname)))
  return paths
