"""Aggregation: one flat summary row per run, and the best run per cell of a task table.

Summary rows are keyed by `point` (the workdir's path under the report root) and carry the
run's `seed` (from its config.json) and its sweep `overrides`, so that repeats of one point
over seeds can be grouped on (overrides without the seed) and summarised, e.g. as a mean and
a confidence interval, without reading the workdirs again.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Hashable, Iterable
from typing import TypeVar

from fnetlab.results.workdirs import Run

T = TypeVar("T")

#: Columns of summary.md, in order, where present (summary.csv has every column).
SHOWN = (
  "point",
  "seed",
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


def summary_row(run: Run) -> dict:
  """point, seed, status, overrides, then (finished runs) task, mixer, step, params, speed,
  wall time, every validation_/test_ metric and the best step; failed runs their error."""
  row = {
    "point": run.point,
    "seed": run.seed,
    "status": run.status,
    "overrides": json.dumps(run.overrides, sort_keys=True, default=str),
  }
  if run.status == "failed":
    row["error"] = (run.error or "")[:200]
  if run.status != "ok":
    return row
  r = run.results
  row.update(task=r.get("task"), mixer=r.get("mixer"), step=r.get("step"), params=r.get("params"))
  speed = r.get("train_steps_per_sec")  # warm steps only; None when none was timed
  row["steps_per_sec"] = None if speed is None else round(speed, 3)
  if r.get("compile_s") is not None:
    row["compile_s"] = round(r["compile_s"], 2)
  row["wall_time_s"] = round(r.get("wall_time_s") or 0.0, 1)
  for split in ("validation", "test"):
    for k, v in (r.get(split) or {}).items():
      row[f"{split}_{k}"] = round(v, 4) if isinstance(v, int | float) else v
  row["best_step"] = (r.get("best") or {}).get("step")
  return row


def columns_of(rows: Iterable[dict]) -> list[str]:
  """Every key of `rows`, in first-seen order."""
  out: dict[str, None] = {}
  for r in rows:
    out.update(dict.fromkeys(r))
  return list(out)


def best_per_cell(
  items: Iterable[T], key: Callable[[T], Hashable], score: Callable[[T], float | None]
) -> dict[Hashable, T]:
  """The item with the highest score for each key: the best of a learning-rate sweep on the
  validation set, the usual protocol for a table cell. Ties keep the first item."""
  best: dict[Hashable, tuple[float, T]] = {}
  for item in items:
    k, s = key(item), score(item)
    s = float("-inf") if s is None else s
    if k not in best or s > best[k][0]:
      best[k] = (s, item)
  return {k: item for k, (_, item) in best.items()}


def model_label(mixer: str, config: dict, *, dims: bool = False, init_from: bool = False) -> str:
  """A table row's model name: the mixer, `+ attention (layout, layers)` for a hybrid, and
  optionally the depth-width (`2L-64`) and the workdir the weights came from."""
  model = config.get("model", {}) or {}
  label = mixer
  if model.get("hybrid", "none") not in ("none", None):
    label += f" + attention ({model['hybrid']}, {model.get('hybrid_layers')})"
  if dims and model.get("num_layers") and model.get("d_model"):
    label += f" {model['num_layers']}L-{model['d_model']}"
  if init_from and config.get("init_from"):
    label += f", from {os.path.basename(os.path.normpath(config['init_from']))}"
  return label
