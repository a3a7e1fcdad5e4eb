"""One prepared accelerator check: environment, on-device tests, bf16 benchmarks, LRA ListOps.

  bash experiments/accelerator_check.sh --out=DIR            # a GPU/TPU node; installs wheelhouse/
  python experiments/accelerator_check.py --out=DIR [--budget_s=480] [--workdir=SCRATCH]
  python experiments/accelerator_check.py --out=DIR --smoke  # every stage at tiny size, on CPU
  python experiments/accelerator_check.py --help

Writes DIR/accelerator_check.md (rewritten after every stage, so a run cut short still leaves
what it measured), DIR/environment.json, DIR/tests.csv, DIR/bench_lra_text.csv,
DIR/bench_fnet_base.csv, DIR/listops.csv and DIR/check.log (every stage's output). Scratch
files (generated data, bench folders) go to --workdir, never to DIR. docs/accelerators.md
says what each stage measures and how to run the check on your own GPU node.

Stages, each a subprocess with a wall-clock share of --budget_s (a stage that finishes early
leaves its time to ListOps, the stage that uses every second it gets):
1. environment: devices, versions, memory. Without a GPU or TPU the check stops here with one
   line and exit status 2, unless --smoke.
2. tests: the on-device subset of the test suite (mixer oracles, attention kernels fused vs
   explicit, the bf16 train step, Hugging Face parity), one pytest process, every outcome kept.
3. bench: `fnetlab bench` in bfloat16: the LRA Text encoder with FNet / attention / spectral /
   FF-only at N = 512 ... 8192, and FNet-Base against a BERT-Base-sized attention encoder at
   N = 512 beside the Hugging Face PyTorch peers, with model-FLOPs utilisation.
4. listops: LRA ListOps at the official configuration (configs/lra/listops.py), FNet and the
   Transformer, stepped by `fnetlab.train.timed.TimedRun` (the trainer's own step, compiled
   once, with its non-finite check) for as many of the official 5000 steps as the remaining
   budget allows, then scored on the test split beside the FNet paper's rows. The two models
   share one encoded copy of the data (`fnetlab.data.listops.load_sources`).
   Its data (the official generator settings) is generated in the background from the start,
   while stages 2 and 3 use the accelerator.

Exit status: 0 when every stage ran and every test passed, 1 otherwise (the report says what),
2 when there is no accelerator.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

from fnetlab.common import flags, provenance
from fnetlab.common.flags import Flag
from fnetlab.common.io import write_json
from fnetlab.results import accelerator, tables
from fnetlab.results.bench import read_bench_csv

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.abspath(__file__)

FLAGS = (
  Flag("out", "Folder for the report, CSVs and check.log (required)."),
  Flag("smoke", "Every stage at tiny size; runs on CPU (the test suite's mode).", False, bool),
  Flag("budget_s", "Wall-clock budget for all stages together, in seconds.", 480.0, float),
  Flag("workdir", "Scratch folder (data, bench outputs); default: a temp dir."),
  Flag("peak_tflops", "Device peak bf16 TFLOP/s for MFU; default: by device.", None, float),
  # Internal: the stages that run in their own processes.
  Flag("stage", "Internal: run one stage in this process.", choices=("env", "listops")),
  Flag("result", "Internal: the stage's JSON result file."),
  Flag("go_file", "Internal: ListOps trains once this file holds a deadline."),
)
BENCH_TITLES = {
  "bench_fnet_base": "FNet-Base vs a BERT-Base-sized attention encoder, with the HF peers",
  "bench_lra_text": "LRA Text encoder (4 layers, d 256): every mixer against length",
}

ACCELERATORS = ("gpu", "cuda", "rocm", "tpu")

# Dense bf16 peak TFLOP/s by device kind (vendor datasheets), for model-FLOPs utilisation.
PEAK_BF16_TFLOPS = (
  ("H200", 989.0),
  ("H100", 989.0),
  ("A100", 312.0),
  ("L4", 121.0),
  ("TPU v4", 275.0),
  ("TPU v5 lite", 197.0),
  ("TPU v5e", 197.0),
  ("TPU v5p", 459.0),
  ("TPU v6", 918.0),
)

# ListOps: the FNet paper's test accuracy (%) for its LRA table (FNet, and the Transformer as
# the FNet authors ran it); docs/accelerators.md.
LISTOPS_MODELS = (("FNet", "fourier", 35.33), ("Transformer", "attention", 36.06))
LISTOPS_OFFICIAL_STEPS = 5000

# The on-device test subset: pytest arguments, and how a test id maps to a report group.
TEST_GROUPS = (
  ("HF PyTorch parity", ("test_convert_hf",)),
  ("bf16 train step", ("test_bf16",)),
  ("attention kernel: fused vs explicit", ("attention", "cudnn", "kernel", "fused")),
  ("mixer oracles", ("",)),
)


def test_args(smoke: bool) -> list[str]:
  if smoke:  # one test case per group
    return [
      "tests/test_mixers.py::test_fourier_equals_numpy_fft2[shape0-auto]",
      "tests/test_mixers.py::test_attention_equals_numpy_oracle[False-False-None]",
      "tests/test_attention_kernels.py::test_model_kernel_choice_per_backend",
      "tests/test_bf16.py::test_bf16_train_step_matches_float32_and_fits_a_batch[attention]",
      "tests/test_convert_hf.py::test_parity_with_transformers[fnet-safetensors]",
    ]
  extra = sorted(
    os.path.join("tests", f)
    for f in os.listdir(os.path.join(REPO, "tests"))
    if f.startswith("test_attention") and f.endswith(".py")
  )
  return [
    "tests/test_mixers.py",
    *extra,
    "tests/test_bf16.py",
    "tests/test_convert_hf.py::test_parity_with_transformers",
  ]


def test_group(test_id: str) -> str:
  low = test_id.lower()
  return next(name for name, keys in TEST_GROUPS if any(k in low for k in keys))


# The bench runs, in order: FNet-Base against a BERT-Base-sized attention encoder beside the
# Hugging Face PyTorch peers, then the LRA Text encoder's mixers against length. `smoke`
# replaces the sizes with tiny ones (the tiny model keeps the code paths).
TINY_LRA_TEXT = {
  "config.model.num_layers": 1,
  "config.model.d_model": 16,
  "config.model.d_ff": 32,
  "config.model.num_heads": 2,
  "config.model.head_hidden": 16,
}
BENCHES = {
  "bench_fnet_base": dict(
    config="configs/bench/fnet_base.py:bf16",
    flags=dict(mixers="fourier,attention", seq_lens="512", batch=32, peer="hf"),
    smoke={
      "mixers": "fourier,attention",
      "seq_lens": "32",
      "batch": 2,
      "peer": "hf",
      "repeats": 1,
      "warmup": 1,
      "config.model.size": "tiny",
      "config.model.vocab_size": 100,
    },
  ),
  "bench_lra_text": dict(
    config="configs/bench/lra_text.py:bf16",
    flags=dict(
      mixers="fourier,attention,spectral,ff_only",
      seq_lens="512,1024,2048,4096,8192",
      batch=8,
      max_seconds_per_row=10,
    ),
    smoke={
      "mixers": "fourier,attention,spectral,ff_only",
      "seq_lens": "16",
      "batch": 2,
      "repeats": 1,
      "warmup": 1,
      **TINY_LRA_TEXT,
    },
  ),
}


# ---------------------------------------------------------------------------------- helpers


def now() -> float:
  return time.monotonic()


def child_env(workdir: str) -> dict:
  """The stages' environment: JAX must not take 75% of the GPU (the stages and the PyTorch
  peer share it), the repository is importable, data is generated into the scratch folder."""
  env = dict(os.environ)
  env["XLA_PYTHON_CLIENT_PREALLOCATE"] = "false"
  env["PYTHONUNBUFFERED"] = "1"
  env["TF_CPP_MIN_LOG_LEVEL"] = env.get("TF_CPP_MIN_LOG_LEVEL", "2")
  env["FNETLAB_CACHE"] = os.path.join(workdir, "cache")
  env["HF_HUB_OFFLINE"] = "1"
  paths = [REPO] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
  env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
  return env


class Stage:
  """A subprocess with a log file and a wall-clock limit; its process group is ended at the
  limit (a bench or pytest may have children of its own)."""

  def __init__(self, name: str, cmd: list[str], log_path: str, env: dict):
    self.name, self.cmd, self.log_path = name, cmd, log_path
    self.log = open(log_path, "w")  # noqa: SIM115  closed in wait()
    self.log.write(f"$ {shlex.join(cmd)}\n")
    self.log.flush()
    self.t0 = now()
    self.proc = subprocess.Popen(
      cmd, cwd=REPO, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
    )

  def wait(self, timeout: float) -> tuple[int | None, float]:
    """(return code or None if it was stopped at the limit, seconds it ran)."""
    try:
      rc = self.proc.wait(timeout=max(timeout, 0.0))
    except subprocess.TimeoutExpired:
      self.stop()
      rc = None
    self.log.close()
    return rc, now() - self.t0

  def stop(self) -> None:
    for sig, grace in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
      try:
        os.killpg(self.proc.pid, sig)
      except ProcessLookupError:
        return
      try:
        self.proc.wait(timeout=grace)
        return
      except subprocess.TimeoutExpired:
        continue


def read_json(path: str):
  """A stage's JSON, or None while it is missing or half written (a stage may be stopped)."""
  try:
    with open(path) as f:
      return json.load(f)
  except (OSError, ValueError):
    return None


