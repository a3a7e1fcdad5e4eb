"""Neural-network pieces below the mixers: logical-axis initialisers, per-layer seeds, masking, RoPE, depthwise conv."""

from __future__ import annotations

import zlib

import jax.numpy as jnp
from flax import linen as nn

from fnetlab.nn.dropout import Dropout  # noqa: F401  (re-exported: fnetlab.nn.Dropout)

default_kernel_init = nn.initializers.xavier_uniform()


def logical(init, *axes):
  """Wraps an initialiser so the parameter carries logical axis names (for sharding rules)."""
  return nn.with_logical_partitioning(init, axes)


def scope_seed(module: nn.Module, salt: int = 0) -> int:
  """A deterministic 31-bit seed from the module's path, distinct for every layer."""
  path = "/".join(str(p) for p in module.scope.path) if module.scope is not None else ""
  return (zlib.crc32(path.encode()) + salt) & 0x7FFFFFFF


def add_positions(x, pos):
  """x [batch, length, d] + pos [length, d].

  The broadcast over the batch is written as an outer product with ones, so the gradient with
  respect to `pos` is one matrix-vector product. As a plain broadcast its gradient is a sum over
  the short batch axis, which XLA's CPU backend runs ~10x slower (docs/performance.md).
  """
  return x + jnp.einsum("b,nd->bnd", jnp.ones(x.shape[0], pos.dtype), pos)


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


def depthwise_conv(u, kernel, causal: bool):
  """Depthwise 1-D convolution of u [b, n, c] with kernel [k, c], as k shifted multiply-adds.

  y[t] = sum_j kernel[j] * u[t + j - left], left = k-1 (causal) or (k-1)//2 (centred). On CPU
  this is several times faster than XLA's grouped convolution, forward and backward; k is small.
  """
  k, n = kernel.shape[0], u.shape[1]
  left = k - 1 if causal else (k - 1) // 2
  padded = jnp.pad(u, ((0, 0), (left, k - 1 - left), (0, 0)))
  kernel = kernel.astype(u.dtype)
  out = padded[:, 0:n] * kernel[0]
  for j in range(1, k):
    out = out + padded[:, j : j + n] * kernel[j]
  return out
