"""The FNet paper's GLUE protocol at CPU scale, stage 2: fine-tune a pretrained small encoder
(configs/glue_cpu/pretrain.py) on SNLI or the movie-snippet sentiment (docs/data.md).

The encoder architecture and tokenizer come from `init_from` (init_inherit); the head is
fresh. The paper's fine-tuning recipe (configs/glue.py: AdamW, 10% warmup then linear decay)
at CPU scale: batch 32, a fixed step budget, byte-level inputs of 128, evaluation on the whole
validation split and, at the end, on the whole test split (9,824 SNLI pairs; 1,057 snippets).
The learning rate is tuned per model on validation accuracy (`sweep_lr` is the grid; the
equal-tuning-budget protocol of `fnetlab sweep --tune` runs it with tuning and final seeds).

  W=runs/glue_cpu/pt/model.mixer-fourier   # a stage-1 workdir
  fnetlab train --config=configs/glue_cpu/finetune.py:task=snli --config.init_from=$W \\
      --workdir=runs/glue_cpu/snli/fnet
  fnetlab sweep --config=configs/glue_cpu/finetune.py:task=sentiment --sweep=lr \\
      --set=init_from=$W --seeds=0,1,2 --workdir=runs/glue_cpu/sentiment/fnet

Args: task=snli|sentiment, steps=<int> (default 600), lr=<peak rate> (default 3e-4).
"""

from fnetlab.common.errors import UserError
from fnetlab.config import base, parse_arg

TASKS = ("snli", "sentiment")
LR_GRID = (1e-4, 3e-4, 1e-3)  # CPU-scale grid (the paper's {1e-5, 5e-5, 1e-4} is for Base)


def get_config(arg=None):
  values, mixer_options = parse_arg(arg, {"task": "snli", "steps": 600, "lr": 3e-4})
  if values["task"] not in TASKS:
    raise UserError(f"config arg task={values['task']!r}; valid: {', '.join(TASKS)}")
  c = base("glue", {"size": "tiny"}, mixer_options)
  steps = int(values["steps"])
  c.init_inherit = True  # the encoder (and tokenizer) of init_from
  c.model.dropout_rate = 0.1  # f_net's fine-tuning dropout
  c.model.max_len = 128  # replaced by init_from's

  c.data.task = values["task"]  # fnetlab.tasks.glue.OFFLINE
  c.data.dir = ""  # empty: the data cache (`fnetlab data snli|sentiment`)
  c.data.source = "files"
  c.data.dev_size = 2000  # snli: validation pairs carved from train (= the pretraining's)
  c.data.split_seed = 0  # = the pretraining corpus' (configs/glue_cpu/pretrain.py)
  c.data.sentencepiece = ""  # empty: init_from's (byte-level)
  c.data.wordpiece = ""
  c.data.lower_case = False
  c.data.max_len = 128  # [CLS] a [SEP] b [SEP]

  c.train.steps = steps
  c.train.batch_size = 32
  c.train.eval_batch_size = 128
  c.train.log_every = max(steps // 20, 1)
  c.train.eval_every = max(steps // 4, 1)
  c.train.checkpoint_every = steps
  c.train.max_eval_examples = -1  # the whole split
  c.train.best_metric = "accuracy"  # GLUE's metric for MNLI and SST-2
  c.train.best_mode = "max"
  c.train.async_checkpoints = False

  c.optim.lr = float(values["lr"])
  c.optim.schedule = "linear"
  c.optim.warmup_steps = max(steps // 10, 1)  # f_net: 10% warmup
  c.optim.weight_decay = 0.01
  c.optim.b1, c.optim.b2, c.optim.eps = 0.9, 0.999, 1e-6  # f_net AdamW
  c.optim.clip_norm = 0.0  # f_net: no clipping
  return c


def sweep_lr(add, arg=None):
  """The CPU-scale learning-rate grid, the same for every model."""
  for lr in LR_GRID:
    add(**{"optim.lr": lr})
