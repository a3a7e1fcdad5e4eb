"""Self-pretraining (SPT) on the training inputs of any encoder task's config.

  fnetlab train --config=configs/spt.py:configs/suite/digits.py:mixer=attention --workdir=runs/spt
  fnetlab train --config=configs/suite/digits.py:mixer=attention \
    --config.init_from=runs/spt@best --workdir=runs/spt_ft

The arg is the task's own config spec (`FILE[:ARG]`); every key of that config stays
overridable (`--config.train.steps=100`), plus `spt.mask_rate`. What the objective is, which
data it reads and which masking rate it uses: fnetlab/tasks/spt.py and docs/comparisons.md.
"""

from fnetlab.common import config as config_lib
from fnetlab.common.errors import UserError
from fnetlab.config import pretrain_config


def get_config(arg=None):
  if not arg:
    raise UserError("configs/spt.py needs the task's config as its arg: configs/spt.py:FILE[:ARG]")
  return pretrain_config(config_lib.load(arg))
