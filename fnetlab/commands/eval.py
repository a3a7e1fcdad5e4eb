"""`fnetlab eval`: restore a workdir's checkpoint with Orbax and evaluate it.

  fnetlab eval --workdir=runs/lo [--step=latest|best|N] [--split=validation|test|...] \\
      [--max_examples=all|N]

`--split` is any split the task has (e.g. GLUE MNLI's `validation_mismatched`). The config
comes from the workdir's config.json, so the data and model are rebuilt exactly as trained
(`--config.*` overrides are refused). `--max_examples` evaluates the first N examples of the
split, or all of them (`all` or -1); by default as many as training evaluated
(`train.max_eval_examples`, which a `runlocal` config caps at 256). Prints the metrics and
writes WORKDIR/eval_<split>_<step>.json. A damaged checkpoint is a one-line error; nothing is
written and the checkpoint is left as it is.
"""

from __future__ import annotations

import json

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
  Flag(
    "max_examples",
    "Examples of the split to evaluate: N, or all (also -1); default: the run's "
    "train.max_eval_examples.",
  ),
)


def max_examples_of(text) -> int | None:
  """--max_examples: None (the run's own setting), -1 for `all`/-1, else N >= 1."""
  if text is None or text == "":
    return None
  if str(text).strip().lower() in ("all", "-1"):
    return -1
  try:
    n = int(text)
  except ValueError:
    n = 0
  if n < 1:
    raise UserError(f"--max_examples={text!r}: expected all, -1 or an integer >= 1")
  return n


def evaluate_workdir(
  workdir: str, step: str | int = "latest", split: str = "validation", max_examples=None
) -> dict:
  """Restores `step` of `workdir` and evaluates `split` (its first `max_examples` examples;
  -1: all; None: as in training); writes eval_<split>_<step>.json and returns it."""
  import jax
  import ml_collections

  from fnetlab.common import checkpoints
  from fnetlab.common import workdir as files
  from fnetlab.train.trainer import Trainer

  config = ml_collections.ConfigDict(files.read_config(workdir))
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
  limit = config.train.max_eval_examples if max_examples is None else max_examples
  metrics = trainer.evaluate(state["params"], split, limit)
  result = {
    "workdir": workdir,
    "step": resolved,
    "split": split,
    "max_examples": int(limit),
    "metrics": metrics,
  }
  if jax.process_index() == 0:
    files.write_eval(workdir, result)
  return result


def main(argv) -> int:
  args = parse("eval", __doc__, FLAGS, argv)
  limit = max_examples_of(args.max_examples)
  print(json.dumps(evaluate_workdir(args.workdir, args.step, args.split, limit), indent=2))
  return 0
