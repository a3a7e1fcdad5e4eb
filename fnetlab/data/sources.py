"""Random-access splits and the batch order every task trains on.

A split is a random-access source (`len`, `batch(indices)`), the interface of
`tfds.data_source`. The training order is a pure function of
(seed, step): example g = step * batch + j is position g mod n of the epoch-(g // n)
permutation. The iterator's checkpointable state is therefore just the step, and a resumed
run sees exactly the batches an uninterrupted one would. Each process reads only its own
slice of every global batch.
"""

from __future__ import annotations

import numpy as np


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


class Subset:
  """Rows `index` of a source, without copying its arrays (Path-X is 3.3 GB of pixels)."""

  def __init__(self, source, index):
    self.source, self.index = source, np.asarray(index)

  def __len__(self) -> int:
    return len(self.index)

  def batch(self, indices) -> dict[str, np.ndarray]:
    return self.source.batch(self.index[np.asarray(indices)])


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
  import jax  # only the process index and count; the data layer itself is pure NumPy

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


def first_batch(source, batch_size: int) -> dict[str, np.ndarray]:
  """The first `batch_size` rows (wrapping around), all weighted 1: a batch for shapes."""
  batch = source.batch(np.arange(batch_size) % len(source))
  batch["weight"] = np.ones(batch_size, np.float32)
  return batch


def seeded_split(n: int, fractions, seed: int) -> list[np.ndarray]:
  """Sorted index sets, one per fraction, of a permutation of range(n) seeded `seed`.

  The last set takes the rounding remainder, so together they cover range(n) exactly."""
  perm = np.random.default_rng(seed).permutation(n)
  bounds = np.round(np.cumsum(fractions[:-1]) * n).astype(int)
  return [np.sort(part) for part in np.split(perm, bounds)]
