"""Model sizes and the frozen `ModelSpec` that every model module is built from.

`spec_from_config(config.model)` turns the ml_collections `model` block of any task config into
a `ModelSpec`: `size` picks the dimensions from `SIZES`, and any dimension set explicitly in the
config wins over the size. Base and large are the FNet paper's dimensions.

The defaults describe the FNet/BERT encoder as google-research `f_net` builds it (post-LN
blocks, LayerNorm epsilon 1e-12, N(0, 0.02²) initialisation, no dropout on the mixing output);
the LRA configs switch the fields that make the official LRA Transformer block. Each field
that departs from one source for another is a row in docs/fidelity.md.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax.numpy as jnp

from fnetlab.nn.dropout import IMPLS as DROPOUT_IMPLS
from fnetlab.nn.inits import SCHEMES

SIZES = {
  "tiny": dict(num_layers=2, d_model=64, d_ff=128, num_heads=2),
  "small": dict(num_layers=4, d_model=256, d_ff=1024, num_heads=4),
  "base": dict(num_layers=12, d_model=768, d_ff=3072, num_heads=12),
  "large": dict(num_layers=24, d_model=1024, d_ff=4096, num_heads=16),
}
SIZE_KEYS = ("num_layers", "d_model", "d_ff", "num_heads")
HYBRIDS = ("none", "top", "bottom", "middle", "mixed")
POSITIONS = ("learned", "sinusoidal", "fourier", "none")
NORMS = ("post", "pre")
ACTIVATIONS = ("gelu", "gelu_exact", "relu", "ewu")
POOLINGS = ("cls", "mean", "last")
FINAL_NORMS = ("auto", "layer", "rms")
INTERACTIONS = ("concat", "nli")
DTYPES = {"float32": jnp.float32, "bfloat16": jnp.bfloat16}

# The official LRA Transformer encoder (google-research long-range-arena,
# models/transformer/transformer.py), as ModelSpec values; the LRA configs apply it to every
# mixer, so only the mixing sublayer differs between models.
LRA_ENCODER = dict(
  norm="pre",  # x + drop(mix(LN(x))), then x + MLP(LN(x))
  mixer_dropout=True,  # dropout on the mixing sublayer's output
  ffn_inner_dropout=True,  # MlpBlock: dropout after the activation and after the output
  final_norm="layer",  # `encoder_norm` after the last block
  ln_eps=1e-6,  # flax LayerNorm's default epsilon
  activation="gelu",  # flax's gelu, the tanh approximation
  attention_dropout=0.1,  # TransformerEncoder default; Image / Pathfinder override it
  attention_bias=False,  # SelfAttention(bias=False): no Q/K/V/out biases
  init_scheme="lra",  # Xavier-uniform kernels, N(0, 1e-6²) biases; LeCun-normal head
  embed_init_std=1.0,  # token embedding N(0, 1)
  type_vocab_size=0,  # no token types
  embed_norm=False,  # no embedding LayerNorm
  embed_projection=False,  # no embedding projection
  pool_masked=False,  # classifier_head's mean averages every position, masked or not
  pooler_dense=False,  # head: pool -> Dense(d_ff) -> ReLU -> Dense(classes)
  head_hidden=-1,  # -1: d_ff wide
)


@dataclasses.dataclass(frozen=True)
class ModelSpec:
  """Everything a model needs; hashable, so it can sit on flax modules."""

  mixer: str = "fourier"
  mixer_options: tuple = ()  # sorted (key, value) pairs passed to fnetlab.mixers.get
  num_layers: int = 2
  d_model: int = 64
  d_ff: int = 128
  num_heads: int = 2
  d_embed: int | None = None  # embedding width before the projection; None = d_model
  vocab_size: int = 256
  type_vocab_size: int = 4  # 0 disables token-type embeddings
  max_len: int = 512
  positions: str = "learned"
  norm: str = "post"
  hybrid: str = "none"  # attention in some layers: top | bottom | middle | mixed
  hybrid_layers: int = 2
  activation: str = "gelu"
  dropout_rate: float = 0.1
  dropout_impl: str = "hash"  # dropout mask PRNG: hash | threefry (fnetlab/nn/dropout.py)
  attention_dropout: float = 0.0  # attention-probability dropout in every attention layer
  attention_bias: bool = True  # biases on attention Q/K/V/out (f_net: yes; LRA: no)
  mixer_dropout: bool | None = None  # dropout on the mixer output; None: pre-LN yes, post-LN no
  ffn_inner_dropout: bool = False  # dropout after the FFN activation too (LRA's MlpBlock)
  init_scheme: str = "fnet"  # fnet | lra | xavier (fnetlab/nn/inits.py)
  ln_eps: float = 1e-12
  embed_init_std: float = 0.02  # word-embedding init std (f_net 0.02; LRA 1.0)
  embed_norm: bool = True
  embed_projection: bool = True
  final_norm: str = "auto"  # pre-LN final norm: auto (the mixer's choice) | layer | rms
  pooling: str = "cls"
  pool_masked: bool = True  # mean / last pooling skip masked positions (LRA's mean does not)
  pooler_dense: bool = True  # FNet/BERT tanh(Dense(h_cls)) pooler
  head_hidden: int = 0  # >0: LRA head Dense(head_hidden)-ReLU before the logits; -1: d_ff
  interaction: str = "concat"  # two-tower head input: concat [e1, e2] | nli [e1, e2, e1*e2, e1-e2]
  num_classes: int = 2
  causal: bool = False  # encoder: make every layer causal (the decoder always is)
  dtype: str = "float32"

  def __post_init__(self):
    for key, allowed in (
      ("hybrid", HYBRIDS),
      ("positions", POSITIONS),
      ("norm", NORMS),
      ("activation", ACTIVATIONS),
      ("pooling", POOLINGS),
      ("final_norm", FINAL_NORMS),
      ("interaction", INTERACTIONS),
      ("init_scheme", SCHEMES),
      ("dtype", tuple(DTYPES)),
      ("dropout_impl", DROPOUT_IMPLS),
    ):
      if getattr(self, key) not in allowed:
        raise ValueError(f"model.{key}={getattr(self, key)!r}; valid: {', '.join(allowed)}")

  @property
  def compute_dtype(self) -> Any:
    return DTYPES[self.dtype]

  @property
  def embed_dim(self) -> int:
    return self.d_embed or self.d_model

  @property
  def drops_mixer_output(self) -> bool:
    """Whether blocks drop the mixer's output: LRA's pre-LN block does, f_net's post-LN does not."""
    return self.norm == "pre" if self.mixer_dropout is None else bool(self.mixer_dropout)


