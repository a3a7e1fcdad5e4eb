"""File helpers shared by every layer."""

from __future__ import annotations

import json
import os


def write_json(path: str, obj) -> None:
  """Writes JSON atomically (temporary file + rename), so a reader never sees half a file."""
  tmp = path + f".tmp{os.getpid()}"
  with open(tmp, "w") as f:
    json.dump(obj, f, indent=2, sort_keys=True, default=str)
  os.replace(tmp, path)


def read_json(path: str):
  with open(path) as f:
    return json.load(f)
