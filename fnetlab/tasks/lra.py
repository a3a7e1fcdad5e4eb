"""Long Range Arena Text, Retrieval, Image, Pathfinder and Path-X (Tay et al. 2020).

Data as in the official `lra_benchmarks` input pipelines:
- `text`: tfds `imdb_reviews` (25k train / 25k test; test is also the validation split, as
  officially), bytes as ids `byte + 1` with 0 for padding (tfds `ByteTextEncoder`), truncated
  to `model.max_len - 1` bytes (the official `max_length`; one position is the CLS token).
- `retrieval`: the official `new_aan_pairs.{train,eval,test}.tsv` files (no header; columns
  `label id1 id2 text1 text2`, tab-separated, no quoting), raw bytes as in `text`, each
  document truncated to `model.max_len - 1` bytes; two towers sharing one encoder
  (`DualClassifier`).
- `image`: tfds `cifar10`, `train[:90%]` / `train[90%:]` / `test` (45k / 5k / 10k), converted
  to grayscale exactly as `tf.image.rgb_to_grayscale` on uint8 does (weights 0.2989, 0.5870,
  0.1140 on x/255, then `trunc(y * 255.5)`), 1024 pixel ids (vocabulary 256).
- `pathfinder` / `pathx`: the official folder layout (`<difficulty>/imgs/<k>/sample_<i>.png`
  plus text `metadata/<k>.npy`), read by `fnetlab.data.pathfinder.load_dataset`; with no
  `data.dir` our seeded generator writes that layout into the cache (`$FNETLAB_CACHE`) once.
  Images are flattened row-major to `res*res` pixel ids; mean pooling (no CLS).

tfds is used through `tfds.data_source` (array_record; no TensorFlow needed) with
`download=False`: these tasks never download. Departures from the official pipelines:
- CLS is a token id (one past the vocabulary) with a learned embedding, as in fnetlab's
  ListOps, rather than a separate `cls` parameter concatenated after embedding.
- Pathfinder splits are a seeded 80/10/10 permutation (`split_indices`); the official builder
  takes contiguous 80/10/10 slices of its (class-interleaved) order.
- Retrieval documents are stored once per distinct text (pairs share many papers), so the
  147k-pair training set fits in memory; batches are encoded on the fly.

LRA's attention settings that only attention layers have (`qkv_dim` narrower than `d_model`
for Image / Pathfinder / Path-X, attention-probability dropout) live in the config's
`attention` block and are passed to the mixer here, at build time, only when the chosen mixer
has that option, so `--config.model.mixer=...` overrides and mixer sweeps stay valid.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from fnetlab import mixers
from fnetlab.data import pathfinder
from fnetlab.data.errors import DataError
from fnetlab.errors import UserError
from fnetlab.models import Classifier, DualClassifier, spec_from_config
from fnetlab.tasks.base import (
  Task,
  classification_loss,
  classification_metrics,
  classification_predict,
  generate_once,
)

BYTE_VOCAB = 257  # pad 0 + 256 byte values (tfds ByteTextEncoder)
PIXEL_VOCAB = 256  # grayscale values 0-255; every position is a real pixel (no padding)
GRAY_WEIGHTS = np.asarray([0.2989, 0.5870, 0.1140], np.float32)  # tf.image.rgb_to_grayscale
RETRIEVAL_FILES = {"train": "train", "validation": "eval", "test": "test"}
RETRIEVAL_HINT = (
  "download https://storage.googleapis.com/long-range-arena/lra_release.gz, extract it and "
  "pass --config.data.dir=<...>/lra_release/tsv_data (the folder with new_aan_pairs.*.tsv)"
)
# Mixers whose `dropout_rate` option is attention-probability dropout (WorkerBlock's is not).
ATTENTION_DROPOUT_MIXERS = ("attention", "lsra")


class TokenSource:
  """A split of fixed-width token rows, padded past each row's length.

  `tokens` uint8 [n, width] holds raw values (bytes or pixels); the model id is
  `value + offset` at real positions and 0 at padding. With `cls_id` a CLS token is
  prepended. Stored as uint8 and encoded per batch: IMDB at 4K bytes stays at 200 MB.
  """

  def __init__(self, tokens, lengths, labels, *, offset: int, cls_id: int | None):
    self.tokens, self.lengths = tokens, np.asarray(lengths, np.int32)
    self.labels = np.asarray(labels, np.int32)
    self.offset, self.cls_id = offset, cls_id

  def __len__(self) -> int:
    return len(self.labels)

  def encode(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    raw = self.tokens[rows].astype(np.int32)
    mask = np.arange(raw.shape[1])[None] < self.lengths[rows][:, None]
    ids = np.where(mask, raw + self.offset, 0).astype(np.int32)
    if self.cls_id is not None:
      ids = np.concatenate([np.full((len(ids), 1), self.cls_id, np.int32), ids], axis=1)
      mask = np.concatenate([np.ones((len(mask), 1), bool), mask], axis=1)
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


class Subset:
  """Rows `index` of a source, without copying its arrays (Path-X is 3.3 GB of pixels)."""

  def __init__(self, source, index):
    self.source, self.index = source, np.asarray(index)

  def __len__(self) -> int:
    return len(self.index)

  def batch(self, indices) -> dict[str, np.ndarray]:
    return self.source.batch(self.index[np.asarray(indices)])


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


# ----------------------------------------------------------------------------- model


def model_spec(config, *, vocab_size: int, num_classes: int):
  """The ModelSpec, with the config's `attention` settings mapped to mixers that take them."""
  model = config.model.to_dict()
  mixer = model["mixer"]
  try:
    valid = mixers.option_names(mixer)
  except ValueError as e:
    raise UserError(f"config key model.mixer: {e}") from None
  options = dict(model.pop("mixer_options", None) or {})
  att = config.get("attention")
  if att is not None:
    if att.get("qkv_dim") and "qkv_dim" in valid:
      options.setdefault("qkv_dim", int(att.qkv_dim))
    if att.get("dropout_rate") and mixer in ATTENTION_DROPOUT_MIXERS:
      options.setdefault("dropout_rate", float(att.dropout_rate))
  try:
    return spec_from_config(
      model, mixer_options=options, vocab_size=vocab_size, num_classes=num_classes
    )
  except ValueError as e:
    raise UserError(str(e)) from None


