"""The config skeleton every file in configs/ builds on: shared keys, presets and the arg parser.

Plain data: this module (and so every config file) imports only ml_collections and
`fnetlab.common`, never jax, flax or the mixers; what a config means is checked when the
model is built (`fnetlab.models.spec_from_config`), where a mistake is one line naming the key.

A config file exposes `get_config(arg)`, where `arg` is a comma-separated list such as
`mixer=fourier,size=tiny,runlocal`. In it `mixer=X` is sugar for `model.mixer=X`, `size=S`
for `model.size=S`, and any key the file does not know (`gate=elementwise`, `interval=8`) for
the mixer option `model.mixer_options.<key>`; so `:mixer=X` and `--config.model.mixer=X`
give the same config, and a file never decides anything from the mixer it was given
(per-mixer choices are the mixer's own, resolved at build time: fnetlab/models/config.py).
`runlocal` makes `tiny` the default size. Every field carries a comment.

Presets kept here, beside the skeleton:
- `LRA_ENCODER` / `lra_encoder`: the official LRA Transformer block and encoder, and the
  `lra` size of each LRA task;
- `apply_runlocal`: a quick CPU budget;
- `apply_cpu_suite`: the CPU suite's shared block and budget (configs/suite/);
- `pretrain_config`: the self-pretraining config of a task config (configs/spt.py).
"""

from __future__ import annotations

import ml_collections
from ml_collections import config_dict

from fnetlab.common.config import MESH_RULES, parse_value
from fnetlab.common.errors import UserError

# The official LRA Transformer encoder (google-research long-range-arena,
# models/transformer/transformer.py), as model fields; the LRA configs apply it to every
# mixer, so only the mixing sublayer differs between models.
LRA_ENCODER = dict(
  norm="pre",  # x + drop(mix(LN(x))), then x + MLP(LN(x))
  mixer_dropout=True,  # dropout on the mixing sublayer's output
  ffn_inner_dropout=True,  # MlpBlock: dropout after the activation and after the output
  final_norm="layer",  # `encoder_norm` after the last block
  ln_eps=1e-6,  # flax LayerNorm's default epsilon
  activation="gelu",  # flax's gelu, the tanh approximation
  attention_dropout=0.1,  # TransformerEncoder default; Image / Pathfinder override it
  attention_bias=False,  # SelfAttention(bias=False): no Q/K/V/out biases
  init_scheme="lra",  # Xavier-uniform kernels, N(0, 1e-6²) biases; LeCun-normal head
  embed_init_std=1.0,  # token embedding N(0, 1)
  type_vocab_size=0,  # no token types
  embed_norm=False,  # no embedding LayerNorm
  embed_projection=False,  # no embedding projection
  pool_masked=False,  # classifier_head's mean averages every position, masked or not
  pooler_dense=False,  # head: pool -> Dense(d_ff) -> ReLU -> Dense(classes)
  head_hidden=-1,  # -1: d_ff wide
)


def parse_arg(arg: str | None, known: dict) -> tuple[dict, dict]:
  """Splits `k=v,flag` into (known keys with defaults filled, the remaining mixer options).

  `known` holds the file's args with their defaults; `mixer` (default fourier) and `size`
  (default tiny) are args of every file. With `runlocal` set and no `size` given, the size is
  `tiny`.
  """
  values, extra, given = {"mixer": "fourier", "size": "tiny", **known}, {}, set()
  for item in filter(None, (arg or "").split(",")):
    key, _, val = item.partition("=")
    key = key.strip()
    parsed = parse_value(val.strip()) if _ else True
    if key in values:
      values[key] = parsed
      given.add(key)
    else:
      extra[key] = parsed
  if values.get("runlocal") and "size" not in given:
    values["size"] = "tiny"
  return values, extra


