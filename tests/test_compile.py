"""`fnetlab compile`: a config's very train/eval steps compiled for TPU slices on a CPU host.

Needs libtpu (`make install` installs it); without it the compile tests skip and say so.
Oracles: the parameter tree's bytes divided by the FSDP axis, an analytic FLOP count of the
FF-only model, the explicit kernel's quadratic memory against the Pallas kernel's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import jax
import numpy as np
import pytest

from fnetlab import cli
from fnetlab.bench import aot, chips
from fnetlab.common.errors import UserError
from fnetlab.common.platforms import has_libtpu

needs_libtpu = pytest.mark.skipif(
  not has_libtpu(), reason=f"libtpu is not installed ({aot.install_line()}; make install does it)"
)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CONFIG = """
from fnetlab.config import base

def get_config(arg=None):
  c = base("synthetic", {{"mixer": "{mixer}"}}, {options})
  c.model.update(num_layers={layers}, d_model={d}, d_ff={ff}, num_heads={heads}, max_len={n},
                 vocab_size={vocab}, type_vocab_size=0, dropout_rate=0.0,
                 attention_dropout={att_drop}, dtype="bfloat16", pooler_dense=False)
  c.train.batch_size = c.train.eval_batch_size = {batch}
  c.data.kind = "classify"
  c.data.seq_len = {n}
  return c
"""


def write_config(tmp_path, name="cfg.py", **kw):
  values = dict(
    mixer="ff_only",
    layers=1,
    d=64,
    ff=256,
    heads=4,
    n=128,
    vocab=64,
    att_drop=0.0,
    batch=16,
    options={},
  )
  values.update(kw)
  path = tmp_path / name
  path.write_text(textwrap.dedent(CONFIG.format(**values)))
  return str(path)


def load(path, *overrides):
  from fnetlab.common import config

  return config.load(path, dict(o.split("=", 1) for o in overrides))


@pytest.fixture(autouse=True)
def optimised_compiles():
  """The suite compiles unoptimised programs at 'highest' matmul precision (conftest.py);
  memory and FLOPs are read here from the programs a run would get (and Mosaic takes no
  float32-precision bf16 matmul)."""
  old = jax.config.read("jax_disable_most_optimizations")
  jax.config.update("jax_disable_most_optimizations", False)
  with jax.default_matmul_precision("default"):
    yield
  jax.config.update("jax_disable_most_optimizations", old)


@needs_libtpu
def test_compile_json_and_fsdp_shards_the_params(tmp_path, capsys):
  """v5e:2x2 (one host) and v5e:4x4 (four hosts) compile; with mesh.fsdp=4 each device holds
  a quarter of the parameters (up to the few replicated vectors)."""
  cfg = write_config(tmp_path)
  out = tmp_path / "out"
  code = cli.main(["fnetlab", "compile", f"--config={cfg}", "--topology=v5e:2x2", f"--out={out}"])
  assert code == 0
  record = json.loads((out / "compile.json").read_text())
  want = {"topology", "chips", "processes", "device_kind", "mesh", "kernel", "per_device", "fits"}
  want |= {"flops_per_step", "bytes_accessed", "step_time_lower_bound_s", "tokens_per_s_estimate"}
  assert want <= set(record)
  assert set(record["per_device"]) >= {
    "params_bytes",
    "opt_state_bytes",
    "temp_bytes",
    "total_bytes",
    "hbm_bytes",
  }
  assert (record["topology"], record["chips"], record["processes"]) == ("v5e:2x2", 4, 1)
  assert record["device_kind"] == "TPU v5 lite" and record["mesh"] == {"data": 4, "fsdp": 1}
  assert record["per_device"]["hbm_bytes"] == chips.CHIPS["v5e"].hbm_bytes and record["fits"]
  assert "estimate" in capsys.readouterr().out

  fsdp = aot.compile_for(load(cfg, "mesh.fsdp=4"), "v5e:4x4")
  assert (fsdp["chips"], fsdp["processes"], fsdp["mesh"]) == (16, 4, {"data": 4, "fsdp": 4})
  total = record["per_device"]["params_bytes"]  # replicated over data: the whole tree
  assert total == fsdp["params"] * 4  # float32 params
  assert abs(fsdp["per_device"]["params_bytes"] - total / 4) <= 0.02 * total
  assert abs(fsdp["per_device"]["opt_state_bytes"] - 2 * total / 4) <= 0.04 * total


@pytest.mark.slow
@needs_libtpu
def test_ff_only_flops_match_the_analytic_count(tmp_path):
  """Per device: 3 x (forward matmul FLOPs) = 6 x tokens x (2 d ff per layer + d d for FNet's
  embedding projection), over the 4 data-parallel devices. The rest (XLA counts ~100 FLOPs per FF activation for GELU,
  forward and backward, plus norms, embeddings, Adam) is ~2% at d 512, ~7% at d 128."""
  layers, d, ff, n, batch = 1, 512, 2048, 64, 8
  cfg = load(write_config(tmp_path, layers=layers, d=d, ff=ff, n=n, batch=batch))
  trainer, compiled = _compiled_train_step(cfg)
  flops = compiled.cost_analysis()["flops"]
  analytic = 6 * batch * n * (layers * 2 * d * ff + d * d) / 4
  assert abs(flops - analytic) <= 0.10 * analytic, (flops, analytic)


def _compiled_train_step(cfg, topology="v5e:2x2"):
  """The Trainer over the topology's devices and its compiled train step (no eval step)."""
  from fnetlab.train.trainer import Trainer

  trainer = Trainer(cfg, devices=aot.topology(topology)[2])
  state, batch = trainer.abstract_inputs()
  return trainer, trainer.train_step.lower(state, batch).compile()


