"""The report of the seeds' three claims (experiments/seed_claims.py): seed_claims.md.

Each claim's JSON (written as the claim finishes) carries its rows and its provenance
(fnetlab.common.provenance.collect: command, commit, date, machine, load); a claim without
JSON is reported as not run.
"""

from __future__ import annotations

import numpy as np

from fnetlab.results import seeds
from fnetlab.results.tables import fmt, markdown_table


def pm(values, spec=".3f", scale=1.0):
  mean, half = seeds.t_interval(values)
  return seeds.pm(mean, half, spec, scale) + f" (n={len(values)})"


def paired(a, b):
  """Mean ± half-width of a - b paired by position, and whether the interval excludes 0."""
  mean, half = seeds.t_interval(np.subtract(a, b))
  return mean, half, half is not None and abs(mean) > half


def verdict_text(d, if_positive: str, if_negative: str) -> str:
  """`resolved: <direction>.` or `unresolved (the point estimate: <direction>).`"""
  direction = if_positive if d[0] > 0 else if_negative
  return f"resolved: {direction}." if d[2] else f"unresolved (the point estimate: {direction})."


def stamp(r: dict) -> str:
  """A section's provenance line (fnetlab.common.provenance.collect, stored with its JSON)."""
  machine = f", {r['machine']}" if r.get("machine") else ""
  return f"`{r['command']}` at {r['commit']}, {r['date']}{machine}, load {r['load']}."


