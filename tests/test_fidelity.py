"""Fidelity to the published models (docs/fidelity.md): each check compares fnetlab with what
the official code does, written out independently here.

- Dropout placements are probed numerically at rate 0.5 with a fixed rng, with the weights
  around the probed spot set so the dropout mask can be read off the output: an f_net block
  never drops its mixer's output, the LRA block drops it and drops after the MLP activation,
  attention drops its probabilities, and no classifier head drops before its logits.
- The LRA encoder's parameter tree and its exact parameter count, per task at the official
  sizes, against a formula derived from the official `TransformerEncoder` /
  `TransformerDualEncoder` (models/transformer/transformer.py, layers/common_layers.py).
- The retrieval head's input width (concat [e1, e2] by default, four parts for `nli`).
- The initialisers of each scheme, and the seed's spectral filter: ||y|| / ||x|| ~ 0.03.
- The learning-rate schedules against transcriptions of the official step functions.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import types

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import linen as nn

from fnetlab import mixers
from fnetlab.common.errors import UserError
from fnetlab.config import LRA_ENCODER
from fnetlab.models import Classifier, Decoder, DualClassifier, spec_from_config
from fnetlab.models.layers import build_blocks
from fnetlab.train import optim

BLOCK_MIXERS = [m for m in mixers.names() if not mixers.is_block(m)]
# Options that fit each mixer into d = 64 with 4 heads; the rest are the mixer's defaults.
FIT = {"lsra": dict(conv_heads=2, kernel_size=3), "spectral": dict(num_freqs=5)}


def spec(mixer="fourier", lra=False, **kw):
  """A small spec: f_net's encoder (the ModelSpec defaults) or, with lra=True, LRA's."""
  base = dict(mixer=mixer, num_layers=1, d_model=64, d_ff=64, num_heads=4, vocab_size=40)
  base.update(max_len=16, mixer_options=FIT.get(mixer, {}), dropout_rate=0.5)
  if lra:
    base.update(LRA_ENCODER)
  base.update(kw)
  return spec_from_config(base)


def rand(*shape, seed=0):
  return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def randomise(variables, seed=1):
  """Every parameter drawn N(0, 0.3²) (LayerNorm scales 1 + that), so no probe hides behind
  an initialiser's zeros."""
  rng = np.random.default_rng(seed)

  def fill(path, leaf):
    base = 1.0 if jax.tree_util.keystr(path).endswith("['scale']") else 0.0
    return jnp.asarray(base + 0.3 * rng.standard_normal(leaf.shape), leaf.dtype)

  return jax.tree_util.tree_map_with_path(fill, nn.unbox(variables))


def setp(variables, path, value):
  """A copy of `variables` with the leaf at `path` (a tuple of keys under 'params') replaced."""
  tree = jax.tree.map(lambda a: a, variables)
  node = tree["params"]
  for key in path[:-1]:
    node = node[key]
  node[path[-1]] = jnp.broadcast_to(jnp.asarray(value, jnp.float32), node[path[-1]].shape)
  return tree


def block_of(s):
  return build_blocks(s)[0]


def train_and_eval(module, variables, *args, seed=3):
  """(training output with a fixed dropout rng, deterministic output), in one compile."""

  @jax.jit
  def both(variables, args):
    rng = {"dropout": jax.random.PRNGKey(seed)}
    train = module.apply(variables, *args, deterministic=False, rngs=rng)
    return train, module.apply(variables, *args)

  train, ref = both(variables, args)
  return np.asarray(train), np.asarray(ref)


def ratios(train, ref, floor=1e-3):
  """train / ref where |ref| is not tiny: the dropout mask times 1/keep, read elementwise."""
  keep = np.abs(ref) > floor
  return (train[keep] / ref[keep]).ravel()


# ----------------------------------------------------------------------------- dropout


def probe_blocks(specs, x):
  """For each spec, its first block with random parameters and the FFN's output layer zeroed
  (so the FFN adds exactly 0): (training output, evaluation output), all in one compile."""
  blocks = [block_of(s) for s in specs]
  variables = []
  for block in blocks:
    v = randomise(jax.eval_shape(block.init, jax.random.PRNGKey(0), x))
    variables.append(
      setp(setp(v, ("ffn", "output", "kernel"), 0.0), ("ffn", "output", "bias"), 0.0)
    )

  @jax.jit
  def run(variables, x):
    rng = {"dropout": jax.random.PRNGKey(3)}
    return [
      (b.apply(v, x, deterministic=False, rngs=rng), b.apply(v, x))
      for b, v in zip(blocks, variables, strict=True)
    ]

  return [(np.asarray(t), np.asarray(e)) for t, e in run(variables, x)]


