"""The tuning protocol's selection and tables: tuning.csv, summary.csv, protocol.md and the
budget curve (what `fnetlab sweep --tune=...` writes at its root; fnetlab/commands/protocol.py).

- Selection (`chosen`): per (budget, variant, point), the grid point whose validation value
  (the best-validation evaluation of each run), averaged over the tuning seeds, is the best
  (`max` or `min` by `train.best_mode`); a grid point with no finished trial cannot win; ties
  keep the earlier grid point. Selection never reads a test metric.
- tuning.csv: one row per (budget, variant, point, grid point): `mixer` (config.model.mixer)
  and `label` (how the tables name the point: the mixer, or the point's name where two points
  share a mixer), the tuned keys, the validation mean and how many trials it averages,
  `selected`, and `edge` (the tuned keys at the grid's end for the selected row: the optimum
  may lie outside the grid).
- summary.csv: one row per (budget, variant, point): the chosen values, the tuning and final
  seeds, the test metric at the best-validation checkpoint per final seed, its mean and 95%
  Student-t half-width (fnetlab/results/seeds.py).
- protocol.md: the command, commit, date and machine; per budget the from-scratch and SPT
  rows side by side, the paired verdicts against each baseline (resolved or not) and the SPT
  minus from-scratch difference per point; budget_curve.png: the test metric against the
  budget (log scale) per point, mean and 95% band over the final seeds.
"""

from __future__ import annotations

import os

from fnetlab.common import provenance
from fnetlab.results import seeds, tables


def _name(row) -> str:
  """How tables name a row: its label (the mixer, or the point where two points share one)."""
  return row.get("label") or row["mixer"]


def _key(row, *names):
  return tuple(row.get(n) for n in names)


def tuning_rows(trials: list[dict], keys: list[str], mode: str) -> list[dict]:
  """tuning.csv's rows (module docstring), in the trials' order."""
  groups: dict[tuple, list[dict]] = {}
  for t in trials:
    groups.setdefault(_key(t, "budget", "variant", "point", *keys), []).append(t)
  rows = []
  for members in groups.values():
    first = members[0]
    values = [m["value"] for m in members if m.get("value") is not None]
    mean = sum(values) / len(values) if values else None
    rows.append(
      {
        **{k: first[k] for k in ("budget", "budget_unit", "budget_value", "steps", "variant")},
        "point": first["point"],
        "mixer": first["mixer"],
        "label": _name(first),
        **{k: first[k] for k in keys},
        "validation_mean": mean,
        "trials": len(values),
        "of_trials": len(members),
        "tuning_seeds": " ".join(str(m["seed"]) for m in members),
      }
    )
  better = (lambda a, b: a > b) if mode == "max" else (lambda a, b: a < b)
  best: dict[tuple, dict] = {}
  for r in rows:
    cell = _key(r, "budget", "variant", "point")
    if r["validation_mean"] is None:
      continue
    if cell not in best or better(r["validation_mean"], best[cell]["validation_mean"]):
      best[cell] = r
  for r in rows:
    r["selected"] = best.get(_key(r, "budget", "variant", "point")) is r
  return rows


def chosen(trials: list[dict], keys: list[str], mode: str) -> dict:
  """{(variant, point): {key: value}} of the selected grid points (one budget's trials)."""
  return {
    (r["variant"], r["point"]): {k: r[k] for k in keys}
    for r in tuning_rows(trials, keys, mode)
    if r["selected"]
  }


def edge_of(tune: dict, row: dict) -> list[str]:
  from fnetlab.common.config import parse_value

  out = []
  for key, values in tune.items():
    if len(values) < 2:
      continue
    parsed = [parse_value(v) for v in values]
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in parsed)
    ends = (min(parsed), max(parsed)) if numeric else (values[0], values[-1])
    if (parse_value(str(row[key])) if numeric else row[key]) in ends:
      out.append(key)
  return out


def summary_rows(tuning: list[dict], finals: list[dict], tune: dict, metric: str, final_seeds):
  """summary.csv's rows: the selected tuning rows joined with their final seeds' test values."""
  test_key = f"test_{metric}"
  out = []
  for r in (r for r in tuning if r["selected"]):
    cell = _key(r, "budget", "variant", "point")
    runs = [f for f in finals if _key(f, "budget", "variant", "point") == cell]
    ok = [f for f in runs if f.get("status") == "ok" and f.get(test_key) is not None]
    mean, half = seeds.t_interval(f[test_key] for f in ok)
    out.append(
      {
        **{k: r[k] for k in ("budget", "budget_unit", "budget_value", "steps", "variant")},
        "point": r["point"],
        "mixer": r["mixer"],
        "label": _name(r),
        **{k: r[k] for k in tune},
        "edge": " ".join(edge_of(tune, r)),
        "tuning_seeds": r["tuning_seeds"],
        f"validation_{metric}_mean": r["validation_mean"],
        "final_seeds": " ".join(str(s) for s in final_seeds),
        "seeds": len(ok),
        f"{test_key}_mean": mean,
        f"{test_key}_ci95": half,
        f"{test_key}_by_seed": " ".join(f"{f['seed']}:{f[test_key]:.4f}" for f in ok),
      }
    )
  return out