def markdown(results: dict) -> str:
  """seed_claims.md from `results` (claim -> its JSON, or None when not run)."""
  lines = [
    "# The seeds' claims at the largest scale this CPU allows",
    "",
    "Each section names its command, commit, date and the load on this shared 2-core machine. "
    "Intervals are 95% Student-t over seeds (t_{0.975, n-1} · s / sqrt(n)); paired "
    "differences pair runs by seed. These are reduced-scale runs: each section says what was "
    "cut.",
    "",
  ]
  w = results.get("worker")
  lines += ["## 1. WorkerTransformer vs causal attention (seed 003)", ""]
  if not w:
    lines += ["Not run by this invocation.", ""]
  else:
    lines += [
      stamp(w),
      "",
      f"d 256, 4 layers, 4 heads, FFN 1024, interval 4, dropout 0.1 (the seed's model); block 128 "
      f"and batch 8 (the seed: 1024 and 16), {w['steps']} steps (the seed: 2000), lr 1e-3 "
      "constant (the seed: 3e-4), the first 500k characters of the offline corpus (450k train, "
      "50k validation). Loss: nats "
      "over all positions of the whole validation split, for both models.",
      "",
    ]
    rows, eq_steps, eq_time = [], {"attention": [], "worker": []}, {"attention": [], "worker": []}
    speed = []
    for seed, r in sorted(w["runs"].items()):
      steps = w["steps"]
      at = {
        k: next(p for p in r[k]["curve"] if p["step"] == steps) for k in ("attention", "worker")
      }
      budget = r["equal_time"]["budget_s"]
      final = {k: r[k]["curve"][-1] for k in ("attention", "worker")}
      for k in ("attention", "worker"):
        eq_steps[k].append(at[k]["loss"])
        eq_time[k].append(final[k]["loss"])
      speed.append(r["worker"]["steps_per_s"] / r["attention"]["steps_per_s"])
      for k in ("attention", "worker"):
        rows.append(
          {
            "seed": seed,
            "model": k,
            "val loss at equal steps": f"{at[k]['loss']:.3f}",
            "val loss at equal wall-clock": f"{final[k]['loss']:.3f} @ step {final[k]['step']} "
            f"({final[k]['train_s']:.0f} s; budget {budget:.0f} s)",
            "steps/s": f"{r[k]['steps_per_s']:.2f}",
          }
        )
    cols = ["seed", "model", "val loss at equal steps", "val loss at equal wall-clock", "steps/s"]
    lines += [markdown_table(rows, cols, right=cols[2:])]
    ds = paired(eq_steps["worker"], eq_steps["attention"])
    dt = paired(eq_time["worker"], eq_time["attention"])
    lines += [
      f"- Speed: the worker model ran {np.mean(speed):.2f}x attention's steps per second "
      f"(per seed: {', '.join(f'{s:.2f}' for s in speed)}; the seed claims 2.49x).",
      f"- Equal steps: worker − attention = {ds[0]:+.3f} ± {ds[1] or float('nan'):.3f} nats: "
      + verdict_text(ds, "the worker is worse per step", "the worker is better per step"),
      f"- Equal wall-clock: worker − attention = {dt[0]:+.3f} ± {dt[1] or float('nan'):.3f} nats: "
      + verdict_text(dt, "attention is ahead in the same time", "the worker is ahead"),
      "",
    ]
  f = results.get("first_epoch")
  lines += ['## 2. Spectral ("Elastic Fourier") vs attention after one epoch (seed 000)', ""]
  if not f:
    lines += ["Not run by this invocation.", ""]
  else:
    rows = f["rows"]
    lines += [
      stamp(f),
      "",
      f"scikit-learn digits (configs/suite/digits.py, FNet encoder, 2 layers, d 64), batch 8, one "
      f"epoch = {rows[0]['steps']} steps over {rows[0]['train_examples']} training images, lr 3e-3 "
      "(10% warmup, linear decay over the epoch); test accuracy on all "
      f"{int(rows[0].get('test_examples') or 0)} test images. The seed claims 86.08% (spectral) "
      "against 74.12% (Transformer) after one epoch on its own data.",
      "",
    ]
    models = list(dict.fromkeys(r["mixer"] for r in rows))
    accs, table = {}, []
    for m in models:
      rs = [r for r in rows if r["mixer"] == m]
      accs[m] = [r["test_accuracy"] for r in rs]
      peak = rs[0]["peak_bytes"]
      table.append(
        {
          "model": m,
          "acc": pm(accs[m], ".1f", 100),
          "per seed": ", ".join(f"{100 * a:.1f}" for a in accs[m]),
          "params": f"{rs[0]['params']:,}",
          "peak": fmt(peak, ".1f", 1 / 2**20),
        }
      )
    heads = {
      "acc": "test accuracy after 1 epoch (%)",
      "peak": "XLA peak of the train step (MiB)",
    }
    cols = ["model", "acc", "per seed", "params", "peak"]
    lines.append(markdown_table(table, cols, heads, right=["acc", "params", "peak"]).rstrip("\n"))
    if len(models) == 2 and len(accs[models[0]]) == len(accs[models[1]]):
      d = paired(accs[models[0]], accs[models[1]])
      lines += [
        "",
        f"- {models[0]} − {models[1]}: {100 * d[0]:+.1f} ± {100 * (d[1] or float('nan')):.1f} points "
        f"({'resolved' if d[2] else 'unresolved'}).",
      ]
    lines.append("")
  s = results.get("lsra")
  lines += ["## 3. LSRA vs attention at equal multiply-accumulates (seed 002)", ""]
  if not s:
    lines += ["Not run by this invocation.", ""]
  else:
    rows = s["rows"]
    grid = ", ".join(f"d {d}: {v / 1e9:.2f}" for d, v in s["flops"]["lsra"].items())
    lines += [
      stamp(s),
      "",
      "Char-LM (configs/lm/shakespeare.py:runlocal: 2 layers, block 128, batch 16, 300 steps, lr "
      "1e-3), validation bits per character over all positions of the whole validation split. "
      f"Train-step GFLOPs (XLA cost analysis): attention d 64 {s['flops']['attention_d64'] / 1e9:.2f}; "
      f"LSRA with the flattened FFN {grid}; LSRA at d {s['d_lsra']} is the closest.",
      "",
    ]
    models = list(dict.fromkeys(r["model"] for r in rows))
    bpc, table = {}, []
    for m in models:
      rs = [r for r in rows if r["model"] == m]
      bpc[m] = [r["val_bpc"] for r in rs]
      table.append(
        {
          "model": m,
          "val bits/char": pm(bpc[m]),
          "per seed": ", ".join(f"{b:.3f}" for b in bpc[m]),
          "params": f"{rs[0]['params']:,}",
          "steps/s": f"{np.mean([r['steps_per_s'] for r in rs]):.1f}",
        }
      )
    cols = ["model", "val bits/char", "per seed", "params", "steps/s"]
    lines.append(
      markdown_table(table, cols, right=["val bits/char", "params", "steps/s"]).rstrip("\n")
    )
    if len(models) == 2 and len(bpc[models[0]]) == len(bpc[models[1]]):
      d = paired(bpc[models[1]], bpc[models[0]])
      lines += [
        "",
        f"- {models[1]} − {models[0]}: {d[0]:+.3f} ± {d[1] or float('nan'):.3f} bits/char "
        f"({'resolved' if d[2] else 'unresolved'}; negative favours LSRA).",
      ]
    lines.append("")
  return "\n".join(lines)
