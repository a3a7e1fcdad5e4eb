"""The device mesh and the logical-axis rules that shard the train state and the batch.

- The mesh has two axes, `data` (batch only) and `fsdp` (batch and the parameters' `embed`
  dimension), sized by the config keys `mesh.data` (-1: all remaining devices) and
  `mesh.fsdp`. `make_mesh` lays them over `jax.devices()` or over an explicit device list,
  e.g. the abstract devices of a TPU topology that `fnetlab compile` compiles for.
- Params carry logical axis names (`embed`, `mlp`, `heads`, `kv`, `vocab`, `embed_out`);
  `mesh.rules` maps each to a mesh axis or None (replicated), as maxtext's
  `logical_axis_rules` and big_vision's sharding settings do. The default (`MESH_RULES`, in
  the config skeleton) is
  FSDP over `embed`, everything else replicated. A mesh axis that does not divide a dimension
  is dropped for that dimension (`fit`). The optimiser state inherits the params' names
  because optax maps over the boxed params.
- `with_mesh` runs a step function under the mesh's abstract mesh, so code traced inside it
  (the attention kernels' `shard_map`, their per-platform selection) sees the mesh the
  program is compiled for.
"""

from __future__ import annotations

import functools
import math

import jax
import numpy as np
from flax import linen as nn
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

from fnetlab.common.config import MESH_RULES
from fnetlab.common.errors import UserError

MESH_AXES = ("data", "fsdp")
BATCH_AXES = ("data", "fsdp")  # the batch dimension is split over both
DEFAULT_RULES = MESH_RULES


def mesh_shape(mesh_cfg, n: int) -> tuple[int, int]:
  """(data, fsdp) for `n` devices from the config keys; UserError if they do not cover n."""
  fsdp = int(mesh_cfg.fsdp)
  data = int(mesh_cfg.data) if int(mesh_cfg.data) > 0 else n // max(fsdp, 1)
  if fsdp < 1 or data * fsdp != n:
    raise UserError(
      f"config keys mesh.data={mesh_cfg.data} x mesh.fsdp={fsdp} must cover {n} devices"
    )
  return data, fsdp


def make_mesh(mesh_cfg, devices=None) -> jax.sharding.Mesh:
  """The (data, fsdp) Mesh over `devices` (default: `jax.devices()`)."""
  devices = list(jax.devices() if devices is None else devices)
  shape = mesh_shape(mesh_cfg, len(devices))
  return jax.sharding.Mesh(np.asarray(devices).reshape(shape), MESH_AXES)


def rules(mesh_cfg) -> tuple:
  """The logical-axis rules of config key `mesh.rules` (pairs (logical name, mesh axis or
  None)); the default when absent. UserError for a mesh axis the mesh does not have."""
  raw = mesh_cfg.get("rules") if hasattr(mesh_cfg, "get") else None
  if raw is None:
    return DEFAULT_RULES
  out = []
  for pair in raw:
    name, axis = tuple(pair)
    if axis is not None and axis not in MESH_AXES:
      raise UserError(
        f"config key mesh.rules: {name!r} -> {axis!r}; mesh axes: {', '.join(MESH_AXES)} or None"
      )
    out.append((str(name), axis))
  return tuple(out)


def fit(spec: P, shape, mesh) -> P:
  """Drops mesh axes that do not divide their dimension (replicates that dimension instead)."""
  out = []
  for dim, axes in zip(shape, tuple(spec) + (None,) * (len(shape) - len(spec)), strict=False):
    names = (axes,) if isinstance(axes, str) else tuple(axes or ())
    size = math.prod(mesh.shape[a] for a in names) if names else 1
    out.append(axes if names and dim % size == 0 else None)
  return P(*out)


def state_shardings(abstract_boxed, mesh, logical_rules=DEFAULT_RULES):
  """NamedShardings for a (boxed) abstract state, from its logical axis names."""
  specs = nn.logical_to_mesh(nn.get_partition_spec(abstract_boxed), logical_rules)
  abstract = nn.unbox(abstract_boxed)
  return jax.tree.map(
    lambda spec, a: NamedSharding(mesh, fit(spec, a.shape, mesh)),
    specs,
    abstract,
    is_leaf=lambda x: isinstance(x, P),
  )


def batch_sharding(mesh) -> NamedSharding:
  """Batch rows split over the batch axes."""
  return NamedSharding(mesh, P(BATCH_AXES))


def global_batch(batch: dict, mesh) -> dict:
  """Host arrays of this process's rows -> global jax Arrays sharded over the batch axes."""
  sharding = batch_sharding(mesh)
  return {
    k: jax.make_array_from_process_local_data(sharding, np.asarray(v)) for k, v in batch.items()
  }


def with_mesh(fn, mesh):
  """`fn` traced under `mesh`'s abstract mesh (see the module docstring)."""

  @functools.wraps(fn)
  def wrapped(*args, **kwargs):
    with jax.sharding.use_abstract_mesh(mesh.abstract_mesh):
      return fn(*args, **kwargs)

  return wrapped
