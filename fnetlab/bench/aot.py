"""Ahead-of-time compilation of a config's train and eval steps for a TPU slice, on any host.

`compile_for(config, topology)` builds the config's `Trainer` with its mesh laid over the
abstract devices of a TPU topology (`jax.experimental.topologies`, from libtpu; no TPU
needed), lowers the very `Trainer.train_step` and `Trainer.predict_step` that `fnetlab
train` runs for abstract inputs (ShapeDtypeStructs with the run's shardings, no parameter
initialised) and compiles them with the TPU compiler. From the compiled programs it reads,
per device:
- memory (`memory_analysis()`): the parameters' and optimiser state's shards, the step's
  temporaries, and the total (arguments + outputs + temporaries - donated), against the
  device's HBM (fnetlab/bench/chips.py), for the train and the eval step;
- cost (`cost_analysis()`): FLOPs and bytes accessed of one train step. XLA's cost analysis
  does not see inside Pallas (Mosaic) kernels, so with the splash attention kernel the FLOPs
  and bytes leave out the attention core (`cost_complete: false`).
`step_time_lower_bound_s` = max(FLOPs / peak, bytes / HBM bandwidth) is an estimate, a lower
bound from peak figures, never a measurement; `tokens_per_s_estimate` follows from it.
The task is built from stand-in data of the real format (fnetlab/bench/standin.py).
"""

from __future__ import annotations

import importlib.metadata
import math
import os
import re
import time

import jax
import numpy as np

from fnetlab.bench import chips
from fnetlab.bench.standin import standin
from fnetlab.common.checkpoints import tree_size
from fnetlab.common.errors import UserError
from fnetlab.common.platforms import has_libtpu, host_has_tpu
from fnetlab.train.sharding import mesh_shape
from fnetlab.train.trainer import Trainer

ESTIMATE = "estimate: lower bound from peak FLOP/s and HBM bandwidth, not measured"
# Pallas kernels whose FLOPs XLA's cost analysis does not count (flash gives an estimate).
UNCOUNTED_KERNELS = ("splash",)


def libtpu_pin() -> str:
  """The libtpu requirement of the installed jax's `tpu` extra, e.g. 'libtpu==0.0.42.*'."""
  for req in importlib.metadata.requires("jax") or []:
    if req.startswith("libtpu") and 'extra == "tpu"' in req:
      return req.split(";")[0].replace(" ", "")
  return "libtpu"


def install_line() -> str:
  return f"pip install '{libtpu_pin()}' (or `pip install 'jax[tpu]=={jax.__version__}'`)"


def topology(name: str):
  """(chip, chips, devices) of a TPU topology name; UserError if unknown or libtpu is absent."""
  try:
    chip, n_chips = chips.parse(name)
  except ValueError as e:
    raise UserError(f"--topology: {e}") from None
  if not has_libtpu():
    raise UserError(f"--topology needs libtpu, which is not installed: {install_line()}")
  if not host_has_tpu():  # quiet libtpu's probes for this host's (absent) TPU
    # Compiling touches no device, so compiles may run side by side; libtpu's one-process
    # lock (/tmp/libtpu_lockfile) is for processes that own TPU chips.
    os.environ.setdefault("ALLOW_MULTIPLE_LIBTPU_LOAD", "1")
    os.environ.setdefault("TPU_SKIP_MDS_QUERY", "1")
    os.environ.setdefault("TPU_WORKER_HOSTNAMES", "localhost")
    os.environ.setdefault("TPU_ACCELERATOR_TYPE", "v5litepod-1")
  from jax.experimental import topologies

  try:
    devices = topologies.get_topology_desc(platform="tpu", topology_name=name).devices
  except Exception as e:
    first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
    raise UserError(f"--topology={name}: libtpu does not accept it ({first})") from None
  return chip, n_chips, list(devices)


