"""The offline CPU suite's real-data tasks that LRA does not have (inputs in fnetlab/data/).

- `digits`: scikit-learn's 8x8 handwritten digits as 64 pixel ids, CLS + 64, 10 classes
  (fnetlab/data/digits.py): a small real image task in the style of LRA Image.
- `shakespeare_genre`: byte-level passages of the Folio plays, names and headers removed,
  labelled comedy / history / tragedy (fnetlab/data/shakespeare_docs.py): LRA Text's form.
- `shakespeare_match`: two such passages, same play or not, through one shared encoder
  (`DualClassifier`): LRA Retrieval's form.
- `fashion_mnist`: Fashion-MNIST as CLS + 784 pixel ids, 10 classes
  (fnetlab/data/fashion_mnist.py): LRA Image's form on real 28x28 images.
- `pathfinder_pooled`: Pathfinder images (fnetlab/data/pathfinder.py) max-pooled by
  `data.pool` per side before flattening (32x32 -> 16x16 = 256 pixels at pool 2), so a CPU
  budget reaches a regime where models leave chance; mean pooling, as LRA Pathfinder.

Models, losses and metrics are those of the LRA tasks (fnetlab/tasks/lra.py).

The shared model and budget of configs/suite/*.py are `fnetlab.config.apply_cpu_suite`.
"""

from __future__ import annotations

from fnetlab.common.errors import UserError
from fnetlab.data import digits, fashion_mnist, pooling, shakespeare_docs
from fnetlab.data import lra as lra_data
from fnetlab.models import Classifier, DualClassifier, spec_from_config
from fnetlab.tasks.base import Task, classification_task


def _width(config, what: str) -> int:
  if config.model.max_len < 2:
    raise UserError(f"config key model.max_len={config.model.max_len}: needs CLS + >= 1 {what}")
  return int(config.model.max_len) - 1


def build_digits(config) -> Task:
  if config.model.max_len < digits.SIDE**2 + 1:
    raise UserError(f"config key model.max_len={config.model.max_len}: digits need 65 (CLS + 64)")
  splits = digits.splits(int(config.data.split_seed))
  spec = spec_from_config(config.model, vocab_size=digits.VOCAB, num_classes=digits.NUM_CLASSES)
  return classification_task("digits", Classifier(spec), splits, {"data": "sklearn load_digits"})


def build_fashion_mnist(config) -> Task:
  needed = fashion_mnist.PIXELS + 1
  if config.model.max_len < needed:
    raise UserError(
      f"config key model.max_len={config.model.max_len}: Fashion-MNIST needs {needed} (CLS + 784)"
    )
  splits = fashion_mnist.splits(config.data)
  spec = spec_from_config(
    config.model, vocab_size=fashion_mnist.PIXEL_VOCAB + 1, num_classes=fashion_mnist.NUM_CLASSES
  )
  info = {"data_dir": config.data.dir or fashion_mnist.default_dir(), "source": config.data.source}
  return classification_task("fashion_mnist", Classifier(spec), splits, info)


def build_genre(config) -> Task:
  width = _width(config, "byte")
  splits = shakespeare_docs.genre_splits(width, int(config.data.split_seed))
  spec = spec_from_config(config.model, vocab_size=shakespeare_docs.VOCAB, num_classes=3)
  info = {"bytes": width, "labels": shakespeare_docs.GENRE_NAMES}
  return classification_task("shakespeare_genre", Classifier(spec), splits, info)


def build_match(config) -> Task:
  width = _width(config, "byte")
  splits = shakespeare_docs.match_splits(
    width, config.data.num_pairs.to_dict(), int(config.data.split_seed)
  )
  spec = spec_from_config(config.model, vocab_size=shakespeare_docs.VOCAB, num_classes=2)
  return classification_task("shakespeare_match", DualClassifier(spec), splits, {"bytes": width})


def build_pathfinder_pooled(config) -> Task:
  res, pool = int(config.data.resolution), int(config.data.pool)
  if pool < 1 or res % pool:
    raise UserError(f"config key data.pool={pool} must divide data.resolution={res}")
  side = res // pool
  if config.model.max_len < side * side:
    raise UserError(f"config key model.max_len={config.model.max_len}: needs {side * side}")
  root = lra_data.generated_pathfinder(config.data.generate.to_dict(), res, config.data.difficulty)
  full = lra_data.pathfinder_splits(root, res, config.data.difficulty, int(config.data.split_seed))
  splits = {k: pooling.MaxPooled(v, res, pool) for k, v in full.items()}
  spec = spec_from_config(config.model, vocab_size=lra_data.PIXEL_VOCAB, num_classes=2)
  info = {"data_dir": root, "resolution": res, "pool": pool, "difficulty": config.data.difficulty}
  return classification_task(f"pathfinder{res}_pool{pool}", Classifier(spec), splits, info)


BUILDERS = {
  "digits": build_digits,
  "fashion_mnist": build_fashion_mnist,
  "shakespeare_genre": build_genre,
  "shakespeare_match": build_match,
  "pathfinder_pooled": build_pathfinder_pooled,
}


def build(config) -> Task:
  if config.task not in BUILDERS:
    raise UserError(f"config key task={config.task!r}; this module builds {', '.join(BUILDERS)}")
  return BUILDERS[config.task](config)
