"""`fnetlab train`: config -> train_and_evaluate (the flax-examples `main.py`).

  fnetlab train --config=configs/lra/listops.py:mixer=fourier,runlocal --workdir=runs/lo \\
      [--config.train.steps=1000 ...] [--coordinator_address=host:port --num_processes=N --process_id=i]

A workdir is resumed from its latest checkpoint, with the config it was started with: a
changed key is an error naming it (only the logging, checkpoint and evaluation-batch keys of
fnetlab/train/trainer.py:RESUMABLE_KEYS may change, each change recorded in the workdir's
history.jsonl). A finished run is left as it is ("finished at step N; nothing to do");
`--extend` with a larger `--config.train.steps` trains it on. Ctrl-C stops with one line
naming the last checkpoint (exit 130); the same command resumes from it.

Multi-host: the three flags (or `--distributed` with the usual environment on TPU/SLURM, where
`jax.distributed.initialize()` needs no arguments) start `jax.distributed`. Each process
loads its own rows of every batch; only process 0 writes logs and results.
"""

from __future__ import annotations

import json
import os

from fnetlab.common.flags import Flag, parse

FLAGS = (
  Flag(
    "workdir",
    "Directory for checkpoints, logs and results (resumed if it has some).",
    required=True,
  ),
  Flag("coordinator_address", "Multi-host: jax.distributed coordinator host:port."),
  Flag("num_processes", "Multi-host: number of processes.", type=int),
  Flag("process_id", "Multi-host: this process's index.", type=int),
  Flag(
    "extend",
    "Allow a larger train.steps than the workdir's run was started with (recorded in its "
    "history.jsonl; the learning-rate schedule is rebuilt for the new length).",
    False,
    bool,
  ),
  Flag(
    "distributed",
    "Call jax.distributed.initialize() from the environment (TPU pods, SLURM).",
    False,
    bool,
  ),
)


def init_distributed(args) -> None:
  import jax

  if args.coordinator_address or args.num_processes:
    if os.environ.get("JAX_PLATFORMS", "").startswith("cpu") or jax.config.jax_platforms == "cpu":
      jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(
      coordinator_address=args.coordinator_address,
      num_processes=args.num_processes,
      process_id=args.process_id,
    )
  elif args.distributed:
    jax.distributed.initialize()


def main(argv) -> int:
  args = parse("train", __doc__, FLAGS, argv, config="required")
  init_distributed(args)
  import jax

  from fnetlab.train.trainer import Trainer

  trainer = Trainer(args.config, args.workdir)  # validates everything before the workdir
  results = trainer.run(extend=args.extend)
  if jax.process_index() == 0 and trainer.status != "finished":
    print(json.dumps(results, indent=2, default=str))
  return 0
