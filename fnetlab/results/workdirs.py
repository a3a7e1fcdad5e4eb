"""Reading what `fnetlab train`, `eval` and `sweep` leave on disk, for the results code.

The files themselves (config.json, metrics.jsonl, results.json, history.jsonl,
eval_<split>_<step>.json, failed.json, sweep.json) are named, read and written by
fnetlab/common/workdir.py alone; this module finds the workdirs under a report root
(`find_workdirs`, at any depth: a GLUE root of one workdir per task next to sweep roots of one
workdir per learning rate, say) and turns each into a `Run` (`read_run`). A broken file is a
UserError naming it.
"""

from __future__ import annotations

import dataclasses
import os

from fnetlab.common import workdir as files
from fnetlab.common.errors import UserError
from fnetlab.common.workdir import (  # noqa: F401  re-exported for the results modules
  CONFIG,
  FAILED,
  METRICS,
  RESULTS,
  SWEEP,
  is_workdir,
  read_eval,
  read_json,
  read_metrics,
  read_results,
)


def read_config(workdir: str) -> dict:
  """config.json of a run, or {} when it has none."""
  return files.read_config(workdir, required=False)


def read_sweep(root: str) -> dict[str, dict]:
  """Point name -> overrides, from `root/sweep.json`; {} when `root` is not a sweep root."""
  return files.sweep_points(root)


def find_workdirs(root: str) -> list[str]:
  """Every workdir under `root` (`root` itself if it is one), sorted; nested sweep roots are
  searched, a workdir's own subfolders are not."""
  if not os.path.isdir(root):
    raise UserError(f"--workdir={root}: not a directory")
  if is_workdir(root):
    return [root]
  found = []
  for dirpath, dirnames, _ in os.walk(root):
    dirnames[:] = sorted(d for d in dirnames if d not in files.INNER_FOLDERS)
    if dirpath != root and is_workdir(dirpath):
      found.append(dirpath)
      dirnames[:] = []  # a workdir's own folders are not runs
  return sorted(found)


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
  failed = files.read_failed(workdir)
  if failed is not None:
    seed = seed if seed is not None else (failed.get("overrides") or {}).get("seed")
    error = str(failed.get("error", ""))
    return Run(workdir, point, "failed", {}, config, overrides, error, seed)
  if files.has_results(workdir):
    return Run(workdir, point, "ok", read_results(workdir), config, overrides, seed=seed)
  return Run(workdir, point, "incomplete", {}, config, overrides, seed=seed)


def read_runs(root: str) -> list[Run]:
  """Every run under `root` (see `find_workdirs`)."""
  return [read_run(w, root) for w in find_workdirs(root)]
