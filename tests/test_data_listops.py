"""ListOps generator, TSV files and vocabulary (fnetlab.data.listops)."""

from __future__ import annotations

import collections
import math
import os
import statistics
import subprocess
import sys

import numpy as np
import pytest

from fnetlab.data import listops
from fnetlab.data.data_error import DataError

SMALL = dict(min_length=10, max_length=100, max_depth=6)


# An evaluator independent of fnetlab: parse the official text form as the binary tree that
# the official `to_string` prints, `node := token | "(" node node ")"`, then unfold the
# left-nested argument chain `((((op, c1), c2), ...), "]")` and apply the operator.
def _parse(tokens: list[str], i: int = 0):
  if tokens[i] == "(":
    left, i = _parse(tokens, i + 1)
    right, i = _parse(tokens, i)
    assert tokens[i] == ")", f"expected ')' at {i}"
    return (left, right), i + 1
  return tokens[i], i + 1


def _value(node) -> int:
  if isinstance(node, str):
    assert node.isdigit() and len(node) == 1, node
    return int(node)
  chain, closing = node
  assert closing == "]", closing
  args = []
  while isinstance(chain, tuple):
    chain, arg = chain
    args.append(_value(arg))
  args.reverse()
  op = chain
  if op == "[MIN":
    return min(args)
  if op == "[MAX":
    return max(args)
  if op == "[MED":
    return math.floor(statistics.median(args))
  if op == "[SM":
    return sum(args) % 10
  raise AssertionError(f"unknown operator {op}")


def reference_value(text: str) -> int:
  tokens = text.split()
  tree, end = _parse(tokens)
  assert end == len(tokens)
  return _value(tree)


@pytest.fixture(scope="module")
def splits():
  return listops.generate_splits(300, 40, 40, seed=0, **SMALL)


def test_reference_evaluator_on_official_example():
  assert reference_value("( ( ( [MAX 4 ) 3 ) ] )") == 4
  assert reference_value("( ( ( ( ( [MED 4 ) 3 ) 1 ) 8 ) ] )") == 3  # floor(median) = 3
  assert listops.evaluate("( ( ( [MAX 4 ) 3 ) ] )") == 4


def test_labels_match_independent_evaluator(splits):
  for rows in splits.values():
    for text, label in rows:
      assert label == reference_value(text), text


def test_lengths_respect_bounds(splits):
  for rows in splits.values():
    for text, _ in rows:
      n = sum(tok not in ("(", ")") for tok in text.split())
      assert SMALL["min_length"] < n < SMALL["max_length"]
      assert n == len(listops.tokenize(text))


def test_split_sizes_and_no_duplicates(splits):
  assert [len(splits[s]) for s in ("train", "val", "test")] == [300, 40, 40]
  texts = [t for rows in splits.values() for t, _ in rows]
  assert len(set(texts)) == len(texts)


def test_deterministic_per_seed(splits):
  assert listops.generate_splits(300, 40, 40, seed=0, **SMALL) == splits
  other = listops.generate_splits(300, 40, 40, seed=1, **SMALL)
  assert other["train"] != splits["train"]


def test_operators_get_two_to_ten_arguments():
  counts = collections.Counter()
  for text, _ in listops.generate(300, seed=2, **SMALL):
    stack = []
    for tok in listops.tokenize(text):
      if tok.startswith("["):
        stack.append(0)
      elif tok == "X":
        counts[stack.pop()] += 1
        if stack:
          stack[-1] += 1
      elif stack:
        stack[-1] += 1
  assert min(counts) == 2 and max(counts) == 10  # random.randint(2, 10) is inclusive


def test_label_distribution_is_skewed():
  # LRA: labels 0 and 9 are about 17% each. Uniform labels would give 10% +- 0.7% here.
  labels = np.array([y for _, y in listops.generate(2000, seed=3, **SMALL)])
  freq = np.bincount(labels, minlength=10) / len(labels)
  assert freq[0] > 0.125 and freq[9] > 0.125, freq
  assert freq[0] > freq[1:9].max() and freq[9] > freq[1:9].max(), freq


def test_tsv_round_trip(splits, tmp_path):
  paths = listops.write_tsv(tmp_path, splits)
  assert sorted(p.name for p in paths.values()) == [
    "basic_test.tsv",
    "basic_train.tsv",
    "basic_val.tsv",
  ]
  assert (tmp_path / "basic_val.tsv").read_text().splitlines()[0] == "Source\tTarget"
  loaded = listops.load_splits(tmp_path)
  for split, rows in splits.items():
    texts, labels = loaded[split]
    assert texts == [t for t, _ in rows]
    assert labels.dtype == np.int32
    assert labels.tolist() == [y for _, y in rows]


@pytest.mark.parametrize(
  "bad_row, message",
  [
    ("( ( [MAX 1 ) 2 ) ] )\t2\textra", "expected 2 tab-separated fields"),
    ("( ( [MAX 1 ) 2 ) ] )\ttwo", "not an integer"),
    ("( ( [MAX 1 ) 2 ) ] )\t12", "outside 0-9"),
  ],
)
def test_malformed_row_names_file_and_line(tmp_path, bad_row, message):
  path = tmp_path / "basic_train.tsv"
  path.write_text(f"Source\tTarget\n( ( [MIN 1 ) 2 ) ] )\t1\n{bad_row}\n")
  with pytest.raises(DataError, match=message) as err:
    listops.read_tsv(path)
  assert f"{path}:3: " in str(err.value) and "basic_train.tsv:3" in str(err.value)
  assert "\n" not in str(err.value)


