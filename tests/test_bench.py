"""Tests of `fnetlab bench`: it times `fnetlab train`'s own step (same loss and parameters), the
CSV schema, the ratios, OOM handling, the memory guard, the peer's missing-torch error, the
synthetic task, `--help`, and the fast Fourier path it relies on (against numpy)."""

from __future__ import annotations

import builtins
import csv
import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from fnetlab import cli
from fnetlab.bench import jobs, peers, timing
from fnetlab.commands import bench as bench_cmd
from fnetlab.common import checkpoints
from fnetlab.common import config as config_lib
from fnetlab.common.errors import UserError
from fnetlab.results.bench import empty_row, read_bench_csv
from fnetlab.tasks import synthetic
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
TINY = [f"--config={CONFIG}", *(f"--config.{k}={v}" for k, v in TINY_MODEL.items())]
TINY += ["--batch=2", "--warmup=1", "--repeats=2"]


def run_cli(tmp_path, *extra):
  out = tmp_path / "bench"
  rc = bench_cmd.main(["fnetlab bench", *TINY, f"--out={out}", *extra])
  assert rc == 0
  return out


def flat(tree) -> dict:
  return {
    jax.tree_util.keystr(k): np.asarray(v) for k, v in jax.tree_util.tree_flatten_with_path(tree)[0]
  }


def test_bench_step_is_the_train_step(tmp_path, monkeypatch):
  """The step `prepare` times and one step of `fnetlab train` on the bench's train config, from
  the same initial state and batch: identical loss and parameters. Clipping (active at this
  threshold), a warmup schedule and gradient accumulation are all on."""
  overrides = {
    **TINY_MODEL,
    "optim.clip_norm": "1e-3",
    "optim.schedule": "linear",
    "optim.warmup_steps": "2",
    "train.grad_accum": "2",
    "train.steps": "1",
    "train.log_every": "1",
    "train.eval_every": "1",
    "train.checkpoint_every": "1",
    "train.async_checkpoints": "false",
  }
  config = config_lib.load(CONFIG, overrides)
  cfg = timing.row_config(config, timing.label_overrides(config, "fourier"), 8, 4, "float32")
  assert cfg.task == "synthetic" and cfg.model.max_len == 8 and cfg.train.batch_size == 4
  assert cfg.optim.to_dict() == config.optim.to_dict()
  assert cfg.train.grad_accum == 2 and cfg.mesh.to_dict() == config.mesh.to_dict()

  first = {}
  real = timing.compile_step

  class Spy:  # the compiled step prepare() times, recording its first output
    def __init__(self, compiled):
      self.compiled = compiled

    def __getattr__(self, name):
      return getattr(self.compiled, name)

    def __call__(self, state, batch):
      out = self.compiled(state, batch)
      first.setdefault("out", jax.device_get(out))
      return out

  monkeypatch.setattr(timing, "compile_step", lambda *args: Spy(real(*args)))
  job = timing.prepare(cfg, "fourier", warmup=1)
  assert job.run is not None and job.row["status"] is None
  bench_state, bench_metrics = first["out"]
  assert int(bench_state["step"]) == 1

  workdir = str(tmp_path / "train")
  train_and_evaluate(cfg, workdir)
  with open(os.path.join(workdir, "metrics.jsonl")) as f:
    logged = next(json.loads(line) for line in f if "train_loss" in line)
  assert logged["step"] == 1
  assert logged["train_loss"] == float(bench_metrics["train_loss"])
  assert logged["grad_norm"] == float(bench_metrics["grad_norm"])
  params, step = checkpoints.load_params(workdir)
  assert step == 1
  ours, theirs = flat(bench_state["params"]), flat(params)
  assert ours.keys() == theirs.keys()
  for key in ours:
    np.testing.assert_array_equal(ours[key], theirs[key], err_msg=key)


def test_help_lists_every_flag(capsys):
  assert cli.main(["fnetlab", "bench", "--help"]) == 0
  out = capsys.readouterr().out
  for flag in bench_cmd.FLAGS:
    assert f"--{flag.name}" in out, flag.name
  assert "--config" in out and "fnetlab bench --config=" in out


