"""tfds data sets read offline through `tfds.data_source` (array_record; no TensorFlow).

Nothing here downloads: a data set must be prepared once on a machine with internet
(`tfds build <name> --file_format=array_record --data_dir=DIR`) and passed as `data.dir`.
"""

from __future__ import annotations

import os

from fnetlab.common.errors import UserError


def expand(path: str | None) -> str | None:
  """`~` expanded; None for an empty path (tfds then uses $TFDS_DATA_DIR or its default)."""
  return os.path.expanduser(path) if path else None


def open_split(name: str, split: str, data_dir: str | None):
  """`tfds.data_source(name, split)` without downloading; UserError naming the folder and fix."""
  import tensorflow_datasets as tfds

  try:
    return tfds.data_source(name, split=split, data_dir=expand(data_dir), download=False)
  except Exception as e:  # tfds raises several types for absent / non-array_record data
    raise UserError(not_readable(tfds, name, split, data_dir, e)) from None


def read_all(source) -> list[dict]:
  """Every example of a data source, as a list."""
  # One by one: under tfds.testing.mock_data, `__getitems__` fails (tfds 4.9.10).
  return [source[i] for i in range(len(source))]


def not_readable(tfds, name: str, split: str, data_dir: str | None, error: Exception) -> str:
  """The one-line message for a tfds dataset that `data_source` cannot open."""
  where = data_dir or os.environ.get("TFDS_DATA_DIR") or "~/tensorflow_datasets"
  try:
    prepared = tfds.builder(name, data_dir=expand(data_dir)).is_prepared()
  except Exception:  # an unknown or broken builder reads as not prepared
    prepared = False
  if prepared:
    first = str(error).strip().splitlines()[0][:160] if str(error).strip() else type(error).__name__
    why = f"is prepared under {where} but not readable ({first}); it must be array_record"
  else:
    why = f"is not prepared under {where}"
  return (
    f"tfds dataset {name} split {split!r} {why}: prepare it once on a machine with internet "
    f"and TensorFlow with `tfds build {name} --file_format=array_record --data_dir=DIR`, "
    "then pass --config.data.dir=DIR"
  )
