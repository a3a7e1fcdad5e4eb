"""FNet Fourier mixing (Lee-Thorp et al., arXiv 2105.03824; google-research `f_net`).

`y = Re(FFT2(x))` over the (length, features) axes of each example: unnormalised, no
parameters, no dropout, no mask (FNet mixes padding in too, as the official code does).

Implementations (`impl=`):
- `fft` (default on CPU/GPU): exploits that x is real. The 2-D spectrum of a real signal is
  conjugate-symmetric, X[n, k] = conj(X[-n mod N, -k mod d]), so one XLA `rfft2` over
  (length, features) gives every X[n, k] with k <= d//2; we keep its real part and rebuild
  the other d - d//2 - 1 columns by Re X[n, k] = Re X[-n mod N, d - k] with slices, reverses
  and a roll (no gather). That halves the FFT work and every complex intermediate compared
  with `fft2(x).real`. The map is linear and self-adjoint (both DFT matrices are
  symmetric), so a custom VJP makes the backward pass the same transform of the cotangent.
- `dft`: the official TPU path, in real arithmetic. With F = C - iS (cosine and sine DFT
  matrices), Re(F_N x F_d) = C_N x C_d - S_N x S_d = [C_N | -S_N] @ [x C_d ; x S_d]: two real
  matmuls, no complex numbers. Matrices are numpy constants built for the traced shape.
- `auto`: `dft` on TPU for length <= 4096 (as the official code chooses), `fft` elsewhere.

What profiling showed (process CPU time on the 2-core Xeon host, x [8, 512, 256] float32, the
LRA Text layer at the performance goal's point, docs/performance.md; `fnetlab bench` gives the whole-step view):
- forward: `fft2(x).real` (complex input) ~7-8 ms; rfft over features then a complex FFT over
  length (`axis=-2`, which XLA runs on transposed copies) ~6.3 ms; one `rfft2` + mirror
  ~4.4 ms, of which ~3 ms is the FFT itself and the rest the real part, mirror and copies.
- forward + backward: JAX's own transpose of that chain ~13-14 ms; the self-adjoint custom
  VJP ~7.5 ms. This was the largest single lever.
- In the whole step XLA ran `real`, a reverse/roll fusion, a separate `concatenate` and the
  residual add after every FFT. Written as pad + select the mirror fuses with all of them
  into one loop that reads the FFT's output (a LayerNorm block's forward + backward: 13.0 ->
  11.0 ms, 2026-11-30); what is left around the transform is that one fusion
  (docs/performance.md).
- The transform itself runs on one core: XLA's CPU FFT (DUCC) uses one thread when called
  from a thread of the intra-op pool, which the thunk runtime always does, and independent
  FFTs are not run concurrently. That single-threaded ~30 ms per step is what keeps the FNet
  step above FF-only's on a 2-core host.
- `dft` costs 3.2 GFLOP per forward at this size (the FFT ~0.1): ~10x slower on CPU, and
  it only wins where matmuls are nearly free (TPU, short sequences), as the paper says.
- A real-to-real trick cannot go lower: Re(FFT2) needs the full length-N transform of the
  d//2+1 half-spectrum columns, which is what `rfft2` already computes.
- XLA CPU flags that keep float32 numerics (`--xla_cpu_use_xnnpack`,
  `--xla_cpu_prefer_vector_width=512`) made no measurable difference to the step.
- XLA's cost analysis counts `rfft2` at about the price of a full complex 2-D FFT, so the
  bench's FLOP column overstates FNet's mixing by ~5x; time and memory are measured.

Departures from the official code: the official FFT path rejects lengths above 4096 that are
not powers of two; XLA's FFT handles any length, so we do not. The FFT is always computed in
float32/complex64, also under bf16 activations, and cast back afterwards. `fourier_fft` has
a custom VJP, so forward-mode differentiation (jax.jvp) goes through `fourier_dft` only.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from flax import linen as nn

from fnetlab.mixers.base import Mixer
from fnetlab.nn.platform import target_platform


def _re_fft2(x: jax.Array) -> jax.Array:
  """Re(FFT2(x)) over the last two axes from the real-input half spectrum (plain jnp)."""
  d, half = x.shape[-1], x.shape[-1] // 2 + 1
  r = jnp.real(jnp.fft.rfft2(x, axes=(-2, -1)))  # [..., n, half]: X[n, k] for k <= d//2
  n_rest = d - half
  if n_rest == 0:
    return r
  # Columns k = half .. d-1 are Re X[-n mod N, d-k], with d-k running n_rest .. 1.
  cols = r[..., 1 : n_rest + 1][..., ::-1]
  # Row n of the result takes row (-n mod N): reverse the rows, then roll them down by one.
  rest = jnp.roll(cols[..., ::-1, :], 1, axis=-2)
  # Both halves padded to width d and picked by column. Unlike a concatenate (which XLA's
  # CPU backend emits as its own copy), pad + select fuse with the real part, the mirror and
  # the caller's residual add into one loop over the output that reads the FFT's result
  # directly (docs/performance.md).
  pad = [(0, 0)] * (x.ndim - 1)
  col = jax.lax.broadcasted_iota(jnp.int32, x.shape, x.ndim - 1)
  return jnp.where(col < half, jnp.pad(r, pad + [(0, n_rest)]), jnp.pad(rest, pad + [(half, 0)]))


@jax.custom_vjp
def fourier_fft(x: jax.Array) -> jax.Array:
  """Re(FFT2(x)) over the last two axes; its gradient is the same transform of the cotangent.

  The map x -> Re(F_N x F_d) is linear and self-adjoint (both DFT matrices are symmetric:
  the adjoint is C_N g C_d - S_N g S_d = Re(F_N g F_d)), so the backward pass is one more
  forward transform instead of JAX's transposes of concat, roll, real and rfft2.
  Forward-mode differentiation (jax.jvp) is not defined for it; `fourier_dft` has it.
  """
  return _re_fft2(x)


fourier_fft.defvjp(lambda x: (_re_fft2(x), None), lambda _, g: (_re_fft2(g),))


def dft_matrices(n: int) -> tuple[np.ndarray, np.ndarray]:
  """Cosine and sine DFT matrices (F = C - iS), computed in float64, returned float32."""
  idx = np.arange(n)
  # Reduce the integer product mod n first, so large n keeps full angular precision.
  angle = 2.0 * np.pi * (np.outer(idx, idx) % n) / n
  return np.cos(angle).astype(np.float32), np.sin(angle).astype(np.float32)


def fourier_dft(x: jax.Array) -> jax.Array:
  """Re(FFT2(x)) over the last two axes with two real matmuls (see module docstring)."""
  n, d = x.shape[-2], x.shape[-1]
  c_d, s_d = dft_matrices(d)
  c_n, s_n = dft_matrices(n)
  cs = jnp.asarray(np.concatenate([c_d, s_d], axis=1))  # [d, 2d]
  xcs = jnp.matmul(x, cs, precision=jax.lax.Precision.HIGHEST)  # [..., n, 2d]
  stacked = jnp.concatenate([xcs[..., :d], xcs[..., d:]], axis=-2)  # [..., 2n, d]
  left = jnp.asarray(np.concatenate([c_n, -s_n], axis=1))  # [n, 2n]
  return jnp.matmul(left, stacked, precision=jax.lax.Precision.HIGHEST)


# On TPU, `auto` takes the DFT matmuls up to this length, as the official code chooses: the
# MXU runs the two [N, N] and [d, d] complex matmuls at its matmul peak, while an FFT is not
# an MXU operation; above it the O(N^2 d) matmul FLOPs outgrow the O(N d log N) FFT.
DFT_MAX_LEN = 4096


def choose_impl(impl: str, length: int) -> str:
  """Resolves `auto` by the target platform (the traced program's mesh, else the default
  backend) and length; validates the name."""
  if impl not in ("fft", "dft", "auto"):
    raise ValueError(f"fourier impl must be one of fft, dft, auto; got {impl!r}")
  if impl != "auto":
    return impl
  return "dft" if target_platform() == "tpu" and length <= DFT_MAX_LEN else "fft"


class FourierMixer(Mixer):
  """FNet mixing sublayer: Re(FFT2) over (length, features). Parameter-free."""

  impl: str = "fft"  # fft | dft | auto

  @nn.compact
  def __call__(self, x, mask=None, deterministic=True):
    del mask, deterministic  # FNet's mixing has no mask and no dropout.
    impl = choose_impl(self.impl, x.shape[-2])
    fn = fourier_fft if impl == "fft" else fourier_dft
    return fn(x.astype(jnp.float32)).astype(x.dtype)
