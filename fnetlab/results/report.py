"""The report of a root folder of runs: what `fnetlab report` (and the end of `fnetlab sweep`)
writes and prints.

- ROOT/summary.csv: one row per workdir found under ROOT at any depth (`point` = its path under
  ROOT; its `seed`, `status`, sweep `overrides`, every results.json metric; failed points
  with their error);
- ROOT/summary.md: the main columns of that table, then every task table (`TASK_TABLES`) that
  has runs under ROOT: the LRA table when LRA runs are there, the GLUE table when
  `glue/<task>` runs are;
- ROOT/curves.png (validation metric against step) and ROOT/pareto.png (test accuracy
  against training throughput).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable

from fnetlab.common.errors import UserError
from fnetlab.results import aggregate, glue, lra, plots, tables
from fnetlab.results import workdirs as wd


@dataclasses.dataclass(frozen=True)
class TaskTable:
  """A table of one benchmark suite: its title, which results.json tasks it covers, and its
  renderer `(workdirs, *, reference, strict, **options) -> markdown`."""

  title: str
  covers: Callable[[str | None], bool]
  render: Callable[..., str]


TASK_TABLES = {
  "lra": TaskTable(lra.TITLE, lra.covers, lra.lra_table),
  "glue": TaskTable(glue.TITLE, glue.covers, glue.glue_table),
}


def task_tables(runs: list[wd.Run], *, reference: bool = True, options=None) -> list[str]:
  """`## <title>` + table for every entry of TASK_TABLES that covers a finished run.
  `options` maps a table name to extra renderer options, e.g. {"glue": {"cola_metric": ...}}."""
  ok = [r for r in runs if r.status == "ok"]
  out = []
  for name, table in TASK_TABLES.items():
    dirs = [r.workdir for r in ok if table.covers(r.task)]
    if dirs:
      extra = (options or {}).get(name, {})
      text = table.render(dirs, reference=reference, strict=False, **extra)
      out.append(f"## {table.title}\n\n{text}")
  return out


def write_report(root: str, *, reference: bool = True, cola_metric: str = "mcc") -> str:
  """Writes summary.csv, summary.md and the plots under `root`; returns the printed text (the
  summary table, the task tables and the paths written)."""
  runs = wd.read_runs(root)
  if not runs:
    raise UserError(f"--workdir={root}: no runs under it (no config.json or results.json)")
  rows = [aggregate.summary_row(r) for r in runs]
  columns = aggregate.columns_of(rows)
  tables.write_csv(os.path.join(root, "summary.csv"), rows, columns)
  summary = tables.markdown_table(rows, [c for c in aggregate.SHOWN if c in columns])
  extra = task_tables(runs, reference=reference, options={"glue": {"cola_metric": cola_metric}})
  with open(os.path.join(root, "summary.md"), "w") as f:
    f.write(f"# Summary of {root}\n\n{summary}")
    for t in extra:
      f.write(f"\n{t}")
  written = [
    plots.curves(runs, os.path.join(root, "curves.png")),
    plots.pareto(rows, os.path.join(root, "pareto.png")),
  ]
  names = ", ".join(os.path.basename(p) for p in written if p)
  return "\n".join([summary, *extra, f"wrote {root}/summary.csv, summary.md, {names}"])
