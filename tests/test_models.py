"""Models against closed-form parameter counts, a numpy forward pass, causality and padding
perturbations, and the KV-cache decoder against the full-sequence decoder.

All models are tiny (d=16, 1-2 layers, length <= 32) so the file runs in seconds on CPU.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import linen as nn

from fnetlab import mixers
from fnetlab.common.errors import UserError
from fnetlab.models import (
  Classifier,
  Decoder,
  EncoderModel,
  ModelSpec,
  Pretrainer,
  layer_mixers,
  spec_from_config,
  supports_decode,
)
from fnetlab.models.layers import ElasticWaveUnit

# Options that make each mixer fit d=16 with 2 heads; everything else is the mixer's default.
MIXER_OPTIONS = {
  "lsra": dict(conv_heads=2, kernel_size=3),
  "worker": dict(interval=3),
  "spectral": dict(num_freqs=5),
}


@functools.cache
def fwd(model, **kw):
  return jax.jit(functools.partial(model.apply, **kw))


@functools.cache
def _jit_init(model):
  return jax.jit(model.init)


def init(model, batch):
  return nn.unbox(_jit_init(model)(jax.random.PRNGKey(0), batch))


def count(tree) -> int:
  return int(sum(np.size(leaf) for leaf in jax.tree.leaves(nn.unbox(tree))))


def num_params(model, batch) -> int:
  """Parameter count from shapes alone (no compile)."""
  return count(jax.eval_shape(model.init, jax.random.PRNGKey(0), batch)["params"])


def ids(batch, length, vocab=37, seed=0):
  return jnp.asarray(np.random.default_rng(seed).integers(0, vocab, (batch, length)), jnp.int32)


def rel_max_diff(a, b) -> float:
  a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
  return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-30))


def with_options(spec_fn, mixer, **kw):
  opts = {**MIXER_OPTIONS.get(mixer, {}), **kw.pop("mixer_options", {})}
  return spec_fn(mixer=mixer, mixer_options=opts, **kw)


# ----------------------------------------------------------------------------- param counts


def classifier_params(s: ModelSpec, layer_mixer_params: list[int]) -> int:
  """Closed form: embeddings + blocks (mixer, 2 LNs, FFN) + pooler + head."""
  e, d, f = s.embed_dim, s.d_model, s.d_ff
  emb = s.vocab_size * e + s.type_vocab_size * e + 2 * e + (e * d + d)
  emb += {"learned": s.max_len * e, "sinusoidal": 0, "none": 0}[s.positions]
  block = 2 * d + (d * f + f) + (f * d + d) + 2 * d
  final = 2 * d if s.norm == "pre" else 0
  pooler = d * d + d
  head = d * s.num_classes + s.num_classes
  return emb + sum(block + m for m in layer_mixer_params) + final + pooler + head


@pytest.mark.parametrize("positions", ["learned", "sinusoidal"])
@pytest.mark.parametrize("norm", ["post", "pre"])
def test_classifier_param_count(tiny_spec, positions, norm):
  d = 16
  attention = 4 * (d * d + d)  # q, k, v [d, heads, head_dim] + out [heads, head_dim, d], biases
  batch = {"inputs": ids(2, 8)}
  for layout, mixer_params in [
    (dict(mixer="fourier"), [0, 0]),
    (dict(mixer="attention"), [attention, attention]),
    (dict(mixer="fourier", hybrid="top", hybrid_layers=1), [0, attention]),
    (dict(mixer="random"), [0, 0]),
    (dict(mixer="ff_only"), [0, 0]),
    (dict(mixer="linear"), [8 * 8 + d * d] * 2),  # N² + d² per layer, N = 8
  ]:
    spec = tiny_spec(num_layers=2, positions=positions, norm=norm, num_classes=3, **layout)
    assert num_params(Classifier(spec), batch) == classifier_params(spec, mixer_params), layout


def test_classifier_param_count_with_embedding_width(tiny_spec):
  spec = tiny_spec(d_embed=8)
  assert num_params(Classifier(spec), {"inputs": ids(2, 8)}) == classifier_params(spec, [0])


@pytest.mark.parametrize("n1,n2", [(16, 24), (15, 32)])
def test_spectral_fixed_grows_with_length_elastic_does_not(tiny_spec, n1, n2):
  counts = {}
  for mode in ("fixed", "elastic"):
    spec = with_options(
      tiny_spec, "spectral", num_layers=2, positions="sinusoidal", mixer_options=dict(mode=mode)
    )
    counts[mode] = [num_params(Classifier(spec), {"inputs": ids(1, n)}) for n in (n1, n2)]
  growth = 2 * ((n2 // 2 + 1) - (n1 // 2 + 1)) * 16  # per layer
  assert counts["fixed"][1] - counts["fixed"][0] == 2 * growth
  assert counts["elastic"][0] == counts["elastic"][1]
  spec = tiny_spec(num_layers=2, positions="sinusoidal")
  assert counts["elastic"][0] - num_params(Classifier(spec), {"inputs": ids(1, n1)}) == (
    2 * 2 * 5 * 16
  )


def test_decoder_param_count(tiny_spec):
  s = tiny_spec(mixer="attention", num_layers=2, norm="pre")
  d, f, v = s.d_model, s.d_ff, s.vocab_size
  block = 4 * (d * d + d) + 2 * d + (d * f + f) + (f * d + d) + 2 * d
  expected = v * d + s.max_len * d + 2 * block + 2 * d + (d * v + v)
  assert num_params(Decoder(s), {"inputs": ids(1, 8)}) == expected


def test_pretrainer_mlm_decoder_is_tied(tiny_spec):
  spec = tiny_spec()
  batch = {"inputs": ids(2, 8), "mlm_positions": jnp.array([[1, 3], [0, 7]])}
  e, d, v = spec.embed_dim, spec.d_model, spec.vocab_size
  # Pretrainer = Classifier backbone + mlm dense + mlm LN + mlm bias + nsp; no decoder kernel.
  expected = classifier_params(spec, [0]) - (d * 2 + 2) + (d * e + e) + 2 * e + v + (d * 2 + 2)
  assert num_params(Pretrainer(spec), batch) == expected


# ----------------------------------------------------------------------------- numpy forward


def _np_layer_norm(x, p, eps):
  mu = x.mean(-1, keepdims=True)
  var = ((x - mu) ** 2).mean(-1, keepdims=True)
  return (x - mu) / np.sqrt(var + eps) * p["scale"] + p["bias"]


def _np_gelu(x):
  return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))


def _np_dense(x, p):
  return x @ p["kernel"] + p["bias"]


def test_fnet_classifier_equals_numpy_forward(tiny_spec, random_init):
  """The whole FNet classifier (post-LN) recomputed in float64 numpy from its params."""
  spec = tiny_spec(num_layers=2, ln_eps=1e-6)
  batch = {"inputs": ids(2, 10), "type_ids": ids(2, 10, vocab=4, seed=3)}
  model = Classifier(spec)
  params = random_init(model, batch)["params"]
  logits = fwd(model)({"params": params}, batch)
  p = jax.tree.map(lambda a: np.asarray(a, np.float64), params)
  emb = p["backbone"]["encoder"]["embeddings"]
  tok, typ = np.asarray(batch["inputs"]), np.asarray(batch["type_ids"])
  x = (
    emb["word"]["embedding"][tok]
    + emb["position"]["embedding"][:10]
    + emb["type"]["embedding"][typ]
  )
  x = _np_dense(_np_layer_norm(x, emb["norm"], 1e-6), emb["projection"])
  for i in range(2):
    lp = p["backbone"]["encoder"][f"layer_{i}"]
    x = _np_layer_norm(x + np.fft.fft2(x, axes=(-2, -1)).real, lp["mixer_norm"], 1e-6)
    ff = _np_dense(_np_gelu(_np_dense(x, lp["ffn"]["intermediate"])), lp["ffn"]["output"])
    x = _np_layer_norm(x + ff, lp["ffn_norm"], 1e-6)
  pooled = np.tanh(_np_dense(x[:, 0], p["backbone"]["pooler"]["dense"]))
  ref = _np_dense(pooled, p["head"]["logits"])
  assert rel_max_diff(logits, ref) < 1e-4


def test_elastic_wave_unit_is_silu_at_init_and_matches_formula():
  x = jnp.asarray(np.random.default_rng(0).standard_normal((3, 8)) * 3, jnp.float32)
  ewu = ElasticWaveUnit()
  params = init(ewu, x)["params"]
  np.testing.assert_allclose(fwd(ewu)({"params": params}, x), jax.nn.silu(x), atol=1e-6)
  rng = np.random.default_rng(1)
  a, w = rng.standard_normal(8).astype(np.float32), rng.standard_normal(8).astype(np.float32)
  y = fwd(ewu)({"params": {"amplitude": a, "frequency": w}}, x)
  xn = np.asarray(x, np.float64)
  ref = (xn + a * np.sin(w * xn)) / (1 + np.exp(-xn))
  np.testing.assert_allclose(y, ref, atol=1e-5)


def test_ewu_activation_selectable_in_model(tiny_spec):
  spec = tiny_spec(activation="ewu")
  params = jax.eval_shape(Classifier(spec).init, jax.random.PRNGKey(0), {"inputs": ids(1, 4)})
  ffn = nn.unbox(params)["params"]["backbone"]["encoder"]["layer_0"]["ffn"]
  assert ffn["ewu"]["amplitude"].shape == (spec.d_ff,)


# ----------------------------------------------------------------------------- positions


def test_fourier_positions_run_beyond_max_len(tiny_spec, random_init):
  """Fourier features are defined at every position: a model built with max_len=8 runs at 24,
  and (with a mixer that does not mix) the first 8 outputs do not depend on what follows."""
  spec = tiny_spec(positions="fourier", max_len=8, mixer="ff_only")
  model = EncoderModel(spec)
  short = ids(1, 8)
  params = random_init(model, short)
  long = jnp.concatenate([short, ids(1, 16, seed=5)], axis=1)
  out = fwd(model)(params, long)["sequence_output"]
  assert out.shape == (1, 24, 16) and np.all(np.isfinite(out))
  np.testing.assert_allclose(out[:, :8], fwd(model)(params, short)["sequence_output"], atol=1e-5)
  # The position signal is real: the same token at two positions embeds differently.
  same = jnp.zeros((1, 24), jnp.int32)
  emb = np.asarray(fwd(model)(params, same)["sequence_output"])
  assert np.min(np.max(np.abs(emb[0, 1:] - emb[0, :1]), axis=-1)) > 1e-3


def test_learned_positions_refuse_beyond_max_len(tiny_spec, random_init):
  spec = tiny_spec(max_len=8)
  model = EncoderModel(spec)
  params = random_init(model, ids(1, 8))
  with pytest.raises(ValueError, match="max_len"):
    fwd(model)(params, ids(1, 9))


# ----------------------------------------------------------------------------- shapes


@pytest.mark.parametrize("mixer", mixers.names())
def test_every_mixer_runs_in_classifier(tiny_spec, mixer):
  spec = with_options(tiny_spec, mixer, num_classes=3, dropout_rate=0.2)
  batch = {"inputs": ids(2, 12), "mask": jnp.ones((2, 12), bool)}
  model = Classifier(spec)

  @jax.jit
  def run(b, key, rng):  # one compile: the real initialisers, the eval and dropout paths
    variables = model.init(key, b)
    train = model.apply(variables, b, deterministic=False, rngs={"dropout": rng})
    return model.apply(variables, b), train

  logits, dropped = run(batch, jax.random.PRNGKey(0), jax.random.PRNGKey(1))
  assert logits.shape == dropped.shape == (2, 3)
  assert np.all(np.isfinite(logits)) and np.all(np.isfinite(dropped))
  assert np.max(np.abs(np.asarray(dropped - logits))) > 1e-6  # dropout is live in training


@pytest.mark.parametrize("mixer", mixers.names())
def test_decoder_accepts_exactly_the_causal_mixers(tiny_spec, mixer):
  spec = with_options(tiny_spec, mixer, norm="pre")
  batch = {"inputs": ids(2, 12)}
  if mixer not in mixers.causal_names():
    with pytest.raises(ValueError, match="cannot be causal"):
      jax.eval_shape(Decoder(spec).init, jax.random.PRNGKey(0), batch)
    return
  shapes = jax.eval_shape(
    lambda: Decoder(spec).apply(Decoder(spec).init(jax.random.PRNGKey(0), batch), batch)
  )
  assert shapes.shape == (2, 12, spec.vocab_size)


# ----------------------------------------------------------------------------- causality


@pytest.mark.parametrize(
  "mixer,extra",
  [
    ("attention", {}),
    ("attention", dict(rope=True, mixer_options=dict(gate="elementwise"), positions="none")),
    ("spectral", {}),
    ("lsra", {}),
    ("worker", dict(positions="none")),
    ("worker", dict(mixer_options=dict(update_nonworkers=True))),
    ("ff_only", {}),
    ("spectral", dict(hybrid="bottom", hybrid_layers=1)),
  ],
)
def test_decoder_is_causal(tiny_spec, mixer, extra, random_init):
  spec = with_options(tiny_spec, mixer, num_layers=2, norm="pre", **extra)
  model = Decoder(spec)
  x = ids(2, 16)
  params = random_init(model, {"inputs": x})
  run = fwd(model)
  y = np.asarray(run(params, {"inputs": x}))
  for t in (0, 6, 13):
    x2 = x.at[:, t + 1 :].set((x[:, t + 1 :] + 1 + t) % spec.vocab_size)
    y2 = np.asarray(run(params, {"inputs": x2}))
    scale = np.max(np.abs(y))
    assert np.max(np.abs(y2[:, : t + 1] - y[:, : t + 1])) / scale < 1e-6, t
    assert np.max(np.abs(y2[:, t + 1 :] - y[:, t + 1 :])) / scale > 1e-4, t
  if mixer != "ff_only":  # it mixes: the last logits depend on the first token
    x3 = x.at[:, 0].set((x[:, 0] + 1) % spec.vocab_size)
    assert np.max(np.abs(np.asarray(run(params, {"inputs": x3}))[:, -1] - y[:, -1])) > 1e-6


def test_causal_encoder(tiny_spec, random_init):
  """`causal=True` on an encoder spec makes its layers causal (and is refused by FNet)."""
  spec = tiny_spec(mixer="attention", causal=True, num_layers=2)
  model = EncoderModel(spec)
  x = ids(2, 10)
  params = random_init(model, x)
  y = np.asarray(fwd(model)(params, x)["sequence_output"])
  x2 = x.at[:, 6:].set((x[:, 6:] + 3) % spec.vocab_size)
  y2 = np.asarray(fwd(model)(params, x2)["sequence_output"])
  np.testing.assert_allclose(y2[:, :6], y[:, :6], atol=1e-6)
  assert np.max(np.abs(y2[:, 6:] - y[:, 6:])) > 1e-3
  with pytest.raises(ValueError, match="cannot be causal"):
    jax.eval_shape(EncoderModel(tiny_spec(causal=True)).init, jax.random.PRNGKey(0), x)


# ----------------------------------------------------------------------------- padding


@pytest.mark.parametrize(
  "mixer,pooling",
  [("attention", "mean"), ("attention", "last"), ("lsra", "mean")],
)
def test_classifier_ignores_appended_padding(tiny_spec, mixer, pooling, random_init):
  spec = with_options(tiny_spec, mixer, num_layers=2, pooling=pooling)
  model = Classifier(spec)
  x = ids(2, 10)
  mask = jnp.asarray(np.arange(10)[None, :] < np.array([[10], [7]]))
  batch = {"inputs": x, "mask": mask}
  params = random_init(model, batch)
  y = fwd(model)(params, batch)
  long = {
    "inputs": jnp.concatenate([x, ids(2, 6, seed=9)], axis=1),
    "mask": jnp.concatenate([mask, jnp.zeros((2, 6), bool)], axis=1),
  }
  np.testing.assert_allclose(fwd(model)(params, long), y, atol=1e-5)
  # Without the mask the padding is seen, so the check can fail.
  unmasked = {"inputs": long["inputs"], "mask": jnp.ones((2, 16), bool)}
  assert np.max(np.abs(np.asarray(fwd(model)(params, unmasked)) - np.asarray(y))) > 1e-4


# ----------------------------------------------------------------------------- KV cache


@pytest.mark.parametrize(
  "options,positions,prefill",
  [
    (dict(rope=True), "none", 1),
    ({}, "learned", 1),
    (dict(rope=True, mixer_options=dict(gate="headwise")), "sinusoidal", 4),
  ],
)
def test_kv_cache_decoding_matches_full_sequence(
  tiny_spec, options, positions, prefill, random_init
):
  """Decoding with the KV cache (a prompt of `prefill` tokens at once, then one token at a
  time) reproduces the full-sequence logits with the same params."""
  spec = tiny_spec(mixer="attention", positions=positions, num_layers=2, norm="pre", **options)
  assert supports_decode(spec)
  x = ids(2, 10)
  full_model = Decoder(spec)
  params = random_init(full_model, {"inputs": x})["params"]
  full = np.asarray(fwd(full_model)({"params": params}, {"inputs": x}))

  step_model = Decoder(spec, decode=True)
  variables = random_init(step_model, {"inputs": x})
  assert jax.tree.structure(variables["params"]) == jax.tree.structure(params)
  cache = variables["cache"]
  step = jax.jit(lambda v, b: step_model.apply(v, b, mutable=["cache"]))
  outs, t = [], 0
  for width in [prefill] + [1] * (x.shape[1] - prefill):
    logits, mutated = step({"params": params, "cache": cache}, {"inputs": x[:, t : t + width]})
    cache, t = mutated["cache"], t + width
    outs.append(np.asarray(logits))
  np.testing.assert_allclose(np.concatenate(outs, axis=1), full, atol=1e-5, rtol=1e-5)


def test_supports_decode_only_for_pure_attention(tiny_spec):
  assert not supports_decode(tiny_spec(mixer="spectral"))
  assert not supports_decode(
    tiny_spec(mixer="spectral", num_layers=2, hybrid="top", hybrid_layers=1)
  )
  assert supports_decode(tiny_spec(mixer="spectral", num_layers=1, hybrid="top", hybrid_layers=1))
  assert supports_decode(tiny_spec(mixer="attention"))


# ----------------------------------------------------------------------------- config


@pytest.mark.parametrize(
  "layout,num_attention,expected",
  [
    ("top", 2, [10, 11]),
    ("bottom", 2, [0, 1]),
    ("middle", 2, [5, 6]),
    ("mixed", 2, [0, 6]),
    ("middle", 3, [5, 6, 7]),
    ("mixed", 3, [0, 4, 8]),
    ("none", 2, []),
  ],
)
def test_hybrid_layouts_follow_fnet(layout, num_attention, expected):
  """The official f_net layouts: MIDDLE is n-k <= 2i < n+k; MIXED is i % (n // k) == 0."""
  spec = ModelSpec(mixer="fourier", num_layers=12, hybrid=layout, hybrid_layers=num_attention)
  names = layer_mixers(spec)
  assert [i for i, n in enumerate(names) if n == "attention"] == expected
  assert all(n == "fourier" for i, n in enumerate(names) if i not in expected)


def test_hybrid_layout_in_built_model(tiny_spec):
  spec = tiny_spec(mixer="fourier", num_layers=2, hybrid="bottom", hybrid_layers=1)
  shapes = jax.eval_shape(Classifier(spec).init, jax.random.PRNGKey(0), {"inputs": ids(1, 4)})
  enc = nn.unbox(shapes)["params"]["backbone"]["encoder"]
  assert "query" in enc["layer_0"]["mixer"]
  assert "mixer" not in enc["layer_1"]  # fourier has no params


def test_spec_from_config():
  spec = spec_from_config(
    {"size": "small", "mixer": "attention", "d_ff": 64, "mixer_options": {"gate": "headwise"}}
  )
  assert (spec.num_layers, spec.d_model, spec.d_ff, spec.num_heads) == (4, 256, 64, 4)
  assert spec.mixer_options == (("gate", "headwise"),)
  hash(spec)  # it sits on flax modules, so it must be hashable


@pytest.mark.parametrize(
  "cfg,match",
  [
    ({"mixr": "fourier"}, "model.mixr"),
    ({"size": "huge"}, "model.size"),
    ({"positions": "rotary"}, "model.positions"),
    ({"hybrid": "sideways"}, "model.hybrid"),
    ({"activation": "swish"}, "model.activation"),
    ({"pooling": "max"}, "model.pooling"),
    ({"mixer": "worker", "mixer_options": {"intervl": 3}}, "model.mixer_options"),
    ({"mixer": "attention", "mixer_options": {"num_heads": 3}}, "model.num_heads"),
    ({"mixer": "fourier", "causal": True}, "cannot be causal"),
    ({"mixer": "spectral", "causal": True, "mixer_options": {"mode": "fixed"}}, "not causal"),
  ],
)
def test_spec_from_config_errors(cfg, match):
  with pytest.raises(UserError, match=match) as e:
    spec_from_config(cfg)
  assert "\n" not in str(e.value)


def test_unknown_mixer_in_model_lists_names(tiny_spec):
  with pytest.raises(ValueError, match="valid mixers: attention"):
    tiny_spec(mixer="fnet")
