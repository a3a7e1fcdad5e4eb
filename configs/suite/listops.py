"""ListOps at CPU size (our seeded generator, short expressions) with any mixer: CPU suite.

LRA ListOps' task (10-way value of a nested MIN/MAX/MED/SM expression) on generated data
small enough for this machine: 6,000 / 500 / 500 expressions of 10-100 tokens, depth <= 6
(the same data as `configs/lra/listops.py:runlocal`), CLS + up to 127 tokens. The suite's
shared block and budget (fnetlab.config.apply_cpu_suite); evaluation on the whole validation and test
splits. Not LRA ListOps (lengths 500-2000, depth 10).

  fnetlab sweep --config=configs/suite/listops.py --sweep=mixers --seeds=0,1,2 --workdir=runs/lo

Args: mixer=<registry name>, steps=<int> (default 300), lr=<peak rate>, block=fnet|lra, plus
any option of the chosen mixer.
"""

from fnetlab.config import apply_cpu_suite, base, every_mixer, parse_arg

LR = 1e-3  # peak learning rate, the same for every mixer


def get_config(arg=None):
  values, mixer_options = parse_arg(
    arg, {"mixer": "fourier", "size": "tiny", "steps": 300, "lr": LR, "block": "fnet"}
  )
  c = base("listops", values, mixer_options)
  apply_cpu_suite(c, int(values["steps"]), float(values["lr"]), block=values["block"])
  c.model.max_len = 128  # CLS + up to 127 tokens
  c.model.positions = "sinusoidal"  # as LRA ListOps
  c.model.pooling = "auto"  # CLS (a worker layer pools by mean), as LRA ListOps
  c.train.best_metric = "accuracy"
  c.data.generate = dict(  # generated once into the cache (fnetlab/data/listops.py)
    num_train=6000, num_val=500, num_test=500, min_length=10, max_length=100, max_depth=6, seed=0
  )
  return c


def sweep_mixers(add, arg=None):
  """Every mixer family (fnetlab.config.every_mixer)."""
  every_mixer(add)


def sweep_learning_rate(add, arg=None):
  """The learned mixers that start near zero mixing (linear, spectral), at a 3x higher rate.

  fnetlab sweep --config=configs/suite/listops.py --sweep=learning_rate --seeds=0,1,2 \\
      --workdir=runs/listops_lr
  """
  for mixer in ("spectral", "linear"):
    add(**{"model.mixer": mixer, "optim.lr": 3e-3})


def sweep_as_configured(add, arg=None):
  """One point: the config as its arg sets it (e.g. `:mixer=spectral,filter_init=identity`)."""
  add()
