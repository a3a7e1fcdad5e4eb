"""The FNet paper's GLUE protocol at CPU scale, stage 2: fine-tune a pretrained small encoder
(configs/glue_cpu/pretrain.py) on SNLI or the movie-snippet sentiment (docs/data.md).

The encoder architecture and tokenizer come from `init_from` (init_inherit); the head is
fresh. The paper's fine-tuning recipe (configs/glue.py: AdamW, 10% warmup then linear decay)
at CPU scale: batch 32, a fixed step budget, byte-level inputs of 128, evaluation on the whole
validation split and, at the end, on the whole test split (9,824 SNLI pairs; 1,057 snippets).
The learning rate is tuned per model on validation accuracy (`sweep_lr` is the grid; the
equal-tuning-budget protocol of `fnetlab sweep --tune` runs it with tuning and final seeds).

  # one model, one rate:
  fnetlab train --config=configs/glue_cpu/finetune.py:task=snli \\
      --config.init_from=runs/glue_cpu/pt/model.mixer-fourier@best --workdir=runs/snli_fnet
  # all six pretrained models under the equal-tuning-budget protocol:
  fnetlab sweep --config=configs/glue_cpu/finetune.py:task=snli,pretrained=runs/glue_cpu/pt \\
      --sweep=models --tune=optim.lr=1e-4,3e-4,1e-3 --seeds=0 --final_seeds=1,2,3 \\
      --workdir=runs/glue_cpu/snli

Args: task=snli|sentiment, steps=<int> (default 600), lr=<peak rate> (default 3e-4),
pretrained=<the stage-1 sweep root> (for `sweep_models`).
"""

from fnetlab.common.errors import UserError
from fnetlab.config import base, parse_arg

TASKS = ("snli", "sentiment")
LR_GRID = (1e-4, 3e-4, 1e-3)  # CPU-scale grid (the paper's {1e-5, 5e-5, 1e-4} is for Base)


def get_config(arg=None):
  values, mixer_options = parse_arg(
    arg, {"task": "snli", "steps": 600, "lr": 3e-4, "pretrained": "runs/glue_cpu/pt"}
  )
  if values["task"] not in TASKS:
    raise UserError(f"config arg task={values['task']!r}; valid: {', '.join(TASKS)}")
  c = base("glue", values, mixer_options)
  steps = int(values["steps"])
  c.init_inherit = True  # the encoder (and tokenizer) of init_from
  c.model.dropout_rate = 0.1  # f_net's fine-tuning dropout
  c.model.max_len = 128  # replaced by init_from's

  c.data.task = values["task"]  # fnetlab.data.glue_tasks.OFFLINE
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


def sweep_models(add, arg=None):
  """The six stage-1 encoders (configs/glue_cpu/pretrain.py MODELS), each from its best
  validation checkpoint; model keys are set too, so tables label the rows (init_inherit
  takes the architecture from init_from either way)."""
  import importlib.util
  import os

  from fnetlab.commands.sweep import point_name

  values, _ = parse_arg(
    arg, {"task": "snli", "steps": 600, "lr": 3e-4, "pretrained": "runs/glue_cpu/pt"}
  )
  here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pretrain.py")
  spec = importlib.util.spec_from_file_location("glue_cpu_pretrain", here)
  pretrain = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(pretrain)
  for overrides in pretrain.MODELS.values():
    init = os.path.join(str(values["pretrained"]), point_name(overrides)) + "@best"
    add(init_from=init, **overrides)
