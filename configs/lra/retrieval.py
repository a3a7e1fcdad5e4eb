"""LRA Retrieval (byte-level AAN document matching) with any mixer (Tay et al. 2020; official
`matching/configs/base_match_config`).

Defaults reproduce the official config: 4 layers, d 128, qkv 128, d_ff 512, 4 heads, batch
32, 5k steps, lr 0.05 x linear warmup(8000) x rsqrt decay (warmup outlasts the run, as
officially, so the rate is still rising at step 5000), Adam(0.9, 0.98, 1e-9), weight decay
0.1, no gradient clipping, sinusoidal positions, 4000 bytes per document, dropout 0.1 and
attention-probability dropout 0.1 (the encoder's defaults, which the matching trainer keeps).
Two towers share one encoder built, as the released matching model's, without a CLS token:
"CLS" pooling reads each document's first byte (`data.cls=true` prepends a CLS token instead).
The head takes concat[e1, e2] -> Dense(d_ff) -> ReLU -> Dense(d_ff/2) -> ReLU -> logits, what
the released trainer runs (`interaction=nli` feeds [e1, e2, e1*e2, e1-e2], the official
`interaction='NLI'` form). Every mixer sits in the official LRA Transformer block and encoder
(`LRA_ENCODER` in fnetlab/config.py); docs/fidelity.md lists what differs from the
official model and the option for each.
Data: the LRA release's `new_aan_pairs.{train,eval,test}.tsv` (147,086 / 18,090 / 17,437
pairs) in `data.dir`; download https://storage.googleapis.com/long-range-arena/lra_release.gz
and point data.dir at its `tsv_data` folder.

  fnetlab train --config=configs/lra/retrieval.py:mixer=fourier --workdir=runs/retrieval_fnet \\
      --config.data.dir=lra_release/tsv_data
  fnetlab train --config=configs/lra/retrieval.py:mixer=attention,runlocal --workdir=/tmp/rt \\
      --config.data.dir=lra_release/tsv_data

Args: mixer=<registry name>, size=tiny|small|base|large|lra (lra = the official dims),
length=<bytes per document>, interaction=concat|nli, runlocal (CPU-sized model, length and
steps), plus any option of the chosen mixer.
"""

from fnetlab.config import apply_runlocal, base, every_mixer, lra_encoder, parse_arg


def get_config(arg=None):
  known = {
    "mixer": "fourier",
    "size": "lra",
    "length": 4000,
    "interaction": "concat",
    "runlocal": False,
  }
  values, mixer_options = parse_arg(arg, known)
  c = base("retrieval", values, mixer_options)
  # The official LRA encoder; size `lra` is the official dims.
  lra_encoder(c, num_layers=4, d_model=128, d_ff=512, num_heads=4)
  c.model.max_len = int(values["length"])  # LRA's max_length bytes per document, no CLS
  c.model.positions = "sinusoidal"  # LRA's default (learn_pos_emb=False)
  c.model.pooling = "auto"  # the first position: the first byte (no CLS token), as official
  c.model.interaction = values["interaction"]  # head input: concat [e1, e2] | nli (4 parts)
  c.model.dropout_rate = 0.1  # official default
  c.model.attention_dropout = 0.1  # official default (attention-probability dropout)

  c.train.steps = 5000
  c.train.batch_size = 32
  c.train.log_every = 100
  c.train.eval_every = 1000
  c.train.checkpoint_every = 1000
  c.train.best_metric = "accuracy"

  c.optim.lr = 0.05 / 8000**0.5  # LRA: 0.05 * rsqrt(warmup) at the end of warmup
  c.optim.schedule = "rsqrt"
  c.optim.warmup_steps = 8000
  c.optim.weight_decay = 0.1
  c.optim.b1, c.optim.b2, c.optim.eps = 0.9, 0.98, 1e-9
  c.optim.clip_norm = 0.0  # the official matching trainer does not clip

  c.data.dir = ""  # folder with new_aan_pairs.{train,eval,test}.tsv (required)
  c.data.cls = False  # prepend a CLS token to each document (official: no; pooling reads byte 0)
  if values["runlocal"]:
    apply_runlocal(c)
    c.model.max_len = min(c.model.max_len, 256)  # 256 bytes per document
    c.train.steps = 200
    c.train.batch_size = 16
    c.optim.schedule = "linear"
    c.optim.lr = 1e-3
    c.optim.warmup_steps = 20
  return c


def sweep_mixers(add, arg=None):
  """Every mixer family (fnetlab.config.every_mixer)."""
  every_mixer(add)
