"""The FNet paper's mixing baselines (Lee-Thorp et al., arXiv 2105.03824, section 3.2).

- `linear`: learned dense matrices on both axes, y = W_len x W_feat. Parameters N² + d²; the
  length N is fixed by the input seen at init (as in the paper, which used max length). Both
  matrices start N(0, 0.02²), as f_net's LinearTransform (`init_scheme='fnet'`, the model
  default); `init_scheme='xavier'` (or 'lra') starts them Xavier-uniform, variance 1/n.
- `random`: the same form with fixed random matrices drawn LeCun-normal (truncated normal,
  variance 1/n), as f_net's RandomTransform. They are not parameters: they are drawn at trace
  time from a seed derived from the layer's path, so every layer has its own matrix, the
  optimizer never sees them, and a checkpoint does not store them (f_net draws them from one
  key split per layer; the distribution is the same, the draws are not).
- `ff_only`: identity mixing; the block reduces to residual + LN + FFN. It is the cost floor
  the benchmarks divide by.
"""

from __future__ import annotations

from typing import ClassVar

import jax
import jax.numpy as jnp
from flax import linen as nn

from fnetlab.mixers.base import Mixer
from fnetlab.nn import logical, scope_seed
from fnetlab.nn.inits import dense_init


def _two_sided(x, w_len, w_feat):
  return jnp.einsum("bnd,mn,de->bme", x, w_len.astype(x.dtype), w_feat.astype(x.dtype))


class LinearMixer(Mixer):
  """Learned mixing matrices over length and features."""

  init_scheme: str = "fnet"  # fnet: N(0, 0.02²) as f_net; xavier / lra: Xavier-uniform

  @nn.compact
  def __call__(self, x, mask=None, deterministic=True):
    del mask, deterministic
    n, d = x.shape[-2], x.shape[-1]
    init, _ = dense_init(self.init_scheme, "mix")
    w_len = self.param("length_kernel", logical(init, None, None), (n, n))
    w_feat = self.param("feature_kernel", logical(init, "embed", None), (d, d))
    return _two_sided(x, w_len, w_feat)


class RandomMixer(Mixer):
  """Fixed random mixing matrices over length and features (no parameters)."""

  seed: int = 0  # added to the per-layer seed, to draw a different family of matrices

  @nn.compact
  def __call__(self, x, mask=None, deterministic=True):
    del mask, deterministic
    n, d = x.shape[-2], x.shape[-1]
    k_len, k_feat = jax.random.split(jax.random.PRNGKey(scope_seed(self, self.seed)))
    lecun = nn.initializers.lecun_normal()
    return _two_sided(x, lecun(k_len, (n, n)), lecun(k_feat, (d, d)))


class FFOnly(Mixer):
  """Identity mixing."""

  supports_causal: ClassVar[bool] = True  # the identity is trivially causal

  @nn.compact
  def __call__(self, x, mask=None, deterministic=True):
    del mask, deterministic
    return x
