"""The training system against independent oracles: resumed vs uninterrupted runs (with a real
SIGKILL), one device vs eight, one process vs two, and one-line errors on bad input."""

from __future__ import annotations

import json
import os
import signal
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


def test_resume_after_sigkill_is_bit_identical(cache, tmp_path):
  straight, resumed = tmp_path / "straight", tmp_path / "resumed"
  common = [
    "--config.train.steps=24",
    "--config.train.checkpoint_every=12",
    "--config.train.log_every=6",
    "--config.train.eval_every=12",
  ]
  cli(train_args(straight, "mixer=fourier,runlocal", *common), cache)

  # Same command, killed with SIGKILL once the step-12 checkpoint exists, then resumed.
  proc = subprocess.Popen(
    [
      sys.executable,
      "-m",
      "fnetlab",
      *train_args(resumed, "mixer=fourier,runlocal", *common, "--config.train.steps=24"),
    ],
    env=env_for(cache, extra={"FNETLAB_TEST_SLOW_STEP": "0.5"}),
    stdout=subprocess.DEVNULL,
    stderr=subprocess.DEVNULL,
    cwd=ROOT,
  )
  ckpt = resumed / "checkpoints" / "12"
  deadline = time.time() + 240
  while not ckpt.exists() and time.time() < deadline and proc.poll() is None:
    time.sleep(0.05)
  assert ckpt.exists(), "the run never wrote its step-12 checkpoint"
  proc.send_signal(signal.SIGKILL)
  proc.wait()
  assert not (resumed / "checkpoints" / "24").exists(), "killed too late to test a resume"
  out = cli(train_args(resumed, "mixer=fourier,runlocal", *common), cache)
  assert "resuming from step 12" in out.stdout

  s1, p1 = final_params(str(straight))
  s2, p2 = final_params(str(resumed))
  assert s1 == s2 == 24
  for (k1, a), (k2, b) in zip(p1, p2, strict=True):
    assert k1 == k2
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
  assert losses(str(straight))[24] == losses(str(resumed))[24]


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


def test_two_processes_match_one(cache, tmp_path):
  import portpicker

  port = portpicker.pick_unused_port()
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
  out = cli(train_args(workdir, "mixer=fourier,runlocal", *args, "--config.train.steps=6"), cache)
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
  assert (workdir / "eval_test_2.json").exists()


def test_nonfinite_loss_stops_and_keeps_last_good_checkpoint(cache, tmp_path):
  workdir = tmp_path / "w"
  every = [
    "--config.train.checkpoint_every=2",
    "--config.train.eval_every=2",
    "--config.train.log_every=2",
    "--config.optim.schedule=constant",
    "--config.optim.warmup_steps=0",
  ]
  cli(train_args(workdir, "mixer=fourier,runlocal", "--config.train.steps=4", *every), cache)
  # Continue with an absurd learning rate: the loss blows up within a few steps.
  blowup = ["--config.train.steps=40", "--config.optim.lr=1e30", "--config.optim.clip_norm=0.0"]
  out = cli(train_args(workdir, "mixer=fourier,runlocal", *every, *blowup), cache, check=False)
  assert out.returncode == 2 and "non-finite" in out.stderr, out.stderr
  assert "Traceback" not in out.stderr
  steps = sorted(int(s) for s in os.listdir(workdir / "checkpoints") if s.isdigit())
  assert steps[-1] == 4, f"a checkpoint was written after the blow-up: {steps}"
  import jax

  from fnetlab.common.checkpoints import load_params

  restored, step = load_params(str(workdir))
  assert step == 4
  assert all(np.isfinite(np.asarray(x)).all() for x in jax.tree.leaves(restored))


def test_changed_config_is_an_error_and_damages_nothing(cache, tmp_path):
  workdir = tmp_path / "w"
  every = ["--config.train.checkpoint_every=2", "--config.train.eval_every=2"]
  cli(train_args(workdir, "mixer=fourier,runlocal", "--config.train.steps=2", *every), cache)
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
