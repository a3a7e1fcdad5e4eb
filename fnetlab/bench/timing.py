"""Benchmarks of the train step per mixer and sequence length: speed, memory, FLOPs, parameters.

The step timed is the one `fnetlab train` runs: a bench config is an ordinary train config of
the `synthetic` task (fnetlab/tasks/synthetic.py) with a `bench` section, and for every
(label, length) the bench applies the label's overrides (a mixer name, or a
`bench.variants` entry), the length and the batch to it (`row_config`), constructs a
`fnetlab.train.trainer.Trainer` from it and times `trainer.train_step` on
`trainer.batch(0)`: the same jitted, donated, sharded function, with the config's optimiser,
learning-rate schedule, gradient clipping, accumulation and mesh. What "fair" means here:

- Every mixer runs inside the same model (`Classifier` for `task='classify'`, `Decoder` for
  `task='lm'`), with the same optimiser, batch, dtype and dropout. Only the mixer differs. Each
  model is built for the length it runs at (`max_len = N`), as the seeds' models were, so
  learned position tables and `spectral` fixed filters grow with N.
- `trainer.train_step` is lowered and compiled once (`compile_s` = lower + compile) and the
  compiled executable is run `warmup` times. Then the rows of one length are timed
  round-robin, `repeats` calls each, so that load from other processes on a shared host hits
  every mixer alike; every timed call blocks on all of its outputs, and `step_ms` is the
  median (`cpu_ms`: the median process CPU time, all threads). There are no other host
  syncs. `compile_only` stops after compiling.
- `peak_bytes` comes from XLA's buffer assignment (`compiled.memory_analysis()`): arguments +
  outputs + temporaries - aliased (donated) bytes. It is deterministic and known before the
  program runs, which is what lets `max_memory_gb` skip a program (`status=skipped_memory`)
  before it takes a small host down. It is XLA's plan, not a measured resident set size.
- `flops` is XLA's cost analysis of the whole step (HloCostAnalysis also counts FFTs).
  `tflops_per_s` divides it by the step time; `mfu` divides that by `peak_tflops` if given.
- `ratio_vs_ff_only` is step time over FF-only's at the same (length, batch, dtype): FF-only
  is identity mixing, a mixer that costs nothing. `speedup_vs_attention` is attention's step
  time over the mixer's (a throughput ratio), `memory_vs_attention` the peak-bytes ratio, and
  `speedup_vs_peer` the Hugging Face PyTorch peer's step time over ours (fnetlab/bench/peers.py).
- `kernel` names the attention kernel(s) the step uses ('explicit', 'blocked', 'xla',
  'cudnn'; '+'-joined if layers differ, empty without attention), as the mixers record them
  (`Trainer.kernels`, fnetlab/nn/attention/, docs/attention.md).
- An out-of-memory error (RESOURCE_EXHAUSTED) becomes `status=OOM`; any other failure
  `status=error:<short message>`. Neither stops the run.

Departures from a real training run: random token ids with no padding mask (every token
real), and the same batch at every timed step. Neither changes the work a step does.
"""

from __future__ import annotations

import datetime
import gc
import importlib.metadata
import os
import platform
import time
from collections.abc import Callable, Sequence

import jax
import ml_collections
import numpy as np

from fnetlab import mixers, tasks
from fnetlab.bench import jobs
from fnetlab.bench.jobs import Job
from fnetlab.common import config as config_lib
from fnetlab.common import io, provenance
from fnetlab.common.checkpoints import tree_size
from fnetlab.common.errors import UserError
from fnetlab.results.bench import empty_row
from fnetlab.tasks import synthetic
from fnetlab.train.profile import trace_calls
from fnetlab.train.timed import compile_step
from fnetlab.train.trainer import Trainer

TASKS = ("classify", "lm")
BOUND = "ff_only"  # the label every other row's step time is divided by
BASELINE = "attention"  # the label speedups and memory ratios are taken against
# fnetlab label -> the Hugging Face peer row it is compared with.
PEER_OF = {"fourier": "hf_fnet", "attention": "hf_bert"}


def label_overrides(config, label: str) -> dict:
  """The config overrides of bench label `label`: a `bench.variants` entry (nested by key,
  flattened here to dotted keys), else a mixer name (`model.mixer`)."""
  variants = config.bench.get("variants") or {}
  if label in variants:
    return flatten(variants[label])
  if label in mixers.MIXERS:
    return {"model.mixer": label}
  raise UserError(
    f"--mixers: unknown mixer or variant {label!r}; mixers: {', '.join(mixers.names())}; "
    f"bench.variants: {', '.join(sorted(variants)) or '(none)'}"
  )


def flatten(tree, prefix: str = "") -> dict:
  """{'model': {'mixer': 'x'}} -> {'model.mixer': 'x'}."""
  out = {}
  for key, value in tree.items():
    if hasattr(value, "items"):
      out.update(flatten(value, f"{prefix}{key}."))
    else:
      out[f"{prefix}{key}"] = value
  return out


