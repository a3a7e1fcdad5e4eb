"""`fnetlab data`: the files it writes are the official formats the loaders read, the same seed
writes the same bytes, and mistakes give one-line errors with exit status 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fnetlab.commands import data as cli
from fnetlab.common.errors import UserError
from fnetlab.data import listops, pathfinder

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SMALL_LISTOPS = [
  "--num_train=12",
  "--num_val=3",
  "--num_test=3",
  "--min_length=5",
  "--max_length=40",
  "--max_depth=4",
]


def run(*args):
  return cli.main(["fnetlab data", *args])


def tree_bytes(folder: Path) -> dict[str, bytes]:
  return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*.*"))}


def independent_value(text: str) -> int:
  """ListOps value by recursive descent over the official text (not the package's evaluator)."""
  toks = [t for t in text.split() if t not in ("(", ")")]

  def node(i):
    if toks[i].isdigit():
      return int(toks[i]), i + 1
    op, args, i = toks[i], [], i + 1
    while toks[i] != "]":
      v, i = node(i)
      args.append(v)
    s = sorted(args)
    value = {
      "[MIN": s[0],
      "[MAX": s[-1],
      "[MED": int(np.median(s)),
      "[SM": sum(s) % 10,
    }[op]
    return value, i + 1

  value, end = node(0)
  assert end == len(toks)
  return value


def test_listops_writes_official_tsvs(tmp_path, capsys):
  assert run("listops", f"--out={tmp_path}/a", "--seed=3", *SMALL_LISTOPS) == 0
  assert "18 ListOps examples" in capsys.readouterr().out
  for split, n in (("train", 12), ("val", 3), ("test", 3)):
    lines = (tmp_path / "a" / f"basic_{split}.tsv").read_text().splitlines()
    assert lines[0] == "Source\tTarget" and len(lines) == n + 1
    for line in lines[1:]:
      text, label = line.split("\t")
      assert independent_value(text) == int(label)
      assert 5 < len(listops.tokenize(text)) < 40
  loaded = listops.load_splits(tmp_path / "a")
  assert [len(loaded[s][0]) for s in listops.SPLITS] == [12, 3, 3]
  # Determinism: the same seed writes the same bytes; another seed does not.
  run("listops", f"--out={tmp_path}/b", "--seed=3", *SMALL_LISTOPS)
  run("listops", f"--out={tmp_path}/c", "--seed=4", *SMALL_LISTOPS)
  assert tree_bytes(tmp_path / "a") == tree_bytes(tmp_path / "b")
  assert tree_bytes(tmp_path / "a") != tree_bytes(tmp_path / "c")


def test_listops_refuses_to_overwrite(tmp_path):
  run("listops", f"--out={tmp_path}", *SMALL_LISTOPS)
  with pytest.raises(UserError, match="basic_train.tsv already exists.*--overwrite"):
    run("listops", f"--out={tmp_path}", *SMALL_LISTOPS)
  assert run("listops", f"--out={tmp_path}", *SMALL_LISTOPS, "--overwrite") == 0
  with pytest.raises(UserError, match="already exists"):  # --overwrite does not stick
    run("listops", f"--out={tmp_path}", *SMALL_LISTOPS)


def test_pathfinder_writes_the_official_layout(tmp_path, capsys):
  args = ["--resolution=32", "--difficulty=hard", "--num=6", "--workers=1"]
  assert (
    run("pathfinder", f"--out={tmp_path}/a", "--seed=5", f"--grid={tmp_path}/g.png", *args) == 0
  )
  assert "images/s" in capsys.readouterr().out
  folder = tmp_path / "a" / "curv_contour_length_14"
  assert sorted(p.name for p in (folder / "imgs" / "0").iterdir()) == [
    f"sample_{i}.png" for i in range(6)
  ]
  meta = (folder / "metadata" / "0.npy").read_text().splitlines()
  assert [line.split()[:3] for line in meta] == [
    ["imgs/0", f"sample_{i}.png", str(i)] for i in range(6)
  ]
  images, labels = pathfinder.load_dataset(tmp_path / "a", "hard", 32)
  assert images.shape == (6, 32, 32) and labels.tolist() == [int(m.split()[3]) for m in meta]
  assert (tmp_path / "g.png").stat().st_size > 0
  run("pathfinder", f"--out={tmp_path}/b", "--seed=5", *args)
  run("pathfinder", f"--out={tmp_path}/c", "--seed=6", *args)
  assert tree_bytes(tmp_path / "a") == tree_bytes(tmp_path / "b")
  assert tree_bytes(tmp_path / "a") != tree_bytes(tmp_path / "c")


@pytest.mark.parametrize(
  "args, message",
  [
    (["mnist", "--out=x"], "usage: fnetlab data {listops|pathfinder}"),
    (["pathfinder"], "missing required flag.*--out"),
    (["pathfinder", "--out=x", "--resolution=48"], "resolution"),
    (["pathfinder", "--out=x", "--difficulty=extreme"], "difficulty"),
    (["listops", "--out=x", "--num_train=-1"], "num_train"),
    (
      ["listops", "--out=x", "--resolution=64"],
      "--resolution is not a flag of `fnetlab data listops`",
    ),
    (["pathfinder", "--out=x", "--max_depth=3"], "--max_depth is not a flag"),
  ],
)
def test_bad_flags_are_user_errors(args, message):
  with pytest.raises(UserError, match=message):
    run(*args)


def test_cli_error_is_one_line_with_status_2(tmp_path):
  proc = subprocess.run(
    [sys.executable, "-m", "fnetlab", "data", "pathfinder", f"--out={tmp_path}", "--resolution=48"],
    capture_output=True,
    text=True,
    cwd=ROOT,
    timeout=120,
  )
  assert proc.returncode == 2
  assert proc.stderr.startswith("fnetlab data: error:") and "resolution" in proc.stderr
  assert len(proc.stderr.strip().splitlines()) == 1
