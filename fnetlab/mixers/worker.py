"""The WorkerTransformer layer (seed 003): sparse worker tokens with gated attention.

Positions k-1, 2k-1, ... (every `interval`-th token) and always the last are workers. Each
layer:
  1. h = RMSNorm(causal depthwise Conv1d(x)) over all positions (kernel 3, left padded);
  2. K, V from h at all positions; Q from h at worker positions only; RoPE on Q and K at
     their absolute positions; a worker attends to every position <= itself;
  3. gated attention, ctx * sigmoid(W_g h_worker) elementwise, before the output projection
     (Qiu et al., arXiv 2505.06708);
  4. residual, then a GELU FFN (4x by default) on workers only, written back in place.
The layer is causal by construction. It carries its own FFN and residuals, so the model
builders use it as a whole block (`is_block = True`).

As the reference: q/k/v/gate/out projections have no bias (`use_bias=True` adds them),
attention probabilities are dropped at `attention_dropout` (the model passes its attention
dropout; 0 disables), and a model built of these layers ends with RMSNorm (the class's
`final_norm`; `model.final_norm=layer` swaps in LayerNorm).

Departures:
- In the reference, non-worker streams are never updated: they stay equal to their
  embedding and the conv output feeds only K/V. That is our default. `update_nonworkers=True`
  adds the conv mixer's output (through a learned projection) to the non-worker streams, as
  the seed's text describes.
- The reference adds one learned worker-type embedding at the input. Each of our layers owns
  one and adds it to the worker streams it updates, so no model code has to know about
  workers; layer 0's embedding is the reference's.
- The RMSNorm before the FFN (pre-norm) is our choice; the reference text does not say.
"""

from __future__ import annotations

from typing import Any, ClassVar

import jax
import jax.numpy as jnp
import numpy as np
from flax import linen as nn

from fnetlab.mixers.attention import attend
from fnetlab.mixers.base import Mixer
from fnetlab.nn import attention, depthwise_conv, logical, rope
from fnetlab.nn.dropout import Dropout
from fnetlab.nn.inits import dense_init


def worker_positions(length: int, interval: int) -> np.ndarray:
  """k-1, 2k-1, ... and the last position, sorted and unique."""
  pos = np.arange(interval - 1, length, interval)
  if pos.size == 0 or pos[-1] != length - 1:
    pos = np.append(pos, length - 1)
  return pos


class WorkerBlock(Mixer):
  """One WorkerTransformer layer (a whole block)."""

  interval: int = 4
  num_heads: int = 4
  d_ff: int | None = None  # FFN width; None = 4 x features
  gate: str | None = "elementwise"  # None | 'elementwise' | 'headwise'
  conv_kernel: int = 3
  update_nonworkers: bool = False
  dropout_rate: float = 0.0  # residual dropout (after attention and after the FFN)
  attention_dropout: float = 0.0  # attention-probability dropout
  dropout_impl: str = "hash"  # dropout mask PRNG (fnetlab/nn/dropout.py)
  use_bias: bool = False  # biases on q/k/v/gate/out (the reference has none; a worker
  # option: model.attention_bias, the f_net/LRA attention setting, does not reach this layer)
  init_scheme: str = "fnet"  # dense-layer initialisers (fnetlab/nn/inits.py)
  dtype: Any = jnp.float32

  supports_causal: ClassVar[bool] = True  # causal by construction
  is_block: ClassVar[bool] = True
  always_causal: ClassVar[bool] = True  # no option makes it bidirectional
  final_norm: ClassVar[str] = "rms"  # the reference model's last norm
  # Only worker streams are updated, so a CLS stream stays its embedding: pool by mean.
  pooling: ClassVar[str | None] = "mean"

  @classmethod
  def encodes_positions(cls, model: Any) -> bool:
    return True  # RoPE on Q and K at absolute positions, always

  @nn.compact
  def __call__(self, x, mask=None, deterministic=True):
    b, n, d = x.shape
    if d % self.num_heads:
      raise ValueError(f"worker features {d} not divisible by num_heads={self.num_heads}")
    head_dim = d // self.num_heads
    pos = worker_positions(n, self.interval)
    kernel_init, bias_init = dense_init(self.init_scheme, "mix")

    def dense(feats, name, axes, use_bias=True, **kw):
      return nn.DenseGeneral(
        feats,
        use_bias=use_bias,
        dtype=self.dtype,
        kernel_init=logical(kernel_init, *axes),
        bias_init=logical(bias_init, *axes[-(1 if isinstance(feats, int) else len(feats)) :]),
        name=name,
        **kw,
      )

    drop = Dropout(self.dropout_rate, deterministic=deterministic, impl=self.dropout_impl)
    qkv_bias = self.use_bias

    type_emb = self.param("worker_type", logical(nn.initializers.normal(0.02), "embed"), (d,))
    x = x.at[:, pos].add(type_emb.astype(x.dtype))

    kernel = self.param(
      "conv_weight", logical(nn.initializers.lecun_normal(), None, "embed"), (self.conv_kernel, d)
    )
    conv_bias = self.param("conv_bias", logical(nn.initializers.zeros, "embed"), (d,))
    conv = depthwise_conv(x, kernel, causal=True) + conv_bias.astype(x.dtype)
    h = nn.RMSNorm(dtype=self.dtype, name="conv_norm")(conv)
    h_w = h[:, pos]

    heads = (self.num_heads, head_dim)
    q = dense(heads, "query", ("embed", "heads", "kv"), qkv_bias)(h_w)
    k = dense(heads, "key", ("embed", "heads", "kv"), qkv_bias)(h)
    v = dense(heads, "value", ("embed", "heads", "kv"), qkv_bias)(h)
    q, k = rope(q, jnp.asarray(pos)), rope(k, jnp.arange(n))
    allowed = jnp.asarray(np.arange(n)[None, :] <= pos[:, None])[None, None]  # [1,1,w,n]
    if mask is not None:
      allowed = jnp.logical_and(allowed, mask[:, None, None, :].astype(bool))
    use_att_drop = self.attention_dropout > 0 and not deterministic
    att_drop = (
      Dropout(self.attention_dropout, deterministic=False, impl=self.dropout_impl)
      if use_att_drop
      else None
    )
    # A dropout callable on the probabilities needs the explicit kernel.
    kernel = attention.resolve("auto" if att_drop is None else "explicit", q, k, mask=allowed)
    attention.record(self, kernel)
    ctx = attend(q, k, v, allowed, dropout=att_drop, kernel=kernel)
    if self.gate is not None:
      gate_shape = (self.num_heads, head_dim if self.gate == "elementwise" else 1)
      ctx = ctx * jax.nn.sigmoid(dense(gate_shape, "gate", ("embed", "heads", None), qkv_bias)(h_w))
    out = dense(d, "out", ("heads", "kv", "embed"), qkv_bias, axis=(-2, -1))(ctx)

    xw = x[:, pos] + drop(out)
    ff = nn.RMSNorm(dtype=self.dtype, name="ffn_norm")(xw)
    ff = dense(self.d_ff or 4 * d, "ffn_in", ("embed", "mlp"))(ff)
    ff = dense(d, "ffn_out", ("mlp", "embed"))(nn.gelu(ff))
    xw = xw + drop(ff)

    if self.update_nonworkers:
      is_worker = np.zeros(n, bool)
      is_worker[pos] = True
      upd = dense(d, "nonworker_out", ("embed", None))(h)
      x = x + jnp.where(jnp.asarray(is_worker)[None, :, None], 0, drop(upd))
    return x.at[:, pos].set(xw)
