"""Softmax-attention kernels and the rule that picks one per platform (docs/attention.md).

All kernels compute the same function, SDPA (Vaswani et al. 2017) on [batch, length, heads,
head_dim] inputs, with an optional key-padding mask, causal flag, general boolean mask and
dropout on the attention probabilities:

- `explicit`: einsum -> masked softmax -> einsum; materialises the [b, h, q, k] scores, so its
  memory is quadratic in the length. The reference path.
- `blocked`: memory-efficient attention (Rabe & Staats 2021; the FlashAttention-2 recurrence,
  Dao 2023) in plain JAX: a scan over key blocks with an online softmax, and a custom VJP that
  recomputes each block's scores from the saved log-sum-exp, so forward and backward both hold
  O(length * block) scores. Dropout is fused: the keep mask is a counter-based hash of (seed,
  batch, head, query, key), regenerated in the backward pass instead of stored.
- `xla`: `jax.nn.dot_product_attention(implementation='xla')`.
- `cudnn`: `jax.nn.dot_product_attention(implementation='cudnn')`, cuDNN's flash attention
  (GPU, bf16/fp16, padding as per-example key lengths, causal flag, no probability dropout).

`select_kernel` is the pure selection rule; `attend` applies it and logs each distinct choice
once. Departure from the textbook layer: probability dropout draws its keep mask from the hash
above rather than from JAX's threefry stream (same Bernoulli(1 - rate) law, different bits).
"""

from __future__ import annotations

import contextlib
import functools
import logging

import jax
import jax.numpy as jnp
import numpy as np

log = logging.getLogger(__name__)

KERNELS = ("auto", "explicit", "blocked", "xla", "cudnn")
MASK_KINDS = ("none", "keys", "full")  # no padding | per-key padding [b, k] | general [b|1,1,q,k]

# Key-block width of the blocked kernel: it bounds the live scores to [b, h, q, BLOCK_K]. On
# the 2-core CPU, 128 measured fastest at N = 512 and within noise of the best at 1K-8K
# (docs/attention.md).
BLOCK_K = 128
# Below this key length the CPU takes the explicit kernel: with a single key block the blocked
# kernel is explicit attention plus a recomputation (measured 1.07x explicit at N = 128, 0.86x
# at N = 256, 0.76x at N = 512).
CPU_BLOCKED_MIN_LEN = 256
# cuDNN flash attention: bf16/fp16 only; head_dim a multiple of 8 and <= 256 on Hopper or later
# (<= 128 before, sm < 9.0).
CUDNN_DTYPES = ("bfloat16", "float16")

_MASKED = float(np.finfo(np.float32).min)  # logit of a masked (query, key) pair
_GOLDEN = np.uint32(0x9E3779B9)


# --------------------------------------------------------------------------------- selection


def select_kernel(
  backend: str,
  dtype,
  head_dim: int,
  *,
  q_len: int,
  k_len: int,
  mask_kind: str = "none",
  causal: bool = False,
  has_dropout: bool = False,
  compute_capability: tuple[int, int] | None = None,
) -> str:
  """The fastest kernel that computes this attention exactly; a pure function of its inputs.

  backend: `jax.default_backend()` ('cpu', 'gpu', 'cuda', 'rocm', 'tpu'). mask_kind: 'none',
  'keys' (per-key padding) or 'full' (any [b|1, 1, q, k] boolean mask). `causal` does not change
  the choice (every kernel takes the flag) and is accepted so callers can pass the whole problem.
  """
  del causal
  if mask_kind not in MASK_KINDS:
    raise ValueError(f"mask_kind must be one of {MASK_KINDS}; got {mask_kind!r}")
  dtype_name = jnp.dtype(dtype).name
  if backend in ("gpu", "cuda", "rocm"):
    max_head = 128 if compute_capability is not None and compute_capability < (9, 0) else 256
    cudnn_ok = (
      backend != "rocm"
      and dtype_name in CUDNN_DTYPES
      and head_dim % 8 == 0
      and head_dim <= max_head
      and mask_kind in ("none", "keys")
      and not has_dropout
    )
    if cudnn_ok:
      return "cudnn"
    return "explicit" if has_dropout else "xla"
  if backend == "tpu":
    return "explicit" if has_dropout else "xla"
  # CPU (and anything else): the explicit kernel at short lengths, the blocked one above.
  if k_len < CPU_BLOCKED_MIN_LEN or q_len == 1:
    return "explicit"
  return "blocked"


_logged: set = set()
_recorders: list[tuple[set, str | None]] = []  # (choices, backend override) of open recordings


def _log_once(choice: str, why: str) -> None:
  for used, _ in _recorders:
    used.add(choice)
  key = (choice, why)
  if key not in _logged:
    _logged.add(key)
    log.info("attention kernel: %s (%s)", choice, why)


