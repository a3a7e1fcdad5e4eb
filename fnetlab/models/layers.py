"""Blocks and embeddings shared by the encoder and decoder.

Two pieces the seeds name but never define are ours to interpret:

- **Fourier features** (`positions='fourier'`): random Fourier features of the position index
  (Tancik et al. 2020), gamma(t) = [sin(w t), cos(w t)] with d/2 fixed frequencies w drawn
  log-uniformly between 2*pi/10000 and pi (Nyquist), followed by a learned Dense to the
  embedding width. The frequencies are constants from a fixed seed, so the features are
  defined at every length; only the projection is learned.
- **Elastic Wave Unit** (`activation='ewu'`): a learnable periodic gated activation,
  EWU(x) = sigmoid(x) * (x + a * sin(w x)) with per-channel a (init 0) and w (init 1). At init
  it is exactly SiLU; training can add a periodic component per channel.
"""

from __future__ import annotations

import numpy as np
from flax import linen as nn
from jax import numpy as jnp

from fnetlab.models.config import ModelSpec
from fnetlab.nn import default_kernel_init, logical
from fnetlab.nn.dropout import Dropout
from fnetlab.nn.inits import dense_init


class ElasticWaveUnit(nn.Module):
  """sigmoid(x) * (x + a sin(w x)), per-channel learnable a and w."""

  @nn.compact
  def __call__(self, x):
    d = x.shape[-1]
    a = self.param("amplitude", logical(nn.initializers.zeros, "mlp"), (d,))
    w = self.param("frequency", logical(nn.initializers.ones, "mlp"), (d,))
    return nn.sigmoid(x) * (x + a.astype(x.dtype) * jnp.sin(w.astype(x.dtype) * x))


def activation(name: str):
  if name == "ewu":
    return ElasticWaveUnit(name="ewu")
  return {
    "gelu": lambda x: nn.gelu(x, approximate=True),  # FNet's gelu_new
    "gelu_exact": lambda x: nn.gelu(x, approximate=False),  # BERT's gelu
    "relu": nn.relu,
  }[name]


