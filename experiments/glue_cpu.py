"""reports/glue_cpu.md: the FNet paper's GLUE protocol at CPU scale, end to end (resumable).

  python experiments/glue_cpu.py --root=runs/glue_cpu            # every stage, in order
  python experiments/glue_cpu.py --stages=pretrain --only=0,1,2  # split a stage across jobs
  python experiments/glue_cpu.py --stages=snli,sentiment        # after split jobs: all models
  python experiments/glue_cpu.py --render_only                   # the report from what ran

A fine-tuning stage run with `--only` writes its task's summary.csv for those models only;
once the split jobs are done, the same stage without `--only` (which skips every finished run)
writes the summary of all six, which the report reads.

Stages (docs/data.md, "The GLUE protocol at CPU scale"; `make data` first):
- `pretrain`: `fnetlab sweep --config=configs/glue_cpu/pretrain.py:steps=P --sweep=models`:
  the paper's six models (BERT-style attention, FNet, Linear, Random, FF-only, FNet-Hybrid)
  as one small encoder shape, MLM + NSP on training-split text only, equal steps;
- `snli`, `sentiment`: the equal-tuning-budget protocol (`fnetlab sweep --tune`) on
  configs/glue_cpu/finetune.py `sweep_models`: every model fine-tuned from its pretraining's
  best validation checkpoint over the same learning-rate grid and tuning seeds, selection on
  validation accuracy, the selected rate re-run on fresh final seeds and tested on the whole
  test split at each run's best-validation checkpoint;
- `minilm`: the pretrained reference row, all-MiniLM-L6-v2 imported (`fnetlab import-hf`)
  and fine-tuned on each task (configs/glue.py, mean pooling, WordPiece) for --minilm_steps
  steps at lr --minilm_lr on --minilm_seeds; tested at its best-validation checkpoint.
Every run is an ordinary `fnetlab train` workdir under --root: finished runs are skipped and
interrupted ones resume, so the stages can be run in pieces and in parallel (each stage needs
the ones before it: the fine-tunes start from the pretraining's checkpoints). The report,
rendered after every stage from whatever has finished (fnetlab/results/glue_cpu.py), gives
per model and task the mean test accuracy ± a 95% interval over the final seeds, the two-task
average and that average as a percentage of the BERT-style model's (paired by seed), beside
the paper's GLUE averages at Base size. It is a CPU-scale result, and says so.
"""

from __future__ import annotations

import functools
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from fnetlab.common import config as config_lib  # noqa: E402
from fnetlab.common import flags  # noqa: E402
from fnetlab.common.errors import UserError  # noqa: E402
from fnetlab.common.flags import Flag  # noqa: E402

STAGES = ("pretrain", "snli", "sentiment", "minilm")
TASKS = ("snli", "sentiment")
PRETRAIN = os.path.join("configs", "glue_cpu", "pretrain.py")
FINETUNE = os.path.join("configs", "glue_cpu", "finetune.py")
FLAGS = (
  Flag("root", "Root folder of every run.", "runs/glue_cpu"),
  Flag("stages", f"Comma-separated stages, in order, from: {', '.join(STAGES)}.", ",".join(STAGES)),
  Flag("only", "Pretraining and fine-tuning: comma-separated model indices (default: all six)."),
  Flag("pt_steps", "Pretraining steps per model.", 2000, int),
  Flag("ft_steps", "Fine-tuning steps per run.", 600, int),
  Flag("lr_grid", "The fine-tuning learning rates every model is tuned over.", "1e-4,3e-4,1e-3"),
  Flag("tuning_seeds", "Comma-separated tuning seeds.", "0"),
  Flag("final_seeds", "Comma-separated final seeds (disjoint from the tuning seeds).", "1,2,3"),
  Flag("minilm_steps", "MiniLM fine-tuning steps per task.", 200, int),
  Flag("minilm_lr", "MiniLM's fine-tuning peak learning rate.", 5e-5, float),
  Flag("minilm_seeds", "Comma-separated MiniLM fine-tuning seeds.", "1"),
  Flag("report", "The markdown report written from the finished runs.", "reports/glue_cpu.md"),
  Flag("render_only", "Write the report from what has finished; train nothing.", False, bool),
)