def spec_from_config(model_cfg, **overrides) -> ModelSpec:
  """Builds a ModelSpec from a config's `model` block (ConfigDict or dict)."""
  cfg = dict(model_cfg.to_dict() if hasattr(model_cfg, "to_dict") else model_cfg)
  cfg.update(overrides)
  size = cfg.pop("size", None) or "tiny"
  if size not in SIZES:
    raise ValueError(f"model.size={size!r}; valid: {', '.join(SIZES)}")
  for key in SIZE_KEYS:
    if cfg.get(key) in (None, 0):
      cfg[key] = SIZES[size][key]
  if cfg.get("head_hidden") == -1:
    cfg["head_hidden"] = cfg["d_ff"]
  options = cfg.pop("mixer_options", None) or {}
  cfg["mixer_options"] = tuple(sorted(dict(options).items()))
  fields = {f.name for f in dataclasses.fields(ModelSpec)}
  unknown = sorted(set(cfg) - fields)
  if unknown:
    raise ValueError(f"unknown model config key(s): {', '.join('model.' + k for k in unknown)}")
  return ModelSpec(**cfg)


def layer_mixers(spec: ModelSpec) -> list[str]:
  """The mixer name of every layer, after the hybrid layout puts attention in some of them."""
  n, k = spec.num_layers, min(spec.hybrid_layers, spec.num_layers)
  names = [spec.mixer] * n
  if spec.hybrid == "none" or k == 0:
    return names
  # The official f_net layouts (models.py, _is_attention_layer).
  if spec.hybrid == "top":
    idx = range(n - k, n)
  elif spec.hybrid == "bottom":
    idx = range(k)
  elif spec.hybrid == "middle":  # n - k <= 2i < n + k
    start = (n - k + 1) // 2
    idx = range(start, start + k)
  else:  # mixed: i % (n // k) == 0, from the bottom; capped at k layers (f_net is not when
    # k does not divide n, e.g. 6 attention layers for n=12, k=5)
    idx = range(0, n, n // k)[:k]
  for i in idx:
    names[i] = "attention"
  return names
