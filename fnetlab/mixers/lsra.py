"""Lite Transformer's long-short range attention, LSRA (Wu et al., ICLR 2020).

The input is split by channel with no projection: the first half goes to multi-head attention
(long range), the second to a convolution branch (short range): Linear(d/2 -> d) -> GLU ->
lightweight convolution -> Linear(d/2 -> d/2). The two halves are concatenated.

The lightweight convolution (Wu et al. 2019) is depthwise with `conv_heads` weight-sharing
heads: channels are split into `conv_heads` contiguous groups that share one softmax-normalised
kernel of `kernel_size` taps, with DropConnect on the taps in training. `causal=True` left-pads
by kernel_size - 1 and makes the attention half causal, as the Lite Transformer decoder does.

Departures: we implement the lightweight variant only (the paper also offers dynamic
convolutions) and use one kernel size per layer (the model config may vary it by layer via the
mixer options). The FFN that follows lives in the shared block; the paper's "flattened" FFN
(width = model width) is a model-size choice (`d_ff = d_model`), not part of the mixer.
"""

from __future__ import annotations

from typing import Any, ClassVar

import jax
import jax.numpy as jnp
from flax import linen as nn

from fnetlab.mixers.attention import Attention
from fnetlab.mixers.common import default_kernel_init, depthwise_conv, logical, masked


def lightweight_conv(u, taps, causal: bool):
  """Depthwise conv of u [b, n, c] with head-shared taps [heads, k]; channels grouped by head."""
  heads = taps.shape[0]
  per_channel = jnp.repeat(taps, u.shape[-1] // heads, axis=0)  # [c, k]
  return depthwise_conv(u, per_channel.T, causal)


class LSRA(nn.Module):
  """Long-short range attention: attention on half the channels, lightweight conv on the rest."""

  num_heads: int = 4  # heads of the attention half
  conv_heads: int = 4
  kernel_size: int = 7
  causal: bool = False
  weight_dropout: float = 0.0  # DropConnect on the normalised conv taps
  dropout_rate: float = 0.0  # attention-probability dropout
  dtype: Any = jnp.float32

  supports_causal: ClassVar[bool] = True

  @staticmethod
  def causal_options(options):
    return {**options, "causal": True}

  @nn.compact
  def __call__(self, x, mask=None, deterministic=True):
    d = x.shape[-1]
    if d % 2 or (d // 2) % self.conv_heads:
      raise ValueError(f"lsra needs features ({d}) even, with d/2 divisible by conv_heads")
    half = d // 2
    x_att, x_conv = x[..., :half], x[..., half:]
    y_att = Attention(
      num_heads=self.num_heads,
      causal=self.causal,
      dropout_rate=self.dropout_rate,
      dtype=self.dtype,
      name="attention",
    )(x_att, mask, deterministic)

    dense = lambda n, name, axes: nn.Dense(
      n, dtype=self.dtype, kernel_init=logical(default_kernel_init, *axes), name=name
    )
    u = nn.glu(dense(2 * half, "conv_in", ("embed", "mlp"))(masked(x_conv, mask)), axis=-1)
    taps = self.param(
      "conv_taps", logical(nn.initializers.zeros, None, None), (self.conv_heads, self.kernel_size)
    )
    taps = jax.nn.softmax(taps, axis=-1)
    if self.weight_dropout > 0 and not deterministic:
      taps = nn.Dropout(self.weight_dropout, deterministic=False)(taps)
    y_conv = lightweight_conv(masked(u, mask), taps, self.causal)
    y_conv = dense(half, "conv_out", ("mlp", "embed"))(y_conv)
    return jnp.concatenate([y_att, y_conv], axis=-1)
