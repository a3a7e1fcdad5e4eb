"""Model sizes, the frozen `ModelSpec` every model module is built from, and the one path from a
config's `model` block to it.

`spec_from_config(config.model)` turns the `model` block of any task config into a
`ModelSpec`: `size` picks the dimensions from `SIZES` or from the config's own `model.sizes`
(the LRA configs declare `lra` there), and any dimension set explicitly wins over the size.
Base and large are the FNet paper's dimensions. Every mistake is one UserError naming the key.

Choices that depend on the mixer are never made by a config file: a field left at `auto` is
resolved from the mixer class's declaration (fnetlab/mixers/base.py) when the model is built,
so `:mixer=X` and `--config.model.mixer=X` build the same model:
- `final_norm='auto'`: the mixer's `final_norm` (RMSNorm for the WorkerTransformer, else
  LayerNorm);
- `positions='auto'`: no absolute table where the mixer encodes positions itself (attention
  with `model.rope`, the worker layer), else a learned table;
- `pooling='auto'`: the mixer's `pooling` where it needs one (mean for the worker layer, whose
  CLS stream is never updated), else CLS.
The spectral mixer's causal mode is its `causal_options`, applied where the model is causal.

The defaults describe the FNet/BERT encoder as google-research `f_net` builds it (post-LN
blocks, LayerNorm epsilon 1e-12, N(0, 0.02²) initialisation, no dropout on the mixing output);
the LRA configs switch the fields that make the official LRA Transformer block
(`fnetlab.config.LRA_ENCODER`). Each field that departs from one source for another is a row
in docs/fidelity.md.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax.numpy as jnp

from fnetlab import mixers
from fnetlab.common.errors import UserError
from fnetlab.nn.dropout import IMPLS as DROPOUT_IMPLS
from fnetlab.nn.inits import SCHEMES

SIZES = {
  "tiny": dict(num_layers=2, d_model=64, d_ff=128, num_heads=2),
  "small": dict(num_layers=4, d_model=256, d_ff=1024, num_heads=4),
  "base": dict(num_layers=12, d_model=768, d_ff=3072, num_heads=12),
  "large": dict(num_layers=24, d_model=1024, d_ff=4096, num_heads=16),
}
SIZE_KEYS = ("num_layers", "d_model", "d_ff", "num_heads")  # every size sets these
HYBRIDS = ("none", "top", "bottom", "middle", "mixed")
POSITIONS = ("learned", "sinusoidal", "fourier", "none", "auto")
NORMS = ("post", "pre")
ACTIVATIONS = ("gelu", "gelu_exact", "relu", "ewu")
POOLINGS = ("cls", "mean", "last", "auto")
FINAL_NORMS = ("auto", "layer", "rms")
INTERACTIONS = ("concat", "nli")
DTYPES = {"float32": jnp.float32, "bfloat16": jnp.bfloat16}


@dataclasses.dataclass(frozen=True)
class ModelSpec:
  """Everything a model needs; hashable, so it can sit on flax modules."""

  mixer: str = "fourier"
  mixer_options: tuple = ()  # sorted (key, value) pairs: the mixer's user options
  num_layers: int = 2
  d_model: int = 64
  d_ff: int = 128
  num_heads: int = 2
  qkv_dim: int | None = None  # attention's total Q/K/V width; None = d_model (LRA Image: less)
  d_embed: int | None = None  # embedding width before the projection; None = d_model
  vocab_size: int = 256
  type_vocab_size: int = 4  # 0 disables token-type embeddings
  max_len: int = 512
  positions: str = "learned"  # learned | sinusoidal | fourier | none | auto (module doc)
  rope: bool = False  # rotary positions on Q and K in every attention layer
  norm: str = "post"
  hybrid: str = "none"  # attention in some layers: top | bottom | middle | mixed
  hybrid_layers: int = 2
  activation: str = "gelu"
  dropout_rate: float = 0.1  # residual dropout: embeddings, sublayer outputs, FFNs
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
  pooling: str = "cls"  # cls | mean | last | auto (module doc)
  pool_masked: bool = True  # mean / last pooling skip masked positions (LRA's mean does not)
  pooler_dense: bool = True  # FNet/BERT tanh(Dense(h_cls)) pooler
  head_hidden: int = 0  # >0: LRA head Dense(head_hidden)-ReLU before the logits; -1: d_ff
  interaction: str = "concat"  # two-tower head input: concat [e1, e2] | nli [e1, e2, e1*e2, e1-e2]
  num_classes: int = 2
  causal: bool = False  # encoder: make every layer causal (the decoder always is)
  dtype: str = "float32"

  def __post_init__(self):
    """ValueError 'model.<key>...: why' for a value no model can be built from."""
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
    try:
      mixers.mixer_class(self.mixer)
    except ValueError as e:
      raise ValueError(f"model.mixer={self.mixer!r}: {e}") from None
    try:
      mixers.check_options(self.mixer, dict(self.mixer_options))
    except ValueError as e:
      raise ValueError(f"model.mixer_options: {e}") from None
    if self.causal:
      check_causal(self)

  @property
  def mixer_class(self) -> type:
    return mixers.mixer_class(self.mixer)

  @property
  def resolved_positions(self) -> str:
    """`positions`, with `auto` resolved by the mixer's declaration (module doc)."""
    if self.positions != "auto":
      return self.positions
    return "none" if self.mixer_class.encodes_positions(self) else "learned"

  @property
  def resolved_pooling(self) -> str:
    """`pooling`, with `auto` resolved by the mixer's declaration (module doc)."""
    if self.pooling != "auto":
      return self.pooling
    return self.mixer_class.pooling or "cls"

  @property
  def resolved_final_norm(self) -> str:
    """`final_norm`, with `auto` resolved by the mixer's declaration (module doc)."""
    return self.mixer_class.final_norm if self.final_norm == "auto" else self.final_norm

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

  def mixer_fields(self) -> dict:
    """The model plumbing every layer's mixer takes (fnetlab/mixers/base.py MODEL_FIELDS)."""
    values = {k: getattr(self, k) for k in mixers.MODEL_FIELDS if hasattr(self, k)}
    return {**values, "dtype": self.compute_dtype}


