"""LRA tasks: official hyperparameters, encodings against hand-written oracles, one training
step per task on mock / tiny generated data, one-line errors on bad data, the results table."""

from __future__ import annotations

import importlib.util
import json
import os

import numpy as np
import pytest
import tensorflow_datasets as tfds

from fnetlab.common.errors import UserError
from fnetlab.data import lra as data_lra
from fnetlab.data import pathfinder, tfds_source
from fnetlab.data.data_error import DataError
from fnetlab.models import spec_from_config
from fnetlab.models.layers import build_blocks
from fnetlab.tasks import lra

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TASKS = ("listops", "text", "retrieval", "image", "pathfinder", "pathx")


def get_config(task, arg=None):
  spec = importlib.util.spec_from_file_location(f"lra_{task}", f"{ROOT}/configs/lra/{task}.py")
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.get_config(arg)


# The official LRA table (docs/sources.md) and, where it is silent, the official config files,
# written out by hand: layers, d, qkv, d_ff, heads, batch, steps, peak lr, schedule, warmup,
# weight decay, pooling, positions, dropout, attention dropout, gradient clipping.
OFFICIAL = {
  "listops": (4, 512, 512, 1024, 8, 32, 5000, 0.05 / 1000**0.5, "rsqrt", 1000, 0.1, "cls"),
  "text": (4, 256, 256, 1024, 4, 32, 20000, 0.05 / 8000**0.5, "rsqrt", 8000, 0.1, "cls"),
  "retrieval": (4, 128, 128, 512, 4, 32, 5000, 0.05 / 8000**0.5, "rsqrt", 8000, 0.1, "cls"),
  "image": (1, 128, 64, 128, 8, 256, 35000, 5e-4, "cosine", 175, 0.0, "cls"),
  "pathfinder": (4, 32, 16, 32, 4, 512, 62400, 1e-3, "cosine", 312, 0.0, "mean"),
  "pathx": (1, 32, 16, 32, 2, 64, 500000, 1e-3, "cosine", 2500, 0.0, "mean"),
}
EXTRA = {  # positions, dropout, attention dropout, clip, tokens per sequence (incl. CLS)
  # ListOps, Text, Retrieval keep TransformerEncoder's dropout 0.1 and attention dropout 0.1.
  "listops": ("sinusoidal", 0.1, 0.1, 0.0, 2001),  # 2000 tokens + CLS
  "text": ("sinusoidal", 0.1, 0.1, 0.0, 1001),
  "retrieval": ("sinusoidal", 0.1, 0.1, 0.0, 4000),  # no CLS in the matching towers
  "image": ("learned", 0.3, 0.2, 0.0, 1025),
  "pathfinder": ("sinusoidal", 0.2, 0.1, 0.0, 1024),
  "pathx": ("learned", 0.1, 0.1, 1.0, 16384),
}


@pytest.mark.parametrize("task", TASKS)
def test_official_hyperparameters(task):
  c = get_config(task)
  layers, d, qkv, d_ff, heads, batch, steps, lr, schedule, warmup, wd, pooling = OFFICIAL[task]
  m, o, t = spec_from_config(c.model), c.optim, c.train  # the model as built
  assert (m.num_layers, m.d_model, m.d_ff, m.num_heads) == (layers, d, d_ff, heads)
  assert (m.qkv_dim or m.d_model) == qkv
  assert (t.batch_size, t.steps, o.schedule, o.warmup_steps) == (batch, steps, schedule, warmup)
  assert o.lr == pytest.approx(lr, rel=1e-9)
  assert (o.weight_decay, o.b1, o.b2, o.eps) == (wd, 0.9, 0.98, 1e-9)
  assert m.resolved_pooling == pooling and m.head_hidden == d_ff and not m.pooler_dense
  positions, dropout, att_dropout, clip, length = EXTRA[task]
  assert (m.positions, m.dropout_rate, o.clip_norm, m.max_len) == (positions, dropout, clip, length)
  assert m.attention_dropout == att_dropout
  # The official LRA block for every mixer: pre-LN, final LayerNorm, LRA embeddings and init.
  assert (m.norm, m.final_norm, m.ln_eps, m.init_scheme) == ("pre", "layer", 1e-6, "lra")
  assert m.mixer_dropout and m.ffn_inner_dropout and not m.attention_bias
  assert (m.embed_init_std, m.type_vocab_size, m.embed_norm, m.embed_projection) == (
    1.0,
    0,
    False,
    False,
  )


