"""The report of a root folder of runs: what `fnetlab report` (and the end of `fnetlab sweep`)
writes and prints.

- ROOT/runs.csv: one row per workdir found under ROOT at any depth (`point` = its path under
  ROOT; its `seed`, `status`, sweep `overrides`, every results.json metric; failed points
  with their error);
- ROOT/summary.csv: one row per point, the seeds of a point (ROOT/<point>/seed-<k>/)
  aggregated (fnetlab/results/seeds.py): for every metric M, `M_mean` and `M_ci95` (half-width
  of the 95% Student-t interval over seeds), `seeds` (finished runs averaged), and the
  binomial standard error of one evaluation (`test_accuracy_se`). A point that is a single
  workdir also keeps that run's own columns;
- ROOT/summary.md: the seed table (mean ± 95% interval per point) when some point has more
  than one seed, the paired differences against each `baselines` entry, the per-run table,
  then every task table (`TASK_TABLES`) that has runs under ROOT: the LRA table when LRA runs
  are there, the GLUE table when `glue/<task>` runs are;
- ROOT/curves.png (training loss at every log step and the validation metric at every
  evaluation, mean line and 95% band over seeds per point) and ROOT/pareto.png (test
  accuracy against training throughput, with 95% intervals as error bars).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable

from fnetlab.common.errors import UserError
from fnetlab.results import aggregate, glue, lra, plots, seeds, tables
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


def metrics_present(points: list[dict]) -> list[str]:
  """The metrics a seed table can show: every validation_/test_ number some point has."""
  names = {k[: -len("_mean")] for p in points for k in p if k.endswith("_mean")}
  return sorted(n for n in names if n.startswith(("validation_", "test_")))


def check_metric(points: list[dict], metric: str) -> None:
  """UserError naming the metrics present when no point has `metric`."""
  present = metrics_present(points)
  if metric not in present:
    raise UserError(
      f"--metric={metric}: no run under the root has it; metrics: {', '.join(present) or 'none'}"
    )


def seed_tables(rows: list[dict], points: list[dict], baselines=(), metric=None) -> list[str]:
  """The seed table (one line per point, mean ± 95% interval) and one paired-difference
  table per baseline, as markdown sections."""
  if metric is not None:
    check_metric(points, metric)
  metric = metric or seeds.primary_metric(points)
  if metric is None:
    return []
  scale, spec, unit = (100.0, ".1f", " %") if metric.endswith("accuracy") else (1.0, ".4f", "")
  se_key = f"{metric}_se"
  out_rows = []
  for p in points:
    out_rows.append(
      {
        "point": p["point"],
        "mixer": p.get("mixer") or "",
        "seeds": p["seeds"],
        metric: seeds.pm(p.get(f"{metric}_mean"), p.get(f"{metric}_ci95"), spec, scale),
        "eval SE": tables.fmt(p.get(se_key), spec, scale),
        "steps/s": tables.fmt(p.get("steps_per_sec_mean"), ".1f"),
        "params": tables.fmt(p.get("params_mean"), ",.0f"),
      }
    )
  cols = ["point", "mixer", "seeds", metric, "eval SE", "steps/s", "params"]
  if not any(p.get(se_key) is not None for p in points):
    cols.remove("eval SE")
  text = [
    f"## {metric}{unit}: mean ± 95% Student-t interval over seeds\n\n"
    + tables.markdown_table(out_rows, cols, right=cols[2:])
    + "\nInterval: t_{0.975, n-1} · s / sqrt(n) over the n seeds (s: sample standard deviation)."
    + (
      " eval SE: binomial standard error of one evaluation, sqrt(p(1-p)/m) on the m test examples."
      if "eval SE" in cols
      else ""
    )
    + "\n"
  ]
  for baseline in baselines:
    diffs = seeds.paired(rows, baseline, metric)
    drows = [
      {
        "point": d["point"],
        "mixer": d["mixer"] or "",
        "pairs": d["pairs"],
        f"{metric} − baseline": seeds.pm(d["diff_mean"], d["diff_ci95"], spec, scale, signed=True),
        "resolved": "yes" if d["resolved"] else "no",
      }
      for d in diffs
    ]
    base = diffs[0]["baseline"] if diffs else baseline
    dcols = ["point", "mixer", "pairs", f"{metric} − baseline", "resolved"]
    text.append(
      f"## Paired differences against {base}{unit}\n\n"
      + tables.markdown_table(drows, dcols, right=dcols[2:4])
      + "\nPaired by seed; mean ± 95% Student-t interval of the per-seed differences; "
      "resolved: the interval excludes 0.\n"
    )
  return text


def write_report(
  root: str,
  *,
  reference: bool = True,
  cola_metric: str = "mcc",
  baselines=(),
  metric: str | None = None,
) -> str:
  """Writes runs.csv, summary.csv, summary.md and the plots under `root`; returns the printed
  text (the seed and paired tables when there are seeds, else the per-run table; the task
  tables; the paths written)."""
  runs = wd.read_runs(root)
  if not runs:
    raise UserError(f"--workdir={root}: no runs under it (no config.json or results.json)")
  rows = [aggregate.summary_row(r) for r in runs]
  columns = aggregate.columns_of(rows)
  groups = seeds.group(rows)
  points = seeds.point_rows(rows)
  merged = []
  for p in points:
    members = groups[p["point"]]
    single = len(members) == 1 and members[0]["point"] == p["point"]
    merged.append({**members[0], **p} if single else p)
  per_run = tables.markdown_table(rows, [c for c in aggregate.SHOWN if c in columns])
  has_seeds = any(len(m) > 1 for m in groups.values())
  # Every table is made (and every flag checked) before anything is written.
  wanted = has_seeds or baselines or metric
  seed_text = seed_tables(rows, points, baselines, metric) if wanted else []
  extra = task_tables(runs, reference=reference, options={"glue": {"cola_metric": cola_metric}})
  tables.write_csv(os.path.join(root, "runs.csv"), rows, columns)
  tables.write_csv(os.path.join(root, "summary.csv"), merged, aggregate.columns_of(merged))
  with open(os.path.join(root, "summary.md"), "w") as f:
    f.write(f"# Summary of {root}\n\n")
    for t in seed_text:
      f.write(f"{t}\n")
    f.write(f"## Runs\n\n{per_run}")
    for t in extra:
      f.write(f"\n{t}")
  written = [
    plots.curves(runs, os.path.join(root, "curves.png")),
    plots.pareto(merged, os.path.join(root, "pareto.png")),
  ]
  names = ", ".join(os.path.basename(p) for p in written if p)
  shown = seed_text if seed_text else [per_run]
  return "\n".join([*shown, *extra, f"wrote {root}/runs.csv, summary.csv, summary.md, {names}"])