def _seed_rows(finals, metric, budget, variant=None, name=lambda f: f["point"]):
  key = f"test_{metric}"
  return [
    {
      "point": f"{name(f)}/seed-{f['seed']}",
      "seed": f["seed"],
      "status": "ok",
      "mixer": _name(f) if variant else f"{_name(f)} ({f['variant']})",
      key: f[key],
    }
    for f in finals
    if f["budget"] == budget
    and (variant is None or f["variant"] == variant)
    and f.get("status") == "ok"
    and f.get(key) is not None
  ]


def verdicts(finals, metric, baselines) -> list[dict]:
  """Paired-by-seed differences against each baseline, per budget and variant, and SPT minus
  from scratch per point (seeds.paired)."""
  out = []
  for budget in dict.fromkeys(f["budget"] for f in finals):
    variants = list(dict.fromkeys(f["variant"] for f in finals if f["budget"] == budget))
    for variant in variants:
      rows = _seed_rows(finals, metric, budget, variant)
      mixers = {r["mixer"] for r in rows}
      for base in baselines:
        if base not in mixers:
          continue
        for d in seeds.paired(rows, base, f"test_{metric}"):
          out.append({"budget": budget, "variant": variant, "against": base, **d})
    if "spt" in variants and "scratch" in variants:
      for point in dict.fromkeys(f["point"] for f in finals if f["budget"] == budget):
        mine = [f for f in finals if f["point"] == point]
        rows = _seed_rows(mine, metric, budget, name=lambda f: f"{f['variant']}/{f['point']}")
        if {r["point"].split("/")[0] for r in rows} != {"scratch", "spt"}:
          continue
        for d in seeds.paired(rows, f"scratch/{point}", f"test_{metric}"):
          out.append({"budget": budget, "variant": "spt", "against": "scratch", **d})
  return out


def verdict_sentence(
  diffs: list[dict], budget: str, variant: str, against: str, mode: str = "max"
) -> str:
  """Which mixers are resolved better, worse or unresolved against `against`; `mode` is the
  metric's direction (train.best_mode: 'min' for a loss, where a negative difference is better)."""
  sel = [
    d for d in diffs if (d["budget"], d["variant"], d["against"]) == (budget, variant, against)
  ]
  if not sel:
    return ""
  return f"{budget}, {variant}, against {against}: " + seeds.verdict_lists(sel, mode != "min")


def budget_curve(summary: list[dict], metric: str, path: str) -> str | None:
  """Test metric (mean, 95% band over final seeds) against the budget, log x, one line per
  (point, variant); None with fewer than two budgets."""
  key = f"test_{metric}"
  budgets = {r["budget_value"] for r in summary}
  if len(budgets) < 2:
    return None
  import matplotlib

  matplotlib.use("Agg")
  from matplotlib import pyplot as plt

  fig, ax = plt.subplots(figsize=(8.5, 4.8))
  names = list(dict.fromkeys(_name(r) for r in summary))
  cmap = plt.get_cmap("tab10" if len(names) <= 10 else "tab20")
  colour = {n: cmap(i % cmap.N) for i, n in enumerate(names)}  # one per point, both variants
  for mixer, variant in dict.fromkeys((_name(r), r["variant"]) for r in summary):
    pts = sorted(
      (float(r["budget_value"]), r[f"{key}_mean"], r[f"{key}_ci95"])
      for r in summary
      if (_name(r), r["variant"]) == (mixer, variant) and r[f"{key}_mean"] is not None
    )
    if not pts:
      continue
    xs = [x for x, _, _ in pts]
    ys = [y for _, y, _ in pts]
    style = "-" if variant == "scratch" else "--"
    ax.plot(
      xs, ys, style, color=colour[mixer], marker="o", markersize=3, label=f"{mixer} ({variant})"
    )
    lo = [y - (h or 0.0) for _, y, h in pts]
    hi = [y + (h or 0.0) for _, y, h in pts]
    ax.fill_between(xs, lo, hi, color=colour[mixer], alpha=0.12 if variant == "scratch" else 0.06)
  unit = summary[0]["budget_unit"]
  ax.set_xscale("log")
  ax.set_xlabel(f"budget ({unit}, log scale)")
  ax.set_ylabel(f"{key} at the best-validation checkpoint")
  ax.set_title(
    "tuned per point at every budget; mean and 95% band over final seeds; dashed: SPT",
    fontsize=9,
  )
  ax.grid(True, which="both", alpha=0.3)
  ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)
  return path


