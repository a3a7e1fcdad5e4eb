"""The experiment scripts as a user runs them, at tiny budgets: each answers --help, reports a
mistake as one line, and writes its report from real (tiny) runs; plus the pieces they share:
the timed stepping (`fnetlab.train.timed`) and the provenance header."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time

import jax
import numpy as np
import pytest

from fnetlab.common import config as config_lib
from fnetlab.common import flags, provenance
from fnetlab.common.errors import UserError
from fnetlab.train import compile_cache
from fnetlab.train.timed import TimedRun
from fnetlab.train.trainer import Trainer, TrainingDiverged

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Every script under experiments/.
SCRIPTS = sorted(
  name[: -len(".py")]
  for name in os.listdir(os.path.join(REPO, "experiments"))
  if name.endswith(".py")
)
DIGITS = os.path.join(REPO, "configs/suite/digits.py")
TINY = ["model.d_model=16", "model.d_ff=32", "model.num_layers=1", "model.num_heads=2"]


def path_of(name):
  return os.path.join(REPO, "experiments", f"{name}.py")


def script(name):
  """The script as a module (its main(argv) is what `python experiments/<name>.py` runs)."""
  spec = importlib.util.spec_from_file_location(
    f"exp_{name}", os.path.join(REPO, "experiments", f"{name}.py")
  )
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


@pytest.fixture(autouse=True)
def no_persistent_cache(monkeypatch):
  # The scripts turn JAX's persistent compilation cache on; here it would outlive the test.
  monkeypatch.setattr(compile_cache, "enable", lambda path=None: path)


def run_script(*args):
  return subprocess.run(
    [sys.executable, *args], cwd=REPO, capture_output=True, text=True, timeout=120
  )


@pytest.mark.parametrize("name", SCRIPTS)
def test_every_script_answers_help(name):
  r = run_script(f"experiments/{name}.py", "--help")
  assert r.returncode == 0, r.stderr
  assert r.stdout.startswith(f"usage: {name}.py")
  for flag in script(name).FLAGS:
    assert f"--{flag.name}" in r.stdout


@pytest.mark.parametrize(
  "args, needle",
  [
    (["experiments/cpu_suite.py", "--tasks=digits,nope"], "--tasks: unknown nope"),
    (["experiments/seed_claims.py", "--seeds=a"], "--seeds"),
    (["experiments/shakespeare_budget.py", "--bogus=1"], "--bogus"),
    (["experiments/accelerator_check.py"], "--out=DIR is required"),
    (["experiments/tpu_compile.py", "--only=lra,nope"], "--only"),
    (["experiments/tpu_compile.py", "--shard=4/4", "--dry_run"], "--shard=4/4"),
    (["experiments/quickstart.py", "--seeds=a"], "--seeds"),
    (["experiments/glue_cpu.py", "--stages=pretrain,nope"], "--stages: unknown nope"),
    (["experiments/glue_cpu.py", "--pt_steps=0"], "--pt_steps=0"),
    (["experiments/cls_probe.py"], "give one of --workdir and --config"),
    (["experiments/cls_probe.py", f"--config={DIGITS}", "--examples=1"], "--examples=1"),
  ],
)
def test_a_mistake_is_one_line_exit_2(args, needle):
  r = run_script(*args)
  lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
  assert r.returncode == 2 and len(lines) == 1, r.stderr
  assert needle in lines[0] and "Traceback" not in r.stderr


# ----------------------------------------------------------------------------- timed stepping


def tiny_digits(**overrides):
  return config_lib.load(
    f"{DIGITS}:steps=6",
    {"model.d_model": 16, "model.d_ff": 32, "model.num_layers": 1, "train.log_every": 2}
    | overrides,
  )


@pytest.mark.slow
def test_timed_run_takes_the_trainers_own_steps():
  config = tiny_digits()
  run = TimedRun(config)
  times = run.run(5)
  assert len(times) == 5 == run.step == len(run.history) and all(t > 0 for t in times)
  assert run.train_s == pytest.approx(sum(times))
  # The oracle: the same 5 steps taken by hand with Trainer.train_step, from the same init.
  trainer = Trainer(config)
  state = trainer.init_state()
  losses = []
  for step in range(5):
    state, metrics = trainer.train_step(state, trainer.batch(step))
    losses.append(float(metrics["train_loss"]))
  np.testing.assert_allclose([m["train_loss"] for m in run.history], losses, rtol=1e-6)
  for a, b in zip(
    jax.tree.leaves(run.state["params"]), jax.tree.leaves(state["params"]), strict=True
  ):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6, atol=1e-7)
  assert run.params == sum(x.size for x in jax.tree.leaves(state["params"]))
  assert 0.0 <= run.evaluate("validation")["accuracy"] <= 1.0


def test_timed_run_stops_before_a_deadline():
  run = TimedRun(tiny_digits())
  assert run.run(until=time.time() - 1.0) == []  # the deadline has passed: no step
  run.run(2)
  per_step = run.step_s()
  took = run.run(1000, until=time.time() + 20 * per_step)
  assert 0 < len(took) < 1000
  with pytest.raises(ValueError, match="steps or until"):
    run.run()


def test_timed_run_stops_on_a_non_finite_loss_as_the_trainer_does():
  run = TimedRun(tiny_digits(**{"optim.lr": 1e30, "optim.warmup_steps": 0}))
  with pytest.raises(TrainingDiverged, match=r"non-finite loss or gradient at step \d+; stopped"):
    run.run(6)
  assert run.step <= 6


def test_provenance_names_command_commit_date_machine_and_load():
  p = provenance.collect([os.path.join(REPO, "experiments", "cpu_suite.py"), "--seeds=0"])
  assert p["command"] == "python experiments/cpu_suite.py --seeds=0"
  assert p["commit"] and f"{os.cpu_count()}-core" in p["machine"] and "jax" in p["machine"]
  text = "\n".join(provenance.markdown(p))
  for value in (p["command"], p["commit"], p["date"], p["machine"]):
    assert value in text
  assert provenance.command(["fnetlab bench", "--batch=2"]) == "fnetlab bench --batch=2"


# ----------------------------------------------------------------------------- the scripts


def sets(*items):
  return [f"--set={x}" for x in items]


@pytest.mark.slow
def test_cpu_suite_runs_a_tasks_sweep_and_renders(tmp_path):
  root, out = tmp_path / "root", tmp_path / "out"
  argv = [path_of("cpu_suite"), f"--root={root}", f"--out={out}", "--tasks=digits", "--seeds=0,1"]
  argv += ["--only=0,3"] + sets(*TINY, "train.steps=2", "train.eval_every=2")
  argv += sets("train.checkpoint_every=2", "train.log_every=1", "train.max_eval_examples=64")
  assert script("cpu_suite").main(argv) == 0
  sweep = json.loads((root / "digits" / "sweep.json").read_text())
  assert sweep["sweep"] == "mixers" and sweep["seeds"] == [0, 1]  # the config's own grid
  chosen = [sweep["points"][i] for i in (0, 3)]
  done = sorted(p.name for p in (root / "digits").iterdir() if p.is_dir())
  assert done == sorted(p["name"] for p in chosen)
  for d in done:
    for seed in (0, 1):
      assert (
        json.loads((root / "digits" / d / f"seed-{seed}" / "results.json").read_text())["step"] == 2
      )
  report = (out / "cpu_suite.md").read_text()
  assert "python experiments/cpu_suite.py" in report
  for p in chosen:
    assert f"| {p['overrides']['model.mixer']} |" in report
  assert (out / "cpu_suite.png").exists() and (root / "digits" / "summary.md").exists()
  # Finished runs are skipped: a second call trains nothing and renders the same tables.
  mtime = (root / "digits" / done[0] / "seed-0" / "results.json").stat().st_mtime
  assert script("cpu_suite").main(argv) == 0
  assert (root / "digits" / done[0] / "seed-0" / "results.json").stat().st_mtime == mtime


@pytest.mark.slow
def test_seed_claims_each_claim_at_tiny_size(tmp_path):
  out = tmp_path / "out"
  module = script("seed_claims")
  lm = sets(*TINY, "data.max_chars=20000", "data.block_size=32")
  base = [path_of("seed_claims"), f"--out={out}", "--seeds=0", f"--runs={tmp_path / 'runs'}"]
  argv = [*base, "--claims=worker", "--worker_steps=2", "--worker_chunk=1", "--worker_seeds=0"]
  assert module.main(argv + lm) == 0
  w = json.loads((out / "seed_claims" / "worker.json").read_text())
  runs = w["runs"]["0"]
  assert [p["step"] for p in runs["attention"]["curve"]][:2] == [1, 2]
  assert runs["equal_time"]["slow"] in ("attention", "worker") and w["commit"] and w["machine"]
  argv = [*base, "--claims=first_epoch"]
  assert module.main(argv + sets(*TINY, "train.max_eval_examples=64")) == 0
  rows = json.loads((out / "seed_claims" / "first_epoch.json").read_text())["rows"]
  assert [(r["mixer"], r["seed"]) for r in rows] == [("spectral (mode=fixed)", 0), ("attention", 0)]
  assert all(r["steps"] == -(-r["train_examples"] // 8) for r in rows)  # one epoch at batch 8
  steps = ["train.steps=2", "train.eval_every=2", "train.checkpoint_every=2"]
  argv = [*base, "--claims=lsra", "--lsra_widths=16,24"]
  lm = sets("data.max_chars=20000", "data.block_size=32", "train.log_every=1", *steps)
  assert module.main(argv + lm) == 0
  s = json.loads((out / "seed_claims" / "lsra.json").read_text())
  assert set(s["flops"]["lsra"]) == {"16", "24"} and s["d_lsra"] in (16, 24)
  assert len(s["rows"]) == 2 and all(np.isfinite(r["val_bpc"]) for r in s["rows"])
  report = (out / "seed_claims.md").read_text()
  assert "Not run" not in report and report.count("python experiments/seed_claims.py") == 3


@pytest.mark.slow
def test_shakespeare_budget_at_tiny_scale(tmp_path):
  module = script("shakespeare_budget")
  argv = [path_of("shakespeare_budget"), f"--out={tmp_path}", "--scale=tiny", "--budget_s=1"]
  assert module.main(argv + ["--rounds=2", "--mixers=attention,worker"]) == 0
  result = json.loads((tmp_path / "shakespeare_budget.json").read_text())
  for r in result["rows"].values():
    assert len(r["curve"]) == 2 and r["steps"] == r["curve"][-1]["step"] > 0
    assert r["train_s"] <= 1.0 + 0.5  # at most one step past each round's share
  assert result["floor"]["nonworker_tokens"] < result["floor"]["tokens"]
  report = (tmp_path / "shakespeare_budget.md").read_text()
  assert "## Verdict" in report and result["meta"]["command"] in report
  assert (tmp_path / "shakespeare_budget_time.png").exists()
  # --render_only rewrites the report from the JSON alone.
  (tmp_path / "shakespeare_budget.md").unlink()
  assert module.main([path_of("shakespeare_budget"), f"--out={tmp_path}", "--render_only"]) == 0
  assert (tmp_path / "shakespeare_budget.md").read_text() == report


def test_attention_kernels_bench_prints_every_kernel(capsys):
  module = script("attention_kernels_bench")
  argv = [path_of("attention_kernels_bench"), "--seq_lens=16", "--batch=1", "--heads=1"]
  assert module.main(argv + ["--head_dim=8", "--repeats=1"]) == 0
  out = capsys.readouterr().out.splitlines()
  assert out[0].startswith("# command: `python experiments/attention_kernels_bench.py")
  rows = [ln.split(",") for ln in out if ln.startswith("16,")]
  assert {r[1] for r in rows} >= {"explicit", "xla", "auto"}
  assert all(float(r[3]) > 0 for r in rows)


def test_run_main_exit_statuses(capsys):
  from fnetlab.common import flags
  from fnetlab.common.errors import UserError

  def interrupted(argv):
    raise KeyboardInterrupt

  def mistake(argv):
    raise UserError("x.py: --set='a': expected KEY=VALUE\nsecond line")

  assert flags.run_main("x.py", lambda argv: None, ["x.py"]) == 0
  assert flags.run_main("x.py", lambda argv: 3, ["x.py"]) == 3
  assert flags.run_main("x.py", interrupted, ["x.py"]) == 130
  assert flags.run_main("x.py", mistake, ["x.py"]) == 2
  err = capsys.readouterr().err.splitlines()
  assert err == ["x.py: interrupted", "x.py: error: --set='a': expected KEY=VALUE"]
  with pytest.raises(KeyboardInterrupt):
    flags.run_main("x.py", interrupted, ["x.py"], verbose=True)
  assert flags.key_values(["a.b=1", "c=x=y"], "--set") == {"a.b": "1", "c": "x=y"}
  with pytest.raises(UserError, match="--set='a': expected KEY=VALUE"):
    flags.key_values(["a"], "--set")


@pytest.mark.slow
def test_tpu_compile_lists_rows_and_resumes(tmp_path):
  """--dry_run lists every row with the command that compiles it; a row whose compile.json
  exists is read back, not compiled again (the report resumes)."""
  r = run_script("experiments/tpu_compile.py", "--dry_run", "--only=base", f"--out={tmp_path}")
  assert r.returncode == 0, r.stderr
  lines = r.stdout.splitlines()
  assert len(lines) == 4 and all(ln.startswith("to do fnetlab compile") for ln in lines)
  assert "--topology=v5e:16x16" in lines[0] and "--config.mesh.fsdp=16" in lines[0]
  # Shards 0/3, 1/3 and 2/3 take every row exactly once.
  shards = [
    run_script("experiments/tpu_compile.py", "--dry_run", f"--shard={i}/3", f"--out={tmp_path}")
    for i in range(3)
  ]
  assert all(r.returncode == 0 for r in shards), [r.stderr for r in shards]
  every = run_script("experiments/tpu_compile.py", "--dry_run", f"--out={tmp_path}")
  split = [ln for r in shards for ln in r.stdout.splitlines()]
  assert sorted(split) == sorted(every.stdout.splitlines()) and len(split) == 94
  from fnetlab.bench import aot
  from fnetlab.common.io import write_json

  (tmp_path / "row").mkdir()
  write_json(str(tmp_path / "row" / "compile.json"), {"row": "row", "fits": True})
  assert aot.compile_rows([("row", None, "v5e:2x2")], str(tmp_path)) == [
    {"row": "row", "fits": True}
  ]


@pytest.mark.slow
def test_quickstart_runs_every_mixer_and_a_rerun_changes_nothing(tmp_path, capsys):
  """`make run`'s script at 2 steps and 2 seeds: every mixer of the tuned digits config trains
  and is evaluated, the verdict names both baselines, and re-running it trains nothing."""
  from fnetlab.mixers import names

  root = tmp_path / "qs"
  argv = [path_of("quickstart"), f"--workdir={root}", "--seeds=0,1", "--steps=2"]
  assert script("quickstart").main(argv) == 0
  out = capsys.readouterr().out
  results = sorted(root.glob("*/seed-*/results.json"))
  mixers = {json.loads(p.read_text())["mixer"] for p in results}
  assert len(results) == 2 * len(names()) and mixers == set(names())
  assert all(json.loads(p.read_text())["step"] == 2 for p in results)
  for base in ("ff_only", "fourier"):
    assert f"at 2 steps, against {base} (test accuracy, paired by seed, 95% interval)" in out
  assert "these rates were tuned at 200 steps" in out
  mtimes = [p.stat().st_mtime_ns for p in results]
  assert script("quickstart").main(argv) == 0
  assert [p.stat().st_mtime_ns for p in results] == mtimes


# ----------------------------------------------------------------------------- GLUE at CPU scale


def test_glue_cpu_fine_tunes_need_the_pretraining_and_its_commands_parse(tmp_path):
  glue_cpu = script("glue_cpu")
  args = flags.script_flags(glue_cpu.__doc__, glue_cpu.FLAGS, ["glue_cpu.py", f"--root={tmp_path}"])
  assert args.root == str(tmp_path)
  with pytest.raises(UserError, match="pretraining has not finished"):
    glue_cpu.finetune(args, "snli", None)
  # The fine-tuning protocol's command line is the real sweep parser's: --list prints its runs
  # (6 models x 3 rates x 1 tuning seed, then 6 x 3 final seeds) without training anything.
  from fnetlab.commands import sweep

  assert sweep.main(["sweep", *glue_cpu.finetune_argv(args, "sentiment", None), "--list"]) == 0
  # The MiniLM fine-tune's every --config.KEY exists in configs/glue.py.
  argv = glue_cpu.minilm_argv(args, "snli", 1)
  overrides = dict(a[len("--config.") :].split("=", 1) for a in argv if a.startswith("--config."))
  c = config_lib.load(os.path.join(REPO, "configs/glue.py:task=snli"), overrides)
  assert c.train.steps == args.minilm_steps and c.seed == 1 and c.model.pooling == "mean"
  ft = config_lib.load(os.path.join(REPO, "configs/glue_cpu/finetune.py:task=snli"))
  assert (c.data.dev_size, c.data.split_seed) == (ft.data.dev_size, ft.data.split_seed)
  # Every fine-tuning point is one of the paper's six models, each exactly once.
  from fnetlab.results.glue_cpu import MODELS

  assert sorted(glue_cpu.model_points(args, "snli").values()) == sorted(MODELS)


def test_glue_cpu_table_against_an_independent_computation(tmp_path):
  """Per-task mean ± t-interval over final seeds, the per-seed two-task average, and the
  per-seed ratio to BERT, recomputed here with numpy and scipy from the summary.csv values."""
  import csv

  from scipy import stats

  from fnetlab.results import glue_cpu

  acc = {  # task -> model point -> {seed: test accuracy}
    "snli": {"bert": {1: 0.60, 2: 0.58, 3: 0.62}, "fnet": {1: 0.52, 2: 0.55, 3: 0.50}},
    "sentiment": {"bert": {1: 0.70, 2: 0.74, 3: 0.72}, "fnet": {1: 0.66, 2: 0.61, 3: 0.64}},
  }
  point = {"bert": "init_from-x_model.mixer-attention-1a2b3c", "fnet": "model.mixer-fourier-9"}
  for task, models in acc.items():
    (tmp_path / task).mkdir()
    with open(tmp_path / task / "summary.csv", "w", newline="") as f:
      w = csv.DictWriter(f, ["variant", "point", "optim.lr", "edge", "test_accuracy_by_seed"])
      w.writeheader()
      for m, by_seed in models.items():
        text = " ".join(f"{s}:{v:.4f}" for s, v in by_seed.items())
        edge = "high" if m == "fnet" else ""
        w.writerow(dict(variant="scratch", point=point[m], edge=edge, test_accuracy_by_seed=text))
        w.writerow(dict(variant="spt", point=point[m], test_accuracy_by_seed="1:0.9"))
  models = {name: m for m, name in point.items()}
  by_task = {t: glue_cpu.read_root(str(tmp_path / t), models) for t in acc}
  assert set(by_task["snli"]) == {"bert", "fnet"}  # the spt rows are not the fine-tunes
  rows = {
    r["model"]: r for r in glue_cpu.table_rows(by_task, {"snli": [0.61], "sentiment": [0.85]})
  }

  def pm(x):
    x = np.asarray(x, float) * 100
    half = stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))
    return f"{x.mean():.1f} ± {half:.1f}"

  avg = {m: np.mean([[acc[t][m][s] for s in (1, 2, 3)] for t in acc], axis=0) for m in point}
  fnet, bert = rows["FNet (Fourier)"], rows["BERT-style (attention)"]
  assert fnet["snli"].startswith(pm(list(acc["snli"]["fnet"].values())))
  assert "(edge)" in fnet["snli"] and "(edge)" not in bert["snli"]
  assert fnet["average"] == pm(avg["fnet"]) and bert["average"] == pm(avg["bert"])
  assert fnet["% of BERT"] == pm(avg["fnet"] / avg["bert"])
  assert bert["% of BERT"] == "100.0 ± 0.0"
  assert fnet["paper % of BERT"] == "92" and fnet["paper GLUE avg (Base)"] == "76.7"
  ref = rows["all-MiniLM-L6-v2 (pretrained attention, reference)"]
  assert ref["average"] == "73.0" and ref["% of BERT"] == "—"
  assert "FNet (Fourier)" in glue_cpu.markdown(by_task)
  with pytest.raises(UserError, match="not one of the protocol's models"):
    glue_cpu.read_root(str(tmp_path / "snli"), {point["bert"]: "bert"})


def test_glue_cpu_report_has_the_pretraining_table_and_its_raw_tables(tmp_path, monkeypatch):
  """The report gives each finished pretraining run's own validation numbers (read back from
  its results.json) and copies each task root's protocol.md / tuning.csv / summary.csv beside
  itself, byte for byte, linked from the report."""
  from fnetlab.commands.sweep import point_name, points
  from fnetlab.common import workdir as files

  glue_cpu = script("glue_cpu")
  root, report = tmp_path / "runs", tmp_path / "out" / "glue_cpu.md"
  args = flags.script_flags(
    glue_cpu.__doc__,
    glue_cpu.FLAGS,
    ["glue_cpu.py", f"--root={root}", f"--report={report}", "--pt_steps=7"],
  )
  pts = points(os.path.join(REPO, f"{glue_cpu.PRETRAIN}:steps=7"), "models")
  fnet = next(p for p in pts if p == {"model.mixer": "fourier"})
  wd = root / "pt" / point_name(fnet)
  wd.mkdir(parents=True)
  val = {"loss": 2.6898, "mlm_accuracy": 0.4377, "nsp_accuracy": 0.5012}
  files.write_results(
    str(wd),
    {"step": 7, "best": {"step": 5}, "validation": val, "params": 171590, "wall_time_s": 90},
  )
  (root / "snli").mkdir()
  for name in glue_cpu.RAW_TABLES:
    (root / "snli" / name).write_text(f"{name} of snli\n")
  monkeypatch.chdir(REPO)  # the script's config paths are relative to the repository
  copies = glue_cpu.copy_raw_tables(args, ["snli", "sentiment"])
  text = glue_cpu.render(args, [1], ["glue_cpu.py"])
  assert copies == [f"glue_cpu/snli/{n}" for n in glue_cpu.RAW_TABLES]
  for name in glue_cpu.RAW_TABLES:
    assert (tmp_path / "out" / "glue_cpu" / "snli" / name).read_text() == f"{name} of snli\n"
  row = next(line for line in text.splitlines() if line.startswith("| FNet (Fourier) |"))
  assert [c.strip() for c in row.strip("|").split("|")] == [
    "FNet (Fourier)",
    "7",
    "5",
    "2.690",
    "43.8",
    "50.1",
    "171,590",
    "1.5",
  ]
  assert "BERT-style" not in text  # an unfinished pretraining has no row
  assert report.read_text() == text
  # A hand-written notes section survives a re-render, once, after the new tables.
  notes = f"{glue_cpu.NOTES_HEADING}: how to read it\n\nFNet collapsed.\n"
  report.write_text(text + "\n" + notes)
  again = glue_cpu.render(args, [1], ["glue_cpu.py"])
  assert again.endswith("\n" + notes) and again.count(glue_cpu.NOTES_HEADING) == 1
  assert row in again.split(glue_cpu.NOTES_HEADING)[0]  # the tables come first


# ----------------------------------------------------------------------------- cls_probe


def probed(mixer):
  from fnetlab import tasks

  task = tasks.build(tiny_digits(**{"model.mixer": mixer, "model.norm": "post"}))
  example = {k: jax.numpy.asarray(v) for k, v in task.example_batch(2).items()}
  params = task.model.init(jax.random.PRNGKey(0), example)["params"]
  return script("cls_probe").probe(task, params["backbone"], "validation", 8)


def test_cls_probe_finds_no_input_in_ff_onlys_cls_state():
  """FF-only never mixes tokens, so its [CLS] state is the same for every input: spread
  exactly 0 at every site and in the pooled output, while every other position varies."""
  result = probed("ff_only")
  sites = [r[0] for r in result["rows"]]
  assert sites[:3] == ["embeddings output", "layer_0 mixing", "layer_0 output"]
  for site, cls, others in result["rows"]:
    assert cls["spread"] == 0.0 and cls["varying"] == 0.0, site
    assert others["spread"] > 0.01, site
  assert result["pooled"]["spread"] == 0.0


def test_cls_probe_sees_fnets_cls_row_as_the_zero_frequency_sum():
  """FNet's mixing at position 0 is the sequence's zero-frequency term: numpy's FFT over the
  features of the positions' sum (the post-LN block's mixer reads the embeddings)."""
  result = probed("fourier")
  arrays = result["arrays"]
  oracle = np.fft.fft(arrays["embeddings output"].astype(np.float64).sum(1), axis=-1).real
  np.testing.assert_allclose(arrays["layer_0 mixing"][:, 0], oracle, rtol=1e-4, atol=1e-3)
  row = dict((r[0], r[1]) for r in result["rows"])["layer_0 mixing"]
  expected = script("cls_probe").stats(oracle[:, None])  # the same numbers, from the oracle
  assert row == pytest.approx(expected, rel=1e-6)
  assert row["spread"] > 0