def base(task: str, arg_values: dict, mixer_options: dict) -> ml_collections.ConfigDict:
  """The shared skeleton. Task files fill in data/model/train values after calling this.

  `arg_values["mixer"]`, `arg_values["size"]` and `mixer_options` become `model.mixer`,
  `model.size` and `model.mixer_options`; nothing after this may change them.
  """
  c = ml_collections.ConfigDict()
  c.task = task  # task registry name (fnetlab.tasks)
  c.seed = 0  # seeds init, dropout and the data order
  c.init_from = ""  # workdir whose params initialise the backbone (fine-tuning / HF import)

  c.model = ml_collections.ConfigDict()
  c.model.mixer = arg_values.get("mixer", "fourier")  # token mixer, a fnetlab.mixers name
  # The mixer's user options (fnetlab.mixers.option_names), checked when the model is built;
  # `--config.model.mixer_options.KEY=VALUE` adds one.
  c.model.mixer_options = ml_collections.ConfigDict(mixer_options)
  c.model.size = arg_values.get("size", "tiny")  # tiny | small | base | large, or model.sizes
  c.model.sizes = ml_collections.ConfigDict()  # sizes this config adds (name -> dimensions)
  c.model.num_layers = config_dict.placeholder(int)  # None: from size
  c.model.d_model = config_dict.placeholder(int)  # None: from size
  c.model.d_ff = config_dict.placeholder(int)  # None: from size
  c.model.num_heads = config_dict.placeholder(int)  # None: from size
  c.model.qkv_dim = config_dict.placeholder(int)  # attention's Q/K/V width; None: size / d_model
  c.model.max_len = 512  # longest input; learned position table size
  # learned | sinusoidal | fourier | none | auto (none where the mixer encodes positions
  # itself, RoPE attention or the worker layer; else learned)
  c.model.positions = "learned"
  c.model.rope = False  # rotary positions on Q and K in every attention layer
  c.model.norm = "post"  # post (FNet/BERT) | pre
  c.model.hybrid = "none"  # attention in some layers: none | top | bottom | middle | mixed
  c.model.hybrid_layers = 2  # how many layers the hybrid layout gives attention
  c.model.activation = "gelu"  # FFN activation: gelu (tanh) | gelu_exact | relu | ewu
  c.model.dropout_rate = 0.1  # residual dropout: after embeddings, sublayers and FFNs
  c.model.attention_dropout = 0.1  # attention-probability dropout (f_net, LRA, worker: 0.1)
  c.model.dropout_impl = "hash"  # mask PRNG: hash (fast counter hash) | threefry (flax's)
  # cls | mean | last | auto (the mixer's own where it needs one: mean for the worker layer,
  # whose CLS stream is never updated; else cls)
  c.model.pooling = "cls"
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


def lra_encoder(c: ml_collections.ConfigDict, **dims) -> None:
  """The official LRA Transformer encoder on `c.model` (`LRA_ENCODER`), and `dims` (the
  task's official num_layers, d_model, d_ff, num_heads and, where narrower, qkv_dim) as the
  size `lra`."""
  c.model.update(LRA_ENCODER)
  c.model.sizes.lra = dims


def apply_runlocal(c: ml_collections.ConfigDict) -> None:
  """Shrinks a config's budget for a quick CPU run (the size: `runlocal` makes tiny the
  default, `parse_arg`)."""
  c.train.steps = min(c.train.steps, 200)
  c.train.batch_size = min(c.train.batch_size, 16)
  c.train.log_every = 20
  c.train.eval_every = 100
  c.train.checkpoint_every = 100
  c.train.max_eval_examples = 256


def every_mixer(add) -> None:
  """One point per mixer family, for an encoder task's `sweep_mixers`."""
  for mixer in ("fourier", "linear", "random", "ff_only", "spectral", "lsra", "attention"):
    add(**{"model.mixer": mixer})
  add(**{"model.mixer": "worker"})


# ----------------------------------------------------------------------------- the CPU suite

BLOCKS = ("fnet", "lra")


