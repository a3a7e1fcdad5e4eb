"""fnetlab sweep / report: point expansion, naming, skip and resume, failure recording, and the
aggregation over tiny real runs."""

from __future__ import annotations

import csv
import json
import os

import pytest

from fnetlab.commands import sweep
from fnetlab.common import config as config_lib
from fnetlab.common.errors import UserError
from fnetlab.results.report import write_report

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LISTOPS = os.path.join(ROOT, "configs/lra/listops.py")

TINY = {
  "data.generate.num_train": 64,
  "data.generate.num_val": 16,
  "data.generate.num_test": 16,
  "model.max_len": 32,
  "model.num_layers": 1,
  "model.d_model": 16,
  "model.d_ff": 32,
  "train.steps": 4,
  "train.batch_size": 8,
  "train.eval_batch_size": 8,
  "train.log_every": 2,
  "train.eval_every": 2,
  "train.checkpoint_every": 2,
  "train.async_checkpoints": False,
}

SWEEP_FILE = """
from fnetlab.config import apply_runlocal, base, parse_arg
import importlib.util, os
spec = importlib.util.spec_from_file_location("lo", {listops!r})
lo = importlib.util.module_from_spec(spec); spec.loader.exec_module(lo)

def get_config(arg=None):
  return lo.get_config("runlocal")

def sweep_grid(add, arg=None):
  for mixer in ("fourier", "ff_only"):
    add(**{{"model.mixer": mixer}})
  add(**{{"model.mixer": "attention", "model.num_heads": 3}})  # d_model 16 % 3 != 0: fails
"""


@pytest.fixture
def sweep_config(tmp_path, monkeypatch):
  monkeypatch.setenv("FNETLAB_CACHE", str(tmp_path / "cache"))
  path = tmp_path / "cfg.py"
  path.write_text(SWEEP_FILE.format(listops=LISTOPS))
  return str(path)


def test_points_and_names():
  grid = sweep.points(f"{LISTOPS}:runlocal", "mixers")
  mixers = [p["model.mixer"] for p in grid]
  assert mixers == [
    "fourier",
    "linear",
    "random",
    "ff_only",
    "spectral",
    "lsra",
    "attention",
    "worker",
  ]
  assert (
    sweep.point_name({"model.mixer": "worker", "model.pooling": "mean"})
    == "model.mixer-worker_model.pooling-mean"
  )
  assert grid[-1] == {"model.mixer": "worker"}  # its pooling is the worker's own (mean)
  assert sweep.point_name({"optim.lr": 0.001}) == "optim.lr-0.001"
  names = [sweep.point_name(p) for p in grid]
  assert len(set(names)) == len(names)


def test_unknown_sweep_and_key(tmp_path):
  with pytest.raises(UserError, match="sweep_nope"):
    sweep.points(f"{LISTOPS}:runlocal", "nope")
  with pytest.raises(UserError, match="train.stepz"):
    config_lib.load(f"{LISTOPS}:runlocal", {"train.stepz": 3})


def test_list_prints_train_commands(capsys, tmp_path):
  assert (
    sweep.main(
      [
        "fnetlab sweep",
        f"--config={LISTOPS}:runlocal",
        "--sweep=mixers",
        f"--workdir={tmp_path}",
        "--list",
      ]
    )
    == 0
  )
  lines = capsys.readouterr().out.strip().splitlines()
  assert len(lines) == 8
  idx, name, cmd = lines[7].split("\t")
  assert idx == "7" and name == "model.mixer-worker"
  assert cmd.startswith("fnetlab train --config=") and "--config.model.mixer=worker" in cmd
  assert f"--workdir={tmp_path}/model.mixer-worker" in cmd


def test_run_skip_resume_fail_and_report(sweep_config, tmp_path, snapshot):
  root = str(tmp_path / "root")
  os.makedirs(root)
  statuses = sweep.run_sweep(f"{sweep_config}", "grid", root, extra=TINY)
  assert [s for _, s in statuses] == ["ok", "ok", "failed"]
  failed = json.load(
    open(os.path.join(root, "model.mixer-attention_model.num_heads-3", "failed.json"))
  )
  assert "num_heads" in failed["error"]

  # Finished points are skipped; an interrupted one resumes from its checkpoint.
  point = os.path.join(root, "model.mixer-ff_only")
  os.remove(os.path.join(point, "results.json"))
  statuses = sweep.run_sweep(f"{sweep_config}", "grid", root, extra=TINY, only={0, 1})
  assert statuses == [("model.mixer-fourier", "done"), ("model.mixer-ff_only", "ok")]
  with open(os.path.join(point, "metrics.jsonl")) as f:
    steps = [json.loads(line)["step"] for line in f if "train_loss" in line]
  assert steps == [2, 4], "the resumed point must not redo finished steps"

  # A skipped point and the sweep root are left byte for byte (mtimes too); a new shared
  # override that would change finished points is refused before anything is written.
  before = snapshot(root)
  assert sweep.run_sweep(sweep_config, "grid", root, extra=TINY, only={0, 1}) == [
    ("model.mixer-fourier", "done"),
    ("model.mixer-ff_only", "done"),
  ]
  assert snapshot(root) == before
  with pytest.raises(UserError, match=r"point model.mixer-fourier: config key optim.lr: saved"):
    sweep.run_sweep(sweep_config, "grid", root, extra={**TINY, "optim.lr": 3e-3})
  assert snapshot(root) == before

  text = write_report(root)
  rows = list(csv.DictReader(open(os.path.join(root, "summary.csv"))))
  by_point = {r["point"]: r for r in rows}
  assert by_point["model.mixer-attention_model.num_heads-3"]["status"] == "failed"
  ok = by_point["model.mixer-fourier"]
  assert ok["status"] == "ok" and int(ok["step"]) == 4 and int(ok["params"]) > 0
  truth = json.load(open(os.path.join(root, "model.mixer-fourier", "results.json")))
  assert float(ok["test_accuracy"]) == pytest.approx(truth["test"]["accuracy"], abs=1e-4)
  failed_line = next(
    x for x in text.splitlines() if x.startswith("| model.mixer-attention_model.num_heads-3 |")
  )
  assert "| failed |" in failed_line
  assert "## LRA" in text and "| fourier (reduced) | " in text and "FNet (paper)" in text
  for name in ("summary.md", "curves.png", "pareto.png"):
    assert os.path.getsize(os.path.join(root, name)) > 0
