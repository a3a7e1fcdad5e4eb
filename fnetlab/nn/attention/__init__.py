"""Softmax attention: the kernels, the one rule that picks one, and the record of the choice
(docs/attention.md).

All kernels compute the same function, SDPA (Vaswani et al. 2017) on [batch, length, heads,
head_dim] inputs, with an optional key-padding mask, causal flag, general boolean mask and
dropout on the attention probabilities:

- `explicit` (reference.py): einsum -> masked softmax -> einsum; materialises the [b, h, q, k]
  scores, so its memory is quadratic in the length. The reference path.
- `blocked` (blocked.py): memory-efficient attention in plain JAX with fused hash dropout.
- `xla`, `cudnn` (fused.py): `jax.nn.dot_product_attention` with XLA's or cuDNN's
  implementation.
- `splash`, `flash` (pallas.py): the Pallas TPU kernels, inside `shard_map`.

`select.select_kernel` is the pure selection rule, evaluated for the platform the step is
compiled for (`select.target_platform`). `attend` applies it and logs each distinct choice
once. The mixers record the kernel they use in flax's `kernels` collection (`record`); a
caller reads it back as a value with `kernels_used`, which traces the model once.
"""

from __future__ import annotations

import logging

import jax
import jax.numpy as jnp

from fnetlab.nn.attention.blocked import BLOCK_K, blocked_attention
from fnetlab.nn.attention.fused import cudnn_attention, xla_attention
from fnetlab.nn.attention.pallas import pallas_attention
from fnetlab.nn.attention.reference import dropout_keep, explicit_attention
from fnetlab.nn.attention.select import (
  KERNELS,
  MASK_KINDS,
  kernel_for,
  select_kernel,
  target_platform,
)

__all__ = [
  "BLOCK_K",
  "KERNELS",
  "MASK_KINDS",
  "attend",
  "blocked_attention",
  "dropout_keep",
  "explicit_attention",
  "kernel_for",
  "kernels_used",
  "mask_kind",
  "record",
  "resolve",
  "select_kernel",
  "target_platform",
]

log = logging.getLogger(__name__)
COLLECTION = "kernels"  # the flax collection the mixers record their kernel in
_logged: set = set()  # (choice, reason) pairs already logged: a log de-duplication only


def mask_kind(key_mask, mask) -> str:
  """'full' if a general mask is given, else 'keys' for padding, else 'none'."""
  return "full" if mask is not None else "keys" if key_mask is not None else "none"


def resolve(kernel, q, k, *, key_mask=None, mask=None, causal=False, has_dropout=False) -> str:
  """The kernel `attend(..., kernel=kernel)` runs for these inputs: `kernel` itself unless
  'auto', else `select_kernel` for the target platform (logged once per distinct choice)."""
  if kernel not in KERNELS:
    raise ValueError(f"attention kernel must be one of {KERNELS}; got {kernel!r}")
  if kernel != "auto":
    return kernel
  kind = mask_kind(key_mask, mask)
  platform = target_platform()
  choice = kernel_for(
    q.dtype,
    q.shape[-1],
    q_len=q.shape[1],
    k_len=k.shape[1],
    mask_kind=kind,
    causal=causal,
    has_dropout=has_dropout,
    backend=platform,
  )
  why = f"{platform}, {jnp.dtype(q.dtype).name}, mask={kind}, dropout={has_dropout}"
  if (choice, why) not in _logged:
    _logged.add((choice, why))
    log.info("attention kernel: %s (%s)", choice, why)
  return choice


def record(module, kernel: str) -> None:
  """Records `kernel` in `module`'s `kernels` collection when the caller asked for it
  (`apply(..., mutable=['kernels'])`, as `kernels_used` does); otherwise nothing."""
  if module.is_mutable_collection(COLLECTION) and not module.is_initializing():
    module.sow(COLLECTION, "attention", kernel)


def kernels_used(model, variables, *args, train: bool = True, platform: str | None = None, **kw):
  """The kernels `model.apply(variables, *args)` uses, sorted and '+'-joined ('' if it has no
  attention): traced once with `jax.eval_shape` under the current mesh, nothing computed.

  train: the training forward (dropout active) or inference. platform: ask as if compiling for
  that platform ('gpu', 'tpu', ...) under a one-device mesh of it; shapes only (a kernel this
  process cannot trace, cuDNN off a GPU, is traced as the explicit kernel).
  """
  found = []

  def trace(v, *a):
    rngs = {"dropout": jax.random.PRNGKey(0)} if train else None
    out, cols = model.apply(v, *a, deterministic=not train, rngs=rngs, mutable=[COLLECTION], **kw)
    found.extend(jax.tree.leaves(cols.get(COLLECTION, {})))
    return out

  if platform is None:
    jax.eval_shape(trace, variables, *args)
  else:
    device = jax.sharding.AbstractDevice(device_kind=platform, num_cores=None, platform=platform)
    mesh = jax.sharding.AbstractMesh((1,), ("data",), abstract_device=device)
    with jax.sharding.use_abstract_mesh(mesh):
      jax.eval_shape(trace, variables, *args)
  return "+".join(sorted(set(found)))


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
  kernel: 'auto' (`resolve`) or one of KERNELS to force a path.
  """
  has_dropout = dropout_rate > 0 or dropout is not None
  if dropout is not None and kernel not in ("auto", "explicit"):
    raise ValueError(f"a dropout callable needs the explicit kernel; got kernel={kernel!r}")
  kernel = "explicit" if dropout is not None else kernel
  kernel = resolve(
    kernel, q, k, key_mask=key_mask, mask=mask, causal=causal, has_dropout=has_dropout
  )
  if dropout_rate > 0 and dropout_seed is None:
    raise ValueError("attention dropout needs a dropout_seed")
  if kernel in ("xla", "cudnn", "splash", "flash") and has_dropout:
    raise ValueError(
      f"the {kernel} attention kernel has no probability dropout; use explicit or blocked"
    )
  if kernel in ("cudnn", "splash", "flash") and mask is not None:
    raise ValueError(f"the {kernel} attention kernel takes padding as key_mask, not a general mask")
  if kernel == "cudnn" and jax.default_backend() != "gpu":
    kernel = "explicit"  # a what-if trace for a GPU (`kernels_used(platform=...)`): shapes only
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
  if kernel == "cudnn":
    return cudnn_attention(q, k, v, key_mask=key_mask, causal=causal)
  return pallas_attention(q, k, v, key_mask=key_mask, causal=causal, kernel=kernel)