def test_synthetic_task_is_deterministic_and_real(tmp_path):
  config = config_lib.load(CONFIG, TINY_MODEL)
  cfg = timing.row_config(config, timing.label_overrides(config, "attention"), 16, 4, "float32")
  a, b = synthetic.build(cfg), synthetic.build(cfg)
  for split in ("train", "validation"):
    for key, value in a.splits[split].arrays.items():
      np.testing.assert_array_equal(value, b.splits[split].arrays[key])
  train = a.splits["train"].arrays
  assert train["inputs"].shape == (4, 16) and train["label"].shape == (4,)
  assert train["inputs"].min() >= 0 and train["inputs"].max() < 37
  assert not np.array_equal(train["inputs"], a.splits["validation"].arrays["inputs"])
  assert type(a.model).__name__ == "Classifier" and a.model.spec.mixer == "attention"
  cfg.data.kind = "lm"
  lm_task = synthetic.build(cfg)
  assert type(lm_task.model).__name__ == "Decoder"
  assert lm_task.splits["train"].arrays["targets"].shape == (4, 16)
  cfg.model.mixer = "fourier"  # FNet mixing cannot be causal
  with pytest.raises(UserError, match="causal"):
    synthetic.build(cfg)
  cfg.data.kind = "regress"
  with pytest.raises(UserError, match="data.kind"):
    synthetic.build(cfg)


def read_raw(path):
  with open(path, newline="") as f:
    return list(csv.DictReader(f))


@pytest.mark.slow
def test_tiny_run_writes_csv_md_and_plots(tmp_path):
  out = run_cli(tmp_path, "--mixers=attention", "--seq_lens=8,16")
  raw = read_raw(out / "bench.csv")
  required = "mixer seq_len batch params step_ms tokens_per_s compile_s peak_bytes flops "
  required += "ratio_vs_ff_only status"
  assert set(required.split()) <= set(raw[0])
  # ff_only is added automatically: 2 mixers x 2 lengths.
  assert sorted((r["mixer"], int(r["seq_len"])) for r in raw) == sorted(
    (m, n) for m in ("ff_only", "attention") for n in (8, 16)
  )
  for r in raw:
    assert r["status"] == "ok", r
    assert int(r["batch"]) == 2 and int(r["params"]) > 0 and int(r["peak_bytes"]) > 0
    step_s = float(r["step_ms"]) / 1e3
    assert step_s > 0 and float(r["compile_s"]) > 0 and float(r["flops"]) > 0
    np.testing.assert_allclose(float(r["tokens_per_s"]), 2 * int(r["seq_len"]) / step_s, rtol=1e-4)
  rows = {(r["mixer"], r["seq_len"]): r for r in read_bench_csv(out / "bench.csv")}
  d, layers = 16, 1
  for n in (8, 16):
    ff, att = rows["ff_only", n], rows["attention", n]
    # Attention adds Q, K, V and output projections (d x d kernels + d biases) per layer.
    assert att["params"] - ff["params"] == layers * 4 * (d * d + d)
    np.testing.assert_allclose(att["ratio_vs_ff_only"], att["step_ms"] / ff["step_ms"], rtol=1e-4)
    assert ff["ratio_vs_ff_only"] == pytest.approx(1.0)
    # The kernel column: attention at these lengths takes the explicit kernel on CPU.
    if jax.default_backend() == "cpu":
      assert att["kernel"] == "explicit" and ff["kernel"] is None
  # A learned position table of N x d: one more length step adds 8 x 16 parameters.
  assert rows["ff_only", 16]["params"] - rows["ff_only", 8]["params"] == 8 * d
  md = (out / "bench.md").read_text()
  assert "fnetlab bench" in md and "--mixers=attention" in md and "jax " in md
  assert "device:" in md
  for name in ("step_time.png", "memory.png", "params.png"):
    assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def bench_row(mixer, n, ms, peak, status="ok", impl="fnetlab"):
  return empty_row(
    mixer=mixer,
    impl=impl,
    seq_len=n,
    batch=8,
    dtype="float32",
    step_ms=ms if status == "ok" else None,
    peak_bytes=peak,
    status=status,
  )


