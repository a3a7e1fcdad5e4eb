"""The encoder (FNet / BERT layout) and its task models.

Embeddings follow FNet: word + position + token-type, LayerNorm, a Dense projection to the
model width ("hidden_mapping_in"), dropout. Blocks get their mixer injected and are post-LN by
default (`x = LN(x + mix(x)); y = LN(x + FF(x))`), pre-LN as an option with a final norm. With
`mixer='attention'`, `embed_projection=False` and `activation='gelu_exact'` the encoder is
BERT, which the HF import parity test checks exactly. The LRA configs turn it into the official
LRA Transformer encoder: word embeddings N(0, 1) without type embeddings, LayerNorm or
projection; pre-LN blocks; a final LayerNorm.

Task models on top (neither f_net's classifier nor LRA's head has dropout before the logits,
so ours has none):
- `Classifier`: pooled output -> [Dense(head_hidden) -> ReLU] -> logits (`num_classes=1` is
  regression, as STS-B).
- `DualClassifier`: LRA Retrieval's two towers with shared weights and a head on
  concat[e1, e2] (`interaction='concat'`, what the released trainer runs) or
  [e1, e2, e1*e2, e1-e2] (`interaction='nli'`) -> Dense -> ReLU -> Dense -> ReLU -> logits.
- `Pretrainer`: MLM (dense -> gelu -> LN -> decoder tied to the word embedding, own bias) + NSP.
- `Denoiser`: self-pretraining on a task's own inputs (fnetlab/tasks/spt.py): the same
  `backbone` as `Classifier`, so its parameters carry over to a fine-tune, and a per-position
  head over the vocabulary; masked prediction, or next-token prediction for a causal model.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import linen as nn

from fnetlab.models.config import ModelSpec
from fnetlab.models.layers import Positions, activation, build_blocks, final_norm, layer_norm
from fnetlab.nn import add_positions, logical
from fnetlab.nn.dropout import Dropout
from fnetlab.nn.inits import dense_init


def dense(features, name, axes, dtype=jnp.float32, *, scheme="fnet", site="logits", **kw):
  """nn.Dense with logical axes and the initialisers `scheme` uses at `site` (nn/inits.py)."""
  kernel_init, bias_init = dense_init(scheme, site)
  return nn.Dense(
    features,
    dtype=dtype,
    name=name,
    kernel_init=logical(kernel_init, *axes),
    bias_init=logical(bias_init, axes[-1]),
    **kw,
  )


class Embeddings(nn.Module):
  spec: ModelSpec

  def setup(self):
    spec = self.spec
    self.word = nn.Embed(
      spec.vocab_size,
      spec.embed_dim,
      embedding_init=logical(nn.initializers.normal(spec.embed_init_std), "vocab", "embed"),
      name="word",
    )
    self.positions = Positions(
      spec.resolved_positions, spec.max_len, spec.embed_dim, name="position"
    )
    if spec.type_vocab_size:
      self.types = nn.Embed(
        spec.type_vocab_size,
        spec.embed_dim,
        embedding_init=logical(nn.initializers.normal(0.02), None, "embed"),
        name="type",
      )
    if spec.embed_norm:
      self.norm = layer_norm(spec, "norm")
    if spec.embed_projection:
      self.projection = dense(
        spec.d_model,
        "projection",
        ("embed", "embed_out"),
        spec.compute_dtype,
        scheme=spec.init_scheme,
        site="projection",
      )
    elif spec.embed_dim != spec.d_model:
      raise ValueError("model.d_embed != d_model needs model.embed_projection=True")
    self.dropout = Dropout(spec.dropout_rate, impl=spec.dropout_impl)

  def __call__(self, ids, type_ids=None, deterministic=True, offset=0):
    x = add_positions(self.word(ids), self.positions(ids.shape[1], offset))
    if self.spec.type_vocab_size:
      x = x + self.types(jnp.zeros_like(ids) if type_ids is None else type_ids)
    if self.spec.embed_norm:
      x = self.norm(x)
    if self.spec.embed_projection:  # on [b*n, e], as FeedForward (fnetlab/models/layers.py)
      x = self.projection(x.reshape(-1, x.shape[-1])).reshape(*x.shape[:-1], -1)
    return self.dropout(x, deterministic=deterministic).astype(self.spec.compute_dtype)

  def attend(self, h):
    """Logits against the word embedding (the tied MLM decoder)."""
    return self.word.attend(h.astype(jnp.float32))


class Encoder(nn.Module):
  """Embeddings + N blocks. Returns the sequence output [batch, length, d_model]."""

  spec: ModelSpec

  @nn.compact
  def __call__(self, ids, type_ids=None, mask=None, deterministic=True):
    x = Embeddings(self.spec, name="embeddings")(ids, type_ids, deterministic)
    for block in build_blocks(self.spec, causal=self.spec.causal):
      x = block(x, mask, deterministic)
    if self.spec.norm == "pre":
      x = final_norm(self.spec)(x)
    return x


def pool(h, mask, how: str):
  """CLS (first token), masked mean, or last real token."""
  if how == "cls":
    return h[:, 0]
  m = jnp.ones(h.shape[:2], h.dtype) if mask is None else mask.astype(h.dtype)
  if how == "mean":
    return (h * m[..., None]).sum(1) / jnp.maximum(m.sum(1, keepdims=True), 1.0)
  last = jnp.maximum(m.sum(1).astype(jnp.int32) - 1, 0)
  return jnp.take_along_axis(h, last[:, None, None], axis=1)[:, 0]


class Pooler(nn.Module):
  spec: ModelSpec

  @nn.compact
  def __call__(self, h, mask=None):
    x = pool(h, mask if self.spec.pool_masked else None, self.spec.resolved_pooling)
    if self.spec.pooler_dense:
      spec = self.spec
      pooler = dense(
        spec.d_model,
        "dense",
        ("embed", "embed_out"),
        spec.compute_dtype,
        scheme=spec.init_scheme,
        site="pooler",
      )
      x = jnp.tanh(pooler(x))
    return x


class EncoderModel(nn.Module):
  """Encoder + pooler: the `(sequence_output, pooled_output)` backbone (HF parity target)."""

  spec: ModelSpec

  def setup(self):
    self.encoder = Encoder(self.spec)
    self.pooler = Pooler(self.spec)

  def __call__(self, ids, type_ids=None, mask=None, deterministic=True):
    h = self.encoder(ids, type_ids, mask, deterministic)
    return {"sequence_output": h, "pooled_output": self.pooler(h, mask)}


class Head(nn.Module):
  """[Dense(hidden)-ReLU]* then Dense(num_classes), in float32, with no dropout: f_net's
  classifier and LRA's `classifier_head` have none."""

  num_classes: int
  hidden: tuple = ()
  init_scheme: str = "fnet"

  @nn.compact
  def __call__(self, x):
    x = x.astype(jnp.float32)
    scheme = self.init_scheme
    for i, width in enumerate(self.hidden):
      x = nn.relu(
        dense(width, f"hidden_{i}", ("embed", "mlp"), scheme=scheme, site="head_hidden")(x)
      )
    return dense(self.num_classes, "logits", ("mlp", None), scheme=scheme, site="logits")(x)


