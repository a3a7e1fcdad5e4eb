"""The offline CPU suite's report (experiments/cpu_suite.py): one table over tasks and mixers
with 95% intervals over seeds, paired differences against baselines, and one figure.

A task is a sweep root (ROOT/<task>/<point>/seed-<k>/) read with `task_points`; `markdown`
and `plot` take {task name: (run rows, point rows keyed by mixer)} for the tasks with results.
"""

from __future__ import annotations

import dataclasses
import os

from fnetlab.common import provenance
from fnetlab.results import aggregate, seeds, tables
from fnetlab.results import workdirs as wd


@dataclasses.dataclass(frozen=True)
class SuiteTask:
  """A task of the suite: its config spec, its score and whether higher is better."""

  spec: str
  metric: str
  higher: bool = True

  @property
  def accuracy(self) -> bool:
    return self.metric.endswith("accuracy")


def task_points(task_root: str):
  """(run rows, point rows keyed by mixer) of a task's finished runs; ([], {}) if none."""
  if not os.path.isdir(task_root) or not wd.find_workdirs(task_root):
    return [], {}
  rows = [aggregate.summary_row(r) for r in wd.read_runs(task_root)]
  points = {p["mixer"]: p for p in seeds.point_rows(rows) if p.get("mixer") and p["seeds"]}
  return rows, points


def _pm(task: SuiteTask, mean, half, signed=False) -> str:
  spec, scale = (".1f", 100.0) if task.accuracy else (".3f", 1.0)
  return seeds.pm(mean, half, spec, scale, signed=signed)


def header(name: str, task: SuiteTask) -> str:
  return f"{name} {'acc %' if task.accuracy else 'val bpc'}"


def run_minutes(points: dict) -> float:
  """Sum over a task's finished runs of their wall time, in minutes."""
  return sum((p.get("wall_time_s_mean") or 0.0) * p["seeds"] for p in points.values()) / 60


def reading(done: dict, tasks: dict) -> list[str]:
  """Per task: the mixers resolved better / worse than FF-only, or that all sit at one score."""
  out = []
  for name, (task_rows, points) in done.items():
    metric, higher = tasks[name].metric, tasks[name].higher
    means = {m: p.get(f"{metric}_mean") for m, p in points.items()}
    if len({round(v, 9) for v in means.values() if v is not None}) == 1:
      out.append(
        f"- {name}: every mixer scores the same ({next(iter(means.values())):.4f}), "
        "the constant prediction: no mixer left chance within this budget."
      )
      continue
    if "ff_only" not in points:
      continue
    diffs = seeds.paired(task_rows, "ff_only", metric)
    sorted_ = seeds.sort_verdicts(diffs, higher)
    better, worse = sorted_["better"], sorted_["worse"]
    best = (max if higher else min)((v, m) for m, v in means.items() if v is not None)[1]
    out.append(
      f"- {name}: resolved better than FF-only: {', '.join(better) or 'none'}"
      + (f"; resolved worse: {', '.join(worse)}" if worse else "")
      + f"; best mean: {best}."
    )
  return out


