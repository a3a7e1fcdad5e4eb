"""Small pieces shared by several mixers: logical-axis initialisers and a stable per-layer seed."""

from __future__ import annotations

import zlib

import jax.numpy as jnp
from flax import linen as nn

default_kernel_init = nn.initializers.xavier_uniform()


def logical(init, *axes):
  """Wraps an initialiser so the parameter carries logical axis names (for sharding rules)."""
  return nn.with_logical_partitioning(init, axes)


def scope_seed(module: nn.Module, salt: int = 0) -> int:
  """A deterministic 31-bit seed from the module's path, distinct for every layer."""
  path = "/".join(str(p) for p in module.scope.path) if module.scope is not None else ""
  return (zlib.crc32(path.encode()) + salt) & 0x7FFFFFFF


def masked(x, mask):
  """Zeros padded positions (mask False) so they cannot leak into a mixer."""
  if mask is None:
    return x
  return x * mask[..., None].astype(x.dtype)


def rope(x, positions, base: float = 10000.0):
  """Rotary position embedding on x [batch, length, heads, head_dim] at `positions` [length].

  Rotates pairs (i, i + head_dim/2), as GPT-NeoX and the WorkerTransformer reference do.
  """
  half = x.shape[-1] // 2
  freqs = base ** (-jnp.arange(half, dtype=jnp.float32) / half)
  angles = positions.astype(jnp.float32)[:, None] * freqs[None, :]  # [length, half]
  cos = jnp.cos(angles)[None, :, None, :]
  sin = jnp.sin(angles)[None, :, None, :]
  x1, x2 = x[..., :half].astype(jnp.float32), x[..., half:].astype(jnp.float32)
  out = jnp.concatenate([x1 * cos - x2 * sin, x1 * sin + x2 * cos], axis=-1)
  return out.astype(x.dtype)
