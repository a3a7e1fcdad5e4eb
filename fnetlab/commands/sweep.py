"""`fnetlab sweep`: run the grid a config file defines, resumably, one workdir per point.

A config file may define `sweep_<name>(add, arg=None)`, calling `add(**overrides)` once per
point with dotted config keys (`add(**{"model.mixer": "fourier", "optim.lr": 1e-3})`), as
big_vision does. Each point runs in `ROOT/<name from its overrides>/`, a normal workdir:

  fnetlab sweep --config=configs/lra/listops.py:runlocal --sweep=mixers --workdir=runs/sw
  fnetlab sweep ... --list      # the exact `fnetlab train` command of every point
  fnetlab sweep ... --only=0,3  # a subset (e.g. one SLURM array task each)

Finished points (results.json at the final step) are skipped, an interrupted point resumes
from its checkpoint, and a point that fails is recorded in its `failed.json` while the sweep
goes on. `fnetlab report` runs at the end.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import sys
import traceback

from absl import flags

from fnetlab.cli import parse_flags
from fnetlab.config import parse_value
from fnetlab.errors import UserError

FLAGS = flags.FlagValues()
flags.DEFINE_string("config", None, "Config file[:arg].", flag_values=FLAGS)
flags.DEFINE_string(
  "sweep", "mixers", "Sweep name: the config's sweep_<name> function.", flag_values=FLAGS
)
flags.DEFINE_string(
  "workdir", None, "Root directory; one subdirectory per point.", flag_values=FLAGS
)
flags.DEFINE_string("only", "", "Comma-separated point indices to run.", flag_values=FLAGS)
flags.DEFINE_bool(
  "list", False, "Print the points and their train commands, run nothing.", flag_values=FLAGS
)
flags.DEFINE_bool("subprocess", False, "Run each point in its own process.", flag_values=FLAGS)
flags.DEFINE_multi_string(
  "set", [], "Extra override for every point, key=value.", flag_values=FLAGS
)


def load_module(path: str):
  if not os.path.exists(path):
    raise UserError(f"config file {path} not found")
  spec = importlib.util.spec_from_file_location(f"fnetlab_cfg_{abs(hash(path))}", path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


def load_config(config_arg: str, overrides: dict | None = None):
  """`path[:arg]` -> ConfigDict with dotted `overrides` applied (unknown keys are errors)."""
  path, _, arg = config_arg.partition(":")
  config = load_module(path).get_config(arg or None)
  for key, value in (overrides or {}).items():
    set_key(config, key, value)
  return config


def set_key(config, key: str, value) -> None:
  *parents, leaf = key.split(".")
  node = config
  for p in parents:
    if p not in node:
      raise UserError(f"unknown config key {key}")
    node = node[p]
  if leaf not in node:
    raise UserError(f"unknown config key {key}")
  node[leaf] = value


def points(config_arg: str, sweep: str) -> list[dict]:
  path, _, arg = config_arg.partition(":")
  module = load_module(path)
  fn = getattr(module, f"sweep_{sweep}", None)
  if fn is None:
    found = sorted(n[len("sweep_") :] for n in dir(module) if n.startswith("sweep_"))
    raise UserError(f"{path} has no sweep_{sweep}; sweeps: {', '.join(found) or 'none'}")
  out = []
  fn(lambda **kw: out.append(kw), arg or None)
  return out


def point_name(overrides: dict) -> str:
  """`{"model.mixer": "fourier", "optim.lr": 0.001}` -> `lr-0.001_mixer-fourier` (shell-safe)."""
  parts = [f"{k.split('.')[-1]}-{v}" for k, v in sorted(overrides.items())]
  return re.sub(r"[^A-Za-z0-9._-]", "-", "_".join(parts)) or "default"


def train_command(config_arg: str, workdir: str, overrides: dict) -> str:
  args = ["fnetlab", "train", f"--config={config_arg}", f"--workdir={workdir}"]
  args += [f"--config.{k}={v}" for k, v in sorted(overrides.items())]
  return shlex.join(args)


def is_done(workdir: str, steps: int) -> bool:
  path = os.path.join(workdir, "results.json")
  if not os.path.exists(path):
    return False
  with open(path) as f:
    return json.load(f).get("step") == steps


def run_point(config_arg: str, workdir: str, overrides: dict, use_subprocess: bool) -> None:
  if use_subprocess:
    import subprocess

    cmd = shlex.split(train_command(config_arg, workdir, overrides))
    subprocess.run([sys.executable, "-m", "fnetlab", *cmd[1:]], check=True)
    return
  from fnetlab.train.loop import train_and_evaluate

  train_and_evaluate(load_config(config_arg, overrides), workdir)


def run_sweep(config_arg: str, sweep: str, root: str, only=None, extra=None, use_subprocess=False):
  """Runs (or resumes) every point; returns [(name, status)]."""
  grid = points(config_arg, sweep)
  statuses = []
  selected = [i for i in range(len(grid)) if only is None or i in only]
  for n, i in enumerate(selected):
    overrides = {**(extra or {}), **grid[i]}
    name = point_name(grid[i])
    workdir = os.path.join(root, name)
    config = load_config(config_arg, overrides)  # validates before anything runs
    print(f"[sweep {n + 1}/{len(selected)}] point {i}: {name}", flush=True)
    if is_done(workdir, config.train.steps):
      print("  done already; skipped", flush=True)
      statuses.append((name, "done"))
      continue
    failed = os.path.join(workdir, "failed.json")
    try:
      run_point(config_arg, workdir, overrides, use_subprocess)
      if os.path.exists(failed):
        os.remove(failed)
      statuses.append((name, "ok"))
    except Exception as e:  # a failed point is recorded; the sweep goes on
      os.makedirs(workdir, exist_ok=True)
      with open(failed, "w") as f:
        json.dump(
          {
            "overrides": overrides,
            "error": f"{type(e).__name__}: {e}",
            "traceback": traceback.format_exc(),
          },
          f,
          indent=2,
          default=str,
        )
      print(f"  FAILED: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}", flush=True)
      statuses.append((name, "failed"))
  with open(os.path.join(root, "sweep.json"), "w") as f:
    json.dump(
      {
        "config": config_arg,
        "sweep": sweep,
        "points": [dict(name=point_name(p), overrides=p) for p in grid],
      },
      f,
      indent=2,
      default=str,
    )
  return statuses


def main(argv):
  parse_flags(FLAGS, argv, required=("config", "workdir"))
  only = {int(i) for i in FLAGS.only.split(",") if i.strip()} or None
  extra = {}
  for item in FLAGS.set:
    key, _, value = item.partition("=")
    extra[key] = parse_value(value)
  if FLAGS.list:
    for i, p in enumerate(points(FLAGS.config, FLAGS.sweep)):
      overrides = {**extra, **p}
      print(
        f"{i}\t{point_name(p)}\t{train_command(FLAGS.config, os.path.join(FLAGS.workdir, point_name(p)), overrides)}"
      )
    return 0
  os.makedirs(FLAGS.workdir, exist_ok=True)
  statuses = run_sweep(FLAGS.config, FLAGS.sweep, FLAGS.workdir, only, extra, FLAGS.subprocess)
  from fnetlab.report import write_report

  print(write_report(FLAGS.workdir))
  return 1 if any(s == "failed" for _, s in statuses) else 0
