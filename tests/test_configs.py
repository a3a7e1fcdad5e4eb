"""Every config file in configs/: loading it imports no jax; `:mixer=X` and `:size=S` give the
same config and the same model as `--config.model.mixer=X` and `--config.model.size=S`, for
every mixer and size the file accepts; per-mixer choices come from the mixer's declaration.

Models are compared by their parameter trees (paths and shapes from `jax.eval_shape`, nothing
compiled), built at a short length so the whole file stays fast.
"""

from __future__ import annotations

import functools
import json
import os
import pathlib
import subprocess
import sys

import jax
import jax.numpy as jnp
import pytest
from flax import linen as nn

from fnetlab import mixers
from fnetlab.common import config as config_lib
from fnetlab.common.errors import UserError
from fnetlab.models import (
  SIZES,
  Classifier,
  Decoder,
  Denoiser,
  DualClassifier,
  Pretrainer,
  spec_from_config,
)

ROOT = pathlib.Path(__file__).resolve().parent.parent
CONFIGS = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "configs").rglob("*.py"))
LENGTH = 16  # every model is built for this input length


@functools.cache
def load(spec: str, overrides: tuple = ()):
  return config_lib.load(str(ROOT / spec), dict(overrides))


# Config files whose arg is another config's spec (FILE[:ARG]): tested around this one.
WRAPS = {"configs/spt.py": "configs/suite/digits.py"}


def base_arg(path: str) -> str:
  """`runlocal` where the file has it (the small form), else `size=tiny`."""
  c = load(f"{path}:runlocal")
  return "size=tiny" if "runlocal" in c.model.mixer_options else "runlocal"


def with_arg(path: str, *items: str) -> str:
  """`path:` the base arg and `items`; a later `size=` replaces the base arg's."""
  if path in WRAPS:
    return f"{path}:{with_arg(WRAPS[path], *items)}"
  base = base_arg(path)
  if base.startswith("size=") and any(i.startswith("size=") for i in items):
    base = ""
  return f"{path}:{','.join(i for i in (base, *items) if i)}"


def is_lm(c) -> bool:
  return c.task == "lm" or c.data.get("kind") == "lm"


def accepted_mixers(c) -> list[str]:
  """The language-model configs take the causal mixers; every other config takes them all."""
  return mixers.causal_names() if is_lm(c) else mixers.names()


def model_of(c):
  """(model, example batch) of config `c`'s task at length LENGTH."""
  spec = spec_from_config(c.model, vocab_size=37, max_len=LENGTH)
  ids = jnp.zeros((1, LENGTH), jnp.int32)
  if is_lm(c):
    return Decoder(spec), {"inputs": ids}
  if c.task in ("retrieval", "shakespeare_match"):
    return DualClassifier(spec), {"inputs": ids, "inputs2": ids}
  if c.task == "pretrain":
    return Pretrainer(spec), {"inputs": ids, "mlm_positions": jnp.zeros((1, 2), jnp.int32)}
  if c.task == "spt":
    return Denoiser(spec, mask_rate=c.spt.mask_rate, mask_id=36), {"inputs": ids}
  return Classifier(spec), {"inputs": ids}


def param_shapes(c) -> dict:
  model, batch = model_of(c)
  tree = nn.unbox(jax.eval_shape(model.init, jax.random.PRNGKey(0), batch)["params"])
  leaves = jax.tree_util.tree_flatten_with_path(tree)[0]
  return {jax.tree_util.keystr(path): tuple(leaf.shape) for path, leaf in leaves}


def assert_same(path: str, sugar: str, overrides: dict, build: bool = True):
  a = load(sugar)
  b = load(with_arg(path), tuple(overrides.items()))
  assert json.dumps(a.to_dict(), sort_keys=True, default=str) == json.dumps(
    b.to_dict(), sort_keys=True, default=str
  ), (sugar, overrides)
  assert spec_from_config(a.model) == spec_from_config(b.model)
  if build:
    assert param_shapes(a) == param_shapes(b), (sugar, overrides)


@pytest.mark.parametrize("path", CONFIGS)
def test_mixer_arg_is_the_mixer_override(path):
  c = load(with_arg(path))
  for mixer in accepted_mixers(c):
    assert_same(path, with_arg(path, f"mixer={mixer}"), {"model.mixer": mixer})


@pytest.mark.parametrize("path", CONFIGS)
def test_size_arg_is_the_size_override(path):
  c = load(with_arg(path))
  for size in [*SIZES, *c.model.sizes.keys()]:
    # Specs equal means models equal; build the small ones to check that too.
    assert_same(path, with_arg(path, f"size={size}"), {"model.size": size}, size == "tiny")


@pytest.mark.parametrize("path", [p for p in CONFIGS if is_lm(load(with_arg(p)))])
def test_language_model_configs_refuse_non_causal_mixers(path):
  for mixer in sorted(set(mixers.names()) - set(mixers.causal_names())):
    c = load(with_arg(path), (("model.mixer", mixer),))
    with pytest.raises(UserError, match="causal") as e:
      from fnetlab.tasks import lm

      lm.causal_spec(c.model)
    assert "\n" not in str(e.value) and "model.mixer" in str(e.value)


