"""The Pathfinder generator: seeded, parallel, and faithful to the official distribution.

Source: the Pathfinder challenge of Linsley et al. 2018 ("Learning long-range spatial
dependencies with horizontal gated-recurrent units"; generator ``snakes2.py`` in
drewlinsley/pathfinder), as used by Long Range Arena (Tay et al. 2020) for Pathfinder (32x32)
and Path-X (128x128), with the LRA parameters listed in ``lra_benchmarks/data/pathfinder.py``.

What is kept from the official generator:

* Two target snakes of ``contour_length`` dashes ("paddles") whose first dashes start
  ``seed_distance`` apart. Each new dash turns by ``dtheta`` with weight
  ``cos^2(min(continuity * |dtheta|, pi/2))`` and must land in unoccupied space; the two snakes
  grow alternately, dash by dash. A snake that cannot be placed is retried.
* Distractor snakes of ``contour_length // 3`` dashes; their number is a per-resolution paddle
  budget divided by that length (LRA 32x32: 20 // 4 = 5), and a distractor that cannot be placed
  after a few retries is skipped, as officially.
* The label is a fair coin. One marker goes on the start of a randomly chosen target snake;
  the other on the end of the same snake (positive, label 1) or of the other snake
  (negative, label 0).

* **Seeded and parallel.** Image ``g`` is drawn from
  ``np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(g,)))``, so the output is
  identical whatever the number of worker processes. The official generator is unseeded.
* **Fast.** Geometry is continuous: a snake is a polyline; occupancy is checked with
  vectorised point-to-segment distances (candidate dashes sampled every 0.5 px, with a 0.25 px
  allowance that makes the check conservative) against nearby segments only, and all
  candidate turns of a step are scored at once (5-degree grid, randomly offset per step).
  Rendering happens once, at the native resolution, with anti-aliased capsules (intensity
  ``clip(t/2 + 1/2 - d, 0, 1)`` at distance ``d`` from a dash of thickness ``t``) instead of
  drawing at 2-4x and resizing with Lanczos. The official generator takes about 0.24 s per
  32x32 image; this one about 0.012 s of one CPU core.
* **Visible markers.** Markers are filled discs: every pixel within ``marker_radius`` of the
  marker centre is exactly 255 (a half-pixel anti-aliased rim around it). The current NumPy-2
  port of the official code rescales them wrongly and draws them nearly invisible. Snakes are
  drawn at intensity 0.8 (204) so markers stand out, as in LRA's 64 and 128 settings.
* **Dashes stay connected.** The gap between consecutive dashes is drawn dimly (intensity
  0.3, grey 77) instead of blank, so each snake is one 8-connected set of non-zero pixels. The
  official gaps are blank, though at 32x32 its anti-aliasing fills most of them.
* **Snakes never touch.** Different snakes (targets and distractors) and the markers keep a
  centre-line clearance of ``2 * (t/2 + 1/2) + sqrt(2)`` (plus the marker radius near
  markers), so no non-zero pixel of one snake is 8-adjacent to a non-zero pixel of another.
  The label is therefore exactly "the two markers lie in one 8-connected component of the
  non-zero pixels" (the official generator only keeps paddles one margin apart, so pixels of
  different snakes can touch).
* Snake start points are pixel centres (as officially) and end markers are drawn at the
  pixel centre nearest to the snake's end, so every marker has the same shape. All snake
  points stay at least ``marker_radius`` inside the image, so markers are never cut.
* Image ``g`` uses the stream ``(seed, g)`` whatever the resolution or difficulty, so datasets
  written with the same seed share their label sequence; use different seeds for datasets that
  must be independent.
"""

from __future__ import annotations

import math
import multiprocessing as mp
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from fnetlab.data.pathfinder.params import PathfinderParams, params_for

IMAGES_PER_DIR = 1000  # images per folder imgs/<k> of the official layout


# --------------------------------------------------------------------------- geometry
# Points are complex numbers x + 1j * y (x: column, y: row, pixel centres at integers).


