"""Shakespeare matching: do two byte-level passages come from the same play? CPU suite.

LRA Retrieval's form on an offline corpus: two CLS + 128-byte passages (headers, stage
directions and names removed; fnetlab/data/shakespeare_docs.py) through one shared encoder,
head on concat[e1, e2] (`DualClassifier`), label 1 when both come from the same play (the
second from another block of it), 0 otherwise, balanced by a seeded coin. Pairs are drawn
within each split's passages: 24,000 / 2,000 / 2,000. The suite's shared block and budget
(fnetlab.config.apply_cpu_suite).

  fnetlab sweep --config=configs/suite/shakespeare_match.py --sweep=mixers --seeds=0,1,2 \\
      --workdir=runs/match

Args: mixer=<registry name>, lr=<peak rate>, block=fnet|lra (fnetlab.config.apply_cpu_suite),
steps=<int> (default 300), width=<bytes> (default 128), plus any option of the chosen mixer.
"""

from fnetlab.config import apply_cpu_suite, base, every_mixer, parse_arg

LR = 1e-3  # peak learning rate, the same for every mixer


def get_config(arg=None):
  values, mixer_options = parse_arg(
    arg, {"mixer": "fourier", "size": "tiny", "steps": 300, "lr": LR, "block": "fnet", "width": 128}
  )
  c = base("shakespeare_match", values, mixer_options)
  apply_cpu_suite(c, int(values["steps"]), float(values["lr"]), block=values["block"])
  c.model.max_len = int(values["width"]) + 1  # CLS + bytes
  c.model.positions = "sinusoidal"  # as LRA Retrieval
  c.model.pooling = (
    "auto"  # CLS (a worker layer pools by mean), as LRA Retrieval (reads the first position)
  )
  c.model.interaction = "concat"  # the released LRA matching head: concat[e1, e2]
  c.train.best_metric = "accuracy"
  c.data.split_seed = 0  # seeds the block split and the pairs
  c.data.num_pairs = dict(train=24000, validation=2000, test=2000)  # pairs per split
  return c


def sweep_mixers(add, arg=None):
  """Every mixer family (fnetlab.config.every_mixer)."""
  every_mixer(add)
