"""`jax.profiler` traces of chosen train steps, for `fnetlab train` and `fnetlab bench`.

A trace records every XLA op the step runs (on CPU one event per fused kernel, with its HLO
name), the Python host side, and a `train` step marker per step. Open it with TensorBoard
(`tensorboard --logdir <workdir>/profile`, Profile tab, needs the `tensorboard-plugin-profile`
package) or drop the `*.trace.json.gz` file onto https://ui.perfetto.dev. docs/performance.md
shows how the numbers in it were read.

`train.profile_steps = "a,b"` traces steps a to b inclusive, numbered as metrics.jsonl numbers
them (step s is the s-th optimiser step, 1-based); "a" traces step a alone; "" (the default)
traces nothing. Skip the first step or two: they include compilation.
"""

from __future__ import annotations

import contextlib
import os

import jax

from fnetlab.common.errors import UserError


def parse_steps(text, key: str = "train.profile_steps") -> tuple[int, int] | None:
  """'a,b' -> (a, b); 'a' -> (a, a); '' or None -> None. Bad input is a UserError naming `key`."""
  text = str(text or "").replace(" ", "")
  if not text:
    return None
  parts = text.split(",")
  try:
    steps = tuple(int(p) for p in parts)
  except ValueError:
    steps = ()
  if len(steps) == 1:
    steps = steps * 2
  if len(steps) != 2 or not 1 <= steps[0] <= steps[1]:
    raise UserError(
      f"config key {key}={text!r}: expected 'first,last' step numbers (1 <= first <= last), "
      "e.g. '10,12', or one step '10', or '' for none"
    )
  return steps


class StepProfiler:
  """Starts a trace before step `first` and stops it after step `last` (module docstring).

  Use `with profiler.step(s, outputs_fn):` around the call that runs step s; the trace stops
  only once the last traced step's outputs are ready, so it holds the whole step.
  """

  def __init__(self, steps: tuple[int, int] | None, logdir: str):
    self.steps, self.logdir, self.active = steps, logdir, False

  @contextlib.contextmanager
  def step(self, s: int):
    traced = self.steps is not None and self.steps[0] <= s <= self.steps[1]
    if traced and not self.active:
      os.makedirs(self.logdir, exist_ok=True)
      jax.profiler.start_trace(self.logdir, create_perfetto_trace=True)
      self.active = True
    if not self.active:
      yield lambda outputs: None
      return
    done = []
    with jax.profiler.StepTraceAnnotation("train", step_num=s):
      yield done.append
    if s >= self.steps[1]:
      jax.block_until_ready(done)
      self.close()

  def close(self) -> None:
    """Stops an open trace (a run that ends or fails inside the window still writes it)."""
    if self.active:
      self.active = False
      jax.profiler.stop_trace()


def trace_calls(logdir: str, run, n: int = 1) -> None:
  """Traces `n` calls of the blocking callable `run` into `logdir` (one TensorBoard run)."""
  os.makedirs(logdir, exist_ok=True)
  with jax.profiler.trace(logdir, create_perfetto_trace=True):
    for i in range(n):
      with jax.profiler.StepTraceAnnotation("train", step_num=i):
        run()
