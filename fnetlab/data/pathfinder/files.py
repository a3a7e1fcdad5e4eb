"""Pathfinder files in the official Long Range Arena layout: writer, loader and splits.

The official layout: ``<difficulty>/imgs/<k>/sample_<i>.png`` (grayscale uint8) and
``<difficulty>/metadata/<k>.npy``, which despite the suffix are text lines
``imgs/<k> sample_<i>.png <i> <label> <continuity> <contour_length> <distractor_length>
<dash_length> <thickness> <gap> 1``; ``<i>`` restarts at 0 in each folder ``<k>``.

Every problem with the files is a one-line DataError naming the file (and, for a bad
metadata line, ``file:line``) and how to generate the data.
"""

from __future__ import annotations

import os
import re
import shutil
import warnings
from pathlib import Path

import numpy as np

from fnetlab.data.data_error import DataError
from fnetlab.data.pathfinder.generate import IMAGES_PER_DIR, _image_path, _jobs, _run_jobs, _workers
from fnetlab.data.pathfinder.params import difficulty_folder, params_for


def _hint(resolution: int | str = "RES", difficulty: str = "hard") -> str:
  return (
    "generate it with `fnetlab data pathfinder --out=DIR "
    f"--resolution={resolution} --difficulty={difficulty}`"
  )


