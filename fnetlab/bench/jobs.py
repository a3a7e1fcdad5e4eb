"""Measuring prepared steps: a `Job` per bench row, warm-up, and round-robin timing.

Shared by our rows (fnetlab/bench/timing.py) and the Hugging Face peer's
(fnetlab/bench/peers.py), so both are timed the same way.
"""

from __future__ import annotations

import dataclasses
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any


@dataclasses.dataclass
class Job:
  """One row being measured: its fields, and a blocking `run()` of one step once prepared."""

  row: dict
  run: Callable[[], Any] | None = None
  last_warmup_s: float | None = None
  times: list = dataclasses.field(default_factory=list)
  cpu_times: list = dataclasses.field(default_factory=list)


def classify_error(e: BaseException) -> str:
  """`OOM` for an out-of-memory error, else `error:<type>: <first line, shortened>`."""
  text = str(e)
  if "RESOURCE_EXHAUSTED" in text or "out of memory" in text.lower():
    return "OOM"
  first = text.strip().splitlines()[0] if text.strip() else ""
  return f"error:{type(e).__name__}: {first}"[:120]


def warm_up(job: Job, warmup: int) -> Job:
  """Runs `warmup` untimed steps; an exception ends the job with its status."""
  try:
    for _ in range(warmup):
      t0 = time.perf_counter()
      job.run()
      job.last_warmup_s = time.perf_counter() - t0
  except Exception as e:  # OOM at run time, or a failure: a row, not a crash
    job.row["status"], job.run = classify_error(e), None
  return job


def time_jobs(jobs: Sequence[Job], repeats: int, max_seconds: float | None = None) -> None:
  """Times the prepared jobs round-robin and fills step_ms (median), tokens/s and repeats.

  Interleaving the rows of one length means a burst of load from other processes on a
  shared machine slows every mixer alike instead of one of them, which keeps the ratios
  honest. A job whose warm-up step shows that `repeats` would exceed `max_seconds` takes
  fewer (at least one), so one slow row cannot eat a CPU run's whole budget.
  """
  limits = {}
  for j in jobs:
    n = max(repeats, 1)
    if max_seconds and j.last_warmup_s:
      n = max(1, min(n, int(max_seconds // j.last_warmup_s)))
    limits[id(j)] = n
  for _ in range(max(repeats, 1)):
    for j in jobs:
      if j.run is None or len(j.times) >= limits[id(j)]:
        continue
      t0, c0 = time.perf_counter(), time.process_time()
      try:
        j.run()
      except Exception as e:
        j.row["status"], j.run = classify_error(e), None
        continue
      j.times.append(time.perf_counter() - t0)
      j.cpu_times.append(time.process_time() - c0)
  for j in jobs:
    r = j.row
    if j.times and r.get("status") is None:
      seconds = statistics.median(j.times)
      r["step_ms"] = seconds * 1e3
      r["cpu_ms"] = statistics.median(j.cpu_times) * 1e3
      r["tokens_per_s"] = r["batch"] * r["seq_len"] / seconds
      if r.get("flops"):
        r["tflops_per_s"] = r["flops"] / seconds / 1e12
      r["repeats"] = len(j.times)
      r["status"] = "ok"
    j.run = None  # frees the compiled program and the state
