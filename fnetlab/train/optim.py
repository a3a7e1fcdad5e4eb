"""Optimiser and schedules: AdamW (decoupled weight decay) + global-norm clipping.

Schedules (all with linear warmup): `constant`, `linear` (decay to 0 at the last step; the
FNet GLUE recipe), `cosine` (LRA Image/Pathfinder), `rsqrt` (LRA ListOps/Text/Retrieval:
peak * min(1, s/w) * sqrt(w / max(s, w)), i.e. 0.05 * warmup * rsqrt_decay with
peak = 0.05/sqrt(w)).
"""

from __future__ import annotations

import jax.numpy as jnp
import optax

from fnetlab.errors import UserError

SCHEDULES = ("constant", "linear", "cosine", "rsqrt")


def schedule(cfg, total_steps: int) -> optax.Schedule:
  peak, warmup = cfg.lr, max(int(cfg.warmup_steps), 0)
  if cfg.schedule not in SCHEDULES:
    raise UserError(f"config key optim.schedule={cfg.schedule!r}; valid: {', '.join(SCHEDULES)}")

  def fn(step):
    s = jnp.asarray(step, jnp.float32)
    warm = jnp.minimum(1.0, (s + 1) / warmup) if warmup else 1.0
    if cfg.schedule == "constant":
      decay = 1.0
    elif cfg.schedule == "linear":
      decay = jnp.clip((total_steps - s) / max(total_steps - warmup, 1), 0.0, 1.0)
    elif cfg.schedule == "cosine":
      frac = jnp.clip((s - warmup) / max(total_steps - warmup, 1), 0.0, 1.0)
      decay = 0.5 * (1 + jnp.cos(jnp.pi * frac))
    else:
      decay = jnp.sqrt(max(warmup, 1) / jnp.maximum(s + 1, max(warmup, 1)))
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
