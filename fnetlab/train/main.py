"""`fnetlab train`: flags -> config -> train_and_evaluate (the flax-examples `main.py`).

  fnetlab train --config=configs/lra/listops.py:mixer=fourier,runlocal --workdir=runs/lo \\
      [--config.train.steps=1000 ...] [--coordinator_address=host:port --num_processes=N --process_id=i]

Multi-host: the three flags (or the usual environment on TPU/SLURM, where
`jax.distributed.initialize()` needs no arguments) start `jax.distributed`. Each process
loads its own rows of every batch; only process 0 writes logs and results.
"""

from __future__ import annotations

import json
import os

from absl import flags
from ml_collections import config_flags

from fnetlab.errors import UserError

FLAGS = flags.FLAGS
config_flags.DEFINE_config_file(
  "config", None, "Config file[:arg], e.g. configs/lra/listops.py:mixer=fourier"
)
flags.DEFINE_string("workdir", None, "Directory for checkpoints, logs and results.")
flags.DEFINE_string("coordinator_address", None, "jax.distributed coordinator host:port.")
flags.DEFINE_integer("num_processes", None, "Number of processes (multi-host).")
flags.DEFINE_integer("process_id", None, "This process's index (multi-host).")
flags.DEFINE_bool(
  "distributed", False, "Call jax.distributed.initialize() from the environment (TPU pods, SLURM)."
)


def parse(argv, required=("config", "workdir")):
  try:
    FLAGS(argv)
  except flags.Error as e:
    raise UserError(str(e).splitlines()[0]) from None
  except (KeyError, AttributeError, TypeError, ValueError) as e:
    # ml_collections reports bad overrides (unknown key, wrong type) as these.
    raise UserError(f"bad config override: {str(e).strip().splitlines()[0]}") from None
  missing = [f"--{name}" for name in required if getattr(FLAGS, name) is None]
  if missing:
    raise UserError(f"missing required flag(s): {', '.join(missing)}")


def init_distributed() -> None:
  import jax

  if FLAGS.coordinator_address or FLAGS.num_processes:
    if os.environ.get("JAX_PLATFORMS", "").startswith("cpu") or jax.config.jax_platforms == "cpu":
      jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(
      coordinator_address=FLAGS.coordinator_address,
      num_processes=FLAGS.num_processes,
      process_id=FLAGS.process_id,
    )
  elif FLAGS.distributed:
    jax.distributed.initialize()


def main(argv):
  parse(argv)
  init_distributed()
  from fnetlab.train.loop import train_and_evaluate

  results = train_and_evaluate(FLAGS.config, FLAGS.workdir)
  import jax

  if jax.process_index() == 0:
    print(json.dumps(results, indent=2, default=str))
  return 0
