"""Seeds as an axis: per-point means with Student-t intervals, paired differences, eval noise.

A sweep run with `--seeds` leaves ROOT/<point>/seed-<k>/; every run's summary row (one per
workdir, `aggregate.summary_row`) is grouped on its point, the path with a trailing
`seed-<k>` folder removed. A run outside such a folder is a point of its own (one seed).

For each point and numeric metric M of its finished runs:
- `M_mean`: the mean over seeds;
- `M_ci95`: the half-width of the two-sided 95% Student-t confidence interval of that mean,
  t_{0.975, n-1} * s / sqrt(n) with s the sample standard deviation (ddof 1) over the n
  seeds; empty for n < 2. It measures seed-to-seed variation (initialisation, dropout, data
  order) of the whole train-and-evaluate procedure, evaluation noise included;
- `seeds`: n, the number of finished runs averaged.

Evaluation noise on its own: `test_accuracy_se` (and `validation_accuracy_se`) is the
binomial standard error sqrt(p (1 - p) / m) of one evaluation of accuracy p on the m
examples the split has (`test_examples`), at the mean accuracy.

Paired differences against a baseline point (`--baseline`, a point name or a mixer name):
for each other point, d_k = M(point, seed k) - M(baseline, seed k) over the seeds both
finished; the mean of d with its 95% Student-t half-width, and `resolved` when n >= 2 and
the interval excludes 0 (|mean| > half-width). Pairing by seed removes what the seeds
share (the data order and, for the evaluation, the same test examples), so paired intervals
are usually narrower than the two points' own intervals.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence

from fnetlab.common.errors import UserError

CONFIDENCE = 0.95
_SEED_DIR = re.compile(r"^seed-(\d+)$")
#: Columns never averaged (identifiers and bookkeeping).
NOT_METRICS = {"point", "seed", "status", "overrides", "task", "mixer", "error", "best_step"}


def t_quantile(df: int, confidence: float = CONFIDENCE) -> float:
  """The two-sided Student-t critical value t_{(1 + confidence) / 2, df}."""
  from scipy import stats

  return float(stats.t.ppf(0.5 + confidence / 2, df))


def t_interval(values: Iterable[float], confidence: float = CONFIDENCE):
  """(mean, half-width) of the Student-t interval of the mean of `values`; half-width None
  for fewer than two values, mean None for none."""
  x = [float(v) for v in values if v is not None and math.isfinite(float(v))]
  if not x:
    return None, None
  mean = sum(x) / len(x)
  if len(x) < 2:
    return mean, None
  var = sum((v - mean) ** 2 for v in x) / (len(x) - 1)
  return mean, t_quantile(len(x) - 1, confidence) * math.sqrt(var / len(x))


def binomial_se(p: float | None, n: float | None) -> float | None:
  """sqrt(p (1 - p) / n): the standard error of an accuracy p measured on n examples."""
  if p is None or not n:
    return None
  return math.sqrt(max(p * (1.0 - p), 0.0) / float(n))


def point_of(run_point: str) -> str:
  """`model.mixer-fourier/seed-2` -> `model.mixer-fourier`; other paths unchanged."""
  head, _, tail = run_point.rpartition("/")
  return head if _SEED_DIR.match(tail) and head else run_point


def group(rows: Iterable[dict]) -> dict[str, list[dict]]:
  """Run rows by point, in first-seen order."""
  out: dict[str, list[dict]] = {}
  for r in rows:
    out.setdefault(point_of(str(r["point"])), []).append(r)
  return out


def _is_number(v) -> bool:
  return isinstance(v, int | float) and not isinstance(v, bool)


def point_row(point: str, runs: Sequence[dict]) -> dict:
  """One point's row: identifiers, `seeds`, `failed`, and M_mean / M_ci95 per numeric metric."""
  ok = [r for r in runs if r.get("status") == "ok"]
  row = {"point": point, "seeds": len(ok), "failed": sum(r.get("status") == "failed" for r in runs)}
  for key in ("task", "mixer"):
    values = {r.get(key) for r in ok if r.get(key) is not None}
    row[key] = values.pop() if len(values) == 1 else None
  row["seed_list"] = " ".join(str(r.get("seed")) for r in ok)
  metrics = [k for k in dict.fromkeys(k for r in ok for k in r) if k not in NOT_METRICS]
  for key in metrics:
    values = [r[key] for r in ok if _is_number(r.get(key))]
    if not values:
      continue
    mean, half = t_interval(values)
    row[f"{key}_mean"], row[f"{key}_ci95"] = mean, half
  for split in ("validation", "test"):
    p, n = row.get(f"{split}_accuracy_mean"), row.get(f"{split}_examples_mean")
    if p is not None and n:
      row[f"{split}_accuracy_se"] = binomial_se(p, n)
  return row


