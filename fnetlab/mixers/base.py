"""The mixer contract: what every token mixer is, declares and takes.

**Call.** A mixer is a `flax.linen.Module` called as

    mixer(x, mask=None, deterministic=True)

with `x` of shape `[batch, length, features]` and `mask` `[batch, length]` (True at real
tokens, or None); it returns an array of `x`'s shape. `deterministic=False` turns its dropout
on (rng stream `dropout`).

**Declarations** (class attributes of `Mixer`, overridden by each mixer class):
- `supports_causal`: it can run causally (the decoder, `model.causal`); `causal_options`
  turns its user options into causal ones or raises ValueError where they contradict.
- `is_block`: it is a whole block (its own FFN, norms and residuals), used by the model
  builders in place of the shared `Block`.
- `final_norm`: the norm a pre-LN model of these layers ends with (`layer` | `rms`), taken by
  `model.final_norm='auto'`.
- `pooling`: the pooling a classifier over these layers needs (None: any), taken by
  `model.pooling='auto'` in place of CLS.
- `encodes_positions(model)`: given the model's settings (a `ModelSpec`), whether it carries
  position information itself (RoPE), so `model.positions='auto'` gives no absolute table.

**Fields.** A field named in `MODEL_FIELDS` is model plumbing: the model builders fill it from
the `ModelSpec` field of the same name (`dtype` from `model.dtype`), for every layer alike, so
it has one home, the `model` block of a config. Every other field is a user option of that
mixer, set in `model.mixer_options` (`option_names` lists them). The names mean one thing
everywhere: `attention_dropout` is attention-probability dropout (attention, LSRA's attention
half, the worker layer, hybrid layers), `dropout_rate` residual dropout only (a whole-block
mixer's own residuals), `attention_bias` the biases of attention's Q/K/V/out projections.
"""

from __future__ import annotations

from typing import Any, ClassVar

from flax import linen as nn

# Mixer fields the model builders fill from the ModelSpec field of the same name (or, for
# `causal` and `decode`, from what is being built); never user options.
MODEL_FIELDS = frozenset(
  {
    "num_heads",  # model.num_heads
    "d_ff",  # model.d_ff: a whole-block mixer's FFN width
    "qkv_dim",  # model.qkv_dim: attention's Q/K/V width (None: the input width)
    "rope",  # model.rope: rotary positions on attention's Q and K
    "attention_dropout",  # attention-probability dropout
    "attention_bias",  # biases on attention's Q/K/V/out projections
    "dropout_rate",  # residual dropout (whole-block mixers)
    "dropout_impl",  # dropout mask PRNG (fnetlab/nn/dropout.py)
    "init_scheme",  # dense-layer initialisers (fnetlab/nn/inits.py)
    "dtype",  # compute dtype (model.dtype)
    "causal",  # set by the decoder and by model.causal
    "decode",  # set by the decoder's incremental form
  }
)


class Mixer(nn.Module):
  """Base of every token mixer; see the module docstring for the contract."""

  supports_causal: ClassVar[bool] = False
  is_block: ClassVar[bool] = False
  final_norm: ClassVar[str] = "layer"
  pooling: ClassVar[str | None] = None

  @staticmethod
  def causal_options(options: dict) -> dict:
    """The user options that make this mixer causal (ValueError if they cannot be)."""
    return options

  @classmethod
  def encodes_positions(cls, model: Any) -> bool:
    """Whether the layer carries position information itself, given the model's settings."""
    del model
    return False

  def __call__(self, x, mask=None, deterministic=True):
    raise NotImplementedError
