"""`fnetlab sweep`: run the grid a config file defines, per seed, resumably, one workdir each.

  fnetlab sweep --config=configs/lra/listops.py:runlocal --sweep=mixers --workdir=runs/sw
  fnetlab sweep ... --seeds=0,1,2   # every point once per seed: runs/sw/<point>/seed-<k>/
  fnetlab sweep ... --list          # the exact `fnetlab train` command of every run
  fnetlab sweep ... --only=0,3      # a subset of points (e.g. one SLURM array task each)

A config file declares a sweep by defining `sweep_<name>(add, arg=None)` in the file itself
(imported functions are not sweeps), calling `add(**overrides)` once per
point with dotted config keys (`add(**{"model.mixer": "fourier", "optim.lr": 1e-3})`), as
big_vision does. A point's folder is named from its whole dotted keys and values
(`model.mixer-fourier_optim.lr-0.001`), so points that differ in any key never share a
workdir; a short hash is appended when a value has characters unsafe in a file name. With
`--seeds`, each point gets one workdir per seed (`config.seed` set to it) under its folder.

Before any point runs, every point whose workdir already exists is checked against its
saved config.json, as `fnetlab train` checks a resume: a key that differs (a new shared
`--config.*` override, an edited config file) is a one-line error naming the point and the
key, and nothing is run or written. Then finished runs are skipped untouched, an interrupted
one resumes from its checkpoint, and a run that fails is recorded in its `failed.json` while
the sweep goes on. sweep.json is written only when it changes (new seeds or points).
`fnetlab report` runs at the end and aggregates over seeds.

With `--tune=KEY=V1,V2,...` the sweep runs the tuning protocol instead: every point gets the
same grid on the tuning seeds `--seeds`, the best validation setting is re-run on
`--final_seeds` and tested at its best checkpoint, optionally at several `--budgets` and with
self-pretraining (`--spt`) side by side; tuning.csv, summary.csv and protocol.md at the root
(fnetlab/commands/protocol.py).
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import re
import shlex
import sys
import traceback

from fnetlab.common import config as config_lib
from fnetlab.common import workdir as files
from fnetlab.common.errors import Interrupted, UserError
from fnetlab.common.flags import Flag, int_list, key_values, parse

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
  Flag(
    "spt_share",
    "With --spt: the pretraining's share of each budget's steps (default 0.5).",
    type=float,
  ),
  Flag(
    "spt_mask_rate",
    "With --spt: masking rate (default: the task's, docs/comparisons.md).",
    type=float,
  ),
  Flag("baselines", "With --tune: mixers for the paired verdicts (default fourier,ff_only)."),
)


def declared_sweeps(module) -> dict:
  """The sweeps a config file declares: the `sweep_<name>` functions defined in that file
  itself (a function imported into it, such as a shared helper, is never a sweep)."""
  return {
    name[len("sweep_") :]: fn
    for name, fn in vars(module).items()
    if name.startswith("sweep_") and inspect.isfunction(fn) and fn.__module__ == module.__name__
  }


def points(config_arg: str, sweep: str) -> list[dict]:
  """The overrides of every point of sweep `sweep` in the config file of `config_arg`."""
  path, arg = config_lib.split_spec(config_arg)
  module = config_lib.load_module(path)
  sweeps = declared_sweeps(module)
  if sweep not in sweeps:
    raise UserError(
      f"{path} has no sweep_{sweep}; its sweeps: {', '.join(sorted(sweeps)) or 'none'}"
    )
  out = []

  def add(**overrides):
    out.append(overrides)

  try:
    sweeps[sweep](add, arg or None)
  except UserError:
    raise
  except Exception as e:  # a broken sweep function: one line naming the file and line
    where = config_lib.where(e, path)
    raise UserError(f"config file {path}{where}: sweep_{sweep}: {type(e).__name__}: {e}") from None
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


def check_runs(items, configs) -> list[str]:
  """'new', 'resume' or 'finished' for every item (label, workdir, ...), from its workdir's
  saved config (`Trainer.check_workdir`); a changed key is a UserError naming the run.
  Workdirs without a config.json are 'new' without building anything."""
  from fnetlab.train.trainer import ConfigMismatch, Trainer

  out = []
  for (label, workdir, *_), config in zip(items, configs, strict=True):
    if not files.has_config(workdir):
      out.append("new")
      continue
    try:
      out.append(Trainer(config, workdir).check_workdir())
    except ConfigMismatch as e:
      raise UserError(f"point {label}: {e}") from None
    except UserError:  # the run itself will fail and be recorded in its failed.json
      out.append("resume")
  return out


def sweep_record(config_arg, sweep, root, grid, extra, seeds) -> dict:
  """sweep.json's content: the config, the shared overrides, the seeds and the grid's points
  (seeds and points already recorded are kept, so a sweep run in parts records them all).
  A root that holds another sweep (another config, sweep or shared overrides) is an error."""
  old = files.read_sweep(root) or {}
  canon = lambda v: json.dumps(v, sort_keys=True, default=str)
  for key, new in (("config", config_arg), ("sweep", sweep), ("extra", extra or {})):
    if key in old and canon(old[key]) != canon(new):
      raise UserError(
        f"{files.path(root, files.SWEEP)}: this root holds the sweep with {key}={old[key]!r}; "
        f"got {new!r}: use a new --workdir"
      )
  points = {p["name"]: p for p in old.get("points", [])}
  points.update({point_name(p): dict(name=point_name(p), overrides=p) for p in grid})
  seen = sorted(set(old.get("seeds") or ()) | set(seeds or ())) or None
  return {
    "config": config_arg,
    "sweep": sweep,
    "seeds": seen,
    "extra": extra or {},
    "points": list(points.values()),
  }


def run_point(config_arg: str, workdir: str, overrides: dict, use_subprocess: bool) -> None:
  if use_subprocess:
    import subprocess

    cmd = shlex.split(train_command(config_arg, workdir, overrides))
    proc = subprocess.run([sys.executable, "-m", "fnetlab", *cmd[1:]])
    if proc.returncode == 130:  # Ctrl-C reached the child too
      raise Interrupted(f"interrupted in {workdir}")
    if proc.returncode:
      raise subprocess.CalledProcessError(proc.returncode, cmd)
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
  # Everything is validated before anything runs or is written: each point's config, its
  # match with a saved run, and the sweep root's own record.
  configs = [config_lib.load(config_arg, o) for *_, o, _ in items]
  checks = check_runs(items, configs)
  record = sweep_record(config_arg, sweep, root, grid, extra, seeds)
  os.makedirs(root, exist_ok=True)
  files.write_sweep(root, record)
  return run_all(items, use_subprocess, configs, checks)


def run_all(items, use_subprocess=False, configs=None, checks=None):
  """Runs (or resumes) `items`, each (label, workdir, config_arg, overrides, point index);
  every item is first checked against its saved run (`check_runs`: a changed key stops
  everything before anything runs), finished runs are skipped untouched, and a failed one is
  recorded in its failed.json while the rest go on. Returns [(label, status)]. `configs` and
  `checks` are the items' loaded configs and checks, if already made."""
  if configs is None:
    configs = [config_lib.load(c, o) for _, _, c, o, _ in items]  # validate before anything runs
  if checks is None:
    checks = check_runs(items, configs)
  statuses = []
  for n, ((label, workdir, config_arg, overrides, i), check) in enumerate(
    zip(items, checks, strict=True)
  ):
    print(f"[sweep {n + 1}/{len(items)}] point {i}: {label}", flush=True)
    if check == "finished":
      print("  done already; skipped", flush=True)
      statuses.append((label, "done"))
      continue
    try:
      run_point(config_arg, workdir, overrides, use_subprocess)
      files.clear_failed(workdir)
      statuses.append((label, "ok"))
    except Interrupted:
      raise
    except Exception as e:  # a failed run is recorded; the sweep goes on
      files.write_failed(
        workdir,
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
  for name in ("final_seeds", "budgets", "spt_share", "spt_mask_rate", "baselines"):
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
    spt_share=0.5 if args.spt_share is None else args.spt_share,
    spt_mask_rate=args.spt_mask_rate,
    only=only,
    extra=extra,
    use_subprocess=args.subprocess,
    baselines=tuple(b for b in (args.baselines or "fourier,ff_only").split(",") if b),
    command=shlex.join(["fnetlab", "sweep", *argv[1:]]),
    points_of=points,
    name_of=point_name,
    execute=run_all,
  )
  proto.check_seeds(p.seeds, p.final_seeds)
  for name in ("spt_share", "spt_mask_rate"):
    if getattr(args, name) is not None and not args.spt:
      raise UserError(f"--{name} is a flag of self-pretraining: give --spt too")
  if args.spt:
    proto.spt_split(2, p.spt_share)  # checks the share before anything runs
  if args.list:
    for label, workdir, config_arg, overrides, i in protocol.list_runs(p):
      print(f"{i}\t{label}\t{train_command(config_arg, workdir, overrides)}")
    return 0
  statuses, text = protocol.run(p)
  print(text)
  return 1 if any(s == "failed" for _, s in statuses) else 0