def test_fnet_block_never_drops_the_mixer_output():
  """f_net's EncoderBlock is LN(x + mix(x)) for every mixer: with the FFN zeroed, training
  and evaluation agree exactly at dropout 0.5. The same probe with mixer_dropout=True does
  see a dropout, so it could fail."""
  x = jnp.asarray(rand(4, 16, 64))
  specs = [spec(m, attention_dropout=0.0) for m in BLOCK_MIXERS]
  control = spec("fourier", mixer_dropout=True)
  *outs, (train, ref) = probe_blocks([*specs, control], x)
  for mixer, (t, e) in zip(BLOCK_MIXERS, outs, strict=True):
    np.testing.assert_array_equal(t, e, err_msg=mixer)
  assert np.max(np.abs(train - ref)) > 1e-3


def test_lra_block_drops_the_mixer_output():
  """LRA: x + dropout(mix(LN(x))), for every mixer. With the MLP zeroed, (y - x) in training
  is the evaluation value times 0 or 2 (rate 0.5), about half of each."""
  x = jnp.asarray(rand(4, 16, 64))
  outs = probe_blocks([spec(m, lra=True, attention_dropout=0.0) for m in BLOCK_MIXERS], x)
  for mixer, (train, ref) in zip(BLOCK_MIXERS, outs, strict=True):
    r = ratios(train - np.asarray(x), ref - np.asarray(x))
    assert r.size > 1000, mixer
    np.testing.assert_allclose(np.minimum(np.abs(r), np.abs(r - 2)), 0, atol=1e-3, err_msg=mixer)
    assert 0.4 < np.mean(np.abs(r) < 1) < 0.6, mixer


@pytest.mark.parametrize("lra, factor, kept", [(True, 4.0, 0.25), (False, 2.0, 0.5)])
def test_mlp_dropout_after_activation_only_in_lra(lra, factor, kept):
  """LRA's MlpBlock drops after the activation and after the output, f_net's FFN only after
  the output. Probe: identity mixing of a zeroed LN output, both MLP matrices the identity,
  zero biases; then (y - x) / gelu(LN(x)) is 0 or 4 (two dropouts in series, kept a quarter
  of the time) for LRA, 0 or 2 (kept half) for f_net."""
  s = spec("ff_only", lra=lra, norm="pre", final_norm="layer")
  block = block_of(s)
  x = jnp.asarray(rand(4, 16, 64))
  v = randomise(jax.eval_shape(block.init, jax.random.PRNGKey(0), x))
  v = setp(setp(v, ("mixer_norm", "scale"), 0.0), ("mixer_norm", "bias"), 0.0)  # mixes 0 -> 0
  v = setp(setp(v, ("ffn_norm", "scale"), 1.0), ("ffn_norm", "bias"), 0.0)  # a plain LN(x)
  eye = np.eye(64, dtype=np.float32)
  for layer in ("intermediate", "output"):
    v = setp(setp(v, ("ffn", layer, "kernel"), eye), ("ffn", layer, "bias"), 0.0)
  train, _ = train_and_eval(block, v, x)
  xn = np.asarray(x)
  h = (xn - xn.mean(-1, keepdims=True)) / np.sqrt(xn.var(-1, keepdims=True) + s.ln_eps)
  gelu = np.asarray(nn.gelu(jnp.asarray(h), approximate=True))
  r = ratios(train - xn, gelu)
  np.testing.assert_allclose(np.minimum(np.abs(r), np.abs(r - factor)), 0, atol=2e-3)
  assert abs(np.mean(np.abs(r - factor) < 0.5) - kept) < 0.07


def test_attention_drops_its_probabilities():
  """Zero Q/K kernels make the attention uniform; V = 1 (zero kernel, unit bias) and an output
  that reads head 0, dim 0 make every output the sum of one row of dropped probabilities:
  1 in evaluation, 2 * kept / n in training at rate 0.5."""
  n = 32
  att = mixers.get("attention", num_heads=2, attention_dropout=0.5)
  x = jnp.asarray(rand(2, n, 8))
  v = randomise(jax.eval_shape(att.init, jax.random.PRNGKey(0), x))
  for name in ("query", "key", "value"):
    v = setp(v, (name, "kernel"), 0.0)
  v = setp(setp(setp(v, ("query", "bias"), 0.0), ("key", "bias"), 0.0), ("value", "bias"), 1.0)
  out_kernel = np.zeros(v["params"]["out"]["kernel"].shape, np.float32)
  out_kernel[0, 0, :] = 1.0
  v = setp(setp(v, ("out", "kernel"), out_kernel), ("out", "bias"), 0.0)
  train, ref = train_and_eval(att, v, x)
  np.testing.assert_allclose(ref, 1.0, rtol=1e-6)
  kept = train * n / 2
  np.testing.assert_allclose(kept, np.round(kept), atol=1e-4)
  assert 0.35 < kept.mean() / n < 0.65 and np.std(kept) > 0.5


