"""Lite Transformer's long-short range attention, LSRA (Wu et al., ICLR 2020).

The input is split by channel with no projection: the first half goes to multi-head attention
(long range), the second to a convolution branch (short range); the two outputs are
concatenated. The convolution branch follows the released code (mit-han-lab/lite-transformer,
`MultiBranch` with `conv_linear`), which has two forms:

- `conv='dynamic'` (default): Linear(d/2 -> d) -> GLU -> dynamic convolution -> Linear(d/2 ->
  d/2). The dynamic convolution (Wu et al. 2019) predicts, at every position, one kernel of
  `kernel_size` taps per conv head from its input (a bias-free Linear(d/2 -> heads * k)),
  softmax-normalises the taps and applies DropConnect (`weight_dropout`) to them.
- `conv='lightweight'`: Linear(d/2 -> d/2) -> lightweight convolution -> Linear(d/2 -> d/2).
  The lightweight convolution has one learned kernel per conv head, shared by every position,
  Xavier-uniform initialised as torch does for a (heads, 1, k) tensor, softmax-normalised, with
  DropConnect.

In both, the channels of the branch are split into `conv_heads` contiguous groups that share a
kernel. `glu` overrides the released pairing (GLU with the dynamic convolution, none with the
lightweight one): `conv='lightweight', glu=True` is the branch as the paper's figure draws it.

The default is the dynamic form because every released Lite Transformer configuration uses it
(`dynamic:default` branches, `encoder-glu` on), so it is the model behind the reported BLEU
scores. `causal=True` left-pads by kernel_size - 1 and makes the attention half causal, as the
Lite Transformer decoder does.

Departures: padded positions are zeroed at the branch input, as the released `MultiBranch`
does, and again after the input projection, which the release does not: there a trained
conv_in bias makes padded positions non-zero and the convolution carries them into the last
real tokens. With no padding the two agree exactly. One kernel size per layer (the released models use [3, 7, 15, 31, 31, 31] by layer;
a model config may vary it through the mixer options). The FFN that follows lives in the shared
block; the paper's "flattened" FFN (width = model width) is a model-size choice
(`d_ff = d_model`), not part of the mixer. The dense layers take the model's initialisation
scheme, like every other mixer's; the released code uses Xavier-uniform with zero biases
(`init_scheme='xavier'`).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
from flax import linen as nn

from fnetlab.mixers.attention import Attention
from fnetlab.mixers.base import Mixer
from fnetlab.nn import depthwise_conv, logical, masked
from fnetlab.nn.dropout import Dropout
from fnetlab.nn.inits import dense_init

CONVS = ("dynamic", "lightweight")


def lightweight_conv(u, taps, causal: bool):
  """Depthwise conv of u [b, n, c] with head-shared taps [heads, k]; channels grouped by head."""
  heads = taps.shape[0]
  per_channel = jnp.repeat(taps, u.shape[-1] // heads, axis=0)  # [c, k]
  return depthwise_conv(u, per_channel.T, causal)


def dynamic_conv(u, weights, causal: bool):
  """Conv of u [b, n, c] with per-position taps weights [b, n, heads, k]; channels grouped by
  head. y[t, c] = sum_j weights[t, head(c), j] * u[t + j - left, c], left = k-1 (causal) or
  (k-1)//2 (centred), zero outside the sequence."""
  b, n, c = u.shape
  heads, k = weights.shape[-2:]
  left = k - 1 if causal else (k - 1) // 2
  padded = jnp.pad(u, ((0, 0), (left, k - 1 - left), (0, 0))).reshape(b, n + k - 1, heads, -1)
  weights = weights.astype(u.dtype)[..., None]  # [b, n, heads, k, 1]
  out = padded[:, 0:n] * weights[:, :, :, 0]
  for j in range(1, k):
    out = out + padded[:, j : j + n] * weights[:, :, :, j]
  return out.reshape(b, n, c)


