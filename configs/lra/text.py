"""LRA Text (byte-level IMDB) with any mixer (Tay et al. 2020; official
`text_classification/configs/base_tc_config`).

Defaults reproduce the official config: 4 layers, d 256, qkv 256, d_ff 1024, 4 heads, batch
32, 20k steps, lr 0.05 x linear warmup(8000) x rsqrt decay (peak 0.05/sqrt(8000) ~ 5.6e-4),
Adam(0.9, 0.98, 1e-9), weight decay 0.1, no gradient clipping, CLS pooling, sinusoidal
positions, 1000 bytes per review plus CLS (`length=2000` / `length=4000` for the paper's 2K /
4K), dropout 0.1 and attention-probability dropout 0.1 (the encoder's defaults, which the text
trainer keeps). Every mixer sits in the official LRA Transformer block and encoder
(`LRA_ENCODER` in fnetlab/config.py); docs/fidelity.md lists what differs from the
official model and the option for each.
Data: tfds `imdb_reviews` prepared as array_record under `data.dir` (or the tfds default);
the test split is also the validation split, as officially.

  fnetlab train --config=configs/lra/text.py:mixer=fourier --workdir=runs/text_fnet \\
      --config.data.dir=~/tensorflow_datasets
  fnetlab train --config=configs/lra/text.py:mixer=attention,length=4000 --workdir=runs/text4k
  fnetlab train --config=configs/lra/text.py:mixer=fourier,runlocal --workdir=/tmp/text

Args: mixer=<registry name>, size=tiny|small|base|large|lra (lra = the official dims),
length=<bytes per review>, runlocal (CPU-sized model, length and steps), plus any option of
the chosen mixer.
"""

from fnetlab.config import apply_runlocal, base, every_mixer, lra_encoder, parse_arg


def get_config(arg=None):
  known = {"mixer": "fourier", "size": "lra", "length": 1000, "runlocal": False}
  values, mixer_options = parse_arg(arg, known)
  c = base("text", values, mixer_options)
  # The official LRA encoder; size `lra` is the official dims.
  lra_encoder(c, num_layers=4, d_model=256, d_ff=1024, num_heads=4)
  c.model.max_len = int(values["length"]) + 1  # CLS + LRA's max_length bytes
  c.model.positions = "sinusoidal"  # LRA's default (learn_pos_emb=False)
  c.model.pooling = "auto"  # CLS, as official (a worker layer pools by mean)
  c.model.dropout_rate = 0.1  # official default
  c.model.attention_dropout = 0.1  # official default (attention-probability dropout)

  c.train.steps = 20000
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
  c.optim.clip_norm = 0.0  # the official text trainer does not clip

  c.data.dir = ""  # tfds data_dir holding imdb_reviews (array_record); empty: tfds default
  if values["runlocal"]:
    apply_runlocal(c)
    c.model.max_len = min(c.model.max_len, 257)  # CLS + 256 bytes
    c.train.steps = 200
    c.train.batch_size = 16
    c.optim.schedule = "linear"
    c.optim.lr = 1e-3
    c.optim.warmup_steps = 20
  return c


def sweep_mixers(add, arg=None):
  """Every mixer family (fnetlab.config.every_mixer)."""
  every_mixer(add)
