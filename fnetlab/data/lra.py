"""Long Range Arena inputs (Tay et al. 2020) for Text, Retrieval, Image, Pathfinder and Path-X.

As in the official `lra_benchmarks` input pipelines:
- Text: tfds `imdb_reviews` (25k train / 25k test), bytes as ids `byte + 1` with 0 for
  padding (tfds `ByteTextEncoder`), each review truncated to the byte budget.
- Retrieval: the official `new_aan_pairs.{train,eval,test}.tsv` files (no header; columns
  `label id1 id2 text1 text2`, tab-separated, no quoting), raw bytes as in Text.
- Image: tfds `cifar10`, `train[:90%]` / `train[90%:]` / `test` (45k / 5k / 10k), converted
  to grayscale exactly as `tf.image.rgb_to_grayscale` on uint8 does (weights 0.2989, 0.5870,
  0.1140 on x/255, then `trunc(y * 255.5)`), 1024 pixel ids (vocabulary 256).
- Pathfinder / Path-X: the official folder layout, read by `fnetlab.data.pathfinder`; with
  no folder our seeded generator writes that layout into the cache once. Images are flattened
  row-major to `res*res` pixel ids.

Departures from the official pipelines:
- CLS is a token id (one past the vocabulary) prepended here, rather than a separate `cls`
  parameter concatenated after embedding. Retrieval documents get none by default, as the
  official matching model builds its towers without one (`cls=True` prepends it).
- The official encoder masks attention with `inputs > 0`, which on pixels also hides every
  black pixel; here the mask marks padding only, unless `mask_zero_pixels=True` asks for the
  official pixel mask (docs/fidelity.md).
- Pathfinder splits are a seeded 80/10/10 permutation (`pathfinder.split_indices`); the
  official builder takes contiguous 80/10/10 slices of its (class-interleaved) order.
- Retrieval documents are stored once per distinct text (pairs share many papers), so the
  147k-pair training set fits in memory; batches are encoded on the fly.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from fnetlab.common.errors import UserError
from fnetlab.data import pathfinder, tfds_source
from fnetlab.data.cache import generate_once
from fnetlab.data.data_error import DataError
from fnetlab.data.sources import Subset

BYTE_VOCAB = 257  # pad 0 + 256 byte values (tfds ByteTextEncoder)
PIXEL_VOCAB = 256  # grayscale values 0-255; every position is a real pixel (no padding)
GRAY_WEIGHTS = np.asarray([0.2989, 0.5870, 0.1140], np.float32)  # tf.image.rgb_to_grayscale
CIFAR_SPLITS = (("train", "train[:90%]"), ("validation", "train[90%:]"), ("test", "test"))
RETRIEVAL_FILES = {"train": "train", "validation": "eval", "test": "test"}
RETRIEVAL_HINT = (
  "download https://storage.googleapis.com/long-range-arena/lra_release.gz, extract it and "
  "pass --config.data.dir=<...>/lra_release/tsv_data (the folder with new_aan_pairs.*.tsv)"
)


class TokenSource:
  """A split of fixed-width token rows, padded past each row's length.

  `tokens` uint8 [n, width] holds raw values (bytes or pixels); the model id is
  `value + offset` at real positions and 0 at padding. With `cls_id` a CLS token is
  prepended. Stored as uint8 and encoded per batch: IMDB at 4K bytes stays at 200 MB.

  `mask_zero=True` builds the official LRA mask `ids > 0` instead of the padding mask: on
  pixels (offset 0) it also hides every black pixel, and the CLS token copies the first
  position's flag, as the official encoder's `concatenate([mask[:, :1], mask])` does.
  """

  def __init__(
    self, tokens, lengths, labels, *, offset: int, cls_id: int | None, mask_zero: bool = False
  ):
    self.tokens, self.lengths = tokens, np.asarray(lengths, np.int32)
    self.labels = np.asarray(labels, np.int32)
    self.offset, self.cls_id, self.mask_zero = offset, cls_id, mask_zero

  def __len__(self) -> int:
    return len(self.labels)

  def encode(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    raw = self.tokens[rows].astype(np.int32)
    mask = np.arange(raw.shape[1])[None] < self.lengths[rows][:, None]
    ids = np.where(mask, raw + self.offset, 0).astype(np.int32)
    if self.mask_zero:
      mask = ids > 0
    if self.cls_id is not None:
      ids = np.concatenate([np.full((len(ids), 1), self.cls_id, np.int32), ids], axis=1)
      first = mask[:, :1] if self.mask_zero else np.ones((len(mask), 1), bool)
      mask = np.concatenate([first, mask], axis=1)
    return ids, mask

  def batch(self, indices) -> dict[str, np.ndarray]:
    indices = np.asarray(indices)
    ids, mask = self.encode(indices)
    return {"inputs": ids, "mask": mask, "label": self.labels[indices]}


class PairSource:
  """Retrieval pairs: row indices into one shared `TokenSource` of distinct documents."""

  def __init__(self, docs: TokenSource, first, second, labels):
    self.docs = docs
    self.first, self.second = np.asarray(first, np.int64), np.asarray(second, np.int64)
    self.labels = np.asarray(labels, np.int32)

  def __len__(self) -> int:
    return len(self.labels)

  def batch(self, indices) -> dict[str, np.ndarray]:
    indices = np.asarray(indices)
    ids1, mask1 = self.docs.encode(self.first[indices])
    ids2, mask2 = self.docs.encode(self.second[indices])
    return {
      "inputs": ids1,
      "mask": mask1,
      "inputs2": ids2,
      "mask2": mask2,
      "label": self.labels[indices],
    }


def pack_bytes(docs, width: int) -> tuple[np.ndarray, np.ndarray]:
  """Byte strings -> (uint8 [n, width] zero-padded, lengths), each truncated to `width`."""
  out = np.zeros((len(docs), width), np.uint8)
  lengths = np.zeros(len(docs), np.int32)
  for i, doc in enumerate(docs):
    b = doc[:width]
    out[i, : len(b)] = np.frombuffer(b, np.uint8)
    lengths[i] = len(b)
  return out, lengths


def as_bytes(text) -> bytes:
  """tfds Text features come back as str (mock data) or bytes (array_record files)."""
  if isinstance(text, np.ndarray):
    text = text.item()
  return text.encode("utf-8") if isinstance(text, str) else bytes(text)


def grayscale(rgb: np.ndarray) -> np.ndarray:
  """uint8 [..., 3] -> uint8 [...], the float32 computation of `tf.image.rgb_to_grayscale`.

  TF converts to float (x / 255), takes the weighted sum, and converts back with
  `cast(y * 255.5)`, which truncates.
  """
  flt = rgb.astype(np.float32) * np.float32(1 / 255)
  gray = np.tensordot(flt, GRAY_WEIGHTS, axes=([-1], [0])).astype(np.float32)
  return np.clip(np.trunc(gray * np.float32(255.5)), 0, 255).astype(np.uint8)


# ----------------------------------------------------------------------------- tfds


def imdb_splits(data_dir: str, width: int) -> dict[str, TokenSource]:
  """Byte-level IMDB: CLS + at most `width` bytes; validation is the test split, as officially."""
  splits = {}
  for split in ("train", "test"):
    rows = tfds_source.read_all(tfds_source.open_split("imdb_reviews", split, data_dir))
    tokens, lengths = pack_bytes([as_bytes(r["text"]) for r in rows], width)
    labels = [int(r["label"]) for r in rows]
    splits[split] = TokenSource(tokens, lengths, labels, offset=1, cls_id=BYTE_VOCAB)
  splits["validation"] = splits["test"]  # official: IMDB has no validation split
  return splits


def cifar10_splits(data_dir: str, mask_zero_pixels: bool = False) -> dict[str, TokenSource]:
  """Grayscale CIFAR-10: CLS + 1024 pixel ids (`mask_zero_pixels`: the official pixel mask)."""
  splits = {}
  for name, split in CIFAR_SPLITS:
    rows = tfds_source.read_all(tfds_source.open_split("cifar10", split, data_dir))
    images = np.stack([np.asarray(r["image"], np.uint8) for r in rows]) if rows else None
    if images is None:
      images = np.zeros((0, 32, 32, 3), np.uint8)
    if images.shape[1:] != (32, 32, 3):
      raise UserError(f"tfds cifar10 {split}: images are {images.shape[1:]}, expected (32, 32, 3)")
    pixels = grayscale(images).reshape(len(images), 1024)
    labels = [int(r["label"]) for r in rows]
    splits[name] = TokenSource(
      pixels,
      np.full(len(pixels), 1024),
      labels,
      offset=0,
      cls_id=PIXEL_VOCAB,
      mask_zero=mask_zero_pixels,
    )
  return splits


# ----------------------------------------------------------------------------- retrieval


def retrieval_path(data_dir, split: str) -> Path:
  """`<data_dir>/new_aan_pairs.<split>.tsv`, split in train | eval | test."""
  return Path(data_dir) / f"new_aan_pairs.{split}.tsv"


def read_retrieval_tsv(path: Path, width: int, docs: dict[bytes, int]):
  """(first doc rows, second doc rows, labels) of one AAN pairs file; `docs` grows."""
  if not path.is_file():
    raise DataError("Retrieval (AAN) file not found", path=path, hint=RETRIEVAL_HINT)
  first, second, labels = [], [], []
  with open(path, "rb") as f:
    for lineno, raw in enumerate(f, start=1):
      line = raw.rstrip(b"\r\n")
      if not line.strip():
        continue
      fields = line.split(b"\t")
      if len(fields) != 5:
        raise DataError(
          f"expected 5 tab-separated fields (label id1 id2 text1 text2), got {len(fields)}",
          path=path,
          line=lineno,
        )
      label_s = fields[0].decode("utf-8", "replace").strip()
      try:
        value = float(label_s)  # the official reader parses the label as float32
      except ValueError:
        value = None
      if value not in (0.0, 1.0):
        raise DataError(f"label {label_s[:20]!r} is not 0 or 1", path=path, line=lineno)
      rows = []
      for text in fields[3:]:
        key = text[:width]
        rows.append(docs.setdefault(key, len(docs)))
      first.append(rows[0])
      second.append(rows[1])
      labels.append(int(value))
  if not labels:
    raise DataError("no pairs in file", path=path, hint=RETRIEVAL_HINT)
  return first, second, labels


def retrieval_splits(
  data_dir: str, width: int, cls: bool = False
) -> tuple[dict[str, PairSource], int]:
  """(split -> AAN pairs of at most `width` bytes each, preceded by a CLS token if `cls`,
  number of distinct documents). The official towers have no CLS token."""
  data_dir = tfds_source.expand(data_dir)
  if not data_dir:
    raise UserError(
      "config key data.dir is empty: retrieval reads LRA's new_aan_pairs.{train,eval,test}.tsv; "
      + RETRIEVAL_HINT
    )
  if not os.path.isdir(data_dir):
    raise DataError("Retrieval data folder not found", path=data_dir, hint=RETRIEVAL_HINT)
  docs: dict[bytes, int] = {}
  pairs = {
    name: read_retrieval_tsv(retrieval_path(data_dir, f), width, docs)
    for name, f in RETRIEVAL_FILES.items()
  }
  tokens, lengths = pack_bytes(list(docs), width)
  cls_id = BYTE_VOCAB if cls else None
  doc_source = TokenSource(tokens, lengths, np.zeros(len(docs)), offset=1, cls_id=cls_id)
  return {name: PairSource(doc_source, *p) for name, p in pairs.items()}, len(docs)


# ----------------------------------------------------------------------------- pathfinder


def generated_pathfinder(gen: dict, resolution: int, difficulty: str) -> str:
  """Generates (once) a Pathfinder set in the official layout under the cache; the folder."""
  key_fields = {
    "resolution": resolution,
    "difficulty": difficulty,
    "num": int(gen["num"]),
    "seed": int(gen["seed"]),
  }
  folder = pathfinder.difficulty_folder(difficulty)
  return generate_once(
    f"pathfinder{resolution}",
    key_fields,
    lambda out: os.path.isdir(os.path.join(out, folder, "metadata")),
    lambda tmp: pathfinder.write_dataset(
      tmp,
      resolution,
      difficulty,
      int(gen["num"]),
      int(gen["seed"]),
      workers=gen.get("workers"),
      overwrite=True,
    ),
  )


def pathfinder_splits(
  root: str, resolution: int, difficulty: str, split_seed: int, mask_zero_pixels: bool = False
) -> dict:
  """Pathfinder / Path-X in the official layout under `root`: res*res pixel ids, no CLS
  (`mask_zero_pixels`: the official pixel mask)."""
  images, labels = pathfinder.load_dataset(root, difficulty, resolution)
  pixels = images.reshape(len(images), resolution * resolution)
  every = TokenSource(
    pixels,
    np.full(len(pixels), pixels.shape[1]),
    labels,
    offset=0,
    cls_id=None,
    mask_zero=mask_zero_pixels,
  )
  parts = pathfinder.split_indices(len(pixels), split_seed)
  return {
    name: Subset(every, idx)
    for name, idx in zip(("train", "validation", "test"), parts, strict=True)
  }
