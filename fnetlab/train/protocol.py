"""The tuning protocol's pieces that do not run anything: grids, seeds, budgets, step scaling.

`fnetlab sweep --tune=...` (fnetlab/commands/protocol.py runs it; docs/comparisons.md says
why) gives every point of a sweep the same search:
- `parse_tune(["optim.lr=1e-4,3e-4", "optim.warmup_steps=10,20"])` -> the grid's keys and
  values (the text the config loader types); `grid(...)` its points, in order;
- `check_seeds(tuning, final)`: the final seeds must share none with the tuning seeds;
- `parse_budgets("200,2000")` (steps), `"60s,300s"` (seconds of warm training steps) or
  `"1e12flops,1e13flops"` (FLOPs of the compiled train step, XLA's cost analysis): one unit
  for the whole list, so the budget curve has one axis;
- `step_overrides(config, steps)`: the overrides that train `config` for `steps` steps with
  its schedule scaled along: warmup, evaluation and log intervals in proportion, and a
  checkpoint at every evaluation, so the best-validation checkpoint exists to be tested;
- `spt_split(steps, share)`: pretraining and fine-tuning steps that add up to `steps`.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import re

from fnetlab.common.errors import UserError

UNITS = ("steps", "seconds", "flops")
_BUDGET = re.compile(r"^([0-9.eE+]+)\s*(steps|step|s|seconds|flops)?$")


@dataclasses.dataclass(frozen=True)
class Budget:
  value: float
  unit: str  # steps | seconds | flops

  @property
  def label(self) -> str:
    """A file-name-safe name: `steps-200`, `seconds-60`, `flops-1e+12`."""
    v = int(self.value) if self.unit == "steps" else f"{self.value:g}"
    return f"{self.unit}-{v}"


def parse_budgets(text: str, flag: str = "--budgets") -> list[Budget]:
  """'200,2000' | '60s,300s' | '1e12flops,1e13flops' -> Budgets (one unit, each > 0)."""
  out = []
  for item in filter(None, (t.strip() for t in str(text).split(","))):
    m = _BUDGET.match(item.lower())
    try:
      value = float(m.group(1)) if m else None
    except ValueError:
      value = None
    if value is None or not value > 0:
      raise UserError(f"{flag}={text!r}: {item!r} is not a budget (e.g. 200, 60s, 1e12flops)")
    unit = {"s": "seconds", "step": "steps", None: "steps"}.get(m.group(2), m.group(2))
    if unit == "steps" and value != int(value):
      raise UserError(f"{flag}={text!r}: a step budget is a whole number, got {item!r}")
    out.append(Budget(value, unit))
  if not out:
    raise UserError(f"{flag}={text!r}: no budget given")
  if len({b.unit for b in out}) > 1:
    raise UserError(f"{flag}={text!r}: mixes units; give every budget in one of {UNITS}")
  if len(set(out)) != len(out):
    raise UserError(f"{flag}={text!r}: a budget is repeated")
  return sorted(out, key=lambda b: b.value)


def parse_tune(items, flag: str = "--tune") -> dict[str, list[str]]:
  """['optim.lr=1e-4,3e-4'] -> {'optim.lr': ['1e-4', '3e-4']}; a repeated key, a missing `=`
  or an empty or repeated value is a one-line UserError."""
  out: dict[str, list[str]] = {}
  for item in items:
    key, eq, values = item.partition("=")
    key = key.strip()
    vals = [v.strip() for v in values.split(",") if v.strip()]
    if not eq or not key or not vals:
      raise UserError(f"{flag}={item!r}: expected KEY=V1,V2,... (e.g. optim.lr=1e-4,1e-3)")
    if key in out:
      raise UserError(f"{flag}: key {key} given twice; list all its values in one flag")
    if len(set(vals)) != len(vals):
      raise UserError(f"{flag}={item!r}: a value is repeated")
    out[key] = vals
  return out


def grid(tune: dict[str, list[str]]) -> list[dict[str, str]]:
  """Every combination of the tuned values, the first key varying slowest."""
  keys = list(tune)
  return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*tune.values())]


def check_seeds(tuning, final) -> None:
  """Tuning and final seeds must both be given and share none (fresh seeds for the final runs)."""
  if not tuning:
    raise UserError("--seeds: the tuning seeds are needed with --tune (e.g. --seeds=0)")
  if not final:
    raise UserError("--final_seeds: the fresh seeds the selected setting runs on (e.g. 1,2,3)")
  shared = sorted(set(tuning) & set(final))
  if shared:
    raise UserError(
      f"--final_seeds shares seed(s) {','.join(map(str, shared))} with the tuning seeds "
      "--seeds; final seeds must be fresh"
    )


def _scaled(value, ratio: float, steps: int, lowest: int) -> int:
  return int(min(max(round(float(value) * ratio), lowest), steps))


def step_overrides(config, steps: int) -> dict:
  """Overrides that train `config` for `steps` steps, its schedule scaled (module docstring)."""
  steps = int(steps)
  if steps < 1:
    raise UserError(f"a budget of {steps} steps: needs at least 1 step")
  t = config.train
  ratio = steps / int(t.steps)
  eval_every = _scaled(t.eval_every, ratio, steps, 1)
  out = {
    "train.steps": steps,
    "train.eval_every": eval_every,
    "train.log_every": _scaled(t.log_every, ratio, steps, 1),
    "train.checkpoint_every": eval_every,  # the best-validation checkpoint is kept to test it
    # every evaluated checkpoint is kept: the recorded best (ties included) is always on disk
    "train.keep_checkpoints": -(-steps // eval_every),
  }
  warmup = int(config.optim.get("warmup_steps", 0) or 0)
  if "warmup_steps" in config.optim:
    out["optim.warmup_steps"] = _scaled(warmup, ratio, max(steps - 1, 0), 1 if warmup else 0)
  return out


def spt_split(steps: int, share: float) -> tuple[int, int]:
  """(pretraining steps, fine-tuning steps), adding up to `steps`, each at least 1."""
  if not 0.0 < share < 1.0:
    raise UserError(f"--spt_share={share}: the pretraining share must lie in (0, 1)")
  if steps < 2:
    raise UserError(f"a budget of {steps} steps cannot hold pretraining and fine-tuning")
  pre = min(max(int(math.floor(steps * share + 0.5)), 1), steps - 1)
  return pre, steps - pre
