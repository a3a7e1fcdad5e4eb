"""`fnetlab bench`: time a full train step of every mixer against sequence length.

    fnetlab bench --config=configs/bench/lra_text.py --mixers=fourier,attention,ff_only \\
      --seq_lens=256,512,1024 --batch=8 --out=reports/bench/lra_text [--peer=hf]

Flags left unset take their value from the config (`config.mixers`, `config.seq_lens`, ...);
`--config.<field>=<value>` overrides any config field. Writes bench.csv, bench.md and
step_time.png / memory.png / params.png into --out. The method is in `fnetlab.bench.core`.

The flags live in a FlagValues built per call, not in absl's global FLAGS: config_flags has
to see the argv when it defines `--config` to register the `--config.<field>` overrides, and a
private FlagValues cannot collide with another subcommand's `--config` in one process (as in
the test suite), nor keep a previous call's values.
"""

from __future__ import annotations

import os
import shlex
import sys

from absl import flags
from ml_collections import config_flags

from fnetlab.bench import core
from fnetlab.errors import UserError


def make_flags(argv: list[str]) -> flags.FlagValues:
  """The command's flags, in a FlagValues of their own (see the module docstring)."""
  fv = flags.FlagValues()
  # config_flags finds the `--config.<field>` overrides in the argv it is given up front.
  config_flags.DEFINE_config_file(
    "config", None, "Bench config (configs/bench/<name>.py[:arg]).", fv, sys_argv=list(argv)
  )
  flags.DEFINE_string("mixers", None, "Comma-separated mixers or config.variants.", flag_values=fv)
  flags.DEFINE_string("seq_lens", None, "Comma-separated sequence lengths.", flag_values=fv)
  flags.DEFINE_integer("batch", None, "Batch size.", flag_values=fv)
  flags.DEFINE_integer("repeats", None, "Timed steps per row (median).", flag_values=fv)
  flags.DEFINE_integer("warmup", None, "Untimed steps per row after compiling.", flag_values=fv)
  flags.DEFINE_enum("dtype", None, ["float32", "bfloat16"], "Activation dtype.", flag_values=fv)
  flags.DEFINE_string("out", None, "Folder for bench.csv, bench.md and plots.", flag_values=fv)
  flags.DEFINE_enum("peer", None, ["hf"], "Also time the HF PyTorch peer.", flag_values=fv)
  flags.DEFINE_float(
    "max_memory_gb",
    None,
    "Skip (status=skipped_memory) programs whose compiled peak exceeds this; 0 disables; "
    "default: 70% of host RAM on CPU, no guard on accelerators.",
    flag_values=fv,
  )
  flags.DEFINE_float(
    "max_seconds_per_row",
    None,
    "Take fewer timed repeats when they would exceed this many seconds (0: never).",
    flag_values=fv,
  )
  flags.DEFINE_bool(
    "compile_only",
    False,
    "Compile without running: parameters, peak memory and FLOPs (status=compiled).",
    flag_values=fv,
  )
  flags.DEFINE_float(
    "peak_tflops", None, "Device peak TFLOP/s, for model FLOPs utilisation.", flag_values=fv
  )
  return fv


def _pick(fv: flags.FlagValues, flag_name: str, config, key: str, default=None):
  value = fv[flag_name].value
  if value is not None:
    return value
  return config.get(key, default)