def _point_segment(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
  """Distance from points ``p`` to segments ``a-b`` (complex, broadcasting)."""
  ab = b - a
  ap = p - a
  den = np.maximum(ab.real * ab.real + ab.imag * ab.imag, 1e-12)
  t = np.minimum(np.maximum((ap.real * ab.real + ap.imag * ab.imag) / den, 0.0), 1.0)
  return np.abs(ap - t * ab)


_STEP = 0.5  # spacing of the points at which candidate segments are checked


class _Occupancy:
  """Drawn segments (markers are zero-length segments) with their owner snake."""

  def __init__(self, params: PathfinderParams, capacity: int = 128) -> None:
    self.p = params
    self.lo = params.border
    self.hi = params.resolution - 1 - params.border
    self.a = np.zeros(capacity, dtype=complex)
    self.b = np.zeros(capacity, dtype=complex)
    self.owner = np.zeros(capacity, dtype=np.int64)
    self.marker = np.zeros(capacity, dtype=bool)
    self.req_other = np.zeros(capacity)  # clearance a segment of another snake must keep
    self.req_own = np.zeros(capacity)  # clearance for the owner's later segments (-1: none)
    self.n = 0

  def add(self, a: complex, b: complex, owner: int, marker: bool = False) -> int:
    if self.n == len(self.a):
      for name in ("a", "b", "owner", "marker", "req_other", "req_own"):
        arr = getattr(self, name)
        setattr(self, name, np.concatenate([arr, np.zeros_like(arr)]))
    p = self.p
    i = self.n
    self.a[i], self.b[i], self.owner[i], self.marker[i] = a, b, owner, marker
    self.req_other[i] = p.separation + (p.marker_extra if marker else 0.0)
    self.req_own[i] = -1.0 if marker else 2 * p.ink_radius
    self.n += 1
    return i

  def in_bounds(self, z: np.ndarray) -> np.ndarray:
    lo, hi = self.lo, self.hi
    return (z.real >= lo) & (z.real <= hi) & (z.imag >= lo) & (z.imag <= hi)

  def valid(
    self,
    starts: np.ndarray | complex,
    ends: np.ndarray,
    owner: int,
    skip: int = -1,
    end_is_marker: bool = False,
  ) -> np.ndarray:
    """Which candidate segments ``starts[k] -> ends[k]`` keep every clearance -> bool [K].

    Clearances (centre-line distances): ``separation`` to other snakes (plus
    ``marker_extra`` per marker involved), ``2 * ink_radius`` to the snake's own
    non-adjacent segments; ``skip`` is the snake's previous segment, which the candidate
    touches by construction. With ``end_is_marker`` the candidate's end also keeps a marker's
    clearance from other snakes and from the snake's own start marker. Candidates are checked at points ``_STEP`` apart; as distance
    along a segment is 1-Lipschitz, requiring ``_STEP / 2`` more at the points makes the
    check conservative for the whole segment.
    """
    p = self.p
    ends = np.asarray(ends)
    scalar_start = np.ndim(starts) == 0
    ok = self.in_bounds(ends)
    if not scalar_start:
      ok &= self.in_bounds(starts)
    if self.n == 0 or not ok.any():
      return ok
    n = self.n
    a, b = self.a[:n], self.b[:n]
    other = self.owner[:n] != owner
    req = np.where(other, self.req_other[:n], self.req_own[:n])
    if 0 <= skip < n:
      req[skip] = -1.0
    # Only segments within reach of a candidate can matter.
    centre = starts if scalar_start else starts.mean()
    reach = float(np.max(np.abs(ends - centre)))
    if not scalar_start:
      reach = max(reach, float(np.max(np.abs(starts - centre))))
    d_centre = _point_segment(centre, a, b)
    near = (req >= 0) & (d_centre < reach + req + _STEP)
    if near.any():
      length = float(np.max(np.abs(ends - starts)))
      m = max(1, math.ceil(length / _STEP))
      t = np.arange(1, m + 1) / m if scalar_start else np.arange(m + 1) / m
      pts = starts if scalar_start else starts[:, None]
      pts = pts + (ends - starts)[:, None] * t  # [K, m(+1)]
      d = _point_segment(pts[:, :, None], a[near], b[near])  # [K, P, M']
      ok &= np.all(d >= req[near] + _STEP / 2, axis=(1, 2))
    if end_is_marker:
      # The end marker keeps clear of other snakes and, so that the two marker discs never
      # merge, of the snake's own start marker.
      gap = 2 * (p.marker_radius + 0.5) + 2 * math.sqrt(2)
      own_marker = np.where(self.marker[:n], gap, -1.0)
      req_end = np.where(other, self.req_other[:n] + p.marker_extra, own_marker)
      sel = (req_end >= 0) & (d_centre < reach + req_end)
      if sel.any():
        d = _point_segment(ends[:, None], a[sel], b[sel])
        ok &= np.all(d >= req_end[sel], axis=1)
    return ok


class _Snake:
  def __init__(self, owner: int, start: complex, theta: float) -> None:
    self.owner = owner
    self.points = [complex(start)]
    self.theta = float(theta)
    self.last = -1  # occupancy index of the last segment


def _seed(occ: _Occupancy, snake: _Snake) -> bool:
  """Place the first dash of ``snake`` (start point and heading already set)."""
  start = snake.points[0]
  end = start + occ.p.dash_length * np.exp(1j * snake.theta)
  if not occ.valid(start, np.array([end]), snake.owner)[0]:
    return False
  snake.last = occ.add(start, end, snake.owner)
  snake.points.append(complex(end))
  return True


def _extend(rng, occ: _Occupancy, snake: _Snake, end_is_marker: bool = False) -> bool:
  """Add one gap+dash step to ``snake``, sampling the turn by good continuation."""
  p = occ.p
  half = math.pi / (2 * p.continuity)
  step = math.radians(p.angle_step_deg)
  k = int(half // step)
  deltas = (np.arange(-k - 1, k + 1) + rng.random()) * step
  deltas = deltas[np.abs(deltas) < half]
  weights = np.cos(p.continuity * deltas) ** 2
  thetas = snake.theta + deltas
  start = snake.points[-1]
  ends = start + (p.dash_gap + p.dash_length) * np.exp(1j * thetas)
  ok = occ.valid(start, ends, snake.owner, skip=snake.last, end_is_marker=end_is_marker)
  weights = np.where(ok, weights, 0.0)
  cdf = np.cumsum(weights)
  if cdf[-1] <= 0:
    return False
  j = min(int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right")), len(cdf) - 1)
  snake.theta = float(thetas[j])
  snake.last = occ.add(start, ends[j], snake.owner)
  snake.points.append(complex(ends[j]))
  return True


def _place_targets(rng, p: PathfinderParams) -> tuple[_Occupancy, list[_Snake]]:
  lo, hi = p.border, p.resolution - 1 - p.border
  for _ in range(p.max_target_tries):
    occ = _Occupancy(p)
    # Start points are pixel centres, as in the official generator.
    x, y = rng.integers(math.ceil(lo), math.floor(hi) + 1, size=2)
    first = complex(x, y)
    second = first + p.seed_distance * np.exp(1j * rng.uniform(0, 2 * math.pi))
    second = complex(round(second.real), round(second.imag))
    if not occ.in_bounds(np.array([second]))[0]:
      continue
    thetas = rng.uniform(-math.pi, math.pi, size=2)
    snakes = [_Snake(0, first, thetas[0]), _Snake(1, second, thetas[1])]
    occ.add(first, first, 0, marker=True)
    occ.add(second, second, 1, marker=True)
    if not (_seed(occ, snakes[0]) and _seed(occ, snakes[1])):
      continue
    ok = True
    for step in range(p.contour_length - 1):
      last = step == p.contour_length - 2
      for s in snakes:
        if not _extend(rng, occ, s, end_is_marker=last):
          ok = False
          break
        if last:
          occ.add(s.points[-1], s.points[-1], s.owner, marker=True)
      if not ok:
        break
    if ok:
      return occ, snakes
  raise RuntimeError(
    f"could not place two target snakes in {p.max_target_tries} tries at "
    f"{p.resolution}x{p.resolution} with contour_length={p.contour_length}"
  )


def _place_distractor(rng, occ: _Occupancy, owner: int, batch: int = 32) -> _Snake | None:
  p = occ.p
  lo, hi = p.border, p.resolution - 1 - p.border
  for _ in range(p.max_distractor_tries):
    n_before = occ.n
    # Score a batch of random first dashes at once and keep the first valid one.
    xy = rng.uniform(lo, hi, size=(batch, 2))
    starts = xy[:, 0] + 1j * xy[:, 1]
    thetas = rng.uniform(-math.pi, math.pi, size=batch)
    ends = starts + p.dash_length * np.exp(1j * thetas)
    good = np.flatnonzero(occ.valid(starts, ends, owner))
    if len(good) == 0:
      continue
    i = good[0]
    snake = _Snake(owner, starts[i], thetas[i])
    snake.last = occ.add(starts[i], ends[i], owner)
    snake.points.append(complex(ends[i]))
    if all(_extend(rng, occ, snake) for _ in range(p.distractor_length - 1)):
      return snake
    occ.n = n_before  # drop the failed distractor
  return None


# --------------------------------------------------------------------------- rendering


def _draw_segments(img: np.ndarray, a: np.ndarray, b: np.ndarray, vals: np.ndarray, radius):
  """``img = max(img, val * clip(radius - dist, 0, 1))`` over all segments, vectorised."""
  if len(a) == 0:
    return
  res = img.shape[0]
  w = int(math.ceil(float(np.max(np.abs(b - a))) + 2 * radius)) + 2
  lo = np.minimum(a.real, b.real) - radius
  lo_y = np.minimum(a.imag, b.imag) - radius
  off = np.arange(w)
  xs = np.floor(lo).astype(np.int64)[:, None, None] + off[None, None, :]  # [S, 1, w]
  ys = np.floor(lo_y).astype(np.int64)[:, None, None] + off[None, :, None]  # [S, w, 1]
  pts = xs + 1j * ys  # [S, w, w]
  d = _point_segment(pts, a[:, None, None], b[:, None, None])
  v = vals[:, None, None] * np.clip(radius - d, 0.0, 1.0)
  xs, ys = np.broadcast_arrays(xs, ys)
  inside = (xs >= 0) & (xs < res) & (ys >= 0) & (ys < res) & (v > 0)
  np.maximum.at(img.reshape(-1), (ys * res + xs)[inside], v[inside])


def _draw_disc(img: np.ndarray, centre: complex, radius: float) -> None:
  """Filled disc: 1.0 within ``radius`` of ``centre``, linear rim to 0 at ``radius + 0.5``."""
  res = img.shape[0]
  y, x = np.ogrid[:res, :res]
  d = np.sqrt((y - centre.imag) ** 2 + (x - centre.real) ** 2)
  np.maximum(img, np.clip(2.0 * (radius + 0.5 - d), 0.0, 1.0), out=img)


def _render(p: PathfinderParams, snakes: Sequence[_Snake], markers: Sequence[complex]):
  a_list, b_list, v_list = [], [], []
  for s in snakes:
    pts = np.asarray(s.points)
    a_list.append(pts[:1])  # the first dash has no gap before it
    b_list.append(pts[1:2])
    v_list.append(np.full(1, p.snake_intensity))
    if len(pts) > 2:
      starts, ends = pts[1:-1], pts[2:]
      mid = starts + p.dash_gap * (ends - starts) / np.abs(ends - starts)
      a_list += [starts, mid]
      b_list += [mid, ends]
      v_list += [np.full(len(starts), p.gap_intensity), np.full(len(starts), p.snake_intensity)]
  img = np.zeros((p.resolution, p.resolution))
  _draw_segments(
    img, np.concatenate(a_list), np.concatenate(b_list), np.concatenate(v_list), p.ink_radius
  )
  for m in markers:
    _draw_disc(img, m, p.marker_radius)
  return np.round(np.clip(img, 0.0, 1.0) * 255).astype(np.uint8)


def _yx(z) -> np.ndarray:
  z = np.asarray(z)
  return np.stack([z.imag, z.real], axis=-1)


def generate_image(rng: np.random.Generator, params: PathfinderParams, return_info: bool = False):
  """Draw one image ``uint8 [res, res]`` and its label (1: markers on the same snake).

  With ``return_info`` also returns a dict with ``markers`` (float [2, 2], (row, col) marker
  centres), ``origin`` (which target snake carries the start marker) and ``snakes``
  (polylines as (row, col) arrays, the two targets first, then the distractors drawn).
  """
  p = params
  label = int(rng.integers(2))  # fair coin, drawn before any retry
  origin = int(rng.integers(2))
  occ, targets = _place_targets(rng, p)
  distractors = []
  for i in range(p.num_distractors):
    s = _place_distractor(rng, occ, owner=2 + i)
    if s is not None:
      distractors.append(s)
  terminal = origin if label == 1 else 1 - origin
  end = targets[terminal].points[-1]
  markers = [targets[origin].points[0], complex(round(end.real), round(end.imag))]
  img = _render(p, targets + distractors, markers)
  if not return_info:
    return img, label
  info = {
    "markers": _yx(markers),
    "origin": origin,
    "snakes": [_yx(s.points) for s in targets + distractors],
  }
  return img, label, info


def image_rng(seed: int, index: int) -> np.random.Generator:
  """Generator for image ``index`` of a dataset seeded with ``seed``."""
  return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(index,)))


# --------------------------------------------------------------------------- workers


def _image_path(folder: Path, index: int, per_dir: int) -> tuple[str, str, int]:
  k, i = divmod(index, per_dir)
  return f"imgs/{k}", f"sample_{i}.png", i


def _work(job) -> tuple[int, np.ndarray, np.ndarray | None]:
  """Worker: images ``start..stop-1``; writes PNGs when ``folder`` is set."""
  params, seed, start, stop, folder, per_dir = job
  labels = np.zeros(stop - start, dtype=np.int32)
  res = params.resolution
  images = None if folder else np.zeros((stop - start, res, res), dtype=np.uint8)
  if folder:
    from PIL import Image
  for g in range(start, stop):
    img, label = generate_image(image_rng(seed, g), params)
    labels[g - start] = label
    if folder:
      sub, name, _ = _image_path(Path(folder), g, per_dir)
      Image.fromarray(img).save(os.path.join(folder, sub, name), compress_level=1)
    else:
      images[g - start] = img
  return start, labels, images


def _run_jobs(jobs, workers: int):
  if workers <= 1 or len(jobs) <= 1:
    yield from map(_work, jobs)
    return
  methods = mp.get_all_start_methods()
  method = "fork" if "fork" in methods and "jax" not in sys.modules else "spawn"
  with mp.get_context(method).Pool(workers) as pool:
    yield from pool.imap_unordered(_work, jobs)


def _jobs(params, seed, num, workers, folder=None, per_dir=IMAGES_PER_DIR):
  chunk = max(8, min(256, -(-num // (4 * max(workers, 1)))))
  return [(params, seed, s, min(num, s + chunk), folder, per_dir) for s in range(0, num, chunk)]


def _workers(workers: int | None) -> int:
  return max(1, os.cpu_count() or 1) if workers is None else max(1, int(workers))


def generate(
  num: int,
  resolution: int = 32,
  difficulty: str = "hard",
  seed: int = 0,
  workers: int | None = 1,
  num_distractors: int | None = None,
  params: PathfinderParams | None = None,
) -> tuple[np.ndarray, np.ndarray]:
  """In-memory dataset: ``(images uint8 [num, res, res], labels int32 [num])``.

  Image ``g`` depends only on ``(seed, g)`` and the parameters, not on ``workers``
  (``None`` = all cores).
  """
  if params is None:
    params = params_for(resolution, difficulty, num_distractors)
  workers = _workers(workers)
  images = np.zeros((num, params.resolution, params.resolution), dtype=np.uint8)
  labels = np.zeros(num, dtype=np.int32)
  for start, lab, imgs in _run_jobs(_jobs(params, seed, num, workers), workers):
    labels[start : start + len(lab)] = lab
    images[start : start + len(lab)] = imgs
  return images, labels
