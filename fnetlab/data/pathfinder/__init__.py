"""Pathfinder (Linsley et al. 2018) as Long Range Arena uses it: generator, files, plots.

Source: the Pathfinder challenge of Linsley et al. 2018 ("Learning long-range spatial
dependencies with horizontal gated-recurrent units"; generator ``snakes2.py`` in
drewlinsley/pathfinder), as used by Long Range Arena (Tay et al. 2020) for Pathfinder (32x32)
and Path-X (128x128), with the LRA parameters listed in ``lra_benchmarks/data/pathfinder.py``.

- `params`: the image distribution per resolution and difficulty (`params_for`).
- `generate`: the seeded, parallel generator (`generate_image`, `generate`) and where it
  departs from the official one.
- `files`: the official folder layout, written (`write_dataset`) and read (`load_dataset`),
  and the 80/10/10 split (`split_indices`).
- `plot`: a labelled PNG grid of samples (`sample_grid`).
"""

from fnetlab.data.pathfinder.files import IMAGES_PER_DIR, load_dataset, split_indices, write_dataset
from fnetlab.data.pathfinder.generate import generate, generate_image, image_rng
from fnetlab.data.pathfinder.params import (
  DIFFICULTIES,
  RESOLUTIONS,
  PathfinderParams,
  difficulty_folder,
  params_for,
)
from fnetlab.data.pathfinder.plot import sample_grid

__all__ = [
  "DIFFICULTIES",
  "IMAGES_PER_DIR",
  "RESOLUTIONS",
  "PathfinderParams",
  "difficulty_folder",
  "generate",
  "generate_image",
  "image_rng",
  "load_dataset",
  "params_for",
  "sample_grid",
  "split_indices",
  "write_dataset",
]