def write_dataset(
  out_dir: str | os.PathLike[str],
  resolution: int = 32,
  difficulty: str = "hard",
  num: int = 200_000,
  seed: int = 0,
  workers: int | None = None,
  *,
  num_distractors: int | None = None,
  images_per_dir: int = IMAGES_PER_DIR,
  overwrite: bool = False,
) -> Path:
  """Write ``num`` images in the official layout under ``out_dir``; returns the folder.

  Layout: ``<out>/<difficulty folder>/imgs/<k>/sample_<i>.png`` with
  ``images_per_dir`` images per ``k`` and text metadata ``<out>/<folder>/metadata/<k>.npy``.
  """
  params = params_for(resolution, difficulty, num_distractors)
  folder = Path(out_dir) / difficulty_folder(difficulty)
  meta_dir = folder / "metadata"
  if meta_dir.exists() and any(meta_dir.iterdir()):
    if not overwrite:
      raise DataError(
        "Pathfinder data already exists here; pass overwrite=True (--overwrite) "
        "or choose another --out",
        path=folder,
      )
    shutil.rmtree(meta_dir)
    shutil.rmtree(folder / "imgs", ignore_errors=True)
  n_dirs = -(-num // images_per_dir)
  for k in range(n_dirs):
    (folder / "imgs" / str(k)).mkdir(parents=True, exist_ok=True)
  meta_dir.mkdir(parents=True, exist_ok=True)
  workers = _workers(workers)
  labels = np.zeros(num, dtype=np.int32)
  jobs = _jobs(params, seed, num, workers, str(folder), images_per_dir)
  for start, lab, _ in _run_jobs(jobs, workers):
    labels[start : start + len(lab)] = lab
  p = params
  tail = (
    f"{p.continuity} {p.contour_length} {p.distractor_length} "
    f"{p.dash_length} {p.thickness} {p.dash_gap} 1"
  )
  for k in range(n_dirs):
    lines = []
    for g in range(k * images_per_dir, min(num, (k + 1) * images_per_dir)):
      sub, name, i = _image_path(folder, g, images_per_dir)
      lines.append(f"{sub} {name} {i} {labels[g]} {tail}\n")
    (meta_dir / f"{k}.npy").write_text("".join(lines), encoding="utf-8")
  return folder


def _metadata_rows(path: Path) -> list[tuple[int, list[str]]]:
  """``(line number, fields)`` of a metadata file (text, or a real ``.npy`` string array)."""
  raw = path.read_bytes()
  if raw.startswith(b"\x93NUMPY"):
    try:
      arr = np.load(path, allow_pickle=False)
    except Exception as e:  # noqa: BLE001 - reported to the user as a DataError
      raise DataError(f"unreadable .npy metadata ({e})", path=path) from None
    arr = np.atleast_2d(arr)
    return [(i + 1, [str(x) for x in row]) for i, row in enumerate(arr)]
  try:
    text = raw.decode("utf-8")
  except UnicodeDecodeError:
    raise DataError("metadata is neither UTF-8 text nor a .npy array", path=path) from None
  return [(n, line.split()) for n, line in enumerate(text.splitlines(), 1) if line.strip()]


def _sort_key(path: Path):
  return (0, int(path.stem)) if path.stem.isdigit() else (1, path.stem)


def load_dataset(
  root: str | os.PathLike[str],
  difficulty: str = "hard",
  resolution: int = 32,
  limit: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
  """Read the official layout into ``(images uint8 [n, res, res], labels int32 [n])``.

  ``root`` holds the difficulty folders (``root/curv_contour_length_14/...``) or is one.
  Images are ordered by metadata file number, then line; ``limit`` stops after that many
  usable images. Empty images (0 bytes or all zero, as one released image is) are skipped
  with a warning.
  """
  root = Path(root)
  folder = root / difficulty_folder(difficulty)
  if not (folder / "metadata").is_dir() and (root / "metadata").is_dir():
    folder = root
  hint = _hint(resolution, difficulty)
  if not root.exists():
    raise DataError("Pathfinder data folder not found", path=root, hint=hint)
  meta_dir = folder / "metadata"
  if not meta_dir.is_dir():
    raise DataError("Pathfinder metadata folder not found", path=meta_dir, hint=hint)
  meta_files = sorted((p for p in meta_dir.iterdir() if p.suffix == ".npy"), key=_sort_key)
  if not meta_files:
    raise DataError("no metadata/*.npy files", path=meta_dir, hint=hint)

  from PIL import Image, UnidentifiedImageError

  images: list[np.ndarray] = []
  labels: list[int] = []
  for meta in meta_files:
    if limit is not None and len(images) >= limit:
      break
    for lineno, fields in _metadata_rows(meta):
      if limit is not None and len(images) >= limit:
        break
      if len(fields) < 4:
        raise DataError(
          f"expected at least 4 fields 'imgs/<k> sample_<i>.png <i> <label>', got {len(fields)}",
          path=meta,
          line=lineno,
        )
      sub, name, _, label_s = fields[:4]
      if label_s not in ("0", "1"):
        raise DataError(f"label {label_s[:20]!r} is not 0 or 1", path=meta, line=lineno)
      if not re.fullmatch(r"[\w.\-/]+", sub) or not re.fullmatch(r"[\w.\-]+", name):
        raise DataError(f"bad image path {sub!r} {name!r}", path=meta, line=lineno)
      img_path = folder / sub / name
      if not img_path.is_file():
        raise DataError(
          f"image {img_path} listed in the metadata does not exist",
          path=meta,
          line=lineno,
        )
      if img_path.stat().st_size == 0:
        warnings.warn(f"{img_path}: empty image file, skipped", stacklevel=2)
        continue
      try:
        with Image.open(img_path) as im:
          arr = np.asarray(im.convert("L"))
      except (UnidentifiedImageError, OSError) as e:
        raise DataError(f"unreadable image ({e})", path=img_path) from None
      if arr.shape != (resolution, resolution):
        raise DataError(
          f"image is {arr.shape[1]}x{arr.shape[0]}, expected {resolution}x{resolution}",
          path=img_path,
        )
      if not arr.any():
        warnings.warn(f"{img_path}: all-zero image, skipped", stacklevel=2)
        continue
      images.append(arr)
      labels.append(int(label_s))
  if not images:
    raise DataError("no usable images", path=folder, hint=hint)
  return np.stack(images), np.asarray(labels, dtype=np.int32)


def split_indices(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
  """Deterministic 80/10/10 train/val/test split of ``range(n)`` (LRA: 160k/20k/20k of 200k)."""
  perm = np.random.default_rng(seed).permutation(n)
  n_train, n_val = n * 8 // 10, n // 10
  return perm[:n_train], perm[n_train : n_train + n_val], perm[n_train + n_val :]
