"""LRA Image (grayscale CIFAR-10 as 1024 pixels) with any mixer (Tay et al. 2020; official
`image/configs/cifar10`).

Defaults reproduce the LRA Image hyperparameters: 1 layer, d 128, qkv 64,
d_ff 128, 8 heads, batch 256, 35k steps (200 epochs of 45k), lr 5e-4 with linear warmup
(175 steps, one epoch) and cosine decay, Adam(0.9, 0.98, 1e-9), no weight decay, no gradient
clipping, dropout 0.3, attention dropout 0.2, CLS pooling and learned positions (both as the
official config). The official `base_cifar10_config.py` has smaller dims (1 layer, d 32,
qkv 32, d_ff 64, 1 head), which its `transformer_base.py` overrides with the ones used here.
Every mixer sits in the official LRA Transformer block and encoder (`LRA_ENCODER` in
fnetlab/config.py); docs/fidelity.md lists what differs from the official model.

The official encoder masks attention with `inputs > 0`, which for images hides every black
pixel (and the CLS token when the first pixel is black). `data.mask_zero_pixels=true`
reproduces that mask; the default is off, because a black pixel is data, not padding: the
rule is the text tasks' padding rule carried over, and a content mask would reach only the
mixers that read masks (attention, LSRA, spectral), so the mixers would no longer differ in
the mixing sublayer alone. docs/fidelity.md has the details.
Data: tfds `cifar10` as array_record under `data.dir` (or the tfds default): train[:90%] /
train[90%:] / test = 45k / 5k / 10k, grayscale exactly as tf.image.rgb_to_grayscale.

  fnetlab train --config=configs/lra/image.py:mixer=fourier --workdir=runs/image_fnet \\
      --config.data.dir=~/tensorflow_datasets
  fnetlab train --config=configs/lra/image.py:mixer=attention,runlocal --workdir=/tmp/image

Args: mixer=<registry name>, size=tiny|small|base|large|lra (lra = the official dims),
runlocal (CPU-sized model and steps), plus any option of the chosen mixer.
"""

from fnetlab.config import apply_runlocal, base, every_mixer, lra_encoder, parse_arg


def get_config(arg=None):
  values, mixer_options = parse_arg(arg, {"mixer": "fourier", "size": "lra", "runlocal": False})
  c = base("image", values, mixer_options)
  # The official LRA encoder; size `lra` is the official dims.
  lra_encoder(c, num_layers=1, d_model=128, d_ff=128, num_heads=8, qkv_dim=64)
  c.model.max_len = 1025  # CLS + 32 * 32 pixels
  c.model.positions = "learned"  # official learn_pos_emb=True
  c.model.pooling = "auto"  # official classifier_pool='CLS' (a worker layer pools by mean)
  c.model.dropout_rate = 0.3  # official
  c.model.attention_dropout = 0.2  # official attention-probability dropout

  c.train.steps = 35000  # 200 epochs of 45k at batch 256 (175 steps each)
  c.train.batch_size = 256
  c.train.eval_batch_size = 256
  c.train.log_every = 175
  c.train.eval_every = 1750
  c.train.checkpoint_every = 1750
  c.train.best_metric = "accuracy"

  c.optim.lr = 5e-4
  c.optim.schedule = "cosine"
  c.optim.warmup_steps = 175  # one epoch
  c.optim.weight_decay = 0.0
  c.optim.b1, c.optim.b2, c.optim.eps = 0.9, 0.98, 1e-9
  c.optim.clip_norm = 0.0  # official grad_clip_norm=None

  c.data.dir = ""  # tfds data_dir holding cifar10 (array_record); empty: tfds default
  c.data.mask_zero_pixels = False  # official inputs > 0 attention mask (hides black pixels)
  if values["runlocal"]:
    apply_runlocal(c)
    c.train.steps = 200
    c.train.batch_size = 16
    c.optim.lr = 1e-3
    c.optim.warmup_steps = 20
  return c


def sweep_mixers(add, arg=None):
  """Every mixer family (fnetlab.config.every_mixer)."""
  every_mixer(add)