def pretrain(args, only) -> None:
  from fnetlab.commands.sweep import run_sweep

  spec = f"{PRETRAIN}:steps={args.pt_steps}"
  statuses = run_sweep(spec, "models", os.path.join(args.root, "pt"), only)
  failed = [label for label, s in statuses if s == "failed"]
  if failed:
    raise UserError(f"pretraining failed for {', '.join(failed)} (see their failed.json)")


def finetune_spec(args, task: str) -> str:
  pretrained = os.path.join(args.root, "pt")
  return f"{FINETUNE}:task={task},steps={args.ft_steps},pretrained={pretrained}"


def model_points(args, task: str) -> dict[str, str]:
  """{fine-tuning point name: the paper's model (configs/glue_cpu/pretrain.py MODELS key)}:
  each `sweep_models` point is its model's overrides plus `init_from`."""
  from fnetlab.commands.sweep import point_name, points

  return {
    point_name(overrides): model_of({k: v for k, v in overrides.items() if k != "init_from"})
    for overrides in points(finetune_spec(args, task), "models")
  }


@functools.cache
def paper_models() -> dict[str, dict]:
  """configs/glue_cpu/pretrain.py's MODELS, read once per process."""
  return config_lib.load_module(PRETRAIN).MODELS


def model_of(overrides: dict) -> str:
  """The paper's model (configs/glue_cpu/pretrain.py MODELS key) whose overrides these are."""
  return next(m for m, o in paper_models().items() if o == overrides)


def finetune_argv(args, task: str, only) -> list[str]:
  argv = [
    f"--config={finetune_spec(args, task)}",
    "--sweep=models",
    f"--workdir={os.path.join(args.root, task)}",
    f"--tune=optim.lr={args.lr_grid}",
    f"--seeds={args.tuning_seeds}",
    f"--final_seeds={args.final_seeds}",
    "--baselines=attention",
  ]
  if only:
    argv.append("--only=" + ",".join(map(str, sorted(only))))
  return argv


def finetune(args, task: str, only) -> None:
  from fnetlab.commands import sweep
  from fnetlab.common import workdir as files

  missing = [m for m in _pretrained_points(args, only) if not files.has_results(m)]
  if missing:
    raise UserError(
      f"--stages={task}: pretraining has not finished for {', '.join(map(os.path.basename, missing))}"
      " (run --stages=pretrain first)"
    )
  if sweep.main(["sweep", *finetune_argv(args, task, only)]) != 0:
    raise UserError(f"fine-tuning on {task}: a run failed (see its failed.json)")


def _pretrained_points(args, only) -> list[str]:
  """The pretraining workdirs of the models `only` indexes (all by default)."""
  return [wd for i, (_, wd) in enumerate(pretrain_workdirs(args)) if only is None or i in only]


def pretrain_workdirs(args) -> list[tuple[str, str]]:
  """(the paper's model, its pretraining workdir) for every stage-1 sweep point, in order."""
  from fnetlab.commands.sweep import point_name, points

  return [
    (model_of(p), os.path.join(args.root, "pt", point_name(p)))
    for p in points(f"{PRETRAIN}:steps={args.pt_steps}", "models")
  ]


def minilm_workdir(args, task: str, seed: int) -> str:
  return os.path.join(args.root, "minilm", task, f"seed-{seed}")