def tail(path: str, lines: int = 5) -> str:
  try:
    with open(path, errors="replace") as f:
      return "".join(f.readlines()[-lines:]).strip()
  except OSError:
    return ""


def peak_tflops(env_info: dict, given: float | None = None) -> float | None:
  if given:
    return given
  kind = ((env_info.get("devices") or [{}])[0]).get("kind", "")
  return next((v for k, v in PEAK_BF16_TFLOPS if k.lower() in kind.lower()), None)


# ------------------------------------------------------------------------- stage: environment


def stage_env(result_path: str) -> None:
  import importlib.metadata
  import platform

  import jax

  info = {
    "date": provenance.date(),
    "machine": provenance.machine(),  # with jax imported: its devices too
    "python": platform.python_version(),
    "platform": platform.platform(),
    "cpus": os.cpu_count(),
    "backend": jax.default_backend(),
    "matmul_precision": str(jax.config.jax_default_matmul_precision),
    "env": {
      k: os.environ[k]
      for k in ("XLA_PYTHON_CLIENT_PREALLOCATE", "XLA_FLAGS", "CUDA_VISIBLE_DEVICES")
      if k in os.environ
    },
  }
  devices = []
  for d in jax.devices():
    row = {"id": d.id, "platform": d.platform, "kind": d.device_kind}
    try:
      stats = d.memory_stats() or {}
      row["memory_gib"] = round(stats.get("bytes_limit", 0) / 2**30, 1) or None
    except Exception:  # not every backend reports memory
      pass
    devices.append(row)
  info["devices"] = devices
  versions = {}
  for dist in (
    "jax",
    "jaxlib",
    "jax-cuda13-plugin",
    "jax-cuda12-plugin",
    "libtpu",
    "flax",
    "optax",
    "orbax-checkpoint",
    "numpy",
    "torch",
    "transformers",
    "ml_collections",
    "tensorflow-datasets",
    "nvidia-cudnn-cu13",
    "nvidia-cudnn-cu12",
  ):
    try:
      versions[dist] = importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
      pass
  info["versions"] = versions
  if shutil.which("nvidia-smi"):
    q = subprocess.run(
      ["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"],
      capture_output=True,
      text=True,
      timeout=30,
    )
    info["nvidia_smi"] = q.stdout.strip() or q.stderr.strip()
  try:
    import torch

    info["torch_cuda"] = torch.cuda.is_available()
    if info["torch_cuda"]:
      info["torch_device"] = torch.cuda.get_device_name(0)
  except Exception as e:  # torch is optional
    info["torch_cuda"] = f"unavailable: {type(e).__name__}"
  write_json(result_path, info)


