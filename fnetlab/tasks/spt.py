"""Self-pretraining (SPT): denoising a task's own training inputs before fine-tuning on it.

After Amos, Berant and Gupta, "Never Train from Scratch" (ICLR 2024): a model is first
trained to reconstruct the task's training inputs, with no labels and no other data, then
fine-tuned on the task from the pretraining's best-validation checkpoint (docs/comparisons.md).

  fnetlab train --config=configs/spt.py:configs/suite/digits.py --workdir=runs/spt
  fnetlab train --config=configs/suite/digits.py --config.init_from=runs/spt@best --workdir=runs/ft

`fnetlab.config.pretrain_config(config)` turns any classification config into its SPT config: `task="spt"`,
the original task in `spt.task`, and `spt.mask_rate`, the paper's rate for the task's kind
(`MASK_RATES`: 50% for images, 15% for text and retrieval, 10% for ListOps; 15% otherwise).
The best checkpoint is picked on the validation denoising loss (`train.best_metric=loss`,
`best_mode=min`).

The objective follows the model: masked prediction for a bidirectional encoder, next-token
prediction for a causal one (`model.causal`, or mixers that are causal by construction,
such as the WorkerTransformer layer); `fnetlab.models.Denoiser` says how masks are drawn.

Data: the `train` split of the task, its inputs only (`inputs`, `mask`, `type_ids`; labels are
dropped), in the usual (seed, step) order; `validation` is the task's validation split, used
only to pick the checkpoint. The task's test split is not a split of this task, so no test
input is ever read by pretraining.

Departure: [MASK] is one extra id after the task's vocabulary (`vocab_size + 1`); the
fine-tune's `init_from` copies the word table's first `vocab_size` rows (fnetlab/train/trainer.py).
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp
import ml_collections
import numpy as np
import optax

from fnetlab import mixers
from fnetlab.common.errors import UserError
from fnetlab.models import Classifier, Denoiser, DualClassifier, layer_mixers
from fnetlab.tasks.base import Task

INPUT_KEYS = ("inputs", "mask", "type_ids")


class InputsOnly:
  """A source's rows with only the model inputs (no labels)."""

  def __init__(self, source):
    self.source = source

  def __len__(self) -> int:
    return len(self.source)

  def batch(self, indices) -> dict[str, np.ndarray]:
    rows = self.source.batch(indices)
    return {k: v for k, v in rows.items() if k in INPUT_KEYS}


def is_causal(spec) -> bool:
  """Whether every position of the encoder sees only its past."""
  if spec.causal:
    return True
  return all(
    getattr(mixers.mixer_class(name), "always_causal", False) for name in layer_mixers(spec)
  )


def denoise_loss(out, batch):
  ce = optax.softmax_cross_entropy_with_integer_labels(out["logits"], out["targets"])
  w = out["weights"] * batch.get("weight", jnp.ones(ce.shape[:1], jnp.float32))[:, None]
  total = jnp.maximum(jnp.sum(w), 1.0)
  acc = (jnp.argmax(out["logits"], -1) == out["targets"]).astype(jnp.float32)
  return jnp.sum(ce * w) / total, {"accuracy": jnp.sum(acc * w) / total}


def denoise_predict(out, batch):
  ce = optax.softmax_cross_entropy_with_integer_labels(out["logits"], out["targets"])
  w = out["weights"]
  hit = (jnp.argmax(out["logits"], -1) == out["targets"]).astype(jnp.float32)
  return {"loss_sum": jnp.sum(ce * w, -1), "correct": jnp.sum(hit * w, -1), "count": w.sum(-1)}


def denoise_metrics(arrays):
  count = max(float(np.sum(arrays["count"])), 1.0)
  return {
    "loss": float(np.sum(arrays["loss_sum"])) / count,
    "accuracy": float(np.sum(arrays["correct"])) / count,
    "predicted": count,
  }


def build(config) -> Task:
  from fnetlab import tasks  # the wrapped task's builder

  if "spt" not in config:
    raise UserError("config: task=spt needs an spt block (make it with configs/spt.py)")
  rate = float(config.spt.mask_rate)
  if not 0.0 < rate < 1.0:
    raise UserError(f"config key spt.mask_rate={rate} must lie in (0, 1)")
  inner = ml_collections.ConfigDict(config.to_dict())
  inner.task = config.spt.task
  base = tasks.build(inner)
  if not isinstance(base.model, Classifier | DualClassifier):
    raise UserError(f"task {base.name}: self-pretraining needs an encoder classification task")
  spec = base.model.spec
  causal = is_causal(spec)
  model = Denoiser(
    dataclasses.replace(spec, vocab_size=spec.vocab_size + 1),
    mask_rate=rate,
    mask_id=spec.vocab_size,
    causal=causal,
  )
  splits = {k: InputsOnly(base.splits[k]) for k in ("train", "validation")}
  info = {
    "task": base.name,
    "objective": "next-token" if causal else "masked",
    "mask_rate": None if causal else rate,
  }
  return Task(
    name=f"spt_{base.name}",
    model=model,
    splits=splits,
    loss_fn=denoise_loss,
    predict_fn=denoise_predict,
    metrics_fn=denoise_metrics,
    info=info,
  )
