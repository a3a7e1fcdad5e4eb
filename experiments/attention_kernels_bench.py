"""Micro-benchmark of the attention kernels: forward + backward time and compiled temp memory.

Times every kernel side by side in one process, interleaved round by round so that load on a
shared machine hits them alike; reports medians of wall time and of process CPU time (all
threads; steadier than wall time when other processes compete for the cores) and the ratio of
each to the explicit kernel's.

  .venv/bin/python experiments/attention_kernels_bench.py --seq_lens=512,1024,4096,8192 \
    --batch=8 --heads=4 --head_dim=64 --repeats=7

Kernels: explicit, xla, blocked (BLOCK_K, or --blocks for a sweep), cudnn on a GPU; with
--dropout=0.1 the dropout-capable kernels run with probability dropout. Prints CSV, headed by
`#` lines naming the command, commit, date, machine and load.
"""

from __future__ import annotations

import statistics
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

from fnetlab.common import flags, provenance
from fnetlab.common.flags import Flag
from fnetlab.nn import attention as ak

FLAGS = (
  Flag("seq_lens", "Comma-separated sequence lengths.", "512,1024"),
  Flag("batch", "Batch size.", 8, int),
  Flag("heads", "Attention heads.", 4, int),
  Flag("head_dim", "Features per head.", 64, int),
  Flag("dtype", "Compute dtype.", "float32", choices=("float32", "bfloat16", "float16")),
  Flag("repeats", "Timed rounds (every kernel once per round).", 7, int),
  Flag("causal", "Causal attention.", False, bool),
  Flag("dropout", "Attention-probability dropout rate.", 0.0, float),
  Flag("blocks", "Comma-separated block_k values to sweep (default: BLOCK_K)."),
  Flag("only", "Comma-separated kernel labels to run (default: all)."),
  Flag("max_explicit_gb", "Skip explicit runs whose temporaries exceed this (GiB).", 6.0, float),
)


def kernels(args, dtype, head_dim, n):
  out = {"explicit": dict(kernel="explicit")}
  if args.dropout:  # the previous path: flax-style threefry Bernoulli mask on the probabilities
    out["explicit_threefry"] = dict(kernel="explicit", threefry=True)
  else:
    out["xla"] = dict(kernel="xla")
  for blk in args.block_list:
    if blk < n or blk == ak.BLOCK_K:
      out[f"blocked{blk}"] = dict(kernel="blocked", block_k=blk)
  if jax.default_backend() == "gpu" and not args.dropout:
    out["cudnn"] = dict(kernel="cudnn")
  out["auto"] = dict(kernel="auto")
  return out


def step_fn(kernel, causal, rate, block_k=None, threefry=False):
  def loss(q, k, v, key_mask, seed):
    kw = dict(key_mask=key_mask, dropout_rate=rate, dropout_seed=seed if rate else None)
    if threefry:
      key = jax.random.wrap_key_data(seed)
      drop = lambda p: jnp.where(jax.random.bernoulli(key, 1 - rate, p.shape), p / (1 - rate), 0)
      y = ak.attend(q, k, v, None, causal, drop, key_mask=key_mask, kernel="explicit")
    elif block_k is not None:
      y = ak.blocked_attention(q, k, v, causal=causal, block_k=block_k, **kw)
    else:
      y = ak.attend(q, k, v, None, causal, kernel=kernel, **kw)
    return jnp.sum(y.astype(jnp.float32) ** 2)

  return jax.jit(jax.value_and_grad(loss, argnums=(0, 1, 2)))


def main(argv) -> int:
  args = flags.script_flags(__doc__, FLAGS, argv)
  seq_lens = flags.int_list(args.seq_lens, "--seq_lens", minimum=1)
  only = flags.name_list(args.only or "", "--only")
  args.block_list = (
    flags.int_list(args.blocks, "--blocks", minimum=1) if args.blocks else [ak.BLOCK_K]
  )
  dtype = jnp.dtype(args.dtype)
  for line in provenance.markdown(provenance.collect(argv)):
    print("#", line[2:])
  print(f"# backend={jax.default_backend()} devices={jax.devices()} jax={jax.__version__}")
  print(
    f"# batch={args.batch} heads={args.heads} head_dim={args.head_dim} dtype={dtype.name} "
    f"causal={args.causal} dropout={args.dropout}"
  )
  print("N,kernel,chosen,median_ms,min_ms,ratio,cpu_ms,cpu_ratio,temp_MiB")
  for n in seq_lens:
    rng = np.random.default_rng(0)
    shape = (args.batch, n, args.heads, args.head_dim)
    q, k, v = (jnp.asarray(rng.normal(size=shape), dtype) for _ in range(3))
    lengths = rng.integers(n * 3 // 4, n + 1, size=args.batch)
    key_mask = jnp.asarray(np.arange(n)[None] < lengths[:, None])
    seed = jnp.asarray([1, 2], jnp.uint32)
    fns, mems, chosen = {}, {}, {}
    for label, spec in kernels(args, dtype, args.head_dim, n).items():
      if only and label not in only:
        continue
      f = step_fn(
        spec["kernel"], args.causal, args.dropout, spec.get("block_k"), spec.get("threefry", False)
      )
      compiled = f.lower(q, k, v, key_mask, seed).compile()
      mem = compiled.memory_analysis()
      temp = getattr(mem, "temp_size_in_bytes", 0) if mem is not None else 0
      if spec["kernel"] == "auto":
        chosen[label] = ak.kernel_for(
          dtype, args.head_dim, q_len=n, k_len=n, mask_kind="keys", has_dropout=args.dropout > 0
        )
      if spec["kernel"] == "explicit" and temp > args.max_explicit_gb * 2**30:
        print(f"{n},{label},,skipped (temp {temp / 2**30:.1f} GiB),,,,,{temp / 2**20:.0f}")
        continue
      jax.block_until_ready(compiled(q, k, v, key_mask, seed))
      fns[label], mems[label] = compiled, temp
    times = {label: [] for label in fns}
    cpu = {label: [] for label in fns}
    for _ in range(args.repeats):
      for label, f in fns.items():
        t0, c0 = time.perf_counter(), time.process_time()
        jax.block_until_ready(f(q, k, v, key_mask, seed))
        times[label].append((time.perf_counter() - t0) * 1e3)
        cpu[label].append((time.process_time() - c0) * 1e3)
    med = {label: statistics.median(ts) for label, ts in times.items()}
    cmed = {label: statistics.median(ts) for label, ts in cpu.items()}
    base, cbase = med.get("explicit", float("nan")), cmed.get("explicit", float("nan"))
    for label, ts in times.items():
      print(
        f"{n},{label},{chosen.get(label, '')},{med[label]:.1f},{min(ts):.1f},"
        f"{med[label] / base:.3f},{cmed[label]:.1f},{cmed[label] / cbase:.3f},"
        f"{mems[label] / 2**20:.0f}",
        flush=True,
      )
  return 0


if __name__ == "__main__":
  sys.exit(flags.run_script(main))
