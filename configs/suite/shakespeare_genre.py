"""Shakespeare genre: byte-level passage classification (comedy / history / tragedy), CPU suite.

LRA Text's form on an offline corpus: each example is CLS + 128 bytes of one of the 35 Folio
plays with headers, stage directions and proper names removed, labelled with its play's Folio
section (fnetlab/data/shakespeare_docs.py documents how passages and labels are made, and why
no label can be read off a name or header). Passages go to train / validation / test in
blocks of 8 (80/10/10): 24,459 / 3,202 / 2,921 at width 128. The majority class is 37.6% of
validation (comedy) and 37.5% of test (tragedy). The suite's shared block and budget
(fnetlab.config.apply_cpu_suite).

  fnetlab sweep --config=configs/suite/shakespeare_genre.py --sweep=mixers --seeds=0,1,2 \\
      --workdir=runs/genre

Args: mixer=<registry name>, lr=<peak rate>, block=fnet|lra (fnetlab.config.apply_cpu_suite),
steps=<int> (default 300), width=<bytes> (default 128), plus any option of the chosen mixer.
"""

from fnetlab.config import apply_cpu_suite, base, every_mixer, parse_arg

LR = 1e-3  # peak learning rate, the same for every mixer


def get_config(arg=None):
  values, mixer_options = parse_arg(
    arg, {"mixer": "fourier", "size": "tiny", "steps": 300, "lr": LR, "block": "fnet", "width": 128}
  )
  c = base("shakespeare_genre", values, mixer_options)
  apply_cpu_suite(c, int(values["steps"]), float(values["lr"]), block=values["block"])
  c.model.max_len = int(values["width"]) + 1  # CLS + bytes
  c.model.positions = "sinusoidal"  # as LRA Text
  c.model.pooling = "auto"  # CLS (a worker layer pools by mean), as LRA Text
  c.train.best_metric = "accuracy"
  c.data.split_seed = 0  # seeds the block split
  return c


def sweep_mixers(add, arg=None):
  """Every mixer family (fnetlab.config.every_mixer)."""
  every_mixer(add)
