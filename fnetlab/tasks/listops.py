"""LRA ListOps (Tay et al. 2020): 10-way classification of nested list operations.

Reads the official `basic_{train,val,test}.tsv` from `config.data.dir`; with no dir it
generates them (seeded, faithful generator in fnetlab/data/listops.py) into a cache folder
keyed by the generator settings, the embedded offline default. A CLS token (id = vocab size)
is prepended for CLS pooling, as LRA's encoder does with its learned CLS embedding.
"""

from __future__ import annotations

import os

import numpy as np

from fnetlab.data import listops
from fnetlab.errors import UserError
from fnetlab.models import Classifier, spec_from_config
from fnetlab.tasks.base import (
  ArraySource,
  Task,
  classification_loss,
  classification_metrics,
  classification_predict,
  generate_once,
)

CLS_ID = listops.VOCAB_SIZE
SPLIT_FILES = {"train": "train", "validation": "val", "test": "test"}


def generated_dir(gen: dict) -> str:
  """Generates (once) the ListOps TSVs for generator settings `gen`; returns the folder."""
  return generate_once(
    "listops",
    gen,
    lambda out: all(os.path.exists(listops.split_path(out, s)) for s in listops.SPLITS),
    lambda tmp: listops.write_tsv(tmp, listops.generate_splits(**gen)),
  )


def encode_split(texts, labels, max_len: int) -> ArraySource:
  ids = listops.encode(texts, max_len - 1)
  ids = np.concatenate([np.full((len(ids), 1), CLS_ID, np.int32), ids], axis=1)
  return ArraySource(
    {"inputs": ids, "mask": ids != listops.PAD_ID, "label": labels.astype(np.int32)}
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
    data_dir = generated_dir(config.data.generate.to_dict())
  raw = listops.load_splits(data_dir)
  splits = {name: encode_split(*raw[f], config.model.max_len) for name, f in SPLIT_FILES.items()}
  spec = spec_from_config(config.model, vocab_size=listops.VOCAB_SIZE + 1, num_classes=10)
  return Task(
    name="listops",
    model=Classifier(spec),
    splits=splits,
    loss_fn=classification_loss,
    predict_fn=classification_predict,
    metrics_fn=classification_metrics,
    info={"data_dir": data_dir},
  )
