"""`make run`: every mixer family at its own tuned rate, three seeds, real digits; the verdict.

  python experiments/quickstart.py --workdir=runs/quickstart

Runs `sweep_mixers` of configs/suite/digits_tuned.py: scikit-learn's 8x8 digits as 64 pixel
ids, the FNet encoder at the tiny size, 200 steps of batch 32, each mixer at the peak
learning rate the tuning protocol chose for it on digits at 200 steps (the config's
docstring has the exact command; the seeds here are that protocol's final seeds, disjoint
from its tuning seed). Resumable (re-running skips finished runs), with JAX's persistent
compilation cache on so that seeds after the first do not compile again. Evaluation covers
the whole validation and test splits (360 images each); test accuracy is that of the last
step. Then prints each mixer's rate, the report (per mixer the mean test accuracy over seeds
with its 95% Student-t interval, the binomial standard error of one evaluation, the paired
difference by seed against FF-only and FNet) and which differences are resolved. Every
verdict is a verdict at this step budget: with more steps the order can change.
"""

from __future__ import annotations

import os
import sys
import time

from fnetlab.common import flags, provenance
from fnetlab.common.errors import UserError
from fnetlab.common.flags import Flag, int_list

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = os.path.join(REPO, "configs/suite/digits_tuned.py")

FLAGS = (
  Flag("workdir", "Root for the sweep's workdirs.", "runs/quickstart"),
  Flag("seeds", "Comma-separated seeds; every mixer runs once per seed.", "0,1,2"),
  Flag("steps", "Training steps per run (the rates were tuned at 200).", 200, int),
  Flag("baselines", "Comma-separated mixers for the paired differences.", "ff_only,fourier"),
)


def verdict(root: str, baselines, steps: int) -> str:
  """One line per baseline: which mixers are resolved better, resolved worse, or unresolved."""
  from fnetlab.results import aggregate, seeds
  from fnetlab.results import workdirs as wd

  rows = [aggregate.summary_row(r) for r in wd.read_runs(root)]
  lines = []
  for base in baselines:
    diffs = seeds.paired(rows, base, "test_accuracy")
    lines.append(
      f"at {steps} steps, against {base} (test accuracy, paired by seed, 95% interval): "
      + seeds.verdict_lists(diffs)
    )
  return "\n".join(lines)


def rates_text(steps: int) -> str:
  from fnetlab.common import config as config_lib

  module = config_lib.load_module(CONFIG)
  where = os.path.relpath(CONFIG, REPO)
  lines = [f"peak learning rate per mixer (tuned on digits at {module.STEPS} steps; {where}):"]
  lines += [f"  {mixer:<10} {rate:g}" for mixer, rate in module.RATES.items()]
  if steps != module.STEPS:
    lines.append(f"  note: --steps={steps}, but these rates were tuned at {module.STEPS} steps")
  return "\n".join(lines)


def main(argv) -> int:
  args = flags.script_flags(__doc__, FLAGS, argv)
  seeds = int_list(args.seeds, "--seeds", minimum=0)
  baselines = [b for b in args.baselines.split(",") if b]
  if args.steps < 1:
    raise UserError(f"--steps={args.steps}: needs at least 1")
  from fnetlab.commands.sweep import run_sweep
  from fnetlab.results.report import write_report
  from fnetlab.train import compile_cache

  t0 = time.time()
  compile_cache.enable()
  os.makedirs(args.workdir, exist_ok=True)
  print(rates_text(args.steps), flush=True)
  statuses = run_sweep(f"{CONFIG}:steps={args.steps}", "mixers", args.workdir, seeds=seeds)
  wall = time.time() - t0
  print("\n" + "\n".join(provenance.markdown(provenance.collect(argv))))
  print(f"- sweep wall time {wall:.0f} s")
  print("\n" + rates_text(args.steps))
  print("\n" + write_report(args.workdir, baselines=baselines))
  print(
    f"\nThis is a {args.steps}-step verdict (batch 32, each mixer at its own tuned rate): "
    "with more steps the order can change."
  )
  print(verdict(args.workdir, baselines, args.steps))
  print(
    f"\ncheckpoints: {args.workdir}/<point>/seed-<k>/checkpoints   "
    f"TensorBoard: tensorboard --logdir {args.workdir}"
  )
  print(f"total wall time {time.time() - t0:.0f} s")
  return 1 if any(s == "failed" for _, s in statuses) else 0


if __name__ == "__main__":
  sys.exit(flags.run_script(main))
