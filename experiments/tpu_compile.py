"""reports/tpu_compile.md: every experiment compiled for real TPU slices on this host.

  python experiments/tpu_compile.py --out=reports/tpu_compile [--only=lra,base,length] \\
      [--topologies=v5e:2x4,v4:2x2x1] [--mixers=fourier,attention,...] [--dry_run]

`fnetlab compile` (fnetlab/bench/aot.py) row by row, one compile.json per row under
--out/<row>/, skipped when present, so a stopped run resumes; then the report is rendered
from every compile.json there (rows not compiled yet are listed with the command that
compiles them). A row's compile takes from half a minute to about ten on a small host (the
train and eval steps; FNet rows also the FFT and DFT variants), so on a machine with more
cores split the rows into N jobs side by side, then render once:

  for i in 0 1 2 3; do python experiments/tpu_compile.py --shard=$i/4 & done; wait
  python experiments/tpu_compile.py --render_only

Rows:
- `lra`: every LRA task config (configs/lra/*.py, official sizes) x mixer, on each topology
  of --topologies (default v5e:2x4 = v5e-8 and v4:2x2x1 = v4-8);
- `base`: pretraining and GLUE fine-tuning at the base size, FSDP over 16 x data 16 on
  v5e:16x16 (256 chips, 64 hosts), global batch 256 (the smallest multiple of the chips);
- `length`: FNet against attention (its TPU kernel: no probability dropout) on the LRA Text
  bench encoder (configs/bench/lra_text.py), bf16, batch 32, N = 1K ... 16K on v5e:2x4; FNet
  rows also compile impl=fft and impl=dft.
"""

from __future__ import annotations

import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from fnetlab.common.flags import Flag, name_list, run_script, script_flags  # noqa: E402

LRA_TASKS = ("listops", "text", "retrieval", "image", "pathfinder")
GROUPS = ("lra", "base", "length")
LENGTHS = (1024, 2048, 4096, 8192, 16384)
FLAGS = (
  Flag("out", "Folder of the rows' compile.json files.", "reports/tpu_compile"),
  Flag("report", "The markdown report written from them.", "reports/tpu_compile.md"),
  Flag("only", "Comma-separated row groups: lra, base, length.", ",".join(GROUPS)),
  Flag("topologies", "LRA rows: comma-separated TPU topologies.", "v5e:2x4,v4:2x2x1"),
  Flag("mixers", "LRA rows: comma-separated mixers (default: every mixer).", ""),
  Flag(
    "shard",
    "I/N: compile only rows I, I+N, I+2N, ... (N such jobs side by side cover every row once).",
    "0/1",
  ),
  Flag("dry_run", "List the rows and their state; compile nothing.", False, bool),
  Flag(
    "render_only", "Write the report from the rows compiled so far; compile nothing.", False, bool
  ),
)


def lra_rows(topologies, mixer_names):

  for topo in topologies:
    for task in LRA_TASKS:
      for mixer in mixer_names:
        spec = f"configs/lra/{task}.py:mixer={mixer}"
        yield f"lra_{task}_{mixer}_{topo}", (spec, {}), topo


def base_rows():
  fsdp = {"mesh.fsdp": "16", "train.batch_size": "256", "train.eval_batch_size": "256"}
  for mixer in ("fourier", "attention"):
    base = {**fsdp, "model.size": "base", "model.mixer": mixer}
    yield f"base_pretrain_{mixer}", ("configs/pretrain.py", base), "v5e:16x16"
    yield f"base_glue_{mixer}", ("configs/glue.py", base), "v5e:16x16"


def length_rows():
  for n in LENGTHS:
    for mixer in ("fourier", "attention"):
      yield (
        f"length_{mixer}_N{n}",
        ("configs/bench/lra_text.py", {"mixer": mixer, "n": n}),
        "v5e:2x4",
      )


def build(spec):
  """The config of a row: a config file with overrides, or a bench row (mixer, n)."""
  from fnetlab.common import config

  path, overrides = spec
  if path.startswith("configs/bench/"):
    from fnetlab.bench import timing

    bench = config.load(os.path.join(REPO, path))
    row = timing.label_overrides(bench, overrides["mixer"])
    c = timing.row_config(bench, row, overrides["n"], 32, "bfloat16")
    c.model.attention_dropout = 0.0  # attention with its TPU kernel (no probability dropout)
    return c
  file, _, arg = path.partition(":")
  return config.load(os.path.join(REPO, file) + (f":{arg}" if arg else ""), overrides)


