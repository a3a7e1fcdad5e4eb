"""The Pallas TPU attention kernels: splash attention (block-sparse flash attention, with the
mask's all-masked blocks skipped) and Pallas flash attention, as shipped in
`jax.experimental.pallas.ops.tpu`.

A Mosaic kernel cannot be partitioned automatically, so each runs inside `jax.shard_map` over
the context mesh: the batch over the mesh's batch axes and the heads over a `tensor` axis when
there is one, every shard computing whole sequences. Sequences are padded to a multiple of
`TPU_BLOCK` (the kernels' tile); padded keys are masked, padded queries dropped. Padding of
the keys goes in as segment ids (every query in segment 1, real keys 1, padded keys 0), which
is the explicit kernel's key mask exactly. The kernels take no probability dropout and no
general mask (`select.select_kernel` never picks them then).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jax.sharding import PartitionSpec as P

from fnetlab.nn.attention.select import TPU_BLOCK

BATCH_AXES = ("data", "fsdp")  # the mesh axes that split the batch (fnetlab/train/sharding.py)
HEAD_AXES = ("tensor",)


def _axes(mesh, names, size):
  """The mesh axes among `names` whose product divides `size` (greedy, in order)."""
  picked, prod = [], 1
  for a in names:
    if a in mesh.axis_names and size % (prod * mesh.shape[a]) == 0:
      picked.append(a)
      prod *= mesh.shape[a]
  return tuple(picked) or None


def _splash(q, k, v, kv_ids, *, causal):
  """Splash on one shard: q, k, v [b, h, n, d] (q pre-scaled), kv_ids [b, k] int32."""
  from jax.experimental.pallas.ops.tpu.splash_attention import splash_attention_kernel as sk
  from jax.experimental.pallas.ops.tpu.splash_attention import splash_attention_mask as sm

  h, nq, nk = q.shape[1], q.shape[2], k.shape[2]
  one = sm.CausalMask((nq, nk)) if causal else sm.FullMask((nq, nk))
  kernel = sk.make_splash_mha(
    sm.MultiHeadMask([one] * h), head_shards=1, q_seq_shards=1, block_sizes=_block_sizes(nq, nk)
  )
  q_ids = jnp.ones(q.shape[:1] + (nq,), jnp.int32)
  seg = jax.vmap(sk.SegmentIds)(q_ids, kv_ids)
  return jax.vmap(kernel)(q, k, v, segment_ids=seg)


def _block_sizes(nq, nk):
  from jax.experimental.pallas.ops.tpu.splash_attention import splash_attention_kernel as sk

  bq, bk = min(512, nq), min(512, nk)
  while nq % bq:
    bq //= 2
  while nk % bk:
    bk //= 2
  return sk.BlockSizes(
    block_q=bq,
    block_kv=bk,
    block_kv_compute=bk,
    block_q_dkv=bq,
    block_kv_dkv=bk,
    block_kv_dkv_compute=bk,
    block_q_dq=bq,
    block_kv_dq=bk,
  )


def _flash(q, k, v, kv_ids, *, causal):
  """Pallas flash on one shard: q, k, v [b, h, n, d] (q pre-scaled), kv_ids [b, k] int32."""
  from jax.experimental.pallas.ops.tpu import flash_attention as fa

  q_ids = jnp.ones(q.shape[:1] + (q.shape[2],), jnp.int32)
  return fa.flash_attention(q, k, v, segment_ids=fa.SegmentIds(q_ids, kv_ids), causal=causal)


def pallas_attention(q, k, v, *, key_mask=None, causal=False, kernel: str = "splash"):
  """SDPA with a Pallas TPU kernel ('splash' or 'flash'); q [b, q, h, d], k/v [b, k, h, d]."""
  b, nq, h, d = q.shape
  nk = k.shape[1]
  pad_q, pad_k = -nq % TPU_BLOCK, -nk % TPU_BLOCK
  kv_ids = jnp.ones((b, nk), jnp.int32) if key_mask is None else key_mask.astype(jnp.int32)
  kv_ids = jnp.pad(kv_ids, ((0, 0), (0, pad_k)))
  to_bhnd = lambda x, pad: jnp.pad(x, ((0, 0), (0, pad), (0, 0), (0, 0))).transpose(0, 2, 1, 3)
  qt = to_bhnd(q * jnp.asarray(d**-0.5, q.dtype), pad_q)
  kt, vt = to_bhnd(k, pad_k), to_bhnd(v, pad_k)
  body = functools.partial(_splash if kernel == "splash" else _flash, causal=causal)
  mesh = jax.sharding.get_abstract_mesh()
  if not mesh.empty:
    batch, heads = _axes(mesh, BATCH_AXES, b), _axes(mesh, HEAD_AXES, h)
    spec = P(batch, heads, None, None)
    body = jax.shard_map(
      body, mesh=mesh, in_specs=(spec, spec, spec, P(batch, None)), out_specs=spec, check_vma=False
    )
  out = body(qt, kt, vt, kv_ids)
  return out.transpose(0, 2, 1, 3)[:, :nq].astype(q.dtype)
