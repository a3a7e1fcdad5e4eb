"""The reference attention: einsum -> masked softmax -> (dropout) -> einsum, and the pieces
every kernel shares (the mask of allowed pairs, the probability-dropout keep mask).

Departure from the textbook layer: probability dropout draws its keep mask from fnetlab's
counter hash (`fnetlab.nn.dropout.counter_hash`) of the (batch, head, query, key) position
rather than from JAX's threefry stream (same Bernoulli(1 - rate) law, different bits), so the
blocked kernel can regenerate it in the backward pass instead of storing it.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from fnetlab.nn.dropout import counter_hash, keep_threshold

MASKED = float(np.finfo(np.float32).min)  # logit of a masked (query, key) pair
MAX_LEN = 2**16  # query / key positions the dropout counter packs into 16 bits each


def dropout_keep(seed, rate: float, b_idx, h_idx, q_idx, k_idx):
  """Keep mask (True with probability 1 - rate) at broadcastable (batch, head, query, key) indices.

  seed: uint32[2]. The counter hash of lo = query * 2^16 + key within the row
  hi = batch * 2^16 + head: a pure function of (seed, position), so the backward pass
  regenerates the forward's mask, and for a fixed row the map (query, key) -> bits is a
  bijection, so within a row the keep fraction is exact up to rounding of the threshold.
  Positions must be below 2^16 (`MAX_LEN`).
  """
  u32 = lambda a: jnp.asarray(a).astype(jnp.uint32)
  lo = u32(q_idx) << 16 | u32(k_idx)
  hi = u32(b_idx) << 16 | u32(h_idx)
  return counter_hash(seed, lo, hi) >= keep_threshold(rate)


def keep_block(seed, rate, shape, k_offset, q_offset=0):
  """dropout_keep over a [b, h, q, k] block whose first query/key sit at the given offsets."""
  b, h, nq, nk = shape
  if q_offset + nq > MAX_LEN or nk > MAX_LEN:
    raise ValueError(f"attention dropout indexes at most {MAX_LEN} queries and keys")
  b_idx = jnp.arange(b, dtype=jnp.uint32)[:, None, None, None]
  h_idx = jnp.arange(h, dtype=jnp.uint32)[None, :, None, None]
  q_idx = (jnp.arange(nq, dtype=jnp.uint32) + np.uint32(q_offset))[None, None, :, None]
  k_idx = (jnp.arange(nk, dtype=jnp.uint32) + jnp.asarray(k_offset).astype(jnp.uint32))[
    None, None, None, :
  ]
  return dropout_keep(seed, rate, b_idx, h_idx, q_idx, k_idx)


def allowed_pairs(key_mask, mask, causal, q_len, k_len, k_offset=0, q_offset=0):
  """Boolean [b|1, 1, q_len, k_len] of allowed pairs, or None, for queries starting at
  position q_offset and keys at k_offset; key_mask [b, k_len] and mask [b|1, 1|h, q_len,
  k_len] come already sliced to those queries and keys."""
  parts = []
  if key_mask is not None:  # [b, K] (already sliced to the block by the caller)
    parts.append(key_mask[:, None, None, :])
  if mask is not None:  # [b|1, 1|h, q, kb] (sliced likewise)
    parts.append(mask)
  if causal:
    q_pos = jnp.arange(q_len)[:, None] + q_offset
    k_pos = jnp.arange(k_len)[None, :] + k_offset
    parts.append((k_pos <= q_pos)[None, None])
  if not parts:
    return None
  return functools.reduce(jnp.logical_and, parts)


def explicit_attention(
  q,
  k,
  v,
  *,
  key_mask=None,
  mask=None,
  causal=False,
  dropout_rate=0.0,
  dropout_seed=None,
  dropout_fn=None,
):
  """einsum -> masked softmax -> (dropout) -> einsum. q, k, v: [b, n, h, d].

  Dropout on the probabilities: the fused hash mask (dropout_rate, dropout_seed), or any
  callable `dropout_fn(probs) -> probs` (e.g. a flax Dropout module).
  """
  scale = q.shape[-1] ** -0.5
  logits = jnp.einsum("bqhd,bkhd->bhqk", q, k, preferred_element_type=jnp.float32) * scale
  allowed = allowed_pairs(key_mask, mask, causal, q.shape[1], k.shape[1])
  if allowed is not None:
    logits = jnp.where(allowed, logits, MASKED)
  probs = jax.nn.softmax(logits, axis=-1)
  if dropout_rate > 0:
    keep = keep_block(dropout_seed, dropout_rate, probs.shape, 0)
    probs = jnp.where(keep, probs / (1.0 - dropout_rate), 0.0)
  if dropout_fn is not None:
    probs = dropout_fn(probs)
  return jnp.einsum("bhqk,bkhd->bqhd", probs.astype(v.dtype), v)
