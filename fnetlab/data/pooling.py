"""Max-pooled image sources: a square image split read at a lower resolution.

Pathfinder's paths are one pixel wide; a `pool` x `pool` max keeps every drawn pixel visible
(an average would dim thin dashes), so a 32x32 image becomes a 16x16 one with the same
paths and markers, at a quarter of the sequence length.
"""

from __future__ import annotations

import numpy as np


def max_pool(pixels: np.ndarray, side: int, pool: int) -> np.ndarray:
  """[n, side*side] row-major pixels -> [n, (side//pool)**2], the max of each pool x pool cell."""
  n = len(pixels)
  s = side // pool
  cells = pixels.reshape(n, s, pool, s, pool)
  return cells.max(axis=(2, 4)).reshape(n, s * s)


class MaxPooled:
  """A source whose batches' `inputs` (and `mask`) are max-pooled; other keys pass through."""

  def __init__(self, source, side: int, pool: int):
    self.source, self.side, self.pool = source, side, pool

  def __len__(self) -> int:
    return len(self.source)

  def batch(self, indices) -> dict[str, np.ndarray]:
    b = dict(self.source.batch(indices))
    b["inputs"] = max_pool(np.asarray(b["inputs"]), self.side, self.pool)
    if "mask" in b:
      b["mask"] = max_pool(np.asarray(b["mask"]).astype(np.uint8), self.side, self.pool) > 0
    return b
