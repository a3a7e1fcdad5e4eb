"""What a task gives the training loop: a model, data splits, a loss and host-side metrics.

Data splits are random-access sources (`len`, `batch(indices)`), the interface of
`tfds.data_source` and grain's MapDataset. The training order is a pure function of
(seed, step): example g = step * batch + j is position g mod n of the epoch-(g // n)
permutation. The iterator's checkpointable state is therefore just the step, and a resumed
run sees exactly the batches an uninterrupted one would. Each process reads only its own
slice of every global batch.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import linen as nn


class ArraySource:
  """An in-memory split: a dict of equal-length numpy arrays."""

  def __init__(self, arrays: dict[str, np.ndarray]):
    lengths = {k: len(v) for k, v in arrays.items()}
    if len(set(lengths.values())) != 1:
      raise ValueError(f"split arrays differ in length: {lengths}")
    self.arrays = arrays
    self._n = next(iter(lengths.values()))

  def __len__(self) -> int:
    return self._n

  def batch(self, indices: np.ndarray) -> dict[str, np.ndarray]:
    return {k: v[indices] for k, v in self.arrays.items()}

  def __getitem__(self, i: int) -> dict[str, np.ndarray]:
    return {k: v[i] for k, v in self.arrays.items()}


def train_indices(n: int, seed: int, step: int, global_batch: int) -> np.ndarray:
  """Indices of the global batch at `step`: epoch-wise permutations seeded by (seed, epoch)."""
  g = step * global_batch + np.arange(global_batch)
  epochs, pos = np.divmod(g, n)
  out = np.empty(global_batch, np.int64)
  for e in np.unique(epochs):
    perm = np.random.default_rng([seed, int(e)]).permutation(n)
    sel = epochs == e
    out[sel] = perm[pos[sel]]
  return out


def local_slice(global_batch: int) -> slice:
  """This process's rows of a global batch."""
  per = global_batch // jax.process_count()
  start = jax.process_index() * per
  return slice(start, start + per)


def eval_batches(source, batch_size: int, limit: int = -1):
  """Sequential global batches over a split; the last is padded, with `weight` 0 on padding."""
  n = len(source) if limit < 0 else min(limit, len(source))
  for start in range(0, n, batch_size):
    idx = np.arange(start, start + batch_size)
    weight = (idx < n).astype(np.float32)
    batch = source.batch(np.minimum(idx, n - 1))
    batch["weight"] = weight
    yield batch


@dataclasses.dataclass
class Task:
  """A task: model + splits + loss + metrics. Loss/metrics are weighted by batch['weight']."""

  name: str
  model: nn.Module
  splits: dict[str, Any]  # 'train', 'validation', 'test' -> source
  loss_fn: Callable  # (outputs, batch) -> (scalar loss, dict of scalar metrics)
  predict_fn: Callable  # (outputs, batch) -> dict of per-example arrays for host metrics
  metrics_fn: Callable  # (dict of concatenated per-example arrays) -> dict of floats
  best_metric: str = "accuracy"
  info: dict = dataclasses.field(default_factory=dict)  # e.g. vocab, label names

  def example_batch(self, batch_size: int) -> dict[str, np.ndarray]:
    src = self.splits["train"]
    batch = src.batch(np.arange(batch_size) % len(src))
    batch["weight"] = np.ones(batch_size, np.float32)
    return batch


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
  return {
    "accuracy": float(np.mean(arrays["pred"] == arrays["label"])),
    "loss": float(np.mean(arrays["loss"])),
  }


def cache_root() -> str:
  """Where offline data sets are generated: $FNETLAB_CACHE or ~/.cache/fnetlab."""
  default = os.path.join(os.path.expanduser("~"), ".cache", "fnetlab")
  return os.environ.get("FNETLAB_CACHE", default)


def generate_once(kind: str, settings: dict, is_complete, write) -> str:
  """The cache folder for generator `settings`; `write(tmp_dir)` fills it the first time.

  The folder is keyed by a hash of the settings, written under a temporary name and renamed,
  so a half-written set is never used and concurrent processes agree on the result.
  """
  key = hashlib.sha1(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:12]
  out = os.path.join(cache_root(), kind, key)
  if is_complete(out):
    return out
  logging.info("generating %s %s into %s", kind, settings, out)
  tmp = out + f".tmp{os.getpid()}"
  write(tmp)
  os.makedirs(os.path.dirname(out), exist_ok=True)
  try:
    os.rename(tmp, out)
  except OSError:  # another process won the race; its files are identical
    pass
  return out
