"""The seeds' three claims, re-measured at the largest scale this 2-core CPU machine allows.

  python experiments/seed_claims.py --claims=worker,first_epoch,lsra   # resumable per claim
  python experiments/seed_claims.py --render_only
  python experiments/seed_claims.py --help

Writes reports/seed_claims/<claim>.json as each claim finishes and re-renders
reports/seed_claims.md (command, commit, date, load, and what ran, for or against each claim).
Every model is built from a config file by the public training API: the timed comparisons step
`fnetlab.train.timed.TimedRun` (the trainer's own task, batches, jitted train step, non-finite
check and evaluation), the LSRA runs are `fnetlab.commands.sweep.run_grid` points (the same
`fnetlab train` per workdir, resumable).

1. `worker` (seed 003): WorkerTransformer (interval 4) against causal attention (RoPE, the
   fastest attention path on this CPU) at the seed's model size (d 256, 4 layers, 4 heads,
   FFN 1024, dropout 0.1) on the Shakespeare char-LM (configs/lm/shakespeare.py), with the
   context, batch and steps cut to fit (block 128, batch 8, `--worker_steps` steps, lr 1e-3
   constant; the corpus' first 500k characters, 90/10 split). Loss: cross-entropy over ALL
   positions of the WHOLE validation split for both. The two models train in interleaved
   chunks (so machine load falls on both alike), each chunk timed; both are compared at equal
   steps (the last common step) and at equal wall-clock (the faster model keeps training until
   its training time reaches the slower one's total). Two seeds.
2. `first_epoch` (seed 000: "Elastic Fourier" 86.08% against a Transformer's 74.12% after one
   epoch): the seed's spectral filter (`spectral`, mode `fixed`, its randn·0.02 start) against
   attention after exactly one epoch of scikit-learn's digits (configs/suite/digits.py, batch 8,
   135 steps = one pass over the 1,078 training images), test accuracy on all 360 test images,
   three seeds; memory in the same run: XLA's peak bytes of the compiled train step
   (arguments + outputs + temporaries - aliases) and the parameter count.
3. `lsra` (seed 002, Lite Transformer): LSRA against attention at equal multiply-accumulates
   on the char-LM (configs/lm/shakespeare.py:runlocal, tiny decoder, block 128, 300 steps).
   LSRA uses the paper's flattened FFN (d_ff = d); its width is chosen from a grid so that the
   FLOPs of its compiled train step (XLA cost analysis) are closest to attention's at d 64,
   d_ff 128. Validation bits per character over all positions, three seeds.
"""

from __future__ import annotations

import os
import sys

import numpy as np

from fnetlab.common import flags, provenance
from fnetlab.common.flags import Flag

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LM = os.path.join(REPO, "configs/lm/shakespeare.py")
DIGITS = os.path.join(REPO, "configs/suite/digits.py")
CLAIMS = ("worker", "first_epoch", "lsra")

FLAGS = (
  Flag(
    "claims",
    "Comma-separated claims to run, in order, from: " + ", ".join(CLAIMS) + ".",
    ",".join(CLAIMS),
  ),
  Flag("worker_steps", "Equal-steps budget of the worker comparison.", 120, int),
  Flag("worker_chunk", "Steps per interleaved chunk (one evaluation after each).", 60, int),
  Flag("worker_seeds", "Comma-separated seeds of the worker comparison.", "0,1"),
  Flag("seeds", "Comma-separated seeds of the first-epoch and LSRA comparisons.", "0,1,2"),
  Flag("lsra_widths", "Comma-separated LSRA widths d to match FLOPs from.", "64,80,96,112,128"),
  Flag("out", "Folder of seed_claims.md and its JSON.", os.path.join(REPO, "reports")),
  Flag("runs", "Root of the LSRA runs' workdirs.", os.path.join(REPO, "runs", "seed_claims_lsra")),
  Flag("set", "Extra config override for every model, KEY=VALUE (repeatable).", multi=True),
  Flag("render_only", "Only re-render the report from the JSON files.", False, bool),
)


