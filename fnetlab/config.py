"""The config keys every task shares, and the `get_config(arg)` arg-string parser.

Config files in configs/ build on `base()` and expose `get_config(arg)`, where `arg` is a
comma-separated list such as `mixer=fourier,size=tiny,runlocal`. Keys the file does not know
are mixer options (`gate=elementwise`, `interval=8`), checked against the chosen mixer, so a
typo fails loudly. Every field carries a comment.
"""

from __future__ import annotations

import ml_collections
from ml_collections import config_dict

from fnetlab import mixers
from fnetlab.common.config import MESH_RULES, parse_value
from fnetlab.common.errors import UserError


def parse_arg(arg: str | None, known: dict) -> tuple[dict, dict]:
  """Splits `k=v,flag` into (known keys with defaults filled, the remaining mixer options)."""
  values, extra = dict(known), {}
  for item in filter(None, (arg or "").split(",")):
    key, _, val = item.partition("=")
    key = key.strip()
    parsed = parse_value(val.strip()) if _ else True
    if key in known:
      values[key] = parsed
    else:
      extra[key] = parsed
  return values, extra


def base(task: str, arg_values: dict, mixer_options: dict) -> ml_collections.ConfigDict:
  """The shared skeleton. Task files fill in data/model/train values after calling this."""
  mixer = arg_values.get("mixer", "fourier")
  try:
    valid = mixers.option_names(mixer)
  except ValueError as e:
    raise UserError(f"config arg mixer: {e}") from None
  bad = sorted(set(mixer_options) - valid)
  if bad:
    raise UserError(
      f"config arg {', '.join(bad)}: not a config arg nor an option of mixer {mixer!r} "
      f"(its options: {', '.join(sorted(valid)) or 'none'})"
    )
  c = ml_collections.ConfigDict()
  c.task = task  # task registry name (fnetlab.tasks)
  c.seed = 0  # seeds init, dropout and the data order
  c.init_from = ""  # workdir whose params initialise the backbone (fine-tuning / HF import)

  c.model = ml_collections.ConfigDict()
  c.model.mixer = mixer  # token mixer, a fnetlab.mixers registry name
  c.model.mixer_options = ml_collections.ConfigDict(mixer_options)  # passed to mixers.get
  c.model.size = arg_values.get("size", "tiny")  # tiny | small | base | large (models/config.py)
  c.model.num_layers = config_dict.placeholder(int)  # None: from size
  c.model.d_model = config_dict.placeholder(int)  # None: from size
  c.model.d_ff = config_dict.placeholder(int)  # None: from size
  c.model.num_heads = config_dict.placeholder(int)  # None: from size
  c.model.max_len = 512  # longest input; learned position table size
  c.model.positions = "learned"  # learned | sinusoidal | fourier | none
  c.model.norm = "post"  # post (FNet/BERT) | pre
  c.model.hybrid = "none"  # attention in some layers: none | top | bottom | middle | mixed
  c.model.hybrid_layers = 2  # how many layers the hybrid layout gives attention
  c.model.activation = "gelu"  # FFN activation: gelu (tanh) | gelu_exact | relu | ewu
  c.model.dropout_rate = 0.1  # dropout after embeddings, mixers and FFNs
  c.model.attention_dropout = 0.1  # attention-probability dropout (f_net, LRA, worker: 0.1)
  c.model.dropout_impl = "hash"  # mask PRNG: hash (fast counter hash) | threefry (flax's)
  c.model.pooling = "cls"  # cls | mean | last
  c.model.pooler_dense = True  # tanh(Dense) pooler as in FNet/BERT
  c.model.head_hidden = 0  # >0: Dense-ReLU of this width before the logits (LRA head)
  c.model.dtype = "float32"  # compute dtype: float32 | bfloat16 (params stay float32)

  c.train = ml_collections.ConfigDict()
  c.train.steps = 1000  # total optimizer steps
  c.train.batch_size = 32  # global batch (all processes together)
  c.train.grad_accum = 1  # micro-batches per step (batch_size must divide evenly)
  c.train.log_every = 50  # steps between metric logs (the only host syncs)
  c.train.eval_every = 500  # steps between evaluations on the validation split
  c.train.checkpoint_every = 500  # steps between checkpoints (also saved at the end)
  c.train.keep_checkpoints = 3  # most recent checkpoints kept (the best is kept too)
  c.train.best_metric = "accuracy"  # validation metric that picks the best checkpoint
  c.train.best_mode = "max"  # max | min
  c.train.eval_batch_size = 64  # batch for evaluation
  c.train.max_eval_examples = -1  # -1: the whole split
  c.train.async_checkpoints = True  # save in the background
  c.train.profile_steps = ""  # 'a,b': jax.profiler trace of steps a..b into <workdir>/profile

  c.optim = ml_collections.ConfigDict()
  c.optim.lr = 1e-3  # peak learning rate
  c.optim.schedule = "linear"  # constant | linear (warmup + linear decay) | cosine | rsqrt
  c.optim.warmup_steps = 100  # linear warmup steps
  c.optim.weight_decay = 0.01  # decoupled (AdamW) weight decay
  c.optim.b1 = 0.9  # Adam beta1
  c.optim.b2 = 0.999  # Adam beta2
  c.optim.eps = 1e-8  # Adam epsilon
  c.optim.clip_norm = 1.0  # global-norm gradient clipping; 0 disables

  c.data = ml_collections.ConfigDict()
  c.data.dir = ""  # data directory; empty: the task's offline default

  c.mesh = ml_collections.ConfigDict()
  c.mesh.data = -1  # data-parallel axis size; -1: all remaining devices
  c.mesh.fsdp = 1  # parameter-sharding axis size
  c.mesh.rules = MESH_RULES  # (param axis name, mesh axis | None) pairs
  return c


def apply_runlocal(c: ml_collections.ConfigDict) -> None:
  """Shrinks a config for a quick CPU run."""
  c.model.size = "tiny"
  for key in ("num_layers", "d_model", "d_ff", "num_heads"):
    c.model[key] = None  # dimensions come from the tiny size
  c.train.steps = min(c.train.steps, 200)
  c.train.batch_size = min(c.train.batch_size, 16)
  c.train.log_every = 20
  c.train.eval_every = 100
  c.train.checkpoint_every = 100
  c.train.max_eval_examples = 256


def sweep_every_mixer(add) -> None:
  """One point per mixer family, for an encoder task's `sweep_mixers`.

  The worker model is causal and only its workers are ever updated, so it pools by mean: its
  CLS token would stay a bare embedding.
  """
  for mixer in ("fourier", "linear", "random", "ff_only", "spectral", "lsra", "attention"):
    add(**{"model.mixer": mixer})
  add(**{"model.mixer": "worker", "model.pooling": "mean"})
