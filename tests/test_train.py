"""The training system against independent oracles: resumed vs uninterrupted runs (with a real
SIGKILL and a real SIGINT), one device vs eight, one process vs two, a workdir's record
(byte-identical re-runs, refused config changes, warm-step speed), and one-line errors on bad
input."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from fnetlab import mixers

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = os.path.join(ROOT, "configs/lra/listops.py")
# A small ListOps set and a tiny model: every run below compiles in seconds.
TINY = [
  "--config.data.generate.num_train=256",
  "--config.data.generate.num_val=64",
  "--config.data.generate.num_test=64",
  "--config.model.max_len=64",
  "--config.model.num_layers=1",
  "--config.model.d_model=16",
  "--config.model.d_ff=32",
  "--config.train.batch_size=8",
  "--config.train.eval_batch_size=16",
  "--config.train.max_eval_examples=32",
  "--config.train.async_checkpoints=False",
]


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
  return str(tmp_path_factory.mktemp("cache"))


def env_for(cache, devices=1, extra=None):
  env = dict(os.environ, FNETLAB_CACHE=cache, JAX_PLATFORMS="cpu", PYTHONUNBUFFERED="1")
  env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={devices}"
  env.update(extra or {})
  return env


def cli(args, cache, devices=1, extra=None, check=True, timeout=300):
  proc = subprocess.run(
    [sys.executable, "-m", "fnetlab", *args],
    env=env_for(cache, devices, extra),
    capture_output=True,
    text=True,
    timeout=timeout,
    cwd=ROOT,
  )
  if check and proc.returncode != 0:
    raise AssertionError(f"fnetlab {args[0]} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
  return proc


# `fnetlab` in a subprocess with every step paced by Trainer.run's public `on_step` hook, so a
# test can signal it between two checkpoints.
PACED = """
import sys, time
from fnetlab import cli
from fnetlab.train import trainer
run = trainer.Trainer.run
trainer.Trainer.run = lambda self, **kw: run(self, on_step=lambda s: time.sleep(0.4), **kw)
sys.exit(cli.main())
"""


def paced(args, cache):
  return subprocess.Popen(
    [sys.executable, "-c", PACED, *args],
    env=env_for(cache),
    stdout=subprocess.PIPE,
    stderr=subprocess.PIPE,
    text=True,
    cwd=ROOT,
  )


def wait_for(path, proc, seconds=240):
  deadline = time.time() + seconds
  while not path.exists() and time.time() < deadline and proc.poll() is None:
    time.sleep(0.05)
  assert path.exists(), f"the run never wrote {path}"


def train_args(workdir, arg="mixer=fourier,runlocal", *overrides):
  return ["train", f"--config={CONFIG}:{arg}", f"--workdir={workdir}", *TINY, *overrides]


def losses(workdir):
  with open(os.path.join(workdir, "metrics.jsonl")) as f:
    rows = [json.loads(line) for line in f]
  return {r["step"]: r["train_loss"] for r in rows if "train_loss" in r}


def final_params(workdir):
  import jax

  from fnetlab.common.checkpoints import load_params

  params, step = load_params(workdir)
  return step, jax.tree_util.tree_flatten_with_path(params)[0]


# --------------------------------------------------------------------------- in-process runs


def tiny_config(cache, mixer, steps, **train):
  from fnetlab.config import parse_value

  os.environ["FNETLAB_CACHE"] = cache
  import importlib.util

  spec = importlib.util.spec_from_file_location("listops_cfg", CONFIG)
  mod = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(mod)
  c = mod.get_config(f"mixer={mixer},runlocal")
  for flag in TINY:
    key, value = flag[len("--config.") :].split("=")
    node = c
    *path, leaf = key.split(".")
    for p in path:
      node = node[p]
    node[leaf] = parse_value(value)
  c.train.steps = steps
  c.train.log_every = max(1, steps // 4)
  c.train.eval_every = steps
  c.train.checkpoint_every = steps
  for k, v in train.items():
    c.train[k] = v
  return c


@pytest.mark.parametrize("mixer", mixers.names())
def test_one_step_every_mixer(mixer, cache, tmp_path):
  from fnetlab.train.trainer import train_and_evaluate

  res = train_and_evaluate(tiny_config(cache, mixer, 1), str(tmp_path))
  assert res["step"] == 1 and res["mixer"] == mixer
  assert np.isfinite(res["validation"]["loss"])
  assert os.path.exists(tmp_path / "results.json")
  assert set(json.load(open(tmp_path / "results.json"))) >= {
    "task",
    "mixer",
    "step",
    "params",
    "train_steps_per_sec",
    "validation",
    "test",
  }


def test_loss_decreases(cache, tmp_path):
  from fnetlab.train.trainer import train_and_evaluate

  c = tiny_config(cache, "attention", 60)
  c.optim.lr = 3e-3
  train_and_evaluate(c, str(tmp_path))
  curve = losses(str(tmp_path))
  steps = sorted(curve)
  assert curve[steps[-1]] < curve[steps[0]] - 0.1, curve


# --------------------------------------------------------------------------- resume


def assert_same_final_params(a, b, steps):
  s1, p1 = final_params(str(a))
  s2, p2 = final_params(str(b))
  assert s1 == s2 == steps
  for (k1, x), (k2, y) in zip(p1, p2, strict=True):
    assert k1 == k2
    np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
  assert losses(str(a))[steps] == losses(str(b))[steps]


def test_resume_after_sigkill_or_sigint_is_bit_identical(cache, tmp_path):
  common = [
    "--config.train.steps=24",
    "--config.train.checkpoint_every=12",
    "--config.train.log_every=6",
    "--config.train.eval_every=12",
  ]
  straight = tmp_path / "straight"
  cli(train_args(straight, "mixer=fourier,runlocal", *common), cache)
  for sig in (signal.SIGKILL, signal.SIGINT):
    # The same command, signalled once the step-12 checkpoint exists, then resumed.
    resumed = tmp_path / sig.name
    args = train_args(resumed, "mixer=fourier,runlocal", *common)
    proc = paced(args, cache)
    wait_for(resumed / "checkpoints" / "12", proc)
    time.sleep(0.5)  # inside step 13..24, well before 24 (each step takes >= 0.4 s)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert not (resumed / "checkpoints" / "24").exists(), "signalled too late to test a resume"
    if sig == signal.SIGINT:
      # One line naming the last checkpoint and the command that resumes, exit 130.
      assert proc.returncode == 130, err
      lines = [ln for ln in err.splitlines() if ln.strip() and not ln.startswith("step ")]
      assert len(lines) == 1, err  # beside the progress lines
      assert "Traceback" not in err and "KeyboardInterrupt" not in err
      assert f"last checkpoint is step 12 in {resumed / 'checkpoints'}" in lines[0], lines[0]
      assert f"--workdir={resumed}" in lines[0] and "fnetlab train" in lines[0]
    out = cli(args, cache)
    assert "resuming from step 12" in out.stdout
    assert_same_final_params(straight, resumed, 24)


# --------------------------------------------------------------------------- the record


def test_rerun_of_a_finished_run_changes_no_file(cache, tmp_path, snapshot):
  workdir = tmp_path / "w"
  args = train_args(workdir, "mixer=fourier,runlocal", "--config.train.steps=2")
  first = cli(args, cache)
  assert "step 2/2: train_loss=" in first.stderr and "\r" not in first.stderr  # a log, no bar
  before = snapshot(workdir)
  out = cli(args, cache)
  assert out.stdout.strip().splitlines() == [f"finished at step 2; nothing to do ({workdir})"]
  assert snapshot(workdir) == before  # every byte and every mtime


def test_changed_key_is_refused_before_anything_is_written(cache, tmp_path, snapshot):
  workdir = tmp_path / "w"
  every = ["--config.train.checkpoint_every=2", "--config.train.eval_every=2"]
  cli(train_args(workdir, "mixer=fourier,runlocal", "--config.train.steps=2", *every), cache)
  before = snapshot(workdir)
  for extra, needle in [
    (["--config.optim.lr=0.003"], "optim.lr: saved 0.001 in "),
    (["--config.train.steps=4"], "train.steps: saved 2 in "),  # longer only with --extend
    (["--config.model.d_model=32"], "model.d_model: saved 16 in "),
  ]:
    out = cli(
      train_args(workdir, "mixer=fourier,runlocal", "--config.train.steps=2", *every, *extra),
      cache,
      check=False,
    )
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], out.stderr
    assert snapshot(workdir) == before

  # --extend trains on; a changed logging cadence is allowed, and both go in the history.
  more = ["--config.train.steps=4", "--config.train.log_every=1", "--extend"]
  cli(train_args(workdir, "mixer=fourier,runlocal", *every, *more), cache)
  history = [json.loads(line) for line in open(workdir / "history.jsonl")]
  events = [(h["event"], h.get("key"), h.get("saved"), h.get("new")) for h in history]
  assert ("extend", None, 2, 4) in events and ("change", "train.log_every", 20, 1) in events
  config = json.load(open(workdir / "config.json"))
  assert config["train"]["steps"] == 4 and config["train"]["log_every"] == 1
  assert json.load(open(workdir / "results.json"))["step"] == 4


def test_config_json_holds_the_resolved_model(cache, tmp_path):
  from fnetlab.models import SIZES

  cli(train_args(tmp_path / "w", "mixer=fourier,runlocal", "--config.train.steps=1"), cache)
  model = json.load(open(tmp_path / "w" / "config.json"))["model"]
  assert model["size"] == "tiny" and model["d_model"] == 16 and model["num_layers"] == 1  # TINY
  assert model["num_heads"] == SIZES["tiny"]["num_heads"]  # None in the config: from the size


def test_steps_per_sec_counts_warm_steps_only(cache, tmp_path):
  """results.json's speed against the same trainer's warm steps timed here (the median of
  three timings): compilation (seconds for this model, against milliseconds per step) would
  make it many times lower."""
  import jax

  from fnetlab.train.trainer import Trainer

  n = 30
  trainer = Trainer(tiny_config(cache, "fourier", n, log_every=10), str(tmp_path))
  res = trainer.run()
  assert res["compile_s"] > 0 and res["train_steps"] == n
  state = trainer.init_state()
  state, _ = trainer.train_step(state, trainer.batch(0))  # compile and warm up
  jax.block_until_ready(state)
  times = []
  for _ in range(3):
    t0 = time.perf_counter()
    for s in range(n):
      state, metrics = trainer.train_step(state, trainer.batch(s))
      if (s + 1) % 10 == 0:
        jax.device_get(metrics)  # the run syncs at every log step
    jax.block_until_ready(state)
    times.append(time.perf_counter() - t0)
  warm = n / sorted(times)[1]
  # A shared machine's load moves both figures; compilation would move the run's by ~30x.
  assert warm / 6 < res["train_steps_per_sec"] < warm * 6, (res, warm)
  assert res["train_steps_per_sec"] > 3 * n / (res["compile_s"] + n / warm)


# --------------------------------------------------------------------------- devices and hosts


def test_eight_devices_match_one(cache, tmp_path):
  args = ["--config.train.steps=8", "--config.train.log_every=1", "--config.model.dropout_rate=0.0"]
  cli(train_args(tmp_path / "one", "mixer=attention,runlocal", *args), cache, devices=1)
  cli(
    train_args(tmp_path / "eight", "mixer=attention,runlocal", *args, "--config.mesh.fsdp=2"),
    cache,
    devices=8,
  )
  one, eight = losses(str(tmp_path / "one")), losses(str(tmp_path / "eight"))
  assert sorted(one) == sorted(eight) == list(range(1, 9))
  np.testing.assert_allclose([eight[s] for s in one], [one[s] for s in one], rtol=1e-5, atol=1e-5)


def free_port() -> int:
  """A TCP port the kernel reports free now (bind to port 0, read it back, release it)."""
  with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
    s.bind(("localhost", 0))
    return s.getsockname()[1]


@pytest.mark.slow
def test_two_processes_match_one(cache, tmp_path):
  port = free_port()
  args = ["--config.train.steps=6", "--config.train.log_every=1", "--config.model.dropout_rate=0.0"]
  cli(train_args(tmp_path / "single", "mixer=fourier,runlocal", *args), cache, devices=2)
  procs = [
    subprocess.Popen(
      [
        sys.executable,
        "-m",
        "fnetlab",
        *train_args(tmp_path / "multi", "mixer=fourier,runlocal", *args),
        f"--coordinator_address=localhost:{port}",
        "--num_processes=2",
        f"--process_id={i}",
      ],
      env=env_for(cache, devices=1),
      stdout=subprocess.PIPE,
      stderr=subprocess.PIPE,
      text=True,
      cwd=ROOT,
    )
    for i in range(2)
  ]
  for p in procs:
    _, err = p.communicate(timeout=300)
    assert p.returncode == 0, err[-3000:]
  single, multi = losses(str(tmp_path / "single")), losses(str(tmp_path / "multi"))
  assert sorted(single) == sorted(multi)
  np.testing.assert_allclose([multi[s] for s in single], [single[s] for s in single], rtol=1e-5)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
  "override, expect",
  [
    ("--config.train.stepz=3", "train.stepz"),
    ("--config.train.steps=abc", "train.steps"),
    ("--config.data.dir=/no/such/dir", "data.dir"),
    ("--config.optim.schedule=bogus", "optim.schedule"),
  ],
)
def test_bad_config_is_one_line_and_creates_nothing(override, expect, cache, tmp_path):
  workdir = tmp_path / "w"
  out = cli(train_args(workdir, "mixer=fourier,runlocal", override), cache, check=False)
  assert out.returncode == 2
  assert expect in out.stderr and "Traceback" not in out.stderr
  assert len(out.stderr.strip().splitlines()) == 1, out.stderr
  assert not workdir.exists()


def test_unknown_mixer_option_in_arg(cache, tmp_path):
  out = cli(train_args(tmp_path / "w", "mixer=fourier,runlocal,causal=True"), cache, check=False)
  assert out.returncode == 2 and "causal" in out.stderr and "Traceback" not in out.stderr


def test_malformed_tsv_names_file_and_line(cache, tmp_path):
  data = tmp_path / "data"
  data.mkdir()
  for split in ("train", "val", "test"):
    (data / f"basic_{split}.tsv").write_text("Source\tTarget\n( [MAX 1 2 ] )\t2\n")
  (data / "basic_train.tsv").write_text("Source\tTarget\n( [MAX 1 2 ] )\t2\nbroken line\n")
  out = cli(
    train_args(tmp_path / "w", "mixer=fourier,runlocal", f"--config.data.dir={data}"),
    cache,
    check=False,
  )
  assert out.returncode == 2 and "basic_train.tsv:3" in out.stderr, out.stderr


def test_corrupt_latest_checkpoint_falls_back(cache, tmp_path):
  workdir = tmp_path / "w"
  args = [
    "--config.train.steps=4",
    "--config.train.checkpoint_every=2",
    "--config.train.eval_every=2",
    "--config.train.log_every=2",
  ]
  cli(train_args(workdir, "mixer=fourier,runlocal", *args), cache)
  # Damage every file of the latest checkpoint's state item.
  for root, _, files in os.walk(workdir / "checkpoints" / "4" / "state"):
    for name in files:
      with open(os.path.join(root, name), "wb") as f:
        f.write(b"garbage")
  ev = cli(["eval", f"--workdir={workdir}", "--step=4"], cache, check=False)
  assert ev.returncode == 2 and "checkpoints/4 is unreadable" in ev.stderr, ev.stderr
  assert len(ev.stderr.strip().splitlines()) == 1
  out = cli(
    train_args(workdir, "mixer=fourier,runlocal", *args, "--config.train.steps=6", "--extend"),
    cache,
  )
  assert "unreadable" in out.stdout + out.stderr
  assert "resuming from step 2" in out.stdout
  assert (workdir / "checkpoints" / "6").exists()


def test_eval_writes_json(cache, tmp_path):
  workdir = tmp_path / "w"
  cli(
    train_args(
      workdir,
      "mixer=fourier,runlocal",
      "--config.train.steps=2",
      "--config.train.eval_every=2",
      "--config.train.checkpoint_every=2",
    ),
    cache,
  )
  out = cli(["eval", f"--workdir={workdir}", "--step=best", "--split=test"], cache)
  result = json.loads(out.stdout[out.stdout.index("{") :])
  assert result["step"] == 2 and 0.0 <= result["metrics"]["accuracy"] <= 1.0
  assert result["metrics"]["examples"] == 32  # train.max_eval_examples, as in training
  assert (workdir / "eval_test_2.json").exists()
  for whole in ("-1", "all"):  # the whole split: data.generate.num_test examples
    out = cli(["eval", f"--workdir={workdir}", "--split=test", f"--max_examples={whole}"], cache)
    assert json.loads(out.stdout[out.stdout.index("{") :])["metrics"]["examples"] == 64


def test_eval_refuses_config_overrides(cache, tmp_path):
  out = cli(
    ["eval", f"--workdir={tmp_path}", "--config.train.max_eval_examples=-1"], cache, check=False
  )
  assert out.returncode == 2 and "--config.train.max_eval_examples" in out.stderr
  assert len(out.stderr.strip().splitlines()) == 1


def test_eval_of_damaged_checkpoint_data_prints_one_line(cache, tmp_path):
  """The array data damaged, the metadata intact: the restore fails inside TensorStore,
  whose threads would print 'Event loop is closed' tracebacks at exit."""
  workdir = tmp_path / "w"
  cli(train_args(workdir, "mixer=fourier,runlocal", "--config.train.steps=2"), cache)
  state = workdir / "checkpoints" / "2" / "state"
  damaged = 0
  for root, _, names in os.walk(state):
    for name in names:
      if os.sep + "d" in root:  # the OCDBT data files
        with open(os.path.join(root, name), "wb") as f:
          f.write(b"garbage")
        damaged += 1
  assert damaged
  ev = cli(["eval", f"--workdir={workdir}"], cache, check=False)
  assert ev.returncode == 2, ev.stderr
  assert ev.stderr.strip().splitlines() == [ev.stderr.strip()], ev.stderr
  assert "checkpoints/2 is unreadable" in ev.stderr


def test_nonfinite_loss_stops_and_keeps_last_good_checkpoint(cache, tmp_path):
  import re

  import jax

  from fnetlab.common.checkpoints import load_params

  workdir = tmp_path / "w"
  # An absurd learning rate: the loss blows up within a few steps; a checkpoint every step.
  args = [
    "--config.train.steps=40",
    "--config.train.checkpoint_every=1",
    "--config.train.eval_every=1",
    "--config.train.log_every=1",
    "--config.optim.schedule=constant",
    "--config.optim.warmup_steps=0",
    "--config.optim.lr=1e30",
    "--config.optim.clip_norm=0.0",
  ]
  out = cli(train_args(workdir, "mixer=fourier,runlocal", *args), cache, check=False)
  assert out.returncode == 2 and "non-finite" in out.stderr, out.stderr
  assert "Traceback" not in out.stderr
  bad = int(re.search(r"non-finite loss or gradient at step (\d+)", out.stderr).group(1))
  steps = sorted(int(s) for s in os.listdir(workdir / "checkpoints") if s.isdigit())
  assert steps and steps[-1] == bad - 1, f"blow-up at {bad}, checkpoints {steps}"
  restored, step = load_params(str(workdir))
  assert step == bad - 1
  assert all(np.isfinite(np.asarray(x)).all() for x in jax.tree.leaves(restored))


@pytest.mark.slow
def test_checkpoint_that_does_not_fit_is_an_error_and_damages_nothing(cache, tmp_path):
  """Without a config.json to compare with, the checkpoint's own shapes still refuse a
  changed model."""
  workdir = tmp_path / "w"
  every = ["--config.train.checkpoint_every=2", "--config.train.eval_every=2"]
  cli(train_args(workdir, "mixer=fourier,runlocal", "--config.train.steps=2", *every), cache)
  os.remove(workdir / "config.json")
  before = sorted(os.listdir(workdir / "checkpoints"))
  out = cli(
    train_args(
      workdir, "mixer=fourier,runlocal", "--config.train.steps=4", "--config.model.d_ff=48", *every
    ),
    cache,
    check=False,
  )
  assert out.returncode == 2 and "does not fit this config" in out.stderr
  assert "intermediate" in out.stderr and "(48,)" in out.stderr
  assert sorted(os.listdir(workdir / "checkpoints")) == before


def test_gradient_accumulation_matches_one_big_batch(cache, tmp_path):
  args = ["--config.train.steps=4", "--config.train.log_every=1", "--config.model.dropout_rate=0.0"]
  cli(train_args(tmp_path / "one", "mixer=attention,runlocal", *args), cache)
  cli(
    train_args(tmp_path / "acc", "mixer=attention,runlocal", *args, "--config.train.grad_accum=4"),
    cache,
  )
  one, acc = losses(str(tmp_path / "one")), losses(str(tmp_path / "acc"))
  assert sorted(one) == sorted(acc) == [1, 2, 3, 4]
  np.testing.assert_allclose([acc[s] for s in one], [one[s] for s in one], rtol=1e-5, atol=1e-6)
