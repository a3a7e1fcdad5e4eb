"""`make run`: every mixer family on CPU-sized, generated ListOps, then the comparison table.

  python experiments/quickstart.py --workdir=runs/quickstart

Runs `sweep_mixers` of configs/lra/listops.py with `runlocal` (tiny model, short expressions,
400 steps), resumably: re-running skips finished points. Prints the summary table and where
the checkpoints, TensorBoard logs and plots are.
"""

from __future__ import annotations

import os
import sys
import time

from absl import flags

FLAGS = flags.FLAGS
flags.DEFINE_string("workdir", "runs/quickstart", "Root for the sweep's workdirs.")
flags.DEFINE_string("sweep", "mixers", "Which sweep of configs/lra/listops.py to run.")

CONFIG = os.path.join(
  os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "configs/lra/listops.py"
)


def main():
  FLAGS(sys.argv)
  from fnetlab.results.report import write_report
  from fnetlab.commands.sweep import run_sweep

  t0 = time.time()
  os.makedirs(FLAGS.workdir, exist_ok=True)
  statuses = run_sweep(f"{CONFIG}:runlocal", FLAGS.sweep, FLAGS.workdir)
  print("\n" + write_report(FLAGS.workdir))
  print(
    f"\ncheckpoints: {FLAGS.workdir}/<point>/checkpoints   TensorBoard: tensorboard --logdir {FLAGS.workdir}"
  )
  print(f"total wall time {time.time() - t0:.0f} s")
  return 1 if any(s == "failed" for _, s in statuses) else 0


if __name__ == "__main__":
  sys.exit(main())
