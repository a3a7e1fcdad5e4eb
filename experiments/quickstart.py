"""`make run`: every mixer family, three seeds each, on real handwritten digits; the verdict.

  python experiments/quickstart.py --workdir=runs/quickstart

Runs `sweep_mixers` of configs/suite/digits.py (scikit-learn's 8x8 digits as 64 pixel ids,
the FNet encoder at the tiny size, 200 steps of batch 32, lr 3e-3, the same for every mixer)
once per seed, resumably (re-running skips finished runs), with JAX's persistent compilation
cache on so that seeds after the first do not compile again. Evaluation covers the whole
validation and test splits (360 images each). Then prints the report: per mixer the mean
test accuracy over seeds with its 95% Student-t interval, the binomial standard error of one
evaluation, and the paired difference (by seed) against FF-only and against FNet, with which
differences are resolved (their 95% interval excludes 0). `fnetlab report` writes the same
tables, the learning curves (mean and band over seeds) and the accuracy-throughput plot.
"""

from __future__ import annotations

import datetime
import os
import sys
import time

from absl import flags

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = os.path.join(REPO, "configs/suite/digits.py")

FLAGS = flags.FLAGS
flags.DEFINE_string("workdir", "runs/quickstart", "Root for the sweep's workdirs.")
flags.DEFINE_list("seeds", ["0", "1", "2"], "Seeds; every mixer runs once per seed.")
flags.DEFINE_integer("steps", 200, "Training steps per run.")
flags.DEFINE_list("baselines", ["ff_only", "fourier"], "Paired differences against these.")


def commit() -> str:
  from fnetlab.common.io import git_commit

  return git_commit() or "unknown"


def verdict(root: str, baselines) -> str:
  """One line per baseline: which mixers are resolved better, resolved worse, or unresolved."""
  from fnetlab.results import aggregate, seeds
  from fnetlab.results import workdirs as wd

  rows = [aggregate.summary_row(r) for r in wd.read_runs(root)]
  lines = []
  for base in baselines:
    diffs = seeds.paired(rows, base, "test_accuracy")
    better = [d["mixer"] for d in diffs if d["resolved"] and d["diff_mean"] > 0]
    worse = [d["mixer"] for d in diffs if d["resolved"] and d["diff_mean"] < 0]
    open_ = [d["mixer"] for d in diffs if not d["resolved"]]
    lines.append(
      f"against {base} (test accuracy, paired by seed, 95% interval): "
      f"better: {', '.join(better) or 'none'}; worse: {', '.join(worse) or 'none'}; "
      f"unresolved: {', '.join(open_) or 'none'}"
    )
  return "\n".join(lines)


def main():
  FLAGS(sys.argv)
  from fnetlab.commands.sweep import run_sweep
  from fnetlab.results.report import write_report
  from fnetlab.train import compile_cache

  t0 = time.time()
  compile_cache.enable()
  os.makedirs(FLAGS.workdir, exist_ok=True)
  seeds = [int(s) for s in FLAGS.seeds]
  statuses = run_sweep(f"{CONFIG}:steps={FLAGS.steps}", "mixers", FLAGS.workdir, seeds=seeds)
  wall = time.time() - t0
  load = os.getloadavg()
  print(
    f"\ncommand: python experiments/quickstart.py --workdir={FLAGS.workdir} "
    f"(steps={FLAGS.steps}, seeds={','.join(FLAGS.seeds)}); commit {commit()}; "
    f"{datetime.date.today().isoformat()}; sweep wall time {wall:.0f} s; "
    f"load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1/5/15 min) on "
    f"{os.cpu_count()} cores"
  )
  print("\n" + write_report(FLAGS.workdir, baselines=FLAGS.baselines))
  print("\n" + verdict(FLAGS.workdir, FLAGS.baselines))
  print(
    f"\ncheckpoints: {FLAGS.workdir}/<point>/seed-<k>/checkpoints   "
    f"TensorBoard: tensorboard --logdir {FLAGS.workdir}"
  )
  print(f"total wall time {time.time() - t0:.0f} s")
  return 1 if any(s == "failed" for _, s in statuses) else 0


if __name__ == "__main__":
  sys.exit(main())
