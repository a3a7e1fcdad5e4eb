"""Pathfinder generator, official-layout writer/loader (fnetlab.data.pathfinder)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from fnetlab.data import pathfinder
from fnetlab.data.data_error import DataError

EIGHT = np.ones((3, 3), dtype=int)  # 8-connectivity


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
  """A small dataset written in the official layout (12 images, 5 per folder)."""
  out = tmp_path_factory.mktemp("pf")
  folder = pathfinder.write_dataset(
    out, resolution=32, difficulty="hard", num=12, seed=5, workers=1, images_per_dir=5
  )
  return out, folder


def _copy(src, dst):
  import shutil

  shutil.copytree(src, dst)
  return dst


def test_deterministic_and_independent_of_worker_count():
  a, la = pathfinder.generate(16, resolution=32, seed=11, workers=1)
  b, lb = pathfinder.generate(16, resolution=32, seed=11, workers=2)
  assert a.dtype == np.uint8 and a.shape == (16, 32, 32) and la.dtype == np.int32
  np.testing.assert_array_equal(a, b)
  np.testing.assert_array_equal(la, lb)
  c, _ = pathfinder.generate(16, resolution=32, seed=12, workers=1)
  assert not np.array_equal(a, c)
  # Image g depends only on (seed, g): a prefix is reproduced exactly.
  d, _ = pathfinder.generate(4, resolution=32, seed=11, workers=1)
  np.testing.assert_array_equal(d, a[:4])


def test_labels_are_balanced():
  _, labels = pathfinder.generate(200, 32, "easy", seed=0, num_distractors=0)
  assert set(np.unique(labels)) == {0, 1}
  assert 0.35 <= labels.mean() <= 0.65


def test_parameters_follow_lra():
  p = pathfinder.params_for(32, "hard")
  assert (p.contour_length, p.seed_distance, p.continuity) == (14, 7, 1.0)
  assert (p.num_distractors, p.distractor_length, p.marker_radius) == (5, 4, 1.5)
  p = pathfinder.params_for(128, "hard")
  assert (p.seed_distance, p.marker_radius, p.continuity) == (20, 3, 1.8)
  assert [pathfinder.params_for(32, d).contour_length for d in ("easy", "medium")] == [6, 9]
  with pytest.raises(ValueError, match="resolution"):
    pathfinder.params_for(48)


@pytest.mark.parametrize("resolution", [32, 64, 128])
def test_markers_are_two_visible_discs(resolution):
  p = pathfinder.params_for(resolution, "hard")
  for g in range(3):
    img, _, info = pathfinder.generate_image(pathfinder.image_rng(3, g), p, return_info=True)
    assert img.max() == 255
    yy, xx = np.mgrid[:resolution, :resolution]
    for cy, cx in info["markers"]:
      disc = np.hypot(yy - cy, xx - cx) <= p.marker_radius
      assert (img[disc] == 255).all()
    # Snakes are drawn at 204, so the near-white pixels are the two marker discs.
    blobs, n = ndimage.label(img >= 250, structure=EIGHT)
    assert n == 2
    min_disc = int(np.floor(np.pi * p.marker_radius**2 / 2))  # well below a disc's pixels
    assert (np.bincount(blobs.ravel())[1:] >= min_disc).all()
    assert (img >= 250).sum() >= 2 * min_disc


def _marker_components(img, info):
  labels, _ = ndimage.label(img > 0, structure=EIGHT)
  (y0, x0), (y1, x1) = np.round(info["markers"]).astype(int)
  return labels[y0, x0], labels[y1, x1]


@pytest.mark.parametrize("resolution", [32, 128])
def test_positive_markers_connected_negative_not(resolution):
  p = pathfinder.params_for(resolution, "hard", num_distractors=0)
  seen = set()
  for g in range(40):
    img, label, info = pathfinder.generate_image(pathfinder.image_rng(9, g), p, return_info=True)
    assert len(info["snakes"]) == 2
    a, b = _marker_components(img, info)
    assert a > 0 and b > 0
    # Each target snake (with its markers) is one connected component; they never touch.
    assert ndimage.label(img > 0, structure=EIGHT)[1] == 2
    assert (a == b) == (label == 1), (g, label)
    seen.add(label)
    if seen == {0, 1} and g >= 5:
      break
  assert seen == {0, 1}


def test_distractors_do_not_connect_markers():
  p = pathfinder.params_for(32, "hard")
  for g in range(10):
    img, label, info = pathfinder.generate_image(pathfinder.image_rng(4, g), p, return_info=True)
    a, b = _marker_components(img, info)
    assert (a == b) == (label == 1)
    assert ndimage.label(img > 0, structure=EIGHT)[1] == len(info["snakes"])


def test_written_layout_round_trips(dataset):
  out, folder = dataset
  assert folder == out / "curv_contour_length_14"
  assert sorted(p.name for p in (folder / "metadata").iterdir()) == ["0.npy", "1.npy", "2.npy"]
  assert (folder / "imgs" / "2" / "sample_1.png").is_file()
  lines = (folder / "metadata" / "1.npy").read_text().splitlines()
  assert len(lines) == 5
  fields = lines[0].split()
  assert fields[:3] == ["imgs/1", "sample_0.png", "0"] and fields[3] in ("0", "1")
  with Image.open(folder / "imgs" / "0" / "sample_0.png") as im:
    assert im.mode == "L" and im.size == (32, 32)

  images, labels = pathfinder.load_dataset(out, "hard", 32)
  expected, expected_labels = pathfinder.generate(12, resolution=32, seed=5)
  np.testing.assert_array_equal(images, expected)
  np.testing.assert_array_equal(labels, expected_labels)
  # The difficulty folder itself is accepted as root too.
  np.testing.assert_array_equal(pathfinder.load_dataset(folder, "hard", 32)[1], labels)


def test_existing_data_is_not_overwritten_silently(dataset):
  out, _ = dataset
  with pytest.raises(DataError, match="already exists"):
    pathfinder.write_dataset(out, 32, "hard", num=2, workers=1)


def test_missing_data_names_path_and_command(tmp_path):
  with pytest.raises(DataError) as err:
    pathfinder.load_dataset(tmp_path / "none", "hard", 32)
  assert str(tmp_path / "none") in str(err.value)
  assert "fnetlab data pathfinder --out=" in str(err.value)
  (tmp_path / "curv_baseline").mkdir()
  with pytest.raises(DataError, match=r"curv_baseline/metadata.*fnetlab data pathfinder"):
    pathfinder.load_dataset(tmp_path, "easy", 32)


def test_empty_images_are_skipped_with_warning(dataset, tmp_path):
  folder = _copy(dataset[1], tmp_path / "curv_contour_length_14")
  (folder / "imgs" / "0" / "sample_3.png").write_bytes(b"")
  Image.fromarray(np.zeros((32, 32), np.uint8)).save(folder / "imgs" / "2" / "sample_0.png")
  with pytest.warns(UserWarning) as record:
    images, labels = pathfinder.load_dataset(tmp_path, "hard", 32)
  messages = " ".join(str(w.message) for w in record)
  assert "imgs/0/sample_3.png" in messages and "imgs/2/sample_0.png" in messages
  assert images.shape == (10, 32, 32) and labels.shape == (10,)


def test_wrong_image_size_names_file(dataset, tmp_path):
  folder = _copy(dataset[1], tmp_path / "curv_contour_length_14")
  bad = folder / "imgs" / "1" / "sample_2.png"
  Image.fromarray(np.full((16, 16), 255, np.uint8)).save(bad)
  with pytest.raises(DataError, match="expected 32x32") as err:
    pathfinder.load_dataset(tmp_path, "hard", 32)
  assert str(bad) in str(err.value)


def test_malformed_metadata_names_file_and_line(dataset, tmp_path):
  folder = _copy(dataset[1], tmp_path / "curv_contour_length_14")
  meta = folder / "metadata" / "1.npy"
  lines = meta.read_text().splitlines()
  lines[2] = "imgs/1 sample_2.png"
  meta.write_text("\n".join(lines) + "\n")
  with pytest.raises(DataError, match=r"metadata/1\.npy:3: expected at least 4 fields"):
    pathfinder.load_dataset(tmp_path, "hard", 32)
  lines[2] = "imgs/1 sample_2.png 2 7"
  meta.write_text("\n".join(lines) + "\n")
  with pytest.raises(DataError, match=r"metadata/1\.npy:3: label '7'"):
    pathfinder.load_dataset(tmp_path, "hard", 32)


def test_binary_npy_metadata_is_read(dataset, tmp_path):
  # The official snakes2.py writes metadata with np.save; the released files are text.
  folder = _copy(dataset[1], tmp_path / "curv_contour_length_14")
  for meta in (folder / "metadata").iterdir():
    rows = [line.split() for line in meta.read_text().splitlines()]
    np.save(meta, np.array(rows))
  images, labels = pathfinder.load_dataset(tmp_path, "hard", 32)
  ref_images, ref_labels = pathfinder.load_dataset(dataset[0], "hard", 32)
  np.testing.assert_array_equal(images, ref_images)
  np.testing.assert_array_equal(labels, ref_labels)


def test_split_indices():
  train, val, test = pathfinder.split_indices(200_000, seed=0)
  assert (len(train), len(val), len(test)) == (160_000, 20_000, 20_000)
  assert len(np.unique(np.concatenate([train, val, test]))) == 200_000
  again = pathfinder.split_indices(200_000, seed=0)
  assert all(np.array_equal(x, y) for x, y in zip((train, val, test), again, strict=True))
  assert sum(map(len, pathfinder.split_indices(11, seed=1))) == 11


def test_sample_grid(tmp_path):
  images, labels = pathfinder.generate(6, resolution=32, seed=2)
  path = pathfinder.sample_grid(images, labels, tmp_path / "grid.png", n=6, tile=64)
  with Image.open(path) as im:
    assert im.mode == "RGB" and im.size == (3 * 72, 2 * 72)
