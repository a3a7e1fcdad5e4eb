"""Token mixers against independent oracles: numpy FFTs, direct convolutions, softmax
attention written in numpy, causality and padding perturbations, and parameter formulas.

Every comparison is to something computed outside the module under test, and every
invariance check is paired with a check that the same perturbation does move what it should,
so none of these tests passes for a mixer that ignores its input.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import linen as nn

from fnetlab import mixers
from fnetlab.mixers import attention as attention_lib
from fnetlab.mixers import lsra as lsra_lib
from fnetlab.mixers.worker import worker_positions

D = 16  # feature width used unless a test needs another
GATES = (None, "elementwise", "headwise")


def rand(*shape, seed=0):
  return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


@functools.cache
def fwd(module):
  """`module.apply`, jitted once per (equal) module: one XLA program compiles much faster
  than the op-by-op path, and equal modules share it."""
  return jax.jit(module.apply)


def count(tree) -> int:
  return int(sum(np.size(leaf) for leaf in jax.tree.leaves(nn.unbox(tree))))


def num_params(module, x) -> int:
  """Parameter count from shapes alone (no compile)."""
  return count(jax.eval_shape(module.init, jax.random.PRNGKey(0), jnp.asarray(x)))


def rel_err(y, ref) -> float:
  """Largest absolute error relative to the oracle's largest magnitude."""
  y, ref = np.asarray(y, np.float64), np.asarray(ref, np.float64)
  return float(np.max(np.abs(y - ref)) / max(np.max(np.abs(ref)), 1e-30))


# ----------------------------------------------------------------------------- fourier


@pytest.mark.parametrize("impl", ["fft", "dft", "auto"])
@pytest.mark.parametrize("shape", [(2, 16, 8), (1, 15, 7), (3, 64, 12), (1, 8, 1), (2, 9, 2)])
def test_fourier_equals_numpy_fft2(impl, shape):
  x = rand(*shape)
  y = fwd(mixers.get("fourier", impl=impl))({}, jnp.asarray(x))
  ref = np.fft.fft2(x.astype(np.float64), axes=(-2, -1)).real
  assert y.shape == x.shape and y.dtype == jnp.float32
  assert rel_err(y, ref) < 1e-4


@pytest.mark.parametrize("impl", ["fft", "dft"])
@pytest.mark.parametrize("shape", [(2, 16, 8), (1, 15, 7)])
def test_fourier_gradient_equals_numpy(impl, shape):
  """Re(FFT2) is linear and self-adjoint, so d/dx sum(w * Re FFT2(x)) = Re FFT2(w)."""
  x, w = rand(*shape), rand(*shape, seed=1)
  m = mixers.get("fourier", impl=impl)
  g = jax.jit(jax.grad(lambda x: jnp.sum(jnp.asarray(w) * m.apply({}, x))))(jnp.asarray(x))
  assert rel_err(g, np.fft.fft2(w.astype(np.float64), axes=(-2, -1)).real) < 1e-4


@pytest.mark.parametrize("impl", ["fft", "dft"])
def test_fourier_bf16_in_bf16_out(impl):
  x = jnp.asarray(rand(2, 16, 8)).astype(jnp.bfloat16)
  m = mixers.get("fourier", impl=impl)
  y = fwd(m)({}, x)
  assert y.dtype == jnp.bfloat16
  ref = np.fft.fft2(np.asarray(x, np.float64), axes=(-2, -1)).real
  assert rel_err(y, ref) < 1e-2  # bf16 rounding of the output only


def test_fourier_has_no_params_and_ignores_mask():
  x = jnp.asarray(rand(2, 8, 4))
  m = mixers.get("fourier")
  assert num_params(m, x) == 0
  mask = jnp.array([[True] * 5 + [False] * 3] * 2)
  np.testing.assert_array_equal(fwd(m)({}, x, mask), fwd(m)({}, x))


def test_fourier_refuses_causal_and_unknown_impl():
  with pytest.raises(ValueError, match="causal"):
    mixers.get("fourier", causal=True)
  with pytest.raises(ValueError, match="impl"):
    fwd(mixers.get("fourier", impl="fftw"))({}, jnp.ones((1, 4, 4)))


# ----------------------------------------------------------------------------- spectral


