"""The FNet paper's mixing baselines (Lee-Thorp et al., arXiv 2105.03824, section 3.2).

- `linear`: learned dense matrices on both axes, y = W_len x W_feat. Parameters N² + d²; the
  length N is fixed by the input seen at init (as in the paper, which used max length).
- `random`: the same form with fixed random matrices. They are not parameters: they are drawn
  at trace time from a seed derived from the layer's path, so every layer has its own matrix,
  the optimizer never sees them, and a checkpoint does not store them. Entries are N(0, 1/n)
  so the output scale matches the input's; the paper does not state its scaling.
- `ff_only`: identity mixing; the block reduces to residual + LN + FFN. It is the cost floor
  the benchmarks divide by.
"""

from __future__ import annotations

from typing import ClassVar

import jax
import jax.numpy as jnp
from flax import linen as nn

from fnetlab.mixers.common import logical, scope_seed


def _two_sided(x, w_len, w_feat):
  return jnp.einsum("bnd,mn,de->bme", x, w_len.astype(x.dtype), w_feat.astype(x.dtype))


class LinearMixer(nn.Module):
  """Learned mixing matrices over length and features."""

  supports_causal: ClassVar[bool] = False

  @nn.compact
  def __call__(self, x, mask=None, deterministic=True):
    del mask, deterministic
    n, d = x.shape[-2], x.shape[-1]
    w_len = self.param(
      "length_kernel", logical(nn.initializers.normal(n**-0.5), None, None), (n, n)
    )
    w_feat = self.param(
      "feature_kernel", logical(nn.initializers.normal(d**-0.5), "embed", None), (d, d)
    )
    return _two_sided(x, w_len, w_feat)


class RandomMixer(nn.Module):
  """Fixed random mixing matrices over length and features (no parameters)."""

  seed: int = 0  # added to the per-layer seed, to draw a different family of matrices

  supports_causal: ClassVar[bool] = False

  @nn.compact
  def __call__(self, x, mask=None, deterministic=True):
    del mask, deterministic
    n, d = x.shape[-2], x.shape[-1]
    k_len, k_feat = jax.random.split(jax.random.PRNGKey(scope_seed(self, self.seed)))
    w_len = jax.random.normal(k_len, (n, n)) * n**-0.5
    w_feat = jax.random.normal(k_feat, (d, d)) * d**-0.5
    return _two_sided(x, w_len, w_feat)


class FFOnly(nn.Module):
  """Identity mixing."""

  supports_causal: ClassVar[bool] = True
  # The official IdentityTransform has no dropout on its output, and as the benchmarks' bound
  # (a mixer that costs nothing) it must not pay for one that FNet's mixing does not have.
  output_dropout: ClassVar[bool] = False

  @staticmethod
  def causal_options(options):
    return options  # the identity is trivially causal

  @nn.compact
  def __call__(self, x, mask=None, deterministic=True):
    del mask, deterministic
    return x