def markdown(
  done: dict,
  tasks: dict,
  *,
  mixers: list[str],
  baselines: tuple[str, ...],
  n_seeds: int,
  prov: dict,
  figure: str | None,
) -> str:
  """cpu_suite.md: provenance, the score table, evaluation noise, the paired differences
  against each baseline, a reading per task, throughput and the figure."""
  mixers = [m for m in mixers if any(m in p for _, p in done.values())]
  rows = []
  for m in mixers:
    row = {"mixer": m}
    for name, (_, points) in done.items():
      task, p = tasks[name], points.get(m)
      if p is None:
        row[header(name, task)] = "–"
      else:
        text = _pm(task, p.get(f"{task.metric}_mean"), p.get(f"{task.metric}_ci95"))
        row[header(name, task)] = text + (f" (n={p['seeds']})" if p["seeds"] != n_seeds else "")
      sps = points.get(m, {}).get("steps_per_sec_mean")
      row[f"{name} steps/s"] = tables.fmt(sps, ".1f", missing="–")
    rows.append(row)
  score_cols = [header(n, tasks[n]) for n in done]
  speed_cols = [f"{n} steps/s" for n in done]
  main = tables.markdown_table(rows, ["mixer", *score_cols], right=score_cols)
  speed = tables.markdown_table(rows, ["mixer", *speed_cols], right=speed_cols)

  se_row, n_row = {"mixer": "eval SE (one evaluation)"}, {}
  for name, (_, points) in done.items():
    key = f"{tasks[name].metric}_se"
    ses = [p.get(key) for p in points.values() if p.get(key)]
    se_row[header(name, tasks[name])] = f"±{100 * max(ses):.1f}" if ses else "–"
    ex = [p.get("test_examples_mean") for p in points.values() if p.get("test_examples_mean")]
    n_row[name] = int(ex[0]) if ex else None
  se_table = tables.markdown_table([se_row], ["mixer", *score_cols], right=score_cols)

  diff_tables = []
  for base in baselines:
    drows = []
    for m in mixers:
      if m == base:
        continue
      row = {"mixer": m}
      for name, (task_rows, points) in done.items():
        task = tasks[name]
        if base not in points or m not in points:
          row[header(name, task)] = "–"
          continue
        d = next(x for x in seeds.paired(task_rows, base, task.metric) if x["mixer"] == m)
        text = _pm(task, d["diff_mean"], d["diff_ci95"], signed=True)
        if d["resolved"]:
          text += " **better**" if (d["diff_mean"] > 0) == task.higher else " **worse**"
        row[header(name, task)] = text
      drows.append(row)
    diff_tables.append(
      (base, tables.markdown_table(drows, ["mixer", *score_cols], right=score_cols))
    )

  lines = [
    "# Offline CPU suite: every mixer family, three seeds, real offline data",
    "",
    "A CPU-scale suite on this project's 2-core machine, **not LRA numbers**: tiny models "
    "(FNet encoder, 2 layers, d 64; the LM is the tiny pre-LN decoder), a few hundred steps, "
    "one learning rate per task for every mixer (not tuned per mixer).",
    "",
    *provenance.markdown(prov),
    "- the commit and load are at render time: a resumed suite keeps runs made at earlier "
    "commits (each workdir's config.json says what ran) and other jobs shared the machine "
    "(read steps/s as ratios within a task)",
    "- time per task: the sum of its runs' wall times (training, evaluation, compilation; "
    "results.json `wall_time_s`), as run, with other processes on the machine: "
    + ", ".join(f"{k} {run_minutes(done[k][1]):.1f} min" for k in done)
    + f"; tasks with results: {', '.join(done) or 'none'}",
    "- configs: " + "; ".join(f"{n}: `{tasks[n].spec}`" for n in done),
    "",
    "## Score: mean ± 95% Student-t interval over seeds",
    "",
    "Accuracy on the whole test split (%), or bits per character on the whole validation split "
    "(LM, over all positions; lower is better). Interval: t_{0.975, n-1} · s / sqrt(n) over the n "
    "seeds; `(n=k)` marks a cell with fewer seeds than asked.",
    "",
    main,
    "Evaluation noise alone (binomial standard error of one accuracy, sqrt(p(1-p)/m), largest "
    "over mixers; test split sizes: " + ", ".join(f"{k} {v}" for k, v in n_row.items() if v) + "):",
    "",
    se_table,
  ]
  for base, table in diff_tables:
    lines += [
      f"## Paired differences against {base} (by seed)",
      "",
      "Mean ± 95% Student-t interval of the per-seed differences (accuracy points, or bpc). "
      "**better** / **worse**: the interval excludes 0 (resolved); otherwise unresolved.",
      "",
      table,
    ]
  lines += ["## Reading", "", *reading(done, tasks), ""]
  lines += ["## Throughput (training steps/s, mean over seeds)", "", speed]
  if figure:
    lines += [f"![score against throughput]({os.path.basename(figure)})", ""]
  return "\n".join(lines)


def plot(done: dict, tasks: dict, path: str) -> str | None:
  """One panel per task: score against training steps/s, 95% intervals as error bars."""
  if not done:
    return None
  import matplotlib

  matplotlib.use("Agg")
  from matplotlib import pyplot as plt

  n = len(done)
  fig, axes = plt.subplots(1, n, figsize=(4 * n, 3.8), squeeze=False)
  for ax, (name, (_, points)) in zip(axes[0], done.items(), strict=True):
    task = tasks[name]
    s = 100.0 if task.accuracy else 1.0
    for m, p in points.items():
      x, y = p.get("steps_per_sec_mean"), p.get(f"{task.metric}_mean")
      if x is None or y is None:
        continue
      ye = p.get(f"{task.metric}_ci95")  # no x bars: steps/s varies with the machine's load
      ax.errorbar(x, y * s, yerr=None if ye is None else ye * s, fmt="o", capsize=3)
      ax.annotate(m, (x, y * s), fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.set_title(name, fontsize=10)
    ax.set_xlabel("train steps/s")
    ax.set_ylabel("test accuracy %" if task.accuracy else "val bits/char (lower is better)")
    ax.grid(alpha=0.3)
  fig.suptitle(
    "CPU suite: mean over seeds; bars: 95% Student-t intervals of the score "
    "(steps/s: mean over seeds on a shared machine)",
    fontsize=10,
  )
  fig.tight_layout()
  os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
  fig.savefig(path, dpi=100)
  plt.close(fig)
  return path