def test_ratios_against_ff_only_attention_and_peer():
  rows = [
    bench_row("ff_only", 512, 100.0, 400),
    bench_row("fourier", 512, 103.0, 410),
    bench_row("attention", 512, 250.0, 800),
    bench_row("hf_fnet", 512, 206.0, None, impl="hf-torch"),
    bench_row("ff_only", 1024, 200.0, 800),
    bench_row("fourier", 1024, 220.0, 820),
    bench_row("attention", 1024, None, 4000, status="skipped_memory"),
  ]
  timing.add_ratios(rows, peak_tflops=None)
  by = {(r["mixer"], r["seq_len"]): r for r in rows}
  assert by["fourier", 512]["ratio_vs_ff_only"] == pytest.approx(1.03)
  assert by["attention", 512]["ratio_vs_ff_only"] == pytest.approx(2.5)
  assert by["fourier", 512]["speedup_vs_attention"] == pytest.approx(250 / 103)
  assert by["fourier", 512]["memory_vs_attention"] == pytest.approx(410 / 800)
  assert by["fourier", 512]["speedup_vs_peer"] == pytest.approx(2.0)
  assert by["fourier", 1024]["ratio_vs_ff_only"] == pytest.approx(1.1)
  # Lengths never mix, and a row that did not run has no time ratios (but a memory ratio).
  assert by["fourier", 1024]["speedup_vs_attention"] is None
  assert by["fourier", 1024]["memory_vs_attention"] == pytest.approx(820 / 4000)
  assert by["attention", 1024]["ratio_vs_ff_only"] is None
  assert by["hf_fnet", 512]["ratio_vs_ff_only"] is None


class XlaRuntimeError(RuntimeError):
  """Stands in for jaxlib's XlaRuntimeError (the bench matches on the message)."""


@pytest.mark.slow
@pytest.mark.parametrize("when", ["compile", "run"])
def test_oom_is_a_row_not_a_crash(tmp_path, monkeypatch, when):
  real = timing.compile_step
  oom = XlaRuntimeError("RESOURCE_EXHAUSTED: Out of memory while trying to allocate 9.1GiB.")

  def boom(*args, **kwargs):
    raise oom

  class OOMStep:  # the compiled step of an attention model: fails when it runs
    def memory_analysis(self):
      return None

    def cost_analysis(self):
      return [{}]

    __call__ = boom

  def patched(trainer, state, batch):
    if trainer.task.model.spec.mixer != "attention":
      return real(trainer, state, batch)
    if when == "compile":
      boom()
    return OOMStep()

  monkeypatch.setattr(timing, "compile_step", patched)
  out = run_cli(tmp_path, "--mixers=attention", "--seq_lens=8")
  rows = {r["mixer"]: r for r in read_bench_csv(out / "bench.csv")}
  assert rows["attention"]["status"] == "OOM"
  assert rows["attention"]["step_ms"] is None and rows["attention"]["peak_bytes"] is None
  assert rows["ff_only"]["status"] == "ok" and rows["ff_only"]["speedup_vs_attention"] is None
  assert "OOM" in (out / "bench.md").read_text()


def test_other_errors_are_short_statuses():
  assert jobs.classify_error(MemoryError("Out of memory")) == "OOM"
  status = jobs.classify_error(ValueError("bad shape (3, 4)\nlong traceback"))
  assert status == "error:ValueError: bad shape (3, 4)"


@pytest.mark.slow
def test_memory_guard_skips_before_running(tmp_path):
  out = run_cli(tmp_path, "--mixers=fourier", "--seq_lens=8", "--max_memory_gb=1e-6")
  rows = {r["mixer"]: r for r in read_bench_csv(out / "bench.csv")}
  for r in rows.values():
    assert r["status"] == "skipped_memory"
    assert r["peak_bytes"] > 1e-6 * 2**30 and r["step_ms"] is None and r["repeats"] == 0
  assert rows["fourier"]["params"] == rows["ff_only"]["params"]  # FNet mixing is parameter-free