def torch_xavier_taps(key, shape, dtype=jnp.float32):
  """torch's xavier_uniform_ on a (heads, 1, k) conv weight: fan_in = k, fan_out = heads * k."""
  heads, k = shape
  bound = math.sqrt(6.0 / (k + heads * k))
  return jax.random.uniform(key, shape, dtype, -bound, bound)


class LSRA(Mixer):
  """Long-short range attention: attention on half the channels, convolution on the rest."""

  num_heads: int = 4  # heads of the attention half
  conv_heads: int = 4
  kernel_size: int = 7
  conv: str = "dynamic"  # dynamic (released configs) | lightweight
  glu: bool | None = None  # None: as released (GLU with dynamic, none with lightweight)
  causal: bool = False
  weight_dropout: float = 0.0  # DropConnect on the normalised conv taps
  attention_dropout: float = 0.0  # the attention half's probability dropout
  dropout_impl: str = "hash"  # dropout mask PRNG (fnetlab/nn/dropout.py)
  attention_bias: bool = True  # biases on the attention half's projections
  init_scheme: str = "fnet"  # dense-layer initialisers (fnetlab/nn/inits.py)
  dtype: Any = jnp.float32

  supports_causal: ClassVar[bool] = True

  @nn.compact
  def __call__(self, x, mask=None, deterministic=True):
    if self.conv not in CONVS:
      raise ValueError(f"lsra conv must be one of {CONVS}; got {self.conv!r}")
    d = x.shape[-1]
    if d % 2 or (d // 2) % self.conv_heads:
      raise ValueError(f"lsra needs features ({d}) even, with d/2 divisible by conv_heads")
    half = d // 2
    x_att, x_conv = x[..., :half], x[..., half:]
    y_att = Attention(
      num_heads=self.num_heads,
      causal=self.causal,
      attention_dropout=self.attention_dropout,
      dropout_impl=self.dropout_impl,
      attention_bias=self.attention_bias,
      init_scheme=self.init_scheme,
      dtype=self.dtype,
      name="attention",
    )(x_att, mask, deterministic)

    kernel_init, bias_init = dense_init(self.init_scheme, "mix")

    def dense(n, name, axes, use_bias=True):
      return nn.Dense(
        n,
        use_bias=use_bias,
        dtype=self.dtype,
        kernel_init=logical(kernel_init, *axes),
        bias_init=logical(bias_init, axes[-1]),
        name=name,
      )

    glu = self.conv == "dynamic" if self.glu is None else self.glu
    u = dense(2 * half if glu else half, "conv_in", ("embed", "mlp"))(masked(x_conv, mask))
    if glu:
      u = nn.glu(u, axis=-1)
    u = masked(u, mask)  # padding stays zero past conv_in's bias (see the module docstring)
    drop_taps = self.weight_dropout > 0 and not deterministic
    if self.conv == "dynamic":
      k, heads = self.kernel_size, self.conv_heads
      taps = dense(heads * k, "conv_weights", ("mlp", None), use_bias=False)(u)
      taps = jax.nn.softmax(taps.reshape(*u.shape[:2], heads, k).astype(jnp.float32), axis=-1)
      if drop_taps:
        taps = Dropout(self.weight_dropout, deterministic=False, impl=self.dropout_impl)(taps)
      y_conv = dynamic_conv(u, taps, self.causal)
    else:
      taps = self.param(
        "conv_taps", logical(torch_xavier_taps, None, None), (self.conv_heads, self.kernel_size)
      )
      taps = jax.nn.softmax(taps, axis=-1)
      if drop_taps:
        taps = Dropout(self.weight_dropout, deterministic=False, impl=self.dropout_impl)(taps)
      y_conv = lightweight_conv(u, taps, self.causal)
    y_conv = dense(half, "conv_out", ("mlp", "embed"))(y_conv)
    return jnp.concatenate([y_att, y_conv], axis=-1)
