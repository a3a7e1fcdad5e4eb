"""LRA ListOps with any mixer (Tay et al. 2020; official config `listops/base_listops_config`).

Defaults reproduce the official config: 4 layers, d 512, d_ff 1024, 8 heads, batch 32, 5k
steps, lr 0.05 x linear warmup(1000) x rsqrt decay (peak ~1.6e-3), Adam(0.9, 0.98, 1e-9),
weight decay 0.1, CLS pooling, sinusoidal positions, 2000 tokens plus CLS, dropout 0.1 and
attention-probability dropout 0.1 (the encoder's defaults, which the ListOps trainer keeps).
Every mixer sits in the official LRA Transformer block and encoder (`LRA_ENCODER` in
fnetlab/config.py: pre-LN, final LayerNorm, N(0, 1) embeddings, LRA dropouts and head);
docs/fidelity.md lists what differs from the official model and the option for each.

  fnetlab train --config=configs/lra/listops.py:mixer=fourier --workdir=runs/listops_fnet
  fnetlab train --config=configs/lra/listops.py:mixer=attention,runlocal --workdir=/tmp/lo

Args: mixer=<registry name>, size=tiny|small|base|large|lra (lra = the official dims),
runlocal (CPU-sized data, model and steps), plus any option of the chosen mixer.
"""

from fnetlab.config import apply_runlocal, base, every_mixer, lra_encoder, parse_arg


def get_config(arg=None):
  values, mixer_options = parse_arg(arg, {"mixer": "fourier", "size": "lra", "runlocal": False})
  c = base("listops", values, mixer_options)
  # The official LRA encoder; size `lra` is the official dims.
  lra_encoder(c, num_layers=4, d_model=512, d_ff=1024, num_heads=8)
  c.model.max_len = 2001  # CLS + up to 2000 tokens (the official max_length, plus one)
  c.model.positions = "sinusoidal"  # LRA uses fixed sinusoidal positions
  c.model.pooling = "auto"  # CLS, as official (a worker layer pools by mean)
  c.model.dropout_rate = 0.1  # official default
  c.model.attention_dropout = 0.1  # official default (attention-probability dropout)

  c.train.steps = 5000
  c.train.batch_size = 32
  c.train.log_every = 100
  c.train.eval_every = 1000
  c.train.checkpoint_every = 1000
  c.train.best_metric = "accuracy"

  c.optim.lr = 0.05 / 1000**0.5  # LRA: 0.05 * rsqrt(warmup) at the end of warmup
  c.optim.schedule = "rsqrt"
  c.optim.warmup_steps = 1000
  c.optim.weight_decay = 0.1
  c.optim.b1, c.optim.b2, c.optim.eps = 0.9, 0.98, 1e-9
  c.optim.clip_norm = 0.0  # the official ListOps trainer does not clip

  c.data.generate = dict(  # the offline default: LRA's generator settings
    num_train=96000,
    num_val=2000,
    num_test=2000,
    min_length=500,
    max_length=2000,
    max_depth=10,
    seed=0,
  )
  if values["runlocal"]:
    apply_runlocal(c)
    c.model.max_len = 128
    c.data.generate = dict(
      num_train=6000, num_val=500, num_test=500, min_length=10, max_length=100, max_depth=6, seed=0
    )
    c.train.steps = 400
    c.train.batch_size = 32
    c.train.eval_every = 200
    c.train.checkpoint_every = 200
    c.optim.schedule = "linear"
    c.optim.lr = 1e-3
    c.optim.warmup_steps = 40
    c.model.dropout_rate = 0.0
    c.model.attention_dropout = 0.0
  return c


def sweep_mixers(add, arg=None):
  """Every mixer family (fnetlab.config.every_mixer)."""
  every_mixer(add)


def sweep_lr(add, arg=None):
  for lr in (3e-4, 1e-3, 3e-3):
    add(**{"optim.lr": lr})
