"""Orbax checkpoints: one `CheckpointManager` per workdir (the `args=` API).

A workdir's checkpoints live in `checkpoints/<step>/` (the other files of a workdir are
named in fnetlab/common/workdir.py), each with two items: `state` (step, params, opt_state,
rng) and `data` (the iterator state).

`state` is saved with StandardSave. Restoring with a target gives back the exact sharded
state (resume); restoring without one gives host numpy trees, which is how `init_from` and
`eval` read params from any workdir, including one written by `fnetlab import-hf`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
from typing import Any

import jax
import numpy as np
import orbax.checkpoint as ocp
from orbax.checkpoint import checkpoint_managers as cm

from fnetlab.common import workdir as files
from fnetlab.common.errors import UserError


def checkpoint_dir(workdir: str) -> str:
  return os.path.join(os.path.abspath(workdir), files.CHECKPOINTS)


def manager(
  workdir: str,
  keep: int = 3,
  best_metric: str | None = None,
  best_mode: str = "max",
  async_save: bool = True,
  create: bool = True,
) -> ocp.CheckpointManager:
  """The workdir's CheckpointManager: keeps the last `keep` steps plus the best by `best_metric`."""
  policies = [cm.LatestN(n=keep)]
  if best_metric:
    policies.append(
      cm.BestN(
        get_metric_fn=lambda m: m[best_metric],
        reverse=best_mode == "min",
        n=1,
        keep_checkpoints_without_metrics=False,
      )
    )
  options = ocp.CheckpointManagerOptions(
    create=create,
    enable_async_checkpointing=async_save,
    preservation_policy=cm.AnyPreservationPolicy(policies),
  )
  registry = ocp.DefaultCheckpointHandlerRegistry()
  for args in (ocp.args.StandardSave, ocp.args.StandardRestore):
    registry.add("state", args, ocp.StandardCheckpointHandler)
  for args in (ocp.args.JsonSave, ocp.args.JsonRestore):
    registry.add("data", args, ocp.JsonCheckpointHandler)
  return ocp.CheckpointManager(checkpoint_dir(workdir), options=options, handler_registry=registry)


def saved_shapes(mngr: ocp.CheckpointManager, step: int) -> dict[str, tuple]:
  """{tree path: shape} of the `state` item saved at `step`, from its metadata alone."""
  meta = mngr.item_metadata(step)["state"]
  if meta is None:
    raise ValueError("no metadata")
  return shapes_by_path(meta)


def shapes_by_path(tree) -> dict[str, tuple]:
  """{canonical tree path: shape}; attribute and dict keys print alike (`['mu']`)."""
  flat = jax.tree_util.tree_flatten_with_path(tree)[0]
  canon = lambda k: re.sub(r"\.(\w+)", r"['\1']", jax.tree_util.keystr(k))
  return {canon(k): tuple(getattr(v, "shape", ())) for k, v in flat}


def save_params_only(workdir: str, params: Any, config: dict) -> str:
  """Writes a params-only checkpoint at step 0 plus config.json (used by `import-hf`)."""
  os.makedirs(workdir, exist_ok=True)
  with manager(workdir, keep=1, async_save=False) as mngr:
    mngr.save(
      0,
      args=ocp.args.Composite(
        state=ocp.args.StandardSave({"step": np.int32(0), "params": params}),
        data=ocp.args.JsonSave({}),
      ),
      force=True,
    )
    mngr.wait_until_finished()
  files.write_config(workdir, config)
  return checkpoint_dir(workdir)


def resolve_step(mngr: ocp.CheckpointManager, step: str | int | None, workdir: str) -> int:
  """'latest' (or None), 'best', or an integer step -> an existing step; UserError otherwise."""
  steps = sorted(mngr.all_steps())
  if not steps:
    raise UserError(f"no checkpoints in {checkpoint_dir(workdir)}")
  if step in (None, "latest"):
    return steps[-1]
  if step == "best":
    best = files.read_best(workdir)
    if best is None or best["step"] not in steps:
      raise UserError(f"no best checkpoint recorded in {workdir}/best.json (no evaluation yet?)")
    return best["step"]
  try:
    step = int(step)
  except (TypeError, ValueError):
    raise UserError(f"--step must be latest, best or an integer; got {step!r}") from None
  if step not in steps:
    raise UserError(f"no checkpoint at step {step} in {checkpoint_dir(workdir)}; have {steps}")
  return step


def unreadable(workdir: str, step: int, error: BaseException) -> UserError:
  """The one-line error for a damaged checkpoint: the first line of Orbax's message, without
  the TensorStore dump that follows it."""
  detail = (str(error).strip().splitlines() or [type(error).__name__])[0]
  detail = detail.split(" See full")[0][:160]
  return UserError(f"checkpoint {checkpoint_dir(workdir)}/{step} is unreadable ({detail})")


def load_params(workdir: str, step: str | int | None = None) -> tuple[Any, int]:
  """Host copy of the params saved in `workdir` at `step` (latest by default)."""
  if not os.path.isdir(checkpoint_dir(workdir)):
    raise UserError(f"no checkpoints in {checkpoint_dir(workdir)}")
  with manager(workdir, create=False, async_save=False) as mngr:
    step = resolve_step(mngr, step, workdir)
    try:
      with quiet_io():
        restored = mngr.restore(step, args=ocp.args.Composite(state=ocp.args.StandardRestore()))
    except Exception as e:  # orbax raises many types for damaged files
      raise unreadable(workdir, step, e) from None
  return restored["state"]["params"], step


def tree_size(tree) -> int:
  return int(sum(np.size(x) for x in jax.tree.leaves(tree)))


def remove_step(workdir: str, step: int) -> None:
  """Deletes one step's directory (used to quarantine a corrupt checkpoint)."""
  path = os.path.join(checkpoint_dir(workdir), str(step))
  if os.path.isdir(path):
    bad = path + ".corrupt"
    shutil.rmtree(bad, ignore_errors=True)
    os.rename(path, bad)
    logging.warning("moved unreadable checkpoint %s aside to %s", path, bad)


@contextlib.contextmanager
def quiet_io(grace: float = 1.0):
  """Silences what Orbax/TensorStore print while reading a damaged checkpoint.

  They write tracebacks and store dumps to stderr (some from C++, so below Python's
  sys.stderr) before raising; the caller turns the exception into one line. After a failed
  read, TensorStore's reader threads still finish the requests the failure orphaned and
  report each one into Orbax's closed event loop ('RuntimeError: Event loop is closed'), so
  on failure stderr stays silenced for `grace` seconds more. The file descriptor is restored
  afterwards whatever happens.
  """
  import sys
  import tempfile
  import time

  sys.stderr.flush()
  saved = os.dup(2)
  level = logging.root.manager.disable
  with tempfile.TemporaryFile() as sink:
    os.dup2(sink.fileno(), 2)
    logging.disable(logging.CRITICAL)
    try:
      yield
    except Exception:
      time.sleep(grace)
      raise
    finally:
      sys.stderr.flush()
      os.dup2(saved, 2)
      os.close(saved)
      logging.disable(level)
