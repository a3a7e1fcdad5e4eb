"""Fixed wall-clock budget on character-level Shakespeare: every causal mixer, one loss.

Re-measures seed 003's claim that the WorkerTransformer trains 2.49x faster and reaches a
lower validation loss than attention in the same wall-clock budget. The seed scored its
worker model on worker positions only (1 token in k) and its baseline on all positions;
here every model is scored the same way: cross-entropy over ALL positions of the WHOLE
validation split (nats; bits per char = nats / ln 2). The worker-positions-only loss is
reported beside it, clearly named, to show where the seed's number came from.

  python experiments/shakespeare_budget.py --budget_s=75 --scale=cpu --date=2026-11-23
  python experiments/shakespeare_budget.py --budget_s=300 --scale=reference   # a GPU
  python experiments/shakespeare_budget.py --render_only   # report + plots from the JSON

Writes reports/shakespeare_budget.{md,json} and shakespeare_budget_{time,steps}.png. The
report also gives a lower bound on the worker model's all-position loss: its non-worker
positions see only their own character, so they can do no better than the empirical
conditional entropy H(next | current) of those positions.

Method. Every model is built by the training system's public API from
configs/lm/shakespeare.py and stepped by `fnetlab.train.timed.TimedRun`: the same task,
batches, jitted train step, optimiser, non-finite check and evaluation as `fnetlab train`, the
step compiled ahead of time, outside the budget. Training time is the sum of the step times
(host batch assembly included; the host waits for every step), evaluations excluded. The models are trained in interleaved
rounds (budget/rounds seconds each, then a full validation pass), so load from other
processes on a shared machine falls on every model alike; compare speeds as ratios within
one run.

Scales: `reference` is the seed's d 256, 4 layers, 4 heads, FFN 1024, block 1024, batch 16,
AdamW 3e-4 constant, clip 1.0, dropout 0.1, full corpus. `cpu` keeps the recipe but shrinks
the model (d 128, 2 layers, 4 heads, FFN 512), the context (block 256), the batch (8), the
corpus (first 500k characters: 450k train, 50k validation) and raises the learning rate to
1e-3, because 3e-4 barely moves a run of a few hundred steps. `tiny` (d 16, 1 layer, block 32,
20k characters) only rehearses the code paths in seconds; it measures nothing.
"""

from __future__ import annotations

import json
import os
import sys
import time

import numpy as np

from fnetlab.common import flags, provenance
from fnetlab.common.flags import Flag

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG_FILE = os.path.join(REPO, "configs", "lm", "shakespeare.py")
LABELS = {
  "attention": "attention (fused, causal, RoPE)",
  "worker": "worker k=4",
  "spectral": "spectral causal",
  "lsra": "lsra causal",
  "ff_only": "ff_only (no mixing)",
}
SCALES = {
  "reference": dict(
    d_model=256, num_layers=4, num_heads=4, d_ff=1024, block=1024, batch=16, lr=3e-4, chars=0
  ),
  "cpu": dict(
    d_model=128, num_layers=2, num_heads=4, d_ff=512, block=256, batch=8, lr=1e-3, chars=500_000
  ),
  "tiny": dict(  # a seconds-long rehearsal of every code path (the tests); measures nothing
    d_model=16, num_layers=1, num_heads=2, d_ff=32, block=32, batch=4, lr=1e-3, chars=20_000
  ),
}
FLAGS = (
  Flag("budget_s", "Training seconds per model (evaluations excluded).", 75.0, float),
  Flag("rounds", "Interleaved rounds; one full validation pass after each.", 4, int),
  Flag("scale", "Model/data scale (see above).", "cpu", choices=tuple(SCALES)),
  Flag("mixers", "Comma-separated models to compare.", "attention,worker,spectral,lsra"),
  Flag("interval", "Worker interval k.", 4, int),
  Flag("lr", "Override the scale's learning rate.", None, float),
  Flag("max_chars", "Override the scale's corpus size (0 = all).", None, int),
  Flag("dropout", "Dropout (the reference's 0.1).", 0.1, float),
  Flag("seed", "Seed for init and data order (the same for every model).", 0, int),
  Flag("out", "Folder for the report and plots.", os.path.join(REPO, "reports")),
  Flag("name", "Basename of the report files.", "shakespeare_budget"),
  Flag("date", "Date printed in the report (default: now)."),
  Flag("machine", "Machine description for the report (default: detected)."),
  Flag("render_only", "Rewrite the report and plots from OUT/NAME.json; no training.", False, bool),
)
RESULT_FLAGS = ("budget_s", "rounds", "scale", "mixers", "interval", "lr", "max_chars")
RESULT_FLAGS += ("dropout", "seed")


def make_config(mixer: str, scale: dict, args):
  from fnetlab.common import config as config_lib

  arg = f"mixer={mixer}" + (f",interval={args.interval}" if mixer == "worker" else "")
  c = config_lib.load(f"{CONFIG_FILE}:{arg}")
  c.model.d_model, c.model.num_layers = scale["d_model"], scale["num_layers"]
  c.model.num_heads, c.model.d_ff = scale["num_heads"], scale["d_ff"]
  c.model.dropout_rate = args.dropout
  c.data.block_size = scale["block"]
  c.data.max_chars = scale["chars"] if args.max_chars is None else args.max_chars
  c.train.batch_size = scale["batch"]
  c.train.eval_batch_size = 32 if scale["block"] <= 256 else 16
  c.optim.lr = scale["lr"] if args.lr is None else args.lr
  c.seed = args.seed
  return c