def apply_cpu_suite(
  c: ml_collections.ConfigDict, steps: int, lr: float, batch: int = 32, block: str = "fnet"
) -> None:
  """Sets the CPU suite's block, optimiser, budget and evaluation on config `c` in place.

  One block, one size (tiny, the suite configs' default) and one optimiser for every mixer
  of a task, so that within a task the mixers differ in the mixing sublayer alone:
  - `block='fnet'` (the default): the FNet paper's encoder, which `base` sets up
    (post-LayerNorm blocks, embeddings with LayerNorm and projection, N(0, 0.02²) token and
    position tables, tanh pooler); `block='lra'` puts every mixer in the official LRA
    Transformer block instead (`LRA_ENCODER`: pre-LayerNorm, N(0, 1) token table, LRA head).
    On digits at 200 steps the LRA block learned much more slowly (validation accuracy, FNet
    block vs LRA block: fourier 0.76 vs 0.25, attention 0.32 vs 0.26; one seed each,
    2026-11-30). Likely causes: its N(0, 1) token embedding swamps the N(0, 0.02²) positions,
    and the unnormalised FFT adds O(sqrt(N·d)) to a pre-LN residual stream. So the suite uses
    the FNet block;
  - no dropout (budgets of a few hundred steps);
  - AdamW (0.9, 0.98, 1e-9), linear warmup over 10% of the steps then linear decay, weight
    decay 0.01, global-norm clipping 1.0, and one peak learning rate per task for every
    mixer, not tuned per mixer (a mixer that would prefer another rate is disadvantaged);
  - evaluation on the whole validation and test splits (`max_eval_examples=-1`).

  These are CPU-scale settings chosen to fit a 2-core machine; results on them are a
  CPU-scale suite, not LRA numbers.
  """
  if block not in BLOCKS:
    raise UserError(f"config arg block={block!r}; valid: {', '.join(BLOCKS)}")
  if block == "lra":
    c.model.update(LRA_ENCODER)
    c.model.attention_dropout = 0.0
  c.model.dropout_rate = 0.0
  c.train.steps = steps
  c.train.batch_size = batch
  c.train.eval_batch_size = 128
  c.train.log_every = max(steps // 20, 1)  # 20 points per learning curve
  c.train.eval_every = max(steps // 4, 1)
  c.train.checkpoint_every = steps  # one checkpoint, at the end
  c.train.max_eval_examples = -1  # the whole split
  c.train.async_checkpoints = False
  c.optim.lr = lr
  c.optim.schedule = "linear"
  c.optim.warmup_steps = max(steps // 10, 1)
  c.optim.weight_decay = 0.01
  c.optim.b1, c.optim.b2, c.optim.eps = 0.9, 0.98, 1e-9
  c.optim.clip_norm = 1.0


# ----------------------------------------------------------------------------- self-pretraining

#: The paper's masking rate per task kind (fnetlab/tasks/spt.py): visual 50%, Text and
#: Retrieval 15%, ListOps 10%.
MASK_RATES = {
  "image": 0.5,
  "pathfinder": 0.5,
  "pathx": 0.5,
  "digits": 0.5,
  "pathfinder_pooled": 0.5,
  "text": 0.15,
  "retrieval": 0.15,
  "shakespeare_genre": 0.15,
  "shakespeare_match": 0.15,
  "listops": 0.1,
}
DEFAULT_MASK_RATE = 0.15


def pretrain_config(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
  """The SPT config of a task config (module docstring); `config` is not changed."""
  if config.task == "spt":
    raise UserError("config: already a self-pretraining config (task=spt)")
  c = ml_collections.ConfigDict(config.to_dict())
  c.spt = ml_collections.ConfigDict()
  c.spt.task = config.task  # the task whose training inputs are denoised
  c.spt.mask_rate = MASK_RATES.get(config.task, DEFAULT_MASK_RATE)  # masked fraction (bidir.)
  c.task = "spt"
  c.train.best_metric = "loss"  # validation denoising loss picks the checkpoint
  c.train.best_mode = "min"
  return c
