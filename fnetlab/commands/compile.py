"""`fnetlab compile`: compile a config's train and eval steps for a TPU slice, on any host.

  fnetlab compile --config=configs/lra/text.py:mixer=fourier --topology=v5e:2x4 --out=DIR
      [--config.mesh.fsdp=4 --config.train.batch_size=...] [--fourier_impls]

The very steps `fnetlab train` runs, with the config's mesh laid over the slice's devices
(abstract TPU devices from libtpu; no TPU needed) and its process count, compiled by the TPU
compiler for abstract inputs (no parameter initialised, no data read: the task builds from
stand-in examples of its real format). It prints and writes DIR/compile.json: the topology,
chips, processes, device kind, mesh, attention kernel, per-device memory (params, optimiser
state, temporaries, total, the chip's HBM), whether it fits, FLOPs and bytes accessed per
device and step, and a step-time lower bound (an estimate) with the tokens/s it implies
(docs/tpu.md). A program that does not fit exits 2 with the config keys to try.
"""

from __future__ import annotations

import json
import os
import shlex

from fnetlab.common.flags import Flag, parse

FLAGS = (
  Flag("topology", "TPU slice, e.g. v5e:2x4 (v5e-8), v4:2x2x1 (v4-8), v5e:16x16.", required=True),
  Flag("out", "Folder for compile.json (default: print only)."),
  Flag(
    "fourier_impls",
    "For an FNet config: also compile with impl=fft and impl=dft and report both.",
    False,
    bool,
  ),
)


def main(argv) -> int:
  args = parse("compile", __doc__, FLAGS, argv, config="required")
  from fnetlab.bench import aot
  from fnetlab.common.errors import UserError
  from fnetlab.common.io import write_json

  if args.fourier_impls and args.config.model.mixer != "fourier":
    raise UserError("--fourier_impls needs config key model.mixer=fourier")
  record = aot.compile_for(args.config, args.topology, fnet_impls=args.fourier_impls)
  record["command"] = "fnetlab compile " + " ".join(shlex.quote(a) for a in argv[1:])
  for line in aot.summary(record):
    print(line)
  if not record["fits"]:
    raise aot.not_fitting(args.config, record)
  if args.out:
    os.makedirs(args.out, exist_ok=True)
    write_json(os.path.join(args.out, "compile.json"), record)
    print(f"wrote {os.path.join(args.out, 'compile.json')}")
  else:
    print(json.dumps(record, indent=2))
  return 0