def _fmt_metric(metric):
  if metric.endswith("accuracy"):
    return 100.0, ".1f", " (%)"
  return 1.0, ".4f", ""


def write_protocol_report(root, trials, finals, tune, metric, mode, described, baselines):
  """Writes tuning.csv, summary.csv, protocol.md and budget_curve.png; returns protocol.md."""
  keys = list(tune)
  trows = tuning_rows(trials, keys, mode)
  for r in trows:
    r["edge"] = " ".join(edge_of(tune, r)) if r["selected"] else ""
  tcols = ["budget", "budget_unit", "budget_value", "steps", "variant", "point", "mixer"]
  tcols += ["label", *keys]
  tcols += ["validation_mean", "trials", "of_trials", "tuning_seeds", "selected", "edge"]
  tables.write_csv(os.path.join(root, "tuning.csv"), trows, tcols)
  summary = summary_rows(trows, finals, tune, metric, described["final_seeds"])
  scols = ["budget", "budget_unit", "budget_value", "steps", "variant", "point", "mixer"]
  scols += ["label", *keys]
  scols += ["edge", "tuning_seeds", f"validation_{metric}_mean", "final_seeds", "seeds"]
  scols += [f"test_{metric}_mean", f"test_{metric}_ci95", f"test_{metric}_by_seed"]
  tables.write_csv(os.path.join(root, "summary.csv"), summary, scols)
  diffs = verdicts(finals, metric, baselines)
  curve = budget_curve(summary, metric, os.path.join(root, "budget_curve.png"))
  scale, spec, unit = _fmt_metric(metric)
  grid_text = ", ".join(k + " in {" + ", ".join(v) + "}" for k, v in tune.items())
  prov = provenance.collect()
  prov["command"] = described.get("command") or prov["command"]
  lines = [
    f"# Tuning protocol: {root}",
    "",
    *provenance.markdown(prov),
    f"- grid: {grid_text}; "
    f"tuning seeds {', '.join(map(str, described['tuning_seeds']))}; final seeds "
    f"{', '.join(map(str, described['final_seeds']))}; selection on validation {metric} "
    f"({mode}, mean over tuning seeds); test at each final run's best-validation checkpoint",
  ]
  if described.get("spt"):
    lines.append(
      f"- SPT: pretraining on the task's training inputs for {described['spt_share']:.0%} of "
      "each budget's steps, fine-tuning for the rest, same setting for both"
    )
  for budget in dict.fromkeys(r["budget"] for r in summary):
    rows = [r for r in summary if r["budget"] == budget]
    lines += ["", f"## Budget {budget}", ""]
    table = []
    for r in rows:
      table.append(
        {
          "mixer": _name(r),
          "variant": r["variant"],
          "steps": r["steps"],
          **{k: r[k] for k in keys},
          "edge": r["edge"] or "",
          f"val {metric}": tables.fmt(r[f"validation_{metric}_mean"], spec, scale),
          f"test {metric}{unit}": seeds.pm(
            r[f"test_{metric}_mean"], r[f"test_{metric}_ci95"], spec, scale
          ),
          "seeds": r["seeds"],
        }
      )
    table.sort(key=lambda t: (t["mixer"], t["variant"]))
    cols = ["mixer", "variant", "steps", *keys, "edge", f"val {metric}", f"test {metric}{unit}"]
    cols.append("seeds")
    lines.append(tables.markdown_table(table, cols, right=cols[2:]))
    flagged = [_name(r) + f" ({r['variant']})" for r in rows if r["edge"]]
    if flagged:
      lines.append(f"Selected on the edge of the grid (widen it): {', '.join(flagged)}.\n")
    for d_variant, against in dict.fromkeys(
      (d["variant"], d["against"]) for d in diffs if d["budget"] == budget
    ):
      lines.append("- " + verdict_sentence(diffs, budget, d_variant, against, mode))
    drows = [
      {
        "mixer": seeds.diff_name(d),
        "variant": d["variant"],
        "against": d["against"],
        "pairs": d["pairs"],
        "difference": seeds.pm(d["diff_mean"], d["diff_ci95"], spec, scale, signed=True),
        "resolved": "yes" if d["resolved"] else "no",
      }
      for d in diffs
      if d["budget"] == budget
    ]
    if drows:
      dcols = ["mixer", "variant", "against", "pairs", "difference", "resolved"]
      lines += ["", tables.markdown_table(drows, dcols, right=("pairs", "difference"))]
  lines += [
    "",
    "Intervals: 95% Student-t over the final seeds; differences paired by seed, resolved when "
    "their interval excludes 0. A verdict holds for its budget only.",
  ]
  if curve:
    lines.append(f"\n![budget curve]({os.path.basename(curve)})")
  text = "\n".join(lines) + "\n"
  with open(os.path.join(root, "protocol.md"), "w") as f:
    f.write(text)
  return text
