"""LRA Path-X (128x128 Pathfinder images as 16384 pixels) with any mixer (Tay et al. 2020;
official `image/configs/pathfinder128`).

Defaults reproduce the official config: 1 layer, d 32, qkv 16, d_ff 32, 2 heads, batch 64,
500k steps (200 epochs of 160k), lr 1e-3 with linear warmup (2500 steps, one epoch) and
cosine decay, Adam(0.9, 0.98, 1e-9), no weight decay, gradient clipping at 1.0, dropout 0.1,
attention dropout 0.1, mean pooling, learned positions (learn_pos_emb=True). Every mixer
sits in the official LRA Transformer block and encoder (`LRA_ENCODER` in
fnetlab/config.py); docs/fidelity.md lists what differs from the official model.

The official encoder masks attention with `inputs > 0`, which for images hides every black
pixel (and the CLS token when the first pixel is black). `data.mask_zero_pixels=true`
reproduces that mask; the default is off, because a black pixel is data, not padding: the
rule is the text tasks' padding rule carried over, and a content mask would reach only the
mixers that read masks (attention, LSRA, spectral), so the mixers would no longer differ in
the mixing sublayer alone. docs/fidelity.md has the details.
Data: the official layout (`curv_contour_length_14/...`) at 128x128 in `data.dir`, split
80/10/10 with a seeded permutation; with no data.dir our generator writes the images once
into $FNETLAB_CACHE (200k by default: prefer `fnetlab data pathfinder --resolution=128`
with all cores ahead of time).

  fnetlab data pathfinder --out=data/pf128 --resolution=128 --difficulty=hard --num=200000
  fnetlab train --config=configs/lra/pathx.py:mixer=fourier --workdir=runs/pathx_fnet \\
      --config.data.dir=data/pf128
  fnetlab train --config=configs/lra/pathx.py:mixer=fourier,runlocal --workdir=/tmp/px

Args: mixer=<registry name>, size=tiny|small|base|large|lra (lra = the official dims),
difficulty=easy|medium|hard, runlocal (a few hundred images, tiny model, few steps; 16k
tokens is still heavy for attention on a CPU), plus any option of the chosen mixer.
"""

from ml_collections import config_dict

from fnetlab.config import apply_runlocal, base, lra_encoder, parse_arg


def get_config(arg=None):
  known = {"mixer": "fourier", "size": "lra", "difficulty": "hard", "runlocal": False}
  values, mixer_options = parse_arg(arg, known)
  c = base("pathx", values, mixer_options)
  # The official LRA encoder; size `lra` is the official dims.
  lra_encoder(c, num_layers=1, d_model=32, d_ff=32, num_heads=2, qkv_dim=16)
  c.model.max_len = 128 * 128  # one position per pixel; mean pooling needs no CLS
  c.model.positions = "learned"  # official learn_pos_emb=True
  c.model.pooling = "mean"  # official classifier_pool='MEAN'
  c.model.dropout_rate = 0.1  # official
  c.model.attention_dropout = 0.1  # official attention-probability dropout

  c.train.steps = 500000  # 200 epochs of 160k at batch 64 (2500 steps each)
  c.train.batch_size = 64
  c.train.eval_batch_size = 64
  c.train.log_every = 500
  c.train.eval_every = 25000
  c.train.checkpoint_every = 25000
  c.train.best_metric = "accuracy"

  c.optim.lr = 1e-3
  c.optim.schedule = "cosine"
  c.optim.warmup_steps = 2500  # one epoch
  c.optim.weight_decay = 0.0
  c.optim.b1, c.optim.b2, c.optim.eps = 0.9, 0.98, 1e-9
  c.optim.clip_norm = 1.0  # official grad_clip_norm=1.0

  c.data.dir = ""  # root of the official layout; empty: generate into $FNETLAB_CACHE
  c.data.resolution = 128  # Path-X is 128x128
  c.data.difficulty = values["difficulty"]  # easy | medium | hard (LRA: hard, contour 14)
  c.data.mask_zero_pixels = False  # official inputs > 0 attention mask (hides black pixels)
  c.data.split_seed = 0  # seeds the 80/10/10 train/validation/test permutation
  c.data.generate = dict(  # the offline default: LRA's 200k images
    num=200000,
    seed=0,
    workers=config_dict.placeholder(int),  # generator processes; None: all cores
  )
  if values["runlocal"]:
    apply_runlocal(c)
    c.data.generate.num = 200  # 128x128 generation is the slow part
    c.train.steps = 50
    c.train.batch_size = 8
    c.train.eval_batch_size = 8
    c.train.eval_every = 50
    c.train.checkpoint_every = 50
    c.train.log_every = 10
    c.optim.lr = 1e-3
    c.optim.warmup_steps = 5
  return c


def sweep_mixers(add, arg=None):
  """The mixers that fit 16k tokens (attention is quadratic; official Path-X: all FAIL)."""
  for mixer in ("fourier", "linear", "ff_only", "random", "spectral", "attention"):
    add(**{"model.mixer": mixer})
