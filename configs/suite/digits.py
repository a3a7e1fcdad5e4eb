"""scikit-learn digits (8x8 handwritten digits as 64 pixel ids) with any mixer: CPU suite.

A small real image task in the style of LRA Image: CLS + 64 pixel ids (intensities 0-16),
10 classes, 1,078 / 359 / 360 images (fnetlab/data/digits.py). The suite's shared block and
budget (fnetlab.config.apply_cpu_suite); evaluation on the whole validation and test splits.

  fnetlab train --config=configs/suite/digits.py:mixer=fourier --workdir=runs/digits_fnet
  fnetlab sweep --config=configs/suite/digits.py --sweep=mixers --seeds=0,1,2 --workdir=runs/digits

Args: mixer=<registry name>, lr=<peak rate>, block=fnet|lra (fnetlab.config.apply_cpu_suite),
steps=<int> (default 200, about 6 epochs at batch 32; `make run`'s budget), plus any option of
the chosen mixer.
"""

from fnetlab.config import apply_cpu_suite, base, every_mixer, parse_arg

LR = 3e-3  # peak learning rate, the same for every mixer


def get_config(arg=None):
  values, mixer_options = parse_arg(
    arg, {"mixer": "fourier", "size": "tiny", "steps": 200, "lr": LR, "block": "fnet"}
  )
  c = base("digits", values, mixer_options)
  apply_cpu_suite(c, int(values["steps"]), float(values["lr"]), block=values["block"])
  c.model.max_len = 65  # CLS + 8 * 8 pixels
  c.model.positions = "learned"  # as LRA Image
  c.model.pooling = "auto"  # CLS (a worker layer pools by mean), as LRA Image
  c.train.best_metric = "accuracy"
  c.data.split_seed = 0  # seeds the stratified 60/20/20 split
  return c


def sweep_mixers(add, arg=None):
  """Every mixer family (fnetlab.config.every_mixer)."""
  every_mixer(add)
