"""Language-model inputs: a text corpus (fnetlab.data.shakespeare) as windows of token ids.

Training items are random windows of block_size + 1 tokens; item i starts at a position
drawn from a generator seeded by (seed, i), so the training data is a pure function of
(seed, step) like every other split. Validation (and tfds test) is the whole split cut into
consecutive non-overlapping windows; the last, partial window is padded and its padding gets
token weight 0, so every token of the split after the first is predicted exactly once.

Departure from the WorkerTransformer seed's loader: the training windows come from a pool of
`data.train_windows` distinct random starts (default `WINDOW_POOL_EPOCHS` nominal epochs'
worth) rather than a fresh draw per step, which the step-indexed data order requires; the
pool is large enough that a run at the reference settings never repeats a window.
"""

from __future__ import annotations

import numpy as np

from fnetlab.common.errors import UserError
from fnetlab.data import shakespeare
from fnetlab.data.data_error import DataError
from fnetlab.data.sources import ArraySource

WINDOW_POOL_EPOCHS = 16


class RandomWindows:
  """Training split: item i is the window ids[s : s + block + 1], s ~ U[0, n - block - 1]
  drawn from a generator seeded by (seed, i)."""

  def __init__(self, ids: np.ndarray, block_size: int, seed: int, num_windows: int = 0):
    if len(ids) < block_size + 2:
      raise UserError(
        f"training split has {len(ids)} tokens; data.block_size={block_size} needs at least "
        f"{block_size + 2}"
      )
    self.ids, self.block, self.seed = ids, block_size, seed
    self._n = num_windows or WINDOW_POOL_EPOCHS * max(1, len(ids) // block_size)

  def __len__(self) -> int:
    return self._n

  def starts(self, indices) -> np.ndarray:
    high = len(self.ids) - self.block  # exclusive: the window needs block + 1 tokens
    return np.array(
      [np.random.default_rng([self.seed, int(i)]).integers(0, high) for i in indices], np.int64
    )

  def batch(self, indices) -> dict[str, np.ndarray]:
    starts = self.starts(indices)
    windows = self.ids[starts[:, None] + np.arange(self.block + 1)[None, :]]
    return {
      "inputs": windows[:, :-1],
      "targets": windows[:, 1:],
      "token_weight": np.ones(windows[:, 1:].shape, np.float32),
    }


def sequential_windows(ids: np.ndarray, block_size: int) -> ArraySource:
  """The whole split as consecutive non-overlapping windows; padding has token_weight 0."""
  if len(ids) < 2:
    raise UserError(f"evaluation split has {len(ids)} tokens; it needs at least 2")
  num_targets = len(ids) - 1
  count = -(-num_targets // block_size)
  padded = np.zeros(count * block_size + 1, np.int32)
  padded[: len(ids)] = ids
  grid = np.arange(count)[:, None] * block_size + np.arange(block_size)[None, :]
  return ArraySource(
    {
      "inputs": padded[grid],
      "targets": padded[grid + 1],
      "token_weight": (grid < num_targets).astype(np.float32),
    }
  )


def load_texts(data_cfg) -> dict[str, str]:
  """The splits as strings, rebuilt deterministically from a `data` config (dict or ConfigDict)."""
  get = data_cfg.get
  try:
    return shakespeare.load_texts(
      source=get("source", "package"),
      data_dir=get("dir", "") or "",
      val_fraction=float(get("val_fraction", shakespeare.VAL_FRACTION)),
      max_chars=int(get("max_chars", 0) or 0),
      pattern=get("pattern", shakespeare.PATTERN),
      test_fraction=float(get("test_fraction", 0.0) or 0.0),
    )
  except DataError as e:
    raise UserError(str(e)) from None


def load_vocab(data_cfg, texts: dict[str, str] | None = None) -> shakespeare.Vocab:
  """The vocabulary a run with this `data` config used (the sampler rebuilds it this way)."""
  texts = load_texts(data_cfg) if texts is None else texts
  try:
    return shakespeare.Vocab.from_texts(data_cfg.get("encoding", "char"), texts.values())
  except DataError as e:
    raise UserError(str(e)) from None


def lm_splits(data_cfg, seed: int) -> tuple[dict, shakespeare.Vocab, dict[str, int]]:
  """(split -> windows of `data.block_size`, vocabulary, tokens per split) for a `data` config."""
  block = int(data_cfg.block_size)
  texts = load_texts(data_cfg)
  vocab = load_vocab(data_cfg, texts)
  ids = {k: vocab.encode(v, what=f"split {k}") for k, v in texts.items()}
  splits = {
    "train": RandomWindows(ids["train"], block, seed, int(data_cfg.get("train_windows", 0) or 0)),
    "validation": sequential_windows(ids["validation"], block),
  }
  if "test" in ids:
    splits["test"] = sequential_windows(ids["test"], block)
  return splits, vocab, {k: int(len(v)) for k, v in ids.items()}