def summary(mixer: str, run, curve: list[dict], last_losses: list[float]) -> dict:
  last = curve[-1]
  return {
    "mixer": mixer,
    "label": LABELS.get(mixer, mixer),
    "params": run.params,
    "steps": run.step,
    "train_s": run.train_s,
    "steps_per_s": run.step / run.train_s,
    "compile_s": run.compile_s,
    "val_loss": last["loss"],
    "val_bpc": last["bits_per_char"],
    "val_tokens": last["tokens"],
    "worker_positions_loss": last.get("worker_positions_loss"),
    "worker_tokens": last.get("worker_tokens"),
    "train_loss_last_round": float(np.mean(last_losses)) if last_losses else float("nan"),
    "curve": curve,
  }


def nonworker_floor(config, interval: int) -> dict:
  """The least loss any function of the current character alone can get on the validation
  positions a WorkerTransformer leaves as non-workers: the empirical conditional entropy
  H(next | current) of exactly those (current, next) pairs. With update_nonworkers=False and
  no position table, the worker model's logits there are such a function, so this bounds
  its non-worker loss from below, whatever the training."""
  from fnetlab.data import lm
  from fnetlab.mixers.worker import worker_positions

  data = config.data
  texts = lm.load_texts(data)
  ids = lm.load_vocab(data, texts).encode(texts["validation"])
  src = lm.sequential_windows(ids, int(data.block_size))
  inputs, targets, weight = (src.arrays[k] for k in ("inputs", "targets", "token_weight"))
  is_worker = np.zeros(inputs.shape[1], bool)
  is_worker[worker_positions(inputs.shape[1], interval)] = True
  sel = (weight > 0) & ~is_worker[None, :]
  cur, nxt = inputs[sel], targets[sel]
  v = int(max(cur.max(), nxt.max())) + 1
  counts = np.zeros((v, v))
  np.add.at(counts, (cur, nxt), 1.0)
  cond = counts / np.maximum(counts.sum(1, keepdims=True), 1.0)
  h = -float(np.sum(counts[counts > 0] * np.log(cond[counts > 0])) / counts.sum())
  return {
    "nonworker_entropy": h,
    "nonworker_tokens": int(sel.sum()),
    "tokens": int((weight > 0).sum()),
  }


def render(result: dict, args) -> None:
  from fnetlab.results import budget

  if "worker" in result["rows"] and "floor" not in result:
    scale = dict(result["scale"])
    result["floor"] = nonworker_floor(
      make_config("worker", scale, args), int(result["flags"]["interval"])
    )
  with open(os.path.join(args.out, f"{args.name}.json"), "w") as f:
    json.dump(result, f, indent=2)
  budget.plots(result, args.out, args.name)
  path = os.path.join(args.out, f"{args.name}.md")
  with open(path, "w") as f:
    f.write(budget.markdown(result, args.name))
  print("\n".join(budget.verdict(result)))
  print(f"wrote {path}")


def main(argv) -> int:
  args = flags.script_flags(__doc__, FLAGS, argv)
  mixers = flags.name_list(args.mixers, "--mixers", tuple(LABELS))
  os.makedirs(args.out, exist_ok=True)
  if args.render_only:
    from fnetlab.common.errors import UserError
    from fnetlab.common.io import read_json

    path = os.path.join(args.out, f"{args.name}.json")
    if not os.path.exists(path):
      raise UserError(f"--render_only: {path} not found (run the experiment first)")
    result = read_json(path)
    for key in ("interval", "max_chars", "lr", "dropout", "seed"):
      setattr(args, key, result["flags"][key])  # the floor is computed on the run's own data
    render(result, args)
    return 0
  from fnetlab.train.timed import TimedRun

  load_start = provenance.load_average()
  scale = SCALES[args.scale]
  runs = {}
  for mixer in mixers:
    runs[mixer] = TimedRun(make_config(mixer, scale, args))
    print(f"{mixer}: {runs[mixer].params:,} params, compiled in {runs[mixer].compile_s:.1f} s")
  curves = {m: [] for m in runs}
  last = {m: [] for m in runs}
  slice_s = args.budget_s / args.rounds
  for i in range(args.rounds):
    for mixer, run in runs.items():
      times = run.run(until=time.time() + slice_s)
      last[mixer] = [m["train_loss"] for m in run.history[len(run.history) - len(times) :]]
      t = time.perf_counter()
      point = {"train_s": run.train_s, "step": run.step, **run.evaluate("validation")}
      point["eval_s"] = time.perf_counter() - t
      curves[mixer].append(point)
      print(
        f"round {i + 1} {mixer}: step {point['step']} train {point['train_s']:.1f} s "
        f"val_loss {point['loss']:.4f} (eval {point['eval_s']:.1f} s)",
        flush=True,
      )
  meta = {**provenance.collect(argv), "load_start": load_start}
  meta["date"] = args.date or meta["date"]
  meta["machine"] = args.machine or meta["machine"]
  result = {
    "flags": {k: getattr(args, k) for k in RESULT_FLAGS} | {"mixers": mixers},
    "scale": scale,
    "meta": meta,
    "rows": {m: summary(m, r, curves[m], last[m]) for m, r in runs.items()},
  }
  render(result, args)
  return 0


if __name__ == "__main__":
  sys.exit(flags.run_script(main))
