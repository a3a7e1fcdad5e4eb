"""A malformed data line, end to end: `fnetlab train` prints one line naming file:line on
stderr, exits 2, and writes nothing (no workdir, no cache)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOOD_LISTOPS = "( ( [MIN 1 ) 2 ) ] )\t1\n"
GOOD_PAIR = "1\tp1\tp2\tgraph parsing\ttree parsing\n"
CASES = {
  # task: (file names, contents with a bad third line, expected message)
  "listops": (
    ("basic_train.tsv", "basic_val.tsv", "basic_test.tsv"),
    "Source\tTarget\n" + GOOD_LISTOPS + "( ( [MAX 1 ) 2 ) ] )\ttwo\n",
    "basic_train.tsv:3: label 'two' is not an integer",
  ),
  "retrieval": (
    tuple(f"new_aan_pairs.{s}.tsv" for s in ("train", "eval", "test")),
    GOOD_PAIR * 2 + "0\tp1\tp3\tgraph parsing\n",
    "new_aan_pairs.train.tsv:3: expected 5 tab-separated fields",
  ),
}


@pytest.mark.parametrize("task", sorted(CASES))
def test_malformed_line_is_one_line_exit_2_nothing_written(task, tmp_path):
  names, text, message = CASES[task]
  data = tmp_path / "data"
  data.mkdir()
  for name in names:
    (data / name).write_text(text)
  workdir, cache = tmp_path / "run", tmp_path / "cache"
  env = {**os.environ, "FNETLAB_CACHE": str(cache), "JAX_PLATFORMS": "cpu"}
  proc = subprocess.run(
    [
      sys.executable,
      "-m",
      "fnetlab",
      "train",
      f"--config={ROOT}/configs/lra/{task}.py:runlocal",
      f"--config.data.dir={data}",
      f"--workdir={workdir}",
    ],
    capture_output=True,
    text=True,
    cwd=ROOT,
    env=env,
    timeout=300,
  )
  lines = [x for x in proc.stderr.splitlines() if x.strip()]
  assert proc.returncode == 2, proc.stderr
  assert len(lines) == 1 and f"{data}/{message}" in lines[0], proc.stderr
  assert not workdir.exists() or not any(workdir.iterdir())
  assert not cache.exists()
  assert sorted(os.listdir(data)) == sorted(names)  # the inputs are left as they were
