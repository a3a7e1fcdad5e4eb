"""`fnetlab bench`: time the train step of every mixer against sequence length.

  fnetlab bench --config=configs/bench/lra_text.py --mixers=fourier,attention,ff_only \\
      --seq_lens=256,512,1024 --batch=8 --out=reports/bench/lra_text [--peer=hf]

A bench config is an ordinary train config of the `synthetic` task with a `bench` section. For
each mixer and length it builds the model at that length and times `fnetlab train`'s own
train step (the config's optimiser, schedule, clipping and mesh) on random token ids. Writes
bench.csv, bench.md and step_time.png / memory.png / params.png into --out. A flag left unset
takes the config's `bench` value of the same name (bench.mixers, bench.seq_lens, ...); --dtype
defaults to model.dtype.

  fnetlab bench --config=configs/bench/lra_text.py --mixers=fourier,attention \
      --seq_lens=1024,4096,16384 --batch=32 --dtype=bfloat16 --topology=v5e:2x4 --out=DIR

With --topology nothing runs: every row's train and eval steps are compiled for that TPU
slice (`fnetlab compile`, docs/tpu.md) into DIR/<mixer>_N<n>/compile.json (a row already
there is kept, so a stopped bench resumes), and DIR/compile.md tabulates per-device memory,
FLOPs and the step-time estimate against N for every mixer.
"""

from __future__ import annotations

import os
import shlex
import sys

from fnetlab.common.errors import UserError
from fnetlab.common.flags import Flag, int_list, parse

FLAGS = (
  Flag("mixers", "Comma-separated mixers or bench.variants labels (ff_only is always added)."),
  Flag("seq_lens", "Comma-separated sequence lengths N."),
  Flag("batch", "Batch size (default: bench.batch).", type=int),
  Flag(
    "repeats", "Timed steps per row; the median is reported (default: bench.repeats).", type=int
  ),
  Flag("warmup", "Untimed steps per row after compiling (default: bench.warmup).", type=int),
  Flag("dtype", "Activation dtype (default: model.dtype).", choices=("float32", "bfloat16")),
  Flag("out", "Folder for bench.csv, bench.md and the plots (default: bench.out)."),
  Flag(
    "peer", "Also time the Hugging Face PyTorch peer (needs the [peer] extra).", choices=("hf",)
  ),
  Flag(
    "max_memory_gb",
    "Skip programs whose compiled peak memory exceeds this many GiB (0: no guard; default: 0.7 "
    "x host RAM on CPU, none on accelerators).",
    type=float,
  ),
  Flag(
    "max_seconds_per_row",
    "Take fewer timed repeats where they would exceed this many seconds (0: never).",
    type=float,
  ),
  Flag("compile_only", "Compile without running: parameters, peak memory and FLOPs.", False, bool),
  Flag("peak_tflops", "Device peak TFLOP/s, for model FLOPs utilisation (MFU).", type=float),
  Flag("topology", "Compile for this TPU slice instead of timing (e.g. v5e:2x4; docs/tpu.md)."),
  Flag(
    "profile",
    "Folder: also write a jax.profiler trace of one step of every row into "
    "<folder>/<mixer>-N<n> (TensorBoard or Perfetto; docs/performance.md).",
  ),
)

NOTES = (
  "step = `fnetlab train`'s jitted train step (forward, backward, gradient clipping and the "
  "optimiser update, state donated) with the config's optim section; step ms = median wall "
  "time of the timed repeats after warm-up, the rows of one length timed round-robin; cpu ms = "
  "median process CPU time per step (all threads), less sensitive than wall time to other "
  "processes on a shared host",
  "peak MiB = XLA buffer assignment (arguments + outputs + temporaries - donated aliases); "
  "GFLOP = XLA cost analysis of the whole step",
  "÷ ff_only = step time over FF-only's (identity mixing, the bound); × vs attention and "
  "× vs peer are throughput ratios (their step time over ours)",
)


def _pick(args, name: str, config, default=None):
  """The flag's value, else the config's `bench.<name>`, else `default`."""
  value = getattr(args, name)
  return value if value is not None else (config.get("bench") or {}).get(name, default)


