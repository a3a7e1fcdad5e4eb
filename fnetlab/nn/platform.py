"""The platform a traced program is compiled for, as the kernel-selection rules see it."""

from __future__ import annotations

import jax


def target_platform() -> str:
  """The platform the traced program is for: the context mesh's devices if a mesh is set
  (e.g. abstract TPU devices when compiling ahead of time), else this process's backend
  ('rocm' is told apart from CUDA)."""
  mesh = jax.sharding.get_abstract_mesh()
  device = getattr(mesh, "abstract_device", None) if not mesh.empty else None
  if device is not None and device.platform:
    return "rocm" if device.platform == "rocm" else device.platform
  backend = jax.default_backend()
  if backend == "gpu":
    version = str(getattr(jax.devices()[0].client, "platform_version", "")).lower()
    if "rocm" in version:
      return "rocm"
  return backend
