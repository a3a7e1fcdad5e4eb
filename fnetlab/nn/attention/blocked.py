"""Memory-efficient attention (Rabe & Staats 2021; the FlashAttention-2 recurrence, Dao 2023)
in plain JAX: a scan over key blocks with an online softmax, and a custom VJP that recomputes
each block's scores from the saved log-sum-exp, so forward and backward both hold
O(length * block) scores. Dropout is fused: the keep mask is the counter hash of (seed,
batch, head, query, key) (`reference.dropout_keep`), regenerated in the backward pass.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from fnetlab.nn.attention.reference import MASKED, allowed_pairs, keep_block

# Key-block width of the blocked kernel: it bounds the live scores to [b, h, q, BLOCK_K]. On
# the 2-core CPU, 128 measured fastest at N = 512 and within noise of the best at 1K-8K
# (docs/attention.md).
BLOCK_K = 128


def blocked_attention(
  q,
  k,
  v,
  *,
  key_mask=None,
  mask=None,
  causal=False,
  dropout_rate=0.0,
  dropout_seed=None,
  block_k: int = BLOCK_K,
):
  """Memory-efficient attention: online softmax over key blocks, recomputing backward.

  Same arguments and result as `explicit_attention`; scores live one [b, h, q, block_k] block
  at a time in both passes. Keys are zero-padded (and masked) to a multiple of block_k.
  Causal self-attention splits the queries into up to CAUSAL_CHUNKS chunks, each scanning
  only the key blocks up to its own end, which skips most blocks above the diagonal.
  """
  b, nq, h, d = q.shape
  nk = k.shape[1]
  block = min(block_k, nk)
  pad = -nk % block
  if pad or mask is not None or key_mask is not None:
    key_mask = jnp.ones((b, nk), bool) if key_mask is None else key_mask.astype(bool)
    key_mask = jnp.pad(key_mask, ((0, 0), (0, pad)))
  if pad:
    k = jnp.pad(k, ((0, 0), (0, pad), (0, 0), (0, 0)))
    v = jnp.pad(v, ((0, 0), (0, pad), (0, 0), (0, 0)))
  if mask is not None:
    mask = jnp.broadcast_to(mask, mask.shape[:2] + (nq, nk)).astype(bool)
    mask = jnp.pad(mask, ((0, 0), (0, 0), (0, 0), (0, pad)))
  seed = jnp.zeros((2,), jnp.uint32) if dropout_seed is None else jnp.asarray(dropout_seed)
  seed = seed.astype(jnp.uint32)
  cfg = lambda q0: _BlockCfg(block, bool(causal), float(dropout_rate), d**-0.5, q0)
  n_blocks = (nk + pad) // block
  if not (causal and nq == nk and n_blocks > 1):
    return _blocked(cfg(0), q, k, v, key_mask, mask, seed)
  chunks = min(n_blocks, CAUSAL_CHUNKS)
  edges = [round(i * n_blocks / chunks) * block for i in range(chunks + 1)]
  outs = []
  for q0, q1 in zip(edges[:-1], edges[1:], strict=True):
    q1 = min(q1, nq)  # the last chunk ends at the real length; keys up to its block edge
    kend = -(-q1 // block) * block
    sliced_mask = None if mask is None else mask[:, :, q0:q1, :kend]
    sliced_keys = None if key_mask is None else key_mask[:, :kend]
    kv = (k[:, :kend], v[:, :kend])
    outs.append(_blocked(cfg(q0), q[:, q0:q1], *kv, sliced_keys, sliced_mask, seed))
  return jnp.concatenate(outs, axis=1)


# Causal self-attention: query chunks per call. With c chunks the kernel computes
# (c + 1) / (2c) of the score blocks (62% at c = 4, 56% at c = 8) instead of all of them.
CAUSAL_CHUNKS = 8


class _BlockCfg(tuple):
  """Static (hashable) configuration of one blocked-attention call."""

  def __new__(cls, block, causal, rate, scale, q_offset=0):
    return super().__new__(cls, (block, causal, rate, scale, q_offset))

  block = property(lambda s: s[0])
  causal = property(lambda s: s[1])
  rate = property(lambda s: s[2])
  scale = property(lambda s: s[3])
  q_offset = property(lambda s: s[4])  # position of the first query (causal chunks)


def _split(x, block):
  """[b, n, h, d] -> [n / block, b, h, block, d]: the scan's key blocks."""
  b, n, h, d = x.shape
  return x.reshape(b, n // block, block, h, d).transpose(1, 0, 3, 2, 4)


def _block_masks(cfg, key_mask, mask, nq):
  """Per-block mask inputs stacked for the scan, and a function building one block's mask."""
  xs = {}
  if key_mask is not None:
    xs["key"] = key_mask.reshape(key_mask.shape[0], -1, cfg.block).transpose(1, 0, 2)
  if mask is not None:
    m = mask.reshape(mask.shape[:3] + (-1, cfg.block))
    xs["full"] = jnp.moveaxis(m, 3, 0)

  def allowed(blk, i):
    keys, full = blk.get("key"), blk.get("full")
    return allowed_pairs(keys, full, cfg.causal, nq, cfg.block, i * cfg.block, cfg.q_offset)

  return xs, allowed


def _scores(cfg, qs, kb, allowed_blk, seed, i):
  """Scaled, masked f32 logits of one block [b, h, q, block] and its dropout keep mask."""
  s = jnp.einsum("bhqd,bhkd->bhqk", qs, kb, preferred_element_type=jnp.float32)
  if allowed_blk is not None:
    s = jnp.where(allowed_blk, s, MASKED)
  keep = None
  if cfg.rate > 0:
    keep = keep_block(seed, cfg.rate, s.shape, i * cfg.block, cfg.q_offset)
  return s, keep


def _forward(cfg, q, k, v, key_mask, mask, seed):
  b, nq, h, d = q.shape
  qs = (q * jnp.asarray(cfg.scale, q.dtype)).transpose(0, 2, 1, 3)  # [b, h, q, d]
  xs, allowed = _block_masks(cfg, key_mask, mask, nq)
  xs.update(k=_split(k, cfg.block), v=_split(v, cfg.block), i=jnp.arange(k.shape[1] // cfg.block))

  def step(carry, blk):
    m, l, acc = carry
    s, keep = _scores(cfg, qs, blk["k"], allowed(blk, blk["i"]), seed, blk["i"])
    m_new = jnp.maximum(m, s.max(-1))
    p = jnp.exp(s - m_new[..., None])
    alpha = jnp.exp(m - m_new)
    l = l * alpha + p.sum(-1)
    if keep is not None:
      p = jnp.where(keep, p * (1.0 / (1.0 - cfg.rate)), 0.0)
    pv = jnp.einsum(
      "bhqk,bhkd->bhqd", p.astype(v.dtype), blk["v"], preferred_element_type=jnp.float32
    )
    return (m_new, l, acc * alpha[..., None] + pv), None

  init = (
    jnp.full((b, h, nq), -jnp.inf, jnp.float32),
    jnp.zeros((b, h, nq), jnp.float32),
    jnp.zeros((b, h, nq, d), jnp.float32),
  )
  (m, l, acc), _ = jax.lax.scan(step, init, xs)
  out = (acc / l[..., None]).astype(q.dtype).transpose(0, 2, 1, 3)  # [b, q, h, d]
  lse = m + jnp.log(l)
  return out, lse


@functools.partial(jax.custom_vjp, nondiff_argnums=(0,))
def _blocked(cfg, q, k, v, key_mask, mask, seed):
  return _forward(cfg, q, k, v, key_mask, mask, seed)[0]


def _blocked_fwd(cfg, q, k, v, key_mask, mask, seed):
  out, lse = _forward(cfg, q, k, v, key_mask, mask, seed)
  return out, (q, k, v, key_mask, mask, seed, out, lse)


def _blocked_bwd(cfg, res, g):
  q, k, v, key_mask, mask, seed, out, lse = res
  b, nq, h, d = q.shape
  qs = (q * jnp.asarray(cfg.scale, q.dtype)).transpose(0, 2, 1, 3)
  gt = g.transpose(0, 2, 1, 3)  # [b, h, q, d]
  # D_i = sum_j P~_ij dP~_ij = rowsum(dO * O): the softmax backward's row term.
  delta = jnp.einsum("bqhd,bqhd->bhq", g.astype(jnp.float32), out.astype(jnp.float32))
  xs, allowed = _block_masks(cfg, key_mask, mask, nq)
  xs.update(k=_split(k, cfg.block), v=_split(v, cfg.block), i=jnp.arange(k.shape[1] // cfg.block))
  f32 = dict(preferred_element_type=jnp.float32)

  # The block's scores are built transposed, [b, h, key, query]: then dV = P^T dO and
  # dK = dS^T Q contract the last axis of both operands, a layout the CPU matmul takes without
  # a copy (measured ~5% faster than the [b, h, query, key] form at N = 512).
  def step(dq, blk):
    s = jnp.einsum("bhkd,bhqd->bhkq", blk["k"], qs, **f32)
    allowed_t = allowed(blk, blk["i"])
    if allowed_t is not None:
      s = jnp.where(jnp.swapaxes(allowed_t, -1, -2), s, MASKED)
    p = jnp.exp(s - lse[:, :, None, :])  # the forward's normalised probabilities
    dp = jnp.einsum("bhkd,bhqd->bhkq", blk["v"], gt, **f32)
    pd = p
    if cfg.rate > 0:
      keep = jnp.swapaxes(
        keep_block(seed, cfg.rate, (b, h, nq, cfg.block), blk["i"] * cfg.block, cfg.q_offset),
        -1,
        -2,
      )
      inv = 1.0 / (1.0 - cfg.rate)
      pd = jnp.where(keep, p * inv, 0.0)
      dp = jnp.where(keep, dp * inv, 0.0)
    dv = jnp.einsum("bhkq,bhqd->bhkd", pd.astype(g.dtype), gt, **f32)
    ds = (p * (dp - delta[:, :, None, :])).astype(q.dtype)
    dq = dq + jnp.einsum("bhkq,bhkd->bhqd", ds, blk["k"], **f32)
    dk = jnp.einsum("bhkq,bhqd->bhkd", ds, qs, **f32)
    return dq, (dk, dv)

  dq, (dk, dv) = jax.lax.scan(step, jnp.zeros((b, h, nq, d), jnp.float32), xs)
  unsplit = lambda x: x.transpose(1, 0, 3, 2, 4).reshape(b, -1, h, d)  # [nb,b,h,kb,d] -> [b,n,h,d]
  dq = (dq * cfg.scale).transpose(0, 2, 1, 3).astype(q.dtype)
  return dq, unsplit(dk).astype(k.dtype), unsplit(dv).astype(v.dtype), None, None, None


_blocked.defvjp(_blocked_fwd, _blocked_bwd)
