"""The tuning protocol behind `fnetlab sweep --tune=...`: an equal search for every point.

  fnetlab sweep --config=configs/suite/digits.py --sweep=mixers --workdir=runs/tuned \\
    --tune=optim.lr=3e-4,1e-3,3e-3,1e-2 --seeds=0 --final_seeds=1,2,3 \\
    [--budgets=200,2000 | 60s,600s | 1e12flops] [--spt] [--list]

For every budget (the config's own step count when no `--budgets` is given) and every point:
1. tuning: every grid point (`--tune`, the product of the listed values) trains once per
   tuning seed (`--seeds`), from scratch and, with `--spt`, as a self-pretraining (SPT) run
   then its fine-tune; every point gets exactly the same grid, trials and seeds;
2. selection: per point, the grid point with the best mean validation metric over the tuning
   seeds (`train.best_metric`, higher or lower by `train.best_mode`; the value at the
   best-validation evaluation of each run); a trial that failed (diverged) never wins;
3. final: the selected setting re-runs on `--final_seeds` (disjoint from the tuning seeds)
   and is tested at its best-validation checkpoint (`eval_test_<step>.json` in its workdir).

SPT (fnetlab/tasks/spt.py): pretraining on the task's training inputs with the same setting,
then fine-tuning from its best-validation checkpoint (`init_from=<workdir>@best`); the two
take `--spt_share` and 1 - `--spt_share` of the budget's steps, so an SPT trial costs the
steps of a from-scratch trial (compute-tied in steps; docs/comparisons.md).

Budgets in FLOPs or seconds become steps per point (fnetlab/bench/budgets.py), measured once
and kept in `budgets.json` at the root so that a resumed protocol trains the same steps.

Layout under the root (one `<budget>/` level only with `--budgets`):
  <budget>/scratch/tune/<grid point>/<point>/seed-<k>   <budget>/scratch/final/<chosen>/<point>/seed-<k>
  <budget>/spt/pretrain/<grid point>/<point>/seed-<k>   <budget>/spt/{tune,final}/...
Every run is an ordinary `fnetlab train` workdir: skipped when finished, resumed when not
(fnetlab/commands/sweep.py). At the end (and after every budget) the root gets tuning.csv,
summary.csv, protocol.md and budget_curve.png (fnetlab/results/tuning.py).
"""

from __future__ import annotations

import dataclasses
import os

from fnetlab.common import config as config_lib
from fnetlab.common import workdir as files
from fnetlab.common.errors import UserError
from fnetlab.common.io import read_json, write_json
from fnetlab.train import protocol as proto

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SPT_CONFIG = os.path.join(REPO, "configs", "spt.py")


def spt_config() -> str:
  """configs/spt.py, relative to the working directory when it lies under it."""
  if not os.path.isfile(SPT_CONFIG):
    raise UserError(f"--spt needs {SPT_CONFIG} (the repository's configs/), which is missing")
  rel = os.path.relpath(SPT_CONFIG)
  return SPT_CONFIG if rel.startswith("..") else rel


SELECTED = "<selected>"
VARIANTS = ("scratch", "spt")


@dataclasses.dataclass
class Protocol:
  config: str  # the config spec, FILE[:ARG]
  sweep: str
  root: str
  tune: dict  # key -> [value text]
  seeds: list  # tuning seeds
  final_seeds: list
  budgets: list | None = None  # [proto.Budget]; None: the config's own steps
  spt: bool = False
  spt_share: float = 0.5
  spt_mask_rate: float | None = None
  only: set | None = None
  extra: dict = dataclasses.field(default_factory=dict)
  use_subprocess: bool = False
  baselines: tuple = ()
  command: str = ""
  # The sweep's own pieces (fnetlab/commands/sweep.py passes them in): its points, their
  # folder names, and the runner that skips, resumes and records runs.
  points_of: object = None  # (config spec, sweep name) -> [overrides]
  name_of: object = None  # overrides -> folder name
  execute: object = (
    None  # ([(label, workdir, config spec, overrides, index)], subprocess) -> statuses
  )

  @property
  def variants(self) -> tuple:
    return VARIANTS if self.spt else VARIANTS[:1]


