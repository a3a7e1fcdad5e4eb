"""Optimiser and schedules: AdamW (decoupled weight decay) + global-norm clipping.

Schedules are the official formulas (step s counted from 0, the step of the first update;
w warmup steps; T total steps; peak the configured rate):

- warmup (every schedule): min(1, s / w), so the first update has rate 0, as in f_net and LRA;
- `constant`: peak * warmup;
- `linear` (f_net GLUE, `linear_decay`): decay 1 - (p mod 1) with p = max(0, (s - w) / (T - w)),
  reaching 1 / (T - w) of the peak at the last step, s = T - 1;
- `cosine` (LRA Image/Pathfinder/Path-X, `cosine_decay` with `steps_per_cycle` = T):
  max(0, 0.5 (1 + cos(pi (p mod 1)))) with p = max(0, (s - w) / T). It divides by all T steps,
  not T - w, so it never reaches 0: at the last step p = (T - 1 - w) / T;
- `rsqrt` (LRA ListOps/Text/Retrieval, `constant * linear_warmup * rsqrt_decay` with constant
  0.05): peak * warmup * sqrt(w / max(s, w)), which equals 0.05 * warmup / sqrt(max(s, w)) when
  peak = 0.05 / sqrt(w), the configs' setting.

`tests/test_fidelity.py` checks each against a transcription of the official step function.
"""

from __future__ import annotations

import jax.numpy as jnp
import optax

from fnetlab.common.errors import UserError

SCHEDULES = ("constant", "linear", "cosine", "rsqrt")


def schedule(cfg, total_steps: int) -> optax.Schedule:
  """The learning rate at step s (0 = the first update) for `cfg.schedule` (module docstring)."""
  peak, warmup = cfg.lr, max(int(cfg.warmup_steps), 0)
  if cfg.schedule not in SCHEDULES:
    raise UserError(f"config key optim.schedule={cfg.schedule!r}; valid: {', '.join(SCHEDULES)}")
  total = max(int(total_steps), 1)

  def fn(step):
    s = jnp.asarray(step, jnp.float32)
    warm = jnp.minimum(1.0, s / warmup) if warmup else 1.0
    if cfg.schedule == "constant":
      decay = 1.0
    elif cfg.schedule == "linear":
      progress = jnp.maximum(0.0, (s - warmup) / max(total - warmup, 1))
      decay = 1.0 - progress % 1.0
    elif cfg.schedule == "cosine":
      progress = jnp.maximum(0.0, (s - warmup) / total)
      decay = jnp.maximum(0.0, 0.5 * (1.0 + jnp.cos(jnp.pi * (progress % 1.0))))
    else:
      decay = jnp.sqrt(max(warmup, 1) / jnp.maximum(s, max(warmup, 1)))
    return peak * warm * decay

  return fn


def build(cfg, total_steps: int) -> tuple[optax.GradientTransformation, optax.Schedule]:
  sched = schedule(cfg, total_steps)
  # The chain keeps one shape whatever the clipping, so a run can resume with another clip_norm.
  clip = optax.identity()
  if cfg.clip_norm and cfg.clip_norm > 0:
    clip = optax.clip_by_global_norm(cfg.clip_norm)
  adamw = optax.adamw(sched, b1=cfg.b1, b2=cfg.b2, eps=cfg.eps, weight_decay=cfg.weight_decay)
  return optax.chain(clip, adamw), sched
