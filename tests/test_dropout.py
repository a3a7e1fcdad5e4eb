"""fnetlab.nn.Dropout: the hash mask keeps dropout's statistics; 'threefry' is flax's own.

Statistical bounds are 5 standard deviations of the binomial / null-correlation sampling
error, so a correct mask fails with probability ~1e-6 per check, and a mask with a bias or
correlation of a few 1e-3 fails. Every check uses fixed seeds: the tests are deterministic.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import linen as nn

from fnetlab.nn import dropout as dropout_lib
from fnetlab.nn.dropout import Dropout, hash_bits, keep_mask

KEY = jax.random.PRNGKey(0)
SHAPE = (8, 128, 256)  # 262,144 positions


def corr(a, b) -> float:
  a, b = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
  a, b = a - a.mean(), b - b.mean()
  return float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum()))


def null_bound(n: int) -> float:
  """5 sigma of the sample correlation of two independent series of length n."""
  return 5.0 / np.sqrt(n)


@pytest.mark.parametrize("rate", [0.1, 0.3, 0.5, 0.9])
def test_keep_fraction_within_binomial_tolerance(rate):
  for seed in range(3):
    mask = np.asarray(keep_mask(jax.random.PRNGKey(seed), SHAPE, rate))
    n, p = mask.size, 1.0 - rate
    assert abs(mask.mean() - p) < 5 * np.sqrt(p * (1 - p) / n), (seed, mask.mean())


def test_hash_is_a_bijection_of_the_counter():
  """Distinct positions get distinct hashes (fmix32 and the key mixing are bijections), which
  is what makes the keep count over 2^32 positions exact."""
  bits = np.asarray(hash_bits(jnp.asarray([123, 456], jnp.uint32), (1 << 20,)))
  assert np.unique(bits).size == bits.size
  # ... and the high bit, the one the threshold reads first, is balanced.
  assert abs((bits >> 31).mean() - 0.5) < 5 * 0.5 / np.sqrt(bits.size)


@pytest.mark.parametrize("rate", [0.1, 0.25, 0.9])
def test_threshold_gives_the_exact_keep_probability(monkeypatch, rate):
  """keep_mask's threshold and comparison, on a hash replaced by 2^16 evenly spaced uint32
  values: the kept fraction is 1 - rate to within the spacing (2^-16)."""
  even = lambda seed, shape: jnp.arange(2**16, dtype=jnp.uint32) << 16
  monkeypatch.setattr(dropout_lib, "hash_bits", even)
  mask = np.asarray(keep_mask(KEY, (2**16,), rate))
  assert abs(mask.mean() - (1 - rate)) <= 2**-16


@pytest.mark.parametrize("lag", [1, 2, 3, 8, 255, 256, 257, 4096])
def test_no_correlation_between_neighbours(lag):
  mask = np.asarray(keep_mask(KEY, SHAPE, 0.5)).ravel()
  n = mask.size - lag
  assert abs(corr(mask[:-lag], mask[lag:])) < null_bound(n)


def test_no_correlation_along_each_axis():
  mask = np.asarray(keep_mask(KEY, SHAPE, 0.5))
  for axis in range(mask.ndim):
    a = np.take(mask, range(mask.shape[axis] - 1), axis=axis)
    b = np.take(mask, range(1, mask.shape[axis]), axis=axis)
    assert abs(corr(a, b)) < null_bound(a.size), axis


class TwoLayers(nn.Module):
  @nn.compact
  def __call__(self, x, deterministic=False):
    a = Dropout(0.5, name="layer_0")(x, deterministic)
    b = Dropout(0.5, name="layer_1")(x, deterministic)
    return a, b


def masks(step: int):
  """The two layers' masks at train step `step`, with the trainer's fold_in(rng, step)."""
  x = jnp.ones(SHAPE)
  rng = jax.random.fold_in(KEY, step)
  a, b = TwoLayers().apply({}, x, rngs={"dropout": rng})
  return np.asarray(a) != 0, np.asarray(b) != 0


def test_independent_across_layers_and_steps():
  a0, b0 = masks(0)
  a1, b1 = masks(1)
  bound = null_bound(a0.size)
  for u, v in [(a0, b0), (a0, a1), (b0, b1), (a0, b1)]:
    assert abs(corr(u, v)) < bound
    # A shifted copy of the same stream would show up as a correlation at some lag.
    for lag in (1, 17, 256):
      assert abs(corr(u.ravel()[:-lag], v.ravel()[lag:])) < bound


def test_same_rng_same_mask_and_resume_determinism():
  a0, b0 = masks(3)
  a1, b1 = masks(3)
  np.testing.assert_array_equal(a0, a1)
  np.testing.assert_array_equal(b0, b1)
  assert (masks(4)[0] != a0).any()


def test_kept_values_scaled_and_mean_preserved():
  rate = 0.1
  x = jax.random.normal(jax.random.PRNGKey(1), SHAPE) + 3.0
  y = np.asarray(Dropout(rate).apply({}, x, deterministic=False, rngs={"dropout": KEY}))
  xs = np.asarray(x)
  kept = y != 0
  np.testing.assert_allclose(y[kept], xs[kept] / (1 - rate), rtol=1e-6)
  # E[y] = E[x]: the sampling error of mean(y) - mean(x) is ~ sqrt(rate/(1-rate)) * rms(x)/sqrt(n).
  err = np.sqrt(rate / (1 - rate)) * np.sqrt((xs**2).mean()) / np.sqrt(xs.size)
  assert abs(y.mean() - xs.mean()) < 5 * err


def test_deterministic_and_rate_zero_are_identity():
  x = jax.random.normal(KEY, (4, 8))
  np.testing.assert_array_equal(Dropout(0.5).apply({}, x, deterministic=True), x)
  np.testing.assert_array_equal(Dropout(0.5, deterministic=True).apply({}, x), x)
  np.testing.assert_array_equal(
    Dropout(0.0).apply({}, x, deterministic=False, rngs={"dropout": KEY}), x
  )
  y = Dropout(1.0).apply({}, x, deterministic=False, rngs={"dropout": KEY})
  np.testing.assert_array_equal(y, np.zeros_like(x))


def test_gradient_masks_the_same_positions():
  rate = 0.25
  x = jax.random.normal(KEY, (64, 64)) + 2.0  # no exact zeros in x
  w = jax.random.normal(jax.random.PRNGKey(2), (64, 64))

  def f(x):
    return (Dropout(rate).apply({}, x, deterministic=False, rngs={"dropout": KEY}) * w).sum()

  y = np.asarray(Dropout(rate).apply({}, x, deterministic=False, rngs={"dropout": KEY}))
  g = np.asarray(jax.grad(f)(x))
  kept = y != 0
  np.testing.assert_array_equal(g[~kept], 0.0)
  np.testing.assert_allclose(g[kept], np.asarray(w)[kept] / (1 - rate), rtol=1e-6)
  # Under jit the backward pass recomputes the mask; it must be the same one.
  np.testing.assert_array_equal(np.asarray(jax.jit(jax.grad(f))(x)) != 0, kept)


def test_broadcast_dims_share_the_mask():
  x = jnp.ones((4, 32, 16))
  y = np.asarray(
    Dropout(0.5, broadcast_dims=(1,)).apply({}, x, deterministic=False, rngs={"dropout": KEY})
  )
  assert (y == y[:, :1, :]).all()
  assert 0 < (y != 0).mean() < 1


def test_high_counter_path(monkeypatch):
  """Arrays with more than 2^32 positions index the leading dims with a second counter; the
  path is exercised here with the limit lowered to 2^10."""
  monkeypatch.setattr(dropout_lib, "_COUNTER_LIMIT", 2**10)
  bits = np.asarray(hash_bits(jnp.asarray([7, 9], jnp.uint32), (256, 32, 32)))
  for row in bits[:4]:  # for fixed hi, lo -> hash is still a bijection
    assert np.unique(row).size == row.size
  mask = bits >= np.uint32(2**31)
  assert abs(mask.mean() - 0.5) < 5 * 0.5 / np.sqrt(mask.size)
  flat = mask.reshape(256, -1)
  assert abs(corr(flat[:-1], flat[1:])) < null_bound(flat[1:].size)  # across the hi counter


def test_threefry_impl_is_flax_dropout():
  x = jax.random.normal(KEY, SHAPE)
  ours = Dropout(0.1, impl="threefry").apply({}, x, deterministic=False, rngs={"dropout": KEY})
  flax_ = nn.Dropout(0.1).apply({}, x, deterministic=False, rngs={"dropout": KEY})
  np.testing.assert_array_equal(ours, flax_)


def test_unknown_impl_is_refused():
  with pytest.raises(ValueError, match="hash, threefry"):
    Dropout(0.1, impl="philox").apply({}, jnp.ones(4), deterministic=False, rngs={"dropout": KEY})


EIGHT_DEVICES = textwrap.dedent(
  """
  import jax, jax.numpy as jnp, numpy as np
  from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
  from fnetlab.nn.dropout import Dropout
  assert jax.device_count() == 8
  x = jax.random.normal(jax.random.PRNGKey(1), (8, 64, 32))
  f = lambda x: Dropout(0.3).apply({}, x, deterministic=False, rngs={"dropout": jax.random.PRNGKey(5)})
  one = np.asarray(jax.jit(f)(jax.device_put(x, jax.devices()[0])))
  mesh = Mesh(np.asarray(jax.devices()).reshape(4, 2), ("data", "fsdp"))
  for spec in (P("data"), P("data", "fsdp"), P(None, None, ("data", "fsdp"))):
    s = NamedSharding(mesh, spec)
    eight = jax.jit(f, in_shardings=s, out_shardings=s)(jax.device_put(x, s))
    assert len(eight.sharding.device_set) == 8
    np.testing.assert_array_equal(np.asarray(eight), one)
  # A whole model with dropout in every layer (embeddings, FFNs, attention probabilities):
  # the batch sharded over 8 devices draws the same masks as one device.
  from fnetlab.models import Classifier, ModelSpec
  spec = ModelSpec(mixer="attention", num_layers=2, d_model=16, d_ff=32, num_heads=2,
                   vocab_size=37, max_len=16, dropout_rate=0.3, attention_dropout=0.3)
  model = Classifier(spec)
  ids = jax.random.randint(jax.random.PRNGKey(2), (8, 16), 0, 37)
  params = model.init(jax.random.PRNGKey(0), {"inputs": ids})
  g = lambda p, ids: model.apply(p, {"inputs": ids}, deterministic=False,
                                 rngs={"dropout": jax.random.PRNGKey(3)})
  one = np.asarray(jax.jit(g)(params, ids))
  s = NamedSharding(mesh, P(("data", "fsdp")))
  eight = jax.jit(g, in_shardings=(None, s))(params, jax.device_put(ids, s))
  np.testing.assert_allclose(np.asarray(eight), one, rtol=1e-5, atol=1e-6)
  assert not np.allclose(np.asarray(jax.jit(g)(params, ids[::-1]))[::-1], one)  # masks differ by row
  print("ok")
  """
)


def test_eight_devices_draw_the_one_device_mask():
  env = dict(os.environ, JAX_PLATFORMS="cpu", XLA_FLAGS="--xla_force_host_platform_device_count=8")
  proc = subprocess.run(
    [sys.executable, "-c", EIGHT_DEVICES], env=env, capture_output=True, text=True, timeout=120
  )
  assert proc.returncode == 0 and "ok" in proc.stdout, proc.stderr[-2000:]
