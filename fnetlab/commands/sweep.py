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

With `--tune=KEY=V1,V2,...` the sweep runs the tuning protocol instead: every point gets the
same grid on the tuning seeds `--seeds`, the best validation setting is re-run on
`--final_seeds` and tested at its best checkpoint, optionally at several `--budgets` and with
self-pretraining (`--spt`) side by side; tuning.csv, summary.csv and protocol.md at the root
(fnetlab/commands/protocol.py).
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
  # The tuning protocol (fnetlab/commands/protocol.py); --seeds are then the tuning seeds.
  Flag(
    "tune", "Tune KEY=V1,V2,... for every point (repeatable; the grid is the product).", multi=True
  ),
  Flag("final_seeds", "With --tune: fresh seeds the selected setting re-runs on, e.g. 1,2,3."),
  Flag(
    "budgets",
    "With --tune: budgets to tune at, in steps (200,2000), seconds (60s) or FLOPs (1e12flops).",
  ),
  Flag("spt", "With --tune: also self-pretrain then fine-tune, side by side.", False, bool),
  Flag("spt_share", "With --spt: the pretraining's share of each budget's steps.", 0.5, float),
  Flag(
    "spt_mask_rate",
    "With --spt: masking rate (default: the task's, docs/comparisons.md).",
    type=float,
  ),
  Flag(
    "baselines", "With --tune: comma-separated mixers for the paired verdicts.", "fourier,ff_only"
  ),
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
  items = [
    (name if seed is None else f"{name}/seed-{seed}", workdir, config_arg, overrides, i)
    for i, name, seed, workdir, overrides in selected
  ]
  configs = [config_lib.load(config_arg, o) for *_, o, _ in items]  # validate before anything runs
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
  return run_all(items, use_subprocess, configs)


def run_all(items, use_subprocess=False, configs=None):
  """Runs (or resumes) `items`, each (label, workdir, config_arg, overrides, point index);
  finished runs are skipped and a failed one is recorded in its failed.json while the rest go
  on. Returns [(label, status)]. `configs` are the items' loaded configs, if already loaded."""
  if configs is None:
    configs = [config_lib.load(c, o) for _, _, c, o, _ in items]  # validate before anything runs
  statuses = []
  for n, ((label, workdir, config_arg, overrides, i), config) in enumerate(
    zip(items, configs, strict=True)
  ):
    print(f"[sweep {n + 1}/{len(items)}] point {i}: {label}", flush=True)
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
  if args.tune:
    return tune_main(args, spec, only, extra, seeds, argv)
  for name in ("final_seeds", "budgets", "spt_mask_rate"):
    if getattr(args, name) is not None:
      raise UserError(f"--{name} is a flag of the tuning protocol: give --tune too")
  if args.spt:
    raise UserError("--spt is a flag of the tuning protocol: give --tune too")
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


def tune_main(args, spec, only, extra, seeds, argv) -> int:
  """`--tune`: the tuning protocol (fnetlab/commands/protocol.py)."""
  from fnetlab.commands import protocol
  from fnetlab.train import protocol as proto

  p = protocol.Protocol(
    config=spec,
    sweep=args.sweep,
    root=args.workdir,
    tune=proto.parse_tune(args.tune),
    seeds=seeds or [],
    final_seeds=int_list(args.final_seeds or "", "--final_seeds"),
    budgets=proto.parse_budgets(args.budgets) if args.budgets else None,
    spt=args.spt,
    spt_share=args.spt_share,
    spt_mask_rate=args.spt_mask_rate,
    only=only,
    extra=extra,
    use_subprocess=args.subprocess,
    baselines=tuple(b for b in args.baselines.split(",") if b),
    command=shlex.join(["fnetlab", "sweep", *argv[1:]]),
    points_of=points,
    name_of=point_name,
    execute=run_all,
  )
  proto.check_seeds(p.seeds, p.final_seeds)
  if args.spt:
    proto.spt_split(2, p.spt_share)  # checks the share before anything runs
  if args.list:
    for label, workdir, config_arg, overrides, i in protocol.list_runs(p):
      print(f"{i}\t{label}\t{train_command(config_arg, workdir, overrides)}")
    return 0
  statuses, text = protocol.run(p)
  print(text)
  return 1 if any(s == "failed" for _, s in statuses) else 0