def test_bad_header_names_line_one(tmp_path):
  path = tmp_path / "basic_val.tsv"
  path.write_text("text\tlabel\n( ( [MIN 1 ) 2 ) ] )\t1\n")
  with pytest.raises(DataError, match=r"basic_val\.tsv:1: expected the header"):
    listops.read_tsv(path)


def test_missing_file_names_path_and_how_to_generate(tmp_path):
  path = tmp_path / "nowhere" / "basic_test.tsv"
  with pytest.raises(DataError) as err:
    listops.read_tsv(path)
  assert str(path) in str(err.value)
  assert "fnetlab data listops --out=" in str(err.value)
  with pytest.raises(DataError, match="fnetlab data listops"):
    listops.load_splits(tmp_path / "nowhere")


def test_crlf_files_are_accepted(tmp_path):
  path = tmp_path / "basic_train.tsv"
  path.write_bytes(b"Source\tTarget\r\n( ( ( [SM 5 ) 7 ) ] )\t2\r\n")
  texts, labels = listops.read_tsv(path)
  assert texts == ["( ( ( [SM 5 ) 7 ) ] )"] and labels.tolist() == [2]


def test_vocabulary_encode_decode_round_trip(splits):
  assert len(listops.VOCAB) == 16 and listops.VOCAB[listops.PAD] == 0
  assert sorted(listops.VOCAB.values()) == list(range(16))
  texts = [t for t, _ in splits["val"]]
  ids = listops.encode(texts, max_len=120)
  assert ids.dtype == np.int32 and ids.shape == (len(texts), 120)
  for text, row in zip(texts, ids, strict=True):
    assert listops.decode(row) == " ".join(listops.tokenize(text))
    n = len(listops.tokenize(text))
    assert (row[:n] > 0).all() and (row[n:] == 0).all()
  truncated = listops.encode(texts[:1], max_len=5)
  assert truncated.shape == (1, 5) and (truncated[0] == ids[0, :5]).all()


def test_ids_do_not_depend_on_order_of_appearance():
  a, b = "( ( ( [SM 5 ) 7 ) ] )", "( ( ( ( [MED 0 ) 9 ) 3 ) ] )"
  ab = listops.encode([a, b], max_len=8)
  ba = listops.encode([b, a], max_len=8)
  assert (ab[0] == ba[1]).all() and (ab[1] == ba[0]).all()


def test_ids_do_not_depend_on_hash_seed():
  code = (
    "from fnetlab.data import listops; "
    "print(listops.encode(['( ( ( ( [MED 0 ) 9 ) 3 ) ] )', '( ( [SM 1 ) ( ( [MIN 2 ) 4 ) ] ) ]"
    " )'], 12).tolist(), sorted(listops.VOCAB.items()))"
  )
  outs = []
  for hash_seed in ("1", "2"):
    env = dict(os.environ, PYTHONHASHSEED=hash_seed)
    proc = subprocess.run(
      [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    outs.append(proc.stdout)
  assert outs[0] == outs[1]


def test_unknown_token_is_named():
  with pytest.raises(DataError, match=r"unknown ListOps token '\[FIRST'"):
    listops.encode(["( ( [FIRST 1 ) 2 ) ] )"], max_len=10)


# ----------------------------------------------------------------------------- model inputs


def test_load_sources_prepend_cls_and_pad(tmp_path):
  rows = [("( ( [MAX 4 ) 3 ) ] )", 4), ("( ( ( [SM 5 ) 7 ) ] )", 2)]
  listops.write_tsv(tmp_path, {s: rows for s in listops.SPLITS})
  src = listops.load_sources(tmp_path, max_len=6)
  assert sorted(src) == ["test", "train", "validation"]
  b = src["validation"].batch(np.arange(2))
  v = listops.VOCAB
  # CLS, then the bracket-free tokens with "]" as X, truncated to max_len - 1, pad 0.
  assert b["inputs"].tolist() == [
    [listops.CLS_ID, v["[MAX"], v["4"], v["3"], v["X"], 0],
    [listops.CLS_ID, v["[SM"], v["5"], v["7"], v["X"], 0],
  ]
  assert b["mask"].tolist() == [[True] * 5 + [False]] * 2
  assert b["label"].tolist() == [4, 2] and listops.CLS_ID == listops.VOCAB_SIZE


def test_unknown_token_in_a_file_names_file_and_line(tmp_path):
  listops.write_tsv(tmp_path, {s: [("( ( [MAX 4 ) 3 ) ] )", 4)] for s in listops.SPLITS})
  path = listops.split_path(tmp_path, "val")
  path.write_text("Source\tTarget\n( ( [MAX 4 ) 3 ) ] )\t4\n\n( ( [FIRST 4 ) 3 ) ] )\t4\n")
  with pytest.raises(DataError, match=r"\[FIRST") as err:
    listops.load_sources(tmp_path, max_len=16)
  assert str(err.value).startswith(f"{path}:4: ") and "\n" not in str(err.value)