def _check_length(config, needed: int, what: str) -> None:
  if config.model.max_len < needed:
    raise UserError(
      f"config key model.max_len={config.model.max_len} is shorter than the {needed} "
      f"positions {what} needs"
    )


def _byte_width(config) -> int:
  if config.model.max_len < 2:
    raise UserError(f"config key model.max_len={config.model.max_len}: needs CLS + >= 1 byte")
  return config.model.max_len - 1  # one position is the CLS token


def _task(name, model, splits, info) -> Task:
  for split, src in splits.items():
    if len(src) == 0:
      raise UserError(f"task {name}: the {split} split is empty ({info.get('data_dir', '')})")
  return Task(
    name=name,
    model=model,
    splits=splits,
    loss_fn=classification_loss,
    predict_fn=classification_predict,
    metrics_fn=classification_metrics,
    info=info,
  )


# ----------------------------------------------------------------------------- tfds


def tfds_split(name: str, split: str, data_dir: str):
  """`tfds.data_source` without downloading; a missing dataset names the folder and the fix."""
  import tensorflow_datasets as tfds

  try:
    return tfds.data_source(name, split=split, data_dir=_expand(data_dir), download=False)
  except Exception as e:  # tfds raises several types for absent / non-array_record data
    where = data_dir or os.environ.get("TFDS_DATA_DIR") or "~/tensorflow_datasets"
    first = str(e).strip().splitlines()[0][:160] if str(e).strip() else type(e).__name__
    raise UserError(
      f"tfds dataset {name!r} split {split!r} not readable under {where} ({first}); prepare it "
      f"on a machine with internet: `tfds build {name} --file_format=array_record "
      f"--data_dir=DIR`, then pass --config.data.dir=DIR"
    ) from None


def _expand(path: str) -> str | None:
  return os.path.expanduser(path) if path else None


def _read_all(source) -> list[dict]:
  # One by one: under tfds.testing.mock_data, `__getitems__` fails (tfds 4.9.10).
  return [source[i] for i in range(len(source))]


def build_text(config) -> Task:
  """Byte-level IMDB: CLS + bytes, binary sentiment; validation is the test split."""
  width = _byte_width(config)
  cls_id = BYTE_VOCAB
  splits = {}
  for split in ("train", "test"):
    rows = _read_all(tfds_split("imdb_reviews", split, config.data.dir))
    tokens, lengths = pack_bytes([as_bytes(r["text"]) for r in rows], width)
    labels = [int(r["label"]) for r in rows]
    splits[split] = TokenSource(tokens, lengths, labels, offset=1, cls_id=cls_id)
  splits["validation"] = splits["test"]  # official: IMDB has no validation split
  spec = model_spec(config, vocab_size=BYTE_VOCAB + 1, num_classes=2)
  info = {"data_dir": config.data.dir or "tfds default", "bytes": width}
  return _task("text", Classifier(spec), splits, info)