class Classifier(nn.Module):
  """Sequence classification / regression. batch keys: inputs, [type_ids], [mask]."""

  spec: ModelSpec

  @nn.compact
  def __call__(self, batch, deterministic=True):
    mask = batch.get("mask")
    out = EncoderModel(self.spec, name="backbone")(
      batch["inputs"], batch.get("type_ids"), mask, deterministic
    )
    hidden = (self.spec.head_hidden,) if self.spec.head_hidden else ()
    head = Head(self.spec.num_classes, hidden, self.spec.init_scheme, name="head")
    return head(out["pooled_output"])


def interact(e1, e2, how: str):
  """The two-tower head's input: concat[e1, e2] or the NLI form [e1, e2, e1*e2, e1-e2]."""
  if how == "nli":
    return jnp.concatenate([e1, e2, e1 * e2, e1 - e2], axis=-1)
  return jnp.concatenate([e1, e2], axis=-1)


class DualClassifier(nn.Module):
  """LRA Retrieval: one shared encoder on both documents, a head on their interaction."""

  spec: ModelSpec

  @nn.compact
  def __call__(self, batch, deterministic=True):
    spec = self.spec
    backbone = EncoderModel(spec, name="backbone")
    e1 = backbone(batch["inputs"], None, batch.get("mask"), deterministic)["pooled_output"]
    e2 = backbone(batch["inputs2"], None, batch.get("mask2"), deterministic)["pooled_output"]
    width = spec.head_hidden or spec.d_model
    head = Head(spec.num_classes, (width, width // 2), spec.init_scheme, name="head")
    return head(interact(e1, e2, spec.interaction))


class Pretrainer(nn.Module):
  """MLM + NSP. batch: inputs, type_ids, mask, mlm_positions [b, p]. Returns (mlm, nsp) logits."""

  spec: ModelSpec

  @nn.compact
  def __call__(self, batch, deterministic=True):
    spec = self.spec
    backbone = EncoderModel(spec, name="backbone")
    out = backbone(batch["inputs"], batch.get("type_ids"), batch.get("mask"), deterministic)
    h = jnp.take_along_axis(out["sequence_output"], batch["mlm_positions"][..., None], axis=1)
    mlm_dense = dense(
      spec.embed_dim, "mlm_dense", ("embed_out", "embed"), scheme=spec.init_scheme, site="mlm"
    )
    h = mlm_dense(h.astype(jnp.float32))
    h = nn.LayerNorm(epsilon=spec.ln_eps, name="mlm_norm")(activation(spec.activation)(h))
    word = backbone.variables["params"]["encoder"]["embeddings"]["word"]["embedding"]
    mlm = h @ nn.unbox(word).T.astype(jnp.float32)
    _, mlm_bias_init = dense_init(spec.init_scheme, "logits")  # f_net: the output bias N(0.02)
    mlm = mlm + self.param("mlm_bias", logical(mlm_bias_init, "vocab"), (spec.vocab_size,))
    nsp = dense(2, "nsp", ("embed", None), scheme=spec.init_scheme, site="logits")
    nsp = nsp(out["pooled_output"].astype(jnp.float32))
    return mlm, nsp


class Denoiser(nn.Module):
  """Self-pretraining on a task's inputs. `spec.vocab_size` includes the [MASK] id `mask_id`.

  Bidirectional (`causal=False`): every real position is replaced by [MASK] with probability
  `mask_rate`, drawn from the step's dropout rng in training (a fresh mask every step) and
  from a fixed key in evaluation (the same mask at every evaluation); the loss is on the
  masked positions. Causal: next-token prediction at every real position that has a real
  successor. Returns logits [b, n, vocab], targets [b, n] and weights [b, n].
  """

  spec: ModelSpec
  mask_rate: float
  mask_id: int
  causal: bool = False

  @nn.compact
  def __call__(self, batch, deterministic=True):
    ids = batch["inputs"]
    real = jnp.ones(ids.shape, bool) if batch.get("mask") is None else batch["mask"].astype(bool)
    if self.causal:
      inputs = ids
      targets = jnp.concatenate([ids[:, 1:], jnp.zeros_like(ids[:, :1])], axis=1)
      weights = jnp.concatenate([real[:, 1:] & real[:, :-1], jnp.zeros_like(real[:, :1])], 1)
    else:
      key = jax.random.PRNGKey(0) if deterministic else self.make_rng("dropout")
      masked = jax.random.bernoulli(key, self.mask_rate, ids.shape) & real
      inputs = jnp.where(masked, self.mask_id, ids)
      targets, weights = ids, masked
    out = EncoderModel(self.spec, name="backbone")(
      inputs, batch.get("type_ids"), batch.get("mask"), deterministic
    )
    h = out["sequence_output"].astype(jnp.float32)
    spec = self.spec
    head = dense(spec.vocab_size, "denoise", ("embed", "vocab"), scheme=spec.init_scheme)
    return {"logits": head(h), "targets": targets, "weights": weights.astype(jnp.float32)}
