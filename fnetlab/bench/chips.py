"""Accelerator chips and slice topologies that `fnetlab compile` targets.

Per-chip figures are the vendor's published ones (Google Cloud TPU documentation, "TPU
versions" / system architecture pages: v4, v5e, v5p and Trillium v6e). The step-time estimate
(fnetlab/bench/aot.py) divides a compiled program's FLOPs by the bf16 peak and its bytes
accessed by the HBM bandwidth; both are peaks, so the estimate is a lower bound.

A topology is named as libtpu names it, `<generation>:<chips per dimension>`, e.g. `v5e:2x4`
(a v5e-8 slice: 8 chips), `v4:2x2x1` (a v4-8 slice: 4 chips, 8 TensorCores), `v5e:16x16`
(256 chips in 64 hosts). Compiled without a TPU, v2, v3 and v4 slices come as one device per
TensorCore (two per chip), v5e, v5p and v6e as one device per chip; a device's share of the
chip's HBM, peak and bandwidth is the chip's divided by its devices.
"""

from __future__ import annotations

import dataclasses
import math
import re

GIB = 2**30


@dataclasses.dataclass(frozen=True)
class Chip:
  name: str  # the topology generation prefix
  device_kind: str  # jax's device_kind of its devices
  hbm_bytes: int  # per chip
  bf16_flops: float  # peak bf16 FLOP/s per chip
  hbm_bytes_per_s: float  # per chip


CHIPS = {
  "v4": Chip("v4", "TPU v4", 32 * GIB, 275e12, 1200e9),
  "v5e": Chip("v5e", "TPU v5 lite", 16 * GIB, 197e12, 819e9),
  "v5p": Chip("v5p", "TPU v5", 95 * GIB, 459e12, 2765e9),
  "v6e": Chip("v6e", "TPU v6 lite", 32 * GIB, 918e12, 1640e9),
}
# Topologies verified to compile on a CPU host with libtpu (single- and multi-host); any
# `<generation>:<AxB[xC]>` libtpu accepts for a generation above works the same way.
EXAMPLES = (
  "v4:2x2x1",
  "v4:4x4x4",
  "v5e:2x2",
  "v5e:2x4",
  "v5e:4x4",
  "v5e:16x16",
  "v5p:2x2x1",
  "v5p:4x4x4",
  "v6e:2x2",
  "v6e:4x4",
)
_NAME = re.compile(r"^(v[0-9][a-z]?):([0-9]+(?:x[0-9]+){1,2})$")


def parse(name: str) -> tuple[Chip, int]:
  """(chip, number of chips) of a topology name; ValueError naming the known forms."""
  m = _NAME.match(name or "")
  if not m or m.group(1) not in CHIPS:
    raise ValueError(
      f"unknown topology {name!r}; known: <generation>:<AxB[xC]> with generation in "
      f"{', '.join(CHIPS)}, e.g. {', '.join(EXAMPLES)}"
    )
  return CHIPS[m.group(1)], math.prod(int(x) for x in m.group(2).split("x"))