def command_for(name, spec, topo) -> str:
  path, overrides = spec
  if path.startswith("configs/bench/"):
    return f"python experiments/tpu_compile.py --only=length  # row {name}"
  keys = "".join(f" --config.{k}={v}" for k, v in overrides.items())
  fnet = "mixer=fourier" in path or overrides.get("model.mixer") == "fourier"
  return (
    f"fnetlab compile --config={path}{keys} --topology={topo}"
    + (" --fourier_impls" if fnet else "")
    + f" --out=reports/tpu_compile/{name}"
  )


def parse_shard(text: str) -> tuple[int, int]:
  """'I/N' -> (I, N) with 0 <= I < N; anything else is a one-line mistake."""
  from fnetlab.common.errors import UserError

  i, slash, n = str(text).partition("/")
  try:
    index, shards = int(i), int(n)
  except ValueError:
    index, shards = -1, 0
  if not slash or shards < 1 or not 0 <= index < shards:
    raise UserError(f"--shard={text}: expected I/N with 0 <= I < N, e.g. 0/4")
  return index, shards


def main(argv):
  args = script_flags(__doc__, FLAGS, argv)
  from fnetlab import mixers
  from fnetlab.bench import aot
  from fnetlab.common import provenance
  from fnetlab.common.io import read_json
  from fnetlab.results import compile as compile_table

  groups = name_list(args.only, "--only", GROUPS)
  mixer_names = name_list(args.mixers, "--mixers", mixers.names()) or mixers.names()
  rows = []
  if "length" in groups:
    rows += list(length_rows())
  if "lra" in groups:
    rows += list(lra_rows(name_list(args.topologies, "--topologies"), mixer_names))
  if "base" in groups:
    rows += list(base_rows())
  done = lambda name: os.path.exists(os.path.join(args.out, name, "compile.json"))
  index, shards = parse_shard(args.shard)
  mine = rows[index::shards]
  if args.dry_run:
    for name, spec, topo in mine:
      print(("done  " if done(name) else "to do ") + command_for(name, spec, topo))
    return 0
  for name, spec, topo in mine:
    if not done(name) and not args.render_only:
      aot.compile_rows([(name, build(spec), topo)], args.out)
  records = [
    read_json(os.path.join(args.out, n, "compile.json")) | {"row": n} for n, _, _ in rows if done(n)
  ]
  missing = [(n, s, t) for n, s, t in rows if not done(n)]
  write_report(args.report, records, missing, provenance.collect(argv), compile_table)
  print(f"wrote {args.report}: {len(records)} rows compiled, {len(missing)} not yet")
  return 0


def write_report(path, records, missing, prov, compile_table, command_of=command_for):
  from fnetlab.bench.aot import ESTIMATE

  lines = ["# fnetlab programs compiled for TPU slices (no TPU used)", ""]
  lines += prov_lines(prov)
  lines += [
    "",
    "Every row is `fnetlab compile` of a config: its very train and eval steps compiled by "
    "libtpu's TPU compiler for the slice's abstract devices (docs/tpu.md). Sizes are per "
    "device; `total` is the larger of the train and eval steps' arguments + outputs + "
    "temporaries - donated. GFLOP/step and the step time are per device and train step. "
    f"Step time and tokens/s are an {ESTIMATE}. `*`: FLOPs leave out the Pallas splash "
    "kernel, which XLA's cost analysis does not see into. `kernel` is the train step's "
    "attention kernel: `explicit` where probability dropout is on (no fused TPU kernel "
    "takes it; evaluation gets splash).",
    "",
  ]
  for title, prefix in (
    (
      "FNet against attention by length, v5e-8 (v5e:2x4), LRA Text encoder, bf16, batch 32",
      "length_",
    ),
    ("LRA tasks at their official sizes", "lra_"),
    ("Base size with FSDP on v5e:16x16 (256 chips, 64 processes)", "base_"),
  ):
    mine = [r for r in records if str(r.get("row", "")).startswith(prefix)]
    todo = [m for m in missing if m[0].startswith(prefix)]
    if not mine and not todo:
      continue
    lines += [f"## {title}", ""]
    if mine:
      lines += [compile_table.table(mine), ""]
    if todo:
      lines += [
        f"Not yet compiled: {len(todo)} rows. Each line compiles one; "
        "`python experiments/tpu_compile.py` compiles every missing row (it resumes) and "
        "rewrites this report.",
        "",
      ]
      lines += ["```"] + [command_of(*m) for m in todo] + ["```", ""]
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  with open(path, "w") as f:
    f.write("\n".join(lines))


def prov_lines(prov):
  from fnetlab.common import provenance

  return provenance.markdown(prov)


if __name__ == "__main__":
  sys.exit(run_script(main))
