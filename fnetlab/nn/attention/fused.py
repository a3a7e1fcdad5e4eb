"""Fused attention behind `jax.nn.dot_product_attention`: XLA's implementation (any platform)
and cuDNN's flash attention (GPU, bf16/fp16, padding as per-example key lengths, causal flag,
no probability dropout).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from fnetlab.nn.attention.reference import allowed_pairs


def xla_attention(q, k, v, *, key_mask=None, mask=None, causal=False):
  """jax.nn.dot_product_attention's XLA implementation."""
  allowed = allowed_pairs(key_mask, mask, False, q.shape[1], k.shape[1])
  return jax.nn.dot_product_attention(q, k, v, mask=allowed, is_causal=causal, implementation="xla")


def cudnn_attention(q, k, v, *, key_mask=None, causal=False):
  """cuDNN flash attention; padding goes in as per-example key lengths (the mask's row sums).

  Lengths describe a mask only when it is a prefix (real tokens first, padding at the end), as
  every fnetlab task builds it (`ids != pad` on right-padded rows). A batch whose key mask is
  not a prefix (e.g. LRA's optional zero-pixel mask) or has a row with no real key runs XLA's
  kernel instead, decided at run time by `_prefix_or_fallback`.
  """
  if key_mask is None:
    return jax.nn.dot_product_attention(q, k, v, is_causal=causal, implementation="cudnn")
  fused = lambda lengths: jax.nn.dot_product_attention(
    q, k, v, is_causal=causal, key_value_seq_lengths=lengths, implementation="cudnn"
  )
  general = lambda: xla_attention(q, k, v, key_mask=key_mask, causal=causal)
  return _prefix_or_fallback(key_mask, fused, general)


def _prefix_or_fallback(key_mask, fused, general):
  """fused(lengths) if every row of key_mask [b, k] is a non-empty prefix, else general()."""
  key_mask = key_mask.astype(bool)
  lengths = key_mask.sum(-1).astype(jnp.int32)
  prefix = jnp.arange(key_mask.shape[-1])[None, :] < lengths[:, None]
  ok = jnp.logical_and(jnp.all(key_mask == prefix), jnp.all(lengths > 0))
  return jax.lax.cond(ok, lambda: fused(lengths), general)