def minilm_argv(args, task: str, seed: int) -> list[str]:
  """configs/glue.py with MiniLM's encoder, the small models' validation split and batch
  sizes (configs/glue_cpu/finetune.py), and its own steps and rate."""
  steps = args.minilm_steps
  ft = config_lib.load(f"{FINETUNE}:task={task}")
  return [
    f"--config=configs/glue.py:task={task}",
    f"--workdir={minilm_workdir(args, task, seed)}",
    f"--config.init_from={os.path.join(args.root, 'minilm', 'imported')}",
    "--config.model.pooling=mean",
    "--config.model.pooler_dense=false",
    "--config.data.max_len=64",
    f"--config.data.dev_size={ft.data.dev_size}",
    f"--config.data.split_seed={ft.data.split_seed}",
    f"--config.optim.lr={args.minilm_lr}",
    f"--config.optim.warmup_steps={max(steps // 10, 1)}",
    "--config.train.epochs=0",
    f"--config.train.steps={steps}",
    f"--config.train.batch_size={ft.train.batch_size}",
    f"--config.train.eval_batch_size={ft.train.eval_batch_size}",
    f"--config.train.eval_every={max(steps // 2, 1)}",
    f"--config.train.checkpoint_every={max(steps // 2, 1)}",
    "--config.train.keep_checkpoints=2",
    f"--config.train.log_every={max(steps // 10, 1)}",
    f"--config.seed={seed}",
  ]


def minilm(args, seeds) -> None:
  from fnetlab.commands import import_hf, train
  from fnetlab.data import packages

  imported = os.path.join(args.root, "minilm", "imported")
  if not os.path.isfile(os.path.join(imported, "config.json")):
    hf_dir = packages.folder("minilm")
    if not packages.is_complete(packages.PACKAGES["minilm"], hf_dir):
      raise UserError(f"MiniLM is not in the data cache ({hf_dir}): run `fnetlab data minilm`")
    if import_hf.main(["import-hf", f"--hf_dir={hf_dir}", f"--workdir={imported}"]) != 0:
      raise UserError("importing MiniLM failed")
  for task in TASKS:
    for seed in seeds:
      if train.main(["train", *minilm_argv(args, task, seed)]) != 0:
        raise UserError(f"MiniLM fine-tuning on {task} (seed {seed}) failed")


def minilm_reference(args, seeds) -> dict[str, list[float]]:
  """{task: [test accuracy at the best-validation checkpoint per finished seed]}."""
  from fnetlab.commands.protocol import test_at_best
  from fnetlab.common import workdir as files

  out = {}
  for task in TASKS:
    values = []
    for seed in seeds:
      wd = minilm_workdir(args, task, seed)
      if files.has_results(wd):
        result = test_at_best(wd)
        if result:
          values.append(result["metrics"]["accuracy"])
    out[task] = values
  return out


def pretrain_results(args) -> dict[str, dict]:
  """{model (configs/glue_cpu/pretrain.py MODELS key): its pretraining run's results.json}
  for the finished pretraining runs."""
  from fnetlab.common import workdir as files

  return {m: files.read_results(wd) for m, wd in pretrain_workdirs(args) if files.has_results(wd)}


RAW_TABLES = ("protocol.md", "tuning.csv", "summary.csv")
#: A report section written by hand (how a run was made, how to read it) starts with this
#: heading; re-rendering keeps it, from the heading to the end, under the new tables.
NOTES_HEADING = "## Notes"


def kept_notes(report: str) -> str:
  """The hand-written notes section of an existing report ('' when there is none)."""
  try:
    with open(report) as f:
      text = f.read()
  except OSError:
    return ""
  at = text.find("\n" + NOTES_HEADING)
  return text[at + 1 :] if at >= 0 else ""


def copy_raw_tables(args, tasks) -> list[str]:
  """Copies each task root's protocol.md, tuning.csv and summary.csv (every trial and final
  seed) into a folder beside the report (reports/glue_cpu/<task>/), so the report's raw data
  lives with it; returns the copies' paths relative to the report."""
  import shutil

  where = os.path.splitext(os.path.abspath(args.report))[0]
  out = []
  for task in tasks:
    for name in RAW_TABLES:
      src = os.path.join(args.root, task, name)
      if os.path.isfile(src):
        os.makedirs(os.path.join(where, task), exist_ok=True)
        shutil.copyfile(src, os.path.join(where, task, name))
        out.append(os.path.join(os.path.basename(where), task, name))
  return out


