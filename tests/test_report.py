"""`fnetlab report`: every workdir under a root at any depth, summary rows keyed by point with
their seed, and the LRA and GLUE tables printed whenever such runs are under the root. The
workdirs are written by hand (the files `fnetlab train`, `eval` and `sweep` write), so the
expected cells follow from their numbers."""

from __future__ import annotations

import csv
import json

from fnetlab import cli


def workdir(path, task, mixer, validation, test=None, seed=0, step=10, curve=()):
  path.mkdir(parents=True)
  results = {
    "task": task,
    "mixer": mixer,
    "step": step,
    "params": 1000,
    "train_steps_per_sec": 2.0,
    "wall_time_s": 5.0,
    "validation": validation,
    "test": test or {},
  }
  (path / "results.json").write_text(json.dumps(results))
  model = {"mixer": mixer, "hybrid": "none", "num_layers": 2, "d_model": 64}
  (path / "config.json").write_text(json.dumps({"task": task, "seed": seed, "model": model}))
  with open(path / "metrics.jsonl", "w") as f:
    for s, acc in curve:
      f.write(json.dumps({"step": s, "val_accuracy": acc}) + "\n")
  return path


def sweep_root(path, points):
  path.mkdir(parents=True, exist_ok=True)
  sweep = {"points": [{"name": name, "overrides": o} for name, o in points.items()]}
  (path / "sweep.json").write_text(json.dumps(sweep))


def report(root, capsys, *flags):
  assert cli.main(["fnetlab", "report", f"--workdir={root}", *flags]) == 0
  return capsys.readouterr().out


def table(text: str, title: str) -> dict[str, list[str]]:
  """The rows of the markdown table under `## title`: model -> cells."""
  block = text.split(f"## {title}\n\n", 1)[1].split("\n\n", 1)[0]
  rows = {}
  for line in block.splitlines()[2:]:
    cells = [c.strip() for c in line.strip("|").split("|")]
    rows[cells[0]] = cells[1:]
  return rows


