"""File helpers shared by every layer."""

from __future__ import annotations

import json
import os
import subprocess


def write_json(path: str, obj) -> None:
  """Writes JSON atomically (temporary file + rename), so a reader never sees half a file."""
  tmp = path + f".tmp{os.getpid()}"
  with open(tmp, "w") as f:
    json.dump(obj, f, indent=2, sort_keys=True, default=str)
  os.replace(tmp, path)


def read_json(path: str):
  """The JSON in `path`; a UserError naming the file if it is missing or malformed (the one
  JSON reader: fnetlab/common/workdir.py reads a workdir's files with it)."""
  from fnetlab.common.errors import UserError

  try:
    with open(path) as f:
      return json.load(f)
  except FileNotFoundError:
    raise UserError(f"{path}: not found") from None
  except (OSError, ValueError) as e:
    raise UserError(f"{path}: unreadable JSON ({e})") from None


def git_commit() -> str:
  """The checkout's short commit, `+dirty` when fnetlab/, configs/ or experiments/ differ from
  it (what every results table records); '' outside a git checkout."""
  root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
  try:
    sha = subprocess.run(
      ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10
    ).stdout.strip()
    dirty = subprocess.run(
      ["git", "status", "--porcelain", "--", "fnetlab", "configs", "experiments"],
      cwd=root,
      capture_output=True,
      text=True,
      timeout=10,
    ).stdout.strip()
  except (OSError, subprocess.SubprocessError):
    return ""
  return sha + ("+dirty" if sha and dirty else "")
