"""Which jax platforms a fnetlab process initialises, decided before jax starts a backend.

With libtpu installed (for `fnetlab compile`, or by `make install`), jax tries the TPU
runtime first in every process, and on a machine without a TPU that prints initialisation
warnings (and probes for TPU metadata) before falling back to CPU. `default_platforms()`
avoids it: when the user has not set `JAX_PLATFORMS` and the host has no TPU chip (jax's own
PCI check), it sets jax's platforms to the GPU plugin's and CPU, or CPU alone. On a TPU VM,
or with `JAX_PLATFORMS` set, nothing changes. Compiling for a TPU topology needs no TPU
backend (`jax.experimental.topologies` loads libtpu by itself).
"""

from __future__ import annotations

import importlib.util
import os
import pkgutil


def has_libtpu() -> bool:
  return importlib.util.find_spec("libtpu") is not None


def host_has_tpu() -> bool:
  """True if a TPU chip is attached (jax's PCI check), or if that cannot be told."""
  try:
    from jax._src import hardware_utils

    return hardware_utils.num_available_tpu_chips_and_device_id()[0] > 0
  except Exception:  # jax moved its check: assume a TPU rather than hide one
    return True


def _gpu_platform() -> str | None:
  try:
    import jax_plugins
  except ImportError:
    return None
  names = [m.name for m in pkgutil.iter_modules(jax_plugins.__path__)]
  if any("cuda" in n for n in names):
    return "cuda"
  if any("rocm" in n for n in names):
    return "rocm"
  return None


def default_platforms() -> str | None:
  """Sets jax's platforms as the module docstring says; returns what it set (or None)."""
  if os.environ.get("JAX_PLATFORMS") is not None or not has_libtpu() or host_has_tpu():
    return None
  gpu = _gpu_platform()
  platforms = f"{gpu},cpu" if gpu else "cpu"
  os.environ["JAX_PLATFORMS"] = platforms
  import jax

  jax.config.update("jax_platforms", platforms)
  return platforms
