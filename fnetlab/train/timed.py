"""Timed stepping on the trainer's own train step: budgets, speed comparisons, device checks.

  run = TimedRun(config)                  # Trainer, initial state, the step compiled once
  times = run.run(100)                    # 100 steps; the warm step times, in seconds
  times = run.run(until=time.time() + 60) # steps until the next would end after the deadline
  run.evaluate("validation")              # Trainer.evaluate on the current params

The step is `Trainer.train_step` (the training loop's jitted, donated step), compiled ahead of
time so compilation is timed on its own (`compile_s`) and never inside a budget. Each step is
timed from assembling its batch on the host to its result on the device (the host waits for
every step), so a step time is what a training loop pays per step. Host metrics are read every
`train.log_every` steps and at the end of each call and checked exactly as `Trainer.run` checks
them (`trainer.check_finite`): a non-finite loss or gradient stops the run within one log
interval with `TrainingDiverged`. No workdir, checkpoint or log is written.
"""

from __future__ import annotations

import statistics
import time

import jax

from fnetlab.common import checkpoints
from fnetlab.train.trainer import Trainer, check_finite


def compile_step(trainer: Trainer, state, batch):
  """`trainer.train_step` lowered and compiled for (state, batch): the training loop's step,
  ahead of time, so that compilation is timed on its own and its memory and FLOPs read."""
  return trainer.train_step.lower(state, batch).compile()


class TimedRun:
  """One model: its Trainer, state and compiled train step, advanced in timed calls.

  Attributes: `trainer`, `state`, `compiled`, `params` (parameter count), `compile_s`, `step`
  (steps taken), `train_s` (sum of step times), `step_times` (every step's seconds) and
  `history` (every step's host metrics: train_loss, grad_norm, lr, train_<aux>).
  """

  def __init__(self, config, trainer: Trainer | None = None):
    self.trainer = trainer or Trainer(config)
    self.state = self.trainer.init_state()
    self.params = checkpoints.tree_size(self.state["params"])
    t = time.perf_counter()
    self.compiled = compile_step(self.trainer, self.state, self.trainer.batch(0))
    self.compile_s = time.perf_counter() - t
    self.step, self.train_s = 0, 0.0
    self.step_times: list[float] = []
    self.history: list[dict] = []
    self._check_every = max(int(self.trainer.config.train.log_every), 1)

  def step_s(self) -> float | None:
    """The median warm step time so far (None before the first step)."""
    return statistics.median(self.step_times) if self.step_times else None

  def run(self, steps: int | None = None, *, until: float | None = None) -> list[float]:
    """Takes `steps` steps, or fewer if the next step would end after `until` (a `time.time()`
    deadline, judged by the median step time so far); at least one of the two must be given.
    Returns this call's step times in seconds."""
    if steps is None and until is None:
      raise ValueError("TimedRun.run needs steps or until")
    times, pending = [], []
    while steps is None or len(times) < steps:
      if until is not None and time.time() + (self.step_s() or 0.0) > until:
        break
      t = time.perf_counter()
      self.state, metrics = self.compiled(self.state, self.trainer.batch(self.step))
      jax.block_until_ready(metrics)
      times.append(time.perf_counter() - t)
      self.step_times.append(times[-1])
      self.step += 1
      pending.append(metrics)
      if len(pending) == self._check_every:
        self._read(pending)
        pending = []
    self._read(pending)
    self.train_s += sum(times)
    return times

  def _read(self, pending: list) -> None:
    if not pending:
      return
    host = [{k: float(v) for k, v in m.items()} for m in jax.device_get(pending)]
    check_finite(host, self.step)
    self.history += host

  def evaluate(self, split: str = "validation") -> dict:
    """Trainer.evaluate of the current params on `split`."""
    return self.trainer.evaluate(self.state["params"], split)
