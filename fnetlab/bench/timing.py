"""Benchmarks of one full train step (forward, backward, AdamW) per mixer and sequence length.

Issue 7 asks for speed, memory, FLOPs and parameters against length, with FF-only as the
bound. What "fair" means here:

- Every mixer runs inside the same model (`fnetlab.models.Classifier` for `task='classify'`,
  `Decoder` for `task='lm'`), with the same optimizer (optax AdamW), batch, dtype and dropout.
  Only the mixer differs. Each model is built for the length it runs at (`max_len = N`), as
  the seeds' models were, so learned position tables and `spectral` fixed filters grow with N.
- The step is one `jax.jit` closure with the train state donated. It is lowered and compiled
  once (`compile_s` = lower + compile) and run `warmup` times. Then the rows of one length are
  timed round-robin, `repeats` calls each, so that load from other processes on a shared
  host hits every mixer alike; every timed call blocks on all of its outputs, and `step_ms`
  is the median (`cpu_ms`: the median process CPU time, all threads). There are no other
  host syncs. `compile_only` stops after compiling.
- `peak_bytes` comes from XLA's buffer assignment (`compiled.memory_analysis()`): arguments +
  outputs + temporaries - aliased (donated) bytes. It is deterministic and known before the
  program runs, which is what lets `max_memory_gb` skip a program (`status=skipped_memory`)
  before it takes a small host down. It is XLA's plan, not a measured resident set size.
- `flops` is XLA's cost analysis of the whole step (HloCostAnalysis also counts FFTs).
  `tflops_per_s` divides it by the step time; `mfu` divides that by `peak_tflops` if given.
- `ratio_vs_ff_only` is step time over FF-only's at the same (length, batch, dtype): FF-only
  is identity mixing, a mixer that costs nothing. `speedup_vs_attention` is attention's step
  time over the mixer's (a throughput ratio), `memory_vs_attention` the peak-bytes ratio, and
  `speedup_vs_peer` the Hugging Face PyTorch peer's step time over ours (see `peer`).
- An out-of-memory error (RESOURCE_EXHAUSTED) becomes `status=OOM`; any other failure
  `status=error:<short message>`. Neither stops the run.

Departures from a real training run: random token ids, no padding mask (every token real),
constant learning rate. None of these changes the work a step does for the mixers compared.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
import functools
import gc
import importlib.metadata
import os
import platform
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import linen as nn

from fnetlab import mixers
from fnetlab.errors import UserError
from fnetlab.models import Classifier, Decoder, ModelSpec, spec_from_config

TASKS = ("classify", "lm")
BOUND = "ff_only"  # the label every other row's step time is divided by
REFERENCE = "attention"  # the label speedups and memory ratios are taken against
# fnetlab label -> the Hugging Face peer row it is compared with.
PEER_OF = {"fourier": "hf_fnet", "attention": "hf_bert"}

# The CSV schema: column -> type (None cells are written empty).
COLUMNS: dict[str, type] = {
  "mixer": str,
  "impl": str,
  "seq_len": int,
  "batch": int,
  "dtype": str,
  "params": int,
  "step_ms": float,
  "cpu_ms": float,
  "tokens_per_s": float,
  "compile_s": float,
  "peak_bytes": int,
  "flops": float,
  "tflops_per_s": float,
  "mfu": float,
  "ratio_vs_ff_only": float,
  "speedup_vs_attention": float,
  "memory_vs_attention": float,
  "speedup_vs_peer": float,
  "repeats": int,
  "status": str,
}


@dataclasses.dataclass(frozen=True)
class Variant:
  """A benchmarked model: a label, its mixer, mixer options and model-field overrides."""

  label: str
  mixer: str
  mixer_options: tuple = ()
  model_overrides: tuple = ()


def resolve_variant(label: str, config) -> Variant:
  """Looks `label` up in `config.variants` (else it is a mixer name) and validates it."""
  variants = dict(config.get("variants") or {})
  entry = dict(variants.get(label) or {})
  mixer = entry.pop("mixer", label)
  if mixer not in mixers.MIXERS:
    raise UserError(
      f"--mixers: unknown mixer or variant {label!r}; mixers: {', '.join(mixers.names())}; "
      f"config.variants: {', '.join(sorted(variants)) or '(none)'}"
    )
  fields = {f.name for f in dataclasses.fields(ModelSpec)} - {"mixer", "mixer_options"}
  model = {k: v for k, v in entry.items() if k in fields}
  options = {k: v for k, v in entry.items() if k not in fields}
  base_opts = dict((config.get("mixer_options") or {}).get(mixer) or {})
  options = {**base_opts, **options}
  unknown = sorted(set(options) - mixers.option_names(mixer))
  if unknown:
    raise UserError(
      f"config.variants.{label}: mixer {mixer!r} has no option {', '.join(unknown)}; "
      f"its options: {', '.join(sorted(mixers.option_names(mixer))) or '(none)'}"
    )
  if config.task == "lm" and mixer not in mixers.causal_names():
    raise UserError(
      f"--mixers: {label!r} ({mixer}) cannot be causal, and config.task='lm' needs a causal "
      f"mixer; causal mixers: {', '.join(mixers.causal_names())}"
    )
  return Variant(label, mixer, tuple(sorted(options.items())), tuple(sorted(model.items())))


def build_spec(config, variant: Variant, seq_len: int, dtype: str) -> ModelSpec:
  """The ModelSpec of `variant` built for length `seq_len` (max_len = seq_len)."""
  if config.task not in TASKS:
    raise UserError(f"config.task={config.task!r}; valid: {', '.join(TASKS)}")
  model = config.model.to_dict() if hasattr(config.model, "to_dict") else dict(config.model)
  model.update(dict(variant.model_overrides))
  model.update(
    mixer=variant.mixer,
    mixer_options=dict(variant.mixer_options),
    max_len=seq_len,
    dtype=dtype,
  )
  try:
    return spec_from_config(model)
  except ValueError as e:
    raise UserError(f"config.model ({variant.label}): {e}") from None


def build_model(task: str, spec: ModelSpec) -> nn.Module:
  return Classifier(spec) if task == "classify" else Decoder(spec)


def make_batch(task: str, spec: ModelSpec, batch: int, seq_len: int, seed: int = 0) -> dict:
  """Random token ids and labels (numpy); the LM target is one id per position."""
  rng = np.random.default_rng(seed)
  inputs = rng.integers(0, spec.vocab_size, (batch, seq_len), dtype=np.int32)
  if task == "classify":
    labels = rng.integers(0, max(spec.num_classes, 2), (batch,), dtype=np.int32)
    return {"inputs": inputs, "labels": labels}
  return {"inputs": inputs, "targets": rng.integers(0, spec.vocab_size, inputs.shape, np.int32)}


def loss_fn(model: nn.Module, task: str, params, batch, rng):
  """Mean cross-entropy of the class (classify) or of the next token at every position (lm)."""
  logits = model.apply(
    {"params": params}, {"inputs": batch["inputs"]}, deterministic=False, rngs={"dropout": rng}
  )
  labels = batch["labels"] if task == "classify" else batch["targets"]
  return optax.softmax_cross_entropy_with_integer_labels(logits.astype(jnp.float32), labels).mean()


def make_optimizer(config) -> optax.GradientTransformation:
  """AdamW as LRA configures it (0.9, 0.98, 1e-9), constant learning rate."""
  return optax.adamw(
    config.get("learning_rate", 1e-3),
    b1=0.9,
    b2=0.98,
    eps=1e-9,
    weight_decay=config.get("weight_decay", 0.1),
  )


def make_train_step(model: nn.Module, task: str, tx: optax.GradientTransformation):
  """The jitted step `(state, batch) -> (state, loss)`; the state is donated."""

  def step(state, batch):
    params, opt_state, rng, count = state
    grad_fn = jax.value_and_grad(functools.partial(loss_fn, model, task))
    loss, grads = grad_fn(params, batch, jax.random.fold_in(rng, count))
    updates, opt_state = tx.update(grads, opt_state, params)
    return (optax.apply_updates(params, updates), opt_state, rng, count + 1), loss

  return jax.jit(step, donate_argnums=0)


def init_state(model: nn.Module, task: str, spec: ModelSpec, tx, seq_len: int):
  """Params (unboxed), optimizer state, rng and step counter.

  Initialised on a batch of one under jit: only the parameters are outputs, so XLA drops the
  forward pass and even 8K attention initialises without materialising its scores.
  """
  dummy = {"inputs": jnp.zeros((1, seq_len), jnp.int32)}
  variables = jax.jit(functools.partial(model.init, deterministic=True))(
    jax.random.PRNGKey(0), dummy
  )
  params = nn.meta.unbox(variables["params"])
  return (params, tx.init(params), jax.random.PRNGKey(1), jnp.zeros((), jnp.int32))


def count_params(params) -> int:
  return int(sum(np.prod(x.shape) for x in jax.tree_util.tree_leaves(params)))


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


def classify_error(e: BaseException) -> str:
  """`OOM` for an out-of-memory error, else `error:<type>: <first line, shortened>`."""
  text = str(e)
  if "RESOURCE_EXHAUSTED" in text or "out of memory" in text.lower():
    return "OOM"
  first = text.strip().splitlines()[0] if text.strip() else ""
  return f"error:{type(e).__name__}: {first}"[:120]


@dataclasses.dataclass
class Job:
  """One row being measured: its fields, and a blocking `run()` of one step once prepared."""

  row: dict
  run: Callable[[], Any] | None = None
  last_warmup_s: float | None = None
  times: list = dataclasses.field(default_factory=list)
  cpu_times: list = dataclasses.field(default_factory=list)


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


def empty_row(**fields) -> dict:
  row = dict.fromkeys(COLUMNS)
  row.update(fields)
  return row


def prepare(
  config,
  variant: Variant,
  seq_len: int,
  batch: int,
  dtype: str,
  *,
  warmup: int = 2,
  max_bytes: int | None = None,
  compile_only: bool = False,
) -> Job:
  """Builds, compiles and warms up the train step of `variant` at `seq_len`.

  `compile_only` stops after compiling (`status=compiled`): parameters, peak memory and FLOPs
  without running, for lengths a small host cannot afford to time.
  """
  row = empty_row(
    mixer=variant.label, impl="fnetlab", seq_len=seq_len, batch=batch, dtype=dtype, repeats=0
  )
  spec = build_spec(config, variant, seq_len, dtype)
  job = Job(row)
  try:
    model = build_model(config.task, spec)
    tx = make_optimizer(config)
    state = init_state(model, config.task, spec, tx, seq_len)
    row["params"] = count_params(state[0])
    data = jax.device_put(make_batch(config.task, spec, batch, seq_len))
    step = make_train_step(model, config.task, tx)
    t0 = time.perf_counter()
    compiled = step.lower(state, data).compile()
    row["compile_s"] = time.perf_counter() - t0
    row["peak_bytes"] = memory_bytes(compiled)
    row["flops"] = cost_flops(compiled)
    if max_bytes and row["peak_bytes"] and row["peak_bytes"] > max_bytes:
      row["status"] = "skipped_memory"
      return job
    if compile_only:
      row["status"] = "compiled"
      return job
  except Exception as e:  # OOM while compiling, or a failure: a row, not a crash
    row["status"] = classify_error(e)
    return job
  holder = [state]

  def run():
    holder[0], loss = compiled(holder[0], data)
    jax.block_until_ready((holder[0], loss))

  job.run = run
  return warm_up(job, warmup)


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

  bound, ref = index(BOUND), index(REFERENCE)
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
  on_rows: Callable[[list[dict]], None] | None = None,
  log: Callable[[str], None] = print,
) -> list[dict]:
  """All rows: every label (FF-only added first if absent) at every length, plus the peer.

  The rows of one length are prepared (compiled and warmed up) one after another, then timed
  together round-robin (`time_jobs`).
  """
  labels = list(dict.fromkeys(labels))
  if BOUND not in labels:
    labels.insert(0, BOUND)
  variants = [resolve_variant(label, config) for label in labels]
  prepare_peer = None
  if peer:
    from fnetlab.bench import peer as peer_mod

    prepare_peer = peer_mod.runner(peer, config.task)
  rows: list[dict] = []
  for n in seq_lens:
    jobs = []
    for v in variants:
      jobs.append(
        prepare(
          config,
          v,
          n,
          batch,
          dtype,
          warmup=warmup,
          max_bytes=max_bytes,
          compile_only=compile_only,
        )
      )
      if prepare_peer and v.label in PEER_OF and not compile_only:
        spec = build_spec(config, v, n, dtype)
        data = make_batch(config.task, spec, batch, n)
        jobs.append(prepare_peer(PEER_OF[v.label], spec, data, config, warmup=warmup))
    time_jobs(jobs, repeats, max_seconds)
    rows += [j.row for j in jobs]
    gc.collect()
    add_ratios(rows, peak_tflops)
    for j in jobs:
      log(_describe(j.row))
    if on_rows:
      on_rows(rows)
  return rows


def _describe(row: dict) -> str:
  ms = f"{row['step_ms']:.1f} ms" if row.get("step_ms") else "-"
  mem = f"{row['peak_bytes'] / 2**20:.0f} MiB" if row.get("peak_bytes") else "-"
  return f"{row['impl']}/{row['mixer']} N={row['seq_len']} B={row['batch']}: {ms}, {mem}, {row['status']}"


# ---------------------------------------------------------------------------------------------
# Outputs


def write_csv(rows: Iterable[dict], path: str) -> None:
  with open(path, "w", newline="") as f:
    writer = csv.DictWriter(f, fieldnames=list(COLUMNS))
    writer.writeheader()
    for r in rows:
      writer.writerow({k: _cell(r.get(k)) for k in COLUMNS})


def _cell(value):
  if value is None:
    return ""
  if isinstance(value, float):
    return f"{value:.6g}"
  return value


def read_csv(path: str) -> list[dict]:
  """bench.csv back as typed rows (empty cells are None)."""
  with open(path, newline="") as f:
    rows = list(csv.DictReader(f))
  out = []
  for r in rows:
    typed = {}
    for k, cast in COLUMNS.items():
      cell = r.get(k, "")
      typed[k] = None if cell in ("", None) else (int(float(cell)) if cast is int else cast(cell))
    out.append(typed)
  return out


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
    model = platform.processor() or ""
    try:
      with open("/proc/cpuinfo") as f:
        model = next(
          (ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), model
        )
    except OSError:
      pass
    device = f"cpu: {model} ({os.cpu_count()} cores)"
  dists = ("jax", "jaxlib", "flax", "optax", "numpy", "torch", "transformers")
  return {
    "device": device,
    "num_devices": jax.device_count(),
    "versions": {d: _version(d) for d in dists} | {"python": platform.python_version()},
    "xla_flags": os.environ.get("XLA_FLAGS", ""),
    "load": load_average(),
    "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
  }


def load_average() -> str:
  """The host's 1/5/15-minute load averages: on a shared machine they say how noisy the
  wall-clock times are (step times are interleaved across mixers to keep ratios fair)."""
  try:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())
  except OSError:
    return "unknown"


def _fmt(value, spec: str, scale: float | None = None) -> str:
  if value is None:
    return ""
  return format(value if scale is None else value * scale, spec)


def markdown(rows: list[dict], *, title: str, command: str, env: dict, notes: Sequence[str]) -> str:
  """bench.md: the header (command, date, device, versions), notes and the results table."""
  lines = [
    f"# {title}",
    "",
    f"- command: `{command}`",
    f"- date: {env['date']}",
    f"- device: {env['device']} ({env['num_devices']} device(s))",
    "- versions: " + ", ".join(f"{k} {v}" for k, v in env["versions"].items()),
    f"- XLA_FLAGS: `{env['xla_flags'] or '(none)'}`",
    f"- host load average (1/5/15 min) at start: {env.get('load_start', 'unknown')}; "
    f"at end: {env['load']}",
  ]
  lines += [f"- {n}" for n in notes]
  lines += [
    "",
    "| mixer | impl | N | B | params | step ms | cpu ms | tokens/s | compile s | peak MiB "
    "| GFLOP | ÷ ff_only | × vs attention | mem ÷ attention | × vs peer | status |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
  ]
  for r in rows:
    lines.append(
      "| "
      + " | ".join(
        [
          r["mixer"],
          r["impl"],
          str(r["seq_len"]),
          str(r["batch"]),
          _fmt(r["params"], ","),
          _fmt(r["step_ms"], ".1f"),
          _fmt(r.get("cpu_ms"), ".1f"),
          _fmt(r["tokens_per_s"], ",.0f"),
          _fmt(r["compile_s"], ".1f"),
          _fmt(r["peak_bytes"], ",.0f", 2**-20),
          _fmt(r["flops"], ",.1f", 1e-9),
          _fmt(r["ratio_vs_ff_only"], ".3f"),
          _fmt(r["speedup_vs_attention"], ".2f"),
          _fmt(r["memory_vs_attention"], ".3f"),
          _fmt(r["speedup_vs_peer"], ".2f"),
          r["status"] or "",
        ]
      )
      + " |"
    )
  if any(r.get("mfu") for r in rows):
    lines += ["", "| mixer | N | TFLOP/s | MFU |", "|---|---:|---:|---:|"]
    for r in rows:
      if r.get("mfu"):
        lines.append(
          f"| {r['mixer']} | {r['seq_len']} | {r['tflops_per_s']:.2f} | {r['mfu']:.1%} |"
        )
  lines += [
    "",
    "![step time](step_time.png) ![peak memory](memory.png) ![parameters](params.png)",
    "",
  ]
  return "\n".join(lines)


def plot(rows: list[dict], out_dir: str) -> list[str]:
  """step_time.png (log-log), memory.png (log-log) and params.png; returns their paths."""
  import matplotlib

  matplotlib.use("Agg")
  from matplotlib import pyplot as plt

  labels = list(dict.fromkeys(f"{r['mixer']}" for r in rows))
  panels = (
    ("step_time.png", "step_ms", "train step (ms)", True, lambda r: r["status"] == "ok"),
    ("memory.png", "peak_bytes", "XLA peak memory (MiB)", True, lambda r: True),
    ("params.png", "params", "parameters", False, lambda r: True),
  )
  paths = []
  for fname, key, ylabel, logy, keep in panels:
    fig, ax = plt.subplots(figsize=(6, 4.2))
    for label in labels:
      pts = sorted(
        (r["seq_len"], r[key]) for r in rows if r["mixer"] == label and r.get(key) and keep(r)
      )
      if not pts:
        continue
      xs, ys = zip(*pts, strict=True)
      if key == "peak_bytes":
        ys = [y / 2**20 for y in ys]
      ax.plot(xs, ys, marker="o", label=label)
    ax.set_xscale("log", base=2)
    if logy:
      ax.set_yscale("log")
    ax.set_xlabel("sequence length N")
    ax.set_ylabel(ylabel)
    ax.grid(True, which="both", alpha=0.3)
    if ax.lines:
      ax.legend(fontsize=8)
    fig.tight_layout()
    path = os.path.join(out_dir, fname)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    paths.append(path)
  return paths


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


def parse_ints(text: str, flag: str) -> list[int]:
  try:
    values = [int(t) for t in str(text).replace(" ", "").split(",") if t]
  except ValueError:
    raise UserError(f"{flag}={text!r}: expected comma-separated integers") from None
  if not values or min(values) < 1:
    raise UserError(f"{flag}={text!r}: expected positive integers")
  return values
