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
    raise UserError(one_line(str(e))) from None
  except (KeyError, AttributeError, TypeError, ValueError) as e:
    # ml_collections reports bad overrides (unknown key, wrong type) as these.
    detail = one_line(str(e.args[0] if e.args else e))
    overrides = [a.split("=")[0] for a in argv if a.startswith("--config.")]
    named = [k for k in overrides if any(part and part in detail for part in k.split(".")[1:])]
    key = (named or overrides or ["--config"])[-1]
    if isinstance(e, KeyError) or "Did you mean" in detail:
      hint = detail.split("Did you mean", 1)
      detail = "unknown key" + (f"; did you mean{hint[1]}" if len(hint) > 1 else "")
    raise UserError(f"bad config override {key}: {detail}") from None
  missing = [f"--{name}" for name in required if getattr(FLAGS, name) is None]
  if missing:
    raise UserError(f"missing required flag(s): {', '.join(missing)}")


def one_line(text: str) -> str:
  """Collapses an absl/ml_collections message to one line; keeps a traceback's final message."""
  if "Traceback (most recent call last)" in text:
    prefix = text.split("Traceback")[0].strip()
    last = [ln for ln in text.strip().splitlines() if ln.strip()][-1]
    text = f"{prefix} {last.split(': ', 1)[-1]}"
  return " ".join(text.replace("\\'", "'").replace("\\n", " ").strip("'\" ").split())


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
