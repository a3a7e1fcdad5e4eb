"""What a task gives the training loop: a model, data splits, a loss and host-side metrics.

The splits are random-access sources from `fnetlab.data` (`len`, `batch(indices)`); the
order the loop reads them in is `fnetlab.data.sources.train_indices`, a pure function of
(seed, step).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jax.numpy as jnp
import numpy as np
import optax
from flax import linen as nn

from fnetlab.data.sources import first_batch


@dataclasses.dataclass
class Task:
  """A task: model + splits + loss + metrics. Loss/metrics are weighted by batch['weight']."""

  name: str
  model: nn.Module
  splits: dict[str, Any]  # 'train', 'validation', 'test' -> source
  loss_fn: Callable  # (outputs, batch) -> (scalar loss, dict of scalar metrics)
  predict_fn: Callable  # (outputs, batch) -> dict of per-example arrays for host metrics
  metrics_fn: Callable  # (dict of concatenated per-example arrays) -> dict of floats
  info: dict = dataclasses.field(default_factory=dict)  # e.g. vocab, label names

  def example_batch(self, batch_size: int) -> dict[str, np.ndarray]:
    return first_batch(self.splits["train"], batch_size)


def weighted_mean(values, weight):
  return jnp.sum(values * weight) / jnp.maximum(jnp.sum(weight), 1.0)


def classification_loss(logits, batch):
  labels = batch["label"]
  weight = batch.get("weight", jnp.ones(labels.shape, jnp.float32))
  ce = optax.softmax_cross_entropy_with_integer_labels(logits.astype(jnp.float32), labels)
  acc = (jnp.argmax(logits, -1) == labels).astype(jnp.float32)
  return weighted_mean(ce, weight), {"accuracy": weighted_mean(acc, weight)}


def classification_predict(logits, batch):
  return {
    "pred": jnp.argmax(logits, -1),
    "label": batch["label"],
    "loss": optax.softmax_cross_entropy_with_integer_labels(
      logits.astype(jnp.float32), batch["label"]
    ),
  }


def classification_metrics(arrays):
  """Accuracy and mean loss, and `examples`, the count they are measured on (for the
  evaluation's standard error in reports)."""
  return {
    "accuracy": float(np.mean(arrays["pred"] == arrays["label"])),
    "loss": float(np.mean(arrays["loss"])),
    "examples": float(len(arrays["label"])),
  }


def classification_task(name: str, model, splits: dict, info: dict) -> Task:
  """A Task with the classification loss/predict/metrics; an empty split is a UserError."""
  from fnetlab.common.errors import UserError

  for split, src in splits.items():
    if len(src) == 0:
      where = f" ({info['data_dir']})" if info.get("data_dir") else ""
      raise UserError(f"task {name}: the {split} split is empty{where}")
  return Task(
    name=name,
    model=model,
    splits=splits,
    loss_fn=classification_loss,
    predict_fn=classification_predict,
    metrics_fn=classification_metrics,
    info=info,
  )
