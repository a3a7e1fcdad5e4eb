"""LRA Image (grayscale CIFAR-10 as 1024 pixels) with any mixer (Tay et al. 2020; official
`image/configs/cifar10`).

Defaults reproduce the LRA Image hyperparameters of REFERENCE.md: 1 layer, d 128, qkv 64,
d_ff 128, 8 heads, batch 256, 35k steps (200 epochs of 45k), lr 5e-4 with linear warmup
(175 steps, one epoch) and cosine decay, Adam(0.9, 0.98, 1e-9), no weight decay, no gradient
clipping, dropout 0.3, attention dropout 0.2, CLS pooling and learned positions (both as the
official config). The stored official `base_cifar10_config.py` has smaller dims (1 layer,
d 32, qkv 32, d_ff 64, 1 head); the reference table's dims are used here.
Data: tfds `cifar10` as array_record under `data.dir` (or the tfds default): train[:90%] /
train[90%:] / test = 45k / 5k / 10k, grayscale exactly as tf.image.rgb_to_grayscale.

  fnetlab train --config=configs/lra/image.py:mixer=fourier --workdir=runs/image_fnet \\
      --config.data.dir=~/tensorflow_datasets
  fnetlab train --config=configs/lra/image.py:mixer=attention,runlocal --workdir=/tmp/image

Args: mixer=<registry name>, size=tiny|small|base|large|lra (lra = the official dims),
runlocal (CPU-sized model and steps), plus any option of the chosen mixer.
"""

from ml_collections import config_dict

from fnetlab.config import apply_runlocal, base, parse_arg, sweep_every_mixer


def get_config(arg=None):
  values, mixer_options = parse_arg(arg, {"mixer": "fourier", "size": "lra", "runlocal": False})
  size = values["size"]
  c = base("image", {**values, "size": "small" if size == "lra" else size}, mixer_options)
  if size == "lra":  # the LRA Image dims (REFERENCE.md)
    c.model.num_layers, c.model.d_model, c.model.d_ff, c.model.num_heads = 1, 128, 128, 8
  c.model.max_len = 1025  # CLS + 32 * 32 pixels
  c.model.positions = "learned"  # official learn_pos_emb=True
  c.model.pooling = "cls"  # official classifier_pool='CLS'
  c.model.pooler_dense = False  # LRA head: pool -> Dense(d_ff) -> ReLU -> Dense(classes)
  c.model.head_hidden = -1  # -1: d_ff wide, as LRA
  c.model.dropout_rate = 0.3

  c.attention = dict(  # applied only to mixers that have these options (tasks/lra.py)
    qkv_dim=config_dict.placeholder(int),  # Q/K/V width; None: d_model
    dropout_rate=0.2,  # attention-probability dropout (attention, lsra)
  )
  if size == "lra":
    c.attention.qkv_dim = 64  # LRA: narrower than d_model

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
  if values["runlocal"]:
    apply_runlocal(c)
    c.attention.qkv_dim = None  # the tiny width
    c.train.steps = 200
    c.train.batch_size = 16
    c.optim.lr = 1e-3
    c.optim.warmup_steps = 20
  return c


def sweep_mixers(add, arg=None):
  """Every mixer family (fnetlab.config.sweep_every_mixer)."""
  sweep_every_mixer(add)