@contextlib.contextmanager
def recording(backend: str | None = None):
  """Collects (into the yielded set) the kernels `attend(kernel='auto')` picks while tracing.

  With `backend` (e.g. 'gpu' on a CPU host), selection runs as if on that backend and the
  traced computation uses the explicit kernel, so shapes still evaluate: use it only to ask
  which kernel a model would get there (`kernels_used`), never to run the result.
  """
  used: set = set()
  _recorders.append((used, backend))
  try:
    yield used
  finally:
    _recorders.remove((used, backend))


def kernels_used(fn, *args, backend: str | None = None) -> str:
  """The kernels `fn(*args)` would use, '+'-joined ('' if it has no attention): traced once
  with `jax.eval_shape`, nothing computed. `fn` must not be jitted already (a cached trace
  would not call `attend`); wrap a model's `apply`, e.g. `lambda p, x: model.apply(p, x)`."""
  with recording(backend) as used:
    jax.eval_shape(lambda *a: fn(*a), *args)
  return "+".join(sorted(used))


def _override() -> str | None:
  return next((b for _, b in reversed(_recorders) if b is not None), None)


def _compute_capability() -> tuple[int, int] | None:
  try:
    cc = jax.devices()[0].compute_capability  # '9.0' on an H100/H200
    return tuple(int(x) for x in str(cc).split(".")[:2])
  except (AttributeError, ValueError, IndexError):
    return None


def _backend() -> str:
  backend = jax.default_backend()
  if backend == "gpu":
    version = str(getattr(jax.devices()[0].client, "platform_version", "")).lower()
    if "rocm" in version:
      return "rocm"
  return backend


def kernel_for(
  dtype,
  head_dim: int,
  *,
  q_len: int,
  k_len: int,
  mask_kind: str = "none",
  causal: bool = False,
  has_dropout: bool = False,
  backend: str | None = None,
) -> str:
  """`select_kernel` on this process's default backend (or `backend`)."""
  backend = backend or _backend()
  cc = _compute_capability() if backend in ("gpu", "cuda") else None
  return select_kernel(
    backend,
    dtype,
    head_dim,
    q_len=q_len,
    k_len=k_len,
    mask_kind=mask_kind,
    causal=causal,
    has_dropout=has_dropout,
    compute_capability=cc,
  )


# ------------------------------------------------------------------------------------ dropout


def _fmix32(x):
  """The murmur3 32-bit finaliser: a bijection on uint32 with full avalanche."""
  x = x ^ (x >> 16)
  x = x * np.uint32(0x85EBCA6B)
  x = x ^ (x >> 13)
  x = x * np.uint32(0xC2B2AE35)
  return x ^ (x >> 16)


def dropout_keep(seed, rate: float, b_idx, h_idx, q_idx, k_idx):
  """Keep mask (True with probability 1 - rate) at broadcastable (batch, head, query, key) indices.

  seed: uint32[2]. A pure function of (seed, indices), so the backward pass regenerates the
  forward's mask instead of storing it. A (batch, head) row key mixes the seed in two
  finaliser rounds; within a row, (query, key) packs into 32 bits (key < 65536) and two more
  rounds mix it with the row key and the query (so queries >= 65536 still differ). For a fixed
  row key the map from (query, key) to bits is a bijection, so within a row the keep fraction
  is exact up to rounding of the threshold.
  """
  u32 = lambda a: jnp.asarray(a).astype(jnp.uint32)
  seed = u32(seed)
  row = _fmix32(_fmix32(u32(b_idx) * _GOLDEN + u32(h_idx) + seed[0]) ^ seed[1])
  bits = _fmix32(_fmix32((u32(q_idx) << 16 | u32(k_idx)) ^ row) + u32(q_idx) * _GOLDEN)
  threshold = np.uint32(min(round(rate * 2**32), 2**32 - 1))
  return bits >= threshold


def _keep_block(seed, rate, shape, k_offset, q_offset=0):
  """dropout_keep over a [b, h, q, k] block whose first query/key sit at the given offsets."""
  b, h, nq, nk = shape
  b_idx = jnp.arange(b, dtype=jnp.uint32)[:, None, None, None]
  h_idx = jnp.arange(h, dtype=jnp.uint32)[None, :, None, None]
  q_idx = (jnp.arange(nq, dtype=jnp.uint32) + np.uint32(q_offset))[None, None, :, None]
  k_idx = (jnp.arange(nk, dtype=jnp.uint32) + jnp.asarray(k_offset).astype(jnp.uint32))[
    None, None, None, :
  ]
  return dropout_keep(seed, rate, b_idx, h_idx, q_idx, k_idx)


# ------------------------------------------------------------------------------------ masking


def _allowed(key_mask, mask, causal, q_len, k_len, k_offset=0, q_offset=0):
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


# ------------------------------------------------------------------------------------ kernels


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
  allowed = _allowed(key_mask, mask, causal, q.shape[1], k.shape[1])
  if allowed is not None:
    logits = jnp.where(allowed, logits, _MASKED)
  probs = jax.nn.softmax(logits, axis=-1)
  if dropout_rate > 0:
    keep = _keep_block(dropout_seed, dropout_rate, probs.shape, 0)
    probs = jnp.where(keep, probs / (1.0 - dropout_rate), 0.0)
  if dropout_fn is not None:
    probs = dropout_fn(probs)
  return jnp.einsum("bhqk,bkhd->bqhd", probs.astype(v.dtype), v)


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
    return _allowed(keys, full, cfg.causal, nq, cfg.block, i * cfg.block, cfg.q_offset)

  return xs, allowed


