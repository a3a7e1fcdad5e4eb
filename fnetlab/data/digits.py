"""scikit-learn's handwritten digits as pixel sequences: a small, real, offline image task.

`sklearn.datasets.load_digits` ships with scikit-learn (no download): 1,797 grey 8x8 images
of the digits 0-9 (UCI "Optical Recognition of Handwritten Digits", 16 intensity levels per
pixel, values 0-16). In the style of LRA Image (CIFAR-10 as 1024 pixel ids), each image is
flattened row-major to 64 pixel ids; a CLS token is prepended for CLS pooling.

Encoding: id = pixel value (0-16, vocabulary 17), CLS id 17; every position is a real pixel
(no padding), so the mask is all ones.

Splits: a stratified, seeded permutation, 60% / 20% / 20% of each class for train /
validation / test (1,078 / 359 / 360 at seed 0; rounding per class). The split is a pure
function of `split_seed`.
"""

from __future__ import annotations

import numpy as np

from fnetlab.data.sources import ArraySource

PIXEL_LEVELS = 17  # values 0..16
CLS_ID = PIXEL_LEVELS  # one past the pixel ids
VOCAB = PIXEL_LEVELS + 1
NUM_CLASSES = 10
SIDE = 8
FRACTIONS = (0.6, 0.2, 0.2)


def load_arrays() -> tuple[np.ndarray, np.ndarray]:
  """(uint8 pixels [1797, 64] in 0..16, int32 labels [1797]) from scikit-learn."""
  from sklearn.datasets import load_digits

  d = load_digits()
  return d.data.astype(np.uint8), d.target.astype(np.int32)


def split_indices(labels: np.ndarray, seed: int = 0) -> dict[str, np.ndarray]:
  """Stratified train/validation/test indices (FRACTIONS of every class), seeded."""
  rng = np.random.default_rng(seed)
  out = {"train": [], "validation": [], "test": []}
  for c in np.unique(labels):
    idx = rng.permutation(np.flatnonzero(labels == c))
    n_train = int(round(FRACTIONS[0] * len(idx)))
    n_val = int(round(FRACTIONS[1] * len(idx)))
    out["train"].append(idx[:n_train])
    out["validation"].append(idx[n_train : n_train + n_val])
    out["test"].append(idx[n_train + n_val :])
  return {k: np.sort(np.concatenate(v)) for k, v in out.items()}


def encode(pixels: np.ndarray, cls: bool = True) -> np.ndarray:
  """uint8 [n, 64] -> int32 ids [n, 65] (CLS first) or [n, 64]."""
  ids = pixels.astype(np.int32)
  if cls:
    ids = np.concatenate([np.full((len(ids), 1), CLS_ID, np.int32), ids], axis=1)
  return ids


def splits(split_seed: int = 0, cls: bool = True) -> dict[str, ArraySource]:
  """The three splits as ArraySources with `inputs`, `mask` (all True) and `label`."""
  pixels, labels = load_arrays()
  ids = encode(pixels, cls)
  return {
    name: ArraySource(
      {"inputs": ids[idx], "mask": np.ones(ids[idx].shape, bool), "label": labels[idx]}
    )
    for name, idx in split_indices(labels, split_seed).items()
  }
