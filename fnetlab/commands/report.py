"""`fnetlab report`: tables and plots of every run under a root folder.

  fnetlab report --workdir=runs/sweep       # a sweep root, a folder of workdirs, or one workdir
  fnetlab report --workdir=runs/glue --cola_metric=accuracy
  fnetlab report --workdir=runs/sw --baseline=ff_only,fourier   # paired differences (by seed)

Finds every workdir under --workdir (at any depth) and writes ROOT/runs.csv (one row per run),
ROOT/summary.csv (one row per point: M_mean, M_ci95 = half-width of the 95% Student-t interval
over seeds, seeds), ROOT/summary.md, ROOT/curves.png and ROOT/pareto.png; prints the seed
table (or, without seeds, the per-run table), the paired differences against each --baseline,
then the LRA table (test accuracy, tasks x models, beside the FNet paper's rows) when LRA runs
are under the root and the GLUE table (dev scores) when GLUE runs are. The method is in fnetlab/results/.
"""

from __future__ import annotations

from fnetlab.common.flags import Flag, parse
from fnetlab.results.report import write_report

FLAGS = (
  Flag("workdir", "Root folder of runs (or a single workdir) to report on.", required=True),
  Flag(
    "cola_metric",
    "GLUE table's CoLA score: mcc (GLUE's) or accuracy (what the FNet paper reports).",
    "mcc",
    choices=("mcc", "accuracy"),
  ),
  Flag("reference", "Add the FNet paper's rows below the LRA and GLUE tables.", True, bool),
  Flag(
    "baseline",
    "Comma-separated points or mixers; paired (by seed) differences against each, with their "
    "95% interval and whether it excludes 0.",
    "",
  ),
  Flag("metric", "Metric of the seed and paired tables (default: test_accuracy, else ...).", ""),
)


def main(argv) -> int:
  args = parse("report", __doc__, FLAGS, argv)
  baselines = [b.strip() for b in args.baseline.split(",") if b.strip()]
  print(
    write_report(
      args.workdir,
      reference=args.reference,
      cola_metric=args.cola_metric,
      baselines=baselines,
      metric=args.metric or None,
    )
  )
  return 0