# ---------------------------------------------------------------------------- stage: ListOps


def listops_config(mixer: str, smoke: bool):
  from fnetlab.common import config as config_lib

  spec = os.path.join(REPO, "configs", "lra", "listops.py") + f":mixer={mixer}"
  if not smoke:
    return config_lib.load(spec)  # the official configuration, unchanged
  c = config_lib.load(spec + ",runlocal")
  c.data.generate = dict(
    num_train=256, num_val=64, num_test=64, min_length=10, max_length=60, max_depth=4, seed=0
  )
  c.model.max_len = 64
  c.train.batch_size = 8
  c.train.eval_batch_size = 32
  return c


def stage_listops(result_path: str, go_file: str, smoke: bool) -> None:
  """Generates and encodes the data at once; once `go_file` holds a deadline, trains FNet and
  the Transformer for the same number of steps, as many as fit (at most the official 5000)."""
  import numpy as np

  from fnetlab.data import listops
  from fnetlab.train.timed import TimedRun

  result = {"models": [], "phase": "generating data"}

  def save():
    write_json(result_path, result)

  save()
  configs = [(label, listops_config(mixer, smoke), paper) for label, mixer, paper in LISTOPS_MODELS]
  result["data_settings"] = configs[0][1].data.generate.to_dict()
  t = now()
  data_dir = listops.generated_dir(configs[0][1].data.generate.to_dict())
  result["data_generate_s"] = now() - t
  result["phase"] = "encoding data"
  save()
  t = now()
  # Encoded once per process: both models' tasks read this copy.
  sources = listops.load_sources(data_dir, configs[0][1].model.max_len)
  result["data_load_s"] = now() - t
  result["data"] = {k: len(v) for k, v in sources.items()}
  result["phase"] = "waiting for the accelerator"
  print(f"data: {result['data']} in {data_dir}", flush=True)
  save()

  t = now()
  while not os.path.exists(go_file):
    time.sleep(0.2)
  result["waited_for_go_s"] = now() - t
  deadline = (read_json(go_file) or {}).get("deadline_unix", 0.0)
  reserve = 3.0 if smoke else 20.0  # per model: validation + test (4000 examples), compile included
  max_steps = 10 if smoke else LISTOPS_OFFICIAL_STEPS
  result["phase"] = "compiling"
  runs = []
  for label, config, paper in configs:
    row = {"model": label, "mixer": config.model.mixer, "paper_test_accuracy": paper}
    row["official_steps"] = LISTOPS_OFFICIAL_STEPS
    result["models"].append(row)
    left = deadline - time.time()
    if left < 2 * reserve:
      row["error"] = f"skipped: {max(left, 0):.0f} s left"
      continue
    try:
      t = now()
      run = TimedRun(config)
      row["params"], row["compile_s"] = run.params, now() - t
      # Times up to 10 steps (2 in smoke), within a tenth of the time left.
      run.run(2 if smoke else 10, until=time.time() + 0.1 * left)
      runs.append((row, run))
    except Exception as e:  # reported in the row; the other model still runs
      row["error"] = one_line(e)
      traceback.print_exc()
    save()
  # The same number of steps for both: as many as the time left allows after the evaluations.
  left = deadline - time.time() - reserve * len(runs)
  per_step = sum(run.train_s / run.step for _, run in runs)
  done = max((run.step for _, run in runs), default=0)
  target = min(max_steps, done + max(int(0.95 * left / per_step), 0)) if per_step else done
  result["target_steps"] = target
  result["phase"] = "training"
  save()
  for i, (row, run) in enumerate(runs):
    later = sum(max(target - r.step, 0) * r.train_s / r.step + reserve for _, r in runs[i + 1 :])
    try:
      while run.step < target:  # a progress line every 500 steps
        if not run.run(min(500, target - run.step), until=deadline - reserve - later):
          break
        losses = [m["train_loss"] for m in run.history[-100:]]
        accs = [m.get("train_accuracy", np.nan) for m in run.history[-100:]]
        print(
          f"{row['model']} step {run.step}: loss {np.mean(losses):.4f} "
          f"acc {np.nanmean(accs):.3f} ({run.train_s / run.step * 1e3:.1f} ms/step)",
          flush=True,
        )
      last = run.history[-100:]
      row["steps"], row["train_s"] = run.step, run.train_s
      row["step_ms"] = run.train_s / run.step * 1e3
      row["final_train_loss"] = float(np.mean([m["train_loss"] for m in last]))
      row["final_train_accuracy"] = float(
        np.nanmean([m.get("train_accuracy", np.nan) for m in last])
      )
      save()
      t = now()
      for split in ("validation", "test"):
        row[f"{split}_accuracy"] = run.evaluate(split).get("accuracy")
      row["eval_s"] = now() - t
    except Exception as e:
      row["error"] = one_line(e)
      traceback.print_exc()
    print(f"{row['model']}: {row}", flush=True)
    save()
  result["phase"] = "done"
  save()


