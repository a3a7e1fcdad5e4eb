"""Multi-head dot-product attention (Vaswani et al. 2017): the baseline for every mixer.

Options beyond the textbook layer:
- `gate`: gated attention (Qiu et al., arXiv 2505.06708): `SDPA(Q, K, V) * sigmoid(x W_g)`,
  applied after SDPA and before the output projection, with x the same input that feeds
  Q/K/V. `'elementwise'` gates every head dimension, `'headwise'` one scalar per head.
- `rope`: rotary positions on Q and K.
- `decode`: autoregressive decoding with a KV cache (flax's `cache` collection). Initialise
  the cache by calling `init` on a full-length input with `decode=True`.

The fused `jax.nn.dot_product_attention` is used on GPU/TPU whenever attention dropout is
inactive, so a GPU gets the cuDNN flash kernel; with attention dropout in training, and on CPU
(where XLA's lowering of the fused op is slower), an explicit softmax computes the same thing.
"""

from __future__ import annotations

import functools
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
from flax import linen as nn

from fnetlab.mixers.common import default_kernel_init, logical, rope

GATES = (None, "elementwise", "headwise")


def explicit_attention(q, k, v, mask, dropout):
  """Softmax attention with dropout on the probabilities. mask: bool, broadcast to [b, h, q, k]."""
  logits = jnp.einsum("bqhd,bkhd->bhqk", q, k).astype(jnp.float32) * q.shape[-1] ** -0.5
  if mask is not None:
    logits = jnp.where(mask, logits, jnp.finfo(jnp.float32).min)
  probs = dropout(jax.nn.softmax(logits, axis=-1).astype(v.dtype))
  return jnp.einsum("bhqk,bkhd->bqhd", probs, v)


def attend(q, k, v, mask=None, causal=False, dropout=None):
  """SDPA on [batch, length, heads, head_dim]; `mask` bool [b|1, 1, q, k].

  Fused `jax.nn.dot_product_attention` on GPU/TPU without dropout. On CPU, XLA's lowering of
  that op measured 1.7x slower (forward + backward, N=1024) than the plain
  einsum-softmax-einsum, which computes the same thing, so CPU takes the explicit path.
  """
  if dropout is None and jax.default_backend() != "cpu":
    return jax.nn.dot_product_attention(q, k, v, mask=mask, is_causal=causal)
  if causal:
    tri = jnp.tril(jnp.ones((q.shape[1], k.shape[1]), bool))[None, None]
    mask = tri if mask is None else jnp.logical_and(mask, tri)
  return explicit_attention(q, k, v, mask, dropout or (lambda p: p))


class Attention(nn.Module):
  """Multi-head attention mixer with padding mask, causality, gating, RoPE and a KV cache."""

  num_heads: int = 8
  qkv_dim: int | None = None  # total Q/K/V width; None = the input width (LRA Image uses less)
  causal: bool = False
  gate: str | None = None  # None | 'elementwise' | 'headwise'
  rope: bool = False
  dropout_rate: float = 0.0  # dropout on attention probabilities
  use_bias: bool = True
  decode: bool = False
  dtype: Any = jnp.float32

  supports_causal: ClassVar[bool] = True

  @staticmethod
  def causal_options(options):
    return {**options, "causal": True}

  @nn.compact
  def __call__(self, x, mask=None, deterministic=True):
    if self.gate not in GATES:
      raise ValueError(f"attention gate must be one of {GATES}; got {self.gate!r}")
    d = x.shape[-1]
    width = self.qkv_dim or d
    if width % self.num_heads:
      raise ValueError(f"attention width {width} is not divisible by num_heads={self.num_heads}")
    head_dim = width // self.num_heads
    dense = functools.partial(
      nn.DenseGeneral,
      features=(self.num_heads, head_dim),
      use_bias=self.use_bias,
      dtype=self.dtype,
      kernel_init=logical(default_kernel_init, "embed", "heads", "kv"),
      bias_init=logical(nn.initializers.zeros, "heads", "kv"),
    )
    q, k, v = dense(name="query")(x), dense(name="key")(x), dense(name="value")(x)

    attn_mask = None if mask is None else mask[:, None, None, :].astype(bool)
    causal = self.causal
    if self.decode:
      k, v, attn_mask, q_pos = self._update_cache(k, v)  # keys come back already rotated
      causal = False  # the cache mask already hides future slots
      q = rope(q, q_pos) if self.rope else q
    elif self.rope:
      positions = jnp.arange(x.shape[1])
      q, k = rope(q, positions), rope(k, positions)

    use_dropout = self.dropout_rate > 0 and not deterministic
    dropout = nn.Dropout(self.dropout_rate, deterministic=False) if use_dropout else None
    ctx = attend(q, k, v, attn_mask, causal, dropout)

    if self.gate is not None:
      gate_heads = (self.num_heads, head_dim if self.gate == "elementwise" else 1)
      g = nn.DenseGeneral(
        gate_heads,
        dtype=self.dtype,
        kernel_init=logical(default_kernel_init, "embed", "heads", None),
        bias_init=logical(nn.initializers.zeros, "heads", None),
        name="gate",
      )(x)
      ctx = ctx * jax.nn.sigmoid(g)
    return nn.DenseGeneral(
      d,
      axis=(-2, -1),
      use_bias=self.use_bias,
      dtype=self.dtype,
      kernel_init=logical(default_kernel_init, "heads", "kv", "embed"),
      bias_init=logical(nn.initializers.zeros, "embed"),
      name="out",
    )(ctx)

  def _update_cache(self, k, v):
    """Writes this step's K/V at the cache index; returns full K/V, mask and positions."""
    initialised = self.has_variable("cache", "cached_key")
    ck = self.variable("cache", "cached_key", jnp.zeros, k.shape, k.dtype)
    cv = self.variable("cache", "cached_value", jnp.zeros, v.shape, v.dtype)
    ci = self.variable("cache", "cache_index", lambda: jnp.array(0, jnp.int32))
    steps = k.shape[1]
    idx = ci.value if initialised else jnp.array(0, jnp.int32)
    if self.rope:  # keys are stored rotated at their absolute positions
      k = rope(k, idx + jnp.arange(steps))
    if not initialised:  # the init call only creates the full-length cache
      return k, v, None, jnp.arange(steps)
    ck.value = jax.lax.dynamic_update_slice(ck.value, k, (0, idx, 0, 0))
    cv.value = jax.lax.dynamic_update_slice(cv.value, v, (0, idx, 0, 0))
    ci.value = idx + steps
    total = ck.value.shape[1]
    q_pos = idx + jnp.arange(steps)
    mask = (jnp.arange(total)[None, :] <= q_pos[:, None])[None, None]
    return ck.value, cv.value, mask, q_pos