def sinusoidal(length: int, dim: int, offset=0) -> jnp.ndarray:
  """The Transformer's fixed sinusoidal table for positions offset..offset+length-1."""
  pos = (jnp.arange(length) + offset)[:, None].astype(jnp.float32)
  inv = jnp.exp(-np.log(10000.0) * jnp.arange(0, dim, 2, dtype=jnp.float32) / dim)
  table = jnp.zeros((length, dim), jnp.float32)
  table = table.at[:, 0::2].set(jnp.sin(pos * inv))
  return table.at[:, 1::2].set(jnp.cos(pos * inv[: dim // 2]))


def fourier_frequencies(dim: int) -> np.ndarray:
  rng = np.random.default_rng(0)
  return np.exp(rng.uniform(np.log(2 * np.pi / 10000.0), np.log(np.pi), size=max(dim // 2, 1)))


class Positions(nn.Module):
  """Position encodings [length, dim]: learned | sinusoidal | fourier | none."""

  kind: str
  max_len: int
  dim: int

  @nn.compact
  def __call__(self, length: int, offset=0):
    if self.kind == "none":
      return jnp.zeros((length, self.dim), jnp.float32)
    if self.kind == "sinusoidal":
      return sinusoidal(length, self.dim, offset)
    pos = jnp.arange(length) + offset
    if self.kind == "fourier":
      ang = pos[:, None].astype(jnp.float32) * jnp.asarray(fourier_frequencies(self.dim))[None]
      feats = jnp.concatenate([jnp.sin(ang), jnp.cos(ang)], axis=-1)
      return nn.Dense(self.dim, kernel_init=logical(default_kernel_init, None, "embed"))(feats)
    if length > self.max_len:
      raise ValueError(f"input length {length} exceeds model.max_len={self.max_len}")
    table = self.param(
      "embedding", logical(nn.initializers.normal(0.02), None, "embed"), (self.max_len, self.dim)
    )
    return jnp.take(table, pos, axis=0)


class FeedForward(nn.Module):
  """Dense(d_ff) -> activation -> [dropout] -> Dense(d) -> dropout.

  f_net's FeedForwardLayer drops only the output; LRA's MlpBlock also drops after the
  activation (`inner_dropout`).
  """

  d_ff: int
  activation: str = "gelu"
  dropout_rate: float = 0.0
  dtype: object = jnp.float32
  init_scheme: str = "fnet"
  inner_dropout: bool = False
  dropout_impl: str = "hash"  # fnetlab/nn/dropout.py

  @nn.compact
  def __call__(self, x, deterministic=True):
    # The FFN is position-wise, so it runs on [positions, features]. On [b, n, f] XLA's CPU
    # backend lowers each weight gradient (a contraction over b and n) with a transposed copy
    # of the activations; flattened, it is one plain matmul: the FF-only step is ~15% faster
    # (docs/performance.md). Dropout's hash mask indexes positions linearly, so it is unchanged.
    shape, d = x.shape, x.shape[-1]
    x = x.reshape(-1, d)
    k_in, b_in = dense_init(self.init_scheme, "ffn_in")
    k_out, b_out = dense_init(self.init_scheme, "ffn_out")
    h = nn.Dense(
      self.d_ff,
      dtype=self.dtype,
      kernel_init=logical(k_in, "embed", "mlp"),
      bias_init=logical(b_in, "mlp"),
      name="intermediate",
    )(x)
    h = activation(self.activation)(h)
    if self.inner_dropout:
      h = Dropout(self.dropout_rate, impl=self.dropout_impl)(h, deterministic=deterministic)
    h = nn.Dense(
      d,
      dtype=self.dtype,
      kernel_init=logical(k_out, "mlp", "embed"),
      bias_init=logical(b_out, "embed"),
      name="output",
    )(h)
    return Dropout(self.dropout_rate, impl=self.dropout_impl)(h, deterministic).reshape(shape)


def layer_norm(spec: ModelSpec, name: str):
  return nn.LayerNorm(
    epsilon=spec.ln_eps,
    dtype=spec.compute_dtype,
    name=name,
    scale_init=logical(nn.initializers.ones, "embed"),
    bias_init=logical(nn.initializers.zeros, "embed"),
  )


def final_norm(spec: ModelSpec, name: str = "final_norm"):
  """The norm after the last pre-LN block: `spec.resolved_final_norm` (LayerNorm, or RMSNorm
  where the mixer's reference model ends with one, the WorkerTransformer)."""
  if spec.resolved_final_norm == "rms":
    return nn.RMSNorm(
      epsilon=spec.ln_eps,
      dtype=spec.compute_dtype,
      name=name,
      scale_init=logical(nn.initializers.ones, "embed"),
    )
  return layer_norm(spec, name)


class Block(nn.Module):
  """Mixer sublayer + FFN sublayer. Knows nothing of the mixer.

  post-LN (f_net): x = LN(x + mix(x)); y = LN(x + FF(x)).
  pre-LN (LRA): x = x + drop(mix(LN(x))); y = x + FF(LN(x)).
  Whether the mixer's output is dropped is `spec.drops_mixer_output` (LRA yes, f_net no), the
  same for every mixer, so only the mixing sublayer differs between models.
  """

  mixer: nn.Module
  spec: ModelSpec

  @nn.compact
  def __call__(self, x, mask=None, deterministic=True):
    spec = self.spec
    rate = spec.dropout_rate if spec.drops_mixer_output else 0.0
    drop = Dropout(rate, impl=spec.dropout_impl)
    ffn = FeedForward(
      spec.d_ff,
      spec.activation,
      spec.dropout_rate,
      spec.compute_dtype,
      spec.init_scheme,
      spec.ffn_inner_dropout,
      dropout_impl=spec.dropout_impl,
      name="ffn",
    )
    if spec.norm == "post":
      x = layer_norm(spec, "mixer_norm")(
        x + drop(self.mixer(x, mask, deterministic), deterministic)
      )
      return layer_norm(spec, "ffn_norm")(x + ffn(x, deterministic))
    h = self.mixer(layer_norm(spec, "mixer_norm")(x), mask, deterministic)
    x = x + drop(h, deterministic)
    return x + ffn(layer_norm(spec, "ffn_norm")(x), deterministic)


def build_blocks(spec: ModelSpec, causal: bool = False, decode: bool = False) -> list[nn.Module]:
  """One block per layer: the mixer chosen by the hybrid layout, injected into a Block, or the
  mixer itself where the mixer is a whole block (the WorkerTransformer layer). Every layer's
  mixer takes the model's plumbing (`ModelSpec.mixer_fields`); the model's own mixer also
  takes the user options `model.mixer_options`."""
  from fnetlab import mixers
  from fnetlab.models.config import layer_mixers

  model = spec.mixer_fields()
  blocks = []
  for i, name in enumerate(layer_mixers(spec)):
    options = dict(spec.mixer_options) if name == spec.mixer else {}
    if decode and "decode" in mixers.field_names(name):
      options["decode"] = True
    if mixers.is_block(name):
      blocks.append(mixers.get(name, model=model, causal=causal, name=f"layer_{i}", **options))
    else:
      mixer = mixers.get(name, model=model, causal=causal, parent=None, **options)
      blocks.append(Block(mixer=mixer, spec=spec, name=f"layer_{i}"))
  return blocks