@dataclasses.dataclass
class Point:
  index: int
  name: str
  overrides: dict  # extra + the sweep point
  config: object  # its loaded config
  mixer: str  # config.model.mixer
  label: str  # how tables name it: the mixer, or the point name where two points share a mixer


def points(p: Protocol) -> list[Point]:
  """The selected sweep points, their configs loaded; a tuned key a point sets is an error."""
  grid_pts = p.points_of(p.config, p.sweep)
  bad = sorted(set(p.only or ()) - set(range(len(grid_pts))))
  if bad:
    raise UserError(
      f"--only={','.join(map(str, bad))}: the sweep has points 0..{len(grid_pts) - 1}"
    )
  out = []
  for i, pt in enumerate(grid_pts):
    if p.only is not None and i not in p.only:
      continue
    clash = sorted(set(p.tune) & (set(pt) | set(p.extra)))
    if clash:
      raise UserError(f"--tune={clash[0]}: point {i} ({p.name_of(pt)}) sets it too")
    overrides = {**p.extra, **pt}
    config = config_lib.load(p.config, overrides)
    mixer = config.model.mixer
    out.append(Point(i, p.name_of(pt), overrides, config, mixer, mixer))
  mixers = [q.label for q in out]
  for q in out:
    if mixers.count(q.label) > 1:
      q.label = q.name
  return out


def check_test_split(config) -> None:
  """The protocol reports test at the best-validation checkpoint: a task without a test split
  is a one-line error before any run (not after the tuning has trained)."""
  from fnetlab import tasks

  splits = tasks.build(config).splits
  if "test" not in splits:
    raise UserError(
      f"--tune: task {config.task} has no test split (it has {', '.join(splits)}); the "
      "protocol selects on validation and reports test, so hold one out "
      "(the char-LM: --config.data.test_fraction=0.1)"
    )


def budget_dir(p: Protocol, budget) -> str:
  return p.root if budget is None else os.path.join(p.root, budget.label)


def resolve_steps(p: Protocol, pts: list[Point], write: bool) -> dict:
  """{(budget label, point name): steps}; FLOP and time costs measured once into budgets.json."""
  path = os.path.join(p.root, "budgets.json")
  saved = read_json(path) if os.path.exists(path) else {}
  out, changed = {}, False
  for budget in p.budgets or [None]:
    for q in pts:
      if budget is None:
        out[(None, q.name)] = int(q.config.train.steps)
        continue
      measured = {}
      if budget.unit != "steps":
        need_time = budget.unit == "seconds"
        measured = saved.get(q.name, {})
        if measured.get("flops_per_step") is None or (need_time and "step_s" not in measured):
          from fnetlab.bench import budgets as budget_lib

          print(f"[protocol] measuring the train step of {q.name}", flush=True)
          measured = {**measured, **budget_lib.measure(q.config, need_time)}
          saved[q.name], changed = measured, True
      from fnetlab.bench.budgets import steps_for

      out[(budget.label, q.name)] = steps_for(budget, measured)
  if changed and write:
    os.makedirs(p.root, exist_ok=True)
    write_json(path, saved)
  return out


def _item(label, workdir, config_arg, overrides, index):
  return (label, workdir, config_arg, overrides, index)