def _shard_bytes(tree) -> int:
  """Bytes of one device's shards of a tree of ShapeDtypeStructs with shardings (the largest
  shard where they differ)."""
  total = 0
  for leaf in jax.tree.leaves(tree):
    shape = leaf.sharding.shard_shape(leaf.shape)
    total += math.prod(shape) * np.dtype(leaf.dtype).itemsize
  return total


_OOM = re.compile(r"HLO temporaries \(([0-9.]+)([KMGT]?)\) exceeds available HBM")


class _TooLarge:
  """What a compile that the TPU compiler refused for memory tells: the temporaries needed."""

  def __init__(self, temp_bytes: int, message: str):
    self.temp_bytes, self.message = temp_bytes, message


def _compile(lowered):
  """The compiled program, or a `_TooLarge` when XLA runs out of the device's HBM."""
  try:
    return lowered.compile()
  except Exception as e:
    text = str(e)
    m = _OOM.search(text)
    if "RESOURCE_EXHAUSTED" not in text or not m:
      raise
    scale = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}[m.group(2)]
    return _TooLarge(int(float(m.group(1)) * scale), text.strip().splitlines()[0][:300])


def _memory(compiled, state_bytes: int = 0) -> dict:
  if isinstance(compiled, _TooLarge):  # the state plus the temporaries XLA asked for
    temp = compiled.temp_bytes
    return {"temp_bytes": temp, "total_bytes": state_bytes + temp}
  m = compiled.memory_analysis()
  get = lambda k: int(getattr(m, k, 0) or 0)
  return {
    "argument_bytes": get("argument_size_in_bytes"),
    "output_bytes": get("output_size_in_bytes"),
    "temp_bytes": get("temp_size_in_bytes"),
    "alias_bytes": get("alias_size_in_bytes"),
    "total_bytes": get("argument_size_in_bytes")
    + get("output_size_in_bytes")
    + get("temp_size_in_bytes")
    - get("alias_size_in_bytes"),
  }


def _cost(compiled) -> dict:
  if isinstance(compiled, _TooLarge):
    return {"flops": None, "bytes": None}
  cost = compiled.cost_analysis()
  if isinstance(cost, list | tuple):
    cost = cost[0] if cost else {}
  cost = cost or {}
  return {"flops": float(cost.get("flops", 0.0)), "bytes": float(cost.get("bytes accessed", 0.0))}


def _tokens(batch) -> int:
  """Tokens in a batch: the elements of its rank-2 integer `inputs*` arrays."""
  return sum(
    math.prod(v.shape)
    for k, v in batch.items()
    if k.startswith("inputs") and len(v.shape) == 2 and np.issubdtype(v.dtype, np.integer)
  )


def _divisors_up(n: int, start: int) -> int | None:
  return next((d for d in range(start, n + 1) if n % d == 0), None)


