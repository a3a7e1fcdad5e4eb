"""Which attention kernel computes a given problem: one pure rule, and the platform it runs for.

`select_kernel` is a pure function of the problem (platform, dtype, head_dim, lengths, mask
kind, dropout); docs/attention.md gives the measurements behind each branch. The platform is
the one the program is compiled for: the platform of the mesh the step is traced under
(`jax.sharding.get_abstract_mesh()`, which the trainer sets), so a step compiled on a CPU host
for TPU devices (`fnetlab compile`) selects TPU kernels; without a mesh, the default backend.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from fnetlab.nn.platform import target_platform

KERNELS = ("auto", "explicit", "blocked", "xla", "cudnn", "splash", "flash")
MASK_KINDS = ("none", "keys", "full")  # no padding | per-key padding [b, k] | general [b|1,1,q,k]

# Below this key length the CPU takes the explicit kernel: with a single key block the blocked
# kernel is explicit attention plus a recomputation (measured 1.07x explicit at N = 128, 0.86x
# at N = 256, 0.76x at N = 512).
CPU_BLOCKED_MIN_LEN = 256
# cuDNN flash attention: bf16/fp16 only; head_dim a multiple of 8 and <= 256 on Hopper or later
# (<= 128 before, sm < 9.0).
CUDNN_DTYPES = ("bfloat16", "float16")
# The Pallas TPU kernels tile queries and keys in blocks of 128 (the TPU lane width); shorter
# problems (decoding, tiny models) are left to XLA. Longer ones are padded to a multiple.
TPU_BLOCK = 128
# Splash attention's kernels handle head dimensions up to this (larger ones take Pallas flash).
SPLASH_MAX_HEAD_DIM = 256


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

  backend: 'cpu', 'gpu', 'cuda', 'rocm' or 'tpu'. mask_kind: 'none', 'keys' (per-key padding)
  or 'full' (any [b|1, 1, q, k] boolean mask). `causal` does not change the choice (every
  kernel takes the flag) and is accepted so callers can pass the whole problem.
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
    # No Pallas TPU kernel takes probability dropout: the explicit path, as on GPU.
    if has_dropout:
      return "explicit"
    if mask_kind == "full" or min(q_len, k_len) < TPU_BLOCK:
      return "xla"
    return "splash" if head_dim <= SPLASH_MAX_HEAD_DIM else "flash"
  # CPU (and anything else): the explicit kernel at short lengths, the blocked one above.
  if k_len < CPU_BLOCKED_MIN_LEN or q_len == 1:
    return "explicit"
  return "blocked"


def _compute_capability() -> tuple[int, int] | None:
  try:
    cc = jax.devices()[0].compute_capability  # '9.0' on an H100/H200
    return tuple(int(x) for x in str(cc).split(".")[:2])
  except (AttributeError, ValueError, IndexError):
    return None


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
  """`select_kernel` for the target platform (`target_platform()`, or `backend`)."""
  backend = backend or target_platform()
  cc = (
    _compute_capability() if backend in ("gpu", "cuda") and jax.default_backend() == "gpu" else None
  )
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