@pytest.mark.parametrize("n", [16, 15])
def test_spectral_fixed_equals_numpy(n, random_init):
  x = rand(2, n, 6)
  mask = np.ones((2, n), bool)
  mask[1, n - 4 :] = False  # padded positions are zeroed before mixing
  m = mixers.get("spectral", mode="fixed")
  params = random_init(m, x, jnp.asarray(mask), scale=0.5)["params"]
  assert params["filter_real"].shape == (n // 2 + 1, 6)
  y = fwd(m)({"params": params}, jnp.asarray(x), jnp.asarray(mask))
  w = np.asarray(params["filter_real"], np.float64) + 1j * np.asarray(params["filter_imag"])
  xm = x.astype(np.float64) * mask[..., None]
  ref = np.fft.irfft(np.fft.rfft(xm, axis=1) * w, n=n, axis=1)
  assert rel_err(y, ref) < 1e-5


def test_spectral_fixed_refuses_other_length(random_init):
  m = mixers.get("spectral", mode="fixed")
  v = random_init(m, rand(1, 16, 4))
  with pytest.raises(ValueError, match=r"built for length 16 or 17; got length 24"):
    fwd(m)(v, jnp.asarray(rand(1, 24, 4)))


def _elastic_oracle(x, params, n):
  bins = n // 2 + 1
  src, dst = np.linspace(0, 1, params["filter_real"].shape[0]), np.linspace(0, 1, bins)

  def resample(w):
    w = np.asarray(w, np.float64)
    return np.stack([np.interp(dst, src, w[:, c]) for c in range(w.shape[1])], axis=1)

  w = resample(params["filter_real"]) + 1j * resample(params["filter_imag"])
  return np.fft.irfft(np.fft.rfft(x.astype(np.float64), axis=1) * w, n=n, axis=1)


def test_spectral_elastic_equals_numpy_at_any_length(random_init):
  m = mixers.get("spectral", mode="elastic", num_freqs=5)
  x16 = rand(2, 16, 4)
  params = random_init(m, x16, scale=0.5)["params"]
  assert params["filter_real"].shape == (5, 4)
  for n in (16, 24, 9):  # built at 16; the same params run at other lengths
    x = rand(2, n, 4, seed=n)
    y = fwd(m)({"params": params}, jnp.asarray(x))
    assert y.shape == x.shape
    assert rel_err(y, _elastic_oracle(x, params, n)) < 1e-5


def _causal_conv(x, h):
  """y_t = sum_{s<=t} h_{t-s} x_s, per channel, written as the double loop."""
  b, n, d = x.shape
  y = np.zeros((b, n, d))
  for t in range(n):
    for s in range(t + 1):
      y[:, t] += h[t - s] * x[:, s]
  return y


def test_spectral_causal_equals_direct_convolution(random_init):
  m = mixers.get("spectral", causal=True)
  params = random_init(m, rand(2, 12, 4), scale=0.5)["params"]
  h = np.asarray(params["kernel"], np.float64)
  assert h.shape == (12, 4)
  for n in (12, 7):  # a shorter input uses the first taps
    x = rand(2, n, 4, seed=n)
    y = fwd(m)({"params": params}, jnp.asarray(x))
    assert rel_err(y, _causal_conv(x.astype(np.float64), h)) < 1e-5
  with pytest.raises(ValueError, match="taps"):
    fwd(m)({"params": params}, jnp.asarray(rand(1, 13, 4)))


# ----------------------------------------------------------------------------- convolutions


def _np_depthwise_conv(u, kernel, left):
  """y[t] = sum_j kernel[j] * u[t + j - left], zero outside [0, n)."""
  b, n, c = u.shape
  y = np.zeros((b, n, c))
  for t in range(n):
    for j in range(kernel.shape[0]):
      s = t + j - left
      if 0 <= s < n:
        y[:, t] += kernel[j] * u[:, s]
  return y


@pytest.mark.parametrize("k", [1, 3, 4])
@pytest.mark.parametrize("causal", [False, True])
def test_lightweight_conv_equals_numpy(k, causal):
  """LSRA's conv: channels in contiguous groups per head share that head's taps; causal means
  left padding k-1 (Lite Transformer's decoder), otherwise centred."""
  u, taps = rand(2, 9, 6), np.abs(rand(3, k, seed=1))  # 3 heads over 6 channels
  y = jax.jit(lsra_lib.lightweight_conv, static_argnums=2)(u, taps, causal)
  per_channel = np.repeat(taps, 2, axis=0).T  # [k, c]: channels 0-1 head 0, 2-3 head 1, ...
  ref = _np_depthwise_conv(u.astype(np.float64), per_channel, k - 1 if causal else (k - 1) // 2)
  assert rel_err(y, ref) < 1e-6


@pytest.mark.parametrize("k", [1, 3, 4])
@pytest.mark.parametrize("causal", [False, True])
def test_dynamic_conv_equals_numpy(k, causal):
  """LSRA's dynamic conv (the released default): every position has its own taps per head,
  y[t, c] = sum_j w[t, head(c), j] * u[t + j - left, c], zero outside the sequence."""
  u, w = rand(2, 9, 6), rand(2, 9, 3, k, seed=1)  # 3 heads over 6 channels
  y = jax.jit(lsra_lib.dynamic_conv, static_argnums=2)(u, w, causal)
  left = k - 1 if causal else (k - 1) // 2
  ref = np.zeros(u.shape)
  for t in range(9):
    for j in range(k):
      s = t + j - left
      if 0 <= s < 9:
        ref[:, t] += np.repeat(w[:, t, :, j], 2, axis=-1) * u[:, s]
  assert rel_err(y, ref) < 1e-6


def test_lsra_released_structures():
  """The released branches: dynamic = Linear(h -> 2h) -> GLU -> dynamic conv (taps from a
  bias-free Linear(h -> heads*k)) -> Linear(h -> h); lightweight = Linear(h -> h) ->
  lightweight conv (heads x k taps) -> Linear(h -> h). The attention half has 4(h² + h)."""
  d, h, heads, k = 16, 8, 2, 3
  x = rand(1, 6, d)
  att = 4 * (h * h + h)
  dyn = mixers.get("lsra", num_heads=2, conv_heads=heads, kernel_size=k)
  assert num_params(dyn, x) == att + (h * 2 * h + 2 * h) + h * heads * k + (h * h + h)
  light = mixers.get("lsra", num_heads=2, conv_heads=heads, kernel_size=k, conv="lightweight")
  assert num_params(light, x) == att + (h * h + h) + heads * k + (h * h + h)
  glu = mixers.get(
    "lsra", num_heads=2, conv_heads=heads, kernel_size=k, conv="lightweight", glu=True
  )
  assert num_params(glu, x) == att + (h * 2 * h + 2 * h) + heads * k + (h * h + h)
  # torch's xavier_uniform_ on a (heads, 1, k) tensor: U(+-sqrt(6 / (k + heads * k))).
  taps = np.asarray(lsra_lib.torch_xavier_taps(jax.random.PRNGKey(0), (4, 31)))
  bound = np.sqrt(6 / (31 + 4 * 31))
  assert np.abs(taps).max() <= bound and np.abs(taps).max() > 0.9 * bound


# ----------------------------------------------------------------------------- attention


def _np_attention(x, p, heads, mask=None, causal=False, gate=None):
  """Softmax attention in float64 numpy from the module's params."""
  x = x.astype(np.float64)
  p = jax.tree.map(lambda a: np.asarray(a, np.float64), p)
  q = np.einsum("bnd,dhk->bnhk", x, p["query"]["kernel"]) + p["query"]["bias"]
  k = np.einsum("bnd,dhk->bnhk", x, p["key"]["kernel"]) + p["key"]["bias"]
  v = np.einsum("bnd,dhk->bnhk", x, p["value"]["kernel"]) + p["value"]["bias"]
  logits = np.einsum("bqhk,bshk->bhqs", q, k) / np.sqrt(q.shape[-1])
  n = x.shape[1]
  allowed = np.ones((x.shape[0], 1, n, n), bool)
  if mask is not None:
    allowed &= mask[:, None, None, :]
  if causal:
    allowed &= np.tril(np.ones((n, n), bool))[None, None]
  logits = np.where(allowed, logits, -np.inf)
  probs = np.exp(logits - logits.max(-1, keepdims=True))
  probs /= probs.sum(-1, keepdims=True)
  ctx = np.einsum("bhqs,bshk->bqhk", probs, v)
  if gate is not None:
    g = np.einsum("bnd,dhk->bnhk", x, p["gate"]["kernel"]) + p["gate"]["bias"]
    ctx = ctx / (1 + np.exp(-g))
  return np.einsum("bqhk,hkd->bqd", ctx, p["out"]["kernel"]) + p["out"]["bias"]


@pytest.mark.parametrize("gate", [None, "elementwise", "headwise"])
@pytest.mark.parametrize("causal,masked", [(False, False), (False, True), (True, False)])
def test_attention_equals_numpy_oracle(gate, causal, masked, random_init):
  x = rand(2, 7, D)
  mask = np.ones((2, 7), bool)
  if masked:
    mask[0, 5:] = False
  m = mixers.get("attention", num_heads=4, gate=gate, causal=causal)
  params = random_init(m, x, scale=0.5)["params"]
  y = fwd(m)({"params": params}, jnp.asarray(x), jnp.asarray(mask) if masked else None)
  ref = _np_attention(x, params, 4, mask if masked else None, causal, gate)
  assert rel_err(y, ref) < 1e-5


@pytest.mark.parametrize(
  "gate,extra", [("elementwise", D * 4 * 4 + 4 * 4), ("headwise", D * 4 + 4)]
)
def test_attention_gate_param_count(gate, extra):
  x = rand(1, 5, D)
  base = num_params(mixers.get("attention", num_heads=4), x)
  assert base == 4 * (D * D + D)  # q, k, v, out kernels and biases
  gated = num_params(mixers.get("attention", num_heads=4, gate=gate), x)
  assert gated - base == extra


@pytest.mark.parametrize("gate", ["elementwise", "headwise"])
def test_attention_closed_gate_leaves_only_output_bias(gate, random_init):
  x = rand(2, 6, D)
  m = mixers.get("attention", num_heads=4, gate=gate)
  params = random_init(m, x, scale=0.5)["params"]
  params["gate"]["bias"] = jnp.full_like(params["gate"]["bias"], -1e4)
  y = fwd(m)({"params": params}, jnp.asarray(x))
  np.testing.assert_allclose(y, np.broadcast_to(params["out"]["bias"], y.shape), atol=1e-6)
  # ... and an open gate does not.
  params["gate"]["bias"] = jnp.zeros_like(params["gate"]["bias"])
  y = fwd(m)({"params": params}, jnp.asarray(x))
  assert np.max(np.abs(np.asarray(y) - np.asarray(params["out"]["bias"]))) > 1e-2


def test_attention_qkv_dim_narrower_than_input(random_init):
  x = rand(2, 5, D)
  m = mixers.get("attention", num_heads=2, qkv_dim=8)
  params = random_init(m, x, scale=0.5)["params"]
  assert params["query"]["kernel"].shape == (D, 2, 4)
  ref = _np_attention(x, params, 2)
  assert rel_err(fwd(m)({"params": params}, jnp.asarray(x)), ref) < 1e-5


@pytest.mark.parametrize("causal,masked", [(False, True), (True, False), (True, True)])
def test_explicit_attention_path_equals_fused(causal, masked):
  """The softmax path used under attention dropout equals the fused op (dropout = identity)."""
  q, k, v = (jnp.asarray(rand(2, 6, 2, 4, seed=s)) for s in range(3))
  mask = np.ones((2, 6), bool)
  mask[1, 4:] = False
  m = jnp.asarray(mask)[:, None, None, :] if masked else None
  fused, explicit = jax.jit(
    lambda *a: (attention_lib.attend(*a, causal), attention_lib.attend(*a, causal, lambda p: p))
  )(q, k, v, m)
  np.testing.assert_allclose(explicit, fused, atol=1e-5)


# ----------------------------------------------------------------------------- causality

CAUSAL = {  # test id -> (registry name, options)
  "attention": ("attention", dict(num_heads=2)),
  "attention_rope_gated": ("attention", dict(num_heads=2, rope=True, gate="headwise")),
  "spectral": ("spectral", dict()),
  "lsra": ("lsra", dict(num_heads=2, conv_heads=2, kernel_size=3)),
  "worker": ("worker", dict(interval=3, num_heads=2)),
  "worker_update_nonworkers": ("worker", dict(interval=3, num_heads=2, update_nonworkers=True)),
  "ff_only": ("ff_only", dict()),
}


def _causal_mixer(key):
  name, options = CAUSAL[key]
  return mixers.get(name, causal=True, **options)


def _leak(module, variables, x, t):
  """Largest change at positions <= t and after t, when inputs after t are replaced by noise;
  relative to the output's scale, so FFT rounding (~1e-7 relative) reads as zero."""
  x2 = x.copy()
  x2[:, t + 1 :] = rand(*x2[:, t + 1 :].shape, seed=99) * 3
  y1 = np.asarray(fwd(module)(variables, jnp.asarray(x)))
  diff = np.abs(y1 - np.asarray(fwd(module)(variables, jnp.asarray(x2))))
  scale = np.max(np.abs(y1))
  return float(np.max(diff[:, : t + 1]) / scale), float(np.max(diff[:, t + 1 :]) / scale)


def test_every_causal_capable_mixer_is_covered():
  covered = {_causal_mixer(k).__class__ for k in CAUSAL}
  assert covered == {mixers.mixer_class(n) for n in mixers.causal_names()}


@pytest.mark.parametrize("key", sorted(CAUSAL))
def test_causal_mixer_ignores_the_future(key, random_init):
  m = _causal_mixer(key)
  x = rand(2, 12, D)
  v = random_init(m, x)
  for t in (0, 4, 10):
    past, future = _leak(m, v, x, t)
    assert past < 1e-6, (key, t, past)
    assert future > 1e-3, (key, t, future)  # the perturbation is real
  if key != "ff_only":  # a mixer mixes: the last output depends on the first input
    x2 = x.copy()
    x2[:, 0] += 1.0
    diff = np.asarray(fwd(m)(v, jnp.asarray(x2)) - fwd(m)(v, jnp.asarray(x)))
    assert np.max(np.abs(diff[:, -1])) > 1e-4


@pytest.mark.parametrize(
  "name,options",
  [
    ("attention", dict(num_heads=2)),
    ("spectral", dict(mode="fixed")),
    ("lsra", dict(num_heads=2, conv_heads=2, kernel_size=3)),
  ],
)
def test_causality_check_catches_noncausal_mixers(name, options, random_init):
  """The perturbation check above can fail: the non-causal forms leak the future."""
  m = mixers.get(name, **options)
  x = rand(2, 12, D)
  assert _leak(m, random_init(m, x), x, 4)[0] > 1e-4


# ----------------------------------------------------------------------------- padding


@pytest.mark.parametrize(
  "name,options,side",
  [
    ("attention", dict(num_heads=2), "right"),
    ("attention", dict(num_heads=2), "left"),
    ("attention", dict(num_heads=2, gate="elementwise", rope=True), "right"),
    ("attention", dict(num_heads=2, causal=True), "left"),
    ("lsra", dict(num_heads=2, conv_heads=2, kernel_size=5), "right"),
    ("lsra", dict(num_heads=2, conv_heads=2, kernel_size=4), "left"),
    ("lsra", dict(num_heads=2, conv_heads=2, kernel_size=4, causal=True), "left"),
  ],
)
def test_padding_does_not_change_real_tokens(name, options, side, random_init):
  """Appending (or, for left-padded batches, prepending) masked positions holding garbage
  leaves the outputs at real tokens unchanged."""
  m = mixers.get(name, **options)
  x = rand(2, 8, D)
  mask = np.ones((2, 8), bool)
  mask[1, 6:] = False  # the second example is already padded
  v = random_init(m, x, jnp.asarray(mask))
  y = np.asarray(fwd(m)(v, jnp.asarray(x), jnp.asarray(mask)))
  garbage, pad_mask = rand(2, 5, D, seed=7) * 10, np.zeros((2, 5), bool)
  if side == "right":
    x_long, mask_long, real = (
      np.concatenate([x, garbage], 1),
      np.concatenate([mask, pad_mask], 1),
      0,
    )
  else:
    x_long, mask_long, real = (
      np.concatenate([garbage, x], 1),
      np.concatenate([pad_mask, mask], 1),
      5,
    )
  y_long = np.asarray(fwd(m)(v, jnp.asarray(x_long), jnp.asarray(mask_long)))
  np.testing.assert_allclose(y_long[0, real : real + 8], y[0], atol=1e-5)
  np.testing.assert_allclose(y_long[1, real : real + 6], y[1, :6], atol=1e-5)
  # Without the mask the garbage does reach the real tokens, so the check has teeth.
  y_nomask = np.asarray(fwd(m)(v, jnp.asarray(x_long)))
  assert np.max(np.abs(y_nomask[0, real : real + 8] - y[0])) > 1e-3


# ----------------------------------------------------------------------------- baselines


@pytest.mark.parametrize("n,d", [(8, 4), (12, 6)])
def test_linear_equals_two_sided_matmul(n, d, random_init):
  m = mixers.get("linear")
  x = rand(2, n, d)
  params = random_init(m, x)["params"]
  assert count(params) == n * n + d * d
  w_len, w_feat = np.asarray(params["length_kernel"]), np.asarray(params["feature_kernel"])
  assert w_len.shape == (n, n) and w_feat.shape == (d, d)
  ref = np.einsum("mn,bnd,de->bme", w_len, x.astype(np.float64), w_feat)
  assert rel_err(fwd(m)({"params": params}, jnp.asarray(x)), ref) < 1e-5


class _TwoRandom(nn.Module):
  @nn.compact
  def __call__(self, x):
    return mixers.get("random", name="a")(x), mixers.get("random", name="b")(x)


def test_random_is_fixed_parameter_free_and_per_layer():
  x = jnp.asarray(rand(2, 8, 4))
  m = _TwoRandom()
  assert num_params(m, x) == 0
  a1, b1 = fwd(m)({}, x)
  a2, b2 = fwd(m)({}, x)
  np.testing.assert_array_equal(a1, a2)  # deterministic between calls
  np.testing.assert_array_equal(b1, b2)
  assert np.max(np.abs(np.asarray(a1 - b1))) > 1e-2  # each layer has its own matrices
  # Linear in x (a fixed matrix product) and actually mixing positions.
  a3, _ = fwd(m)({}, 2 * x)
  np.testing.assert_allclose(a3, 2 * a1, rtol=1e-5, atol=1e-5)
  e0 = np.zeros((2, 8, 4), np.float32)
  e0[:, 0, 0] = 1.0  # one input entry reaches every output entry
  assert np.count_nonzero(np.abs(np.asarray(fwd(m)({}, jnp.asarray(e0))[0][0])) > 1e-6) == 8 * 4


def test_ff_only_is_identity():
  x = jnp.asarray(rand(2, 5, 4))
  m = mixers.get("ff_only")
  assert num_params(m, x) == 0
  np.testing.assert_array_equal(fwd(m)({}, x), x)


# ----------------------------------------------------------------------------- parameter counts


@pytest.mark.parametrize("n", [8, 15, 16, 32])
def test_spectral_param_counts(n):
  x = rand(1, n, D)
  assert num_params(mixers.get("spectral", mode="fixed"), x) == 2 * (n // 2 + 1) * D
  assert num_params(mixers.get("spectral", mode="elastic", num_freqs=7), x) == 2 * 7 * D
  assert num_params(mixers.get("spectral", mode="causal"), x) == n * D


# ----------------------------------------------------------------------------- worker


@pytest.mark.parametrize(
  "length,interval,expected",
  [(10, 4, [3, 7, 9]), (8, 4, [3, 7]), (3, 4, [2]), (5, 1, [0, 1, 2, 3, 4]), (1, 4, [0])],
)
def test_worker_positions(length, interval, expected):
  assert worker_positions(length, interval).tolist() == expected


@pytest.mark.parametrize("update", [False, True])
def test_worker_nonworker_streams(update, random_init):
  m = mixers.get("worker", interval=4, num_heads=2, update_nonworkers=update)
  x = rand(2, 10, D)
  v = random_init(m, x)
  y = np.asarray(fwd(m)(v, jnp.asarray(x)))
  workers = worker_positions(10, 4)
  others = np.setdiff1d(np.arange(10), workers)
  if update:
    assert np.min(np.max(np.abs(y[:, others] - x[:, others]), axis=-1)) > 1e-4
  else:
    np.testing.assert_array_equal(y[:, others], x[:, others])  # the reference's behaviour
  assert np.min(np.max(np.abs(y[:, workers] - x[:, workers]), axis=-1)) > 1e-4


@pytest.mark.parametrize("use_bias", [False, True])
def test_worker_gate_param_count(use_bias):
  """The reference's q/k/v/gate/out have no bias (the default); use_bias=True adds them."""
  x = rand(1, 8, D)
  counts = {
    g: num_params(mixers.get("worker", num_heads=2, gate=g, use_bias=use_bias), x) for g in GATES
  }
  assert counts["elementwise"] - counts[None] == D * D + use_bias * D
  assert counts["headwise"] - counts[None] == D * 2 + use_bias * 2
  biases = 4 * D  # q, k, v, out
  assert num_params(mixers.get("worker", num_heads=2, gate=None, use_bias=True), x) == (
    counts[None] + (0 if use_bias else biases)
  )


# ----------------------------------------------------------------------------- registry errors


def test_unknown_mixer_lists_valid_names():
  with pytest.raises(ValueError, match="unknown mixer 'fnet'") as err:
    mixers.get("fnet")
  for name in mixers.names():
    assert name in str(err.value)


@pytest.mark.parametrize(
  "name,options,match",
  [
    ("fourier", dict(num_heads=2), "num_heads"),
    ("fourier", dict(causal=True), "cannot be causal"),
    ("linear", dict(causal=True), "cannot be causal"),
    ("random", dict(causal=True), "cannot be causal"),
    ("spectral", dict(mode="fixed", causal=True), "mode='fixed' is not causal"),
    ("spectral", dict(mode="elastic", causal=True), "mode='elastic' is not causal"),
    ("attention", dict(kernel_size=3), "kernel_size"),
    ("ff_only", dict(num_heads=2), "num_heads"),
  ],
)
def test_unsupported_options_raise(name, options, match):
  with pytest.raises(ValueError, match=match):
    mixers.get(name, **options)


@pytest.mark.parametrize(
  "name,options,match",
  [
    ("spectral", dict(mode="wavelet"), "mode"),
    ("attention", dict(gate="sometimes"), "gate"),
    ("attention", dict(num_heads=3), "num_heads=3"),  # 16 features do not split into 3
    ("lsra", dict(conv_heads=3), "conv_heads"),
    ("worker", dict(num_heads=3), "num_heads=3"),
  ],
)
def test_bad_option_values_raise_at_call(name, options, match):
  with pytest.raises(ValueError, match=match):
    jax.eval_shape(mixers.get(name, **options).init, jax.random.PRNGKey(0), rand(1, 8, D))


def test_model_plumbing_only_reaches_mixers_that_take_it():
  model = dict(num_heads=4, d_ff=64, dtype=jnp.float32)
  assert mixers.get("attention", model=model).num_heads == 4
  assert mixers.get("attention", model=model, num_heads=2).num_heads == 2
  assert mixers.get("worker", model=model).d_ff == 64
  mixers.get("fourier", model=model)  # no num_heads field: not an error


def test_user_options_and_plumbing_are_disjoint():
  """The written contract (fnetlab/mixers/base.py): plumbing fields are never user options;
  attention_dropout is the attention-probability dropout wherever a mixer has attention, and
  dropout_rate only ever a whole block's residual dropout."""
  plumbing = {"dtype", "init_scheme", "dropout_impl", "num_heads", "causal", "decode"}
  for name in mixers.names():
    assert not mixers.option_names(name) & (plumbing | mixers.MODEL_FIELDS), name
    assert mixers.option_names(name) <= mixers.field_names(name)
  for name in ("attention", "lsra", "worker"):
    assert "attention_dropout" in mixers.field_names(name), name
  assert [n for n in mixers.names() if "dropout_rate" in mixers.field_names(n)] == ["worker"]
  assert mixers.is_block("worker")
  assert mixers.option_names("attention") == {"gate", "kernel"}
  assert mixers.option_names("worker") == {
    "interval",
    "gate",
    "conv_kernel",
    "update_nonworkers",
    "use_bias",
  }
  with pytest.raises(ValueError, match="a model setting \\(model.attention_dropout\\)"):
    mixers.check_options("lsra", {"attention_dropout": 0.1})
