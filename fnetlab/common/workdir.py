"""The files of a workdir and of a sweep root: their names, and the only code that reads and
writes them.

A workdir (what `fnetlab train` writes, one per run) holds:
  config.json            the resolved config of the run (model dimensions filled in)
  checkpoints/<step>/    Orbax checkpoints (fnetlab/common/checkpoints.py)
  metrics.jsonl          one JSON object per log or evaluation step
  best.json              the best validation step so far: {step, metric, value}
  results.json           the final record: task, mixer, step, params, compile_s,
                         train_steps_per_sec (warm steps only), validation, test, best, ...
  history.jsonl          one JSON object per start, resume, extension or allowed config change
  eval_<split>_<step>.json   what `fnetlab eval` measured
  failed.json            a sweep point that raised: its overrides, error and traceback
  tb/, profile/          TensorBoard events and profiler traces
A sweep root holds `sweep.json` (the config, the shared overrides, the seeds and every
point's name and overrides) beside one workdir per point (and seed).

Every read of one of these files goes through `read_json` / `read_jsonl`, so a missing or
malformed file is one UserError naming it; every JSON write is atomic (temporary file and
rename), so a reader never sees half a file.
"""

from __future__ import annotations

import json
import os
import time

from fnetlab.common.errors import UserError
from fnetlab.common.io import read_json, write_json

CONFIG = "config.json"
RESULTS = "results.json"
METRICS = "metrics.jsonl"
HISTORY = "history.jsonl"
BEST = "best.json"
FAILED = "failed.json"
SWEEP = "sweep.json"
CHECKPOINTS = "checkpoints"
TENSORBOARD = "tb"
PROFILE = "profile"
#: Files whose presence makes a folder a workdir; folders inside a workdir that are not runs.
MARKERS = (CONFIG, RESULTS, FAILED, METRICS)
INNER_FOLDERS = (CHECKPOINTS, TENSORBOARD, PROFILE)


def path(workdir: str, name: str) -> str:
  return os.path.join(workdir, name)


def eval_name(split: str, step) -> str:
  return f"eval_{split}_{step}.json"


def read_jsonl(file: str) -> list[dict]:
  """One object per line; [] when absent; a torn last line (a run killed mid-write) is skipped."""
  if not os.path.isfile(file):
    return []
  out = []
  with open(file) as f:
    for line in f:
      try:
        out.append(json.loads(line))
      except ValueError:
        continue
  return out


def is_workdir(folder: str) -> bool:
  return any(os.path.exists(os.path.join(folder, m)) for m in MARKERS)


def split_at(spec: str) -> tuple[str, str | None]:
  """(workdir, step) of an `init_from`-style reference: `WORKDIR` (step None: the latest),
  `WORKDIR@best` or `WORKDIR@<step>`. An `@` inside a folder name is part of the path."""
  where, at, step = spec.rpartition("@")
  if not at or not where or os.sep in step:
    return spec, None
  return where, step


# ----------------------------------------------------------------------------- a run's files


def has_config(workdir: str) -> bool:
  return os.path.isfile(path(workdir, CONFIG))


def read_config(workdir: str, required: bool = True) -> dict:
  """config.json of a run; without one, a UserError (or {} when not `required`)."""
  file = path(workdir, CONFIG)
  if not os.path.isfile(file):
    if required:
      raise UserError(f"{file} not found: is {workdir} an fnetlab workdir?")
    return {}
  return _read_object(file, CONFIG)


def _read_object(file: str, name: str) -> dict:
  """The JSON object in `file`; UserError naming the file if it holds anything else."""
  value = read_json(file)
  if not isinstance(value, dict):
    raise UserError(f"{file}: not a {name} (expected a JSON object)")
  return value


def write_config(workdir: str, config: dict) -> None:
  write_json(path(workdir, CONFIG), config)


def has_results(workdir: str) -> bool:
  return os.path.isfile(path(workdir, RESULTS))


def read_results(workdir: str) -> dict:
  """results.json of a finished run; UserError if there is none."""
  file = path(workdir, RESULTS)
  if not os.path.isfile(file):
    raise UserError(f"{file}: no results.json (has `fnetlab train` finished in this workdir?)")
  return _read_object(file, RESULTS)