def one_line(e: BaseException) -> str:
  return f"{type(e).__name__}: {(str(e).strip().splitlines() or [''])[0][:200]}"


# ------------------------------------------------------------------------------ orchestration


class Check:
  def __init__(self, out, workdir, budget_s: float, smoke: bool, peak: float | None, argv):
    self.out, self.workdir, self.budget_s, self.smoke = out, workdir, budget_s, smoke
    self.peak = peak  # --peak_tflops
    self.t0 = now()
    self.deadline = self.t0 + budget_s
    self.env_info: dict = {}
    self.stages: list[dict] = []  # name, status, seconds, limit
    self.tests: list[dict] = []
    self.tests_collected: int | None = None
    self.test_failures: list[str] = []
    self.bench: dict[str, list[dict]] = {}
    self.bench_cmds: dict[str, str] = {}
    self.listops: dict = {}
    self.env = child_env(workdir)
    if smoke:  # compiles about twice as fast on CPU; the smoke run measures nothing
      self.env["JAX_DISABLE_MOST_OPTIMIZATIONS"] = "true"
    self.logs: list[tuple[str, str]] = []
    self.prov = provenance.collect(argv)  # the environment stage adds the device

  def left(self) -> float:
    return self.deadline - now()

  def start(self, name: str, cmd: list[str]) -> Stage:
    return Stage(name, cmd, os.path.join(self.workdir, f"{name}.log"), self.env)

  def collect(self, stage: Stage, limit: float) -> int | None:
    rc, secs = stage.wait(limit)
    self.record(stage.name, rc, secs, limit, stage.log_path)
    return rc

  def record(self, name, rc, secs, limit, log) -> None:
    status = "ok" if rc == 0 else ("stopped at its time limit" if rc is None else f"exit {rc}")
    self.stages.append({"stage": name, "status": status, "seconds": secs, "limit_s": limit})
    self.logs.append((name, log))
    print(f"[{now() - self.t0:6.1f}s] {name}: {status} ({secs:.1f}s)", flush=True)
    self.write_report()

  # -- stages

  def stage_env(self) -> bool:
    path = os.path.join(self.workdir, "environment.json")
    cmd = [sys.executable, SCRIPT, "--stage=env", f"--result={path}"]
    stage = self.start("environment", cmd)
    rc, log = self.collect(stage, min(120.0, max(self.left(), 10.0))), stage.log_path
    self.env_info = read_json(path) or {}
    if self.env_info:
      shutil.copy(path, os.path.join(self.out, "environment.json"))
    backend = self.env_info.get("backend")
    if rc != 0 or not backend:
      print(f"accelerator_check: the environment stage failed: {tail(log, 1)}", file=sys.stderr)
      return False
    if backend not in ACCELERATORS and not self.smoke:
      devs = ", ".join(d.get("kind", "?") for d in self.env_info.get("devices", []))
      print(
        f"accelerator_check: no GPU or TPU: jax's backend is {backend!r} ({devs}); run it on "
        "an accelerator node, or pass --smoke for the CPU rehearsal",
        file=sys.stderr,
      )
      return False
    return True

  def start_tests(self) -> Stage:
    # `-o addopts=`: setup.cfg's -q would cancel -v, which prints one line per outcome.
    cmd = [sys.executable, "-m", "pytest", "-o", "addopts=", "-v", "-rfE", "-p", "no:cacheprovider"]
    return self.start("tests", cmd + test_args(self.smoke))

  def finish_tests(self, stage: Stage, limit: float) -> None:
    rc, log = self.collect(stage, limit), stage.log_path
    outcome = re.compile(r"^(tests/\S+::\S+) (PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS)\b")
    seen = {}
    with open(log, errors="replace") as f:
      for line in f:
        m = outcome.match(line)
        collected = re.search(r"\bcollected (\d+) items?\b", line)
        if collected:
          self.tests_collected = int(collected.group(1))
        elif m:
          seen[m.group(1)] = m.group(2)
        elif line.startswith(("FAILED ", "ERROR ")):
          self.test_failures.append(line.strip()[:300])
    self.tests = [{"test": k, "group": test_group(k), "outcome": v} for k, v in seen.items()]
    rows = sorted(self.tests, key=lambda r: (r["group"], r["test"]))
    tables.write_csv(os.path.join(self.out, "tests.csv"), rows, ["group", "test", "outcome"])
    if rc not in (0, None) and not self.tests:
      self.test_failures.append(f"pytest exit {rc}: {tail(log, 3)}")
    self.write_report()

  def bench_cmd(self, name: str) -> list[str]:
    """`fnetlab bench` for BENCHES[name], in bfloat16 (tiny sizes under --smoke)."""
    b = BENCHES[name]
    cmd = [sys.executable, "-m", "fnetlab", "bench", f"--config={b['config']}"]
    cmd += [f"--out={os.path.join(self.workdir, name)}", "--dtype=bfloat16"]
    if self.smoke:
      cmd += [f"--{k}={v}" for k, v in b["smoke"].items()] + ["--peak_tflops=1"]
    else:
      cmd += [f"--{k}={v}" for k, v in b["flags"].items()]
      peak = peak_tflops(self.env_info, self.peak)
      cmd += [f"--peak_tflops={peak}"] if peak else []
    self.bench_cmds[name] = shlex.join(["fnetlab", *cmd[3:]])
    return cmd

  def finish_bench(self, stage: Stage, limit: float) -> None:
    self.collect(stage, limit)
    csv_path = os.path.join(self.workdir, stage.name, "bench.csv")
    if os.path.exists(csv_path):  # the bench writes rows as it goes: a stopped run keeps them
      shutil.copy(csv_path, os.path.join(self.out, f"{stage.name}.csv"))
      self.bench[stage.name] = read_bench_csv(csv_path)
    self.write_report()

  def start_listops(self) -> Stage:
    self.listops_result = os.path.join(self.workdir, "listops.json")
    self.go_file = os.path.join(self.workdir, "listops.go")
    for p in (self.listops_result, self.go_file):
      if os.path.exists(p):
        os.remove(p)
    cmd = [
      sys.executable,
      SCRIPT,
      "--stage=listops",
      f"--result={self.listops_result}",
      f"--go_file={self.go_file}",
      f"--smoke={self.smoke}",
    ]
    return Stage("listops", cmd, os.path.join(self.workdir, "listops.log"), self.env)

  def release_listops(self) -> float:
    """Lets the ListOps stage train, until the end of the budget; returns its time limit."""
    limit = max(self.left() - 3.0, 0.0)
    write_json(self.go_file, {"deadline_unix": time.time() + limit - 2.0})
    return limit

  def finish_listops(self, stage: Stage) -> None:
    limit = self.release_listops() if not os.path.exists(self.go_file) else self.left()
    rc, secs = stage.wait(limit + 10.0)  # its own deadline is earlier; this catches a hang
    self.listops = read_json(self.listops_result) or {}
    path = os.path.join(self.out, "listops.csv")
    tables.write_csv(path, self.listops.get("models", []), accelerator.LISTOPS_COLUMNS)
    self.record("listops", rc, secs, limit, stage.log_path)

  # -- the whole check

  def main(self) -> int:
    if not self.stage_env():
      self.write_report()
      self.write_log()
      return 2 if self.env_info.get("backend") else 1
    listops = self.start_listops()  # generates its data while the accelerator runs the rest
    try:
      b = self.budget_s
      if self.smoke:  # measures nothing, so every stage runs at once
        self.release_listops()
        started = [self.start_tests(), *(self.start(n, self.bench_cmd(n)) for n in BENCHES)]
        self.finish_tests(started[0], self.left())
        for stage in started[1:]:
          self.finish_bench(stage, self.left())
      else:  # tests <= 20%, bench <= 40% of the budget; ListOps keeps the rest (>= 37%)
        self.finish_tests(self.start_tests(), max(min(0.2 * b, self.left() - 0.6 * b), 10.0))
        bench_end = now() + max(min(0.4 * b, self.left() - 0.37 * b), 10.0)
        for name, share in zip(BENCHES, (0.45, 1.0), strict=True):
          limit = max(share * (bench_end - now()), 5.0)
          self.finish_bench(self.start(name, self.bench_cmd(name)), limit)
      self.finish_listops(listops)
    finally:
      listops.stop()
      self.write_report()
      self.write_log()
    ok = all(s["status"] == "ok" for s in self.stages)
    ok = ok and all(self.bench.get(n) for n in BENCHES)
    ok = ok and bool(self.tests) and all(t["outcome"] in ("PASSED", "SKIPPED") for t in self.tests)
    models = self.listops.get("models") or [{}]
    ok = ok and all(m.get("test_accuracy") is not None for m in models)
    return 0 if ok else 1

  def write_log(self) -> None:
    with open(os.path.join(self.out, "check.log"), "w") as out:
      for name, path in self.logs:
        out.write(f"\n===== {name} ({path})\n")
        try:
          with open(path, errors="replace") as f:
            out.write(f.read())
        except OSError as e:
          out.write(f"(no log: {e})\n")

  # -- report

  def write_report(self) -> None:
    from fnetlab.results import accelerator

    check = {
      "prov": {**self.prov, "machine": self.env_info.get("machine", self.prov["machine"])},
      "smoke": self.smoke,
      "budget_s": self.budget_s,
      "elapsed_s": now() - self.t0,
      "env": self.env_info,
      "tests": self.tests,
      "test_groups": [name for name, _ in TEST_GROUPS],
      "test_args": " ".join(test_args(self.smoke)),
      "tests_collected": self.tests_collected,
      "test_failures": self.test_failures,
      "bench": self.bench,
      "bench_cmds": self.bench_cmds,
      "bench_titles": BENCH_TITLES,
      "peak_tflops": None if self.smoke else peak_tflops(self.env_info, self.peak),
      "listops": self.listops,
      "stages": self.stages,
    }
    path = os.path.join(self.out, "accelerator_check.md")
    with open(path + ".tmp", "w") as f:
      f.write(accelerator.markdown(check) + "\n")
    os.replace(path + ".tmp", path)


def main(argv) -> int:
  args = flags.script_flags(__doc__, FLAGS, argv)
  if args.stage == "env":
    return stage_env(args.result)
  if args.stage == "listops":
    return stage_listops(args.result, args.go_file, args.smoke)
  from fnetlab.common.errors import UserError

  if not args.out:
    raise UserError("--out=DIR is required")
  if args.workdir and os.path.abspath(args.workdir).startswith(os.path.abspath(args.out) + os.sep):
    raise UserError("--workdir must not be inside --out")
  os.makedirs(args.out, exist_ok=True)
  workdir = args.workdir or tempfile.mkdtemp(prefix="accelerator_check_")
  os.makedirs(workdir, exist_ok=True)
  check = Check(args.out, workdir, args.budget_s, args.smoke, args.peak_tflops, argv)
  rc = check.main()
  print(f"accelerator_check: report {os.path.join(args.out, 'accelerator_check.md')}")
  return rc


if __name__ == "__main__":
  sys.exit(flags.run_script(main))