def _train_step(tmp_path, n):
  path = write_config(tmp_path, f"att{n}.py", mixer="attention", n=n, batch=8)
  return _compiled_train_step(load(path))


@pytest.mark.slow
@needs_libtpu
def test_tpu_attention_is_pallas_and_linear_in_memory(tmp_path):
  """The record says splash, the compiled program holds the Mosaic kernel, and the step's
  temporaries grow at most 5x for 4x the length (explicit scores would grow 16x)."""
  trainer, small = _train_step(tmp_path, 256)
  _, large = _train_step(tmp_path, 1024)
  assert trainer.kernels() == "splash"
  assert "tpu_custom_call" in large.as_text()
  small, large = (c.memory_analysis().temp_size_in_bytes for c in (small, large))
  assert 0 < large <= 5 * small, (small, large)


@needs_libtpu
def test_attention_dropout_falls_back_to_explicit_and_says_so(tmp_path):
  from fnetlab.train.trainer import Trainer

  cfg = load(write_config(tmp_path, mixer="attention", n=256, att_drop=0.1))
  trainer = Trainer(cfg, devices=aot.topology("v5e:2x2")[2])
  assert trainer.kernels() == "explicit"  # training: probability dropout
  assert trainer.kernels(train=False) == "splash"  # evaluation: no dropout


@needs_libtpu
def test_oversized_config_does_not_fit(tmp_path, capsys):
  cfg = write_config(tmp_path, d=4096, ff=16384, vocab=262144, n=128, batch=4)
  code = cli.main(["fnetlab", "compile", f"--config={cfg}", "--topology=v5e:2x2", "--out=x"])
  err = capsys.readouterr().err.strip().splitlines()
  assert code == 2 and len(err) == 1, err
  assert "does not fit: needs" in err[0] and "of 16.00 GiB" in err[0]
  assert "mesh.fsdp=" in err[0] and not os.path.exists("x")


def test_mistakes_are_one_line(tmp_path, capsys, monkeypatch):
  cfg = write_config(tmp_path)
  run = lambda *a: cli.main(["fnetlab", "compile", f"--config={cfg}", *a])
  assert run("--topology=v9z:2x2") == 2
  err = capsys.readouterr().err
  assert "unknown topology 'v9z:2x2'" in err and "v5e:2x4" in err
  if has_libtpu():
    assert run("--topology=v5e:2x2", "--config.mesh.fsdp=3") == 2
    assert "must cover 4 devices" in capsys.readouterr().err
  monkeypatch.setattr(aot, "has_libtpu", lambda: False)
  assert run("--topology=v5e:2x2") == 2
  err = capsys.readouterr().err.strip()
  assert "libtpu" in err and "pip install 'libtpu==" in err and len(err.splitlines()) == 1


