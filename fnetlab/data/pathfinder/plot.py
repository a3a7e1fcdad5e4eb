"""A labelled PNG grid of Pathfinder samples, for looking at a generated set."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np


def sample_grid(
  images: np.ndarray,
  labels: np.ndarray,
  path: str | os.PathLike[str],
  n: int = 16,
  tile: int = 128,
) -> Path:
  """Save a PNG grid of the first ``n`` images, framed green (label 1) or red (label 0)."""
  from PIL import Image, ImageDraw

  n = min(n, len(images))
  if n == 0:
    raise ValueError("sample_grid needs at least one image")
  cols = math.ceil(math.sqrt(n))
  rows = math.ceil(n / cols)
  pad = 4
  cell = tile + 2 * pad
  grid = Image.new("RGB", (cols * cell, rows * cell), (255, 255, 255))
  draw = ImageDraw.Draw(grid)
  for j in range(n):
    r, c = divmod(j, cols)
    x0, y0 = c * cell, r * cell
    colour = (40, 170, 60) if int(labels[j]) == 1 else (200, 50, 50)
    draw.rectangle([x0, y0, x0 + cell - 1, y0 + cell - 1], fill=colour)
    im = Image.fromarray(np.asarray(images[j], dtype=np.uint8))
    im = im.resize((tile, tile), Image.Resampling.NEAREST).convert("RGB")
    grid.paste(im, (x0 + pad, y0 + pad))
    draw.text((x0 + pad + 3, y0 + pad + 2), str(int(labels[j])), fill=colour)
  path = Path(path)
  path.parent.mkdir(parents=True, exist_ok=True)
  grid.save(path)
  return path