def test_attention_settings_follow_a_mixer_override():
  """qkv_dim and the attention dropout are model fields: a mixer switched on the command line
  gets them, and a qkv_dim given as a mixer option is refused, naming the model key."""
  c = get_config("image")  # built for fourier, then switched on the command line
  c.model.mixer = "attention"
  spec = spec_from_config(c.model)
  assert build_blocks(spec)[0].mixer.qkv_dim == 64 and spec.attention_dropout == 0.2
  c = get_config("image", "mixer=attention")
  c.model.qkv_dim = 32  # an explicit dimension wins over the size's
  assert build_blocks(spec_from_config(c.model))[0].mixer.qkv_dim == 32
  with pytest.raises(UserError, match="model.qkv_dim"):
    spec_from_config(get_config("image", "mixer=attention,qkv_dim=32").model)
  spec = spec_from_config(get_config("image", "mixer=worker").model)
  assert build_blocks(spec)[0].attention_dropout == 0.2  # the worker layer takes it too


def test_runlocal_shrinks_everything():
  for task in TASKS:
    c = get_config(task, "runlocal")
    assert c.model.size == "tiny" and c.model.d_model is None and c.train.steps <= 400
    assert spec_from_config(c.model).qkv_dim is None
    if task in ("pathfinder", "pathx"):
      assert c.data.generate.num <= 4000


# ----------------------------------------------------------------------------- encodings


def test_text_bytes_match_the_byte_encoder_rule():
  texts = [b"ab", "h\u00e9llo w\u00f6rld".encode(), b"x" * 40]
  tokens, lengths = data_lra.pack_bytes(texts, 8)
  src = data_lra.TokenSource(tokens, lengths, [0, 1, 0], offset=1, cls_id=257)
  batch = src.batch(np.arange(3))
  for row, mask, text in zip(batch["inputs"], batch["mask"], texts, strict=True):
    want = [257] + [b + 1 for b in text[:8]]  # ByteTextEncoder: byte + 1, pad 0
    want += [0] * (9 - len(want))
    assert row.tolist() == want
    assert mask.tolist() == [i < 1 + len(text[:8]) for i in range(9)]


def test_grayscale_matches_tf_rgb_to_grayscale():
  # tf.image.rgb_to_grayscale(uint8): trunc(255.5 * (0.2989 r + 0.5870 g + 0.1140 b) / 255).
  assert data_lra.grayscale(np.asarray([[255, 255, 255]], np.uint8)).tolist() == [255]
  assert data_lra.grayscale(np.asarray([[255, 0, 0]], np.uint8)).tolist() == [76]
  assert data_lra.grayscale(np.asarray([[0, 255, 0]], np.uint8)).tolist() == [149]
  assert data_lra.grayscale(np.asarray([[0, 0, 255]], np.uint8)).tolist() == [29]
  rgb = np.random.default_rng(0).integers(0, 256, (4000, 3), dtype=np.uint8)
  exact = (rgb.astype(np.float64) / 255) @ [0.2989, 0.5870, 0.1140] * 255.5
  got = data_lra.grayscale(rgb).astype(np.int64)
  near_integer = np.abs(exact - np.round(exact)) < 1e-4  # float32 may land either side
  assert np.array_equal(got[~near_integer], np.floor(exact[~near_integer]).astype(np.int64))
  assert np.all(np.abs(got - exact) < 1.0001)


def test_image_reads_the_official_cifar_splits(monkeypatch):
  calls = []
  rng = np.random.default_rng(0)

  def fake(name, split, data_dir):
    calls.append((name, split))
    return [{"image": rng.integers(0, 256, (32, 32, 3), np.uint8), "label": 3}] * 2

  monkeypatch.setattr(tfds_source, "open_split", fake)
  task = lra.build(get_config("image", "runlocal"))
  assert calls == [("cifar10", "train[:90%]"), ("cifar10", "train[90%:]"), ("cifar10", "test")]
  b = task.splits["test"].batch([0])
  assert b["inputs"].shape == (1, 1025) and b["inputs"][0, 0] == 256 and b["mask"].all()
  assert b["inputs"][0, 1:].max() < 256

  c = get_config("image", "runlocal")
  c.data.mask_zero_pixels = True  # the official inputs > 0 mask: black pixels hidden
  b = lra.build(c).splits["test"].batch([0])
  assert b["mask"][0, 1:].tolist() == (b["inputs"][0, 1:] > 0).tolist()
  assert b["mask"][0, 0] == b["mask"][0, 1]  # CLS copies the first pixel's flag

  monkeypatch.setattr(
    tfds_source, "open_split", lambda *a: [{"image": np.zeros((28, 28, 3)), "label": 0}]
  )
  with pytest.raises(UserError, match=r"cifar10 train\[:90%\].*\(28, 28, 3\)"):
    lra.build(get_config("image", "runlocal"))


