"""Long Range Arena Text, Retrieval, Image, Pathfinder and Path-X (Tay et al. 2020).

Inputs come from `fnetlab.data.lra` (the official encodings and splits, and where ours
depart from them); this module holds the models, losses and metrics:
- `text`: byte-level IMDB, CLS + `model.max_len - 1` bytes (the official `max_length`; one
  position is the CLS token), binary sentiment; validation is the test split, as officially.
- `retrieval`: AAN pairs, each document `model.max_len` bytes with no CLS token, as the
  official matching model (`data.cls=true`: CLS + `model.max_len - 1` bytes), two towers
  sharing one encoder (`DualClassifier`).
- `image`: grayscale CIFAR-10, CLS + 1024 pixel ids, 10 classes.
- `pathfinder` / `pathx`: `res*res` pixel ids, mean pooling (no CLS), binary label; with no
  `data.dir` the seeded generator writes the official layout into the cache
  (`$FNETLAB_CACHE`) once.
- `data.mask_zero_pixels=true` (image tasks) gives the model the official `inputs > 0` mask,
  which hides black pixels (docs/fidelity.md says why it is off by default).

tfds is used through `tfds.data_source` (array_record; no TensorFlow needed) with
`download=False`: these tasks never download.

LRA's `qkv_dim` (narrower than `d_model` for Image / Pathfinder / Path-X) is part of each
config's `lra` size (`model.qkv_dim`), and the attention-probability dropout is
`model.attention_dropout`: model fields that every attention layer takes (hybrid layers
included; the attention dropout also reaches LSRA's attention half and the worker layer), so
`--config.model.mixer=...` overrides and mixer sweeps stay valid.
"""

from __future__ import annotations

import os

from fnetlab.common.errors import UserError
from fnetlab.data import lra as data
from fnetlab.data import pathfinder
from fnetlab.models import Classifier, DualClassifier, spec_from_config
from fnetlab.tasks.base import Task, classification_task


def _check_length(config, needed: int, what: str) -> None:
  if config.model.max_len < needed:
    raise UserError(
      f"config key model.max_len={config.model.max_len} is shorter than the {needed} "
      f"positions {what} needs"
    )


def _byte_width(config, cls: bool = True) -> int:
  if config.model.max_len < 1 + cls:
    raise UserError(f"config key model.max_len={config.model.max_len}: needs CLS + >= 1 byte")
  return config.model.max_len - cls  # with a CLS token, one position is the CLS


# ----------------------------------------------------------------------------- builders


def build_text(config) -> Task:
  """Byte-level IMDB: CLS + bytes, binary sentiment; validation is the test split."""
  width = _byte_width(config)
  splits = data.imdb_splits(config.data.dir, width)
  spec = spec_from_config(config.model, vocab_size=data.BYTE_VOCAB + 1, num_classes=2)
  info = {"data_dir": config.data.dir or "tfds default", "bytes": width}
  return classification_task("text", Classifier(spec), splits, info)


def build_image(config) -> Task:
  """Grayscale CIFAR-10: CLS + 1024 pixel ids, 10 classes."""
  _check_length(config, 1025, "CLS + 1024 CIFAR-10 pixels")
  splits = data.cifar10_splits(config.data.dir, bool(config.data.get("mask_zero_pixels", False)))
  spec = spec_from_config(config.model, vocab_size=data.PIXEL_VOCAB + 1, num_classes=10)
  info = {"data_dir": config.data.dir or "tfds default"}
  return classification_task("image", Classifier(spec), splits, info)


def build_retrieval(config) -> Task:
  """AAN pairs: two byte documents (official: no CLS) through one shared encoder, binary label."""
  cls = bool(config.data.get("cls", False))
  width = _byte_width(config, cls)
  splits, documents = data.retrieval_splits(config.data.dir, width, cls)
  spec = spec_from_config(config.model, vocab_size=data.BYTE_VOCAB + cls, num_classes=2)
  info = {"data_dir": os.path.expanduser(config.data.dir), "documents": documents, "bytes": width}
  return classification_task("retrieval", DualClassifier(spec), splits, info)


def build_pathfinder(config) -> Task:
  """Pathfinder / Path-X: res*res pixel ids, mean pooling, binary label."""
  res, difficulty = int(config.data.resolution), config.data.difficulty
  if res not in pathfinder.RESOLUTIONS:
    raise UserError(
      f"config key data.resolution={res}; valid: {', '.join(map(str, pathfinder.RESOLUTIONS))}"
    )
  try:
    pathfinder.difficulty_folder(difficulty)
  except ValueError as e:
    raise UserError(f"config key data.difficulty: {e}") from None
  _check_length(config, res * res, f"{res}x{res} pixels")
  root = (
    os.path.expanduser(config.data.dir)
    if config.data.dir
    else data.generated_pathfinder(config.data.generate.to_dict(), res, difficulty)
  )
  splits = data.pathfinder_splits(
    root,
    res,
    difficulty,
    int(config.data.split_seed),
    bool(config.data.get("mask_zero_pixels", False)),
  )
  spec = spec_from_config(config.model, vocab_size=data.PIXEL_VOCAB, num_classes=2)
  name = config.task if config.task == "pathx" or res == 32 else f"pathfinder{res}"
  info = {"data_dir": str(root), "resolution": res, "difficulty": difficulty}
  return classification_task(name, Classifier(spec), splits, info)


BUILDERS = {
  "text": build_text,
  "retrieval": build_retrieval,
  "image": build_image,
  "pathfinder": build_pathfinder,
  "pathx": build_pathfinder,
}


def build(config) -> Task:
  """The Task for `config.task` in text | retrieval | image | pathfinder | pathx."""
  if config.task not in BUILDERS:
    raise UserError(f"config key task={config.task!r}; this module builds {', '.join(BUILDERS)}")
  return BUILDERS[config.task](config)
