"""experiments/accelerator_check.py in --smoke mode: every stage at tiny size, on this CPU.

The check is meant to run once on a GPU node with no second try, so the rehearsal here is
what keeps it from rotting as the code it calls changes: the report must come out with every
section filled, every test of the on-device subset passing, and both ListOps models scored.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(REPO, "experiments", "accelerator_check.py")


def read_csv(path):
  with open(path, newline="") as f:
    return list(csv.DictReader(f))


@pytest.mark.slow
def test_smoke_runs_every_stage(tmp_path):
  out, work = tmp_path / "out", tmp_path / "work"
  env = {k: v for k, v in os.environ.items() if not k.startswith(("XLA_", "JAX_"))}
  proc = subprocess.run(
    [sys.executable, SCRIPT, f"--out={out}", f"--workdir={work}", "--smoke", "--budget_s=170"],
    cwd=REPO,
    env=env,
    capture_output=True,
    text=True,
    timeout=300,
  )
  report_path = out / "accelerator_check.md"
  report = report_path.read_text() if report_path.exists() else ""
  assert proc.returncode == 0, (proc.stdout[-3000:], proc.stderr[-3000:], report)

  # Scratch stays out of DIR: DIR holds the seven report files only.
  assert sorted(os.listdir(out)) == sorted(
    [
      "accelerator_check.md",
      "bench_fnet_base.csv",
      "bench_lra_text.csv",
      "check.log",
      "environment.json",
      "listops.csv",
      "tests.csv",
    ]
  )
  for section in ("## 1. Environment", "## 2. On-device tests", "## 3. Benchmarks", "## 4. LRA"):
    assert section in report
  assert "(not run)" not in report

  env_info = json.loads((out / "environment.json").read_text())
  assert env_info["backend"] == "cpu" and env_info["devices"]

  assert "- command: `python experiments/accelerator_check.py --out=" in report
  assert "- machine: " in report and "cpu" in report

  tests = read_csv(out / "tests.csv")
  groups = {row["group"] for row in tests}
  assert groups == {
    "mixer oracles",
    "bf16 train step",
    "HF PyTorch parity",
    "attention kernel: fused vs explicit",
  }
  assert all(row["outcome"] == "PASSED" for row in tests), tests

  for name in ("bench_lra_text.csv", "bench_fnet_base.csv"):
    rows = read_csv(out / name)
    assert rows and all(r["status"] == "ok" for r in rows), rows

  models = {r["model"]: r for r in read_csv(out / "listops.csv")}
  assert set(models) == {"FNet", "Transformer"}
  for row in models.values():
    assert not row["error"], row
    assert 0.0 <= float(row["test_accuracy"]) <= 1.0
    assert int(row["steps"]) >= 2
    assert float(row["step_ms"]) > 0 and float(row["compile_s"]) > 0 and int(row["params"]) > 0
