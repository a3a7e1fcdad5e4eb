"""`fnetlab sweep`: run the grid a config file defines, per seed, resumably, one workdir each.

  fnetlab sweep --config=configs/lra/listops.py:runlocal --sweep=mixers --workdir=runs/sw
  fnetlab sweep ... --seeds=0,1,2   # every point once per seed: runs/sw/<point>/seed-<k>/
  fnetlab sweep ... --list          # the exact `fnetlab train` command of every run
  fnetlab sweep ... --only=0,3      # a subset of points (e.g. one SLURM array task each)

A config file may define `sweep_<name>(add, arg=None)`, calling `add(**overrides)` once per
point with dotted config keys (`add(**{"model.mixer": "fourier", "optim.lr": 1e-3})`), as
big_vision does. A point's folder is named from its whole dotted keys and values
(`model.mixer-fourier_optim.lr-0.001`), so points that differ in any key never share a
workdir; a short hash is appended when a value has characters unsafe in a file name. With
`--seeds`, each point gets one workdir per seed (`config.seed` set to it) under its folder.

Finished runs (results.json at the final step) are skipped, an interrupted one resumes from its
checkpoint, and a run that fails is recorded in its `failed.json` while the sweep goes on.
`fnetlab report` runs at the end and aggregates over seeds.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import sys
import traceback

from fnetlab.common import config as config_lib
from fnetlab.common.errors import UserError
from fnetlab.common.flags import Flag, int_list, key_values, parse
from fnetlab.common.io import read_json, write_json

FLAGS = (
  Flag("workdir", "Root directory; one subdirectory per point (and seed).", required=True),
  Flag("sweep", "Sweep name: the config file's sweep_<name> function.", "mixers"),
  Flag("seeds", "Comma-separated seeds; every point runs once per seed (default: the config's)."),
  Flag("only", "Comma-separated point indices to run (default: all)."),
  Flag("list", "Print the runs and their train commands; run nothing.", False, bool),
  Flag("subprocess", "Run each point in its own process.", False, bool),
  Flag("set", "Extra override for every point, KEY=VALUE (repeatable).", multi=True),
)


def points(config_arg: str, sweep: str) -> list[dict]:
  path, arg = config_lib.split_spec(config_arg)
  module = config_lib.load_module(path)
  fn = getattr(module, f"sweep_{sweep}", None)
  if fn is None:
    found = sorted(n[len("sweep_") :] for n in dir(module) if n.startswith("sweep_"))
    raise UserError(f"{path} has no sweep_{sweep}; sweeps: {', '.join(found) or 'none'}")
  out = []
  fn(lambda **kw: out.append(kw), arg or None)
  return out


def point_name(overrides: dict) -> str:
  """`{"model.mixer": "fourier", "optim.lr": 0.001}` -> `model.mixer-fourier_optim.lr-0.001`.

  Whole dotted keys keep distinct points apart; if making the text file-name safe changed
  it, a hash of the exact overrides is appended so two points can still never collide.
  """
  raw = "_".join(f"{k}-{v}" for k, v in sorted(overrides.items()))
  safe = re.sub(r"[^A-Za-z0-9._-]", "-", raw)
  if safe != raw:
    digest = hashlib.sha1(json.dumps(overrides, sort_keys=True, default=str).encode())
    safe += "-" + digest.hexdigest()[:6]
  return safe or "default"


def run_dir(root: str, name: str, seed: int | None) -> str:
  return os.path.join(root, name) if seed is None else os.path.join(root, name, f"seed-{seed}")


def train_command(config_arg: str, workdir: str, overrides: dict) -> str:
  args = ["fnetlab", "train", f"--config={config_arg}", f"--workdir={workdir}"]
  args += [f"--config.{k}={v}" for k, v in sorted(overrides.items())]
  return shlex.join(args)


def is_done(workdir: str, steps: int) -> bool:
  path = os.path.join(workdir, "results.json")
  return os.path.exists(path) and read_json(path).get("step") == steps


def run_point(config_arg: str, workdir: str, overrides: dict, use_subprocess: bool) -> None:
  if use_subprocess:
    import subprocess

    cmd = shlex.split(train_command(config_arg, workdir, overrides))
    subprocess.run([sys.executable, "-m", "fnetlab", *cmd[1:]], check=True)
    return
  from fnetlab.train.trainer import train_and_evaluate

  train_and_evaluate(config_lib.load(config_arg, overrides), workdir)


def runs(config_arg: str, sweep: str, root: str, only=None, extra=None, seeds=None):
  """(grid, [(point index, name, seed or None, workdir, overrides)] of the selected points)."""
  return select(points(config_arg, sweep), root, only, extra, seeds)


def select(grid: list[dict], root: str, only=None, extra=None, seeds=None):
  """`runs` for a grid given as a list of override dicts."""
  bad = sorted(set(only or ()) - set(range(len(grid))))
  if bad:
    raise UserError(f"--only={','.join(map(str, bad))}: the sweep has points 0..{len(grid) - 1}")
  out = []
  for i, point in enumerate(grid):
    if only is not None and i not in only:
      continue
    name = point_name(point)
    for seed in seeds or (None,):
      overrides = {**(extra or {}), **point, **({} if seed is None else {"seed": seed})}
      out.append((i, name, seed, run_dir(root, name, seed), overrides))
  return grid, out


def run_sweep(
  config_arg: str, sweep: str, root: str, only=None, extra=None, use_subprocess=False, seeds=None
):
  """Runs (or resumes) every selected point x seed; returns [(run name, status)]."""
  grid = points(config_arg, sweep)
  return run_grid(config_arg, grid, root, only, extra, use_subprocess, seeds, sweep=sweep)


def run_grid(
  config_arg: str,
  grid: list[dict],
  root: str,
  only=None,
  extra=None,
  use_subprocess=False,
  seeds=None,
  sweep: str | None = None,
):
  """`run_sweep` for a grid given as a list of override dicts (a grid computed by a script,
  e.g. a width chosen from measured FLOPs): the same workdirs, skipping, resuming and
  failed.json; returns [(run name, status)]."""
  grid, selected = select(grid, root, only, extra, seeds)
  configs = [config_lib.load(config_arg, o) for *_, o in selected]  # validate before anything runs
  os.makedirs(root, exist_ok=True)
  write_json(
    os.path.join(root, "sweep.json"),
    {
      "config": config_arg,
      "sweep": sweep,
      "seeds": list(seeds) if seeds else None,
      "extra": extra or {},
      "points": [dict(name=point_name(p), overrides=p) for p in grid],
    },
  )
  statuses = []
  for n, ((i, name, seed, workdir, overrides), config) in enumerate(
    zip(selected, configs, strict=True)
  ):
    label = name if seed is None else f"{name}/seed-{seed}"
    print(f"[sweep {n + 1}/{len(selected)}] point {i}: {label}", flush=True)
    if is_done(workdir, config.train.steps):
      print("  done already; skipped", flush=True)
      statuses.append((label, "done"))
      continue
    failed = os.path.join(workdir, "failed.json")
    try:
      run_point(config_arg, workdir, overrides, use_subprocess)
      if os.path.exists(failed):
        os.remove(failed)
      statuses.append((label, "ok"))
    except Exception as e:  # a failed run is recorded; the sweep goes on
      os.makedirs(workdir, exist_ok=True)
      write_json(
        failed,
        {
          "overrides": overrides,
          "error": f"{type(e).__name__}: {e}",
          "traceback": traceback.format_exc(),
        },
      )
      print(f"  FAILED: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}", flush=True)
      statuses.append((label, "failed"))
  return statuses


def main(argv) -> int:
  args = parse("sweep", __doc__, FLAGS, argv, config="required")
  only = set(int_list(args.only or "", "--only")) or None
  seeds = int_list(args.seeds or "", "--seeds") or None
  # --config.KEY=VALUE and --set=KEY=VALUE apply to every point, typed by the config loader.
  extra = {**args.config_overrides, **key_values(args.set, "--set")}
  spec = args.config_spec
  if args.list:
    _, selected = runs(spec, args.sweep, args.workdir, only, extra, seeds)
    for i, name, seed, workdir, overrides in selected:
      label = name if seed is None else f"{name}/seed-{seed}"
      print(f"{i}\t{label}\t{train_command(spec, workdir, overrides)}")
    return 0
  statuses = run_sweep(spec, args.sweep, args.workdir, only, extra, args.subprocess, seeds)
  from fnetlab.results.report import write_report

  print(write_report(args.workdir))
  return 1 if any(s == "failed" for _, s in statuses) else 0
