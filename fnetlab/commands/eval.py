"""`fnetlab eval`: restore a workdir's checkpoint with Orbax and evaluate it.

  fnetlab eval --workdir=runs/lo [--step=latest|best|N] [--split=validation|test|...]

`--split` is any split the task has (e.g. GLUE MNLI's `validation_mismatched`).

The config comes from the workdir's config.json, so the data and model are rebuilt exactly as
trained. Prints the metrics and writes DIR/eval_<split>_<step>.json.
"""

from __future__ import annotations

import json
import os

import jax
import ml_collections
from absl import flags

from fnetlab.cli import parse_flags
from fnetlab.errors import UserError

FLAGS = flags.FlagValues()  # its own, so it never clashes with `train`'s flags
flags.DEFINE_string("workdir", None, "Workdir written by `fnetlab train`.", flag_values=FLAGS)
flags.DEFINE_string("step", "latest", "latest | best | an integer step", flag_values=FLAGS)
flags.DEFINE_string(
  "split",
  "validation",
  "A split of the task: validation | test | validation_mismatched (MNLI) ...",
  flag_values=FLAGS,
)


def evaluate_workdir(workdir: str, step: str | int = "latest", split: str = "validation") -> dict:
  from fnetlab.train import checkpoints
  from fnetlab.train.loop import Trainer, write_json

  config = ml_collections.ConfigDict(checkpoints.read_config(workdir))
  trainer = Trainer(config, workdir)
  if split not in trainer.task.splits:  # before the (slow) restore
    raise UserError(
      f"--split={split}: task {trainer.task.name} has splits {', '.join(trainer.task.splits)}"
    )
  with checkpoints.manager(workdir, create=False, async_save=False) as mngr:
    resolved = checkpoints.resolve_step(mngr, step, workdir)
    try:
      state, _ = trainer.restore(mngr, resolved)
    except Exception as e:  # damaged files surface as many exception types
      raise UserError(
        f"checkpoint {checkpoints.checkpoint_dir(workdir)}/{resolved} is unreadable: {str(e).splitlines()[0][:200]}"
      ) from None
  metrics = trainer.evaluate(state["params"], split)
  result = {"workdir": workdir, "step": resolved, "split": split, "metrics": metrics}
  if jax.process_index() == 0:
    write_json(os.path.join(workdir, f"eval_{split}_{resolved}.json"), result)
  return result


def main(argv):
  parse_flags(FLAGS, argv, required=("workdir",))
  print(json.dumps(evaluate_workdir(FLAGS.workdir, FLAGS.step, FLAGS.split), indent=2))
  return 0