def test_missing_tfds_data_names_the_folder_and_the_fix(tmp_path):
  c = get_config("text", "runlocal")
  c.data.dir = str(tmp_path / "tfds")
  with pytest.raises(UserError, match=rf"imdb_reviews.*{tmp_path}/tfds.*tfds build imdb_reviews"):
    lra.build(c)


# ----------------------------------------------------------------------------- retrieval

RETRIEVAL_ROWS = {
  "train": [
    ("1", "p1", "p2", "graph parsing", "tree parsing"),
    ("0", "p1", "p3", "graph parsing", "caf\u00e9 menus"),
    ("1.0", "p4", "p2", "neural nets", "tree parsing"),
    ("0.0", "p3", "p4", "caf\u00e9 menus", "neural nets"),
  ],
  "eval": [("1", "p1", "p2", "graph parsing", "tree parsing")],
  "test": [("0", "p3", "p1", "caf\u00e9 menus", "graph parsing")],
}


def write_retrieval(folder, rows=RETRIEVAL_ROWS):
  folder.mkdir(parents=True, exist_ok=True)
  for split, lines in rows.items():
    text = "".join("\t".join(fields) + "\n" for fields in lines)
    (folder / f"new_aan_pairs.{split}.tsv").write_bytes(text.encode())
  return str(folder)


@pytest.mark.parametrize("cls", [False, True])
def test_retrieval_reads_the_official_tsv(tmp_path, cls):
  """Official: each tower reads max_len bytes with no CLS (pooling takes the first byte);
  data.cls=true prepends a CLS token, one position of max_len."""
  c = get_config("retrieval", "runlocal")
  c.data.dir = write_retrieval(tmp_path / "aan")
  c.data.cls = cls
  c.model.max_len = 8 + cls  # 8 bytes (+ CLS)
  task = lra.build(c)
  assert [len(task.splits[s]) for s in ("train", "validation", "test")] == [4, 1, 1]
  assert task.info["documents"] == 4  # shared papers are stored once
  assert task.model.spec.vocab_size == 257 + cls
  b = task.splits["train"].batch(np.arange(4))
  assert b["label"].tolist() == [1, 0, 1, 0]

  def ids(text):
    raw = text.encode()[:8]
    return [257] * cls + [x + 1 for x in raw] + [0] * (8 - len(raw))

  for i, (_, _, _, t1, t2) in enumerate(RETRIEVAL_ROWS["train"]):
    assert b["inputs"][i].tolist() == ids(t1) and b["inputs2"][i].tolist() == ids(t2)
    assert b["mask2"][i].sum() == cls + min(8, len(t2.encode()))


def test_zero_pixel_mask_is_the_official_inputs_gt_0():
  """data.mask_zero_pixels: mask = ids > 0, the official encoder's rule, which hides black
  pixels; the CLS position copies the first pixel's flag. Off: every pixel is visible."""
  pixels = np.asarray([[0, 5, 0, 255], [7, 0, 0, 1]], np.uint8)
  for cls_id, mask_zero in ((256, True), (None, True), (256, False)):
    src = data_lra.TokenSource(pixels, [4, 4], [0, 1], offset=0, cls_id=cls_id, mask_zero=mask_zero)
    b = src.batch(np.arange(2))
    visible = pixels > 0 if mask_zero else np.ones_like(pixels, bool)
    if cls_id is not None:
      assert b["inputs"][:, 0].tolist() == [256, 256]
      visible = np.concatenate([visible[:, :1], visible], axis=1)
    assert b["mask"].tolist() == visible.tolist()


