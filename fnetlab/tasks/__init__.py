"""Task registry: `build(config)` -> fnetlab.tasks.base.Task. Modules are imported lazily."""

from __future__ import annotations

import importlib

from fnetlab.common.errors import UserError

TASKS = {
  "listops": "fnetlab.tasks.listops",
  "text": "fnetlab.tasks.lra",
  "retrieval": "fnetlab.tasks.lra",
  "image": "fnetlab.tasks.lra",
  "pathfinder": "fnetlab.tasks.lra",
  "pathx": "fnetlab.tasks.lra",
  "glue": "fnetlab.tasks.glue",
  "pretrain": "fnetlab.tasks.pretrain",
  "spt": "fnetlab.tasks.spt",  # self-pretraining on another task's inputs (configs/spt.py)
  "lm": "fnetlab.tasks.lm",
  "synthetic": "fnetlab.tasks.synthetic",  # random ids; what `fnetlab bench` trains on
  # The offline CPU suite's real-data tasks (configs/suite/)
  "digits": "fnetlab.tasks.suite",
  "fashion_mnist": "fnetlab.tasks.suite",
  "shakespeare_genre": "fnetlab.tasks.suite",
  "shakespeare_match": "fnetlab.tasks.suite",
  "pathfinder_pooled": "fnetlab.tasks.suite",
}


def build(config):
  """The Task for `config.task`; UserError naming the valid tasks."""
  if config.task not in TASKS:
    raise UserError(f"config key task={config.task!r}; valid tasks: {', '.join(sorted(TASKS))}")
  return importlib.import_module(TASKS[config.task]).build(config)
