"""The offline cache for generated data sets (ListOps, Pathfinder).

A generated set lives in `<cache root>/<kind>/<hash of its generator settings>`, so the same
settings always find the same files and different settings never collide.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os


def cache_root() -> str:
  """Where offline data sets are generated: $FNETLAB_CACHE or ~/.cache/fnetlab."""
  default = os.path.join(os.path.expanduser("~"), ".cache", "fnetlab")
  return os.environ.get("FNETLAB_CACHE", default)


def generate_once(kind: str, settings: dict, is_complete, write) -> str:
  """The cache folder for generator `settings`; `write(tmp_dir)` fills it the first time.

  The folder is keyed by a hash of the settings, written under a temporary name and renamed,
  so a half-written set is never used and concurrent processes agree on the result.
  """
  key = hashlib.sha1(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:12]
  out = os.path.join(cache_root(), kind, key)
  if is_complete(out):
    return out
  logging.info("generating %s %s into %s", kind, settings, out)
  tmp = out + f".tmp{os.getpid()}"
  write(tmp)
  os.makedirs(os.path.dirname(out), exist_ok=True)
  try:
    os.rename(tmp, out)
  except OSError:  # another process won the race; its files are identical
    pass
  return out
