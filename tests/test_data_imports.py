"""The data layer depends on common code only: importing every input pipeline loads no task,
model, mixer or training code, and no JAX (the Pathfinder workers fork only without JAX)."""

from __future__ import annotations

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Every module of the data package, found on disk, so a new loader is covered as it lands.
MODULES = tuple(
  sorted(
    name[: -len(".py")] if name.endswith(".py") else name
    for name in os.listdir(os.path.join(ROOT, "fnetlab", "data"))
    if (name.endswith(".py") and name != "__init__.py")
    or os.path.isfile(os.path.join(ROOT, "fnetlab", "data", name, "__init__.py"))
  )
)


def test_data_imports_nothing_above_it():
  code = (
    "import importlib, sys\n"
    f"for m in {MODULES!r}: importlib.import_module('fnetlab.data.' + m)\n"
    "above = ('fnetlab.tasks', 'fnetlab.models', 'fnetlab.mixers', 'fnetlab.train', "
    "'fnetlab.commands', 'fnetlab.cli', 'jax', 'flax')\n"
    "print(sorted(m for m in sys.modules if m.startswith(above)))\n"
  )
  out = subprocess.run(
    [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
  )
  assert out.stdout.strip() == "[]", out.stdout
