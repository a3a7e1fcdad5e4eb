"""LRA ListOps (Tay et al. 2020): 10-way classification of nested list operations.

Reads the official `basic_{train,val,test}.tsv` from `config.data.dir`; with no dir it
generates them (seeded, faithful generator in fnetlab/data/listops.py) into a cache folder
keyed by the generator settings, the embedded offline default. A CLS token (id = vocab size)
is prepended for CLS pooling, as LRA's encoder does with its learned CLS embedding, so
`model.max_len` counts it: 2001 in the LRA config, the official 2000 tokens plus CLS.
"""

from __future__ import annotations

import os

from fnetlab.common.errors import UserError
from fnetlab.data import listops
from fnetlab.models import Classifier, spec_from_config
from fnetlab.tasks.base import (
  Task,
  classification_loss,
  classification_metrics,
  classification_predict,
)


def build(config) -> Task:
  data_dir = config.data.dir
  if data_dir:
    if not os.path.isdir(data_dir):
      raise UserError(
        f"config key data.dir: {data_dir} does not exist; "
        "generate ListOps with `fnetlab data listops --out=DIR` or leave data.dir empty"
      )
  else:
    data_dir = listops.generated_dir(config.data.generate.to_dict())
  splits = listops.load_sources(data_dir, config.model.max_len)
  spec = spec_from_config(config.model, vocab_size=listops.CLS_ID + 1, num_classes=10)
  return Task(
    name="listops",
    model=Classifier(spec),
    splits=splits,
    loss_fn=classification_loss,
    predict_fn=classification_predict,
    metrics_fn=classification_metrics,
    info={"data_dir": data_dir},
  )