def test_memory_and_flops_readers_accept_old_and_missing_forms():
  class Stats:
    argument_size_in_bytes, output_size_in_bytes = 100, 50
    temp_size_in_bytes, alias_size_in_bytes = 30, 40

  class Compiled:
    def __init__(self, mem, cost):
      self.mem, self.cost = mem, cost

    def memory_analysis(self):
      return self.mem

    def cost_analysis(self):
      return self.cost

  assert timing.memory_bytes(Compiled(Stats(), None)) == 140
  assert timing.memory_bytes(Compiled(None, None)) is None
  assert timing.cost_flops(Compiled(None, [{"flops": 12.0}])) == 12.0  # older jax: a list
  assert timing.cost_flops(Compiled(None, {"flops": 7.0})) == 7.0
  assert timing.cost_flops(Compiled(None, None)) is None


def test_unknown_mixer_is_a_one_line_error(tmp_path, capsys):
  argv = ["fnetlab", "bench", *TINY, f"--out={tmp_path}", "--mixers=nope", "--seq_lens=8"]
  assert cli.main(argv) == 2
  err = capsys.readouterr().err.strip()
  assert len(err.splitlines()) == 1 and "'nope'" in err and "fourier" in err


def test_peer_without_torch_says_how_to_install(tmp_path, monkeypatch, capsys):
  real_import = builtins.__import__

  def no_torch(name, *args, **kwargs):
    if name.split(".")[0] in ("torch", "transformers"):
      raise ImportError(f"No module named {name!r}", name=name)
    return real_import(name, *args, **kwargs)

  monkeypatch.setattr(builtins, "__import__", no_torch)
  with pytest.raises(UserError, match=r"pip install -e '\.\[peer\]'"):
    peers.require_torch()
  argv = ["fnetlab", "bench", *TINY, f"--out={tmp_path}", "--mixers=fourier", "--seq_lens=8"]
  assert cli.main([*argv, "--peer=hf"]) == 2
  err = capsys.readouterr().err.strip()
  assert len(err.splitlines()) == 1 and "[peer]" in err and "torch" in err
  assert not (tmp_path / "bench.csv").exists()  # it stops before measuring anything


@pytest.mark.parametrize("shape", [(2, 8, 16), (3, 7, 5), (1, 6, 3), (2, 1, 4)])
def test_fast_fourier_path_and_its_gradient_match_numpy(shape):
  from fnetlab.mixers.fourier import fourier_fft

  rng = np.random.default_rng(0)
  x, g = (rng.normal(size=shape).astype(np.float32) for _ in range(2))
  y = np.asarray(jax.jit(fourier_fft)(x))
  np.testing.assert_allclose(y, np.fft.fft2(x).real, rtol=1e-4, atol=1e-4)
  # d/dx sum(Re FFT2(x) * g) is the adjoint applied to g; numpy's fft2 of g is its oracle,
  # because both DFT matrices are symmetric.
  grad = jax.grad(lambda x: jnp.sum(fourier_fft(x) * g))(jnp.asarray(x))
  np.testing.assert_allclose(np.asarray(grad), np.fft.fft2(g).real, rtol=1e-4, atol=1e-4)


@pytest.mark.slow
def test_peer_rows_and_ratio_on_a_tiny_model(tmp_path):
  pytest.importorskip("torch")
  pytest.importorskip("transformers")
  out = run_cli(tmp_path, "--mixers=fourier", "--seq_lens=8", "--peer=hf", "--repeats=1")
  rows = {r["mixer"]: r for r in read_bench_csv(out / "bench.csv")}
  hf, ours = rows["hf_fnet"], rows["fourier"]
  assert hf["impl"] == "hf-torch" and hf["status"] == "ok" and hf["step_ms"] > 0
  # HF FNet at this config: our encoder minus the LRA head, plus HF's pooler, its one-row
  # token-type table (the config has type_vocab_size=0; HF needs at least one type) and its
  # 2-way classifier.
  d, types = 16, 1
  ours_without_head = ours["params"] - (d * 2 + 2)
  assert hf["params"] == ours_without_head + (d * d + d) + types * d + (d * 2 + 2)
  assert ours["speedup_vs_peer"] == pytest.approx(hf["step_ms"] / ours["step_ms"], rel=1e-4)
