"""Fashion-MNIST (Xiao, Rasul and Vollgraf 2017) as pixel sequences, in the style of LRA Image.

70,000 grey 28x28 images of Zalando articles in 10 classes (T-shirt/top, Trouser, Pullover,
Dress, Coat, Sandal, Shirt, Sneaker, Bag, Ankle boot): 60,000 train and 10,000 test. Each
image is flattened row-major into 784 pixel ids (values 0-255, vocabulary 256) and a CLS id
(256) is prepended, as fnetlab's LRA Image does with CIFAR-10's 1,024 grey pixels. Every
position is a real pixel, so the mask is all ones.

Two sources (`data.source`):
- `files` (the default): the official IDX files `{train,t10k}-{images-idx3,labels-idx1}-ubyte`
  (gzipped `.gz` or not) in `data.dir` (empty: the data cache that `fnetlab data
  fashion_mnist` fills from the Debian package `dataset-fashion-mnist`).
- `tfds`: tfds `fashion_mnist`, prepared offline as array_record under `data.dir`.

Splits as LRA Image's: validation is the last 10% of the training images (`train[90%:]`,
6,000), train the first 90% (54,000); test is the official 10,000.

IDX: a big-endian header (two zero bytes, type 0x08 = unsigned byte, the number of
dimensions, then one uint32 per dimension) followed by the raw bytes.
"""

from __future__ import annotations

import gzip
import os

import numpy as np

from fnetlab.data import cache, tfds_source
from fnetlab.data.data_error import DataError
from fnetlab.data.lra import TokenSource

SIDE = 28
PIXELS = SIDE * SIDE
PIXEL_VOCAB = 256
CLS_ID = PIXEL_VOCAB
NUM_CLASSES = 10
CLASS_NAMES = (
  "T-shirt/top",
  "Trouser",
  "Pullover",
  "Dress",
  "Coat",
  "Sandal",
  "Shirt",
  "Sneaker",
  "Bag",
  "Ankle boot",
)
FILES = {"train": "train", "test": "t10k"}
TRAIN_FRACTION = 0.9
HINT = (
  "run `fnetlab data fashion_mnist` (copies it from the Debian package dataset-fashion-mnist "
  "into the data cache) or pass --config.data.dir=<folder with the four *-ubyte(.gz) files>"
)


def idx_path(folder: str, prefix: str, kind: str) -> str:
  """The IDX file `<prefix>-<kind>-ubyte[.gz]` in `folder` (the .gz if both exist)."""
  base = os.path.join(folder, f"{prefix}-{kind}-ubyte")
  return base + ".gz" if os.path.isfile(base + ".gz") or not os.path.isfile(base) else base


def read_idx(path: str, ndim: int) -> np.ndarray:
  """The uint8 array of an IDX file with `ndim` dimensions; DataError naming the file."""
  if not os.path.isfile(path):
    raise DataError("Fashion-MNIST IDX file not found", path=path, hint=HINT)
  opener = gzip.open if path.endswith(".gz") else open
  try:
    with opener(path, "rb") as f:
      data = f.read()
  except (OSError, EOFError) as e:
    raise DataError(f"unreadable ({e})", path=path) from None
  if len(data) < 4 + 4 * ndim:
    raise DataError(f"too short for an IDX header ({len(data)} bytes)", path=path)
  if data[0] != 0 or data[1] != 0 or data[2] != 0x08 or data[3] != ndim:
    raise DataError(
      f"not an unsigned-byte IDX file with {ndim} dimensions (magic {data[:4].hex()}, "
      f"expected 000008{ndim:02x})",
      path=path,
    )
  shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
  body = data[4 + 4 * ndim :]
  if len(body) != int(np.prod(shape)):
    raise DataError(
      f"header says {shape} = {int(np.prod(shape))} bytes, body has {len(body)}", path=path
    )
  return np.frombuffer(body, np.uint8).reshape(shape)


def read_split(folder: str, split: str) -> tuple[np.ndarray, np.ndarray]:
  """(uint8 images [n, 28, 28], int32 labels [n]) of the official `train` or `test` files."""
  images_path = idx_path(folder, FILES[split], "images-idx3")
  labels_path = idx_path(folder, FILES[split], "labels-idx1")
  images, labels = read_idx(images_path, 3), read_idx(labels_path, 1)
  if images.shape[1:] != (SIDE, SIDE):
    raise DataError(f"images are {images.shape[1:]}, expected ({SIDE}, {SIDE})", path=images_path)
  if len(images) != len(labels):
    raise DataError(
      f"{len(labels)} labels for {len(images)} images in {images_path}", path=labels_path
    )
  if labels.size and labels.max() >= NUM_CLASSES:
    raise DataError(f"label {int(labels.max())} is not a class 0-9", path=labels_path)
  return images, labels.astype(np.int32)


def default_dir() -> str:
  return os.path.join(cache.cache_root(), "fashion_mnist")


def _tfds_split(data_dir: str, split: str) -> tuple[np.ndarray, np.ndarray]:
  rows = tfds_source.read_all(tfds_source.open_split("fashion_mnist", split, data_dir))
  images = np.stack([np.asarray(r["image"], np.uint8).reshape(SIDE, SIDE) for r in rows])
  return images, np.asarray([int(r["label"]) for r in rows], np.int32)


def encode(images: np.ndarray, labels: np.ndarray) -> TokenSource:
  """CLS + 784 pixel ids per image."""
  pixels = images.reshape(len(images), PIXELS)
  return TokenSource(pixels, np.full(len(pixels), PIXELS), labels, offset=0, cls_id=CLS_ID)


def splits(data_cfg) -> dict[str, TokenSource]:
  """train (first 90% of the training images) / validation (last 10%) / test (official)."""
  source = data_cfg.get("source", "files")
  if source == "files":
    folder = os.path.expanduser(data_cfg.get("dir", "")) or default_dir()
    train, test = read_split(folder, "train"), read_split(folder, "test")
  elif source == "tfds":
    train, test = (_tfds_split(data_cfg.get("dir", ""), s) for s in ("train", "test"))
  else:
    raise DataError(f"config key data.source={source!r}; valid: files, tfds")
  cut = int(round(TRAIN_FRACTION * len(train[0])))
  return {
    "train": encode(train[0][:cut], train[1][:cut]),
    "validation": encode(train[0][cut:], train[1][cut:]),
    "test": encode(*test),
  }