def test_mixer_options_by_arg_or_override():
  path = "configs/lm/shakespeare.py"
  assert_same(
    path,
    with_arg(path, "mixer=worker", "interval=8"),
    {
      "model.mixer": "worker",
      "model.mixer_options.interval": "8",
    },
  )
  c = load(with_arg(path, "mixer=worker", "interval=8"))
  assert dict(spec_from_config(c.model).mixer_options) == {"interval": 8}


def test_per_mixer_choices_come_from_the_mixer():
  """The LM: RoPE attention and the worker get no position table, the rest a learned one;
  the spectral mixer runs causally; the worker ends with RMSNorm. An LRA task: CLS pooling,
  mean for the worker layer (its CLS stream is never updated)."""
  lm_path, lra_path = "configs/lm/shakespeare.py", "configs/lra/listops.py"
  want = {"attention": "none", "worker": "none", "spectral": "learned", "lsra": "learned"}
  for mixer, positions in want.items():
    s = spec_from_config(load(lm_path, (("model.mixer", mixer),)).model)
    assert s.resolved_positions == positions, mixer
  shapes = param_shapes(load(f"{lm_path}:runlocal", (("model.mixer", "spectral"),)))
  assert shapes["['layer_0']['mixer']['kernel']"] == (LENGTH, 64)  # causal mode: time taps
  shapes = param_shapes(load(f"{lm_path}:runlocal", (("model.mixer", "worker"),)))
  assert "['position']['embedding']" not in shapes and "['final_norm']['bias']" not in shapes
  assert spec_from_config(load(lra_path).model).resolved_pooling == "cls"
  s = spec_from_config(load(lra_path, (("model.mixer", "worker"),)).model)
  assert s.resolved_pooling == "mean"
  s = spec_from_config(load(lra_path, (("model.mixer", "worker"), ("model.pooling", "last"))).model)
  assert s.resolved_pooling == "last"  # an explicit choice wins


@pytest.mark.parametrize(
  "overrides,key",
  [
    ({"model.mixer": "nope"}, "model.mixer"),
    ({"model.size": "huge"}, "model.size"),
    ({"model.mixer_options.intervl": "8"}, "model.mixer_options"),
    ({"model.mixer": "worker", "model.mixer_options.dtype": "float32"}, "model.dtype"),
    ({"model.positions": "rotary"}, "model.positions"),
  ],
)
def test_a_bad_model_value_is_one_line_naming_the_key(overrides, key):
  c = load("configs/lra/listops.py:runlocal", tuple(overrides.items()))
  with pytest.raises(UserError) as e:
    spec_from_config(c.model)
  assert key in str(e.value) and "\n" not in str(e.value)


def test_loading_every_config_imports_no_jax():
  code = (
    "import sys\n"
    "from fnetlab.common import config\n"
    f"for p in {[with_arg(p) for p in CONFIGS]!r}:\n"
    "  config.load(p)\n"
    "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('jax', 'jaxlib', 'flax'))\n"
    "print(bad)\n"
  )
  env = {**os.environ, "PYTHONPATH": str(ROOT)}
  r = subprocess.run(
    [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
  )
  assert r.returncode == 0, r.stderr
  assert r.stdout.strip() == "[]"


@pytest.mark.parametrize("path", CONFIGS)
def test_every_declared_sweep_builds_every_point(path):
  """`fnetlab sweep --sweep=X` accepts exactly the sweeps the file defines (an imported helper
  is not one), and every point of each gives a config a model is built from."""
  from fnetlab.commands import sweep
  from fnetlab.tasks import lm

  declared = sweep.declared_sweeps(config_lib.load_module(str(ROOT / path)))
  for name in declared:
    for point in sweep.points(str(ROOT / with_arg(path)), name):
      c = load(with_arg(path), tuple(point.items()))
      (lm.causal_spec if is_lm(c) else spec_from_config)(c.model)
  with pytest.raises(
    UserError, match="its sweeps: " + (", ".join(sorted(declared)) or "none") + "$"
  ):
    sweep.points(str(ROOT / path), "every_mixer")


def test_an_imported_function_is_not_a_sweep(tmp_path):
  path = tmp_path / "cfg.py"
  path.write_text(
    f"from fnetlab.config import every_mixer as sweep_every_mixer\n"
    f"exec(open({str(ROOT / 'configs/lra/listops.py')!r}).read())\n"
    "def sweep_two(add, arg=None):\n"
    "  add(**{'model.mixer': 'fourier'})\n"
    "  add(**{'model.mixer': 'linear'})\n"
  )
  from fnetlab.commands import sweep

  assert set(sweep.declared_sweeps(config_lib.load_module(str(path)))) == {"lr", "mixers", "two"}
  with pytest.raises(UserError, match="its sweeps: lr, mixers, two$"):
    sweep.points(f"{path}:runlocal", "every_mixer")
  assert [p["model.mixer"] for p in sweep.points(f"{path}:runlocal", "two")] == [
    "fourier",
    "linear",
  ]
