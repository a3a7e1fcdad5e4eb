"""`fnetlab data`: write the offline LRA data sets in their official formats.

  fnetlab data listops --out=DIR [--num_train=96000 --num_val=2000 --num_test=2000
      --min_length=500 --max_length=2000 --max_depth=10 --seed=0] [--overwrite]
  fnetlab data pathfinder --out=DIR --resolution=32|64|128 --difficulty=easy|medium|hard
      --num=200000 --seed=0 [--workers=N] [--grid=PATH.png] [--overwrite]

ListOps writes `DIR/basic_{train,val,test}.tsv` (header `Source<TAB>Target`), the files LRA
released (generator: fnetlab/data/listops.py). Pathfinder writes the official layout
`DIR/<difficulty folder>/imgs/<k>/sample_<i>.png` + `metadata/<k>.npy` (generator:
fnetlab/data/pathfinder.py). The generators are seeded, so the same flags give the same files.
Pass the folder to training as `--config.data.dir=DIR`.
"""

from __future__ import annotations

import time
from pathlib import Path

from absl import flags

from fnetlab.cli import parse_flags
from fnetlab.errors import UserError

SUBCOMMANDS = ("listops", "pathfinder")

FLAGS = flags.FLAGS
flags.DEFINE_string("out", None, "Output folder.")
flags.DEFINE_integer("seed", 0, "Generator seed: the same seed writes the same files.")
flags.DEFINE_bool("overwrite", False, "Replace data already in --out.")
# listops
flags.DEFINE_integer("num_train", 96000, "listops: training examples.", lower_bound=0)
flags.DEFINE_integer("num_val", 2000, "listops: validation examples.", lower_bound=0)
flags.DEFINE_integer("num_test", 2000, "listops: test examples.", lower_bound=0)
flags.DEFINE_integer("min_length", 500, "listops: keep trees longer than this.", lower_bound=0)
flags.DEFINE_integer("max_length", 2000, "listops: keep trees shorter than this.", lower_bound=1)
flags.DEFINE_integer("max_depth", 10, "listops: depth at which nodes become leaves.", lower_bound=1)
# pathfinder
flags.DEFINE_enum("resolution", "32", ["32", "64", "128"], "pathfinder: image side in pixels.")
flags.DEFINE_enum("difficulty", "hard", ["easy", "medium", "hard"], "pathfinder: contour length.")
flags.DEFINE_integer("num", 200000, "pathfinder: number of images.", lower_bound=1)
flags.DEFINE_integer("workers", None, "pathfinder: processes (default: all cores).", lower_bound=1)
flags.DEFINE_string("grid", None, "pathfinder: also save a PNG grid of 16 samples here.")

OWN_FLAGS = (
  "out seed overwrite num_train num_val num_test min_length max_length max_depth "
  "resolution difficulty num workers grid"
).split()


def listops(out: Path) -> None:
  from fnetlab.data import listops as lo

  existing = [p for p in (lo.split_path(out, s) for s in lo.SPLITS) if p.exists()]
  if existing and not FLAGS.overwrite:
    raise UserError(f"{existing[0]} already exists; pass --overwrite or choose another --out")
  if FLAGS.min_length >= FLAGS.max_length - 1:
    raise UserError(
      f"--min_length={FLAGS.min_length} --max_length={FLAGS.max_length}: no length fits "
      "min_length < length < max_length"
    )
  t0 = time.perf_counter()
  splits = lo.generate_splits(
    num_train=FLAGS.num_train,
    num_val=FLAGS.num_val,
    num_test=FLAGS.num_test,
    min_length=FLAGS.min_length,
    max_length=FLAGS.max_length,
    max_depth=FLAGS.max_depth,
    seed=FLAGS.seed,
  )
  paths = lo.write_tsv(out, splits)
  n = sum(len(v) for v in splits.values())
  print(f"wrote {n} ListOps examples in {time.perf_counter() - t0:.1f} s:")
  for split, path in paths.items():
    print(f"  {path} ({len(splits[split])} examples)")


def pathfinder(out: Path) -> None:
  from fnetlab.data import pathfinder as pf

  res = int(FLAGS.resolution)
  t0 = time.perf_counter()
  folder = pf.write_dataset(
    out, res, FLAGS.difficulty, FLAGS.num, FLAGS.seed, FLAGS.workers, overwrite=FLAGS.overwrite
  )
  dt = time.perf_counter() - t0
  print(
    f"wrote {FLAGS.num} Pathfinder {res}x{res} images ({FLAGS.difficulty}) to {folder} "
    f"in {dt:.1f} s ({FLAGS.num / max(dt, 1e-9):.0f} images/s)"
  )
  if FLAGS.grid:
    images, labels = pf.load_dataset(out, FLAGS.difficulty, res)
    print(f"sample grid: {pf.sample_grid(images, labels, FLAGS.grid)}")


def main(argv) -> int:
  for name in OWN_FLAGS:  # in-process reuse (tests): forget the previous call's values
    FLAGS[name].unparse()
  rest = parse_flags(FLAGS, argv)
  if len(rest) != 2 or rest[1] not in SUBCOMMANDS:
    got = " ".join(rest[1:]) or "nothing"
    raise UserError(f"usage: fnetlab data {{{'|'.join(SUBCOMMANDS)}}} --out=DIR ...; got {got}")
  if not FLAGS.out:
    raise UserError(f"fnetlab data {rest[1]}: missing required flag --out")
  {"listops": listops, "pathfinder": pathfinder}[rest[1]](Path(FLAGS.out))
  return 0
