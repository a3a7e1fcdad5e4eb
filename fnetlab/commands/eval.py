"""`fnetlab eval`: restore a workdir's checkpoint with Orbax and evaluate it.

  fnetlab eval --workdir=runs/lo [--step=latest|best|N] [--split=validation|test|...]

`--split` is any split the task has (e.g. GLUE MNLI's `validation_mismatched`). The config
comes from the workdir's config.json, so the data and model are rebuilt exactly as trained.
Prints the metrics and writes WORKDIR/eval_<split>_<step>.json. A damaged checkpoint is a
one-line error; nothing is written and the checkpoint is left as it is.
"""

from __future__ import annotations

import json
import os

from fnetlab.common.errors import UserError
from fnetlab.common.flags import Flag, parse

FLAGS = (
  Flag("workdir", "Workdir written by `fnetlab train`.", required=True),
  Flag("step", "Checkpoint to restore: latest | best | an integer step.", "latest"),
  Flag(
    "split",
    "A split of the task: validation | test | validation_mismatched (MNLI) ...",
    "validation",
  ),
)


def evaluate_workdir(workdir: str, step: str | int = "latest", split: str = "validation") -> dict:
  import jax
  import ml_collections

  from fnetlab.common import checkpoints
  from fnetlab.common.io import write_json
  from fnetlab.train.trainer import Trainer

  config = ml_collections.ConfigDict(checkpoints.read_config(workdir))
  trainer = Trainer(config, workdir)
  if split not in trainer.task.splits:  # before the (slow) restore
    raise UserError(
      f"--split={split}: task {trainer.task.name} has splits {', '.join(trainer.task.splits)}"
    )
  with checkpoints.manager(workdir, create=False, async_save=False) as mngr:
    resolved = checkpoints.resolve_step(mngr, step, workdir)
    try:
      with checkpoints.quiet_io():
        state, _ = trainer.restore(mngr, resolved)
    except Exception as e:  # damaged files surface as many exception types
      raise checkpoints.unreadable(workdir, resolved, e) from None
  metrics = trainer.evaluate(state["params"], split)
  result = {"workdir": workdir, "step": resolved, "split": split, "metrics": metrics}
  if jax.process_index() == 0:
    write_json(os.path.join(workdir, f"eval_{split}_{resolved}.json"), result)
  return result


def main(argv) -> int:
  args = parse("eval", __doc__, FLAGS, argv)
  print(json.dumps(evaluate_workdir(args.workdir, args.step, args.split), indent=2))
  return 0