@pytest.mark.slow
@needs_libtpu
def test_cpu_train_prints_no_tpu_warning(tmp_path):
  """With libtpu importable, a plain jax process on this host warns about the TPU runtime;
  `fnetlab train` (JAX_PLATFORMS unset) does not."""
  env = {k: v for k, v in os.environ.items() if not k.startswith(("JAX_PLATFORMS", "TPU_"))}
  libtpu_dir = os.path.dirname(os.path.dirname(__import__("libtpu").__file__))
  env["PYTHONPATH"] = os.pathsep.join([ROOT, libtpu_dir, env.get("PYTHONPATH", "")])
  # This process has loaded libtpu (the compile tests); a second process would otherwise skip
  # the TPU start-up, and its warnings, because of libtpu's one-process lock.
  env["ALLOW_MULTIPLE_LIBTPU_LOAD"] = "1"
  probe = "import jax; jax.devices()"
  control = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True)
  assert "TPU" in control.stderr, control.stderr[-2000:]  # the warning this test is about
  cfg = write_config(tmp_path, n=16, batch=4)
  args = [sys.executable, "-m", "fnetlab", "train", f"--config={cfg}", f"--workdir={tmp_path}/w"]
  args += ["--config.train.steps=1", "--config.train.max_eval_examples=4"]
  done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
  assert done.returncode == 0, done.stderr[-2000:]
  assert "TPU" not in done.stderr and "tpu" not in done.stderr.lower(), done.stderr[-2000:]


def test_topology_names():
  assert chips.parse("v5e:16x16") == (chips.CHIPS["v5e"], 256)
  assert chips.parse("v4:2x2x1")[1] == 4
  with pytest.raises(ValueError, match="known"):
    chips.parse("v5e-8")
  assert np.isclose(chips.CHIPS["v5e"].bf16_flops, 197e12)
  with pytest.raises(UserError, match="unknown topology"):
    aot.topology("tpu")


@needs_libtpu
def test_mesh_rules_are_a_config_key(tmp_path):
  """mesh.rules decides the shards: FSDP over `embed` by default, replicated when the rule
  maps `embed` to None (shapes only, nothing compiled)."""
  from fnetlab.train.trainer import Trainer

  devices = aot.topology("v5e:2x2")[2]
  cfg = write_config(tmp_path)
  sharded = Trainer(load(cfg, "mesh.fsdp=4"), devices=devices)
  rules = '(("embed", None),)'
  replicated = Trainer(load(cfg, "mesh.fsdp=4", f"mesh.rules={rules}"), devices=devices)
  per_device = lambda t: aot._shard_bytes(t.abstract_inputs()[0]["params"])
  assert per_device(replicated) == 4 * aot.tree_size(replicated.abstract_state["params"])
  assert per_device(sharded) < per_device(replicated) / 3


@needs_libtpu
def test_bench_topology_compiles_rows_and_resumes(tmp_path, capsys, monkeypatch):
  """`fnetlab bench --topology`: one compile.json per (mixer, N) row and compile.md; a second
  run keeps the rows (nothing compiled again)."""
  out = tmp_path / "bench"
  args = ["fnetlab", "bench", "--config=configs/bench/lra_text.py", "--mixers=ff_only"]
  args += ["--seq_lens=128", "--batch=8", "--dtype=bfloat16", "--topology=v5e:2x2"]
  args += ["--config.model.num_layers=1", "--config.model.d_model=64", f"--out={out}"]
  monkeypatch.chdir(ROOT)
  assert cli.main(args) == 0
  record = json.loads((out / "ff_only_N128" / "compile.json").read_text())
  assert record["topology"] == "v5e:2x2" and record["fits"] and record["flops_per_step"] > 0
  table = (out / "compile.md").read_text()
  assert "ff_only_N128" in table and "estimate" in table
  monkeypatch.setattr(aot, "compile_for", lambda *a, **k: pytest.fail("compiled again"))
  assert cli.main(args) == 0