def main(argv: list[str]) -> int:
  fv = make_flags(argv)
  if any(a in ("-h", "--help", "--helpfull") for a in argv[1:]):
    print(__doc__ + "\nflags:\n" + fv.get_help())
    return 0
  rest = fv(argv)
  if len(rest) > 1:
    raise UserError(f"unexpected arguments: {' '.join(rest[1:])}")
  config = fv.config
  if config is None:
    raise UserError("--config is required, e.g. --config=configs/bench/lra_text.py")
  out = fv.out or config.get("out")
  if not out:
    raise UserError("--out is required (the folder for bench.csv, bench.md and plots)")
  labels = [
    m for m in str(_pick(fv, "mixers", config, "mixers", "")).replace(" ", "").split(",") if m
  ]
  if not labels:
    raise UserError("--mixers is empty and the config sets no `mixers`")
  seq_lens = core.parse_ints(_pick(fv, "seq_lens", config, "seq_lens", ""), "--seq_lens")
  batch = int(_pick(fv, "batch", config, "batch", 8))
  dtype = _pick(fv, "dtype", config, "dtype", None) or config.model.get("dtype", "float32")
  if dtype not in ("float32", "bfloat16"):
    raise UserError(f"config.dtype={dtype!r}; valid: float32, bfloat16")
  max_gb = _pick(fv, "max_memory_gb", config, "max_memory_gb", None)
  max_bytes = core.default_max_bytes() if max_gb is None else int(max_gb * 2**30) or None
  peak_tflops = _pick(fv, "peak_tflops", config, "peak_tflops", None) or None

  peer = _pick(fv, "peer", config, "peer", None) or None
  if peer:
    # JAX would claim 75% of an accelerator up front and leave the PyTorch peer too little.
    os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
  load_start = core.load_average()
  os.makedirs(out, exist_ok=True)
  csv_path = os.path.join(out, "bench.csv")
  rows = core.run_bench(
    config,
    labels,
    seq_lens,
    batch,
    dtype,
    warmup=int(_pick(fv, "warmup", config, "warmup", 2)),
    repeats=int(_pick(fv, "repeats", config, "repeats", 10)),
    max_bytes=max_bytes,
    max_seconds=_pick(fv, "max_seconds_per_row", config, "max_seconds_per_row", 60.0) or None,
    peer=peer,
    peak_tflops=peak_tflops,
    compile_only=fv.compile_only,
    on_rows=lambda rows: core.write_csv(rows, csv_path),  # a killed run keeps its rows
  )
  core.write_csv(rows, csv_path)
  command = "fnetlab bench " + " ".join(shlex.quote(a) for a in argv[1:])
  notes = [
    f"config: task={config.task}, model={dict(config.model)}",
    f"batch {batch}, dtype {dtype}, memory guard "
    + (f"{max_bytes / 2**30:.1f} GiB" if max_bytes else "off"),
    "step = forward + backward + AdamW update of the whole model, jitted with the state "
    "donated; step ms = median wall time of the timed repeats after warm-up, the rows of one "
    "length timed round-robin; cpu ms = median process CPU time per step (all threads), "
    "less sensitive than wall time to other processes on a shared host",
    "peak MiB = XLA buffer assignment (arguments + outputs + temporaries - donated aliases); "
    "GFLOP = XLA cost analysis of the whole step",
    "÷ ff_only = step time over FF-only's (identity mixing, the bound); × vs attention and "
    "× vs peer are throughput ratios (their step time over ours)",
  ]
  variants = [
    core.resolve_variant(label, config)
    for label in dict.fromkeys(r["mixer"] for r in rows if r["impl"] == "fnetlab")
  ]
  notes.append(
    "mixers: "
    + "; ".join(
      f"{v.label} = {v.mixer}{dict(v.mixer_options) or ''}{dict(v.model_overrides) or ''}"
      for v in variants
    )
  )
  for note in config.get("notes", ()) or ():
    notes.append(str(note))
  title = f"fnetlab bench: {os.path.basename(os.path.normpath(out))}"
  env = core.environment() | {"load_start": load_start}
  text = core.markdown(rows, title=title, command=command, env=env, notes=notes)
  with open(os.path.join(out, "bench.md"), "w") as f:
    f.write(text)
  core.plot(rows, out)
  bad = [r for r in rows if r["status"] not in ("ok", "compiled")]
  print(
    f"wrote {csv_path} ({len(rows)} rows, {len(bad)} not ok), bench.md and plots", file=sys.stderr
  )
  return 0