def write_results(workdir: str, results: dict) -> None:
  write_json(path(workdir, RESULTS), results)


def metrics_file(workdir: str) -> str:
  """metrics.jsonl, which the trainer's logger appends to line by line."""
  return path(workdir, METRICS)


def read_metrics(workdir: str) -> list[dict]:
  """metrics.jsonl as a list of {step, ...}; [] when absent."""
  return read_jsonl(metrics_file(workdir))


def read_history(workdir: str) -> list[dict]:
  return read_jsonl(path(workdir, HISTORY))


def append_history(workdir: str, event: str, **fields) -> dict:
  """Appends `{time, event, **fields}` to history.jsonl and returns it."""
  entry = {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "event": event, **fields}
  with open(path(workdir, HISTORY), "a") as f:
    f.write(json.dumps(entry, sort_keys=True, default=str) + "\n")
  return entry


def read_best(workdir: str) -> dict | None:
  file = path(workdir, BEST)
  return read_json(file) if os.path.isfile(file) else None


def update_best(workdir: str, step: int, metric: str, value: float, mode: str) -> bool:
  """Records `step` in best.json if `value` beats the recorded one. Returns True if it did."""
  best = read_best(workdir)
  better = best is None or (value > best["value"] if mode == "max" else value < best["value"])
  if better:
    write_json(path(workdir, BEST), {"step": int(step), "metric": metric, "value": float(value)})
  return better


def read_eval(workdir: str, split: str, step) -> dict | None:
  """The metrics `fnetlab eval --split=<split>` wrote for `step`, or None."""
  file = path(workdir, eval_name(split, step))
  return read_json(file).get("metrics") if os.path.isfile(file) else None


def write_eval(workdir: str, result: dict) -> str:
  file = path(workdir, eval_name(result["split"], result["step"]))
  write_json(file, result)
  return file


def read_failed(workdir: str) -> dict | None:
  file = path(workdir, FAILED)
  return read_json(file) if os.path.isfile(file) else None


def write_failed(workdir: str, record: dict) -> None:
  os.makedirs(workdir, exist_ok=True)
  write_json(path(workdir, FAILED), record)


def clear_failed(workdir: str) -> None:
  if os.path.exists(path(workdir, FAILED)):
    os.remove(path(workdir, FAILED))


# ----------------------------------------------------------------------------- a sweep root


def read_sweep(root: str) -> dict | None:
  """sweep.json of a sweep root, or None when `root` is not one."""
  file = path(root, SWEEP)
  return read_json(file) if os.path.isfile(file) else None


def write_sweep(root: str, record: dict) -> bool:
  """Writes sweep.json unless it already says exactly this; returns whether it wrote."""
  if read_sweep(root) == json.loads(json.dumps(record, default=str)):
    return False
  write_json(path(root, SWEEP), record)
  return True


def sweep_points(root: str) -> dict[str, dict]:
  """Point name -> overrides, from `root/sweep.json`; {} when `root` is not a sweep root."""
  record = read_sweep(root) or {}
  return {p["name"]: p.get("overrides", {}) for p in record.get("points", [])}


# ----------------------------------------------------------------------------- configs


def flatten(config: dict, prefix: str = "") -> dict:
  """{"a": {"b": 1}} -> {"a.b": 1}; an empty dict stays a value of its own."""
  out = {}
  for key, value in config.items():
    name = f"{prefix}{key}"
    if isinstance(value, dict) and value:
      out.update(flatten(value, name + "."))
    else:
      out[name] = value
  return out


def config_changes(saved: dict, new: dict) -> list[tuple[str, object, object]]:
  """[(dotted key, saved value, new value)] for every key whose value differs, sorted; a key
  only one side has counts, with the other value `absent`. Values compare as JSON does
  (a tuple equals a list)."""
  canon = lambda d: flatten(json.loads(json.dumps(d, sort_keys=True, default=str)))
  a, b = canon(saved), canon(new)
  return [
    (k, a.get(k, "absent"), b.get(k, "absent"))
    for k in sorted(set(a) | set(b))
    if a.get(k, "absent") != b.get(k, "absent")
  ]