def build_image(config) -> Task:
  """Grayscale CIFAR-10: CLS + 1024 pixel ids, 10 classes."""
  _check_length(config, 1025, "CLS + 1024 CIFAR-10 pixels")
  splits = {}
  for name, split in (("train", "train[:90%]"), ("validation", "train[90%:]"), ("test", "test")):
    rows = _read_all(tfds_split("cifar10", split, config.data.dir))
    images = np.stack([np.asarray(r["image"], np.uint8) for r in rows]) if rows else None
    if images is None:
      images = np.zeros((0, 32, 32, 3), np.uint8)
    if images.shape[1:] != (32, 32, 3):
      raise UserError(f"tfds cifar10 {split}: images are {images.shape[1:]}, expected (32, 32, 3)")
    pixels = grayscale(images).reshape(len(images), 1024)
    labels = [int(r["label"]) for r in rows]
    splits[name] = TokenSource(
      pixels, np.full(len(pixels), 1024), labels, offset=0, cls_id=PIXEL_VOCAB
    )
  spec = model_spec(config, vocab_size=PIXEL_VOCAB + 1, num_classes=10)
  info = {"data_dir": config.data.dir or "tfds default"}
  return _task("image", Classifier(spec), splits, info)


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


def build_retrieval(config) -> Task:
  """AAN pairs: two CLS + byte documents through one shared encoder, binary label."""
  data_dir = _expand(config.data.dir)
  if not data_dir:
    raise UserError(
      "config key data.dir is empty: retrieval reads LRA's new_aan_pairs.{train,eval,test}.tsv; "
      + RETRIEVAL_HINT
    )
  if not os.path.isdir(data_dir):
    raise DataError("Retrieval data folder not found", path=data_dir, hint=RETRIEVAL_HINT)
  width = _byte_width(config)
  docs: dict[bytes, int] = {}
  pairs = {
    name: read_retrieval_tsv(retrieval_path(data_dir, f), width, docs)
    for name, f in RETRIEVAL_FILES.items()
  }
  tokens, lengths = pack_bytes(list(docs), width)
  doc_source = TokenSource(tokens, lengths, np.zeros(len(docs)), offset=1, cls_id=BYTE_VOCAB)
  splits = {name: PairSource(doc_source, *p) for name, p in pairs.items()}
  spec = model_spec(config, vocab_size=BYTE_VOCAB + 1, num_classes=2)
  info = {"data_dir": data_dir, "documents": len(docs), "bytes": width}
  return _task("retrieval", DualClassifier(spec), splits, info)


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


def build_pathfinder(config) -> Task:
  """Pathfinder / Path-X: res*res pixel ids, mean pooling, binary label."""
  res, difficulty = int(config.data.resolution), config.data.difficulty
  if res not in pathfinder.RESOLUTIONS:
    raise UserError(
      f"config key data.resolution={res}; valid: {', '.join(map(str, pathfinder.RESOLUTIONS))}"
    )
  try:
    pathfinder.difficulty_folder(difficulty)
  except ValueError as e:
    raise UserError(f"config key data.difficulty: {e}") from None
  _check_length(config, res * res, f"{res}x{res} pixels")
  root = _expand(config.data.dir) or generated_pathfinder(
    config.data.generate.to_dict(), res, difficulty
  )
  images, labels = pathfinder.load_dataset(root, difficulty, res)
  pixels = images.reshape(len(images), res * res)
  every = TokenSource(pixels, np.full(len(pixels), res * res), labels, offset=0, cls_id=None)
  parts = pathfinder.split_indices(len(pixels), int(config.data.split_seed))
  splits = {
    name: Subset(every, idx)
    for name, idx in zip(("train", "validation", "test"), parts, strict=True)
  }
  spec = model_spec(config, vocab_size=PIXEL_VOCAB, num_classes=2)
  name = config.task if config.task == "pathx" or res == 32 else f"pathfinder{res}"
  info = {"data_dir": str(root), "resolution": res, "difficulty": difficulty}
  return _task(name, Classifier(spec), splits, info)


BUILDERS = {
  "text": build_text,
  "retrieval": build_retrieval,
  "image": build_image,
  "pathfinder": build_pathfinder,
  "pathx": build_pathfinder,
}


def build(config) -> Task:
  """The Task for `config.task` in text | retrieval | image | pathfinder | pathx."""
  if config.task not in BUILDERS:
    raise UserError(f"config key task={config.task!r}; this module builds {', '.join(BUILDERS)}")
  return BUILDERS[config.task](config)