def check_causal(spec: ModelSpec) -> None:
  """ValueError unless every layer's mixer can run causally with the configured options."""
  options = dict(spec.mixer_options)
  for name in sorted(set(layer_mixers(spec))):
    cls = mixers.mixer_class(name)
    if not cls.supports_causal:
      raise ValueError(
        f"model.mixer={name!r} cannot be causal; causal mixers: {', '.join(mixers.causal_names())}"
      )
    if name == spec.mixer:
      try:
        cls.causal_options(options)
      except ValueError as e:
        raise ValueError(f"model.mixer_options: {e}") from None


def spec_from_config(model_cfg, **overrides) -> ModelSpec:
  """Builds a ModelSpec from a config's `model` block (ConfigDict or dict) and `overrides`.

  The one error path: any value no model can be built from is a UserError naming its key.
  """
  cfg = dict(model_cfg.to_dict() if hasattr(model_cfg, "to_dict") else model_cfg)
  cfg.update(overrides)
  sizes = {**SIZES, **{k: dict(v) for k, v in dict(cfg.pop("sizes", None) or {}).items()}}
  size = cfg.pop("size", None) or "tiny"
  if size not in sizes:
    raise UserError(f"config key model.size={size!r}; valid: {', '.join(sizes)}")
  dims = sizes[size]
  missing = [k for k in SIZE_KEYS if k not in dims]
  if missing:
    raise UserError(f"config key model.sizes.{size}: sets no {', '.join(missing)}")
  for key, value in dims.items():
    if key not in SIZE_KEYS and key != "qkv_dim":
      raise UserError(f"config key model.sizes.{size}.{key}: not a size key")
    if cfg.get(key) in (None, 0):
      cfg[key] = value
  if cfg.get("head_hidden") == -1:
    cfg["head_hidden"] = cfg["d_ff"]
  options = cfg.pop("mixer_options", None) or {}
  cfg["mixer_options"] = tuple(sorted(dict(options).items()))
  fields = {f.name for f in dataclasses.fields(ModelSpec)}
  unknown = sorted(set(cfg) - fields)
  if unknown:
    raise UserError(f"config key {', '.join('model.' + k for k in unknown)}: unknown model key")
  try:
    return ModelSpec(**cfg)
  except ValueError as e:
    raise UserError(f"config key {e}") from None


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
