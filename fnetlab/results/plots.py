"""Plots of results: validation curves and the accuracy-throughput plane of a report root, and
the bench's step time, memory and parameters against sequence length. PNGs via matplotlib's
Agg backend (no display needed); each function returns the paths it wrote."""

from __future__ import annotations

import os

from fnetlab.results import seeds
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


def _label(runs: list[wd.Run], point: str) -> str:
  mixers = {r.results.get("mixer") or r.config.get("model", {}).get("mixer") for r in runs}
  mixers.discard(None)
  n = len(runs)
  name = mixers.pop() if len(mixers) == 1 else point
  return f"{name} (n={n})" if n > 1 else name


def _band(ax, series: list[dict], label: str, marker=None, bounds=None):
  """Mean line over the series (step -> value dicts) at the steps all of them have, and the
  95% Student-t band where there are two or more, clipped to `bounds` (an accuracy's [0, 1])."""
  steps = sorted(set.intersection(*(set(s) for s in series))) if series else []
  if not steps:
    return
  stats = [seeds.t_interval([s[k] for s in series]) for k in steps]
  mean = [m for m, _ in stats]
  (line,) = ax.plot(steps, mean, marker=marker, markersize=3, label=label)
  if len(series) > 1:
    lo = [m - (h or 0.0) for m, h in stats]
    hi = [m + (h or 0.0) for m, h in stats]
    if bounds is not None:
      lo = [max(v, bounds[0]) for v in lo]
      hi = [min(v, bounds[1]) for v in hi]
    ax.fill_between(steps, lo, hi, color=line.get_color(), alpha=0.2)


def curves(runs: list[wd.Run], path: str) -> str:
  """Two panels from every run's metrics.jsonl: training loss at every log step, and the
  validation metric (accuracy, else bits per char, else loss) at every evaluation; one line
  per point, the mean over its seeds with a 95% Student-t band (fnetlab/results/seeds.py)."""
  plt = _pyplot()
  fig, (ax_train, ax_val) = plt.subplots(1, 2, figsize=(11, 4.5))
  by_point: dict[str, list[wd.Run]] = {}
  for run in runs:
    by_point.setdefault(seeds.point_of(run.point), []).append(run)
  logs = {id(r): wd.read_metrics(r.workdir) for r in runs}
  all_keys = {k for evals in logs.values() for e in evals for k in e}
  val_key = next(
    (k for k in ("val_accuracy", "val_bits_per_char", "val_loss") if k in all_keys), None
  )
  for point, members in by_point.items():
    label = _label(members, point)
    train = [
      {e["step"]: e["train_loss"] for e in logs[id(r)] if "train_loss" in e} for r in members
    ]
    _band(ax_train, [t for t in train if t], label)
    if val_key:
      val = [{e["step"]: e[val_key] for e in logs[id(r)] if val_key in e} for r in members]
      bounds = (0.0, 1.0) if val_key.endswith("accuracy") else None
      _band(ax_val, [v for v in val if v], label, marker="o", bounds=bounds)
  ax_train.set_ylabel("training loss (every log step)")
  ax_val.set_ylabel(f"{val_key or 'validation'} (every evaluation)")
  for ax in (ax_train, ax_val):
    ax.set_xlabel("step")
    ax.grid(alpha=0.3)
    if ax.lines:
      ax.legend(fontsize=7)
  fig.suptitle("mean over seeds; band: 95% Student-t interval", fontsize=9)
  return _save(fig, path)


def pareto(points: list[dict], path: str) -> str | None:
  """Test accuracy against training steps/s, one marker per point at its means over seeds,
  with the accuracy's 95% Student-t interval as error bars (steps/s, which a shared machine's
  load moves, gets none); None if no point has both."""
  ok = [
    p
    for p in points
    if p.get("test_accuracy_mean") is not None and p.get("steps_per_sec_mean") is not None
  ]
  if not ok:
    return None
  plt = _pyplot()
  fig, ax = plt.subplots(figsize=(6, 4.5))
  for p in ok:
    x, y = p["steps_per_sec_mean"], 100.0 * p["test_accuracy_mean"]  # % as in the tables
    half = p.get("test_accuracy_ci95")
    ax.errorbar(x, y, yerr=None if half is None else 100.0 * half, fmt="o", capsize=3)
    ax.annotate(
      p.get("mixer") or p["point"], (x, y), fontsize=8, xytext=(3, 3), textcoords="offset points"
    )
  ax.set_xlabel("train steps/s, warm steps (higher is faster)")
  ax.set_ylabel("test accuracy (%)")
  ax.set_title("means over seeds; bars: 95% Student-t intervals of the accuracy", fontsize=9)
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