def row_config(
  config, overrides: dict, seq_len: int, batch: int, dtype: str
) -> ml_collections.ConfigDict:
  """The train config of one bench row: `config` (a `synthetic` task config) with the row's
  `overrides`, the model built for `seq_len`, and `batch` rows per step. `fnetlab train` on it
  runs exactly the step the bench times; a value no model can be built from is a UserError."""
  if config.task != "synthetic" or config.data.get("kind") not in TASKS:
    raise UserError(
      f"config key task={config.task!r}, data.kind={config.data.get('kind')!r}: the bench "
      f"times the synthetic task, data.kind one of {', '.join(TASKS)}"
    )
  c = config.copy_and_resolve_references()
  rows = {"model.max_len": seq_len, "data.seq_len": seq_len, "data.num_examples": batch}
  rows |= {"train.batch_size": batch, "train.eval_batch_size": batch, "model.dtype": dtype}
  config_lib.apply_overrides(c, {**overrides, **rows})
  synthetic.model_spec(c)  # the one model check (fnetlab/tasks/synthetic.py)
  return c


def memory_bytes(compiled) -> int | None:
  """Arguments + outputs + temporaries - aliased bytes of a compiled program; None if unknown."""
  try:
    stats = compiled.memory_analysis()
  except Exception:  # some backends do not implement it
    return None
  if isinstance(stats, list | tuple):
    stats = stats[0] if stats else None
  if stats is None:
    return None

  def get(name):
    value = stats.get(name) if isinstance(stats, dict) else getattr(stats, name, None)
    return int(value or 0)

  total = (
    get("argument_size_in_bytes")
    + get("output_size_in_bytes")
    + get("temp_size_in_bytes")
    - get("alias_size_in_bytes")
  )
  return total if total > 0 else None


def cost_flops(compiled) -> float | None:
  """FLOPs of a compiled program from XLA's cost analysis (a dict, or a list of dicts in older
  jax versions); None where the backend gives none."""
  try:
    cost = compiled.cost_analysis()
  except Exception:
    return None
  if isinstance(cost, list | tuple):
    cost = cost[0] if cost else None
  if not cost:
    return None
  flops = cost.get("flops")
  return float(flops) if flops is not None and flops > 0 else None


def prepare(
  config: ml_collections.ConfigDict,
  label: str,
  *,
  warmup: int = 2,
  max_bytes: int | None = None,
  compile_only: bool = False,
) -> Job:
  """Builds the Trainer of train config `config` (see `row_config`), compiles its train
  step and warms it up; the Job's `run()` is one blocking step.

  `compile_only` stops after compiling (`status=compiled`): parameters, peak memory and FLOPs
  without running, for lengths a small host cannot afford to time.
  """
  batch, seq_len = int(config.train.batch_size), int(config.data.seq_len)
  row = empty_row(
    mixer=label, impl="fnetlab", seq_len=seq_len, batch=batch, dtype=config.model.dtype, repeats=0
  )
  job = Job(row)
  try:
    trainer = Trainer(config)
    row["params"] = tree_size(trainer.abstract_state["params"])
    state = trainer.init_state()
    data = trainer.batch(0)
    t0 = time.perf_counter()
    compiled = compile_step(trainer, state, data)
    row["compile_s"] = time.perf_counter() - t0
    row["kernel"] = trainer.kernels() or None
    row["peak_bytes"] = memory_bytes(compiled)
    row["flops"] = cost_flops(compiled)
    if max_bytes and row["peak_bytes"] and row["peak_bytes"] > max_bytes:
      row["status"] = "skipped_memory"
      return job
    if compile_only:
      row["status"] = "compiled"
      return job
  except UserError:
    raise
  except Exception as e:  # OOM while compiling, or a failure: a row, not a crash
    row["status"] = jobs.classify_error(e)
    return job
  holder = [state]

  def run():
    holder[0], metrics = compiled(holder[0], data)  # the state is donated, as in training
    jax.block_until_ready((holder[0], metrics))

  job.run = run
  return jobs.warm_up(job, warmup)


def add_ratios(rows: list[dict], peak_tflops: float | None = None) -> list[dict]:
  """Fills ratio_vs_ff_only, speedup_vs_attention, memory_vs_attention, speedup_vs_peer, mfu.

  Rows are matched on (seq_len, batch, dtype); time ratios use `ok` rows only, memory ratios
  any row with peak_bytes (a program skipped for memory still has its compiled size).
  """

  def index(label, impl="fnetlab"):
    return {
      (r["seq_len"], r["batch"], r["dtype"]): r
      for r in rows
      if r["mixer"] == label and r["impl"] == impl
    }

  def ok_ms(r):
    return r["step_ms"] if r and r.get("status") == "ok" and r.get("step_ms") else None

  bound, ref = index(BOUND), index(BASELINE)
  peers = {label: index(peer, "hf-torch") for label, peer in PEER_OF.items()}
  for r in rows:
    key = (r["seq_len"], r["batch"], r["dtype"])
    mine = ok_ms(r)
    if peak_tflops and r.get("tflops_per_s"):
      r["mfu"] = r["tflops_per_s"] / peak_tflops
    if r["impl"] != "fnetlab":
      continue
    b, a = ok_ms(bound.get(key)), ok_ms(ref.get(key))
    r["ratio_vs_ff_only"] = mine / b if mine and b else None
    r["speedup_vs_attention"] = a / mine if mine and a else None
    ref_peak = (ref.get(key) or {}).get("peak_bytes")
    r["memory_vs_attention"] = r["peak_bytes"] / ref_peak if r["peak_bytes"] and ref_peak else None
    p = ok_ms(peers.get(r["mixer"], {}).get(key))
    r["speedup_vs_peer"] = p / mine if mine and p else None
  return rows


