"""Reading what `fnetlab train`, `eval` and `sweep` leave on disk.

A workdir holds `config.json` (the resolved config, with its `seed`), `metrics.jsonl` (one
JSON object per log or evaluation step), `results.json` (the final metrics: `task`, `mixer`,
`step`, `params`, `validation`, `test`, `best`, ...), `eval_<split>_<step>.json` from
`fnetlab eval`, and, for a sweep point that raised, `failed.json`. A sweep root holds
`sweep.json` (each point's name and overrides) beside one workdir per point.

`find_workdirs(root)` finds every workdir under a root at any depth (a GLUE root of one
workdir per task next to sweep roots of one workdir per learning rate, say), and `read_run`
turns one into a `Run`. A broken file is a UserError naming it.
"""

from __future__ import annotations

import dataclasses
import json
import os

from fnetlab.common.errors import UserError

CONFIG = "config.json"
RESULTS = "results.json"
METRICS = "metrics.jsonl"
FAILED = "failed.json"
SWEEP = "sweep.json"
_MARKERS = (CONFIG, RESULTS, FAILED, METRICS)
_NOT_RUNS = {"checkpoints", "tb"}  # folders inside a workdir


def read_json(path: str):
  """The JSON in `path`; UserError naming the file if it is missing or malformed."""
  try:
    with open(path) as f:
      return json.load(f)
  except FileNotFoundError:
    raise UserError(f"{path}: not found") from None
  except (OSError, ValueError) as e:
    raise UserError(f"{path}: unreadable JSON ({e})") from None


def is_workdir(path: str) -> bool:
  return any(os.path.exists(os.path.join(path, m)) for m in _MARKERS)


def find_workdirs(root: str) -> list[str]:
  """Every workdir under `root` (`root` itself if it is one), sorted; nested sweep roots are
  searched, a workdir's own subfolders are not."""
  if not os.path.isdir(root):
    raise UserError(f"--workdir={root}: not a directory")
  if is_workdir(root):
    return [root]
  found = []
  for dirpath, dirnames, _ in os.walk(root):
    dirnames[:] = sorted(d for d in dirnames if d not in _NOT_RUNS)
    if dirpath != root and is_workdir(dirpath):
      found.append(dirpath)
      dirnames[:] = []  # a workdir's own folders are not runs
  return sorted(found)


def read_results(workdir: str) -> dict:
  """results.json of a finished run; UserError if there is none."""
  path = os.path.join(workdir, RESULTS)
  if not os.path.isfile(path):
    raise UserError(f"{path}: no results.json (has `fnetlab train` finished in this workdir?)")
  results = read_json(path)
  if not isinstance(results, dict):
    raise UserError(f"{path}: not a results.json (expected a JSON object)")
  return results


def read_config(workdir: str) -> dict:
  """config.json of a run, or {} when it has none."""
  path = os.path.join(workdir, CONFIG)
  return read_json(path) if os.path.isfile(path) else {}


def read_metrics(workdir: str) -> list[dict]:
  """metrics.jsonl as a list of {step, ...}; [] when absent; a torn last line is skipped."""
  path = os.path.join(workdir, METRICS)
  if not os.path.isfile(path):
    return []
  out = []
  with open(path) as f:
    for line in f:
      try:
        out.append(json.loads(line))
      except ValueError:  # a run killed mid-write leaves a partial last line
        continue
  return out


def read_eval(workdir: str, split: str, step) -> dict | None:
  """The metrics `fnetlab eval --split=<split>` wrote for `step`, or None."""
  path = os.path.join(workdir, f"eval_{split}_{step}.json")
  return read_json(path).get("metrics") if os.path.isfile(path) else None


def read_sweep(root: str) -> dict[str, dict]:
  """Point name -> overrides, from `root/sweep.json`; {} when `root` is not a sweep root."""
  path = os.path.join(root, SWEEP)
  if not os.path.isfile(path):
    return {}
  return {p["name"]: p.get("overrides", {}) for p in read_json(path).get("points", [])}


@dataclasses.dataclass
class Run:
  """One workdir as the results code sees it."""

  workdir: str
  point: str  # the workdir's path relative to the report root: the row's key
  status: str  # ok | failed | incomplete
  results: dict  # results.json ({} unless ok)
  config: dict  # config.json ({} if absent)
  overrides: dict  # the sweep point's overrides ({} outside a sweep)
  error: str | None = None  # failed.json's error
  seed: int | None = None  # config.json's seed (a run that failed first: its sweep seed)

  @property
  def task(self):
    return self.results.get("task") or self.config.get("task")


def sweep_overrides(workdir: str, root: str | None = None) -> dict:
  """The overrides of the sweep point `workdir` belongs to: the nearest sweep.json above it
  (up to `root`) names the point by the first folder below that sweep root, so a seed's
  workdir (`<sweep root>/<point>/seed-<k>/`) finds its point's overrides too."""
  here = os.path.abspath(workdir)
  top = os.path.abspath(root) if root else None
  parent = os.path.dirname(here)
  while True:
    points = read_sweep(parent)
    if points:
      return points.get(os.path.relpath(here, parent).split(os.sep)[0], {})
    if top is None or parent == top or not parent.startswith(top + os.sep):
      return {}
    parent = os.path.dirname(parent)


def read_run(workdir: str, root: str | None = None) -> Run:
  """The Run of `workdir`; `root` names the point (its path under root) and bounds the search
  for its sweep.json."""
  inside = root and os.path.abspath(workdir) != os.path.abspath(root)
  point = os.path.relpath(workdir, root) if inside else os.path.basename(os.path.abspath(workdir))
  overrides = sweep_overrides(workdir, root)
  config = read_config(workdir)
  seed = config.get("seed")
  if os.path.isfile(os.path.join(workdir, FAILED)):
    failed = read_json(os.path.join(workdir, FAILED))
    seed = seed if seed is not None else (failed.get("overrides") or {}).get("seed")
    error = str(failed.get("error", ""))
    return Run(workdir, point, "failed", {}, config, overrides, error, seed)
  if os.path.isfile(os.path.join(workdir, RESULTS)):
    return Run(workdir, point, "ok", read_results(workdir), config, overrides, seed=seed)
  return Run(workdir, point, "incomplete", {}, config, overrides, seed=seed)


def read_runs(root: str) -> list[Run]:
  """Every run under `root` (see `find_workdirs`)."""
  return [read_run(w, root) for w in find_workdirs(root)]
