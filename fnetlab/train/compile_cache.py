"""JAX's persistent compilation cache for runs that compile the same programs many times.

A seed sweep builds one Trainer per (point, seed); the seeds of a point lower to identical
programs (the seed changes values, not shapes), so with the cache on, every seed after the
first loads its executables from disk instead of compiling them again. On this project's
2-core CPU machine that is most of a tiny run's overhead. The cache lives under the data
cache root (`$FNETLAB_CACHE/jax`, default `~/.cache/fnetlab/jax`); JAX keys entries by the
program, the backend and the compiler version, so a stale entry is never used.
"""

from __future__ import annotations

import os

from fnetlab.data.cache import cache_root


def enable(path: str | None = None) -> str:
  """Turns the persistent cache on for every program (no minimum compile time); its folder."""
  import jax

  path = path or os.path.join(cache_root(), "jax")
  os.makedirs(path, exist_ok=True)
  jax.config.update("jax_compilation_cache_dir", path)
  jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
  jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
  return path
