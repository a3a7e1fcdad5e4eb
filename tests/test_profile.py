"""Profiling for users: `train.profile_steps` writes a jax.profiler trace of exactly the chosen
steps, `fnetlab bench --profile` one traced step per row, and bad values are one-line errors."""

from __future__ import annotations

import glob
import gzip
import json
import os

import pytest

from fnetlab.bench import timing
from fnetlab.commands import bench as bench_cmd
from fnetlab.common import config as config_lib
from fnetlab.common.errors import UserError
from fnetlab.train.profile import parse_steps
from fnetlab.train.trainer import train_and_evaluate

CONFIG = os.path.join(os.path.dirname(__file__), os.pardir, "configs", "bench", "lra_text.py")
TINY_MODEL = {
  "model.num_layers": "1",
  "model.d_model": "16",
  "model.d_ff": "32",
  "model.num_heads": "2",
  "model.head_hidden": "0",
  "model.vocab_size": "37",
}


def tiny_train_config(**train):
  config = config_lib.load(CONFIG, TINY_MODEL)
  cfg = timing.row_config(config, timing.label_overrides(config, "fourier"), 8, 2, "float32")
  cfg.train.update(
    steps=3, log_every=1, eval_every=3, checkpoint_every=3, async_checkpoints=False, **train
  )
  return cfg


def perfetto_events(logdir) -> list[dict]:
  files = glob.glob(os.path.join(logdir, "plugins", "profile", "*", "perfetto_trace.json.gz"))
  assert len(files) == 1, files
  with gzip.open(files[0]) as f:
    return json.load(f)["traceEvents"]


@pytest.mark.slow
def test_three_step_run_traces_the_chosen_steps(tmp_path):
  workdir = tmp_path / "run"
  train_and_evaluate(tiny_train_config(profile_steps="2,3"), str(workdir))
  logdir = workdir / "profile"
  assert glob.glob(str(logdir / "plugins" / "profile" / "*" / "*.xplane.pb"))  # TensorBoard
  events = perfetto_events(logdir)
  steps = sorted(int(e["args"]["step_num"]) for e in events if e.get("name") == "train")
  assert steps == [2, 3]  # step 1 (and its compilation) is not in the trace
  # The device side is there too: XLA's fused kernels of the step, by HLO name.
  assert any("fusion" in str(e.get("name")) for e in events)


@pytest.mark.slow
def test_no_trace_by_default(tmp_path):
  workdir = tmp_path / "run"
  train_and_evaluate(tiny_train_config(), str(workdir))
  assert not (workdir / "profile").exists()


@pytest.mark.parametrize(
  "text, expect", [("", None), ("4", (4, 4)), ("2,5", (2, 5)), (" 2, 5 ", (2, 5))]
)
def test_parse_steps(text, expect):
  assert parse_steps(text) == expect


@pytest.mark.parametrize("text", ["0", "5,2", "a,b", "1,2,3", "1:3"])
def test_bad_profile_steps_is_a_one_line_error_before_the_workdir(tmp_path, text):
  workdir = tmp_path / "run"
  with pytest.raises(UserError, match="train.profile_steps"):
    train_and_evaluate(tiny_train_config(profile_steps=text), str(workdir))
  assert not workdir.exists()


@pytest.mark.slow
def test_bench_profile_writes_one_trace_per_row(tmp_path):
  out, prof = tmp_path / "bench", tmp_path / "prof"
  args = [f"--config={CONFIG}", *(f"--config.{k}={v}" for k, v in TINY_MODEL.items())]
  args += ["--batch=2", "--warmup=1", "--repeats=1", "--mixers=fourier", "--seq_lens=8"]
  assert bench_cmd.main(["fnetlab bench", *args, f"--out={out}", f"--profile={prof}"]) == 0
  assert sorted(os.listdir(prof)) == ["ff_only-N8", "fourier-N8"]
  for row in ("ff_only-N8", "fourier-N8"):
    steps = [e for e in perfetto_events(prof / row) if e.get("name") == "train"]
    assert len(steps) == 1
