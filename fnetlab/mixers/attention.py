"""Multi-head dot-product attention (Vaswani et al. 2017): the baseline for every mixer.

Options beyond the textbook layer:
- `gate`: gated attention (Qiu et al., arXiv 2505.06708): `SDPA(Q, K, V) * sigmoid(x W_g)`,
  applied after SDPA and before the output projection, with x the same input that feeds
  Q/K/V. `'elementwise'` gates every head dimension, `'headwise'` one scalar per head.
- `rope`: rotary positions on Q and K.
- `decode`: autoregressive decoding with a KV cache (flax's `cache` collection). Initialise
  the cache by calling `init` on a full-length input with `decode=True`.

- `kernel`: which SDPA implementation computes the attention (fnetlab/nn/attention/,
  docs/attention.md). `'auto'` (the default) picks per target platform: on CPU the explicit
  einsum-softmax below 256 keys and a memory-efficient blocked kernel (online softmax over key
  blocks, O(N) memory, fused dropout) from 256 up; on GPU cuDNN flash attention for bf16/fp16
  inputs with at most a padding mask and/or the causal flag, head_dim a multiple of 8 and
  <= 256, and no probability dropout; on TPU the Pallas splash kernel (flash for head_dim
  > 256) from 128 tokens up with at most padding and the causal flag; XLA's
  `dot_product_attention` for the other inference cases; the explicit kernel when probability
  dropout is active in training on GPU or TPU (no fused kernel there takes it).
  `'explicit'`, `'blocked'`, `'xla'`, `'cudnn'`, `'splash'`, `'flash'` force one path.
- `attention_dropout` (the model's, as every model field in `MODEL_FIELDS`,
  fnetlab/mixers/base.py): dropout on the attention probabilities.
- `dropout_impl`: `'hash'` draws the probability-dropout mask inside the kernel from a
  position hash (regenerated in the backward pass, never stored); `'threefry'` applies
  `fnetlab.nn.dropout.Dropout(impl='threefry')` to the explicit kernel's probabilities.
"""

from __future__ import annotations

import functools
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
from flax import linen as nn

from fnetlab.mixers.base import Mixer
from fnetlab.nn import attention, logical, rope
from fnetlab.nn.dropout import Dropout
from fnetlab.nn.inits import dense_init

GATES = (None, "elementwise", "headwise")
QKV = ("query", "key", "value")

# SDPA with per-platform kernel selection; the worker mixer calls it directly.
attend = attention.attend


class Attention(Mixer):
  """Multi-head attention mixer with padding mask, causality, gating, RoPE and a KV cache."""

  num_heads: int = 8
  qkv_dim: int | None = None  # total Q/K/V width; None = the input width (LRA Image uses less)
  causal: bool = False
  gate: str | None = None  # None | 'elementwise' | 'headwise'
  rope: bool = False  # rotary positions on Q and K (model.rope)
  attention_dropout: float = 0.0  # dropout on attention probabilities
  dropout_impl: str = "hash"  # dropout mask PRNG (fnetlab/nn/dropout.py)
  attention_bias: bool = True  # biases on the Q/K/V/out projections
  init_scheme: str = "fnet"  # initialisers of the dense layers (fnetlab/nn/inits.py)
  decode: bool = False
  kernel: str = (
    "auto"  # auto | explicit | blocked | xla | cudnn | splash | flash (docs/attention.md)
  )
  dtype: Any = jnp.float32

  supports_causal: ClassVar[bool] = True

  @classmethod
  def encodes_positions(cls, model: Any) -> bool:
    return bool(model.rope)  # RoPE: no absolute table needed

  @nn.compact
  def __call__(self, x, mask=None, deterministic=True):
    if self.gate not in GATES:
      raise ValueError(f"attention gate must be one of {GATES}; got {self.gate!r}")
    d = x.shape[-1]
    width = self.qkv_dim or d
    if width % self.num_heads:
      raise ValueError(f"attention width {width} is not divisible by num_heads={self.num_heads}")
    head_dim = width // self.num_heads
    kernel_init, bias_init = dense_init(self.init_scheme, "mix")
    dense = functools.partial(
      nn.DenseGeneral,
      features=(self.num_heads, head_dim),
      use_bias=self.attention_bias,
      dtype=self.dtype,
      kernel_init=logical(kernel_init, "embed", "heads", "kv"),
      bias_init=logical(bias_init, "heads", "kv"),
    )
    # Projections on [b*n, d]: on [b, n, d] XLA's CPU backend copies the activations into a
    # transposed layout for every weight gradient (docs/performance.md); parameters are the same.
    b, n = x.shape[:2]
    x2 = x.reshape(b * n, d)
    q, k, v = (dense(name=name)(x2).reshape(b, n, self.num_heads, head_dim) for name in QKV)

    key_mask = None if mask is None else mask.astype(bool)  # padding, [b, k]
    full_mask, causal = None, self.causal
    if self.decode:
      k, v, full_mask, q_pos = self._update_cache(k, v)  # keys come back already rotated
      key_mask = None  # the cache mask replaces the padding mask (decoding is unpadded)
      causal = False  # the cache mask already hides future slots
      q = rope(q, q_pos) if self.rope else q
    elif self.rope:
      positions = jnp.arange(x.shape[1])
      q, k = rope(q, positions), rope(k, positions)

    drop = {}
    rate = self.attention_dropout
    if rate > 0 and not deterministic:
      if self.dropout_impl == "hash":  # fused into the kernel; one 64-bit seed per call
        seed = jax.random.bits(self.make_rng("dropout"), (2,), jnp.uint32)
        drop = dict(dropout_rate=rate, dropout_seed=seed)
      else:
        drop = dict(dropout=Dropout(rate, deterministic=False, impl=self.dropout_impl))
    # A dropout callable on the probabilities (dropout_impl='threefry') needs the explicit kernel.
    requested = "explicit" if "dropout" in drop and self.kernel == "auto" else self.kernel
    kernel = attention.resolve(
      requested, q, k, key_mask=key_mask, mask=full_mask, causal=causal, has_dropout=bool(drop)
    )
    attention.record(self, kernel)
    ctx = attend(q, k, v, full_mask, causal, key_mask=key_mask, kernel=kernel, **drop)

    if self.gate is not None:
      gate_heads = (self.num_heads, head_dim if self.gate == "elementwise" else 1)
      g = nn.DenseGeneral(
        gate_heads,
        dtype=self.dtype,
        kernel_init=logical(kernel_init, "embed", "heads", None),
        bias_init=logical(bias_init, "heads", None),
        name="gate",
      )(x2)
      ctx = ctx * jax.nn.sigmoid(g.reshape(b, n, *gate_heads))
    out = nn.DenseGeneral(
      d,
      axis=(-2, -1),
      use_bias=self.attention_bias,
      dtype=self.dtype,
      kernel_init=logical(kernel_init, "heads", "kv", "embed"),
      bias_init=logical(bias_init, "embed"),
      name="out",
    )(ctx.reshape(b * n, self.num_heads, head_dim))
    return out.reshape(b, n, d)

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