def main(argv) -> int:
  args = parse("bench", __doc__, FLAGS, argv, config="required")
  if "bench" not in args.config:
    raise UserError(f"config file {args.config_spec}: has no `bench` section")
  if _pick(args, "peer", args.config):
    # JAX would claim 75% of an accelerator when its backend starts and leave the PyTorch peer
    # too little; the variable is read then, so it is set before anything touches a backend.
    os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
  from fnetlab.bench import timing
  from fnetlab.results import bench as bench_results
  from fnetlab.results import plots

  config = args.config
  out = _pick(args, "out", config)
  if not out:
    raise UserError("--out is required (the folder for bench.csv, bench.md and plots)")
  labels = [m for m in str(_pick(args, "mixers", config, "")).replace(" ", "").split(",") if m]
  if not labels:
    raise UserError("--mixers is empty and the config sets no `bench.mixers`")
  seq_lens = int_list(_pick(args, "seq_lens", config, ""), "--seq_lens", minimum=1)
  batch = int(_pick(args, "batch", config, 8))
  dtype = args.dtype or config.model.dtype
  if dtype not in ("float32", "bfloat16"):
    raise UserError(f"config key model.dtype={dtype!r}; valid: float32, bfloat16")
  if args.topology:
    return compile_rows(args, argv, config, out, labels, seq_lens, batch, dtype)
  max_gb = _pick(args, "max_memory_gb", config)
  max_bytes = timing.default_max_bytes() if max_gb is None else int(max_gb * 2**30) or None
  peer = _pick(args, "peer", config) or None
  load_start = timing.load_average()
  os.makedirs(out, exist_ok=True)
  csv_path = os.path.join(out, "bench.csv")
  rows = timing.run_bench(
    config,
    labels,
    seq_lens,
    batch,
    dtype,
    warmup=int(_pick(args, "warmup", config, 2)),
    repeats=int(_pick(args, "repeats", config, 10)),
    max_bytes=max_bytes,
    max_seconds=_pick(args, "max_seconds_per_row", config, 60.0) or None,
    peer=peer,
    peak_tflops=_pick(args, "peak_tflops", config) or None,
    compile_only=args.compile_only,
    profile_dir=_pick(args, "profile", config) or None,
    on_rows=lambda rows: bench_results.write_bench_csv(rows, csv_path),  # a killed run keeps rows
  )
  bench_results.write_bench_csv(rows, csv_path)
  notes = [
    f"config: {args.config_spec}, task={config.task}/{config.data.kind}, "
    f"model={config.model.to_dict()}",
    f"optim: {config.optim.to_dict()}; train.grad_accum {config.train.grad_accum}",
    f"batch {batch}, dtype {dtype}, memory guard "
    + (f"{max_bytes / 2**30:.1f} GiB" if max_bytes else "off"),
    *NOTES,
    "mixers: "
    + "; ".join(
      f"{label} = {timing.label_overrides(config, label)}" for label in timing_labels(rows)
    ),
    *(str(note) for note in config.bench.get("notes", ()) or ()),
  ]
  command = "fnetlab bench " + " ".join(shlex.quote(a) for a in argv[1:])
  env = timing.environment() | {"load_start": load_start}
  title = f"fnetlab bench: {os.path.basename(os.path.normpath(out))}"
  text = bench_results.markdown(rows, title=title, command=command, env=env, notes=notes)
  with open(os.path.join(out, "bench.md"), "w") as f:
    f.write(text)
  plots.bench_plots(rows, out)
  bad = [r for r in rows if r["status"] not in ("ok", "compiled")]
  print(
    f"wrote {csv_path} ({len(rows)} rows, {len(bad)} not ok), bench.md and plots", file=sys.stderr
  )
  return 0


def timing_labels(rows: list[dict]) -> list[str]:
  """Our labels in the order they were measured (peer rows excluded)."""
  return list(dict.fromkeys(r["mixer"] for r in rows if r["impl"] == "fnetlab"))


def compile_rows(args, argv, config, out, labels, seq_lens, batch, dtype) -> int:
  """--topology: every (label, N) row compiled for the slice; DIR/compile.md from them."""
  from fnetlab.bench import aot, timing
  from fnetlab.common import provenance
  from fnetlab.results import compile as compile_table

  if args.peer or args.profile:
    raise UserError("--topology compiles only: --peer and --profile need a run")
  overrides = {label: timing.label_overrides(config, label) for label in labels}
  rows = [
    (f"{label}_N{n}", timing.row_config(config, overrides[label], n, batch, dtype), args.topology)
    for n in seq_lens
    for label in labels
  ]
  records = aot.compile_rows(rows, out, log=lambda m: print(m, file=sys.stderr))
  for record, (name, _, _) in zip(records, rows, strict=True):
    record["row"] = name
  lines = [
    f"# fnetlab bench --topology={args.topology}: {os.path.basename(os.path.normpath(out))}",
    "",
  ]
  lines += provenance.markdown(provenance.collect(argv))
  lines += ["", f"Compiled, not run; step time and tokens/s are an {aot.ESTIMATE}.", ""]
  lines += [compile_table.table(records)]
  with open(os.path.join(out, "compile.md"), "w") as f:
    f.write("\n".join(lines))
  print(f"wrote {os.path.join(out, 'compile.md')} ({len(records)} rows)", file=sys.stderr)
  return 0
