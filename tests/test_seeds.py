"""Seeds as an axis in `fnetlab report`: per-point means and 95% Student-t intervals over seeds,
paired-by-seed differences against a baseline, and the evaluation's standard error, pinned
against a hand computation with numpy and scipy on hand-written sweep workdirs (the files
`fnetlab sweep --seeds` leaves: ROOT/<point>/seed-<k>/{results,config}.json, metrics.jsonl)."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest
from scipy import stats

from fnetlab import cli
from fnetlab.common.errors import UserError
from fnetlab.results import seeds

# test accuracy per seed 0, 1, 2
ACC = {
  "model.mixer-fourier": ("fourier", [0.80, 0.85, 0.83]),
  "model.mixer-ff_only": ("ff_only", [0.10, 0.12, 0.11]),
  "model.mixer-attention": ("attention", [0.84, 0.80, 0.86]),
}
EXAMPLES = 360


def hand_interval(x):
  x = np.asarray(x, np.float64)
  lo, hi = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
  return x.mean(), (hi - lo) / 2


def sweep(root, points=ACC):
  root.mkdir(parents=True, exist_ok=True)
  names = [{"name": p, "overrides": {"model.mixer": m}} for p, (m, _) in points.items()]
  (root / "sweep.json").write_text(json.dumps({"points": names, "seeds": [0, 1, 2]}))
  for point, (mixer, accs) in points.items():
    for seed, acc in enumerate(accs):
      d = root / point / f"seed-{seed}"
      d.mkdir(parents=True)
      results = {
        "task": "digits",
        "mixer": mixer,
        "step": 4,
        "params": 1000,
        "train_steps_per_sec": 10.0 + seed,
        "wall_time_s": 5.0,
        "validation": {"accuracy": acc - 0.01, "loss": 1.0, "examples": EXAMPLES},
        "test": {"accuracy": acc, "loss": 1.0, "examples": EXAMPLES},
      }
      (d / "results.json").write_text(json.dumps(results))
      (d / "config.json").write_text(
        json.dumps({"task": "digits", "seed": seed, "model": {"mixer": mixer}})
      )
      with open(d / "metrics.jsonl", "w") as f:
        for step in (1, 2, 3, 4):
          f.write(json.dumps({"step": step, "train_loss": 2.0 / step + 0.01 * seed}) + "\n")
          if step % 2 == 0:
            f.write(json.dumps({"step": step, "val_accuracy": acc * step / 4}) + "\n")
  return root


def test_t_interval_is_scipys_student_t():
  x = [0.31, 0.35, 0.29, 0.40]
  mean, half = seeds.t_interval(x)
  want_mean, want_half = hand_interval(x)
  assert mean == pytest.approx(want_mean) and half == pytest.approx(want_half)
  assert seeds.t_interval([0.5]) == (0.5, None)  # one seed: no interval
  assert seeds.t_interval([]) == (None, None)
  assert seeds.binomial_se(0.9, 360) == pytest.approx(math.sqrt(0.9 * 0.1 / 360))


def test_point_of_strips_only_a_trailing_seed_folder():
  assert seeds.point_of("model.mixer-fourier/seed-2") == "model.mixer-fourier"
  assert seeds.point_of("lra/listops/seed-0") == "lra/listops"
  assert seeds.point_of("seed-0") == "seed-0"  # a root-level run is its own point
  assert seeds.point_of("a/seed-x") == "a/seed-x"


def test_two_mixer_three_seed_summary_matches_hand_computation(tmp_path, capsys):
  root = sweep(tmp_path / "sw")
  assert cli.main(["fnetlab", "report", f"--workdir={root}", "--baseline=ff_only"]) == 0
  out = capsys.readouterr().out
  with open(root / "summary.csv") as f:
    rows = {r["point"]: r for r in csv.DictReader(f)}
  assert set(rows) == set(ACC)
  for point, (_, accs) in ACC.items():
    row = rows[point]
    mean, half = hand_interval(accs)
    assert row["seeds"] == "3"
    assert float(row["test_accuracy_mean"]) == pytest.approx(mean, rel=1e-5)
    assert float(row["test_accuracy_ci95"]) == pytest.approx(half, rel=1e-5)
    se = math.sqrt(mean * (1 - mean) / EXAMPLES)
    assert float(row["test_accuracy_se"]) == pytest.approx(se, rel=1e-5)
    assert float(row["steps_per_sec_mean"]) == pytest.approx(11.0)
  with open(root / "runs.csv") as f:
    assert len(list(csv.DictReader(f))) == 9  # one row per run

  # Paired differences against ff_only, by seed: fourier - ff_only = 0.70, 0.73, 0.72.
  diffs = {d["mixer"]: d for d in seeds.paired(_run_rows(root), "ff_only", "test_accuracy")}
  d_mean, d_half = hand_interval(
    np.subtract(ACC["model.mixer-fourier"][1], ACC["model.mixer-ff_only"][1])
  )
  assert diffs["fourier"]["diff_mean"] == pytest.approx(d_mean)
  assert diffs["fourier"]["diff_ci95"] == pytest.approx(d_half)
  assert diffs["fourier"]["resolved"] and diffs["attention"]["resolved"]
  # Against fourier, attention's differences 0.04, -0.05, 0.03 straddle 0: not resolved.
  vs_fnet = {d["mixer"]: d for d in seeds.paired(_run_rows(root), "fourier", "test_accuracy")}
  a_mean, a_half = hand_interval([0.04, -0.05, 0.03])
  assert vs_fnet["attention"]["diff_mean"] == pytest.approx(a_mean)
  assert vs_fnet["attention"]["diff_ci95"] == pytest.approx(a_half)
  assert not vs_fnet["attention"]["resolved"]

  # The printed tables: mean ± interval in %, and the paired table marks what is resolved.
  fnet_line = next(x for x in out.splitlines() if x.startswith("| model.mixer-fourier |"))
  assert f"{100 * hand_interval(ACC['model.mixer-fourier'][1])[0]:.1f} ± " in fnet_line
  paired_block = out.split("## Paired differences against model.mixer-ff_only", 1)[1]
  fourier_line = next(
    x for x in paired_block.splitlines() if x.startswith("| model.mixer-fourier |")
  )
  assert f"+{100 * d_mean:.1f} ± {100 * d_half:.1f}" in fourier_line and "| yes |" in fourier_line
  for name in ("curves.png", "pareto.png"):
    assert (root / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_verdict_lists_sort_by_resolution_and_the_metrics_direction(tmp_path):
  # Against ff_only both are resolved above it; against fourier attention straddles 0 and
  # ff_only is resolved below. On a loss (higher=False) the same signs mean the reverse.
  rows = _run_rows(sweep(tmp_path / "sw"))
  vs_ff = seeds.sort_verdicts(seeds.paired(rows, "ff_only", "test_accuracy"))
  assert sorted(vs_ff["better"]) == ["attention", "fourier"]
  assert vs_ff["worse"] == vs_ff["unresolved"] == []
  vs_fnet = seeds.paired(rows, "fourier", "test_accuracy")
  assert seeds.sort_verdicts(vs_fnet) == {
    "better": [],
    "worse": ["ff_only"],
    "unresolved": ["attention"],
  }
  assert seeds.sort_verdicts(vs_fnet, higher=False)["better"] == ["ff_only"]
  assert seeds.verdict_lists(vs_fnet) == "better: none; worse: ff_only; unresolved: attention"


def _run_rows(root):
  from fnetlab.results import aggregate
  from fnetlab.results import workdirs as wd

  return [aggregate.summary_row(r) for r in wd.read_runs(str(root))]


def test_pairs_use_only_seeds_both_points_finished(tmp_path):
  root = sweep(tmp_path / "sw")
  (root / "model.mixer-fourier" / "seed-1" / "results.json").unlink()  # incomplete run
  diffs = {d["mixer"]: d for d in seeds.paired(_run_rows(root), "ff_only", "test_accuracy")}
  assert diffs["fourier"]["pairs"] == 2
  assert diffs["fourier"]["diff_mean"] == pytest.approx(np.mean([0.70, 0.72]))
  rows = {p["point"]: p for p in seeds.point_rows(_run_rows(root))}
  assert rows["model.mixer-fourier"]["seeds"] == 2


def test_unknown_or_ambiguous_baseline_is_a_user_error(tmp_path):
  root = sweep(tmp_path / "sw")
  with pytest.raises(UserError, match="no point or mixer"):
    seeds.paired(_run_rows(root), "linear", "test_accuracy")
  with pytest.raises(UserError, match="2 points use that mixer"):
    seeds.find_baseline([{"point": "a", "mixer": "x"}, {"point": "b", "mixer": "x"}], "x")