def trial_runs(p, budget, q: Point, steps: int, g: dict, seed: int, stage: str) -> dict:
  """The runs of one trial (`stage` tune | final): {variant: [items]} (SPT: pretrain, fine-tune)."""
  bdir = budget_dir(p, budget)
  gname = p.name_of(g) if SELECTED not in g.values() else SELECTED
  tail = os.path.join(gname, q.name, f"seed-{seed}")
  out = {}
  scratch = {**q.overrides, **proto.step_overrides(q.config, steps), **g, "seed": seed}
  wd = os.path.join(bdir, "scratch", stage, tail)
  out["scratch"] = [_item(os.path.relpath(wd, p.root), wd, p.config, scratch, q.index)]
  if p.spt:
    pre_steps, ft_steps = proto.spt_split(steps, p.spt_share)
    pre_wd = os.path.join(bdir, "spt", "pretrain", tail)
    pre = {**q.overrides, **proto.step_overrides(q.config, pre_steps), **g, "seed": seed}
    if p.spt_mask_rate is not None:
      pre["spt.mask_rate"] = p.spt_mask_rate
    ft_wd = os.path.join(bdir, "spt", stage, tail)
    ft = {**q.overrides, **proto.step_overrides(q.config, ft_steps), **g, "seed": seed}
    ft["init_from"] = f"{pre_wd}@best"
    out["spt"] = [
      _item(os.path.relpath(pre_wd, p.root), pre_wd, f"{spt_config()}:{p.config}", pre, q.index),
      _item(os.path.relpath(ft_wd, p.root), ft_wd, p.config, ft, q.index),
    ]
  return out


def best_value(workdir: str) -> tuple[float | None, int | None]:
  best = files.read_best(workdir) if files.has_results(workdir) else None
  if best is None:
    return None, None
  return best.get("value"), best.get("step")


def tuning_trials(p, budget, pts, steps) -> list[dict]:
  """One row per (variant, point, grid point, tuning seed) with its validation value."""
  rows = []
  for q in pts:
    for g in proto.grid(p.tune):
      for seed in p.seeds:
        runs = trial_runs(p, budget, q, steps[(_label(budget), q.name)], g, seed, "tune")
        for variant, items in runs.items():
          value, _ = best_value(items[-1][1])
          rows.append(
            {
              **_budget_cols(budget, steps[(_label(budget), q.name)]),
              "variant": variant,
              "point": q.name,
              "mixer": q.mixer,
              "label": q.label,
              **g,
              "seed": seed,
              "value": value,
            }
          )
  return rows


def _label(budget):
  return None if budget is None else budget.label


def _budget_cols(budget, steps):
  return {
    "budget": "config" if budget is None else budget.label,
    "budget_unit": "steps" if budget is None else budget.unit,
    "budget_value": steps if budget is None else budget.value,
    "steps": steps,
  }


def test_at_best(workdir: str) -> dict | None:
  """The test metrics of the workdir's best-validation checkpoint (evaluated once, then read
  from its eval_test_<step>.json); None if the run has not finished."""
  _, step = best_value(workdir)
  if step is None:
    return None
  path = files.path(workdir, files.eval_name("test", step))
  if not os.path.exists(path):
    from fnetlab.commands.eval import evaluate_workdir

    evaluate_workdir(workdir, "best", "test")
  return read_json(path)


def final_records(p, budget, pts, steps, chosen, evaluate: bool) -> list[dict]:
  """One row per (variant, point, final seed): the test metrics at the best checkpoint."""
  rows = []
  for q in pts:
    for variant in p.variants:
      g = chosen.get((variant, q.name))
      if g is None:
        continue
      for seed in p.final_seeds:
        items = trial_runs(p, budget, q, steps[(_label(budget), q.name)], g, seed, "final")
        wd = items[variant][-1][1]
        result = test_at_best(wd) if evaluate else None
        row = {
          **_budget_cols(budget, steps[(_label(budget), q.name)]),
          "variant": variant,
          "point": q.name,
          "mixer": q.mixer,
          "label": q.label,
          "seed": seed,
          "status": "ok" if result else "missing",
        }
        if result:
          row["best_step"] = result["step"]
          row.update({f"test_{k}": v for k, v in result["metrics"].items()})
        rows.append(row)
  return rows


