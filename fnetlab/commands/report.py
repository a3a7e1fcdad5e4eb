"""`fnetlab report`: tables and plots of every run under a root folder.

  fnetlab report --workdir=runs/sweep       # a sweep root, a folder of workdirs, or one workdir
  fnetlab report --workdir=runs/glue --cola_metric=accuracy

Finds every workdir under --workdir (at any depth) and writes ROOT/summary.csv, ROOT/summary.md,
ROOT/curves.png and ROOT/pareto.png; prints the summary table, then the LRA table (test
accuracy, tasks x models, beside the FNet paper's rows) when LRA runs are under the root and
the GLUE table (dev scores) when GLUE runs are. The method is in fnetlab/results/.
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
)


def main(argv) -> int:
  args = parse("report", __doc__, FLAGS, argv)
  print(write_report(args.workdir, reference=args.reference, cola_metric=args.cola_metric))
  return 0
