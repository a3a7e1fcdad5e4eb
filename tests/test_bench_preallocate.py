"""`fnetlab bench --peer=hf` must stop JAX preallocating the accelerator before JAX starts it.

JAX reads XLA_PYTHON_CLIENT_PREALLOCATE once, when its backend is created; set any later, it
changes nothing and JAX holds 75% of the GPU, leaving the PyTorch peer too little. The test
runs the real command line in a fresh process with a spy on JAX's backend creation, which
records the variable's value at the moment the backend starts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SPY = r"""
import json, os, sys
from jax._src import xla_bridge

seen = []
create = xla_bridge.backends


def spy(*args, **kwargs):
  if not xla_bridge.backends_are_initialized():
    seen.append(os.environ.get("XLA_PYTHON_CLIENT_PREALLOCATE"))
  return create(*args, **kwargs)


xla_bridge.backends = spy
from fnetlab.cli import main

rc = main(sys.argv[1:])
print("SPY " + json.dumps({"rc": rc, "seen": seen}))
"""

TINY = [
  "--config.model.num_layers=1",
  "--config.model.d_model=16",
  "--config.model.d_ff=32",
  "--config.model.num_heads=2",
  "--config.model.head_hidden=16",
]


def run_bench(tmp_path, *extra):
  env = {k: v for k, v in os.environ.items() if k != "XLA_PYTHON_CLIENT_PREALLOCATE"}
  argv = [
    "fnetlab",
    "bench",
    "--config=configs/bench/lra_text.py",
    "--mixers=ff_only",
    "--seq_lens=16",
    "--batch=1",
    "--compile_only",
    f"--out={tmp_path / 'bench'}",
    *TINY,
    *extra,
  ]
  proc = subprocess.run(
    [sys.executable, "-c", SPY, *argv],
    cwd=REPO,
    env=env,
    capture_output=True,
    text=True,
    timeout=240,
  )
  line = next((x for x in proc.stdout.splitlines() if x.startswith("SPY ")), None)
  assert line, (proc.stdout[-2000:], proc.stderr[-2000:])
  return json.loads(line[4:])


@pytest.mark.slow
def test_peer_sets_preallocate_false_before_the_backend_starts(tmp_path):
  result = run_bench(tmp_path, "--peer=hf")
  assert result["rc"] == 0
  assert result["seen"] == ["false"]  # the backend started once, with the variable already set


@pytest.mark.slow
def test_without_peer_the_variable_is_left_alone(tmp_path):
  # The control: the spy does see the backend start, and nothing sets the variable unasked.
  result = run_bench(tmp_path)
  assert result["rc"] == 0
  assert result["seen"] == [None]