def test_lra_and_glue_tables_under_one_root(tmp_path, capsys):
  root = tmp_path / "runs"
  # LRA: two seeds of one model; the table takes the best validation run per cell.
  for seed, (val, test) in enumerate([(0.30, 0.33), (0.35, 0.31)]):
    workdir(
      root / "lra" / f"listops_fourier_s{seed}",
      "listops",
      "fourier",
      {"accuracy": val},
      {"accuracy": test},
      seed=seed,
      curve=[(5, val - 0.1), (10, val)],
    )
  workdir(
    root / "lra" / "text_attention", "text", "attention", {"accuracy": 0.6}, {"accuracy": 0.62}
  )
  # GLUE: one workdir per task, and a learning-rate sweep root for RTE two levels down.
  workdir(root / "glue" / "sst2", "glue/sst2", "fourier", {"accuracy": 0.91})
  sweep_root(
    root / "glue" / "rte", {"lr-1e-05": {"optim.lr": 1e-5}, "lr-5e-05": {"optim.lr": 5e-5}}
  )
  workdir(root / "glue" / "rte" / "lr-1e-05", "glue/rte", "fourier", {"accuracy": 0.55})
  workdir(root / "glue" / "rte" / "lr-5e-05", "glue/rte", "fourier", {"accuracy": 0.61}, seed=3)
  # A language model belongs in neither table; a failed sweep point is a row with its error.
  workdir(root / "lm", "lm", "worker", {"loss": 1.5, "bits_per_char": 2.2})
  (root / "glue" / "rte" / "lr-1e-04").mkdir()
  (root / "glue" / "rte" / "lr-1e-04" / "failed.json").write_text(
    json.dumps({"error": "ValueError: bad | value"})
  )

  out = report(root, capsys)
  lra = table(out, "LRA (test accuracy %)")
  # 10-step runs are CPU-scale: labelled reduced beside the paper's rows.
  assert lra["fourier (reduced)"][0] == "31.00"  # seed 1: validation 0.35 > 0.30
  assert lra["attention (reduced)"][1] == "62.00"
  assert lra["FNet (paper)"][0] == "35.33"
  assert "worker" not in lra and len(lra) == 4
  glue = table(out, "GLUE (dev)")
  fourier = glue["fourier 2L-64"]
  assert fourier[4] == "91.0" and fourier[8] == "61.0"  # SST-2; RTE: the better learning rate
  assert fourier[9] == "76.0 (2/9)"
  assert "FNet-Base (paper)" in glue and "worker 2L-64" not in glue

  with open(root / "summary.csv") as f:
    rows = {r["point"]: r for r in csv.DictReader(f)}
  assert set(rows) == {
    "lra/listops_fourier_s0",
    "lra/listops_fourier_s1",
    "lra/text_attention",
    "glue/sst2",
    "glue/rte/lr-1e-05",
    "glue/rte/lr-5e-05",
    "glue/rte/lr-1e-04",
    "lm",
  }
  assert rows["lra/listops_fourier_s1"]["seed"] == "1" and rows["glue/rte/lr-5e-05"]["seed"] == "3"
  assert json.loads(rows["glue/rte/lr-5e-05"]["overrides"]) == {"optim.lr": 5e-5}
  assert rows["lra/listops_fourier_s0"]["test_accuracy"] == "0.33"
  assert rows["glue/rte/lr-1e-04"]["status"] == "failed"
  assert rows["glue/rte/lr-1e-04"]["error"] == "ValueError: bad | value"
  assert "| glue/rte/lr-1e-04 |  | failed |" in out and "bad \\| value" in out  # escaped pipe
  summary_md = (root / "summary.md").read_text()
  assert "## LRA (test accuracy %)" in summary_md and "## GLUE (dev)" in summary_md
  for name in ("curves.png", "pareto.png"):
    assert (root / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

  # --cola_metric and --noreference reach the GLUE table.
  out = report(root / "glue", capsys, "--cola_metric=accuracy", "--noreference")
  assert "## LRA" not in out and "CoLA (acc)" in out and "(paper)" not in out


def test_seed_runs_of_a_sweep_point_share_its_overrides(tmp_path, capsys):
  """`fnetlab sweep --seeds` writes ROOT/<point>/seed-<k>/: each is a row of runs.csv keyed by
  its path, with its seed and its point's overrides; summary.csv groups them over seeds."""
  sweep_root(tmp_path, {"mixer-fourier": {"model.mixer": "fourier"}})
  for seed in (0, 1):
    workdir(
      tmp_path / "mixer-fourier" / f"seed-{seed}",
      "listops",
      "fourier",
      {"accuracy": 0.3},
      seed=seed,
    )
  failed = tmp_path / "mixer-fourier" / "seed-2"
  failed.mkdir()
  (failed / "failed.json").write_text(json.dumps({"error": "boom", "overrides": {"seed": 2}}))
  report(tmp_path, capsys)
  with open(tmp_path / "runs.csv") as f:
    rows = {r["point"]: r for r in csv.DictReader(f)}
  assert set(rows) == {f"mixer-fourier/seed-{k}" for k in range(3)}
  with open(tmp_path / "summary.csv") as f:  # one row per point, over its finished seeds
    (point,) = list(csv.DictReader(f))
  assert point["point"] == "mixer-fourier" and point["seeds"] == "2" and point["failed"] == "1"
  for k in range(3):
    row = rows[f"mixer-fourier/seed-{k}"]
    assert row["seed"] == str(k) and json.loads(row["overrides"]) == {"model.mixer": "fourier"}
  assert rows["mixer-fourier/seed-2"]["status"] == "failed"


def test_no_task_table_without_its_runs(tmp_path, capsys):
  workdir(tmp_path / "a", "lm", "attention", {"loss": 1.4})
  out = report(tmp_path, capsys)
  assert "## LRA" not in out and "## GLUE" not in out and "| a |" in out
  # A single workdir is a root of one run.
  out = report(tmp_path / "a", capsys)
  assert "| a | 0 | ok | attention |" in out


def test_bad_roots_are_one_line_errors(tmp_path, capsys):
  assert cli.main(["fnetlab", "report", f"--workdir={tmp_path / 'missing'}"]) == 2
  err = capsys.readouterr().err.strip()
  assert len(err.splitlines()) == 1 and "not a directory" in err
  assert cli.main(["fnetlab", "report", f"--workdir={tmp_path}"]) == 2
  err = capsys.readouterr().err.strip()
  assert len(err.splitlines()) == 1 and "no runs" in err
  (tmp_path / "broken").mkdir()
  (tmp_path / "broken" / "results.json").write_text("{not json")
  assert cli.main(["fnetlab", "report", f"--workdir={tmp_path}"]) == 2
  err = capsys.readouterr().err.strip()
  assert len(err.splitlines()) == 1 and "broken/results.json" in err
  assert not (tmp_path / "summary.csv").exists()  # nothing written


def test_help_lists_every_flag(capsys):
  from fnetlab.commands import report as report_cmd

  assert cli.main(["fnetlab", "report", "--help"]) == 0
  out = capsys.readouterr().out
  for flag in report_cmd.FLAGS:
    assert f"--{flag.name}" in out


def test_results_package_needs_no_jax():
  """The results package reads files and writes tables: importing it (the report and every
  table) loads neither jax nor any model code, so reports work wherever the files are."""
  import subprocess
  import sys

  code = (
    "import sys, fnetlab.results.report, fnetlab.results.bench;"
    "bad = sorted(m for m in sys.modules if m == 'jax' or m.startswith(('jax.', 'fnetlab.models',"
    " 'fnetlab.mixers', 'fnetlab.train', 'fnetlab.tasks', 'fnetlab.bench')));"
    "print(bad); sys.exit(1 if bad else 0)"
  )
  proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
  assert proc.returncode == 0, proc.stdout + proc.stderr


def test_metric_must_be_one_the_runs_have(tmp_path, capsys):
  for seed in (0, 1):
    workdir(tmp_path / "p" / f"seed-{seed}", "listops", "fourier", {"accuracy": 0.3}, seed=seed)
  assert cli.main(["fnetlab", "report", f"--workdir={tmp_path}", "--metric=tst_accuracy"]) == 2
  err = capsys.readouterr().err.strip()
  assert len(err.splitlines()) == 1 and "--metric=tst_accuracy" in err
  assert "validation_accuracy" in err  # the metrics present are listed
  assert not (tmp_path / "runs.csv").exists()  # nothing written
  out = report(tmp_path, capsys, "--metric=validation_accuracy")
  assert "## validation_accuracy %: mean" in out and "30.0" in out
