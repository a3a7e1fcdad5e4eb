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

`apply_cpu_suite`, the shared model and budget of configs/suite/*.py:
One block, one size and one optimiser for every mixer of a task, so that within a task the
mixers differ in the mixing sublayer alone:
- `block='fnet'` (the default): the FNet paper's encoder, which `fnetlab.config.base` sets
  up (post-LayerNorm blocks, embeddings with LayerNorm and projection, N(0, 0.02²) token and
  position tables, tanh pooler), at the `tiny` size (2 layers, d 64, d_ff 128, 2 heads);
  `block='lra'` puts every mixer in the official LRA Transformer block instead
  (`fnetlab.models.LRA_ENCODER`: pre-LayerNorm, N(0, 1) token table, LRA head).
  On digits at 200 steps the LRA block learned much more slowly (validation accuracy, FNet block vs LRA block:
  fourier 0.76 vs 0.25, attention 0.32 vs 0.26; one seed each, 2026-11-30). Likely causes:
  its N(0, 1) token embedding swamps the N(0, 0.02²) positions, and the unnormalised FFT adds
  O(sqrt(N·d)) to a pre-LN residual stream. So the suite uses the FNet block;
- no dropout (budgets of a few hundred steps);
- AdamW (0.9, 0.98, 1e-9), linear warmup over 10% of the steps then linear decay, weight
  decay 0.01, global-norm clipping 1.0, and one peak learning rate per task for every mixer,
  not tuned per mixer (a mixer that would prefer another rate is disadvantaged);
- evaluation on the whole validation and test splits (`max_eval_examples=-1`).

These are CPU-scale settings chosen to fit this 2-core machine; results on them are a
CPU-scale suite, not LRA numbers.
"""

from __future__ import annotations

import ml_collections

from fnetlab.common.errors import UserError
from fnetlab.data import digits, fashion_mnist, pooling, shakespeare_docs
from fnetlab.data import lra as lra_data
from fnetlab.models import Classifier, DualClassifier
from fnetlab.tasks.base import Task, classification_task
from fnetlab.tasks.lra import model_spec


def _width(config, what: str) -> int:
  if config.model.max_len < 2:
    raise UserError(f"config key model.max_len={config.model.max_len}: needs CLS + >= 1 {what}")
  return int(config.model.max_len) - 1


def build_digits(config) -> Task:
  if config.model.max_len < digits.SIDE**2 + 1:
    raise UserError(f"config key model.max_len={config.model.max_len}: digits need 65 (CLS + 64)")
  splits = digits.splits(int(config.data.split_seed))
  spec = model_spec(config, vocab_size=digits.VOCAB, num_classes=digits.NUM_CLASSES)
  return classification_task("digits", Classifier(spec), splits, {"data": "sklearn load_digits"})


def build_fashion_mnist(config) -> Task:
  needed = fashion_mnist.PIXELS + 1
  if config.model.max_len < needed:
    raise UserError(
      f"config key model.max_len={config.model.max_len}: Fashion-MNIST needs {needed} (CLS + 784)"
    )
  splits = fashion_mnist.splits(config.data)
  spec = model_spec(
    config, vocab_size=fashion_mnist.PIXEL_VOCAB + 1, num_classes=fashion_mnist.NUM_CLASSES
  )
  info = {"data_dir": config.data.dir or fashion_mnist.default_dir(), "source": config.data.source}
  return classification_task("fashion_mnist", Classifier(spec), splits, info)


def build_genre(config) -> Task:
  width = _width(config, "byte")
  splits = shakespeare_docs.genre_splits(width, int(config.data.split_seed))
  spec = model_spec(config, vocab_size=shakespeare_docs.VOCAB, num_classes=3)
  info = {"bytes": width, "labels": shakespeare_docs.GENRE_NAMES}
  return classification_task("shakespeare_genre", Classifier(spec), splits, info)


def build_match(config) -> Task:
  width = _width(config, "byte")
  splits = shakespeare_docs.match_splits(
    width, config.data.num_pairs.to_dict(), int(config.data.split_seed)
  )
  spec = model_spec(config, vocab_size=shakespeare_docs.VOCAB, num_classes=2)
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
  spec = model_spec(config, vocab_size=lra_data.PIXEL_VOCAB, num_classes=2)
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


BLOCKS = ("fnet", "lra")


def apply_cpu_suite(
  c: ml_collections.ConfigDict, steps: int, lr: float, batch: int = 32, block: str = "fnet"
) -> None:
  """Sets the suite's block, size, optimiser, budget and evaluation on config `c` in place."""
  if block not in BLOCKS:
    raise ValueError(f"config arg block={block!r}; valid: {', '.join(BLOCKS)}")
  if block == "lra":
    from fnetlab.models import LRA_ENCODER

    c.model.update(LRA_ENCODER)
    c.model.attention_dropout = 0.0
  c.model.size = "tiny"
  for key in ("num_layers", "d_model", "d_ff", "num_heads"):
    c.model[key] = None  # dimensions come from the tiny size
  c.model.dropout_rate = 0.0
  c.train.steps = steps
  c.train.batch_size = batch
  c.train.eval_batch_size = 128
  c.train.log_every = max(steps // 20, 1)  # 20 points per learning curve
  c.train.eval_every = max(steps // 4, 1)
  c.train.checkpoint_every = steps  # one checkpoint, at the end
  c.train.max_eval_examples = -1  # the whole split
  c.train.async_checkpoints = False
  c.optim.lr = lr
  c.optim.schedule = "linear"
  c.optim.warmup_steps = max(steps // 10, 1)
  c.optim.weight_decay = 0.01
  c.optim.b1, c.optim.b2, c.optim.eps = 0.9, 0.98, 1e-9
  c.optim.clip_norm = 1.0