def _scores(cfg, qs, kb, allowed_blk, seed, i):
  """Scaled, masked f32 logits of one block [b, h, q, block] and its dropout keep mask."""
  s = jnp.einsum("bhqd,bhkd->bhqk", qs, kb, preferred_element_type=jnp.float32)
  if allowed_blk is not None:
    s = jnp.where(allowed_blk, s, _MASKED)
  keep = None
  if cfg.rate > 0:
    keep = _keep_block(seed, cfg.rate, s.shape, i * cfg.block, cfg.q_offset)
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
      s = jnp.where(jnp.swapaxes(allowed_t, -1, -2), s, _MASKED)
    p = jnp.exp(s - lse[:, :, None, :])  # the forward's normalised probabilities
    dp = jnp.einsum("bhkd,bhqd->bhkq", blk["v"], gt, **f32)
    pd = p
    if cfg.rate > 0:
      keep = jnp.swapaxes(
        _keep_block(seed, cfg.rate, (b, h, nq, cfg.block), blk["i"] * cfg.block, cfg.q_offset),
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


def xla_attention(q, k, v, *, key_mask=None, mask=None, causal=False):
  """jax.nn.dot_product_attention's XLA implementation."""
  allowed = _allowed(key_mask, mask, False, q.shape[1], k.shape[1])
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


# ------------------------------------------------------------------------------------ dispatch


def mask_kind(key_mask, mask) -> str:
  """'full' if a general mask is given, else 'keys' for padding, else 'none'."""
  return "full" if mask is not None else "keys" if key_mask is not None else "none"


def attend(
  q,
  k,
  v,
  mask=None,
  causal=False,
  dropout=None,
  *,
  key_mask=None,
  dropout_rate: float = 0.0,
  dropout_seed=None,
  kernel: str = "auto",
):
  """SDPA on q [b, q, h, d], k/v [b, k, h, d] -> [b, q, h, d] with the chosen kernel.

  mask: bool broadcastable to [b, 1, q, k] (True = attend), for patterns other than padding;
  key_mask: bool [b, k] padding (True at real tokens); causal: query i sees keys <= i;
  dropout_rate/dropout_seed: dropout on the probabilities with the fused hash mask (seed
  uint32[2]); dropout: instead, any callable applied to the probabilities (explicit kernel).
  kernel: 'auto' (`select_kernel`) or one of KERNELS to force a path.
  """
  if kernel not in KERNELS:
    raise ValueError(f"attention kernel must be one of {KERNELS}; got {kernel!r}")
  has_dropout = dropout_rate > 0 or dropout is not None
  if dropout is not None and kernel not in ("auto", "explicit"):
    raise ValueError(f"a dropout callable needs the explicit kernel; got kernel={kernel!r}")
  kind = mask_kind(key_mask, mask)
  override = _override()
  if dropout is not None:
    kernel = "explicit"
    _log_once(kernel, "a dropout callable on the probabilities")
  elif kernel == "auto":
    kernel = kernel_for(
      q.dtype,
      q.shape[-1],
      q_len=q.shape[1],
      k_len=k.shape[1],
      mask_kind=kind,
      causal=causal,
      has_dropout=has_dropout,
      backend=override,
    )
    why = f"{override or _backend()}, {jnp.dtype(q.dtype).name}, mask={kind}, dropout={has_dropout}"
    _log_once(kernel, why)
    if override is not None:  # a what-if trace (`recording(backend=...)`): shapes only
      kernel = "explicit"
  else:
    _log_once(kernel, "forced")
  if dropout_rate > 0 and dropout_seed is None:
    raise ValueError("attention dropout needs a dropout_seed")
  if kernel in ("xla", "cudnn") and has_dropout:
    raise ValueError(
      f"the {kernel} attention kernel has no probability dropout; use explicit or blocked"
    )
  if kernel == "cudnn" and mask is not None:
    raise ValueError("the cudnn attention kernel takes padding as key_mask, not a general mask")
  if kernel == "explicit":
    return explicit_attention(
      q,
      k,
      v,
      key_mask=key_mask,
      mask=mask,
      causal=causal,
      dropout_rate=dropout_rate,
      dropout_seed=dropout_seed,
      dropout_fn=dropout,
    )
  if kernel == "blocked":
    return blocked_attention(
      q,
      k,
      v,
      key_mask=key_mask,
      mask=mask,
      causal=causal,
      dropout_rate=dropout_rate,
      dropout_seed=dropout_seed,
    )
  if kernel == "xla":
    return xla_attention(q, k, v, key_mask=key_mask, mask=mask, causal=causal)
  return cudnn_attention(q, k, v, key_mask=key_mask, causal=causal)