def point_rows(rows: Iterable[dict]) -> list[dict]:
  """One row per point (see the module docstring)."""
  return [point_row(p, runs) for p, runs in group(rows).items()]


def find_baseline(points: Sequence[dict], baseline: str) -> dict:
  """The point row named `baseline`, or the only point whose mixer is `baseline`."""
  named = [p for p in points if p["point"] == baseline]
  if named:
    return named[0]
  by_mixer = [p for p in points if p.get("mixer") == baseline]
  if len(by_mixer) == 1:
    return by_mixer[0]
  names = ", ".join(p["point"] for p in points)
  if by_mixer:
    raise UserError(
      f"--baseline={baseline}: {len(by_mixer)} points use that mixer; name one: {names}"
    )
  raise UserError(f"--baseline={baseline}: no point or mixer of that name; points: {names}")


def paired(rows: Iterable[dict], baseline: str, metric: str) -> list[dict]:
  """Paired-by-seed differences `metric(point) - metric(baseline)` for every other point."""
  rows = list(rows)
  groups = group(rows)
  base = find_baseline(point_rows(rows), baseline)
  by_seed = {
    r.get("seed"): r[metric]
    for r in groups[base["point"]]
    if r.get("status") == "ok" and _is_number(r.get(metric))
  }
  out = []
  for point, runs in groups.items():
    if point == base["point"]:
      continue
    diffs = [
      r[metric] - by_seed[r.get("seed")]
      for r in runs
      if r.get("status") == "ok" and _is_number(r.get(metric)) and r.get("seed") in by_seed
    ]
    mean, half = t_interval(diffs)
    mixers = {r.get("mixer") for r in runs if r.get("mixer")}
    out.append(
      {
        "point": point,
        "mixer": mixers.pop() if len(mixers) == 1 else None,
        "baseline": base["point"],
        "metric": metric,
        "pairs": len(diffs),
        "diff_mean": mean,
        "diff_ci95": half,
        "resolved": half is not None and abs(mean) > half,
      }
    )
  return out


def sort_verdicts(diffs: Iterable[dict], higher: bool = True) -> dict[str, list[str]]:
  """{'better', 'worse', 'unresolved'}: the names (mixer, else point) of `paired` results, by
  whether each difference is resolved and its sign; `higher` False for a metric where lower is
  better (a loss), where a resolved negative difference is 'better'."""
  out = {"better": [], "worse": [], "unresolved": []}
  for d in diffs:
    name = diff_name(d)
    if not d["resolved"]:
      out["unresolved"].append(name)
    else:
      out["better" if (d["diff_mean"] > 0) == higher else "worse"].append(name)
  return out


def verdict_lists(diffs: Iterable[dict], higher: bool = True) -> str:
  """'better: a, b; worse: none; unresolved: c' for `paired` results (sort_verdicts)."""
  v = sort_verdicts(diffs, higher)
  return "; ".join(f"{k}: {', '.join(v[k]) or 'none'}" for k in ("better", "worse", "unresolved"))


def diff_name(d: dict) -> str:
  """How a `paired` result is named: its mixer, else (several mixers in one point) the point."""
  return d.get("mixer") or d["point"]


def pm(mean, half, spec: str = ".3f", scale: float = 1.0, signed: bool = False) -> str:
  """`mean ± half` (or just the mean when there is no interval); empty for no mean."""
  if mean is None:
    return ""
  text = format(mean * scale, ("+" if signed else "") + spec)
  return text if half is None else f"{text} ± {format(half * scale, spec)}"


def primary_metric(points: Sequence[dict]) -> str | None:
  """The metric a seed table leads with: test accuracy, else validation accuracy, else
  validation bits per character, else validation loss."""
  for m in ("test_accuracy", "validation_accuracy", "validation_bits_per_char", "validation_loss"):
    if any(p.get(f"{m}_mean") is not None for p in points):
      return m
  return None