def test_every_attention_layer_gets_the_model_attention_dropout():
  """The attention baseline, the hybrid layers of an FNet model, LSRA's attention half and the
  worker layer all take model.attention_dropout, the one home of the attention dropout (a mixer
  option of that name is refused, naming the model key); a whole block's `dropout_rate` is the
  model's residual dropout."""
  a = 0.1
  plain = block_of(spec("attention", attention_dropout=a))
  assert plain.mixer.attention_dropout == a
  hybrid = build_blocks(spec("fourier", num_layers=4, hybrid="top", attention_dropout=a))
  assert [getattr(b.mixer, "attention_dropout", None) for b in hybrid] == [None, None, a, a]
  assert block_of(spec("lsra", attention_dropout=a)).mixer.attention_dropout == a
  worker = build_blocks(spec("worker", norm="pre", attention_dropout=a, dropout_rate=0.2))[0]
  assert (worker.attention_dropout, worker.dropout_rate) == (a, 0.2)
  with pytest.raises(UserError, match="model.attention_dropout"):
    spec("attention", mixer_options={"attention_dropout": 0.3})


@pytest.mark.parametrize("lra", [False, True])
def test_classifier_head_has_no_dropout(lra):
  """Neither f_net's classifier nor LRA's head drops before the logits: in training, the logits
  are the head's formula applied to the (dropped) pooled vector the backbone produced."""
  s = spec("fourier", lra=lra, num_classes=3)
  model = Classifier(s)
  batch = {
    "inputs": jnp.asarray(np.arange(32).reshape(2, 16) % 40),
    "mask": jnp.ones((2, 16), bool),
  }
  v = randomise(jax.eval_shape(model.init, jax.random.PRNGKey(0), batch))
  apply = functools.partial(
    model.apply,
    deterministic=False,
    rngs={"dropout": jax.random.PRNGKey(5)},
    capture_intermediates=True,
    mutable=["intermediates"],
  )
  logits, state = jax.jit(apply)(v, batch)
  pooled = np.asarray(
    state["intermediates"]["backbone"]["__call__"][0]["pooled_output"], np.float64
  )
  head = jax.tree.map(lambda a: np.asarray(a, np.float64), v["params"]["head"])
  h = pooled
  if "hidden_0" in head:
    h = np.maximum(h @ head["hidden_0"]["kernel"] + head["hidden_0"]["bias"], 0)
  ref = h @ head["logits"]["kernel"] + head["logits"]["bias"]
  np.testing.assert_allclose(np.asarray(logits), ref, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("path", ["configs/glue.py", "configs/pretrain.py"])
def test_fnet_configs_build_the_fnet_encoder(path):
  """GLUE and pretraining build f_net's encoder: post-LN, no mixer-output dropout, N(0, 0.02²)
  initialisation, attention biases, and attention dropout 0.1 (`mixing_dropout_rate`) in
  every attention layer, the hybrid ones included."""
  from fnetlab.common.config import load

  c = load(f"{path}:mixer=fourier,size=tiny", {"model.hybrid": "top"})
  s = spec_from_config(c.model)
  assert (s.norm, s.ln_eps, s.init_scheme, s.attention_bias) == ("post", 1e-12, "fnet", True)
  assert not s.drops_mixer_output and not s.ffn_inner_dropout
  assert s.attention_dropout == 0.1 and s.embed_norm and s.embed_projection and s.pooler_dense
  rates = [getattr(b.mixer, "attention_dropout", None) for b in build_blocks(s)]
  assert rates == [None] * (s.num_layers - 2) + [0.1, 0.1]


# ----------------------------------------------------------------------------- LRA structure


def official_lra_params(vocab, d, qkv, mlp, layers, classes, tokens, *, learned, cls):
  """Parameters of the official LRA classifier (TransformerEncoder + classifier_head):
  embed [vocab, d]; a zero-initialised `cls` [1, 1, d] with CLS pooling; a learned position
  table [1, tokens (+1 with CLS), d] or none (sinusoidal); per block two LayerNorms (2d each),
  SelfAttention with bias=False (query/key/value [d, heads, qkv/heads], out [heads,
  qkv/heads, d]) and MlpBlock Dense(d, mlp) + Dense(mlp, d) with biases; encoder_norm; head
  Dense(d, mlp) + Dense(mlp, classes)."""
  positions = tokens + cls
  total = vocab * d + cls * d + (positions * d if learned else 0)
  total += layers * (2 * d + 4 * d * qkv + 2 * d + (d * mlp + mlp) + (mlp * d + d))
  total += 2 * d
  return total + (d * mlp + mlp) + (mlp * classes + classes)


def official_lra_dual_params(vocab, d, qkv, mlp, layers, tokens, *, interaction="concat"):
  """TransformerDualEncoder: one shared encoder built without `classifier` (so no CLS and no
  cls parameter, sinusoidal positions), then classifier_head_dual: Dense(parts * d, mlp) ->
  Dense(mlp, mlp // 2) -> Dense(mlp // 2, 2), parts = 2 (concat) or 4 (NLI)."""
  enc = official_lra_params(vocab, d, qkv, mlp, layers, 2, tokens, learned=False, cls=False)
  enc -= (d * mlp + mlp) + (mlp * 2 + 2)  # the single-tower head
  parts = 4 if interaction == "nli" else 2
  return enc + (parts * d * mlp + mlp) + (mlp * (mlp // 2) + mlp // 2) + (mlp // 2 * 2 + 2)


def count(tree) -> int:
  return int(sum(np.size(leaf) for leaf in jax.tree.leaves(nn.unbox(tree))))


def shapes(model, batch):
  return nn.unbox(jax.eval_shape(model.init, jax.random.PRNGKey(0), batch)["params"])


# task: (tokens without CLS, token vocabulary, d, qkv, mlp, layers, heads, classes, learned, cls)
LRA_SIZES = {
  "listops": (2000, 16, 512, 512, 1024, 4, 8, 10, False, True),
  "text": (1000, 257, 256, 256, 1024, 4, 4, 2, False, True),
  "image": (1024, 256, 128, 64, 128, 1, 8, 10, True, True),
  "pathfinder": (1024, 256, 32, 16, 32, 4, 4, 2, False, False),
  "pathx": (16384, 256, 32, 16, 32, 1, 2, 2, True, False),
}


def lra_attention_spec(task, **kw):
  tokens, vocab, d, qkv, mlp, layers, heads, classes, learned, cls = LRA_SIZES[task]
  return spec_from_config(
    dict(
      LRA_ENCODER,
      mixer="attention",
      qkv_dim=qkv,
      num_layers=layers,
      d_model=d,
      d_ff=mlp,
      num_heads=heads,
      vocab_size=vocab + cls,  # fnetlab's CLS is one more token id: the official `cls` vector
      max_len=tokens + cls,
      positions="learned" if learned else "sinusoidal",
      pooling="cls" if cls else "mean",
      num_classes=classes,
      **kw,
    )
  )


@pytest.mark.parametrize("task", sorted(LRA_SIZES))
def test_lra_parameter_count_equals_the_official_formula(task):
  tokens, vocab, d, qkv, mlp, layers, heads, classes, learned, cls = LRA_SIZES[task]
  s = lra_attention_spec(task)
  batch = {"inputs": jnp.zeros((1, tokens + cls), jnp.int32)}
  ours = count(shapes(Classifier(s), batch))
  assert ours == official_lra_params(
    vocab, d, qkv, mlp, layers, classes, tokens, learned=learned, cls=cls
  )


@pytest.mark.parametrize("interaction", ["concat", "nli"])
def test_lra_retrieval_parameter_count_and_head_width(interaction):
  """Retrieval at the official size (4 layers, d 128, qkv 128, mlp 512, 4000 bytes, no CLS):
  the head's first layer reads 2d = 256 features (concat, the released default) or 4d (nli)."""
  s = spec_from_config(
    dict(
      LRA_ENCODER,
      mixer="attention",
      num_layers=4,
      d_model=128,
      d_ff=512,
      num_heads=4,
      vocab_size=257,
      max_len=4000,
      positions="sinusoidal",
      interaction=interaction,
    )
  )
  batch = {k: jnp.zeros((1, 4000), jnp.int32) for k in ("inputs", "inputs2")}
  tree = shapes(DualClassifier(s), batch)
  assert tree["head"]["hidden_0"]["kernel"].shape == (
    (2 if interaction == "concat" else 4) * 128,
    512,
  )
  assert tree["head"]["hidden_1"]["kernel"].shape == (512, 256)
  assert count(tree) == official_lra_dual_params(
    257, 128, 128, 512, 4, 4000, interaction=interaction
  )


def test_lra_parameter_tree_matches_the_official_modules():
  """One module per official one, with the official shapes: embed (+ the cls row) and
  posembed_input; per block LayerNorm, SelfAttention without biases, LayerNorm, MlpBlock;
  encoder_norm; head mlp + logits. No token types, embedding LayerNorm, projection or pooler."""
  s = lra_attention_spec("image")
  tree = shapes(Classifier(s), {"inputs": jnp.zeros((1, 1025), jnp.int32)})
  flat = {
    "/".join(str(getattr(k, "key", k)) for k in path): leaf.shape
    for path, leaf in jax.tree_util.tree_flatten_with_path(tree)[0]
  }
  enc = "backbone/encoder"
  expected = {
    f"{enc}/embeddings/word/embedding": (257, 128),
    f"{enc}/embeddings/position/embedding": (1025, 128),
    f"{enc}/layer_0/mixer_norm/scale": (128,),
    f"{enc}/layer_0/mixer_norm/bias": (128,),
    f"{enc}/layer_0/mixer/query/kernel": (128, 8, 8),
    f"{enc}/layer_0/mixer/key/kernel": (128, 8, 8),
    f"{enc}/layer_0/mixer/value/kernel": (128, 8, 8),
    f"{enc}/layer_0/mixer/out/kernel": (8, 8, 128),
    f"{enc}/layer_0/ffn_norm/scale": (128,),
    f"{enc}/layer_0/ffn_norm/bias": (128,),
    f"{enc}/layer_0/ffn/intermediate/kernel": (128, 128),
    f"{enc}/layer_0/ffn/intermediate/bias": (128,),
    f"{enc}/layer_0/ffn/output/kernel": (128, 128),
    f"{enc}/layer_0/ffn/output/bias": (128,),
    f"{enc}/final_norm/scale": (128,),
    f"{enc}/final_norm/bias": (128,),
    "head/hidden_0/kernel": (128, 128),
    "head/hidden_0/bias": (128,),
    "head/logits/kernel": (128, 10),
    "head/logits/bias": (10,),
  }
  assert flat == expected


def mixer_params(mixer, n, d, heads):
  """What each mixer adds to the LRA block (the attention sublayer's 4·d·qkv replaced)."""
  h = d // 2
  return {
    "fourier": 0,
    "ff_only": 0,
    "random": 0,
    "linear": n * n + d * d,
    "spectral": 2 * (n // 2 + 1) * d,
    "attention": 4 * d * d,
    # attention half without biases (LRA), GLU input, dynamic-tap projection, output
    "lsra": 4 * h * h + (h * 2 * h + 2 * h) + h * 2 * 3 + (h * h + h),
  }[mixer]


@pytest.mark.parametrize("mixer", BLOCK_MIXERS)
def test_only_the_mixing_sublayer_changes_between_lra_models(mixer):
  """Every mixer's LRA model is the attention model minus the attention sublayer plus the
  mixer's own parameters: embeddings, norms, MLPs and head are the same."""
  n, d = 16, 64
  batch = {"inputs": jnp.zeros((1, n), jnp.int32)}
  att = count(shapes(Classifier(spec("attention", lra=True)), batch))
  ours = count(shapes(Classifier(spec(mixer, lra=True)), batch))
  assert ours == att - mixer_params("attention", n, d, 4) + mixer_params(mixer, n, d, 4)


def test_lra_encoder_values():
  """The LRA encoder switches in every LRA config (fnetlab/config.py LRA_ENCODER)."""
  s = spec("fourier", lra=True)
  assert (s.norm, s.final_norm, s.ln_eps, s.activation) == ("pre", "layer", 1e-6, "gelu")
  assert s.drops_mixer_output and s.ffn_inner_dropout
  assert (s.attention_dropout, s.attention_bias, s.init_scheme) == (0.1, False, "lra")
  assert (s.embed_init_std, s.type_vocab_size, s.embed_norm, s.embed_projection) == (
    1.0,
    0,
    False,
    False,
  )
  assert not s.pooler_dense and s.head_hidden == s.d_ff
  f = spec("fourier")  # f_net
  assert (f.norm, f.ln_eps, f.drops_mixer_output, f.ffn_inner_dropout) == (
    "post",
    1e-12,
    False,
    False,
  )
  assert (f.init_scheme, f.attention_bias, f.embed_init_std) == ("fnet", True, 0.02)


# ----------------------------------------------------------------------------- initialisation


def init_params(model, batch, seed=0):
  return nn.unbox(jax.jit(model.init)(jax.random.PRNGKey(seed), batch))["params"]


def test_fnet_initialisation():
  """f_net: Dense kernels N(0, 0.02²); biases N(0, 0.02²) where f_net passes its bias init
  (attention, FFN input, classifier), zeros where it keeps flax's (FFN output, pooler); the
  embedding projection LeCun-normal; embeddings N(0, 0.02²); the linear baseline's matrices
  N(0, 0.02²), or Xavier-uniform (variance 1/n) under init_scheme=xavier."""
  s = spec("attention", max_len=64, num_classes=64, dropout_rate=0.0)
  p = init_params(Classifier(s), {"inputs": jnp.zeros((1, 64), jnp.int32)})
  enc = p["backbone"]["encoder"]
  layer = enc["layer_0"]
  normal = (
    layer["mixer"]["query"]["kernel"],
    layer["mixer"]["out"]["kernel"],
    layer["ffn"]["intermediate"]["kernel"],
    layer["ffn"]["output"]["kernel"],
    p["head"]["logits"]["kernel"],
    p["backbone"]["pooler"]["dense"]["kernel"],
    enc["embeddings"]["word"]["embedding"],
    enc["embeddings"]["position"]["embedding"],
  )
  for leaf in normal:
    assert abs(float(np.std(leaf)) - 0.02) < 0.003 and abs(float(np.mean(leaf))) < 0.003
  for bias in (layer["mixer"]["query"]["bias"], layer["ffn"]["intermediate"]["bias"]):
    assert abs(float(np.std(bias)) - 0.02) < 0.006
  assert abs(float(np.std(p["head"]["logits"]["bias"])) - 0.02) < 0.008
  assert not np.any(layer["ffn"]["output"]["bias"])
  assert not np.any(p["backbone"]["pooler"]["dense"]["bias"])
  proj = enc["embeddings"]["projection"]["kernel"]
  assert abs(float(np.std(proj)) - 64**-0.5) < 0.015  # LeCun normal: 1 / sqrt(fan_in)
  x = jnp.zeros((1, 64, 64))
  for scheme, std in (("fnet", 0.02), ("xavier", 64**-0.5)):
    m = mixers.get("linear", init_scheme=scheme)
    kernels = nn.unbox(jax.jit(m.init)(jax.random.PRNGKey(0), x))["params"]
    for name in ("length_kernel", "feature_kernel"):
      assert abs(float(np.std(kernels[name])) - std) < 0.1 * std, (scheme, name)


def test_lra_initialisation():
  """LRA: token embeddings N(0, 1); attention and MLP kernels Xavier-uniform, MLP biases
  N(0, 1e-6²); head Dense LeCun-normal with zero biases."""
  s = spec("attention", lra=True, max_len=64, num_classes=64)
  p = init_params(Classifier(s), {"inputs": jnp.zeros((1, 64), jnp.int32)})
  enc = p["backbone"]["encoder"]
  assert abs(float(np.std(enc["embeddings"]["word"]["embedding"])) - 1.0) < 0.05
  q = np.asarray(enc["layer_0"]["mixer"]["query"]["kernel"]).reshape(64, 64)
  assert np.max(np.abs(q)) <= np.sqrt(6 / 128) and abs(float(np.std(q)) - np.sqrt(1 / 64)) < 0.01
  b = enc["layer_0"]["ffn"]["intermediate"]["bias"]
  assert 0 < float(np.std(b)) < 3e-6
  assert abs(float(np.std(p["head"]["hidden_0"]["kernel"])) - 64**-0.5) < 0.015
  assert not np.any(p["head"]["hidden_0"]["bias"]) and not np.any(p["head"]["logits"]["bias"])


@pytest.mark.parametrize("filter_init, expected", [("seed", 0.02 * np.sqrt(2)), ("identity", 1.0)])
def test_spectral_fixed_init(filter_init, expected):
  """Seed 001 draws W_r and W_i as randn * 0.02, so at init E|W|² = 2 · 0.02² and the layer
  passes ||y|| / ||x|| = 0.02·sqrt(2) ≈ 0.028 of its input; the identity start passes ~all."""
  x = jnp.asarray(rand(8, 256, 64))
  m = mixers.get("spectral", mode="fixed", filter_init=filter_init)
  v = nn.unbox(m.init(jax.random.PRNGKey(0), x))
  y = np.asarray(m.apply(v, x))
  ratio = float(np.linalg.norm(y) / np.linalg.norm(np.asarray(x)))
  assert abs(ratio - expected) < 0.05 * expected, ratio
  w_r, w_i = (np.asarray(v["params"][k]) for k in ("filter_real", "filter_imag"))
  assert w_r.shape == w_i.shape == (129, 64)
  assert abs(float(np.std(w_i)) - 0.02) < 0.002
  if filter_init == "seed":
    assert abs(float(np.std(w_r)) - 0.02) < 0.002 and abs(float(np.mean(w_r))) < 0.002


# ----------------------------------------------------------------------------- worker


def test_worker_reference_structure():
  """The reference WorkerTransformer: no biases on q/k/v/gate/out, RMSNorm at the end,
  attention-probability dropout."""
  s = spec("worker", norm="pre", positions="none", mixer_options={"interval": 4}, dropout_rate=0.0)
  batch = {"inputs": jnp.asarray(np.arange(32).reshape(2, 16) % 40)}
  tree = shapes(Decoder(s), batch)
  for name in ("query", "key", "value", "gate", "out"):
    assert set(tree["layer_0"][name]) == {"kernel"}, name
  assert set(tree["final_norm"]) == {"scale"}  # RMSNorm
  layer_norm = shapes(Decoder(dataclasses.replace(s, final_norm="layer")), batch)
  assert set(layer_norm["final_norm"]) == {"scale", "bias"}
  v = {"params": randomise(tree)}
  models = [Decoder(dataclasses.replace(s, attention_dropout=rate)) for rate in (0.0, 0.5)]

  @jax.jit
  def run(v, batch):
    rng = {"dropout": jax.random.PRNGKey(3)}
    return [(m.apply(v, batch, deterministic=False, rngs=rng), m.apply(v, batch)) for m in models]

  (train0, ref0), (train5, ref5) = run(v, batch)
  np.testing.assert_array_equal(np.asarray(train0), np.asarray(ref0))  # residual dropout 0
  assert np.max(np.abs(np.asarray(train5) - np.asarray(ref5))) > 1e-4


# ----------------------------------------------------------------------------- schedules


def official_step_fn(factors, base, warmup, cycle, step):
  """The official `create_learning_rate_scheduler` step function (LRA train_utils; f_net's
  differs only in naming `decay_steps` what LRA calls `steps_per_cycle`), in float64."""
  ret = 1.0
  for name in (f.strip() for f in factors.split("*")):
    if name == "constant":
      ret *= base
    elif name == "linear_warmup":
      ret *= min(1.0, step / warmup)
    elif name == "rsqrt_decay":
      ret /= np.sqrt(max(step, warmup))
    elif name == "linear_decay":
      progress = max(0.0, (step - warmup) / float(cycle))
      ret *= 1.0 - (progress % 1.0)
    elif name == "cosine_decay":
      progress = max(0.0, (step - warmup) / float(cycle))
      ret *= max(0.0, 0.5 * (1.0 + np.cos(np.pi * (progress % 1.0))))
    else:
      raise ValueError(name)
  return ret


SCHEDULE_CASES = {
  # LRA Text: 0.05 * linear_warmup(8000) * rsqrt_decay; fnetlab peak = 0.05 / sqrt(8000)
  "rsqrt": (0.05 / 8000**0.5, 8000, 20000, "constant * linear_warmup * rsqrt_decay", 0.05, None),
  # LRA Image: 5e-4 * linear_warmup(175) * cosine_decay, steps_per_cycle = all 35000 steps
  "cosine": (5e-4, 175, 35000, "constant * linear_warmup * cosine_decay", 5e-4, 35000),
  # f_net GLUE (e.g. SST-2, batch 64, 3 epochs): 10% warmup, decay_steps = T - warmup
  "linear": (1e-4, 315, 3156, "constant * linear_warmup * linear_decay", 1e-4, 3156 - 315),
  "constant": (1e-3, 100, 1000, "constant * linear_warmup", 1e-3, None),
}


@pytest.mark.parametrize("name", sorted(SCHEDULE_CASES))
def test_schedules_equal_the_official_formulas(name):
  lr, warmup, total, factors, base, cycle = SCHEDULE_CASES[name]
  cfg = types.SimpleNamespace(lr=lr, warmup_steps=warmup, schedule=name)
  fn = optim.schedule(cfg, total)
  steps = [0, 1, warmup // 2, warmup - 1, warmup, warmup + 1, total // 2, total - 2, total - 1]
  ours = np.asarray(jax.vmap(fn)(jnp.asarray(steps)), np.float64)
  ref = np.asarray([official_step_fn(factors, base, warmup, cycle, s) for s in steps])
  np.testing.assert_allclose(ours, ref, rtol=2e-6, atol=1e-6 * lr)  # float32 vs float64
  assert ours[0] == 0.0  # s / w: the first update has rate 0
  if name == "cosine":  # divided by all steps, the cosine never reaches 0
    assert ours[-1] > 0.0 and ours[-1] == pytest.approx(
      lr * 0.5 * (1 + np.cos(np.pi * (total - 1 - warmup) / total)), rel=1e-3
    )


# ----------------------------------------------------------------------------- every task x mixer

LRA_TASKS = ("listops", "text", "retrieval", "image", "pathfinder", "pathx")
# Tiny sizes through config overrides, as `--config.<key>=<value>` would set them. Dropout is
# off here (the probes above test where it goes) because it doubles the compile time.
TINY = {
  "model.num_layers": 1,
  "model.d_model": 8,
  "model.d_ff": 8,
  "model.num_heads": 2,
  "model.dropout_rate": 0.0,
  "model.attention_dropout": 0.0,
  "train.batch_size": 2,
  "train.eval_batch_size": 2,
}
TASK_TINY = {
  "listops": {
    "model.max_len": 32,
    "data.generate.num_train": 8,
    "data.generate.num_val": 2,
    "data.generate.num_test": 2,
    "data.generate.min_length": 1,
    "data.generate.max_length": 30,
    "data.generate.max_depth": 3,
  },
  "text": {"model.max_len": 33},
  "retrieval": {"model.max_len": 32},
  "image": {"model.size": "tiny"},  # the tiny size: Q/K/V as wide as d_model
  "pathfinder": {"model.size": "tiny", "data.generate.num": 10, "data.generate.workers": 1},
  # Path-X's code path at 32x32: 128x128 images take long to generate and 16k-token steps
  # long to run, and nothing in the model depends on the resolution but the length.
  "pathx": {
    "model.size": "tiny",
    "data.resolution": 32,
    "data.generate.num": 10,
    "data.generate.workers": 1,
  },
}
MIXER_ARGS = {"lsra": ",conv_heads=2,kernel_size=3"}  # fits d = 8 (two channels per conv head)


def write_retrieval_tsv(folder):
  folder.mkdir(parents=True, exist_ok=True)
  rows = "1\tp1\tp2\tgraph parsing\ttree parsing\n0\tp1\tp3\tgraph parsing\tcafe menus\n"
  for split in ("train", "eval", "test"):
    (folder / f"new_aan_pairs.{split}.tsv").write_text(rows)
  return str(folder)


def numpy_state(trainer, seed=0):
  """The trainer's initial state with params drawn N(0, 0.1²) from its abstract shapes, so the
  test compiles one program per task, not an initialiser per mixer as well (the initialisers
  run in test_models.py and in test_lra.py's full runs)."""
  rng = np.random.default_rng(seed)
  params = jax.tree.map(
    lambda a: jnp.asarray(0.1 * rng.standard_normal(a.shape), a.dtype),
    trainer.abstract_state["params"],
  )
  return {
    "step": jnp.asarray(0, jnp.int32),
    "params": params,
    "opt_state": trainer.tx.init(params),
    "rng": jax.random.PRNGKey(seed),
  }


@pytest.fixture(scope="module")
def lra_first_steps(tmp_path_factory):
  """task -> [(mixer, state, metrics)] after one train step of every mixer's Trainer.

  Each task's eight steps are traced here (Python) and compiled as one program; the six
  compiles run two at a time in threads (XLA compiles outside the GIL), one per core."""
  import concurrent.futures

  import tensorflow_datasets as tfds

  from fnetlab.common.config import load
  from fnetlab.train.trainer import Trainer

  root = tmp_path_factory.mktemp("lra_steps")
  old_cache = os.environ.get("FNETLAB_CACHE")
  os.environ["FNETLAB_CACHE"] = str(root / "cache")
  try:
    lowered = {}
    for task in LRA_TASKS:
      overrides = {**TINY, **TASK_TINY[task]}
      if task == "retrieval":
        overrides["data.dir"] = write_retrieval_tsv(root / "aan")
      trainers = []
      with tfds.testing.mock_data(num_examples=4):
        for mixer in mixers.names():
          spec_arg = f"configs/lra/{task}.py:mixer={mixer}{MIXER_ARGS.get(mixer, '')}"
          trainers.append(Trainer(load(spec_arg, overrides)))
      args = ([numpy_state(t) for t in trainers], [t.batch(0) for t in trainers])
      step = jax.jit(
        lambda ss, bs, trainers=trainers: [
          t.train_step(s, b) for t, s, b in zip(trainers, ss, bs, strict=True)
        ]
      )
      lowered[task] = (trainers, step.lower(*args), args)

    def compile_and_run(task):
      trainers, low, args = lowered[task]
      out = low.compile()(*args)
      return [(t.config.model.mixer, *o) for t, o in zip(trainers, out, strict=True)]

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
      return dict(zip(LRA_TASKS, pool.map(compile_and_run, LRA_TASKS), strict=True))
  finally:
    if old_cache is None:
      os.environ.pop("FNETLAB_CACHE", None)
    else:
      os.environ["FNETLAB_CACHE"] = old_cache


@pytest.mark.slow
@pytest.mark.parametrize("task", LRA_TASKS)
def test_every_mixer_trains_one_step_on_every_lra_task(task, lra_first_steps):
  """`fnetlab train --config=configs/lra/<task>.py:mixer=<m>` builds (the config loader, task,
  data, model and shardings of `Trainer`) and runs one train step for every registered mixer,
  on generated or mock data at tiny sizes."""
  results = lra_first_steps[task]
  assert [mixer for mixer, _, _ in results] == mixers.names()
  for mixer, state, metrics in results:
    assert int(state["step"]) == 1, mixer
    assert np.isfinite(float(metrics["train_loss"])) and float(metrics["grad_norm"]) > 0, mixer
