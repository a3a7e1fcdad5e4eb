"""The token-mixer registry.

Every mixer is a `flax.linen.Module` called as

    module.apply(variables, x, mask=None, deterministic=True)

with `x` of shape `[batch, length, features]` and `mask` `[batch, length]` (True at real
tokens); the output has `x`'s shape. `get(name, **options)` builds one. Options are checked
against the mixer's own fields, so an option a mixer does not have (for example
`causal=True` on FNet) is an error, never silently dropped.

A mixer whose class sets `is_block = True` (the WorkerTransformer layer) carries its own FFN
and residuals and is used by the model builders in place of a whole block.

Model-level settings reach mixers through `model_defaults` under shared field names
(`fnetlab.models.layers.mixer_defaults`): `dropout_rate` is a mixer's attention-probability
dropout (Attention, LSRA's attention half), `use_bias` its attention biases, `init_scheme` its
dense initialisers (fnetlab/nn/inits.py); a whole-block mixer's `dropout_rate` is its residual
dropout and `attention_dropout` its attention-probability dropout.
"""

from __future__ import annotations

import dataclasses

from flax import linen as nn

from fnetlab.mixers.attention import Attention
from fnetlab.mixers.baselines import FFOnly, LinearMixer, RandomMixer
from fnetlab.mixers.fourier import FourierMixer
from fnetlab.mixers.lsra import LSRA
from fnetlab.mixers.spectral import SpectralMixer
from fnetlab.mixers.worker import WorkerBlock, worker_positions

MIXERS: dict[str, type[nn.Module]] = {
  "fourier": FourierMixer,
  "linear": LinearMixer,
  "random": RandomMixer,
  "ff_only": FFOnly,
  "attention": Attention,
  "spectral": SpectralMixer,
  "lsra": LSRA,
  "worker": WorkerBlock,
}

# Fields every flax Module has; they are not user options.
_MODULE_FIELDS = {"parent", "name"}


def names() -> list[str]:
  """All registered mixer names."""
  return sorted(MIXERS)


def causal_names() -> list[str]:
  """Mixers that can be made causal (usable in the decoder)."""
  return sorted(n for n, c in MIXERS.items() if getattr(c, "supports_causal", False))


def mixer_class(name: str) -> type[nn.Module]:
  """The class registered under `name`; ValueError naming the valid choices."""
  if name not in MIXERS:
    raise ValueError(f"unknown mixer {name!r}; valid mixers: {', '.join(names())}")
  return MIXERS[name]


def option_names(name: str) -> set[str]:
  """The options (dataclass fields) that mixer `name` accepts."""
  cls = mixer_class(name)
  return {f.name for f in dataclasses.fields(cls) if f.init} - _MODULE_FIELDS


def option_value(name: str, options, key: str):
  """Option `key` of mixer `name` built with `options`: the given value, else the default."""
  options = dict(options or {})
  if key in options:
    return options[key]
  fields = {f.name: f for f in dataclasses.fields(mixer_class(name)) if f.init}
  if key not in fields or fields[key].default is dataclasses.MISSING:
    raise ValueError(f"mixer {name!r} has no option {key!r} with a default")
  return fields[key].default


def is_block(name: str) -> bool:
  """True when the mixer is a whole block (carries its own FFN and residuals)."""
  return bool(getattr(mixer_class(name), "is_block", False))


def get(mixer: str, /, *, model_defaults: dict | None = None, **options) -> nn.Module:
  """Builds the mixer registered as `mixer` with `options`.

  `causal=True` is translated by the mixer class (`causal_options`) and refused by mixers
  that cannot be causal. `model_defaults` are model-level sizes (num_heads, d_ff, dtype,
  dropout_rate, ...) that a builder offers every mixer; each mixer takes only the ones it
  has fields for, and explicit `options` win. Unknown `options` raise ValueError.
  """
  name = mixer
  cls = mixer_class(name)
  options = dict(options)
  module_kwargs = {k: options.pop(k) for k in ("name", "parent") if k in options}
  causal = options.pop("causal", None)
  valid = option_names(name)
  unknown = sorted(set(options) - valid)
  if unknown:
    raise ValueError(
      f"mixer {name!r} has no option {', '.join(map(repr, unknown))}; "
      f"its options: {', '.join(sorted(valid)) or '(none)'}"
    )
  if causal:
    if not getattr(cls, "supports_causal", False):
      raise ValueError(
        f"mixer {name!r} cannot be causal (causal=True); causal mixers: {', '.join(causal_names())}"
      )
    options = cls.causal_options(options)
  defaults = {k: v for k, v in (model_defaults or {}).items() if k in valid}
  return cls(**{**defaults, **options}, **module_kwargs)


__all__ = [
  "MIXERS",
  "Attention",
  "FFOnly",
  "FourierMixer",
  "LSRA",
  "LinearMixer",
  "RandomMixer",
  "SpectralMixer",
  "WorkerBlock",
  "causal_names",
  "get",
  "is_block",
  "mixer_class",
  "names",
  "option_names",
  "option_value",
  "worker_positions",
]
