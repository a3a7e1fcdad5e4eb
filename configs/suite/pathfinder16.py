"""Pathfinder at CPU scale: 32x32 images max-pooled to 16x16 (256 pixel ids), CPU suite.

Our seeded Pathfinder generator (fnetlab/data/pathfinder.py) at 32x32 and the `easy`
difficulty (contour length 6, the official `curv_baseline`), each image max-pooled 2x2 so
paths and markers stay visible at a quarter of the length (fnetlab/data/pooling.py). Binary
label (are the two markers on one path?), mean pooling and sinusoidal positions as LRA
Pathfinder; 12,000 images split 80/10/10. This is not LRA's Pathfinder-32 (hard, 1024
pixels), on which CPU budgets stay at chance.

  fnetlab sweep --config=configs/suite/pathfinder16.py --sweep=mixers --seeds=0,1,2 \\
      --workdir=runs/pf16

Args: mixer=<registry name>, lr=<peak rate>, block=fnet|lra (fnetlab.config.apply_cpu_suite),
steps=<int> (default 600), difficulty=easy|medium|hard, plus any option of the chosen mixer.

In a 600-step probe (lr 3e-3, 2026-11-30) attention and FNet both stayed at chance (validation
accuracy 0.492): even this reduced Pathfinder needs more steps than this machine can give.
"""

from fnetlab.config import apply_cpu_suite, base, every_mixer, parse_arg

LR = 1e-3  # peak learning rate, the same for every mixer


def get_config(arg=None):
  values, mixer_options = parse_arg(
    arg,
    {
      "mixer": "fourier",
      "size": "tiny",
      "steps": 600,
      "lr": LR,
      "block": "fnet",
      "difficulty": "easy",
    },
  )
  c = base("pathfinder_pooled", values, mixer_options)
  apply_cpu_suite(c, int(values["steps"]), float(values["lr"]), block=values["block"])
  c.model.max_len = 256  # 16 * 16 pooled pixels
  c.model.positions = "sinusoidal"  # as LRA Pathfinder
  c.model.pooling = "mean"  # as LRA Pathfinder
  c.train.best_metric = "accuracy"
  c.data.resolution = 32  # generated image side
  c.data.pool = 2  # max-pool per side: 32 -> 16
  c.data.difficulty = values["difficulty"]  # easy | medium | hard
  c.data.split_seed = 0  # seeds the 80/10/10 split
  c.data.generate = dict(num=12000, seed=0, workers=1)  # images generated once into the cache
  return c


def sweep_mixers(add, arg=None):
  """Every mixer family (fnetlab.config.every_mixer)."""
  every_mixer(add)