class Claims:
  """The claims' JSON files under OUT/seed_claims/ and the config overrides every model gets."""

  def __init__(self, args, argv):
    self.args, self.argv = args, argv
    self.extra = flags.key_values(args.set, "--set")

  def path(self, claim: str) -> str:
    return os.path.join(self.args.out, "seed_claims", f"{claim}.json")

  def save(self, claim: str, result: dict) -> None:
    from fnetlab.common.io import write_json

    os.makedirs(os.path.dirname(self.path(claim)), exist_ok=True)
    write_json(self.path(claim), {**result, **provenance.collect(self.argv)})

  def load(self, claim: str) -> dict | None:
    from fnetlab.common.io import read_json

    return read_json(self.path(claim)) if os.path.exists(self.path(claim)) else None

  def config(self, spec: str, overrides: dict | None = None):
    from fnetlab.common import config as config_lib

    return config_lib.load(spec, {**(overrides or {}), **self.extra})


# ----------------------------------------------------------------------------- 1. worker


def worker_config(claims: Claims, mixer: str, seed: int):
  arg = f"mixer={mixer}" + (",interval=4" if mixer == "worker" else "")
  overrides = {
    "model.d_model": 256,
    "model.num_layers": 4,
    "model.num_heads": 4,
    "model.d_ff": 1024,
    "model.dropout_rate": 0.1,
    "data.block_size": 128,
    "data.max_chars": 500_000,
    "train.batch_size": 8,
    "train.eval_batch_size": 64,
    "optim.lr": 1e-3,
    "seed": seed,
  }
  return claims.config(f"{LM}:{arg}", overrides)


def advance(run, curve: list, steps: int) -> None:
  """`steps` timed steps, then one validation point on `curve`."""
  run.run(steps)
  curve.append({"step": run.step, "train_s": run.train_s, **run.evaluate()})


def run_worker(claims: Claims) -> dict:
  from fnetlab.train.timed import TimedRun

  args, runs = claims.args, {}
  steps, chunk = args.worker_steps, args.worker_chunk
  for seed in flags.int_list(args.worker_seeds, "--worker_seeds"):
    models = {m: TimedRun(worker_config(claims, m, seed)) for m in ("attention", "worker")}
    curves = {m: [] for m in models}
    while models["attention"].step < steps:
      for name, run in models.items():
        advance(run, curves[name], min(chunk, steps - run.step))
      print(
        f"[worker s{seed}] "
        + ", ".join(f"{k} {c[-1]['loss']:.3f}@{c[-1]['step']}" for k, c in curves.items()),
        flush=True,
      )
    slow = max(models, key=lambda k: models[k].train_s)
    fast = "worker" if slow == "attention" else "attention"
    budget = models[slow].train_s
    while models[fast].train_s < budget:  # equal wall-clock: the faster keeps training
      per_step = models[fast].train_s / models[fast].step
      n = max(1, min(chunk, int(np.ceil((budget - models[fast].train_s) / per_step))))
      advance(models[fast], curves[fast], n)
    runs[seed] = {
      k: {
        "curve": curves[k],
        "steps_per_s": steps / next(p["train_s"] for p in curves[k] if p["step"] == steps),
      }
      for k in models
    }
    runs[seed]["equal_time"] = {"slow": slow, "fast": fast, "budget_s": budget}
    claims.save("worker", {"runs": runs, "steps": steps})
  return {"runs": runs, "steps": steps}


# ----------------------------------------------------------------------------- 2. first epoch