def render(args, minilm_seeds, argv) -> str:
  from fnetlab.common import provenance
  from fnetlab.results import glue_cpu

  by_task = {}
  for task in TASKS:
    root = os.path.join(args.root, task)
    if os.path.isfile(os.path.join(root, "summary.csv")):
      by_task[task] = glue_cpu.read_root(root, model_points(args, task))
  pretrained = pretrain_results(args)
  reference = minilm_reference(args, minilm_seeds)
  prov = provenance.collect(argv)
  lines = [
    "# The FNet paper's GLUE protocol at CPU scale",
    "",
    *provenance.markdown(prov),
    "",
    "**CPU-scale.** Six small encoders of one shape (4 layers, d 64, d_ff 256, 2 heads, "
    "byte-level tokens, 128 positions), each pretrained with MLM + NSP for "
    f"{args.pt_steps} steps of batch 32 on training-split text only, then fine-tuned for "
    f"{args.ft_steps} steps of batch 32 on SNLI (3-way; test: all 9,824 labelled pairs) and "
    "the movie-snippet sentiment (binary; test: 1,057 snippets). This says how the mixers "
    "compare at this scale, not what the paper measured with Base-size models on GLUE's "
    "nine tasks.",
    "",
    f"Fine-tuning: every model tuned over lr in {{{args.lr_grid}}} on tuning seed(s) "
    f"{args.tuning_seeds} (validation accuracy), the selected rate re-run on final seeds "
    f"{args.final_seeds} and tested at each run's best-validation checkpoint. ± is a 95% "
    "Student-t interval over the final seeds; `% of BERT` is paired by seed; `(edge)` marks "
    "a rate selected on the edge of the grid.",
    "",
  ]
  if pretrained:
    lines += [
      "Stage 1, pretraining (validation MLM + NSP loss and accuracies at the last evaluation; "
      "every fine-tune starts from its model's best-validation step):",
      "",
      glue_cpu.pretrain_markdown(pretrained),
      "",
    ]
  if by_task:
    lines.append(glue_cpu.markdown(by_task, reference if any(reference.values()) else None))
  else:
    lines.append("No fine-tuning protocol has finished yet under " + args.root + ".")
  if any(reference.values()):
    lines += [
      "",
      f"The reference row: all-MiniLM-L6-v2 (22.7M parameters, "
      f"pretrained by its authors), mean pooling, WordPiece inputs of 64, fine-tuned for "
      f"{args.minilm_steps} steps at lr {args.minilm_lr:g} on seed(s) "
      f"{','.join(map(str, minilm_seeds))}; not tuned, not part of the comparison.",
    ]
  os.makedirs(os.path.dirname(os.path.abspath(args.report)), exist_ok=True)
  copies = copy_raw_tables(args, by_task)
  if copies:
    lines += [
      "",
      "Per-task protocol reports and raw tables (every trial and final seed), copied from "
      f"`{args.root}`: " + ", ".join(f"[{c}]({c})" for c in copies) + ".",
    ]
  text = "\n".join(lines) + "\n"
  notes = kept_notes(args.report)
  if notes:
    text += "\n" + notes
  with open(args.report, "w") as f:
    f.write(text)
  return text


def main(argv) -> int:
  args = flags.script_flags(__doc__, FLAGS, argv)
  stages = flags.name_list(args.stages, "--stages", STAGES)
  only = set(flags.int_list(args.only or "", "--only")) or None
  minilm_seeds = flags.int_list(args.minilm_seeds, "--minilm_seeds")
  for name in ("pt_steps", "ft_steps", "minilm_steps"):
    if getattr(args, name) < 1:
      raise UserError(f"--{name}={getattr(args, name)}: needs at least 1 step")
  text = None
  if not args.render_only:
    from fnetlab.train import compile_cache

    compile_cache.enable()
    for stage in stages:
      if stage == "pretrain":
        pretrain(args, only)
      elif stage == "minilm":
        minilm(args, minilm_seeds)
      else:
        finetune(args, stage, only)
      text = render(args, minilm_seeds, argv)
  print(text if text is not None else render(args, minilm_seeds, argv))
  return 0


if __name__ == "__main__":
  sys.exit(flags.run_script(main))