def suggestion(config, record) -> str:
  """The config keys to try when a program does not fit: more FSDP, accumulation, bf16."""
  per = record["per_device"]
  hbm, n = per["hbm_bytes"], record["devices"]
  tips = []
  fsdp = int(config.mesh.fsdp)
  state = per["params_bytes"] + per["opt_state_bytes"]
  if fsdp < n:
    want = _divisors_up(n, max(fsdp * 2, math.ceil(fsdp * state / max(hbm * 0.5, 1))))
    if want:
      tips.append(f"mesh.fsdp={want}")
  accum, batch = int(config.train.grad_accum), int(config.train.batch_size)
  need = math.ceil(accum * per["temp_bytes"] / max(hbm - state, hbm * 0.1))
  grad_accum = _divisors_up(batch // max(n, 1) or 1, max(accum * 2, need))
  if grad_accum:
    tips.append(f"train.grad_accum={grad_accum}")
  if str(config.model.get("dtype", "float32")) != "bfloat16":
    tips.append("model.dtype=bfloat16")
  return ", ".join(tips) or "a larger slice"


def compile_for(config, topology_name: str, *, fnet_impls: bool = False) -> dict:
  """The compile record of `config` on `topology_name` (the module docstring; keys as
  `fnetlab compile` writes them to compile.json). Raises UserError for a mistake; a program
  that does not fit is a record with `fits: false`, not an error."""
  chip, n_chips, devices = topology(topology_name)
  n_dev = len(devices)
  mesh_shape(config.mesh, n_dev)  # a mesh that does not divide the slice: one line
  t0 = time.perf_counter()
  with standin(config) as c:
    trainer = Trainer(c, devices=devices)
  state, batch = trainer.abstract_inputs()
  kernel, eval_kernel = trainer.kernels(), trainer.kernels(train=False)
  train = _compile(trainer.train_step.lower(state, batch))
  _, eval_batch = trainer.abstract_inputs(eval_batch=True)
  evaluate = _compile(trainer.predict_step.lower(state["params"], eval_batch))
  compile_s = time.perf_counter() - t0
  per_chip = n_dev // n_chips
  hbm = chip.hbm_bytes // per_chip
  peak, bandwidth = chip.bf16_flops / per_chip, chip.hbm_bytes_per_s / per_chip
  params_bytes, opt_bytes = _shard_bytes(state["params"]), _shard_bytes(state["opt_state"])
  mem, cost = _memory(train, 2 * params_bytes + 2 * opt_bytes), _cost(train)
  mem_eval = _memory(evaluate, params_bytes)
  step_s = None if cost["flops"] is None else max(cost["flops"] / peak, cost["bytes"] / bandwidth)
  oom = [x.message for x in (train, evaluate) if isinstance(x, _TooLarge)]
  total = max(mem["total_bytes"], mem_eval["total_bytes"])
  processes = len({d.process_index for d in devices})
  record = {
    "topology": topology_name,
    "chips": n_chips,
    "devices": n_dev,
    "processes": processes,
    "device_kind": devices[0].device_kind,
    "mesh": dict(trainer.mesh.shape),
    "kernel": kernel or None,
    "eval_kernel": eval_kernel or None,
    "per_device": {
      "params_bytes": params_bytes,
      "opt_state_bytes": opt_bytes,
      "temp_bytes": mem["temp_bytes"],
      "total_bytes": mem["total_bytes"],
      "eval_total_bytes": mem_eval["total_bytes"],
      "hbm_bytes": hbm,
    },
    "fits": total <= hbm and not oom,
    "compiler_refused": oom[0] if oom else None,
    "flops_per_step": cost["flops"],
    "bytes_accessed": cost["bytes"],
    "cost_complete": not any(k in (kernel or "").split("+") for k in UNCOUNTED_KERNELS),
    "step_time_lower_bound_s": step_s,
    "tokens_per_s_estimate": _tokens(batch) / step_s if step_s else None,
    "estimate": ESTIMATE,
    "params": tree_size(trainer.abstract_state["params"]),
    "global_batch": int(c.train.batch_size),
    "task": c.task,
    "mixer": c.model.mixer,
    "dtype": str(c.model.get("dtype", "float32")),
    "compile_s": round(compile_s, 1),
    "jax": jax.__version__,
    "libtpu": _libtpu_version(),
  }
  if fnet_impls:
    record["fourier_impls"] = fourier_impls(config, topology_name, record)
  return record


def _libtpu_version() -> str | None:
  try:
    return importlib.metadata.version("libtpu")
  except importlib.metadata.PackageNotFoundError:
    return None


def fourier_impls(config, topology_name: str, record: dict) -> dict:
  """For an FNet config at a length `impl=auto`'s TPU rule covers (<= DFT_MAX_LEN): FLOPs,
  bytes, temporaries and the estimate of the train step with `impl=fft` and with `impl=dft`
  (the config's own impl is `record`, the other is compiled); {} above that length."""
  from fnetlab.mixers.fourier import DFT_MAX_LEN

  seq_len = int(config.data.get("seq_len", 0) or 0) or int(config.model.max_len)
  if seq_len > DFT_MAX_LEN:
    return {}
  own = str((config.model.get("mixer_options") or {}).get("impl", "fft"))
  own = "dft" if own == "auto" else own  # auto on TPU at a covered length
  out = {}
  for impl in ("fft", "dft"):
    if impl == own:
      r = record
    else:
      c = config.copy_and_resolve_references()
      with c.unlocked():
        c.model.mixer_options = {**dict(c.model.get("mixer_options") or {}), "impl": impl}
      r = compile_for(c, topology_name)
    keys = ("flops_per_step", "bytes_accessed", "step_time_lower_bound_s", "fits")
    out[impl] = {k: r[k] for k in keys} | {"temp_bytes": r["per_device"]["temp_bytes"]}
  return out


def gib(n: float) -> str:
  return f"{n / 2**30:.2f} GiB"


def summary(record: dict) -> list[str]:
  """Human lines for a compile record (`fnetlab compile` prints them)."""
  per = record["per_device"]
  lines = [
    f"{record['task']} / {record['mixer']} on {record['topology']}: {record['chips']} chips, "
    f"{record['devices']} devices ({record['device_kind']}), {record['processes']} processes, "
    f"mesh {record['mesh']}, attention kernel {record['kernel'] or '-'} "
    f"(eval {record['eval_kernel'] or '-'})",
    f"per device: params {gib(per['params_bytes'])}, optimiser {gib(per['opt_state_bytes'])}, "
    f"temporaries {gib(per['temp_bytes'])}, total {gib(per['total_bytes'])} "
    f"(eval {gib(per['eval_total_bytes'])}) of {gib(per['hbm_bytes'])} HBM: "
    + ("fits" if record["fits"] else "DOES NOT FIT"),
  ]
  if record["flops_per_step"] is None:
    lines.append(f"the TPU compiler refused the program: {record['compiler_refused']}")
    return lines
  lines += [
    f"per device and step: {record['flops_per_step'] / 1e9:.1f} GFLOP, "
    f"{record['bytes_accessed'] / 2**30:.2f} GiB accessed"
    + ("" if record["cost_complete"] else " (without the Pallas attention kernel)"),
    f"step time >= {record['step_time_lower_bound_s'] * 1e3:.2f} ms, "
    f"<= {record['tokens_per_s_estimate'] or 0:,.0f} tokens/s ({ESTIMATE})",
  ]
  return lines


def not_fitting(config, record) -> UserError:
  per = record["per_device"]
  need = max(per["total_bytes"], per["eval_total_bytes"])
  return UserError(
    f"does not fit: needs {gib(need)} per device of {gib(per['hbm_bytes'])} on "
    f"{record['topology']}: try {suggestion(config, record)}"
  )


_NAME_SAFE = re.compile(r"[^A-Za-z0-9_.=-]+")


def row_name(*parts) -> str:
  """A file-system-safe row name from its parts (a bench row's folder)."""
  return _NAME_SAFE.sub("_", "_".join(str(p) for p in parts))


def compile_rows(rows, out: str, *, log=print) -> list[dict]:
  """Compiles each (name, config, topology) row into out/<name>/compile.json, skipping rows
  whose file exists (a stopped run resumes where it was); a row whose compile fails with a
  mistake is recorded as {'error': ...}. Returns the records in row order."""
  from fnetlab.common.io import read_json, write_json

  records = []
  for name, config, topo in rows:
    path = os.path.join(out, name, "compile.json")
    if os.path.exists(path):
      records.append(read_json(path))
      continue
    log(f"compiling {name} for {topo}")
    try:
      record = compile_for(config, topo, fnet_impls=config.model.mixer == "fourier")
    except UserError as e:
      record = {"topology": topo, "task": config.task, "mixer": config.model.mixer, "error": str(e)}
    record["row"] = name
    os.makedirs(os.path.dirname(path), exist_ok=True)
    write_json(path, record)
    records.append(record)
  return records
