"""The token-mixer registry; the contract every mixer follows is `fnetlab.mixers.base`.

`get(name, **fields)` builds one mixer. Fields are checked against the mixer's own, so a field
a mixer does not have (for example `causal=True` on FNet) is an error, never silently dropped.
`option_names(name)` are its user options (what `model.mixer_options` may set); its other
fields are model plumbing (`base.MODEL_FIELDS`), which the model builders pass as `model=`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from fnetlab.mixers.attention import Attention
from fnetlab.mixers.base import MODEL_FIELDS, Mixer
from fnetlab.mixers.baselines import FFOnly, LinearMixer, RandomMixer
from fnetlab.mixers.fourier import FourierMixer
from fnetlab.mixers.lsra import LSRA
from fnetlab.mixers.spectral import SpectralMixer
from fnetlab.mixers.worker import WorkerBlock, worker_positions

MIXERS: dict[str, type[Mixer]] = {
  "fourier": FourierMixer,
  "linear": LinearMixer,
  "random": RandomMixer,
  "ff_only": FFOnly,
  "attention": Attention,
  "spectral": SpectralMixer,
  "lsra": LSRA,
  "worker": WorkerBlock,
}

# Fields every flax Module has; neither options nor plumbing.
_MODULE_FIELDS = {"parent", "name"}


def names() -> list[str]:
  """All registered mixer names."""
  return sorted(MIXERS)


def causal_names() -> list[str]:
  """Mixers that can be made causal (usable in the decoder)."""
  return sorted(n for n, c in MIXERS.items() if c.supports_causal)


def mixer_class(name: str) -> type[Mixer]:
  """The class registered under `name`; ValueError naming the valid choices."""
  if name not in MIXERS:
    raise ValueError(f"unknown mixer {name!r}; valid mixers: {', '.join(names())}")
  return MIXERS[name]


def field_names(name: str) -> set[str]:
  """Every field mixer `name` has: its user options and the model plumbing it takes."""
  return {f.name for f in dataclasses.fields(mixer_class(name)) if f.init} - _MODULE_FIELDS


def option_names(name: str) -> set[str]:
  """The user options of mixer `name` (what `model.mixer_options` may set)."""
  return field_names(name) - MODEL_FIELDS


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
  return mixer_class(name).is_block


def check_options(name: str, options: Mapping) -> None:
  """ValueError naming the first key of `options` that is not a user option of mixer `name`
  (a model field gets the key to set instead)."""
  valid = option_names(name)
  for key in sorted(set(options) - valid):
    where = f"a model setting (model.{key})" if key in MODEL_FIELDS else "not one of its options"
    raise ValueError(
      f"mixer {name!r} option {key!r}: {where}; its options: {', '.join(sorted(valid)) or 'none'}"
    )


def get(mixer: str, /, *, model: Mapping | None = None, causal: bool = False, **fields) -> Mixer:
  """Builds the mixer registered as `mixer` with `fields` (options or plumbing).

  `causal=True` is translated by the mixer class (`causal_options`, plus its `causal` field
  where it has one) and refused by mixers that cannot be causal. `model` maps plumbing names
  (`base.MODEL_FIELDS`) to the model's values; the mixer takes those it has fields for, and
  explicit `fields` win. Unknown `fields` raise ValueError.
  """
  name = mixer
  cls = mixer_class(name)
  fields = dict(fields)
  module_kwargs = {k: fields.pop(k) for k in ("name", "parent") if k in fields}
  valid = field_names(name)
  unknown = sorted(set(fields) - valid)
  if unknown:
    raise ValueError(
      f"mixer {name!r} has no option {', '.join(map(repr, unknown))}; "
      f"its options: {', '.join(sorted(option_names(name))) or '(none)'}"
    )
  if causal:
    if not cls.supports_causal:
      raise ValueError(
        f"mixer {name!r} cannot be causal (causal=True); causal mixers: {', '.join(causal_names())}"
      )
    fields = cls.causal_options(fields)
    if "causal" in valid:
      fields["causal"] = True
  plumbing = {k: v for k, v in (model or {}).items() if k in valid and k in MODEL_FIELDS}
  return cls(**{**plumbing, **fields}, **module_kwargs)


__all__ = [
  "MIXERS",
  "MODEL_FIELDS",
  "Attention",
  "FFOnly",
  "FourierMixer",
  "LSRA",
  "LinearMixer",
  "Mixer",
  "RandomMixer",
  "SpectralMixer",
  "WorkerBlock",
  "causal_names",
  "check_options",
  "field_names",
  "get",
  "is_block",
  "mixer_class",
  "names",
  "option_names",
  "option_value",
  "worker_positions",
]
