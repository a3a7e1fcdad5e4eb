"""GLUE inputs (Wang et al. 2018) as FNet feeds them (google-research f_net `run_classifier`).

Data: tfds `glue/<task>` read with `tfds.data_source` (array_record files; no TensorFlow at
read time), never downloaded (see fnetlab.data.tfds_source). The offline GLUE-style tasks
(`OFFLINE`: SNLI, the movie-snippet sentiment tasks, TREC) are read from their own files by
fnetlab.data.snli, snippets and trec, with a labelled test split. Inputs are
`[CLS] a [SEP] b [SEP]` with type ids 0/1, padded to `max_len` (see
fnetlab.data.tokenizer.pack_pair for the truncation rule), tokenised batch by batch.
"""

from __future__ import annotations

import numpy as np

from fnetlab.data import snippets, snli, tfds_source, trec
from fnetlab.data import tokenizer as tokenization

# Offline task -> its reader (data config -> split name -> rows of text keys and `label`).
OFFLINE = {
  "snli": snli.splits,
  "sentiment": lambda data_cfg: snippets.splits(data_cfg, regression=False),
  "sentiment_score": lambda data_cfg: snippets.splits(data_cfg, regression=True),
  "trec": trec.splits,
}


class GlueSource:
  """A GLUE split tokenised on the fly: `batch(indices)` reads and packs those examples."""

  def __init__(self, examples, keys, tok, max_len: int, regression: bool):
    self.examples, self.keys, self.tok = examples, keys, tok
    self.max_len, self.regression = max_len, regression

  def __len__(self) -> int:
    return len(self.examples)

  def batch(self, indices) -> dict[str, np.ndarray]:
    rows = [self.examples[int(i)] for i in indices]
    segments = [self.tok.encode_batch([_text(r[k]) for r in rows]) for k in self.keys]
    packed = [
      tokenization.pack_pair(
        self.tok, segments[0][j], segments[1][j] if len(segments) > 1 else None, self.max_len
      )
      for j in range(len(rows))
    ]
    ids = np.stack([p[0] for p in packed])
    labels = np.asarray([r["label"] for r in rows])
    return {
      "inputs": ids,
      "type_ids": np.stack([p[1] for p in packed]),
      "mask": ids != self.tok.pad_id,
      "label": labels.astype(np.float32 if self.regression else np.int32),
    }


def _text(value) -> str:
  if isinstance(value, bytes):
    return value.decode("utf-8")
  return str(value.item() if isinstance(value, np.ndarray) else value)


def load_splits(task: str, splits, data_cfg) -> dict:
  """Our split name -> random-access examples of tfds `glue/<task>` (never downloads).

  `splits` are (ours, tfds) split-name pairs besides `train`. `data.mock_examples > 0`
  reads `tfds.testing.mock_data` random examples instead: smoke tests without GLUE (random
  text, random labels)."""
  import tensorflow_datasets as tfds
  import tensorflow_datasets.text.glue  # noqa: F401  registers glue/*

  name = f"glue/{task}"
  wanted = (("train", "train"), *splits)
  if data_cfg.get("mock_examples", 0) > 0:
    with tfds.testing.mock_data(num_examples=int(data_cfg.mock_examples)):
      out = {}
      for ours, theirs in wanted:
        src = tfds.data_source(name, split=theirs)
        out[ours] = [src[i] for i in range(len(src))]
      return out
  return {ours: tfds_source.open_split(name, theirs, data_cfg.dir) for ours, theirs in wanted}


def glue_splits(task: str, splits, keys, tok, max_len: int, regression: bool, data_cfg) -> dict:
  """Our split name -> GlueSource of packed `keys` for tfds `glue/<task>`."""
  raw = load_splits(task, splits, data_cfg)
  return {k: GlueSource(v, keys, tok, max_len, regression) for k, v in raw.items()}


def offline_splits(task: str, keys, tok, max_len: int, regression: bool, data_cfg) -> dict:
  """Our split name -> GlueSource of packed `keys` for an offline task (`OFFLINE`)."""
  raw = OFFLINE[task](data_cfg)
  return {k: GlueSource(v, keys, tok, max_len, regression) for k, v in raw.items()}