def run_bench(
  config,
  labels: Sequence[str],
  seq_lens: Sequence[int],
  batch: int,
  dtype: str,
  *,
  warmup: int = 2,
  repeats: int = 10,
  max_bytes: int | None = None,
  max_seconds: float | None = None,
  peer: str | None = None,
  peak_tflops: float | None = None,
  compile_only: bool = False,
  profile_dir: str | None = None,
  on_rows: Callable[[list[dict]], None] | None = None,
  log: Callable[[str], None] = print,
) -> list[dict]:
  """All rows: every label (FF-only added first if absent) at every length, plus the peer.

  The rows of one length are prepared (compiled and warmed up) one after another, then timed
  together round-robin (`jobs.time_jobs`). With `profile_dir`, one more step of each of our
  rows is traced with jax.profiler into `profile_dir/<label>-N<n>`, before the timing.
  """
  labels = list(dict.fromkeys(labels))
  if BOUND not in labels:
    labels.insert(0, BOUND)
  overrides = {label: label_overrides(config, label) for label in labels}
  for label in labels:  # every row's config is checked before anything runs
    row_config(config, overrides[label], seq_lens[0], batch, dtype)
  prepare_peer = None
  if peer:
    from fnetlab.bench import peers

    prepare_peer = peers.runner(peer, config.data.kind)
  rows: list[dict] = []
  for n in seq_lens:
    row_jobs = []
    for label in labels:
      cfg = row_config(config, overrides[label], n, batch, dtype)
      row_jobs.append(
        prepare(cfg, label, warmup=warmup, max_bytes=max_bytes, compile_only=compile_only)
      )
      if prepare_peer and label in PEER_OF and not compile_only:
        task = tasks.build(cfg)  # the same synthetic model config and ids as our row
        data = task.splits["train"].batch(np.arange(batch))
        row_jobs.append(prepare_peer(PEER_OF[label], task.model.spec, data, cfg, warmup=warmup))
    for j in row_jobs if profile_dir else ():  # warmed up; time_jobs frees the programs
      if j.run is not None and j.row["impl"] == "fnetlab":
        trace_calls(os.path.join(profile_dir, f"{j.row['mixer']}-N{n}"), j.run)
    jobs.time_jobs(row_jobs, repeats, max_seconds)
    rows += [j.row for j in row_jobs]
    gc.collect()
    add_ratios(rows, peak_tflops)
    for j in row_jobs:
      log(describe(j.row))
    if on_rows:
      on_rows(rows)
  return rows


def describe(row: dict) -> str:
  """One log line per row."""
  ms = f"{row['step_ms']:.1f} ms" if row.get("step_ms") else "-"
  mem = f"{row['peak_bytes'] / 2**20:.0f} MiB" if row.get("peak_bytes") else "-"
  return f"{row['impl']}/{row['mixer']} N={row['seq_len']} B={row['batch']}: {ms}, {mem}, {row['status']}"


def _version(dist: str) -> str:
  try:
    return importlib.metadata.version(dist)
  except importlib.metadata.PackageNotFoundError:
    return "not installed"


def environment() -> dict:
  """Device name and software versions for report headers."""
  dev = jax.devices()[0]
  device = f"{dev.platform}: {dev.device_kind}"
  if dev.platform == "cpu":
    device = f"cpu: {provenance.cpu_model()} ({os.cpu_count()} cores)"
  dists = ("jax", "jaxlib", "flax", "optax", "numpy", "torch", "transformers")
  return {
    "device": device,
    "num_devices": jax.device_count(),
    "versions": {d: _version(d) for d in dists} | {"python": platform.python_version()},
    "xla_flags": os.environ.get("XLA_FLAGS", ""),
    "load": load_average(),
    "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
    "commit": io.git_commit(),
  }


def load_average() -> str:
  """The host's 1/5/15-minute load averages: on a shared machine they say how noisy the
  wall-clock times are (step times are interleaved across mixers to keep ratios fair)."""
  return provenance.load_text(provenance.load_average())


def default_max_bytes() -> int | None:
  """The automatic memory guard: 70% of host RAM on CPU (XLA CPU does not report OOM before
  the kernel kills the process); none on accelerators, whose OOM XLA reports itself."""
  if jax.default_backend() != "cpu":
    return None
  try:
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
  except (ValueError, OSError, AttributeError):
    return None
  return int(0.7 * ram)