def list_runs(p: Protocol) -> list[tuple]:
  """Every run the protocol makes, in order; final runs name the selected setting when the
  tuning has finished, else `<selected>`."""
  from fnetlab.results import tuning

  pts = points(p)
  steps = resolve_steps(p, pts, write=False)
  out = []
  for budget in p.budgets or [None]:
    tune_items = []
    for q in pts:
      for g in proto.grid(p.tune):
        for seed in p.seeds:
          n = steps[(_label(budget), q.name)]
          for items in trial_runs(p, budget, q, n, g, seed, "tune").values():
            tune_items += items
    out += tune_items
    trials = tuning_trials(p, budget, pts, steps)
    chosen = tuning.chosen(trials, list(p.tune), pts[0].config.train.best_mode) if pts else {}
    for q in pts:
      for seed in p.final_seeds:
        for variant in p.variants:
          g = chosen.get((variant, q.name)) or dict.fromkeys(p.tune, SELECTED)
          n = steps[(_label(budget), q.name)]
          out += trial_runs(p, budget, q, n, g, seed, "final")[variant]
  return out


def run(p: Protocol) -> tuple[list, str]:
  """Runs (or resumes) the whole protocol; returns ([(label, status)], the printed report)."""
  from fnetlab.results import tuning

  proto.check_seeds(p.seeds, p.final_seeds)
  pts = points(p)
  if not pts:
    raise UserError("--only: no point selected")
  check_test_split(pts[0].config)
  mode = pts[0].config.train.best_mode
  metric = pts[0].config.train.best_metric
  steps = resolve_steps(p, pts, write=True)
  os.makedirs(p.root, exist_ok=True)
  write_json(os.path.join(p.root, "protocol.json"), _describe(p, pts, steps))
  statuses, all_trials, all_finals = [], [], []
  for budget in p.budgets or [None]:
    print(f"[protocol] budget {_budget_cols(budget, 0)['budget']}: tuning", flush=True)
    for phase in (0, -1) if p.spt else (0,):  # SPT: every pretraining before its fine-tune
      items = []
      for q in pts:
        n = steps[(_label(budget), q.name)]
        for g in proto.grid(p.tune):
          for seed in p.seeds:
            for variant, its in trial_runs(p, budget, q, n, g, seed, "tune").items():
              if phase == 0 or variant == "spt":
                items.append(its[0] if phase == 0 else its[-1])
      statuses += p.execute(items, p.use_subprocess)
    trials = tuning_trials(p, budget, pts, steps)
    chosen = tuning.chosen(trials, list(p.tune), mode)
    described = _describe(p, pts, steps)
    tuning.write_protocol_report(  # the selections are readable while the final runs train
      p.root, all_trials + trials, all_finals, p.tune, metric, mode, described, p.baselines
    )
    print(f"[protocol] budget {_budget_cols(budget, 0)['budget']}: final seeds", flush=True)
    for phase in (0, -1) if p.spt else (0,):
      items = []
      for q in pts:
        n = steps[(_label(budget), q.name)]
        for variant in p.variants:
          g = chosen.get((variant, q.name))
          if g is None:
            continue  # every trial failed: nothing to select
          for seed in p.final_seeds:
            its = trial_runs(p, budget, q, n, g, seed, "final")[variant]
            if phase == 0 or variant == "spt":
              items.append(its[0] if phase == 0 else its[-1])
      statuses += p.execute(items, p.use_subprocess)
    all_trials += trials
    all_finals += final_records(p, budget, pts, steps, chosen, evaluate=True)
    text = tuning.write_protocol_report(
      p.root, all_trials, all_finals, p.tune, metric, mode, described, p.baselines
    )
  return statuses, text


def _describe(p: Protocol, pts, steps) -> dict:
  return {
    "command": p.command,
    "config": p.config,
    "sweep": p.sweep,
    "tune": p.tune,
    "tuning_seeds": list(p.seeds),
    "final_seeds": list(p.final_seeds),
    "budgets": [b.label for b in p.budgets] if p.budgets else None,
    "spt": p.spt,
    "spt_share": p.spt_share if p.spt else None,
    "spt_mask_rate": p.spt_mask_rate,
    "extra": p.extra,
    "points": [dict(index=q.index, name=q.name, mixer=q.mixer, label=q.label) for q in pts],
    "steps": {f"{b or 'config'}/{n}": s for (b, n), s in steps.items()},
  }