def test_retrieval_bad_input(tmp_path):
  c = get_config("retrieval", "runlocal")
  with pytest.raises(UserError, match="data.dir is empty.*lra_release.gz"):
    lra.build(c)
  c.data.dir = str(tmp_path / "nowhere")
  with pytest.raises(DataError, match=rf"{tmp_path}/nowhere.*lra_release.gz"):
    lra.build(c)
  rows = {k: list(v) for k, v in RETRIEVAL_ROWS.items()}
  del rows["test"]
  c.data.dir = write_retrieval(tmp_path / "partial", rows)
  with pytest.raises(DataError, match=r"partial/new_aan_pairs.test.tsv.*not found.*lra_release"):
    lra.build(c)
  rows = {k: list(v) for k, v in RETRIEVAL_ROWS.items()}
  rows["train"][2] = ("1", "p4", "p2", "no second text")
  c.data.dir = write_retrieval(tmp_path / "short", rows)
  with pytest.raises(DataError, match=r"short/new_aan_pairs.train.tsv:3: expected 5"):
    lra.build(c)
  rows["train"][2] = ("yes", "p4", "p2", "a", "b")
  c.data.dir = write_retrieval(tmp_path / "label", rows)
  with pytest.raises(DataError, match=r"label/new_aan_pairs.train.tsv:3: label 'yes'"):
    lra.build(c)


# ----------------------------------------------------------------------------- pathfinder


def test_pathfinder_generates_reads_and_splits(tmp_path, monkeypatch):
  monkeypatch.setenv("FNETLAB_CACHE", str(tmp_path / "cache"))
  c = get_config("pathfinder", "runlocal")
  c.data.generate.num, c.data.generate.workers = 20, 1
  task = lra.build(c)
  assert [len(task.splits[s]) for s in ("train", "validation", "test")] == [16, 2, 2]
  # Oracle: the PNGs in the official layout, read with PIL, in split_indices order.
  from PIL import Image

  folder = os.path.join(task.info["data_dir"], "curv_contour_length_14")
  train_idx = pathfinder.split_indices(20, 0)[0]
  meta = open(os.path.join(folder, "metadata", "0.npy")).read().split("\n")
  b = task.splits["train"].batch(np.arange(16))
  for row, i in enumerate(train_idx):
    sub, name, _, label = meta[i].split()[:4]
    png = np.asarray(Image.open(os.path.join(folder, sub, name))).reshape(-1)
    assert b["inputs"][row].tolist() == png.tolist() and b["label"][row] == int(label)
  assert b["mask"].all() and b["inputs"].shape == (16, 1024)
  again = lra.build(c)  # the cache is reused, not regenerated
  assert again.info["data_dir"] == task.info["data_dir"]


def test_pathfinder_bad_input(tmp_path):
  c = get_config("pathfinder", "runlocal")
  c.data.dir = str(tmp_path / "missing")
  with pytest.raises(DataError, match=rf"{tmp_path}/missing.*fnetlab data pathfinder"):
    lra.build(c)
  pathfinder.write_dataset(tmp_path / "pf", 32, "hard", 4, seed=1, workers=1)
  c.data.dir = str(tmp_path / "pf")
  c.data.resolution, c.model.max_len = 64, 4096  # 32x32 files read as Pathfinder-64
  with pytest.raises(DataError, match=r"sample_\d+\.png: image is 32x32, expected 64x64"):
    lra.build(c)
  os.remove(tmp_path / "pf" / "curv_contour_length_14" / "metadata" / "0.npy")
  with pytest.raises(DataError, match=r"no metadata/\*\.npy files.*fnetlab data pathfinder"):
    lra.build(c)


# ----------------------------------------------------------------------------- training


def tiny(c):
  c.model.num_layers, c.model.d_model, c.model.d_ff, c.model.num_heads = 1, 16, 32, 2
  c.train.steps, c.train.batch_size, c.train.eval_batch_size = 1, 2, 4
  c.train.max_eval_examples = 4
  c.train.async_checkpoints = False
  return c