def run_first_epoch(claims: Claims) -> dict:
  from fnetlab.bench.timing import memory_bytes
  from fnetlab.data import digits
  from fnetlab.train.timed import TimedRun

  n_train = len(digits.splits()["train"])
  steps = -(-n_train // 8)  # one epoch at batch 8
  rows = []
  for mixer, opts in (("spectral", "mode=fixed"), ("attention", "")):
    for seed in flags.int_list(claims.args.seeds, "--seeds"):
      arg = ",".join(filter(None, [f"mixer={mixer}", opts]))
      # The schedule spans exactly one epoch.
      c = claims.config(f"{DIGITS}:{arg},steps={steps}", {"seed": seed, "train.batch_size": 8})
      run = TimedRun(c)
      run.run(c.train.steps)
      test = run.evaluate("test")
      rows.append(
        {
          "mixer": mixer + (f" ({opts})" if opts else ""),
          "seed": seed,
          "steps": run.step,
          "train_examples": n_train,
          "test_accuracy": test["accuracy"],
          "test_examples": test.get("examples"),
          "peak_bytes": memory_bytes(run.compiled),
          "params": run.params,
          "train_s": run.train_s,
        }
      )
      print(f"[first_epoch] {rows[-1]}", flush=True)
      claims.save("first_epoch", {"rows": rows})
  return {"rows": rows}


# ----------------------------------------------------------------------------- 3. LSRA


def lm_spec(mixer: str) -> str:
  return f"{LM}:mixer={mixer},runlocal"


def lm_overrides(d_model: int, d_ff: int, seed: int = 0) -> dict:
  return {"model.d_model": d_model, "model.d_ff": d_ff, "seed": seed}


SHAPE = {"model.num_layers": 2, "model.num_heads": 2}


def step_flops(claims: Claims, mixer: str, d_model: int, d_ff: int) -> float | None:
  from fnetlab.bench.timing import compile_step, cost_flops
  from fnetlab.train.trainer import Trainer

  trainer = Trainer(claims.config(lm_spec(mixer), {**SHAPE, **lm_overrides(d_model, d_ff)}))
  state = trainer.init_state()
  return cost_flops(compile_step(trainer, state, trainer.batch(0)))


def run_lsra(claims: Claims) -> dict:
  from fnetlab.commands import sweep
  from fnetlab.results import workdirs

  base = step_flops(claims, "attention", 64, 128)
  widths = flags.int_list(claims.args.lsra_widths, "--lsra_widths", minimum=1)
  grid = {d: step_flops(claims, "lsra", d, d) for d in widths}
  d_lsra = min(grid, key=lambda d: abs(grid[d] - base))
  print(f"[lsra] attention d64 flops {base:.3g}; lsra grid {grid}; chosen d {d_lsra}", flush=True)
  seeds = flags.int_list(claims.args.seeds, "--seeds")
  extra = {**SHAPE, **claims.extra}
  rows, flops = [], {"attention_d64": base, "lsra": grid}
  for name, mixer, d, dff in (
    ("attention d64 (d_ff 128)", "attention", 64, 128),
    (f"lsra d{d_lsra} (d_ff = d)", "lsra", d_lsra, d_lsra),
  ):
    point = {"model.d_model": d, "model.d_ff": dff}
    root = os.path.join(claims.args.runs, mixer)
    sweep.run_grid(lm_spec(mixer), [point], root, extra=extra, seeds=seeds)
    for *_, seed, workdir, _ in sweep.select([point], root, extra=extra, seeds=seeds)[1]:
      r = workdirs.read_results(workdir)
      rows.append(
        {
          "model": name,
          "seed": seed,
          "val_bpc": r["validation"]["bits_per_char"],
          "params": r["params"],
          "steps_per_s": r["train_steps_per_sec"],
        }
      )
      print(f"[lsra] {rows[-1]}", flush=True)
    claims.save("lsra", {"rows": rows, "flops": flops, "d_lsra": d_lsra})
  return {"rows": rows, "flops": flops, "d_lsra": d_lsra}


# ----------------------------------------------------------------------------- report


def render(claims: Claims) -> str:
  from fnetlab.results import seed_claims

  text = seed_claims.markdown({c: claims.load(c) for c in CLAIMS})
  os.makedirs(claims.args.out, exist_ok=True)
  with open(os.path.join(claims.args.out, "seed_claims.md"), "w") as f:
    f.write(text)
  return text


def main(argv) -> int:
  args = flags.script_flags(__doc__, FLAGS, argv)
  chosen = flags.name_list(args.claims, "--claims", CLAIMS)
  flags.int_list(args.seeds, "--seeds")
  flags.int_list(args.worker_seeds, "--worker_seeds")
  claims = Claims(args, argv)
  if not args.render_only:
    from fnetlab.train import compile_cache

    compile_cache.enable()
    for claim in chosen:
      {"worker": run_worker, "first_epoch": run_first_epoch, "lsra": run_lsra}[claim](claims)
      print(render(claims), flush=True)  # after each claim, from what ran
  if args.render_only or not chosen:
    print(render(claims))
  return 0


if __name__ == "__main__":
  sys.exit(flags.run_script(main))
