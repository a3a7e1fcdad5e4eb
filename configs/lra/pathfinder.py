"""LRA Pathfinder (32x32 images as 1024 pixels) with any mixer (Tay et al. 2020; official
`image/configs/pathfinder32`).

Defaults reproduce the LRA Pathfinder hyperparameters: 4 layers, d 32,
qkv 16, d_ff 32, 4 heads, batch 512, 62.4k steps (200 epochs of 160k), lr 1e-3 with linear
warmup (312 steps, one epoch) and cosine decay, Adam(0.9, 0.98, 1e-9), no weight decay, no
gradient clipping, dropout 0.2, mean pooling; from the official config: sinusoidal positions
(learn_pos_emb=False) and attention dropout 0.1 (set in the base file, which the transformer
file keeps). Every mixer sits in the official LRA Transformer block and encoder
(`LRA_ENCODER` in fnetlab/config.py); docs/fidelity.md lists what differs from the
official model. Mean pooling averages every position, as the official head does.

The official encoder masks attention with `inputs > 0`, which for images hides every black
pixel (and the CLS token when the first pixel is black). `data.mask_zero_pixels=true`
reproduces that mask; the default is off, because a black pixel is data, not padding: the
rule is the text tasks' padding rule carried over, and a content mask would reach only the
mixers that read masks (attention, LSRA, spectral), so the mixers would no longer differ in
the mixing sublayer alone. docs/fidelity.md has the details.
Data: the official layout (`curv_contour_length_14/imgs/<k>/sample_<i>.png` + metadata) in
`data.dir`, split 80/10/10 with a seeded permutation; with no data.dir, 200k images from our
generator (`fnetlab data pathfinder`) are written once into $FNETLAB_CACHE.

  fnetlab data pathfinder --out=data/pf32 --resolution=32 --difficulty=hard --num=200000
  fnetlab train --config=configs/lra/pathfinder.py:mixer=fourier --workdir=runs/pf_fnet \\
      --config.data.dir=data/pf32
  fnetlab train --config=configs/lra/pathfinder.py:mixer=attention,runlocal --workdir=/tmp/pf

Args: mixer=<registry name>, size=tiny|small|base|large|lra (lra = the official dims),
resolution=32|64, difficulty=easy|medium|hard, runlocal (CPU-sized data, model and steps),
plus any option of the chosen mixer.
"""

from ml_collections import config_dict

from fnetlab.config import apply_runlocal, base, every_mixer, lra_encoder, parse_arg


def get_config(arg=None):
  known = {
    "mixer": "fourier",
    "size": "lra",
    "resolution": 32,
    "difficulty": "hard",
    "runlocal": False,
  }
  values, mixer_options = parse_arg(arg, known)
  c = base("pathfinder", values, mixer_options)
  # The official LRA encoder; size `lra` is the official dims.
  lra_encoder(c, num_layers=4, d_model=32, d_ff=32, num_heads=4, qkv_dim=16)
  res = int(values["resolution"])
  c.model.max_len = res * res  # one position per pixel; mean pooling needs no CLS
  c.model.positions = "sinusoidal"  # official learn_pos_emb=False
  c.model.pooling = "mean"  # official classifier_pool='MEAN'
  c.model.dropout_rate = 0.2  # official (transformer_base.py)
  c.model.attention_dropout = 0.1  # official attention-probability dropout

  c.train.steps = 62400  # 200 epochs of 160k at batch 512 (312 steps each)
  c.train.batch_size = 512
  c.train.eval_batch_size = 512
  c.train.log_every = 312
  c.train.eval_every = 3120
  c.train.checkpoint_every = 3120
  c.train.best_metric = "accuracy"

  c.optim.lr = 1e-3
  c.optim.schedule = "cosine"
  c.optim.warmup_steps = 312  # one epoch
  c.optim.weight_decay = 0.0
  c.optim.b1, c.optim.b2, c.optim.eps = 0.9, 0.98, 1e-9
  c.optim.clip_norm = 0.0  # official grad_clip_norm=None

  c.data.dir = ""  # root of the official layout; empty: generate into $FNETLAB_CACHE
  c.data.resolution = res  # image side: 32 (LRA Pathfinder) or 64
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
    c.data.generate.num = 4000
    c.train.steps = 200
    c.train.batch_size = 32
    c.train.eval_batch_size = 64
    c.optim.lr = 1e-3
    c.optim.warmup_steps = 20
    c.model.dropout_rate = 0.0
    c.model.attention_dropout = 0.0
  return c


def sweep_mixers(add, arg=None):
  """Every mixer family (fnetlab.config.every_mixer)."""
  every_mixer(add)
