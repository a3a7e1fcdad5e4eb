"""Shared pytest set-up: fast XLA compiles on CPU, a tiny model spec, and random variables.

The suite compiles many tiny programs and runs each once, so compile time dominates:
`jax_disable_most_optimizations` skips most XLA passes (about 2x faster compiles here), and
the tests compare against numpy oracles at float32 tolerances, which unoptimised programs
meet just as well. It is also set in the environment, so the `fnetlab` subprocesses the CLI
tests start (each compiling a train step, an eval step and a checkpoint round trip) inherit
it: about 1.7x faster for those tests here.

`jax_default_matmul_precision = "highest"`: the oracles are float64/numpy at float32
tolerances, and on a GPU the default float32 matmul is TF32 (about 1e-3 relative error), so
tests ask for full float32 on every backend. Training keeps the fast default
(docs/accelerators.md). On CPU the default is already full float32: no cost here.
"""

from __future__ import annotations

import dataclasses
import os

os.environ.setdefault("JAX_DISABLE_MOST_OPTIMIZATIONS", "1")  # before jax reads its flags

import jax  # noqa: E402
import jax.numpy as jnp
import numpy as np
import pytest
from flax import linen as nn

from fnetlab.common.platforms import default_platforms  # noqa: E402

default_platforms()  # with libtpu installed: no TPU start-up attempt on a host without one
jax.config.update("jax_disable_most_optimizations", True)
jax.config.update("jax_default_matmul_precision", "highest")


@pytest.fixture
def tiny_spec():
  """Returns a builder of tiny ModelSpecs (d=16, 1 layer, no dropout); overrides win, and
  `mixer_options` may be given as a dict."""
  from fnetlab.models import ModelSpec

  base = ModelSpec(
    mixer="fourier",
    num_layers=1,
    d_model=16,
    d_ff=32,
    num_heads=2,
    vocab_size=37,
    type_vocab_size=4,
    max_len=32,
    dropout_rate=0.0,
  )

  def make(**overrides):
    opts = overrides.pop("mixer_options", None)
    if opts is not None:
      overrides["mixer_options"] = tuple(sorted(dict(opts).items()))
    return dataclasses.replace(base, **overrides)

  return make


def random_variables(module, *args, seed=0, scale=0.3, **kwargs):
  """Variables for `module` with every parameter drawn from numpy: N(0, scale²), LayerNorm
  scales 1 + N(0, scale²), caches zero. The shapes come from `jax.eval_shape(init)`, so
  nothing is compiled; oracle tests then check the formula at generic parameter values
  rather than at an initialisation that may hide a term (identity filters, zero biases)."""
  shapes = nn.unbox(jax.eval_shape(module.init, jax.random.PRNGKey(0), *args, **kwargs))
  rng = np.random.default_rng(seed)

  def fill(path, leaf):
    keys = jax.tree_util.keystr(path)
    if keys.startswith("['cache']") or not jnp.issubdtype(leaf.dtype, jnp.floating):
      return jnp.zeros(leaf.shape, leaf.dtype)
    base = 1.0 if keys.endswith("['scale']") else 0.0
    return jnp.asarray(base + scale * rng.standard_normal(leaf.shape), leaf.dtype)

  return jax.tree_util.tree_map_with_path(fill, shapes)


@pytest.fixture
def random_init():
  """`random_variables` as a fixture (see its docstring)."""
  return random_variables


@pytest.fixture
def snapshot():
  """A function: folder -> {relative path: (bytes, mtime_ns)} of every file under it, to
  assert that a command left a folder untouched."""

  def take(folder):
    out = {}
    for base, _, names in os.walk(folder):
      for name in names:
        p = os.path.join(base, name)
        with open(p, "rb") as f:
          out[os.path.relpath(p, folder)] = (f.read(), os.stat(p).st_mtime_ns)
    return out

  return take
