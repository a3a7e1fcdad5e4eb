"""The data layer depends on common code only: importing every input pipeline loads no task,
model, mixer or training code, and no JAX (the Pathfinder workers fork only without JAX)."""

from __future__ import annotations

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODULES = (
  "cache",
  "errors",
  "glue",
  "listops",
  "lm",
  "lra",
  "pathfinder",
  "pretrain",
  "shakespeare",
  "sources",
  "tfds_source",
  "tokenizer",
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
