"""A synthetic task: random token ids in a real model, for `fnetlab bench` and tests.

`data.kind` picks the model and the loss, both the ones real tasks use:
- `classify`: a `Classifier` (encoder + pooler/head) with random labels and the
  classification loss of every encoder task (fnetlab/tasks/base.py);
- `lm`: a causal `Decoder` with the next-token loss of the language-model task (fnetlab/tasks/lm.py,
  including its worker-positions metric for a WorkerTransformer).

Every split holds `data.num_examples` rows of `data.seq_len` ids (0: `model.max_len`) drawn
uniformly from `model.vocab_size` by a generator seeded with (config.seed, split), so the task
is a pure function of its config. Every token is real (no padding mask), and the labels carry
no signal: the metrics mean nothing, but a train step does exactly the work of a real run at
the same shapes.
"""

from __future__ import annotations

import numpy as np

from fnetlab.common.errors import UserError
from fnetlab.data.sources import ArraySource
from fnetlab.models import Classifier, Decoder, spec_from_config
from fnetlab.tasks import lm
from fnetlab.tasks.base import (
  Task,
  classification_loss,
  classification_metrics,
  classification_predict,
)

KINDS = ("classify", "lm")
SPLIT_SEEDS = {"train": 0, "validation": 1}


def random_split(kind: str, spec, rows: int, seq_len: int, seed: int, split: str) -> ArraySource:
  """`rows` random examples: ids [rows, seq_len] and a label per row (classify) or a target id
  per position (lm)."""
  rng = np.random.default_rng([seed, SPLIT_SEEDS[split]])
  inputs = rng.integers(0, spec.vocab_size, (rows, seq_len), dtype=np.int32)
  if kind == "classify":
    labels = rng.integers(0, max(spec.num_classes, 2), (rows,), dtype=np.int32)
    return ArraySource({"inputs": inputs, "label": labels})
  targets = rng.integers(0, spec.vocab_size, (rows, seq_len), dtype=np.int32)
  return ArraySource({"inputs": inputs, "targets": targets})


def model_spec(config):
  """The ModelSpec of `config`'s model (causal for `data.kind='lm'`); UserError naming the key."""
  kind = config.data.get("kind", "classify")
  if kind not in KINDS:
    raise UserError(f"config key data.kind={kind!r}; valid: {', '.join(KINDS)}")
  return lm.causal_spec(config.model) if kind == "lm" else spec_from_config(config.model)


def build(config) -> Task:
  data = config.data
  spec = model_spec(config)
  kind = data.get("kind", "classify")
  rows = int(data.get("num_examples", 0) or 0) or int(config.train.batch_size)
  seq_len = int(data.get("seq_len", 0) or 0) or int(config.model.max_len)
  if spec.resolved_positions == "learned" and seq_len > spec.max_len:
    raise UserError(f"config key data.seq_len={seq_len} exceeds model.max_len={spec.max_len}")
  splits = {s: random_split(kind, spec, rows, seq_len, config.seed, s) for s in SPLIT_SEEDS}
  if kind == "classify":
    model = Classifier(spec)
    loss_fn, predict_fn, metrics_fn = (
      classification_loss,
      classification_predict,
      classification_metrics,
    )
  else:
    model = Decoder(spec)
    loss_fn, predict_fn, metrics_fn = lm.make_fns(lm.worker_interval(spec))
  return Task(
    name=f"synthetic/{kind}",
    model=model,
    splits=splits,
    loss_fn=loss_fn,
    predict_fn=predict_fn,
    metrics_fn=metrics_fn,
    info={"kind": kind, "seq_len": seq_len},
  )