@pytest.mark.parametrize("task", TASKS)
def test_each_task_trains_one_step(task, tmp_path, monkeypatch):
  from fnetlab.train.trainer import train_and_evaluate

  monkeypatch.setenv("FNETLAB_CACHE", str(tmp_path / "cache"))
  c = tiny(get_config(task, "runlocal"))
  if task == "listops":
    c.data.generate.update(num_train=16, num_val=4, num_test=4)
    c.model.max_len = 64
  if task in ("text", "retrieval"):
    c.model.max_len = 33
  if task == "retrieval":
    c.data.dir = write_retrieval(tmp_path / "aan")
  if task in ("pathfinder", "pathx"):
    c.data.generate.num, c.data.generate.workers = 10, 1
  if task in ("text", "image"):
    with tfds.testing.mock_data(num_examples=6):
      results = train_and_evaluate(c, str(tmp_path / "run"))
  else:
    results = train_and_evaluate(c, str(tmp_path / "run"))
  assert results["step"] == 1 and results["task"] == task
  assert 0.0 <= results["test"]["accuracy"] <= 1.0 and np.isfinite(results["test"]["loss"])
  with open(tmp_path / "run" / "results.json") as f:
    assert json.load(f)["test"] == results["test"]


# ----------------------------------------------------------------------------- table


def fake_run(folder, task, mixer, test, val, hybrid="none", step=10**6):
  folder.mkdir(parents=True)
  res = {"task": task, "mixer": mixer, "test": {"accuracy": test}, "validation": {"accuracy": val}}
  res["step"] = step  # default: beyond every task's full protocol
  (folder / "results.json").write_text(json.dumps(res))
  (folder / "config.json").write_text(json.dumps({"model": {"hybrid": hybrid, "hybrid_layers": 2}}))
  return str(folder)


def test_lra_table(tmp_path):
  from fnetlab.results.lra import lra_table

  runs = [
    fake_run(tmp_path / "a", "listops", "fourier", 0.30, 0.31),
    fake_run(tmp_path / "b", "listops", "fourier", 0.20, 0.40),  # best validation wins
    fake_run(tmp_path / "c", "pathfinder", "fourier", 0.60, 0.5),
    fake_run(tmp_path / "d", "listops", "attention", 0.37, 0.3),
    fake_run(tmp_path / "e", "listops", "fourier", 0.5, 0.9, hybrid="top"),
  ]
  lines = lra_table(runs).splitlines()
  assert lines[0] == "| model | ListOps | Text | Retrieval | Image | Pathfinder | Path-X | avg |"
  rows = {line.split(" | ")[0][2:]: line.split(" | ")[1:] for line in lines[2:]}
  assert rows["fourier"] == ["20.00", "—", "—", "—", "60.00", "—", "40.00 (2/5) |"]
  assert rows["attention"][0] == "37.00" and rows["attention"][-1] == "37.00 (1/5) |"
  assert rows["fourier + attention (top, 2)"][0] == "50.00"
  # The paper's own averages (its Table 5: 55.30 and 55.83) come out of its rows.
  assert rows["FNet (paper)"][-1] == "55.30 |" and rows["FNet (paper)"][-2] == "FAIL"
  assert rows["Transformer (paper)"][-1] == "55.83 |"

  # Pathfinder at another resolution is a column of its own; runs of other tasks stay out.
  runs.append(fake_run(tmp_path / "f", "pathfinder64", "fourier", 0.55, 0.5))
  runs.append(fake_run(tmp_path / "g", "glue/sst2", "fourier", 0.9, 0.9))
  lines = lra_table(runs, reference=False).splitlines()
  assert lines[0].split(" | ")[5:8] == ["Pathfinder", "pathfinder64", "Path-X"]
  assert len([x for x in lines if x.startswith("|")]) == 2 + 3 and "sst2" not in lines[0]
  fourier = next(line for line in lines if line.startswith("| fourier |"))
  assert fourier.split(" | ")[6] == "55.00" and fourier.endswith("| 40.00 (2/5) |")

  # A CPU-scale run (fewer steps than the full protocol) is labelled reduced, and the note
  # says each cell is one run chosen on validation.
  text = lra_table([fake_run(tmp_path / "h", "listops", "linear", 0.2, 0.2, step=400)])
  assert "| linear (reduced) | 20.00 |" in text and "best validation accuracy" in text

  with pytest.raises(UserError, match=rf"{tmp_path}/nothing/results.json"):
    lra_table([str(tmp_path / "nothing")])
  assert "attention" in lra_table([str(tmp_path / "nothing"), runs[3]], strict=False)
