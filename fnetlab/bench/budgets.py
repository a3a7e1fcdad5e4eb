"""A compute budget in steps for one config: FLOPs or seconds -> train steps.

- FLOPs: XLA's cost analysis of the compiled train step (`Trainer.train_step`, the training
  loop's own step, lowered for the config's batch), so a mixer whose step costs less gets
  more steps for the same compute. It is the compiler's count for this backend, an estimate
  of the arithmetic, not a measurement.
- Seconds: the warm step time measured here (fnetlab/train/timed.py): the step compiled,
  `WARM` steps run and discarded, then `TIMED` steps timed each from assembling its batch on
  the host to its result on the device, and the budget divided by their mean.
  Evaluation, checkpointing and compilation are not counted. On a shared machine the time
  moves with the load, so the measurement (with the load average) is written once into the
  protocol's budgets.json and reused, which keeps a resumed protocol on the same steps.
"""

from __future__ import annotations

import math
import os

from fnetlab.bench.timing import cost_flops, load_average
from fnetlab.common.errors import UserError
from fnetlab.train.timed import TimedRun

WARM = 3
TIMED = 20


def measure(config, need_time: bool) -> dict:
  """{flops_per_step, compile_s[, step_s, warm_steps, timed_steps, load]} of `config`'s step
  (fnetlab/train/timed.py compiles and times it)."""
  run = TimedRun(config)
  out = {"flops_per_step": cost_flops(run.compiled), "compile_s": run.compile_s}
  if need_time:
    run.run(WARM)
    times = run.run(TIMED)
    out["step_s"] = sum(times) / len(times)
    out.update(warm_steps=WARM, timed_steps=TIMED, load=load_average(), cores=os.cpu_count())
  return out


def steps_for(budget, measured: dict) -> int:
  """The whole number of steps `budget` buys at the measured cost (at least 1)."""
  if budget.unit == "steps":
    return int(budget.value)
  per = measured.get("flops_per_step") if budget.unit == "flops" else measured.get("step_s")
  if not per:
    raise UserError(
      f"budget {budget.label}: this backend reports no {budget.unit} per step; use steps"
    )
  return max(int(math.floor(budget.value / per)), 1)
