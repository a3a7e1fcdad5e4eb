"""Pathfinder image distributions by resolution and difficulty (LRA's settings).

Difficulties: ``easy`` / ``medium`` / ``hard`` = 6 / 9 / 14 dashes, written to the official
folders ``curv_baseline`` / ``curv_contour_length_9`` / ``curv_contour_length_14`` (LRA uses
the last). The dash count does not change with resolution; the dash size does.

Parameters by resolution (LRA values where LRA gives them):

    res  seed dist.  continuity  marker radius  dash  gap  thickness  distractor paddles
    32   7           1.0         1.5            2     1    1.0        20
    64   12          1.8         2.5            3     1    1.25       22
    128  20          1.8         3              5     2    1.5        35

Seed distance, continuity, marker radius and the distractor budget at 64 are those of LRA's
``Pathfinder64`` builder. Dash lengths at 32 and 128 are LRA's paddle lengths (2 and 5), the
gaps about one paddle margin, and the thicknesses 1.0 and 1.5 (LRA: 0.5 drawn at 2x, and 1.5);
dash length, gap and thickness at 64 are interpolated, with a dash of 3 rather than LRA's
default 5 so that 14-dash snakes fit in 64 pixels without excessive retries.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

DIFFICULTIES: dict[str, tuple[str, int]] = {
  "easy": ("curv_baseline", 6),
  "medium": ("curv_contour_length_9", 9),
  "hard": ("curv_contour_length_14", 14),
}
#: Per-resolution defaults (see the module docstring).
RESOLUTIONS: dict[int, dict[str, float]] = {
  32: dict(
    seed_distance=7.0,
    continuity=1.0,
    marker_radius=1.5,
    dash_length=2.0,
    dash_gap=1.0,
    thickness=1.0,
    distractor_paddles=20,
  ),
  64: dict(
    seed_distance=12.0,
    continuity=1.8,
    marker_radius=2.5,
    dash_length=3.0,
    dash_gap=1.0,
    thickness=1.25,
    distractor_paddles=22,
  ),
  128: dict(
    seed_distance=20.0,
    continuity=1.8,
    marker_radius=3.0,
    dash_length=5.0,
    dash_gap=2.0,
    thickness=1.5,
    distractor_paddles=35,
  ),
}


@dataclass(frozen=True)
class PathfinderParams:
  """Everything that defines one Pathfinder image distribution (pixel units)."""

  resolution: int
  contour_length: int
  distractor_length: int
  num_distractors: int
  seed_distance: float
  continuity: float
  marker_radius: float
  dash_length: float
  dash_gap: float
  thickness: float
  snake_intensity: float = 0.8
  gap_intensity: float = 0.3
  angle_step_deg: float = 5.0
  max_target_tries: int = 500
  max_distractor_tries: int = 5

  @property
  def ink_radius(self) -> float:
    """Distance from a dash's centre line beyond which its pixels are exactly 0."""
    return self.thickness / 2 + 0.5

  @property
  def separation(self) -> float:
    """Minimum centre-line distance between different snakes (no 8-adjacent ink)."""
    return 2 * self.ink_radius + math.sqrt(2) + 0.05

  @property
  def marker_extra(self) -> float:
    """Extra clearance around a marker point: marker ink radius minus dash ink radius, plus
    half a pixel diagonal because end markers are drawn at the nearest pixel centre."""
    return self.marker_radius + 0.5 - self.ink_radius + math.sqrt(0.5)

  @property
  def border(self) -> float:
    return max(self.marker_radius, self.ink_radius)


def difficulty_folder(difficulty: str) -> str:
  """Official folder name for ``easy|medium|hard`` (folder names pass through)."""
  if difficulty in DIFFICULTIES:
    return DIFFICULTIES[difficulty][0]
  for folder, _ in DIFFICULTIES.values():
    if difficulty == folder:
      return folder
  raise ValueError(
    f"unknown Pathfinder difficulty {difficulty!r}; use one of {', '.join(DIFFICULTIES)}"
  )


def params_for(
  resolution: int = 32, difficulty: str = "hard", num_distractors: int | None = None, **overrides
) -> PathfinderParams:
  """Parameters for a resolution (32, 64, 128) and difficulty (easy, medium, hard).

  ``num_distractors`` overrides the default count (0 draws only the two target snakes);
  other keyword arguments override :class:`PathfinderParams` fields.
  """
  if resolution not in RESOLUTIONS:
    raise ValueError(
      f"unsupported Pathfinder resolution {resolution}; use one of {sorted(RESOLUTIONS)}"
    )
  folder = difficulty_folder(difficulty)
  contour = next(n for f, n in DIFFICULTIES.values() if f == folder)
  r = dict(RESOLUTIONS[resolution])
  paddles = int(r.pop("distractor_paddles"))
  distractor_length = max(1, contour // 3)
  n_distractors = paddles // distractor_length if num_distractors is None else num_distractors
  p = PathfinderParams(
    resolution=resolution,
    contour_length=contour,
    distractor_length=distractor_length,
    num_distractors=int(n_distractors),
    **r,
  )
  return replace(p, **overrides) if overrides else p
