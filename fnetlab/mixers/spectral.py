"""Learned spectral filters: the seeds' "Elastic Fourier" SpectralMixer (seeds 000/001; GFNet).

A per-channel complex filter W on the real FFT over the length axis:

- `mode='fixed'`: exactly the seed's SpectralMixer, `y = irfft(rfft(x) * (W_r + i W_i), n=N)`
  with W of shape (N//2+1, d); the parameter count grows with N (2·(N//2+1)·d per layer) and
  the model only runs at the N it was built for. A circular convolution: non-causal.
- `mode='elastic'`: W lives on `num_freqs` points of the normalised frequency axis [0, 1]
  (DC to Nyquist) and is linearly resampled to the N//2+1 bins of whatever length comes in.
  Parameters do not depend on N, so a model trained at one length runs at another.
- `mode='causal'` (Hyena, Poli et al. 2023): a time-domain kernel h of length N, zero-padded
  with x to an FFT of size 2N; the first N outputs are a linear (not circular) causal
  convolution, y_t = sum_{s<=t} h_{t-s} x_s. A filter defined directly on N//2+1 bins can
  never be causal, even padded, which is why this mode is parametrised in time. A shorter
  input uses the first taps, so a decoder samples at any length up to N.

Initialisation: seed 001 draws both filters `randn(N//2+1, d) * 0.02`, and `fixed` and
`elastic` start that way by default (`filter_init='seed'`): at init the layer passes only about
0.03 of its input's norm (E|W|² = 2·0.02²), so a residual stack starts near the identity map.
`filter_init='identity'` starts the filter at W = 1 + N(0, 0.02²) real, N(0, 0.02²) imaginary
instead (the mixer itself is near the identity). The causal mode is not the seeds' and has its
own start: h = delta + small decaying noise. GFNet also initialises randn·0.02 but uses the
ortho norm; the seeds use numpy's default (unnormalised forward, 1/N inverse), as we do.
Padded positions (mask False) are zeroed before mixing. FFTs run in float32 under any
activation dtype.
"""

from __future__ import annotations

from typing import ClassVar

import jax
import jax.numpy as jnp
from flax import linen as nn

from fnetlab.mixers.base import Mixer
from fnetlab.nn import logical, masked

MODES = ("fixed", "elastic", "causal")
FILTER_INITS = ("seed", "identity")


def _near_one(std):
  def init(key, shape, dtype=jnp.float32):
    return 1.0 + std * jax.random.normal(key, shape, dtype)

  return init


def _decaying_delta(std):
  def init(key, shape, dtype=jnp.float32):
    n = shape[0]
    decay = jnp.exp(-jnp.arange(n, dtype=dtype) / max(n / 8, 1.0))[:, None]
    h = std * jax.random.normal(key, shape, dtype) * decay
    return h.at[0].add(1.0)

  return init


def resample_filter(w: jax.Array, bins: int) -> jax.Array:
  """Linear interpolation of a [points, d] filter onto `bins` evenly spaced frequencies."""
  points = w.shape[0]
  src = jnp.linspace(0.0, 1.0, points)
  dst = jnp.linspace(0.0, 1.0, bins)
  return jax.vmap(lambda col: jnp.interp(dst, src, col), in_axes=1, out_axes=1)(w)


def causal_conv_fft(x: jax.Array, h: jax.Array) -> jax.Array:
  """y[t] = sum_{s<=t} h[t-s] x[s] along axis -2, via an FFT of size 2N (no wrap-around)."""
  n = x.shape[-2]
  size = 2 * n
  xf = jnp.fft.rfft(x, n=size, axis=-2)
  hf = jnp.fft.rfft(h[:n], n=size, axis=0)
  return jnp.fft.irfft(xf * hf, n=size, axis=-2)[..., :n, :]


class SpectralMixer(Mixer):
  """Learned per-channel spectral filter over the length axis (fixed | elastic | causal)."""

  mode: str = "fixed"
  num_freqs: int = 64  # elastic mode: frequency points the filter is defined on
  init_std: float = 0.02
  filter_init: str = "seed"  # fixed/elastic: seed (randn * init_std) | identity (1 + noise)

  supports_causal: ClassVar[bool] = True

  @staticmethod
  def causal_options(options):
    mode = options.get("mode", "causal")
    if mode != "causal":
      raise ValueError(f"spectral mode={mode!r} is not causal; use mode='causal'")
    return {**options, "mode": "causal"}

  @nn.compact
  def __call__(self, x, mask=None, deterministic=True):
    del deterministic
    if self.mode not in MODES:
      raise ValueError(f"spectral mode must be one of {MODES}; got {self.mode!r}")
    if self.filter_init not in FILTER_INITS:
      raise ValueError(
        f"spectral filter_init must be one of {FILTER_INITS}; got {self.filter_init!r}"
      )
    n, d = x.shape[-2], x.shape[-1]
    xf32 = masked(x, mask).astype(jnp.float32)
    if self.mode == "causal":
      taps = self._built_size("kernel", n)
      if n > taps:
        raise ValueError(f"causal spectral filter has {taps} taps; input length {n} is longer")
      h = self.param("kernel", logical(_decaying_delta(self.init_std), None, "embed"), (taps, d))
      return causal_conv_fft(xf32, h).astype(x.dtype)

    if self.mode == "fixed":
      points = self._built_size("filter_real", n // 2 + 1)
      if points != n // 2 + 1:
        # N//2+1 bins fit two lengths, 2(bins-1) and 2(bins-1)+1; name both.
        raise ValueError(
          f"fixed spectral filter has {points} frequency bins, built for length "
          f"{2 * (points - 1)} or {2 * points - 1}; got length {n} "
          "(mode='elastic' runs at any length)"
        )
    else:
      points = self.num_freqs
    real_init = nn.initializers.normal(self.init_std)
    if self.filter_init == "identity":
      real_init = _near_one(self.init_std)
    w_r = self.param("filter_real", logical(real_init, None, "embed"), (points, d))
    w_i = self.param(
      "filter_imag", logical(nn.initializers.normal(self.init_std), None, "embed"), (points, d)
    )
    if self.mode == "elastic":
      w_r, w_i = resample_filter(w_r, n // 2 + 1), resample_filter(w_i, n // 2 + 1)
    w = jax.lax.complex(w_r, w_i)
    y = jnp.fft.irfft(jnp.fft.rfft(xf32, axis=-2) * w, n=n, axis=-2)
    return y.astype(x.dtype)

  def _built_size(self, name: str, default: int) -> int:
    """Leading size of an existing parameter (the length it was built for), else `default`."""
    if self.has_variable("params", name):
      return nn.unbox(self.get_variable("params", name)).shape[0]
    return default
