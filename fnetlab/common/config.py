"""The one config loader: a Python config file, its `:arg` string, and dotted overrides.

  load("configs/lra/listops.py:mixer=fourier,runlocal", {"train.steps": "100"})

A config file exposes `get_config(arg=None)` (big_vision style); `arg` is everything after the
first `:`. Overrides are `dotted.key -> value`; a text value (from the command line) is
converted to the type the field already has (int, float, bool, str, tuple, list), so
`--config.train.steps=1e3` is an error rather than a silent float. A group in `OPEN_GROUPS`
also takes new keys (`--config.model.mixer_options.interval=8`: the mixer checks its options
when the model is built). Every mistake — a missing
file, an exception inside the file, an unknown key, a value of the wrong type — is a one-line
UserError naming the file or key.
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
import os
import traceback
from collections.abc import Mapping
from typing import Any

import ml_collections

from fnetlab.common.errors import UserError

# The default logical-axis rules (config key `mesh.rules`, fnetlab/train/sharding.py): each
# parameter axis name -> a mesh axis or None (replicated). FSDP shards the `embed` dimension.
MESH_RULES = (
  ("embed", "fsdp"),
  ("mlp", None),
  ("heads", None),
  ("kv", None),
  ("vocab", None),
  ("embed_out", None),
)
# Groups whose keys are not fixed by the config file; their values are checked where used.
OPEN_GROUPS = ("model.mixer_options",)


def parse_value(text: str):
  """'3' -> 3, '1e-3' -> 0.001, 'true' -> True, 'none' -> None, else the string itself."""
  low = text.strip().lower()
  if low in ("true", "false"):
    return low == "true"
  if low == "none":
    return None
  try:
    return ast.literal_eval(text)
  except (ValueError, SyntaxError):
    return text


def load_module(path: str):
  """Executes a config (or any Python) file; a missing file or an error inside it is a UserError."""
  if not os.path.isfile(path):
    raise UserError(f"config file {path}: not found")
  name = "fnetlab_config_" + "".join(c if c.isalnum() else "_" for c in os.path.abspath(path))
  spec = importlib.util.spec_from_file_location(name, path)
  module = importlib.util.module_from_spec(spec)
  try:
    spec.loader.exec_module(module)
  except UserError:
    raise
  except Exception as e:
    raise UserError(f"config file {path}{where(e, path)}: {type(e).__name__}: {e}") from None
  return module


def where(error: BaseException, path: str) -> str:
  """':LINE' of the innermost frame of `error` inside `path`, or ''."""
  line = getattr(error, "lineno", None) if isinstance(error, SyntaxError) else None
  for frame in traceback.extract_tb(error.__traceback__):
    if os.path.abspath(frame.filename) == os.path.abspath(path):
      line = frame.lineno
  return f":{line}" if line else ""


def split_spec(spec: str) -> tuple[str, str | None]:
  """'path.py:arg' -> ('path.py', 'arg'); 'path.py' -> ('path.py', None)."""
  path, sep, arg = spec.partition(":")
  return path, (arg if sep else None)


def load(spec: str, overrides: Mapping[str, Any] | None = None) -> ml_collections.ConfigDict:
  """`path[:arg]` -> the file's `get_config(arg)` with dotted `overrides` applied."""
  path, arg = split_spec(spec)
  module = load_module(path)
  get_config = getattr(module, "get_config", None)
  if get_config is None:
    raise UserError(f"config file {path}: defines no get_config(arg=None)")
  try:
    takes_arg = bool(inspect.signature(get_config).parameters)
    if not takes_arg and arg:
      raise UserError(f"config file {path}: get_config() takes no arg, got {arg!r}")
    config = get_config(arg or None) if takes_arg else get_config()
  except UserError:
    raise
  except Exception as e:
    raise UserError(f"config file {path}{where(e, path)}: {type(e).__name__}: {e}") from None
  apply_overrides(config, overrides or {})
  return config


def apply_overrides(config, overrides: Mapping[str, Any]) -> None:
  for key, value in overrides.items():
    set_key(config, key, value)


def _coerce(key: str, text: str, current, field_type):
  """Converts command-line text to the field's type."""
  target = field_type or (type(current) if current is not None else None)
  try:
    if target is bool:
      low = text.strip().lower()
      if low in ("true", "1", "yes"):
        return True
      if low in ("false", "0", "no"):
        return False
      raise ValueError("expected true or false")
    if target is int:
      return int(text)
    if target is float:
      return float(text)
    if target is str:
      return text
    if target in (tuple, list):
      value = parse_value(text)
      if isinstance(value, str):  # a bare comma list: a,b,c
        value = [parse_value(v) for v in text.split(",") if v.strip()]
      if not isinstance(value, (tuple, list)):
        value = [value]
      return target(value)
  except ValueError as e:
    raise UserError(f"config key {key}={text!r}: expected {target.__name__} ({e})") from None
  return parse_value(text)


def set_key(config, key: str, value) -> None:
  """Sets `config.<key>`; text values take the existing field's type; unknown keys are errors."""
  *parents, leaf = key.split(".")
  node = config
  for i, part in enumerate(parents):
    if not isinstance(node, (ml_collections.ConfigDict, dict)) or part not in node:
      raise UserError(f"config key {key}: unknown key {'.'.join(parents[: i + 1])!r}")
    node = node[part]
  if isinstance(node, ml_collections.ConfigDict) and ".".join(parents) in OPEN_GROUPS:
    if leaf not in node:
      node[leaf] = parse_value(value) if isinstance(value, str) else value
      return
  if not isinstance(node, (ml_collections.ConfigDict, dict)) or leaf not in node:
    known = sorted(node.keys()) if isinstance(node, (ml_collections.ConfigDict, dict)) else []
    close = [k for k in known if k.startswith(leaf[:3])] or known
    hint = f"; keys here: {', '.join(close[:12])}" if close else ""
    raise UserError(f"config key {key}: unknown key{hint}")
  current = node[leaf]
  if isinstance(current, (ml_collections.ConfigDict, dict)) and not isinstance(
    value, (Mapping, ml_collections.ConfigDict)
  ):
    raise UserError(
      f"config key {key}: is a group of keys ({', '.join(sorted(current))}), not a value"
    )
  field_type = None
  if isinstance(node, ml_collections.ConfigDict):
    try:
      field_type = node.get_ref(leaf).get_type()
    except Exception:  # not a field reference (e.g. a nested dict)
      field_type = None
  if isinstance(value, str) and field_type is not str:
    value = _coerce(key, value, current, field_type)
  try:
    node[leaf] = value
  except (TypeError, ValueError, AttributeError) as e:
    raise UserError(f"config key {key}={value!r}: {str(e).splitlines()[0]}") from None
